package qbotest

import (
	"fmt"
	"net/http"
)

// qboError is one element of Fault.Error, in QBO's JSON spelling.
type qboError struct {
	Message string
	Detail  string
	Code    string
	Element string
}

// fault is a QBO fault plus the HTTP status it is served with.
type fault struct {
	status int
	typ    string
	errs   []qboError
}

func (f *fault) Error() string {
	if len(f.errs) == 0 {
		return f.typ
	}
	return fmt.Sprintf("%s %s: %s", f.typ, f.errs[0].Code, f.errs[0].Detail)
}

// object renders the value of the "Fault" key.
func (f *fault) object() map[string]any {
	errs := make([]any, 0, len(f.errs))
	for _, e := range f.errs {
		m := map[string]any{"Message": e.Message, "Detail": e.Detail, "code": e.Code}
		if e.Element != "" || f.typ == "ValidationFault" {
			m["element"] = e.Element
		}
		errs = append(errs, m)
	}
	return map[string]any{"Error": errs, "type": f.typ}
}

func newFault(status int, typ, code, msg, detail, element string) *fault {
	return &fault{status: status, typ: typ, errs: []qboError{{Message: msg, Detail: detail, Code: code, Element: element}}}
}

func validationFault(code, msg, detail, element string) *fault {
	return newFault(http.StatusBadRequest, "ValidationFault", code, msg, detail, element)
}

func faultRequired(element string) *fault {
	return validationFault("2020", "Required param missing, need to supply the required value for the API",
		"Required parameter "+element+" is missing in the request", element)
}

func faultNotFound(element string) *fault {
	return validationFault("610", "Object Not Found",
		"Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees.",
		element)
}

func faultStale() *fault {
	return validationFault("5010", "Stale Object Error",
		"Stale Object Error : You and Jane Bookkeeper were working on this at the same time. Jane Bookkeeper finished before you did, so your work was not saved.",
		"")
}

func faultLength(element string, max, got int) *fault {
	return validationFault("2050", "String length is either shorter or longer than supported by specification",
		fmt.Sprintf("String length specified does not match the supported length. Min:0 Max:%d supplied length:%d", max, got), element)
}

func faultBusiness(detail, element string) *fault {
	return validationFault("6000", "A business validation error has occurred while processing your request",
		"Business Validation Error: "+detail, element)
}

func faultUnsupported(op string) *fault {
	return validationFault("500", "Unsupported Operation", "Operation "+op+" is not supported.", "")
}

func faultParse(detail string) *fault {
	return validationFault("4000", "Error parsing query", "QueryParserError: "+detail, "")
}

func faultInvalidQuery(detail string) *fault {
	return validationFault("4001", "Invalid query", "QueryValidationError: "+detail, "")
}

func faultDuplicateName(kind string) *fault {
	return validationFault("6240", "Duplicate Name Exists Error",
		"The name supplied already exists. : Another "+kind+" is already using this name. Please use a different name.", "")
}

func faultDuplicateDocNumber() *fault {
	return validationFault("6140", "Duplicate Document Number Error",
		"Duplicate Document Number Error : You must specify a different number. This number has already been used.", "DocNumber")
}

func faultAmount(supplied string) *fault {
	return validationFault("6070", "Amount is not equal to UnitPrice * Qty",
		"Amount is not equal to UnitPrice * Qty. Supplied value:"+supplied, "")
}

func faultAuthentication(detail string) *fault {
	return newFault(http.StatusUnauthorized, "AuthenticationFault", "3200",
		"message=AuthenticationFailed; errorCode=003200; statusCode=401", detail, "")
}

func faultAuthorization() *fault {
	return newFault(http.StatusForbidden, "AuthorizationFault", "3100",
		"message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
		"The application is not authorized to access this company (realm).", "")
}

func faultThrottle() *fault {
	return newFault(http.StatusTooManyRequests, "SERVICE", "3001",
		"message=ThrottleExceeded; errorCode=003001; statusCode=429",
		"The request limit was reached.  Try again later", "")
}

func faultSystem(status int) *fault {
	return newFault(status, "SystemFault", "10000",
		"An application error has occurred while processing your request",
		fmt.Sprintf("System Failure Error: injected HTTP %d", status), "")
}

// WriteFault is a fault hook on the writes themselves rather than on
// requests: a single write, or one item of a batch, that Match selects is
// answered with the fault instead of (or, with Execute, after) being
// executed, and a batch's other items run as usual. It is how a test makes
// QBO refuse one document of a batch, as QBO refuses a document.
type WriteFault struct {
	// Match selects writes by operation ("create", "update", "void",
	// "delete"), entity ("Invoice") and body; nil matches every write. It
	// runs with the server's lock held, so it must not call Server methods.
	Match func(op, entity string, body map[string]any) bool
	// Times is how many matching writes it applies to; 0 means all.
	Times int
	// Type is the fault's type: "" for a ValidationFault (HTTP 400 when
	// alone), FaultSystem for a SystemFault (HTTP 500 when alone).
	Type string
	// Code and Message describe the fault; Code defaults to 6000.
	Code, Message string
	// Execute commits the write before answering the fault: QBO did the
	// work and the answer does not say so (a SystemFault after commit).
	Execute bool
}

// FaultSystem is WriteFault.Type for a SystemFault.
const FaultSystem = "SystemFault"

type writeFault struct {
	WriteFault
	left int // remaining uses; -1 unlimited
}

// InjectWriteFault adds a write fault hook; ClearInjections removes it.
// Hooks are tried in the order added; the first match with uses left
// applies.
func (s *Server) InjectWriteFault(f WriteFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	left := f.Times
	if left <= 0 {
		left = -1
	}
	s.writeFaults = append(s.writeFaults, &writeFault{WriteFault: f, left: left})
}

// takeWriteFault returns the fault of the first write hook matching the
// write, consuming one use, with s.mu held; execute says whether the write
// runs first.
func (s *Server) takeWriteFault(op, entity string, body map[string]any) (f *fault, execute bool) {
	for _, wf := range s.writeFaults {
		if wf.left == 0 || (wf.Match != nil && !wf.Match(op, entity, body)) {
			continue
		}
		if wf.left > 0 {
			wf.left--
		}
		code, msg := wf.Code, wf.Message
		if code == "" {
			code = "6000"
		}
		if msg == "" {
			msg = "A business validation error has occurred while processing your request"
		}
		if wf.Type == FaultSystem {
			return newFault(http.StatusInternalServerError, FaultSystem, code, msg, "Business Validation Error: "+msg, ""), wf.Execute
		}
		return validationFault(code, msg, "Business Validation Error: "+msg, ""), wf.Execute
	}
	return nil, false
}

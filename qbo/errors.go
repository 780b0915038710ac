package qbo

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"golang.org/x/oauth2"
)

// Fault types (Fault.type).
const (
	FaultValidation     = "ValidationFault"
	FaultSystem         = "SystemFault"
	FaultAuthentication = "AuthenticationFault"
	FaultAuthorization  = "AuthorizationFault"
)

// Well-known fault codes (docs/qbo-notes.md §3.4).
const (
	CodeAuthorization     = "120"
	CodeNotFound          = "610"
	CodeRequiredParam     = "2020"
	CodeThrottled         = "3001"
	CodeAuthFailed        = "3200"
	CodeInvalidQuery      = "4001"
	CodeStaleObject       = "5010"
	CodeDuplicateDocNum   = "6140"
	CodeDuplicateName     = "6240"
	CodeSystemFailure     = "10000"
	duplicateDocNumberMsg = "duplicate document number"
)

// FaultError is one entry of a QBO Fault's Error list.
type FaultError struct {
	Message string `json:"Message"`
	Detail  string `json:"Detail"`
	Code    string `json:"code"`
	Element string `json:"element"`
}

// Fault is QBO's error envelope: {"Fault": {"Error": [...], "type": "..."}}.
type Fault struct {
	Errors []FaultError `json:"Error"`
	Type   string       `json:"type"`
}

// Error is a failed QBO request: a non-2xx HTTP status, or any response whose
// body carries a Fault (QBO sometimes answers 200 with a Fault), or a faulted
// batch item. Match it with errors.As or the Is*/Code helpers.
type Error struct {
	StatusCode int          // HTTP status; 200 for a 200-with-Fault; 0 inside a batch item
	Type       string       // fault type, e.g. ValidationFault
	Errors     []FaultError // QBO's error list, in order
	IntuitTID  string       // intuit_tid response header, for Intuit support
	Body       string       // start of a body without a Fault (e.g. an HTML error page), for diagnosis
}

// Error renders everything QBO said: status, fault type, and each error's
// code, message, detail and element, so that a recorded reason is never a
// bare status; a body without a fault contributes its start.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("qbo: ")
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, "http %d", e.StatusCode)
	} else {
		b.WriteString("fault")
	}
	if e.Type != "" {
		fmt.Fprintf(&b, " %s", e.Type)
	}
	for i, fe := range e.Errors {
		if i == 0 {
			b.WriteString(":")
		} else {
			b.WriteString(";")
		}
		if fe.Code != "" {
			fmt.Fprintf(&b, " [%s]", fe.Code)
		}
		if fe.Message != "" {
			fmt.Fprintf(&b, " %s", fe.Message)
		}
		if fe.Detail != "" && fe.Detail != fe.Message {
			fmt.Fprintf(&b, " (%s)", fe.Detail)
		}
		if fe.Element != "" {
			fmt.Fprintf(&b, " element=%s", fe.Element)
		}
	}
	if len(e.Errors) == 0 && e.Body != "" {
		fmt.Fprintf(&b, ": %s", truncate(strings.Join(strings.Fields(e.Body), " "), 200))
	}
	if e.IntuitTID != "" {
		fmt.Fprintf(&b, " intuit_tid=%s", e.IntuitTID)
	}
	return b.String()
}

// Code returns e's first fault code, normalised ("003001" -> "3001").
func (e *Error) Code() string {
	for _, fe := range e.Errors {
		if c := normCode(fe.Code); c != "" {
			return c
		}
		// Throttle and auth faults sometimes carry the code only in the
		// message: "message=ThrottleExceeded; errorCode=003001; statusCode=429".
		if i := strings.Index(fe.Message, "errorCode="); i >= 0 {
			c := fe.Message[i+len("errorCode="):]
			if j := strings.IndexAny(c, "; "); j >= 0 {
				c = c[:j]
			}
			return normCode(c)
		}
	}
	return ""
}

func (e *Error) hasCode(code string) bool {
	for _, fe := range e.Errors {
		if normCode(fe.Code) == code {
			return true
		}
	}
	return e.Code() == code
}

func (e *Error) messageContains(sub string) bool {
	for _, fe := range e.Errors {
		if strings.Contains(strings.ToLower(fe.Message), sub) || strings.Contains(strings.ToLower(fe.Detail), sub) {
			return true
		}
	}
	return false
}

func normCode(c string) string {
	c = strings.TrimSpace(c)
	t := strings.TrimLeft(c, "0")
	if t == "" && c != "" {
		return "0"
	}
	return t
}

// Code returns the first QBO fault code in err's chain, or "" if err is not
// (or does not wrap) an *Error.
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return ""
}

func asError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsStaleObject reports a 5010 Stale Object Error: the SyncToken sent was not
// the latest. Re-read the entity and retry with its SyncToken.
func IsStaleObject(err error) bool {
	e, ok := asError(err)
	return ok && e.hasCode(CodeStaleObject)
}

// IsNotFound reports a 610 Object Not Found (wrong Id, or a referenced object
// that is deleted or inactive).
func IsNotFound(err error) bool {
	e, ok := asError(err)
	return ok && e.hasCode(CodeNotFound)
}

// IsDuplicateDocNumber reports a duplicate DocNumber fault. Intuit's material
// gives both 6140 and 6210 for it (6210 is also "period closed"), so the
// message text is matched as well as code 6140.
func IsDuplicateDocNumber(err error) bool {
	e, ok := asError(err)
	return ok && (e.hasCode(CodeDuplicateDocNum) || e.messageContains(duplicateDocNumberMsg))
}

// IsValidation reports a request judged invalid: a ValidationFault from QBO
// (a stale SyncToken and a missing object are ones too) or a request this
// client refused to send (*ValidationError). Sending it again unchanged
// fails again.
func IsValidation(err error) bool {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return true
	}
	e, ok := asError(err)
	return ok && strings.EqualFold(e.Type, FaultValidation)
}

// IsThrottled reports QBO throttling: HTTP 429, or fault 3001
// (ThrottleExceeded, which older responses sent with HTTP 403).
func IsThrottled(err error) bool {
	e, ok := asError(err)
	return ok && (e.StatusCode == http.StatusTooManyRequests || e.hasCode(CodeThrottled) || e.messageContains("throttleexceeded"))
}

// IsAuth reports an authentication/authorization failure: HTTP 401/403 (other
// than throttling), an Authentication/Authorization fault, or a rejected
// refresh token (ErrTokenRejected). The connection needs attention; retrying
// will not help. A fault that came with a 5xx status is not one, whatever its
// type: QBO answers AuthenticationFault with 5xx during its own outages, and
// telling the user to reconnect then is wrong (Retryable reports it).
func IsAuth(err error) bool {
	if errors.Is(err, ErrTokenRejected) {
		return true
	}
	e, ok := asError(err)
	if !ok || IsThrottled(err) || e.StatusCode >= 500 {
		return false
	}
	switch {
	case e.StatusCode == http.StatusUnauthorized, e.StatusCode == http.StatusForbidden:
		return true
	case strings.EqualFold(e.Type, FaultAuthentication), strings.EqualFold(e.Type, FaultAuthorization),
		strings.EqualFold(e.Type, "AUTHENTICATION"), strings.EqualFold(e.Type, "AUTHORIZATION"):
		return true
	}
	return e.hasCode(CodeAuthorization) || e.hasCode(CodeAuthFailed) || e.hasCode("3100")
}

// Retryable reports whether err is transient, i.e. the same request may
// succeed later: network errors, throttling, 5xx and SystemFaults. Context
// cancellation, validation faults, auth failures and ErrTokenRejected are not
// retryable. The client has already retried such errors before returning
// them; callers use this to decide whether to try again on a later run.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrTokenRejected) {
		return false
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		return false
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.Response != nil && re.Response.StatusCode >= 500
	}
	if e, ok := asError(err); ok {
		return retryableStatus(e)
	}
	// Anything else reached us from the transport: a network error.
	return true
}

func retryableStatus(e *Error) bool {
	if IsThrottled(e) {
		return true
	}
	if e.StatusCode >= 500 {
		return true
	}
	return e.StatusCode < 300 && strings.EqualFold(e.Type, FaultSystem)
}

// ValidationError is a request this client refused to send because it is
// malformed (e.g. a requestid longer than 50 characters, a batch of more than
// 30 items). It is never retryable.
type ValidationError struct {
	Field string
	Msg   string
}

func (e *ValidationError) Error() string { return "qbo: invalid " + e.Field + ": " + e.Msg }

// ErrTokenRejected means Intuit refused the refresh token (OAuth error
// invalid_grant): it expired, was revoked, or was superseded. The user must
// reconnect the company. It reaches callers of Client methods wrapped in the
// transport's *url.Error; detect it with errors.Is.
var ErrTokenRejected = errors.New("qbo: refresh token rejected (invalid_grant); reconnect the company")

// decodeFault parses body as a QBO fault envelope, JSON or XML, whatever
// the Content-Type said: QBO answers some faults (ThrottleExceeded on 403
// and 429, SystemFault) in XML even when JSON was asked for. It returns nil
// when body holds no Fault with content. QBO sometimes spells the JSON key
// "fault"/"error"; encoding/json matches keys case-insensitively.
func decodeFault(body []byte) *Fault {
	body = bytes.TrimSpace(bytes.TrimPrefix(body, []byte("\ufeff")))
	var f *Fault
	if len(body) > 0 && body[0] == '<' {
		f = decodeXMLFault(body)
	} else {
		var env struct {
			Fault *Fault `json:"Fault"`
		}
		if err := json.Unmarshal(body, &env); err == nil {
			f = env.Fault
		}
	}
	if f == nil || (len(f.Errors) == 0 && f.Type == "") {
		return nil
	}
	return f
}

// xmlFault is a Fault in QBO's XML:
// <Fault type=".."><Error code=".." element=".."><Message/><Detail/></Error>...</Fault>.
type xmlFault struct {
	Type   string `xml:"type,attr"`
	Errors []struct {
		Code    string `xml:"code,attr"`
		Element string `xml:"element,attr"`
		Message string `xml:"Message"`
		Detail  string `xml:"Detail"`
	} `xml:"Error"`
}

// decodeXMLFault finds a Fault that is the document's root or a child of
// its root (IntuitResponse). A Fault deeper down belongs to a batch item,
// not to the response.
func decodeXMLFault(body []byte) *Fault {
	dec := xml.NewDecoder(bytes.NewReader(body))
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "Fault" {
				var xf xmlFault
				if err := dec.DecodeElement(&xf, &t); err != nil {
					return nil
				}
				f := &Fault{Type: xf.Type}
				for _, e := range xf.Errors {
					f.Errors = append(f.Errors, FaultError{Code: e.Code, Element: e.Element,
						Message: strings.TrimSpace(e.Message), Detail: strings.TrimSpace(e.Detail)})
				}
				return f
			}
			if depth >= 1 {
				if err := dec.Skip(); err != nil {
					return nil
				}
				continue
			}
			depth++
		case xml.EndElement:
			return nil
		}
	}
}

// AttemptsError is what a Client method returns when the request took more
// than one attempt or when it gave up on a transient failure: Err is the
// last attempt's error, and Unanswered counts the attempts that may have
// reached QBO and been processed without an answer saying they were not (a
// timeout, a lost connection, an answer cut short, a 5xx other than 503).
// Match the last error with errors.As/Is as usual; ask MayHaveWritten
// whether QBO may have applied the write.
type AttemptsError struct {
	Err        error
	Attempts   int
	Unanswered int
}

func (e *AttemptsError) Error() string {
	if e.Unanswered == 0 {
		return fmt.Sprintf("%v (not written: QBO refused all %d attempts before processing)", e.Err, e.Attempts)
	}
	return fmt.Sprintf("%v (outcome unknown: %d of %d attempts got no answer that rules a write out, so QBO may have applied it)",
		e.Err, e.Unanswered, e.Attempts)
}

func (e *AttemptsError) Unwrap() error { return e.Err }

// MayHaveWritten reports whether the write that failed with err may have
// been applied by QBO, so that it must be looked up before it is sent again.
// It is false only when every attempt was refused before processing: a
// request this client would not send (*ValidationError), a refused token,
// throttling (429, 3001), 503, or a fault answer such as a 400 validation
// fault. A timeout, a lost connection, an answer cut short, any other 5xx
// or a cancelled context may have written. For a nil err (the write went
// through) it returns true.
func MayHaveWritten(err error) bool {
	if err == nil {
		return true
	}
	var ae *AttemptsError
	if errors.As(err, &ae) {
		return ae.Unanswered > 0
	}
	if e, ok := asError(err); ok {
		return !refusedAnswer(e)
	}
	return !refusedBeforeSending(err)
}

// refusedAnswer reports a QBO answer that says the request was not
// processed. Why 503 counts: it is the status of a service that did not
// take the request (RFC 9110 §15.6.4); 500, 502 and 504 may come after the
// work was done, so they do not.
func refusedAnswer(e *Error) bool {
	switch {
	case IsThrottled(e), e.StatusCode == http.StatusServiceUnavailable:
		return true
	case e.StatusCode >= 500:
		return false
	case e.StatusCode >= 400:
		return true
	}
	// A fault inside a 2xx (or a batch item's): only a SystemFault leaves
	// it open whether the work was done.
	return !strings.EqualFold(e.Type, FaultSystem)
}

// refusedBeforeSending reports a transport error that arose before the
// request left this machine: the client's own refusal, a token that could
// not be had, or a connection that could not be opened.
func refusedBeforeSending(err error) bool {
	var ve *ValidationError
	var re *oauth2.RetrieveError
	var oe *net.OpError
	switch {
	case errors.As(err, &ve), errors.As(err, &re), errors.Is(err, ErrTokenRejected):
		return true
	case errors.As(err, &oe):
		return oe.Op == "dial"
	}
	return false
}

package velocity

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Object kinds, as in an export line's "type".
const (
	KindCustomer = "customer"
	KindProduct  = "product"
	KindOrder    = "order"
)

// ObjectError reports one invalid object: a missing required field, a
// malformed amount, or (in an export file) a line that is not a valid
// record. It is never fatal: the page or file goes on after it.
type ObjectError struct {
	// Kind is "customer", "product" or "order"; empty when an export line
	// is too broken to tell.
	Kind string
	// ID is the object's id when it could be read, else empty.
	ID string
	// Line is the 1-based line number in an NDJSON export; 0 for HTTP.
	Line int
	// Reason names the field and what is wrong with it, e.g.
	// `lines[2].unit_price: "1.999" has more than 2 decimal places`.
	Reason string
}

func (e *ObjectError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Kind != "" {
		b.WriteString(e.Kind)
		if e.ID != "" {
			b.WriteByte(' ')
			b.WriteString(e.ID)
		}
		b.WriteString(": ")
	} else if e.ID != "" {
		b.WriteString(e.ID)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// IsObjectError reports whether err is (or wraps) an *ObjectError, that is a
// per-object problem after which iteration continues.
func IsObjectError(err error) bool {
	var oe *ObjectError
	return errors.As(err, &oe)
}

// Sentinel errors matched with errors.Is against an *APIError.
var (
	// ErrUnauthorized means Velocity rejected the API token (HTTP 401). It
	// is never retried: a wrong token does not fix itself.
	ErrUnauthorized = errors.New("velocity: unauthorized")
	// ErrNotFound means the object does not exist (HTTP 404).
	ErrNotFound = errors.New("velocity: not found")
)

// APIError is a non-2xx answer from Velocity. Code and Message come from
// the contract's error body {"error": {"code", "message"}} when there was
// one; otherwise Message describes the body (e.g. an HTML error page).
type APIError struct {
	Status  int
	Code    string
	Message string
	// Method and URL identify the request (the URL carries no secret: the
	// token travels in a header).
	Method string
	URL    string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "velocity: %s %s: %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		b.WriteString(": ")
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrUnauthorized) and errors.Is(err, ErrNotFound)
// work on an *APIError.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	}
	return false
}

// Retryable reports whether err is worth retrying: network errors, 429
// and 5xx answers. 4xx validation faults and 401 are not.
func Retryable(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status == http.StatusTooManyRequests || ae.Status >= 500
	}
	var be *BodyError
	if errors.As(err, &be) {
		return be.Status >= 500
	}
	return !IsObjectError(err) && !errors.Is(err, ErrUnauthorized)
}

// BodyError is an answer whose body could not be read as the expected
// JSON: an HTML error page from a proxy, or a truncated document.
type BodyError struct {
	Method string
	URL    string
	Status int
	// Snippet is the start of the body, for the operator.
	Snippet string
	// Truncated is true when the body is valid JSON cut short: most likely
	// the connection dropped mid-body, so the request is worth repeating.
	Truncated bool
	Err       error
}

func (e *BodyError) Error() string {
	return fmt.Sprintf("velocity: %s %s: status %d: unreadable body (%v): %q", e.Method, e.URL, e.Status, e.Err, e.Snippet)
}

func (e *BodyError) Unwrap() error { return e.Err }

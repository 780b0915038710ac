package qbo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func faultResponse(status int, body string) *Error {
	resp := &http.Response{StatusCode: status, Header: http.Header{"Intuit_tid": {"tid-9"}}}
	return checkResponse(resp, []byte(body))
}

func TestCheckResponse_RealFaults(t *testing.T) {
	tests := []struct {
		file       []string
		status     int
		code       string
		stale      bool
		notFound   bool
		wantType   string
		wantElemnt string
	}{
		{[]string{"exquickbooks-json", "item", "update_item_error.json"}, 400, "5010", true, false, "ValidationFault", ""},
		{[]string{"exquickbooks-json", "sales_receipt", "void_sales_receipt_error.json"}, 400, "5010", true, false, "ValidationFault", ""},
		{[]string{"exquickbooks-json", "sales_receipt", "create_sales_receipt_error.json"}, 400, "2020", false, false, "ValidationFault", "Line.DetailType"},
		{[]string{"exquickbooks-json", "item", "read_item_error.json"}, 400, "610", false, true, "ValidationFault", ""},
		{[]string{"exquickbooks-json", "api", "query_error.json"}, 200, "4000", false, false, "ValidationFault", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.file, "/"), func(t *testing.T) {
			e := faultResponse(tt.status, string(refFile(t, tt.file...)))
			if e == nil {
				t.Fatal("checkResponse: got nil; want *Error")
			}
			if e.Type != tt.wantType || e.StatusCode != tt.status || e.IntuitTID != "tid-9" {
				t.Errorf("got type %q status %d tid %q; want %q %d tid-9", e.Type, e.StatusCode, e.IntuitTID, tt.wantType, tt.status)
			}
			err := fmt.Errorf("wrapped: %w", e)
			if got := Code(err); got != tt.code {
				t.Errorf("Code: got %q; want %q", got, tt.code)
			}
			if got := IsStaleObject(err); got != tt.stale {
				t.Errorf("IsStaleObject: got %v; want %v", got, tt.stale)
			}
			if got := IsNotFound(err); got != tt.notFound {
				t.Errorf("IsNotFound: got %v; want %v", got, tt.notFound)
			}
			if got := e.Errors[0].Element; got != tt.wantElemnt {
				t.Errorf("element: got %q; want %q", got, tt.wantElemnt)
			}
			if Retryable(err) || IsThrottled(err) || IsAuth(err) {
				t.Errorf("validation fault reported as retryable/throttled/auth: %v", err)
			}
		})
	}
}

func TestErrorHelpers(t *testing.T) {
	dupMsg := `{"Fault":{"Error":[{"Message":"Duplicate Document Number Error","Detail":"You must specify a different number. This number has already been used.","code":"6140"}],"type":"ValidationFault"}}`
	dupText := `{"Fault":{"Error":[{"Message":"Duplicate Document Number Error","code":"6210"}],"type":"ValidationFault"}}`
	throttle := `{"Fault":{"Error":[{"Message":"message=ThrottleExceeded; errorCode=003001; statusCode=429","Detail":"The request limit was reached."}],"type":"SERVICE"}}`
	auth := `{"fault":{"error":[{"message":"message=AuthenticationFailed; errorCode=003200; statusCode=401","detail":"Token expired","code":"3200"}],"type":"AUTHENTICATION"}}`
	system := `{"Fault":{"Error":[{"Message":"System Failure Error","code":"10000"}],"type":"SystemFault"}}`
	tests := []struct {
		name                            string
		err                             error
		code                            string
		dup, throttled, auth, retryable bool
	}{
		{"dup6140", faultResponse(400, dupMsg), "6140", true, false, false, false},
		{"dupByText", faultResponse(400, dupText), "6210", true, false, false, false},
		{"throttle429", faultResponse(429, throttle), "3001", false, true, false, true},
		{"throttle403", faultResponse(403, throttle), "3001", false, true, false, true},
		{"auth401", faultResponse(401, auth), "3200", false, false, true, false},
		{"system200", faultResponse(200, system), "10000", false, false, false, true},
		{"html502", faultResponse(502, "<html>bad gateway</html>"), "", false, false, false, true},
		{"tokenRejected", fmt.Errorf("x: %w", ErrTokenRejected), "", false, false, true, false},
		{"canceled", context.Canceled, "", false, false, false, false},
		{"validation", &ValidationError{Field: "f"}, "", false, false, false, false},
		{"network", errors.New("connection reset"), "", false, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Code(tt.err); got != tt.code {
				t.Errorf("Code: got %q; want %q", got, tt.code)
			}
			if got := IsDuplicateDocNumber(tt.err); got != tt.dup {
				t.Errorf("IsDuplicateDocNumber: got %v; want %v", got, tt.dup)
			}
			if got := IsThrottled(tt.err); got != tt.throttled {
				t.Errorf("IsThrottled: got %v; want %v", got, tt.throttled)
			}
			if got := IsAuth(tt.err); got != tt.auth {
				t.Errorf("IsAuth: got %v; want %v", got, tt.auth)
			}
			if got := Retryable(tt.err); got != tt.retryable {
				t.Errorf("Retryable: got %v; want %v", got, tt.retryable)
			}
		})
	}
}

func TestCheckResponse_Clean(t *testing.T) {
	if e := faultResponse(200, `{"Invoice":{"Id":"1"}}`); e != nil {
		t.Errorf("got %v; want nil", e)
	}
	e := faultResponse(500, "oops")
	if e == nil || e.Body != "oops" || e.StatusCode != 500 {
		t.Errorf("got %+v; want status 500 body oops", e)
	}
	if s := e.Error(); !strings.Contains(s, "http 500") || !strings.Contains(s, "tid-9") {
		t.Errorf("Error(): got %q; want status and intuit_tid", s)
	}
}

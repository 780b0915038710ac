package qbo

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// class is how the exported predicates classify an error.
type class struct {
	Throttled, Auth, Retryable, NotFound, Stale, Validation, MayHaveWritten bool
}

func classify(err error) class {
	return class{Throttled: IsThrottled(err), Auth: IsAuth(err), Retryable: Retryable(err), NotFound: IsNotFound(err),
		Stale: IsStaleObject(err), Validation: IsValidation(err), MayHaveWritten: MayHaveWritten(err)}
}

// Bodies of our own, where no published payload with a licence that allows
// copying was found: their shape is the one qbotest serves (docs/qbo-notes.md §3.4).
const (
	authFaultJSON = `{"Fault":{"Error":[{"Message":"message=AuthenticationFailed; errorCode=003200; statusCode=401",` +
		`"Detail":"Token expired: eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..","code":"3200"}],` +
		`"type":"AuthenticationFault"},"time":"2025-09-01T05:00:00.000-07:00"}`
	throttleJSON = `{"Fault":{"Error":[{"Message":"message=ThrottleExceeded; errorCode=003001; statusCode=403",` +
		`"Detail":"The request limit was reached.  Try again later","code":"3001"}],"type":"SERVICE"},` +
		`"time":"2025-09-01T05:00:00.000-07:00"}`
	// The shape of qbo_api's recorded 401 (spec/vcr/error/401.yml, 2020:
	// lower-case keys, type AUTHENTICATION, a numeric time); not copied,
	// as its detail holds a token's prefix.
	authFaultLower = `{"warnings":null,"intuitObject":null,"fault":{"error":[{"message":"message=AuthenticationFailed; ` +
		`errorCode=003200; statusCode=401","detail":"Token expired: AB0-redacted","code":"3200","element":null}],` +
		`"type":"AUTHENTICATION"},"report":null,"queryResponse":null,"batchItemResponse":[],"attachableResponse":[],` +
		`"syncErrorResponse":null,"requestId":null,"time":1601391072830,"status":null,"cdcresponse":[]}`
	gatewayHTML = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)

// TestRealResponses_Classification serves real QBO fault bodies (XML and
// JSON, testdata/README.md) with the status QBO sent them with, through the
// client's own methods, and checks how the exported predicates classify
// the error and that QBO's words reach its text.
func TestRealResponses_Classification(t *testing.T) {
	rubyXML := func(name string) []byte { return refFile(t, "quickbooks-ruby-xml", "spec", "fixtures", name) }
	exq := func(rel ...string) []byte { return refFile(t, append([]string{"exquickbooks-json"}, rel...)...) }
	opts := &RequestOptions{RequestID: "rid-real-1"}
	calls := map[string]func(context.Context, *Client) error{
		"create SalesReceipt": func(ctx context.Context, c *Client) error {
			_, _, err := c.SalesReceipts.Create(ctx, &SalesReceipt{DocNumber: "1001"}, opts)
			return err
		},
		"create Customer": func(ctx context.Context, c *Client) error {
			_, _, err := c.Customers.Create(ctx, &Customer{DisplayName: "Amy's Bird Sanctuary"}, opts)
			return err
		},
		"update Item": func(ctx context.Context, c *Client) error {
			_, _, err := c.Items.Update(ctx, &Item{Id: "5", SyncToken: "2", Name: "Rock Fountain"}, opts)
			return err
		},
		"void SalesReceipt": func(ctx context.Context, c *Client) error {
			_, _, err := c.SalesReceipts.Void(ctx, "12", "0", opts)
			return err
		},
		"get Item": func(ctx context.Context, c *Client) error {
			_, _, err := c.Items.Get(ctx, "5")
			return err
		},
		"query Item": func(ctx context.Context, c *Client) error {
			_, _, err := c.Items.Query(ctx, "WHERE Name = 'Rock Fountain'", Page{})
			return err
		},
		"preferences": func(ctx context.Context, c *Client) error {
			_, _, err := c.Preferences(ctx)
			return err
		},
	}
	const xmlType, jsonType = "application/xml", "application/json;charset=UTF-8"
	throttled := class{Throttled: true, Retryable: true}
	tests := []struct {
		name        string
		call        string
		status      int
		contentType string
		body        []byte
		want        class
		wantText    []string
		wantCalls   int
	}{
		// python-quickbooks#43, quickbooks-ruby#338: QBO's XML throttle
		// fault on 403, sent even when JSON was asked for.
		{"ruby throttle_exceeded_error.xml 403", "create SalesReceipt", 403, xmlType, rubyXML("throttle_exceeded_error.xml"),
			throttled, []string{"http 403", "SERVICE", "[3001]", "ThrottleExceeded", "The request limit was reached", "not written"}, 5},
		{"ruby throttle_exceeded_error.xml 403 labelled JSON", "get Item", 403, jsonType, rubyXML("throttle_exceeded_error.xml"),
			throttled, []string{"[3001]", "ThrottleExceeded"}, 5},
		{"ruby too_many_requests_error.xml 429", "create SalesReceipt", 429, xmlType, rubyXML("too_many_requests_error.xml"),
			throttled, []string{"http 429", "[3001]", "statusCode=429", "not written"}, 5},
		{"JSON throttle on 403", "preferences", 403, jsonType, []byte(throttleJSON),
			throttled, []string{"[3001]", "ThrottleExceeded"}, 5},
		{"429 without a body", "create SalesReceipt", 429, "text/plain", nil,
			throttled, []string{"http 429", "not written"}, 5},
		{"ruby generic_error.xml 500", "create SalesReceipt", 500, xmlType, rubyXML("generic_error.xml"),
			class{Retryable: true, MayHaveWritten: true},
			[]string{"http 500", "SystemFault", "[10000]", "An application error has occurred while processing your request",
				"System Failure Error: Could not find resource", "outcome unknown"}, 5},
		{"ruby generic_error.xml 503", "create SalesReceipt", 503, xmlType, rubyXML("generic_error.xml"),
			class{Retryable: true}, []string{"http 503", "[10000]", "not written"}, 5},
		{"ruby generic_error.xml in a 200", "get Item", 200, xmlType, rubyXML("generic_error.xml"),
			class{Retryable: true, MayHaveWritten: true}, []string{"http 200", "SystemFault", "[10000]"}, 5},
		{"ruby fault.xml 400, two errors", "create Customer", 400, xmlType, rubyXML("fault.xml"),
			class{Validation: true},
			[]string{"ValidationFault", "[2050] Length exceeds limit (Length of the field exceeds 21 chars) element=firstname",
				"[2080] Illegal number format (ZipCode should be a number with at least 5 digits) element=postalcode"}, 1},
		{"ruby customer_duplicate_error.xml 400", "create Customer", 400, xmlType, rubyXML("customer_duplicate_error.xml"),
			class{Validation: true}, []string{"[6240] Duplicate Name Exists Error", "Another $$customer$$ is already using this name"}, 1},
		{"ruby query_validation_error.xml 400", "query Item", 400, xmlType, rubyXML("query_validation_error.xml"),
			class{Validation: true}, []string{"[4001] Invalid query", "QueryValidationError: value 0 is too small"}, 1},
		{"exquickbooks update_item_error.json 400", "update Item", 400, jsonType, exq("item", "update_item_error.json"),
			class{Validation: true, Stale: true}, []string{"[5010]", "Stale Object Error"}, 1},
		{"exquickbooks void_sales_receipt_error.json 400", "void SalesReceipt", 400, jsonType, exq("sales_receipt", "void_sales_receipt_error.json"),
			class{Validation: true, Stale: true}, []string{"[5010]"}, 1},
		{"exquickbooks read_item_error.json 400", "get Item", 400, jsonType, exq("item", "read_item_error.json"),
			class{Validation: true, NotFound: true}, []string{"[610] Object Not Found"}, 1},
		{"exquickbooks create_sales_receipt_error.json 400", "create SalesReceipt", 400, jsonType, exq("sales_receipt", "create_sales_receipt_error.json"),
			class{Validation: true}, []string{"[2020]", "element=Line.DetailType"}, 1},
		{"exquickbooks query_error.json in a 200", "query Item", 200, jsonType, exq("api", "query_error.json"),
			class{Validation: true}, []string{"http 200", "[4000] Error parsing query", "QueryParserError"}, 1},
		{"AuthenticationFault 401", "create SalesReceipt", 401, jsonType, []byte(authFaultJSON),
			class{Auth: true}, []string{"http 401", "AuthenticationFault", "[3200]", "Token expired"}, 1},
		{"AUTHENTICATION 401, lower-case keys", "get Item", 401, jsonType, []byte(authFaultLower),
			class{Auth: true}, []string{"http 401", "AUTHENTICATION", "[3200]", "Token expired"}, 1},
		{"AUTHENTICATION 503, lower-case keys", "get Item", 503, jsonType, []byte(authFaultLower),
			class{Retryable: true}, []string{"http 503", "AUTHENTICATION", "[3200]"}, 5},
		// An Intuit-side outage, not a bad token: retried, never "reconnect".
		{"AuthenticationFault 500", "create SalesReceipt", 500, jsonType, []byte(authFaultJSON),
			class{Retryable: true, MayHaveWritten: true}, []string{"http 500", "AuthenticationFault", "[3200]", "outcome unknown"}, 5},
		{"AuthenticationFault 503", "preferences", 503, jsonType, []byte(authFaultJSON),
			class{Retryable: true}, []string{"http 503", "AuthenticationFault", "not written"}, 5},
		{"HTML 502 from a proxy", "create SalesReceipt", 502, "text/html", []byte(gatewayHTML),
			class{Retryable: true, MayHaveWritten: true}, []string{"http 502: <html>", "502 Bad Gateway", "outcome unknown"}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, _, _ := setup(t)
			n := 0
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				n++
				w.Header().Set("Content-Type", tt.contentType)
				w.Header().Set("intuit_tid", "tid-real")
				w.WriteHeader(tt.status)
				w.Write(tt.body)
			})
			err := calls[tt.call](t.Context(), c)
			if err == nil {
				t.Fatal("got nil error; want one")
			}
			if diff := cmp.Diff(tt.want, classify(err)); diff != "" {
				t.Errorf("classification of %v (-want +got):\n%s", err, diff)
			}
			for _, s := range tt.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error text %q: want it to contain %q", err, s)
				}
			}
			if !strings.Contains(err.Error(), "intuit_tid=tid-real") {
				t.Errorf("error text %q: want intuit_tid=tid-real", err)
			}
			if n != tt.wantCalls {
				t.Errorf("calls: got %d; want %d", n, tt.wantCalls)
			}
		})
	}
}

// TestDecodeFault_XMLScope: a Fault is the response's only when it is the
// root or a child of IntuitResponse; a batch item's Fault is not.
func TestDecodeFault_XMLScope(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantCode string
	}{
		{"root Fault", `<Fault type="ValidationFault"><Error code="2050"><Message>m</Message></Error></Fault>`, "2050"},
		{"IntuitResponse child", "\ufeff<?xml version=\"1.0\"?>\n<IntuitResponse><Fault type=\"SystemFault\"><Error code=\"10000\"/></Fault></IntuitResponse>", "10000"},
		{"batch item Fault", `<IntuitResponse><BatchItemResponse bId="1"><Fault type="ValidationFault"><Error code="2050"/></Fault></BatchItemResponse></IntuitResponse>`, ""},
		{"HTML page", gatewayHTML, ""},
		{"cut short", `<IntuitResponse><Fault type="SERVICE"><Error code="3001"><Message>message=Thr`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if f := decodeFault([]byte(tt.body)); f != nil && len(f.Errors) > 0 {
				got = f.Errors[0].Code
			}
			if got != tt.wantCode {
				t.Errorf("code: got %q; want %q", got, tt.wantCode)
			}
		})
	}
}

// TestRealResponses_Preferences reads ExQuickBooks' real Preferences, and
// variants of it in which fields velqbo does not read have the types other
// clients give them, through Client.Preferences: only a field velqbo reads
// may fail the read.
func TestRealResponses_Preferences(t *testing.T) {
	real := string(refFile(t, "exquickbooks-json", "preferences", "read_preferences.json"))
	variant := func(pairs ...string) string {
		s := real
		for i := 0; i < len(pairs); i += 2 {
			if !strings.Contains(s, pairs[i]) {
				t.Fatalf("fixture lacks %q", pairs[i])
			}
			s = strings.Replace(s, pairs[i], pairs[i+1], 1)
		}
		return s
	}
	tests := []struct {
		name    string
		body    string
		wantErr bool
	}{
		{"as published", real, false},
		// The XSD says string; a Dart client types them bool, and QBO has
		// been seen to send false.
		{"DefaultDiscountAccount false, DefaultShippingAccount false", variant(
			`"DefaultDiscountAccount": "86",`, `"DefaultDiscountAccount": false, "DefaultShippingAccount": false,`), false},
		{"unread fields of any type", variant(
			`"AllowDiscount": true,`, `"AllowDiscount": "true",`,
			`"DefaultTerms": {`, `"DefaultTerms": 3, "Unused": {`,
			`"CustomTxnNumbers": false,`, `"CustomTxnNumbers": false, "AllowShipping": null,`), false},
		{"a field velqbo reads of the wrong type", variant(`"CustomTxnNumbers": false,`, `"CustomTxnNumbers": "no",`), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, _, _ := setup(t)
			mux.HandleFunc("/v3/company/"+testRealm+"/preferences", func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusOK, tt.body)
			})
			p, _, err := c.Preferences(t.Context())
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "CustomTxnNumbers") {
					t.Fatalf("got %v; want an error naming CustomTxnNumbers", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Preferences: %v", err)
			}
			if p.HomeCurrency() != "USD" || p.MultiCurrencyEnabled() || p.CustomTxnNumbers() {
				t.Errorf("got home %q multi %v custom %v; want USD false false", p.HomeCurrency(), p.MultiCurrencyEnabled(), p.CustomTxnNumbers())
			}
			if p.SalesFormsPrefs == nil || p.SalesFormsPrefs.AllowDeposit == nil {
				t.Errorf("SalesFormsPrefs: got %+v; want the fields that fit decoded", p.SalesFormsPrefs)
			}
		})
	}
}

// TestRealResponses_CompanyInfo: CompanyInfo fields velqbo does not read
// may hold any JSON type.
func TestRealResponses_CompanyInfo(t *testing.T) {
	c, mux, _, _ := setup(t)
	mux.HandleFunc("/v3/company/"+testRealm+"/companyinfo/"+testRealm, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"CompanyInfo":{"CompanyName":"Sandbox Company_US_1","Country":"US",`+
			`"SupportedLanguages":["en"],"CompanyStartDate":{"date":"2025-01-01"},"FiscalYearStartMonth":1,`+
			`"NameValue":[{"Name":"NeoEnabled","Value":true},{"Name":"OfferingSku","Value":"QuickBooks Online Plus"}],`+
			`"Id":"1","SyncToken":"4"},"time":"2025-09-01T05:00:00.000-07:00"}`)
	})
	ci, _, err := c.CompanyInfo(t.Context())
	if err != nil {
		t.Fatalf("CompanyInfo: %v", err)
	}
	if ci.CompanyName != "Sandbox Company_US_1" || ci.Country != "US" || ci.Id != "1" {
		t.Errorf("got name %q country %q id %q; want Sandbox Company_US_1 US 1", ci.CompanyName, ci.Country, ci.Id)
	}
}

// TestRealResponses_BatchUnknownItem: a batch answer holding an entity type
// this package does not know keeps that item raw and uses the others (a
// real SalesReceipt and a real 610 fault from ExQuickBooks; TimeActivity
// as in quickbooks-ruby's batch_response.xml).
func TestRealResponses_BatchUnknownItem(t *testing.T) {
	var created, notFound map[string]json.RawMessage
	if err := json.Unmarshal(refFile(t, "exquickbooks-json", "sales_receipt", "create_sales_receipt.json"), &created); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(refFile(t, "exquickbooks-json", "item", "read_item_error.json"), &notFound); err != nil {
		t.Fatal(err)
	}
	timeActivity := json.RawMessage(`{"Id":"19891","TxnDate":"2014-02-03","NameOf":"Employee","Hours":3}`)
	answer, _ := json.Marshal(map[string]any{"BatchItemResponse": []map[string]json.RawMessage{
		{"bId": json.RawMessage(`"b0"`), "SalesReceipt": created["SalesReceipt"]},
		{"bId": json.RawMessage(`"b1"`), "TimeActivity": timeActivity},
		{"bId": json.RawMessage(`"b2"`), "Fault": notFound["Fault"]},
	}, "time": "2025-09-01T05:00:00.000-07:00"})
	c, mux, _, _ := setup(t)
	mux.HandleFunc("/v3/company/"+testRealm+"/batch", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, string(answer))
	})
	items := []BatchItem{
		{BID: "b0", Operation: BatchCreate, Entity: &SalesReceipt{DocNumber: "1001"}},
		{BID: "b1", Operation: BatchCreate, Entity: &SalesReceipt{DocNumber: "1002"}},
		{BID: "b2", Operation: BatchCreate, Entity: &SalesReceipt{DocNumber: "1003"}},
	}
	res, _, err := c.Batch(t.Context(), items, &RequestOptions{RequestID: "rid-batch-1"})
	if err != nil {
		t.Fatalf("Batch: %v", err)
	}
	if len(res) != 3 {
		t.Fatalf("got %d results; want 3", len(res))
	}
	if sr, ok := res[0].Entity.(*SalesReceipt); !ok || sr.Id == "" || res[0].BID != "b0" {
		t.Errorf("b0: got %+v; want a SalesReceipt with an Id", res[0])
	}
	if res[1].BID != "b1" || res[1].Entity != nil || res[1].Err != nil || !bytes.Contains(res[1].Raw, []byte(`"TimeActivity"`)) {
		t.Errorf("b1: got %+v; want the TimeActivity item raw", res[1])
	}
	if res[2].BID != "b2" || !IsNotFound(res[2].Err) || MayHaveWritten(res[2].Err) {
		t.Errorf("b2: got %+v; want a 610 fault that wrote nothing", res[2])
	}
}

// TestMayHaveWritten_Attempts: after its retries, a write says whether any
// attempt may have been processed (no answer, or one that does not rule a
// write out) or every attempt was refused before processing.
func TestMayHaveWritten_Attempts(t *testing.T) {
	hangUp := func(w http.ResponseWriter) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}
	cutShort := func(w http.ResponseWriter) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"SalesReceipt\":{\"Id\":")
		buf.Flush()
		conn.Close()
	}
	throttle := func(w http.ResponseWriter) { writeJSON(w, http.StatusTooManyRequests, throttleJSON) }
	unavailable := func(w http.ResponseWriter) { writeJSON(w, http.StatusServiceUnavailable, authFaultJSON) }
	tests := []struct {
		name         string
		answers      []func(http.ResponseWriter) // by attempt; the last repeats
		want         bool
		wantAttempts int
		wantText     string
	}{
		{"throttled every time", []func(http.ResponseWriter){throttle}, false, 5, "not written: QBO refused all 5 attempts"},
		{"503 every time", []func(http.ResponseWriter){unavailable}, false, 5, "not written"},
		{"throttled, then a validation fault", []func(http.ResponseWriter){throttle, func(w http.ResponseWriter) {
			writeJSON(w, http.StatusBadRequest, string(refFile(t, "exquickbooks-json", "sales_receipt", "create_sales_receipt_error.json")))
		}}, false, 2, "not written"},
		{"connection lost every time", []func(http.ResponseWriter){hangUp}, true, 5, "outcome unknown: 5 of 5 attempts"},
		{"answer cut short, then throttled", []func(http.ResponseWriter){cutShort, throttle}, true, 5, "outcome unknown: 1 of 5 attempts"},
		{"throttled, then connection lost, then throttled", []func(http.ResponseWriter){throttle, hangUp, throttle}, true, 5, "outcome unknown: 1 of 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, _, _ := setup(t)
			n := 0
			mux.HandleFunc("/v3/company/"+testRealm+"/salesreceipt", func(w http.ResponseWriter, r *http.Request) {
				n++
				tt.answers[min(n, len(tt.answers))-1](w)
			})
			_, _, err := c.SalesReceipts.Create(t.Context(), &SalesReceipt{DocNumber: "1001"}, &RequestOptions{RequestID: "rid-1"})
			var ae *AttemptsError
			if !errorsAs(err, &ae) {
				t.Fatalf("got %v; want *AttemptsError", err)
			}
			if got := MayHaveWritten(err); got != tt.want {
				t.Errorf("MayHaveWritten(%v): got %v; want %v", err, got, tt.want)
			}
			if ae.Attempts != tt.wantAttempts || n != tt.wantAttempts {
				t.Errorf("attempts: got %d (%d calls); want %d", ae.Attempts, n, tt.wantAttempts)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error text %q: want it to contain %q", err, tt.wantText)
			}
		})
	}

	t.Run("connection refused every time", func(t *testing.T) {
		c, _, _, srv := setup(t)
		srv.Close()
		_, _, err := c.SalesReceipts.Create(t.Context(), &SalesReceipt{DocNumber: "1001"}, &RequestOptions{RequestID: "rid-1"})
		if err == nil || MayHaveWritten(err) || !Retryable(err) {
			t.Errorf("got %v, MayHaveWritten %v; want a retryable error that wrote nothing", err, MayHaveWritten(err))
		}
	})
	t.Run("bare errors", func(t *testing.T) {
		for _, tc := range []struct {
			err  error
			want bool
		}{
			{&ValidationError{Field: "requestid", Msg: "required"}, false},
			{ErrTokenRejected, false},
			{context.Canceled, true},
			// http.Client's timeout: the request may have been processed.
			{&url.Error{Op: "Post", URL: "https://quickbooks.api.intuit.com/v3/company/1/salesreceipt", Err: context.DeadlineExceeded}, true},
			{&Error{StatusCode: 400, Type: FaultValidation}, false},
			{&Error{StatusCode: 500, Type: FaultSystem}, true},
			{&Error{Type: FaultSystem}, true}, // a batch item's SystemFault
		} {
			if got := MayHaveWritten(tc.err); got != tc.want {
				t.Errorf("MayHaveWritten(%v): got %v; want %v", tc.err, got, tc.want)
			}
		}
	})
}

// cassette is the part of a VCR recording (qbo_api's spec/vcr) the tests
// replay: each interaction's answer as QBO's sandbox sent it.
type cassette struct {
	Interactions []struct {
		Request struct {
			Method string `yaml:"method"`
			URI    string `yaml:"uri"`
		} `yaml:"request"`
		Response struct {
			Status struct {
				Code int `yaml:"code"`
			} `yaml:"status"`
			Headers map[string][]string `yaml:"headers"`
			Body    struct {
				String string `yaml:"string"`
			} `yaml:"body"`
		} `yaml:"response"`
	} `yaml:"http_interactions"`
}

func readCassette(t *testing.T, rel ...string) cassette {
	t.Helper()
	var c cassette
	if err := yaml.Unmarshal(refFile(t, append([]string{"qbo_api-vcr", "spec", "vcr"}, rel...)...), &c); err != nil {
		t.Fatalf("cassette %v: %v", rel, err)
	}
	if len(c.Interactions) == 0 {
		t.Fatalf("cassette %v: no interactions", rel)
	}
	return c
}

// serveRecorded answers every request with one recorded answer: its
// status, Content-Type and Intuit-Tid headers and its body.
func serveRecorded(mux *http.ServeMux, status int, headers map[string][]string, body string) {
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		for _, k := range []string{"Content-Type", "Intuit-Tid"} {
			for _, v := range headers[k] {
				w.Header().Add(k, v)
			}
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	})
}

// TestRealResponses_RecordedSandbox replays faults recorded from QBO's
// sandbox in 2020 (qbo_api's VCR cassettes) through the client's methods.
func TestRealResponses_RecordedSandbox(t *testing.T) {
	opts := &RequestOptions{RequestID: "rid-vcr-1"}
	tests := []struct {
		file     []string
		at       int // interaction
		call     func(context.Context, *Client) error
		want     class
		wantText []string
	}{
		{[]string{"error", "400_json.yml"}, 0, func(ctx context.Context, c *Client) error {
			_, _, err := c.Invoices.Create(ctx, &Invoice{DocNumber: "1001"}, opts)
			return err
		}, class{Validation: true}, []string{"http 400 ValidationFault", "Request has invalid or unsupported property", `Unrecognized field "BadJson"`}},
		// Fault code 500 inside an HTTP 400: a validation fault, not a server error.
		{[]string{"error", "500.yml"}, 0, func(ctx context.Context, c *Client) error {
			_, _, err := c.Customers.Get(ctx, "1/5")
			return err
		}, class{Validation: true}, []string{"[500] Unsupported Operation", "Could not find resource for relative"}},
		{[]string{"error", "500.yml"}, 1, func(ctx context.Context, c *Client) error {
			_, _, err := c.Customers.Get(ctx, "1.5")
			return err
		}, class{Validation: true}, []string{"[2030] Invalid ID", "Supplied value:1.5", "element=Id"}},
		{[]string{"error", "validation.yml"}, 0, func(ctx context.Context, c *Client) error {
			_, _, err := c.Customers.Create(ctx, &Customer{DisplayName: "Weiskopf Consulting"}, opts)
			return err
		}, class{Validation: true}, []string{"[6240] Duplicate Name Exists Error", "The name supplied already exists"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.file, "/")+"#"+strconv.Itoa(tt.at), func(t *testing.T) {
			in := readCassette(t, tt.file...).Interactions[tt.at]
			c, mux, _, _ := setup(t)
			serveRecorded(mux, in.Response.Status.Code, in.Response.Headers, in.Response.Body.String)
			err := tt.call(t.Context(), c)
			if err == nil {
				t.Fatal("got nil error; want one")
			}
			if diff := cmp.Diff(tt.want, classify(err)); diff != "" {
				t.Errorf("classification of %v (-want +got):\n%s", err, diff)
			}
			want := append(tt.wantText, "intuit_tid="+in.Response.Headers["Intuit-Tid"][0])
			for _, s := range want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error text %q: want it to contain %q", err, s)
				}
			}
		})
	}
}

// TestRealResponses_RecordedBatch replays a batch answer recorded from
// QBO's sandbox: a Vendor (a type this package does not know), a 610 and a
// 5010 fault and a query. The Vendor item is kept raw; the others are used.
func TestRealResponses_RecordedBatch(t *testing.T) {
	in := readCassette(t, "batch", "basic.yml").Interactions[0]
	c, mux, _, _ := setup(t)
	serveRecorded(mux, in.Response.Status.Code, in.Response.Headers, in.Response.Body.String)
	items := []BatchItem{
		{BID: "bid1", Operation: BatchCreate, Entity: &Customer{DisplayName: "Boraski Family Store"}},
		{BID: "bid2", Operation: BatchDelete, Entity: &Invoice{Id: "129", SyncToken: "0"}},
		{BID: "bid3", Operation: BatchUpdate, Entity: &SalesReceipt{Id: "11", SyncToken: "0", Sparse: true}},
		{BID: "bid4", Query: "select * from SalesReceipt where TotalAmt > '300.00'"},
	}
	res, resp, err := c.Batch(t.Context(), items, &RequestOptions{RequestID: "rid-batch-vcr"})
	if err != nil {
		t.Fatalf("Batch: %v", err)
	}
	if want := in.Response.Headers["Intuit-Tid"][0]; resp.IntuitTID != want {
		t.Errorf("IntuitTID: got %q; want %q", resp.IntuitTID, want)
	}
	type got struct {
		BID                           string
		Raw, Query, NotFound, Stale   bool
		MayHaveWritten, HasEntityType bool
	}
	var gots []got
	for _, r := range res {
		g := got{BID: r.BID, Raw: bytes.Contains(r.Raw, []byte(`"Vendor"`)), Query: len(r.QueryResponse) > 0, HasEntityType: r.Entity != nil}
		if r.Err != nil {
			g.NotFound, g.Stale, g.MayHaveWritten = IsNotFound(r.Err), IsStaleObject(r.Err), MayHaveWritten(r.Err)
		}
		gots = append(gots, g)
	}
	want := []got{{BID: "bid1", Raw: true}, {BID: "bid2", NotFound: true}, {BID: "bid3", Stale: true}, {BID: "bid4", Query: true}}
	if diff := cmp.Diff(want, gots); diff != "" {
		t.Errorf("batch results (-want +got):\n%s", diff)
	}
	var q struct {
		SalesReceipt []SalesReceipt
	}
	if err := json.Unmarshal(res[3].QueryResponse, &q); err != nil || len(q.SalesReceipt) != 2 || Dec(q.SalesReceipt[0].TotalAmt).String() != "337.5" {
		t.Errorf("bid4 query: got %+v (%v); want two receipts of 337.50", q.SalesReceipt, err)
	}
}

package qbo

import (
	"encoding/json"
	"net/http"
	"testing"
)

func FuzzDecimalUnmarshal(f *testing.F) {
	for _, s := range []string{"19.99", "0", "-0.005", `"6.50"`, "1e2", "1e999999999", "null", "true", `"x"`, "12345678901234567890.123456789", "-", ".5", "1.", "0x10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var d Decimal
		if err := d.UnmarshalJSON([]byte(s)); err != nil {
			return
		}
		// Anything accepted must re-marshal as a JSON number that decodes to
		// the same value.
		b, err := d.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON(%s): %v", s, err)
		}
		if !json.Valid(b) || b[0] == '"' {
			t.Fatalf("MarshalJSON(%s) = %s: not a JSON number", s, b)
		}
		var back Decimal
		if err := back.UnmarshalJSON(b); err != nil || !back.Equal(d.Decimal) {
			t.Fatalf("round trip %s -> %s -> %v (%v)", s, b, back, err)
		}
	})
}

func FuzzCheckResponse(f *testing.F) {
	f.Add(400, `{"Fault":{"Error":[{"Message":"Stale Object Error","code":"5010","element":""}],"type":"ValidationFault"},"time":"x"}`)
	f.Add(200, `{"Fault":{"Error":[{"Message":"message=ThrottleExceeded; errorCode=003001; statusCode=429"}],"type":"SERVICE"}}`)
	f.Add(401, `{"fault":{"error":[{"message":"x","code":"3200"}],"type":"AUTHENTICATION"}}`)
	f.Add(200, `{"Invoice":{"Id":"1"}}`)
	f.Add(502, `<html>`)
	f.Add(200, `{"Fault":null}`)
	f.Add(200, `{"Fault":{"Error":[{"code":"000"}]}}`)
	f.Fuzz(func(t *testing.T, status int, body string) {
		resp := &http.Response{StatusCode: status, Header: http.Header{}}
		e := checkResponse(resp, []byte(body))
		if e == nil {
			if status < 200 || status > 299 {
				t.Fatalf("status %d returned no error", status)
			}
			return
		}
		_ = e.Error()
		_ = e.Code()
		_ = Retryable(e)
		_, _, _ = IsThrottled(e), IsAuth(e), IsDuplicateDocNumber(e)
	})
}

func FuzzDecodeBatchItems(f *testing.F) {
	f.Add(`[{"bId":"1","Fault":{"type":"ValidationFault","Error":[{"code":"2050"}]}},{"bId":"2","Invoice":{"Id":"5","TotalAmt":1.5}},{"bId":"3","QueryResponse":{}}]`)
	f.Add(`[{"bId":"x"}]`)
	f.Add(`[{"bId":1}]`)
	f.Fuzz(func(t *testing.T, body string) {
		var raws []json.RawMessage
		if json.Unmarshal([]byte(body), &raws) != nil {
			return
		}
		res, err := decodeBatchItems(raws)
		if err != nil {
			return
		}
		for _, r := range res {
			n := 0
			if r.Entity != nil {
				n++
			}
			if r.Err != nil {
				n++
			}
			if r.QueryResponse != nil {
				n++
			}
			if r.Raw != nil {
				n++
			}
			if n != 1 {
				t.Fatalf("result %+v: want exactly one of Entity, Err, QueryResponse, Raw", r)
			}
		}
	})
}

func FuzzDecodeCDC(f *testing.F) {
	f.Add(`{"CDCResponse":[{"QueryResponse":[{"Invoice":[{"Id":"1","status":"Deleted"}],"startPosition":1},{"Bill":[{}]}]}]}`)
	f.Add(`{"CDCResponse":[]}`)
	f.Fuzz(func(t *testing.T, body string) {
		var env cdcEnvelope
		if json.Unmarshal([]byte(body), &env) != nil {
			return
		}
		_, _ = decodeCDC(&env)
	})
}

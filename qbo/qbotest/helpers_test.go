package qbotest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/velqbo/velqbo/internal/clock"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// env is a fake server, a fake clock, seeded defaults and a raw API caller.
type env struct {
	t     *testing.T
	s     *Server
	clock *clock.Fake
	sd    Seeded
	tok   string
	cust  string
}

func newEnv(t *testing.T, opts ...Option) *env {
	t.Helper()
	clk := clock.NewFake(t0)
	s := NewTestServer(t, append([]Option{WithClock(clk)}, opts...)...)
	e := &env{t: t, s: s, clock: clk, sd: s.SeedDefaults(), tok: s.IssueAccessToken()}
	e.cust = s.AddCustomer("Jane Doe", "jane@example.com")
	return e
}

type result struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// do sends one API request to /v3/company/<realm>/<path>.
func (e *env) do(method, path string, q url.Values, body string) result {
	e.t.Helper()
	return e.doURL(method, e.s.CompanyURL()+"/"+path, q, body, "application/json")
}

func (e *env) doURL(method, u string, q url.Values, body, ctype string) result {
	e.t.Helper()
	if q == nil {
		q = url.Values{}
	}
	q.Set("minorversion", "75")
	req, err := http.NewRequestWithContext(e.t.Context(), method, u+"?"+q.Encode(), strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if e.tok != "" {
		req.Header.Set("Authorization", "Bearer "+e.tok)
	}
	req.Header.Set("Accept", "application/json")
	if body != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := e.s.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := result{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		_ = dec.Decode(&r.body)
	}
	return r
}

func (e *env) post(entity string, q url.Values, body string) result {
	e.t.Helper()
	return e.do(http.MethodPost, entity, q, body)
}

func (e *env) query(text string) result {
	e.t.Helper()
	return e.do(http.MethodGet, "query", url.Values{"query": {text}}, "")
}

// ok asserts a 200 and returns the entity object under key.
func (r result) ok(t *testing.T, key string) map[string]any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status: got %d; want 200; body %s", r.status, r.raw)
	}
	m := obj(r.body[key])
	if m == nil {
		t.Fatalf("response has no %q: %s", key, r.raw)
	}
	return m
}

// fault asserts an error status and returns (code, element) of the first error.
func (r result) fault(t *testing.T, status int) (code, element string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status: got %d; want %d; body %s", r.status, status, r.raw)
	}
	f := obj(r.body["Fault"])
	errs := list(f["Error"])
	if len(errs) == 0 {
		t.Fatalf("no Fault.Error in %s", r.raw)
	}
	e := obj(errs[0])
	return str(e["code"]), str(e["element"])
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func itemLine(item, qty, price, amount string) map[string]any {
	return map[string]any{
		"DetailType": "SalesItemLineDetail", "Amount": json.Number(amount),
		"SalesItemLineDetail": map[string]any{
			"ItemRef": map[string]any{"value": item}, "Qty": json.Number(qty), "UnitPrice": json.Number(price),
			"TaxCodeRef": map[string]any{"value": "NON"},
		},
	}
}

func discountLine(account, amount string) map[string]any {
	return map[string]any{
		"DetailType": "DiscountLineDetail", "Amount": json.Number(amount),
		"DiscountLineDetail": map[string]any{"PercentBased": false, "DiscountAccountRef": map[string]any{"value": account}},
	}
}

// receipt is a valid SalesReceipt body.
func (e *env) receipt(doc string, lines ...any) map[string]any {
	if len(lines) == 0 {
		lines = []any{itemLine(e.sd.Products["SKU-1"], "2", "19.99", "39.98")}
	}
	return map[string]any{
		"DocNumber": doc, "CustomerRef": map[string]any{"value": e.cust}, "Line": lines,
		"DepositToAccountRef": map[string]any{"value": e.sd.Accounts["Checking"]},
		"PaymentMethodRef":    map[string]any{"value": e.sd.PaymentMethods["Cash"]},
		"PrivateNote":         "velocity order " + doc,
	}
}

func (e *env) invoice(doc string, lines ...any) map[string]any {
	m := e.receipt(doc, lines...)
	delete(m, "DepositToAccountRef")
	delete(m, "PaymentMethodRef")
	return m
}

func (e *env) create(entity string, body map[string]any) map[string]any {
	e.t.Helper()
	key, _ := canonicalEntity(entity)
	return e.post(strings.ToLower(entity), nil, mustJSON(e.t, body)).ok(e.t, key)
}

const (
	time1h = time.Hour
	time1m = time.Minute
)

func (r result) okStatus(t *testing.T) {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status: got %d; want 200; body %s", r.status, r.raw)
	}
}

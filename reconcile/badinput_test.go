package reconcile_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/velocity"
	"github.com/velqbo/velqbo/velocity/velocitytest"
)

// Hostile and broken input: each case plants one bad object among the good
// orders of engScenario and runs the engine. The run must finish, block
// that one object with a reason naming it and the cause, report everything
// else, create every good document exactly once, and post nothing of the
// bad object (no receipt, refund or payment of a blocked order).

// badRaw marshals o, lets edit change the JSON object, and returns it.
func badRaw(t *testing.T, o *velocity.Order, edit func(m map[string]any)) []byte {
	t.Helper()
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func badLine(m map[string]any, i int) map[string]any { return m["lines"].([]any)[i].(map[string]any) }

// badCase is one hostile object.
type badCase struct {
	name string
	// raw plants a raw JSON order through the API; order plants a typed
	// one; line, for the file source, is an export line (without the
	// newline) appended to the good orders.
	raw   func(t *testing.T) []byte
	order func() *velocity.Order
	line  func(t *testing.T) string

	// id is the source id of the blocked item; kind its kind ("order"
	// when empty).
	id, kind string
	// reason holds substrings the reason must contain (the cause).
	reason []string
	// code is the code one of the item's reasons must have.
	code reconcile.ReasonCode
	// number is the Velocity order number of the bad object's order.
	number string
	// posted lists DocNumbers of the bad object's order that are fine and
	// must be created once (the order itself when only a refund is bad).
	posted map[string]string // DocNumber -> QBO type
}

func badCases() []badCase {
	bad := func(edit func(m map[string]any)) func(t *testing.T) []byte {
		return func(t *testing.T) []byte { return badRaw(t, engOrder("ord_bad", "1009", 2), edit) }
	}
	refund := func(id, total string) velocity.Refund {
		return velocity.Refund{ID: id, CreatedAt: engStart, PaymentMethod: velocity.MethodCreditCard, Total: engDec(total),
			Lines: []velocity.RefundLine{{Kind: velocity.RefundCustom, Amount: engDec(total), Description: "goodwill"}}}
	}
	return []badCase{
		{name: "amount with 3 decimals", raw: bad(func(m map[string]any) { badLine(m, 0)["unit_price"] = "19.999" }),
			id: "ord_bad", reason: []string{"unit_price", "19.999"}, code: reconcile.CodeInvalidInSource, number: "1009"},
		{name: "total with 3 decimals", raw: bad(func(m map[string]any) { m["total"] = "39.980" }),
			id: "ord_bad", reason: []string{"total"}, code: reconcile.CodeInvalidInSource, number: "1009"},
		{name: "amount as a JSON float", raw: bad(func(m map[string]any) { m["total"] = json.Number("39.98") }),
			id: "ord_bad", reason: []string{"total"}, code: reconcile.CodeInvalidInSource, number: "1009"},
		{name: "negative quantity", raw: bad(func(m map[string]any) {
			badLine(m, 0)["quantity"] = "-2"
			m["total"] = "-39.98"
		}), id: "ord_bad", reason: []string{"quantity", "-2"}, code: reconcile.CodeInvalidInSource, number: "1009"},
		{name: "fractional quantity off the cent", raw: bad(func(m map[string]any) {
			badLine(m, 0)["quantity"] = "1.5"
			m["total"] = "29.99"
		}), id: "ord_bad", reason: []string{"29.985"}, code: reconcile.CodeNotWholeCents, number: "1009"},
		{name: "totals that do not add up", raw: bad(func(m map[string]any) { m["total"] = "50.00" }),
			id: "ord_bad", reason: []string{"50.00", "39.98"}, code: reconcile.CodeTotalMismatch, number: "1009"},
		{name: "not a number", raw: bad(func(m map[string]any) { m["total"] = "abc" }),
			id: "ord_bad", reason: []string{"total", "abc"}, code: reconcile.CodeInvalidInSource, number: "1009"},
		{name: "lines of the wrong type", raw: bad(func(m map[string]any) { m["lines"] = map[string]any{"x": 1} }),
			id: "ord_bad", reason: []string{"lines"}, code: reconcile.CodeInvalidInSource, number: "1009"},
		{name: "missing customer", raw: bad(func(m map[string]any) { delete(m, "customer_id") }),
			id: "ord_bad", reason: []string{"customer_id"}, code: reconcile.CodeInvalidInSource, number: "1009"},
		{name: "unknown payment method", order: func() *velocity.Order {
			o := engOrder("ord_bad", "1009", 2)
			o.PaymentMethod = "bitcoin"
			return o
		}, id: "ord_bad", reason: []string{"bitcoin"}, code: reconcile.CodePaymentMethodUnmapped, number: "1009"},
		{name: "order number too long for a DocNumber", order: func() *velocity.Order {
			return engOrder("ord_bad", "1009000000000000000000000", 2)
		}, id: "ord_bad", reason: []string{"1009000000000000000000000", "21"}, code: reconcile.CodeDocNumberInvalid, number: "1009000000000000000000000"},
		{name: "order number too long for RF-<n>-<k>", order: func() *velocity.Order {
			o := engOrder("ord_bad", "12345678901234567", 2) // RF-<n> is 20 characters, RF-<n>-2 is 22
			o.Refunds = []velocity.Refund{refund("ref_a", "5.00"), refund("ref_b", "6.00")}
			o.Refunds[1].CreatedAt = engStart.Add(1)
			return o
		}, id: "ref_b", kind: "refund", reason: []string{"RF-12345678901234567-2", "21"}, code: reconcile.CodeDocNumberInvalid, number: "12345678901234567",
			posted: map[string]string{"12345678901234567": "SalesReceipt", "RF-12345678901234567": "RefundReceipt"}},
		{name: "refund larger than the order", order: func() *velocity.Order {
			o := engOrder("ord_bad", "1009", 2)
			o.Refunds = []velocity.Refund{refund("ref_big", "100.00")}
			return o
		}, id: "ref_big", kind: "refund", reason: []string{"100.00", "39.98"}, code: reconcile.CodeRefundsExceedTotal, number: "1009",
			posted: map[string]string{"1009": "SalesReceipt"}},
		{name: "payment larger than the invoice", order: func() *velocity.Order {
			o := engTermsOrder("ord_bad", "1009", 2)
			o.Payments = []velocity.Payment{{ID: "pay_big", CreatedAt: engStart, Amount: engDec("40.00"), Method: velocity.MethodCheck}}
			return o
		}, id: "pay_big", kind: "payment", reason: []string{"40.00", "39.98"}, code: reconcile.CodePaymentsExceedTotal, number: "1009",
			posted: map[string]string{"1009": "Invoice"}},
		{name: "payment with 3 decimals", raw: func(t *testing.T) []byte {
			o := engTermsOrder("ord_bad", "1009", 2)
			o.Payments = []velocity.Payment{{ID: "pay_odd", CreatedAt: engStart, Amount: engDec("1.00"), Method: velocity.MethodCheck}}
			return badRaw(t, o, func(m map[string]any) { m["payments"].([]any)[0].(map[string]any)["amount"] = "1.005" })
		}, id: "ord_bad", reason: []string{"amount", "1.005"}, code: reconcile.CodeInvalidInSource, number: "1009"},
		{name: "duplicate refund ids", order: func() *velocity.Order {
			o := engOrder("ord_bad", "1009", 2)
			o.Refunds = []velocity.Refund{refund("ref_dup", "5.00"), refund("ref_dup", "6.00")}
			return o
		}, id: "ord_bad", reason: []string{"ref_dup"}, code: reconcile.CodeInvalidInSource, number: "1009"},
		{name: "duplicate payment ids", order: func() *velocity.Order {
			o := engTermsOrder("ord_bad", "1009", 2)
			o.Payments = []velocity.Payment{
				{ID: "pay_dup", CreatedAt: engStart, Amount: engDec("1.00"), Method: velocity.MethodCheck},
				{ID: "pay_dup", CreatedAt: engStart, Amount: engDec("2.00"), Method: velocity.MethodCheck}}
			return o
		}, id: "ord_bad", reason: []string{"pay_dup"}, code: reconcile.CodeInvalidInSource, number: "1009"},
		{name: "control characters in the order number", order: func() *velocity.Order {
			return engOrder("ord_bad", "10\x0009\x1b[31m", 2)
		}, id: "ord_bad", reason: []string{"control characters"}, code: reconcile.CodeDocNumberInvalid, number: "10\x0009\x1b[31m"},
		{name: "huge order number", order: func() *velocity.Order {
			return engOrder("ord_bad", strings.Repeat("9", 1<<20), 2)
		}, id: "ord_bad", reason: []string{"1048576 characters", "21"}, code: reconcile.CodeDocNumberInvalid, number: strings.Repeat("9", 1<<20)},
		{name: "malformed JSON line", line: func(*testing.T) string {
			return `{"type":"order","id":"ord_bad","number":"1009","lines":[{"product_id":`
		}, id: "", reason: []string{"line 5"}, code: reconcile.CodeInvalidInSource, number: "1009"},
		{name: "control characters in a JSON line", line: func(*testing.T) string {
			return "{\"type\":\"order\",\"id\":\"ord_bad\",\"number\":\"10\x0109\"}"
		}, id: "", reason: []string{"line 5"}, code: reconcile.CodeInvalidInSource, number: "1009"},
		{name: "huge JSON line", line: func(t *testing.T) string {
			return `{"type":"order","id":"ord_bad","number":"1009","x":"` + strings.Repeat("x", 20<<20) + `"}`
		}, id: "", reason: []string{"line 5", "longer than"}, code: reconcile.CodeInvalidInSource, number: "1009"},
		// The same order id twice in one read has its own table:
		// TestRunDuplicateOrderInOneRead in dedupe_test.go.
	}
}

func TestBadInput(t *testing.T) {
	for _, tc := range badCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newEngHarness(t)
			engScenario(h)
			switch {
			case tc.raw != nil:
				h.must(h.v.AddRawOrder(tc.raw(t)))
			case tc.order != nil:
				h.v.AddOrder(tc.order())
			case tc.line != nil:
				h.rec.Source = reconcile.FileSource{FileSource: velocity.OpenFileSource(badExport(t, h, tc.line(t)))}
			}
			sum, err := h.rec.Run(h.ctx, reconcile.Options{})
			if err != nil {
				t.Fatalf("Run: %v; want the run to finish", err)
			}
			kind := reconcile.Kind(tc.kind)
			if kind == "" {
				kind = reconcile.KindOrder
			}
			var found []reconcile.Item
			for _, it := range sum.Items {
				switch it.Action {
				case "blocked", "failed":
					if it.Kind == kind && it.SourceID == tc.id {
						found = append(found, it)
						continue
					}
					t.Errorf("unexpected %s item: %+v", it.Action, badItem(it))
				}
			}
			if len(found) != 1 {
				t.Fatalf("items for %s %q: got %d blocked/failed; want 1\nall items: %v", kind, tc.id, len(found), badItems(sum.Items))
			}
			it := found[0]
			if it.Action != "blocked" {
				t.Errorf("%s %q: action %s; want blocked (invalid data is not retried as a failure)", kind, tc.id, it.Action)
			}
			for _, sub := range tc.reason {
				if !strings.Contains(it.Reason, sub) {
					t.Errorf("reason %q; want it to name %q", badTrunc(it.Reason), sub)
				}
			}
			if !it.Reasons.Has(tc.code) {
				t.Errorf("reasons %+v; want one with code %s", it.Reasons, tc.code)
			}
			if len(it.Reason) > 2000 {
				t.Errorf("reason is %d bytes; want hostile text capped", len(it.Reason))
			}
			if tc.id != "" && !strings.Contains(it.Reason, tc.id) && it.SourceID != tc.id {
				t.Errorf("item %+v does not name %s", badItem(it), tc.id)
			}
			badCheckNothingHalfPosted(t, h, tc)

			// The next run blocks it again and sends nothing.
			m := h.mark()
			sum2, err := h.rec.Run(h.ctx, reconcile.Options{})
			if err != nil {
				t.Fatalf("second Run: %v", err)
			}
			if w := h.writes(m); w != 0 || sum2.Counts.Blocked != 1 {
				t.Errorf("second run: %d writes, %d blocked; want 0 writes, 1 blocked (%v)", w, sum2.Counts.Blocked, badItems(sum2.Items))
			}
		})
	}
}

// TestBadInput_TwoBrokenLines: two export lines too broken to name their
// order are both reported, each with its line number.
func TestBadInput_TwoBrokenLines(t *testing.T) {
	h := newEngHarness(t)
	engScenario(h)
	h.rec.Source = reconcile.FileSource{FileSource: velocity.OpenFileSource(badExport(t, h, "{\"type\":\"order\",\n[1,2"))}
	for run := 1; run <= 2; run++ {
		sum := h.run(reconcile.Options{})
		var reasons []string
		for _, it := range sum.Items {
			if it.Action == "blocked" || it.Action == "failed" {
				reasons = append(reasons, it.Reason)
			}
		}
		if len(reasons) != 2 || !strings.Contains(strings.Join(reasons, "|"), "line 5") || !strings.Contains(strings.Join(reasons, "|"), "line 6") {
			t.Errorf("run %d: blocked reasons %q; want two, naming lines 5 and 6", run, reasons)
		}
	}
	h.checkExactlyOnce(engScenarioWant)
}

// badCheckNothingHalfPosted checks QBO: engScenario's documents once each,
// the bad order's fine documents once each, nothing else.
func badCheckNothingHalfPosted(t *testing.T, h *engHarness, tc badCase) {
	t.Helper()
	want := engWant{docs: map[string][]string{}, payments: engScenarioWant.payments}
	for typ, nums := range engScenarioWant.docs {
		want.docs[typ] = append([]string(nil), nums...)
	}
	for dn, typ := range tc.posted {
		want.docs[typ] = append(want.docs[typ], dn)
	}
	h.checkExactlyOnce(want)
	for _, typ := range []string{"SalesReceipt", "Invoice", "RefundReceipt", "Payment"} {
		for _, e := range h.q.Entities(typ) {
			if strings.Contains(e.PrivateNote, "ord_bad") || strings.Contains(e.PrivateNote, "Velocity order "+tc.number+" ") {
				if _, ok := tc.posted[e.DocNumber]; !ok || typ == "Payment" {
					t.Errorf("QBO holds %s %s (DocNumber %q) of the bad object: half-posted", typ, e.ID, badTrunc(e.DocNumber))
				}
			}
		}
	}
}

// badExport writes engScenario's orders (as Velocity serves them) and the
// hostile line, as line 5, to an export file.
func badExport(t *testing.T, h *engHarness, line string) string {
	t.Helper()
	var buf bytes.Buffer
	for _, id := range []string{"ord_1", "ord_2", "ord_3", "ord_4"} {
		o, ok := h.v.Order(id)
		if !ok {
			t.Fatalf("order %s missing", id)
		}
		b, err := json.Marshal(o)
		h.must(err)
		buf.WriteString(`{"type":"order",`)
		buf.Write(b[1:])
		buf.WriteByte('\n')
	}
	buf.WriteString(line)
	buf.WriteByte('\n')
	path := filepath.Join(t.TempDir(), "export.ndjson")
	h.must(os.WriteFile(path, buf.Bytes(), 0o600))
	return path
}

func badTrunc(s string) string {
	if len(s) > 300 {
		return fmt.Sprintf("%s…(%d bytes)", s[:300], len(s))
	}
	return s
}

func badItem(it reconcile.Item) reconcile.Item {
	it.Reason, it.OrderNumber, it.DocNumber = badTrunc(it.Reason), badTrunc(it.OrderNumber), badTrunc(it.DocNumber)
	return it
}

func badItems(items []reconcile.Item) []reconcile.Item {
	out := make([]reconcile.Item, 0, len(items))
	for _, it := range items {
		out = append(out, badItem(it))
	}
	return out
}

// TestBadInput_VelocityAPI: a Velocity that answers 500, an HTML error page
// or a truncated body cannot be read, so the run cannot run: it stops with
// ErrSourceUnavailable naming what came back, sends nothing, records a
// failed run, and the next run, with Velocity healthy, reports everything
// once.
func TestBadInput_VelocityAPI(t *testing.T) {
	tests := []struct {
		name   string
		fault  velocitytest.Fault
		reason string
	}{
		{"500", velocitytest.Fault{Kind: velocitytest.FaultStatus, Status: 500, Count: 100}, "500"},
		{"HTML", velocitytest.Fault{Kind: velocitytest.FaultHTML, Status: 502, Count: 100}, "502"},
		{"truncated list", velocitytest.Fault{Kind: velocitytest.FaultTruncated, Path: "/v1/orders", Count: 100}, "truncated"},
		{"HTML with 200", velocitytest.Fault{Kind: velocitytest.FaultHTML, Status: 200, Count: 100}, "html"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newEngHarness(t)
			engScenario(h)
			h.v.InjectFault(tt.fault)
			m := h.mark()
			_, err := h.rec.Run(h.ctx, reconcile.Options{})
			if !errors.Is(err, reconcile.ErrSourceUnavailable) {
				t.Fatalf("Run: %v; want ErrSourceUnavailable", err)
			}
			if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tt.reason)) {
				t.Errorf("error %q; want it to say %q", badTrunc(err.Error()), tt.reason)
			}
			if w := h.writes(m); w != 0 {
				t.Errorf("writes with Velocity unreadable: %d; want 0", w)
			}
			for i := 0; h.v.PendingFaults() > 0 && i < 200; i++ {
				if resp, err := h.v.Client().Get(h.v.URL + "/v1/orders"); err == nil {
					resp.Body.Close()
				}
			}
			h.run(reconcile.Options{})
			h.checkExactlyOnce(engScenarioWant)
		})
	}
}

// TestBadInput_MoneyNeverFloat: an amount with more digits than a float64
// holds is posted exactly or blocked, never rounded.
func TestBadInput_MoneyNeverFloat(t *testing.T) {
	h := newEngHarness(t)
	o := engOrder("ord_big", "1010", 1)
	o.Lines[0].UnitPrice = engDec("90071992547409.93")
	o.Total = engDec("90071992547409.93")
	h.v.AddOrder(o)
	sum := h.run(reconcile.Options{})
	sr := h.byDocNumber("SalesReceipt", "1010")
	switch {
	case len(sr) == 1:
		if !sr[0].TotalAmt.Equal(o.Total) {
			t.Errorf("TotalAmt %s; want %s exactly", sr[0].TotalAmt, o.Total)
		}
	case sum.Counts.Blocked == 1:
		t.Logf("blocked: %s", sum.Items[0].Reason)
	default:
		t.Errorf("neither posted exactly nor blocked: %+v", sum.Items)
	}
}

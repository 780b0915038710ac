package reconcile_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"testing"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/reconcile"
)

var (
	singleFP = regexp.MustCompile(`^[0-9a-f]{32}$`)
	orderFP  = regexp.MustCompile(`^b:[0-9a-f]{32};t:[0-9a-f]{32}$`)
)

func fpReceipt(amount string) *qbo.SalesReceipt {
	return &qbo.SalesReceipt{
		DocNumber:   "100234",
		TxnDate:     "2026-03-02",
		PrivateNote: qbo.Ptr("Velocity order 100234"),
		CustomerRef: &qbo.Ref{Value: "58"},
		Line: []qbo.Line{{
			Amount: qbo.MustDecimal(amount), DetailType: qbo.SalesItemLine,
			SalesItemLineDetail: &qbo.SalesItemLineDetail{ItemRef: &qbo.Ref{Value: "19"}, Qty: qbo.MustDecimal("1"), UnitPrice: qbo.MustDecimal(amount)},
		}},
		TrackingNum:   qbo.Ptr("1Z999"),
		ShipDate:      qbo.Ptr("2026-03-03"),
		ShipMethodRef: &qbo.Ref{Value: "UPS", Name: "UPS"},
	}
}

func fpPayment(invoiceID string) *qbo.Payment {
	return &qbo.Payment{
		TxnDate:     "2026-03-10",
		CustomerRef: &qbo.Ref{Value: "58"},
		TotalAmt:    qbo.MustDecimal("10.00"),
		Line:        []qbo.Line{{Amount: qbo.MustDecimal("10.00"), LinkedTxn: []qbo.LinkedTxn{{TxnId: invoiceID, TxnType: "Invoice"}}}},
	}
}

// TestFingerprint_Stable pins the hash of a fixed payload: a change of the
// canonical form would make every recorded document look edited.
func TestFingerprint_Stable(t *testing.T) {
	// The canonical texts: keys sorted, numbers normalised, no spaces.
	const body = `{"CustomerRef":{"value":"58"},"DocNumber":"100234","Line":[{"Amount":10,"DetailType":"SalesItemLineDetail",` +
		`"SalesItemLineDetail":{"ItemRef":{"value":"19"},"Qty":1,"UnitPrice":10}}],"PrivateNote":"Velocity order 100234","TxnDate":"2026-03-02"}`
	const tracking = `{"ShipDate":"2026-03-03","ShipMethodRef":{"name":"UPS","value":"UPS"},"TrackingNum":"1Z999"}`
	want := "b:" + sha32(body) + ";t:" + sha32(tracking)
	got := reconcile.Fingerprint(fpReceipt("10.00"))
	if !orderFP.MatchString(got) {
		t.Fatalf("Fingerprint: got %q; want b:<32 hex>;t:<32 hex>", got)
	}
	if got != want {
		t.Errorf("Fingerprint: got %q; want %q (the canonical form changed)", got, want)
	}
	for i := range 20 {
		if again := reconcile.Fingerprint(fpReceipt("10.00")); again != got {
			t.Fatalf("run %d: got %q; want %q", i, again, got)
		}
	}
}

func TestFingerprint_Equivalences(t *testing.T) {
	base := fpReceipt("10.00")
	asMap := func(v any, extra map[string]any) map[string]any {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for k, x := range extra {
			m[k] = x
		}
		return m
	}
	readBack := fpReceipt("10.0")
	readBack.Id, readBack.SyncToken, readBack.Domain, readBack.Sparse, readBack.Status = "146", "3", "QBO", true, "Voided"
	readBack.MetaData = &qbo.MetaData{}
	readBack.Line[0].Id = "1"
	marked := fpReceipt("10")
	marked.PrivateNote = qbo.Ptr("Velocity order 100234 [velqbo:o:ord_1:g2]")

	tests := []struct {
		name string
		a, b any
		same bool
	}{
		{"10 and 10.00", fpReceipt("10"), fpReceipt("10.00"), true},
		{"10 and 10.01", fpReceipt("10"), fpReceipt("10.01"), false},
		{"value and pointer", *base, base, true},
		// A map of the same payload, in whatever order Go iterates it. The
		// map is not a SalesReceipt type, so only OrderFingerprint splits it.
		{"struct and map", reconcile.Fingerprint(base), reconcile.OrderFingerprint(asMap(base, nil)), true},
		{"server fields ignored", base, readBack, true},
		{"ledger marker ignored", base, marked, true},
		{"note changed", base, func() any { r := fpReceipt("10"); r.PrivateNote = qbo.Ptr("other"); return r }(), false},
		{"payment invoice id ignored", fpPayment(""), fpPayment("177"), true},
		{"payment amount", fpPayment(""), func() any { p := fpPayment(""); p.TotalAmt = qbo.MustDecimal("10.01"); return p }(), false},
		{"exponent form", asMap(fpPayment(""), map[string]any{"TotalAmt": json.Number("1e1")}),
			asMap(fpPayment(""), map[string]any{"TotalAmt": json.Number("10.000")}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fa, fb := fpOf(tt.a), fpOf(tt.b)
			if (fa == fb) != tt.same {
				t.Errorf("got %q and %q; want equal=%v", fa, fb, tt.same)
			}
		})
	}
}

// fpOf fingerprints v, or returns v when it already is a fingerprint.
func fpOf(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return reconcile.Fingerprint(v)
}

func TestFingerprint_TrackingPart(t *testing.T) {
	base := reconcile.Fingerprint(fpReceipt("10.00"))
	bBase, tBase := reconcile.SplitFingerprint(base)

	shipped := fpReceipt("10.00")
	shipped.TrackingNum = qbo.Ptr("1Z999, 1Z998")
	b, tr := reconcile.SplitFingerprint(reconcile.Fingerprint(shipped))
	if b != bBase || tr == tBase {
		t.Errorf("tracking-only change: body %v tracking %v; want body same, tracking changed", b == bBase, tr == tBase)
	}

	for name, edit := range map[string]func(r *qbo.SalesReceipt){
		"ship date": func(r *qbo.SalesReceipt) { r.ShipDate = qbo.Ptr("2026-03-04") },
		"carrier":   func(r *qbo.SalesReceipt) { r.ShipMethodRef = &qbo.Ref{Value: "FedEx", Name: "FedEx"} },
		"none":      func(r *qbo.SalesReceipt) { r.TrackingNum, r.ShipDate, r.ShipMethodRef = nil, nil, nil },
	} {
		r := fpReceipt("10.00")
		edit(r)
		if b, tr := reconcile.SplitFingerprint(reconcile.Fingerprint(r)); b != bBase || tr == tBase {
			t.Errorf("%s: body %v tracking %v; want body same, tracking changed", name, b == bBase, tr == tBase)
		}
	}

	edited := fpReceipt("12.00")
	b, tr = reconcile.SplitFingerprint(reconcile.Fingerprint(edited))
	if b == bBase || tr != tBase {
		t.Errorf("body-only change: body %v tracking %v; want body changed, tracking same", b == bBase, tr == tBase)
	}
}

func TestFingerprint_Forms(t *testing.T) {
	if got := reconcile.Fingerprint(fpPayment("")); !singleFP.MatchString(got) {
		t.Errorf("Payment: got %q; want 32 hex characters", got)
	}
	if got := reconcile.Fingerprint(&qbo.Invoice{DocNumber: "1"}); !orderFP.MatchString(got) {
		t.Errorf("Invoice: got %q; want b:…;t:…", got)
	}
	if got := reconcile.Fingerprint(&qbo.RefundReceipt{DocNumber: "RF-1"}); !singleFP.MatchString(got) {
		t.Errorf("RefundReceipt: got %q; want 32 hex characters", got)
	}
	if a, b := reconcile.Fingerprint(func() {}), reconcile.Fingerprint(nil); a != b {
		t.Errorf("unmarshalable value: got %q; want the hash of null %q", a, b)
	}
}

func TestSplitFingerprint(t *testing.T) {
	tests := []struct{ in, body, tracking string }{
		{"b:aaa;t:bbb", "aaa", "bbb"},
		{"b:aaa;t:", "aaa", ""},
		{"0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef", ""},
		{"b:aaa", "b:aaa", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		body, tracking := reconcile.SplitFingerprint(tt.in)
		if body != tt.body || tracking != tt.tracking {
			t.Errorf("SplitFingerprint(%q): got (%q, %q); want (%q, %q)", tt.in, body, tracking, tt.body, tt.tracking)
		}
	}
}

func sha32(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:32]
}

package reconcile

import (
	"fmt"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/velocity/velocitytest"
)

// canonEnv links every customer and product of a generated dataset and sets
// every setting, so that (nearly) every order maps to a sendable payload.
func canonEnv(ds *velocitytest.Dataset) *Env {
	env := &Env{HomeCurrency: "USD", Customers: map[string]Link{}, Products: map[string]Link{}}
	for i, c := range ds.Customers {
		env.Customers[c.ID] = Link{QBOID: fmt.Sprint(100 + i)}
	}
	for i, p := range ds.Products {
		env.Products[p.ID] = Link{QBOID: fmt.Sprint(500 + i)}
	}
	env.Settings = Settings{DepositAccount: "35", RefundAccount: "36", DiscountAccount: "37", ShippingItem: "40",
		HandlingItem: "41", TaxItem: "42", CustomItem: "43", NonTaxableTaxCode: "NON",
		PaymentMethods: map[string]string{"credit_card": "1", "ach": "2", "check": "3", "wire": "4", "cash": "5",
			"store_credit": "6", "terms": "7"}}
	return env
}

// checkCanon fails when the fast path declines v or disagrees with the
// generic path that defines the canonical form.
func checkCanon(t *testing.T, name string, v any, split bool) {
	t.Helper()
	fast, ok := fastFingerprint(v, split)
	if !ok {
		t.Errorf("%s: fast path declined %T; want it taken", name, v)
		return
	}
	if slow := slowFingerprint(v, split); fast != slow {
		t.Errorf("%s: fast fingerprint %s; want the generic path's %s", name, fast, slow)
	}
}

// TestFastFingerprint_Generated: on thousands of generated orders (receipts,
// invoices, refunds, payments, shipments, unicode everywhere) the fast path
// gives the generic path's fingerprints exactly: a difference would make
// the next run update every document in QBO.
func TestFastFingerprint_Generated(t *testing.T) {
	ds := velocitytest.Generate(7, velocitytest.GenOptions{Orders: 3000})
	env := canonEnv(ds)
	var n int
	for _, o := range ds.Orders {
		docs := MapOrder(o, env)
		all := append(append([]*Desired{docs.Doc}, docs.Refunds...), docs.Payments...)
		for _, d := range all {
			if d == nil || d.Entity == nil {
				continue
			}
			checkCanon(t, string(d.Kind)+" "+d.SourceID, d.Entity, d.Kind == KindOrder)
			if got := Fingerprint(d.Entity); got != d.Fingerprint {
				t.Errorf("%s %s: Fingerprint %s; mapping recorded %s", d.Kind, d.SourceID, got, d.Fingerprint)
			}
			n++
		}
	}
	if n < 3000 {
		t.Errorf("compared %d payloads; want at least 3000", n)
	}
}

func canonNote(s string) *string { return &s }

// TestFastFingerprint_Edges covers what generated data rarely has: escapes,
// invalid UTF-8, the ledger marker, volatile fields, QBO-owned fields,
// payment links and unusual decimals.
func TestFastFingerprint_Edges(t *testing.T) {
	dec := func(s string) *qbo.Decimal { return qbo.MustDecimal(s) }
	strs := []string{"", "plain", `quote " and \ backslash`, "ctl \x00\x01\x1f\b\f\n\r\t", "html <a href=\"x\">&amp;</a>",
		"sep \u2028 \u2029", "bad utf8 \xff\xfe end", "trunc \xe2\x82", "日本 🚀 Zürich", "\x7f del",
		"Velocity order 1 [velqbo:o:ord_1:g0]", "note [velqbo:o:x:g2]  ", "[velqbo:broken", "a [velqbo:p:1:g0] b"}
	nums := []*qbo.Decimal{dec("0"), dec("10.00"), dec("-0.50"), dec("1e3"), dec("123.4500"), dec("0.0000001"),
		{Decimal: decimal.New(5, 3)}, {Decimal: decimal.New(-12345, -7)}, dec("99999999999999999999.99")}
	for i, s := range strs {
		n := nums[i%len(nums)]
		sr := &qbo.SalesReceipt{Id: "9", SyncToken: "3", Sparse: true, Domain: "QBO", Status: "Voided",
			MetaData: &qbo.MetaData{}, DocNumber: s, TxnDate: "2026-01-02", PrivateNote: canonNote(s),
			CustomerRef: &qbo.Ref{Value: s, Name: s}, TotalAmt: n, Balance: dec("0"),
			BillAddr: &qbo.PhysicalAddress{Id: "7", Line1: s, City: s}, ShipAddr: &qbo.PhysicalAddress{},
			ApplyTaxAfterDiscount: qbo.Ptr(false), TrackingNum: canonNote(s), ShipDate: canonNote(""),
			ShipMethodRef: &qbo.Ref{Value: s},
			Line: []qbo.Line{{Id: "1", LineNum: i, Description: s, Amount: n, DetailType: qbo.SalesItemLine,
				SalesItemLineDetail: &qbo.SalesItemLineDetail{ItemRef: &qbo.Ref{Value: "1"}, Qty: n, UnitPrice: nums[(i+3)%len(nums)]}},
				{DetailType: qbo.DiscountLine, Amount: n, DiscountLineDetail: &qbo.DiscountLineDetail{PercentBased: qbo.Ptr(true)}}},
			LinkedTxn: []qbo.LinkedTxn{{TxnId: "5", TxnType: "Invoice"}},
			TxnTaxDetail: &qbo.TxnTaxDetail{TaxLine: []qbo.Line{{Amount: n, DetailType: qbo.TaxLine,
				TaxLineDetail: &qbo.TaxLineDetail{TaxPercent: n}}}}}
		checkCanon(t, fmt.Sprintf("receipt %d", i), sr, true)
		checkCanon(t, fmt.Sprintf("receipt value %d", i), *sr, true)
		checkCanon(t, fmt.Sprintf("receipt unsplit %d", i), sr, false)
		inv := &qbo.Invoice{DocNumber: s, PrivateNote: canonNote(s), Line: []qbo.Line{}, DueDate: s}
		checkCanon(t, fmt.Sprintf("invoice %d", i), inv, true)
		pay := &qbo.Payment{PrivateNote: canonNote(s), TotalAmt: n, PaymentRefNum: canonNote(s),
			Line: []qbo.Line{{Amount: n, LinkedTxn: []qbo.LinkedTxn{{TxnId: s, TxnType: "Invoice"}, {TxnId: s, TxnType: "CreditMemo"},
				{TxnType: "Invoice", TxnLineId: s}}}}}
		checkCanon(t, fmt.Sprintf("payment %d", i), pay, false)
		rr := &qbo.RefundReceipt{DocNumber: s, PrivateNote: nil, Line: nil}
		checkCanon(t, fmt.Sprintf("refund %d", i), rr, false)
	}
	// The forms the generic path alone handles still work, and agree.
	if _, ok := fastFingerprint(map[string]any{"a": 1}, false); ok {
		t.Errorf("fast path took a map; want it to decline")
	}
	if _, ok := fastFingerprint((*qbo.Invoice)(nil), true); ok {
		t.Errorf("fast path took a nil pointer; want it to decline")
	}
	if got, want := Fingerprint((*qbo.Invoice)(nil)), slowFingerprint((*qbo.Invoice)(nil), true); got != want {
		t.Errorf("nil invoice: got %s; want %s", got, want)
	}
}

// FuzzFastFingerprint compares both paths on arbitrary text and amounts.
func FuzzFastFingerprint(f *testing.F) {
	f.Add("Velocity order 1 [velqbo:o:1:g0]", "10.00", "1Z\u2028", "Invoice")
	f.Add("\xff<>&\"\\", "-0.001", "", "CreditMemo")
	f.Add("", "1e5", "日本", "")
	f.Fuzz(func(t *testing.T, s, amount, track, txnType string) {
		d, err := qbo.ParseDecimal(amount)
		if err != nil {
			d = qbo.MustDecimal("1")
		}
		sr := &qbo.SalesReceipt{DocNumber: s, PrivateNote: &s, TrackingNum: &track, TotalAmt: d,
			CustomerRef: &qbo.Ref{Value: track, Name: s},
			Line: []qbo.Line{{Description: s, Amount: d, DetailType: txnType,
				LinkedTxn: []qbo.LinkedTxn{{TxnId: s, TxnType: txnType}}}}}
		checkCanon(t, "receipt", sr, true)
		pay := &qbo.Payment{PrivateNote: &s, TotalAmt: d, Line: sr.Line}
		checkCanon(t, "payment", pay, false)
	})
}

// BenchmarkFingerprint compares the fast path with the generic one on a
// typical generated order document.
func BenchmarkFingerprint(b *testing.B) {
	ds := velocitytest.Generate(7, velocitytest.GenOptions{Orders: 50})
	env := canonEnv(ds)
	var ent any
	for _, o := range ds.Orders {
		if d := MapOrder(o, env).Doc; d != nil && d.Entity != nil {
			ent = d.Entity
			break
		}
	}
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			OrderFingerprint(ent)
		}
	})
	b.Run("generic", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			slowFingerprint(ent, true)
		}
	})
}

// TestAppendCanonDecimal: the allocation-free writer gives the generic
// normalisation's text for every coefficient and scale it handles, and
// hands over to it beyond.
func TestAppendCanonDecimal(t *testing.T) {
	coeffs := []int64{0, 1, -1, 5, 10, -10, 100, 12345, -12345, 1000000, 999999999999999999, -999999999999999999, 120, 7000001}
	for _, c := range coeffs {
		for exp := int32(-25); exp <= 22; exp++ {
			d := decimal.New(c, exp)
			got := string(appendCanonDecimal(nil, d))
			want := string(appendCanonNumber(nil, d.String()))
			if got != want {
				t.Errorf("New(%d, %d): got %q; want %q", c, exp, got, want)
			}
		}
	}
	big := decimal.RequireFromString("123456789012345678901234567890.5")
	if got, want := string(appendCanonDecimal(nil, big)), big.String(); got != want {
		t.Errorf("big: got %q; want %q", got, want)
	}
}

package main

// Every reporting rule of issue 13 on a BigCommerce store, end to end:
// `velqbo run` (and `velqbo orders report-as-invoice`) through Main against
// bctest and qbotest. TestBigCommerceRun is the tour of a store; these are
// the rules one by one, each on its own store.

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/velocity/bigcommerce/bctest"
)

// add adds order id like order (2 × SKU-1, 1 × SKU-2, $7.50 shipping, no
// tax: 52.73), created an hour ago, after edit changed its spec.
func (b *bcE2E) add(id int, method string, edit func(*bctest.OrderSpec)) {
	b.t.Helper()
	spec := bctest.OrderSpec{ID: id, CustomerID: b.custID, PaymentMethod: method,
		Created: time.Now().Add(-time.Hour), Shipping: d("7.50"),
		Lines: []bctest.LineSpec{
			{ProductID: 1, VariantID: b.variants["SKU-1"], SKU: "SKU-1", Name: "Widget", Price: d("19.99"), Quantity: 2},
			{ProductID: 2, VariantID: b.variants["SKU-2"], SKU: "SKU-2", Name: "Gadget", Price: d("5.25"), Quantity: 1},
		}}
	if edit != nil {
		edit(&spec)
	}
	_, err := b.BC.AddOrder(spec)
	b.must(err)
}

// taxed is the order the refund rules refund from: 1 × SKU-1 at 19.99
// with 2.00 gift wrapping, 7.50 shipping, 3.00 handling and a 4.00 fee,
// all taxed at 10 %: 40.14 with 3.65 tax.
func taxed(s *bctest.OrderSpec) {
	s.Lines = s.Lines[:1]
	s.Lines[0].Quantity = 1
	s.Lines[0].Wrapping = d("2.00")
	s.Handling = d("3.00")
	s.Fees = []bctest.FeeSpec{{Name: "Rush", Cost: d("4.00")}}
	s.TaxRate = d("0.10")
}

// bcDoc is what the rules compare of a live QBO document.
type bcDoc struct {
	Type, DocNumber, Total, Balance string
	Voided                          bool
}

// books returns every QBO document velqbo writes that was not deleted,
// voided ones included, by type and number.
func (b *bcE2E) books() []bcDoc {
	out := []bcDoc{}
	for _, typ := range bookTypes {
		for _, x := range b.QBO.Entities(typ) {
			if x.Deleted {
				continue
			}
			doc := bcDoc{Type: typ, DocNumber: x.DocNumber, Total: x.TotalAmt.StringFixed(2), Voided: x.Voided}
			if typ == "Invoice" {
				doc.Balance = x.Balance.StringFixed(2)
			}
			out = append(out, doc)
		}
	}
	slices.SortStableFunc(out, func(a, c bcDoc) int {
		return strings.Compare(a.Type+" "+a.DocNumber+" "+a.Total, c.Type+" "+c.DocNumber+" "+c.Total)
	})
	return out
}

// lines returns a document's item lines as "ItemName amount", the item
// named as the QBO company seeded it.
func (b *bcE2E) lines(raw map[string]any) []string {
	names := map[string]string{}
	for name, id := range b.Seed.Items {
		names[id] = name
	}
	var out []string
	ls, _ := raw["Line"].([]any)
	for _, l := range ls {
		m, _ := l.(map[string]any)
		det, ok := m["SalesItemLineDetail"].(map[string]any)
		if !ok {
			continue
		}
		amt, err := decimal.NewFromString(field(m, "Amount"))
		b.must(err)
		out = append(out, names[ref(det, "ItemRef")]+" "+amt.StringFixed(2))
	}
	return out
}

// paymentMethod is the seeded name of a document's PaymentMethodRef.
func (b *bcE2E) paymentMethod(raw map[string]any) string {
	for name, id := range b.Seed.PaymentMethods {
		if id == ref(raw, "PaymentMethodRef") {
			return name
		}
	}
	return "(" + ref(raw, "PaymentMethodRef") + ")"
}

// blockedFor returns the reasons of order id's blocked item in sum.
func blockedFor(sum *reconcile.Summary, id string) (reconcile.Reasons, bool) {
	for _, it := range sum.Items {
		if it.SourceID == id && it.Kind == reconcile.KindOrder && it.Action == reconcile.ActionBlocked {
			return it.Reasons, true
		}
	}
	return nil, false
}

func TestBigCommerceRules(t *testing.T) {
	t.Parallel()
	type refundCase struct {
		item  bctest.RefundItemSpec
		total string
		lines []string
	}
	// Each item type of a v3 refund of the taxed order: its RF-101 has the
	// item on its QBO item, ex tax, and the refund's tax on the tax item.
	refunds := map[string]refundCase{
		bctest.ItemProduct:      {bctest.RefundItemSpec{Type: bctest.ItemProduct, Quantity: 1}, "21.99", []string{"Widget 19.99", "Sales Tax 2.00"}},
		bctest.ItemShipping:     {bctest.RefundItemSpec{Type: bctest.ItemShipping}, "8.25", []string{"Shipping 7.50", "Sales Tax 0.75"}},
		bctest.ItemHandling:     {bctest.RefundItemSpec{Type: bctest.ItemHandling}, "3.30", []string{"Handling 3.00", "Sales Tax 0.30"}},
		bctest.ItemGiftWrapping: {bctest.RefundItemSpec{Type: bctest.ItemGiftWrapping}, "2.20", []string{"Custom Amount 2.00", "Sales Tax 0.20"}},
		bctest.ItemFee:          {bctest.RefundItemSpec{Type: bctest.ItemFee}, "4.40", []string{"Custom Amount 4.00", "Sales Tax 0.40"}},
		// ORDER refunds are tax-exempt custom amounts: no tax line.
		bctest.ItemOrder: {bctest.RefundItemSpec{Type: bctest.ItemOrder, Amount: d("5.00")}, "5.00", []string{"Custom Amount 5.00"}},
	}
	type rule struct {
		name string
		// setup builds the store before the first run.
		setup func(b *bcE2E)
		// change changes it before a second run; nil: one run.
		change func(b *bcE2E)
		// wantCode is the exit code of the last run.
		wantCode int
		// wantWrites are the writes of the last run, sorted ("create
		// Invoice"); nil skips the check.
		wantWrites []string
		wantBooks  []bcDoc
		// check inspects QBO and the last run's summary.
		check func(t *testing.T, b *bcE2E, sum *reconcile.Summary)
	}
	tests := []rule{
		{
			name: "Receipt",
			setup: func(b *bcE2E) {
				// 03:00 UTC is the evening before in Chicago: TxnDate is
				// date_created in the business time zone.
				b.Env["VELQBO_TIMEZONE"] = "America/Chicago"
				b.add(101, "Credit Card", func(s *bctest.OrderSpec) { s.Created = time.Date(2025, 6, 3, 3, 0, 0, 0, time.UTC) })
			},
			wantWrites: []string{"create SalesReceipt"},
			wantBooks:  []bcDoc{{Type: "SalesReceipt", DocNumber: "101", Total: "52.73"}},
			check: func(t *testing.T, b *bcE2E, _ *reconcile.Summary) {
				sr := b.one("SalesReceipt", "101")
				if got := field(sr.Raw, "TxnDate"); got != "2025-06-02" {
					t.Errorf("TxnDate: got %s; want 2025-06-02", got)
				}
				if got := ref(sr.Raw, "CustomerRef"); got != b.Cust {
					t.Errorf("CustomerRef: got %s; want %s", got, b.Cust)
				}
				if got := b.paymentMethod(sr.Raw); got != "Credit Card" {
					t.Errorf("payment method: got %s; want Credit Card", got)
				}
				if diff := cmp.Diff([]string{"Widget 39.98", "Gadget 5.25", "Shipping 7.50"}, b.lines(sr.Raw)); diff != "" {
					t.Errorf("lines (-want +got):\n%s", diff)
				}
			},
		},
		{
			name:       "InvoiceOnTerms",
			setup:      func(b *bcE2E) { b.add(101, "PO", nil) },
			wantWrites: []string{"create Invoice"},
			wantBooks:  []bcDoc{{Type: "Invoice", DocNumber: "101", Total: "52.73", Balance: "52.73"}},
			check: func(t *testing.T, b *bcE2E, _ *reconcile.Summary) {
				inv := b.one("Invoice", "101")
				txn, err := time.Parse(time.DateOnly, field(inv.Raw, "TxnDate"))
				b.must(err)
				if got, want := field(inv.Raw, "DueDate"), txn.AddDate(0, 0, 30).Format(time.DateOnly); got != want {
					t.Errorf("DueDate: got %s; want %s (net 30 of PO)", got, want)
				}
			},
		},
		{
			name: "ReportAsInvoice",
			setup: func(b *bcE2E) {
				b.add(101, "Credit Card", nil)
				b.add(102, "PO", nil)
			},
			change: func(b *bcE2E) {
				b.mustExec(exitOK, "orders", "report-as-invoice", "101", "--by", "amy")
				// A terms order is an Invoice already: refused.
				if r := b.exec("orders", "report-as-invoice", "102"); r.Code != exitUsage || !strings.Contains(r.Stderr, "on terms (net 30 days)") {
					b.t.Errorf("report-as-invoice 102 (PO): exit %d, stderr %q; want 2 saying it is on terms", r.Code, r.Stderr)
				}
			},
			wantWrites: []string{"create Invoice", "void SalesReceipt"},
			wantBooks: []bcDoc{
				{Type: "Invoice", DocNumber: "101", Total: "52.73", Balance: "52.73"},
				{Type: "Invoice", DocNumber: "102", Total: "52.73", Balance: "52.73"},
				{Type: "SalesReceipt", DocNumber: "101", Total: "0.00", Voided: true},
			},
			check: func(t *testing.T, b *bcE2E, _ *reconcile.Summary) {
				// The Invoice first, then the void: the order is never
				// without a live document.
				var got []string
				for _, c := range b.QBO.Requests() {
					if isWrite(c) && (c.Operation == "void" || c.Operation == "create" && c.Entity == "Invoice" && strings.Contains(string(c.Body), `"101"`)) {
						got = append(got, c.Operation+" "+c.Entity)
					}
				}
				if diff := cmp.Diff([]string{"create Invoice", "void SalesReceipt"}, got); diff != "" {
					t.Errorf("writes of order 101 in order (-want +got):\n%s", diff)
				}
			},
		},
		{
			name:  "ShipmentAfterReceipt",
			setup: func(b *bcE2E) { b.add(101, "Credit Card", nil) },
			change: func(b *bcE2E) {
				_, err := b.BC.Ship(101, bctest.ShipmentSpec{TrackingNumber: "9400111", Provider: "usps"})
				b.must(err)
			},
			wantWrites: []string{"update SalesReceipt"},
			wantBooks:  []bcDoc{{Type: "SalesReceipt", DocNumber: "101", Total: "52.73"}},
			check: func(t *testing.T, b *bcE2E, _ *reconcile.Summary) {
				sr := b.one("SalesReceipt", "101")
				if got := field(sr.Raw, "TrackingNum"); got != "9400111" {
					t.Errorf("TrackingNum: got %q; want 9400111", got)
				}
				if got := field(sr.Raw, "ShipDate"); got == "" {
					t.Errorf("ShipDate: got none; want the shipment's date")
				}
			},
		},
		{
			name:  "ShipmentAfterInvoice",
			setup: func(b *bcE2E) { b.add(101, "PO", nil) },
			change: func(b *bcE2E) {
				_, err := b.BC.Ship(101, bctest.ShipmentSpec{TrackingNumber: "1Z42", Provider: "ups"})
				b.must(err)
			},
			wantWrites: []string{"update Invoice"},
			wantBooks:  []bcDoc{{Type: "Invoice", DocNumber: "101", Total: "52.73", Balance: "52.73"}},
			check: func(t *testing.T, b *bcE2E, _ *reconcile.Summary) {
				if got := field(b.one("Invoice", "101").Raw, "TrackingNum"); got != "1Z42" {
					t.Errorf("TrackingNum: got %q; want 1Z42", got)
				}
			},
		},
		{
			name: "RefundWithoutRecordBlocked",
			setup: func(b *bcE2E) {
				b.add(101, "Credit Card", nil)
				b.must(b.BC.SetStatus(101, bctest.StatusPartiallyRefunded))
			},
			wantCode:   exitIncomplete,
			wantWrites: []string{},
			wantBooks:  []bcDoc{},
			check: func(t *testing.T, b *bcE2E, sum *reconcile.Summary) {
				why, ok := blockedFor(sum, "101")
				if !ok || !why.Has(reconcile.CodeInvalidInSource) {
					t.Fatalf("order 101: got items %+v; want blocked %s", sum.Items, reconcile.CodeInvalidInSource)
				}
				if want := "invalid order in BigCommerce: marked Partially Refunded in BigCommerce but has no refund record"; !strings.HasPrefix(why[0].Text, want) {
					t.Errorf("reason: got %q; want it to start %q", why[0].Text, want)
				}
			},
		},
		{
			name: "TermsPaymentsFromTransactions",
			setup: func(b *bcE2E) {
				b.add(101, "PO", nil)
				_, err := b.BC.AddTransaction(101, bctest.TransactionSpec{Event: "purchase", Method: "offline", Offline: "Check", Gateway: "cheque", Amount: d("20.00")})
				b.must(err)
			},
			change: func(b *bcE2E) {
				// A card payment later, authorised then captured: one payment.
				_, err := b.BC.AddTransaction(101, bctest.TransactionSpec{Event: "authorization", Method: "credit_card", Gateway: "stripe", Amount: d("32.73")})
				b.must(err)
				_, err = b.BC.AddTransaction(101, bctest.TransactionSpec{Event: "capture", Method: "credit_card", Gateway: "stripe", Amount: d("32.73")})
				b.must(err)
				// A failed transaction is no payment.
				_, err = b.BC.AddTransaction(101, bctest.TransactionSpec{Event: "purchase", Method: "credit_card", Gateway: "stripe", Amount: d("5.00"), Status: "error"})
				b.must(err)
			},
			wantWrites: []string{"create Payment"},
			wantBooks: []bcDoc{
				{Type: "Invoice", DocNumber: "101", Total: "52.73", Balance: "0.00"},
				{Type: "Payment", Total: "20.00"},
				{Type: "Payment", Total: "32.73"},
			},
			check: func(t *testing.T, b *bcE2E, _ *reconcile.Summary) {
				inv := b.one("Invoice", "101")
				var got []string
				for _, p := range b.QBO.Entities("Payment") {
					got = append(got, b.paymentMethod(p.Raw)+" "+p.TotalAmt.StringFixed(2)+" "+linkedTxn(p.Raw))
				}
				want := []string{"Check 20.00 " + inv.ID, "Credit Card 32.73 " + inv.ID}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("payments (-want +got):\n%s", diff)
				}
			},
		},
		{
			// A transaction that does not move the order's date_modified is
			// not seen by an incremental run (which reads what moved); a
			// --full run reads it. docs/bigcommerce.md and the README say so.
			name: "TermsPaymentThatDidNotMoveTheOrder",
			setup: func(b *bcE2E) {
				b.add(101, "PO", func(s *bctest.OrderSpec) { s.Created = time.Now().Add(-2 * time.Hour) })
				// A later order moves the read's cursor past order 101.
				b.add(102, "Credit Card", func(s *bctest.OrderSpec) { s.Created = time.Now() })
			},
			change: func(b *bcE2E) {
				_, err := b.BC.AddTransaction(101, bctest.TransactionSpec{Event: "purchase", Method: "offline", Offline: "Check", Gateway: "cheque", Amount: d("52.73"), Quiet: true})
				b.must(err)
			},
			wantWrites: []string{},
			wantBooks: []bcDoc{
				{Type: "Invoice", DocNumber: "101", Total: "52.73", Balance: "52.73"},
				{Type: "SalesReceipt", DocNumber: "102", Total: "52.73"},
			},
			check: func(t *testing.T, b *bcE2E, _ *reconcile.Summary) {
				b.run(exitOK, "--full")
				if diff := cmp.Diff([]bcDoc{
					{Type: "Invoice", DocNumber: "101", Total: "52.73", Balance: "0.00"},
					{Type: "Payment", Total: "52.73"},
					{Type: "SalesReceipt", DocNumber: "102", Total: "52.73"},
				}, b.books()); diff != "" {
					t.Errorf("books after run --full (-want +got):\n%s", diff)
				}
			},
		},
		{
			name:       "CancelVoids",
			setup:      func(b *bcE2E) { b.add(101, "Credit Card", nil) },
			change:     func(b *bcE2E) { b.must(b.BC.Cancel(101)) },
			wantWrites: []string{"void SalesReceipt"},
			wantBooks:  []bcDoc{{Type: "SalesReceipt", DocNumber: "101", Total: "0.00", Voided: true}},
		},
		{
			name:       "DeleteVoidsReceipt",
			setup:      func(b *bcE2E) { b.add(101, "Credit Card", nil) },
			change:     func(b *bcE2E) { b.must(b.BC.Delete(101)) },
			wantWrites: []string{"void SalesReceipt"},
			wantBooks:  []bcDoc{{Type: "SalesReceipt", DocNumber: "101", Total: "0.00", Voided: true}},
		},
		{
			name:       "DeleteVoidsInvoice",
			setup:      func(b *bcE2E) { b.add(101, "PO", nil) },
			change:     func(b *bcE2E) { b.must(b.BC.Delete(101)) },
			wantWrites: []string{"void Invoice"},
			wantBooks:  []bcDoc{{Type: "Invoice", DocNumber: "101", Total: "0.00", Balance: "0.00", Voided: true}},
		},
		{
			name: "CancelledBeforeReportedNeverPosted",
			setup: func(b *bcE2E) {
				b.add(101, "Credit Card", nil)
				b.must(b.BC.Cancel(101))
			},
			wantWrites: []string{},
			wantBooks:  []bcDoc{},
		},
		{
			name: "StoreCreditPaysReceipt",
			setup: func(b *bcE2E) {
				b.add(101, "Store Credit", func(s *bctest.OrderSpec) { s.StoreCredit = d("52.73") })
			},
			wantWrites: []string{"create SalesReceipt"},
			wantBooks:  []bcDoc{{Type: "SalesReceipt", DocNumber: "101", Total: "52.73"}},
			check: func(t *testing.T, b *bcE2E, _ *reconcile.Summary) {
				// store_credit is mapped to Cash in the test settings.
				if got := b.paymentMethod(b.one("SalesReceipt", "101").Raw); got != "Cash" {
					t.Errorf("payment method: got %s; want Cash (payment_method.store_credit)", got)
				}
			},
		},
		{
			name: "GiftCertificatePaysReceipt",
			setup: func(b *bcE2E) {
				b.mustExec(exitOK, "settings", "set", "payment_method.gift_certificate="+b.Seed.PaymentMethods["Check"])
				b.add(101, "Gift Certificate", func(s *bctest.OrderSpec) { s.GiftCertificate = d("52.73") })
			},
			wantWrites: []string{"create SalesReceipt"},
			wantBooks:  []bcDoc{{Type: "SalesReceipt", DocNumber: "101", Total: "52.73"}},
			check: func(t *testing.T, b *bcE2E, _ *reconcile.Summary) {
				if got := b.paymentMethod(b.one("SalesReceipt", "101").Raw); got != "Check" {
					t.Errorf("payment method: got %s; want Check (payment_method.gift_certificate)", got)
				}
			},
		},
		{
			name: "StoreCreditAndGiftCertificatePayInvoice",
			setup: func(b *bcE2E) {
				b.mustExec(exitOK, "settings", "set", "payment_method.gift_certificate="+b.Seed.PaymentMethods["Check"])
				b.add(101, "PO", func(s *bctest.OrderSpec) { s.StoreCredit, s.GiftCertificate = d("10.00"), d("2.73") })
			},
			wantWrites: []string{"create Invoice", "create Payment", "create Payment"},
			wantBooks: []bcDoc{
				{Type: "Invoice", DocNumber: "101", Total: "52.73", Balance: "40.00"},
				{Type: "Payment", Total: "10.00"},
				{Type: "Payment", Total: "2.73"},
			},
			check: func(t *testing.T, b *bcE2E, _ *reconcile.Summary) {
				var got []string
				for _, p := range b.QBO.Entities("Payment") {
					got = append(got, b.paymentMethod(p.Raw)+" "+p.TotalAmt.StringFixed(2))
				}
				slices.Sort(got)
				if diff := cmp.Diff([]string{"Cash 10.00", "Check 2.73"}, got); diff != "" {
					t.Errorf("payments (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "StoreCreditSplitWithCardBlocked",
			setup: func(b *bcE2E) {
				b.add(101, "Credit Card", func(s *bctest.OrderSpec) { s.StoreCredit = d("10.00") })
			},
			wantCode:   exitIncomplete,
			wantWrites: []string{},
			wantBooks:  []bcDoc{},
			check: func(t *testing.T, b *bcE2E, sum *reconcile.Summary) {
				why, ok := blockedFor(sum, "101")
				if !ok || !why.Has(reconcile.CodeInvalidInSource) || !strings.Contains(why[0].Text, "a sales receipt records one payment method") {
					t.Errorf("order 101: got items %+v; want blocked: a sales receipt records one payment method", sum.Items)
				}
			},
		},
	}
	for _, typ := range []string{bctest.ItemProduct, bctest.ItemShipping, bctest.ItemHandling, bctest.ItemGiftWrapping, bctest.ItemFee, bctest.ItemOrder} {
		rc := refunds[typ]
		tests = append(tests, rule{
			name:  "Refund" + typ,
			setup: func(b *bcE2E) { b.add(101, "Credit Card", taxed) },
			change: func(b *bcE2E) {
				_, err := b.BC.Refund(101, bctest.RefundSpec{Items: []bctest.RefundItemSpec{rc.item}, Reason: "returned"})
				b.must(err)
			},
			wantWrites: []string{"create RefundReceipt"},
			wantBooks: []bcDoc{
				{Type: "RefundReceipt", DocNumber: "RF-101", Total: rc.total},
				{Type: "SalesReceipt", DocNumber: "101", Total: "40.14"},
			},
			check: func(t *testing.T, b *bcE2E, _ *reconcile.Summary) {
				if diff := cmp.Diff(rc.lines, b.lines(b.one("RefundReceipt", "RF-101").Raw)); diff != "" {
					t.Errorf("RF-101 lines (-want +got):\n%s", diff)
				}
				sr := b.one("SalesReceipt", "101")
				want := []string{"Widget 19.99", "Shipping 7.50", "Handling 3.00", "Custom Amount 2.00", "Custom Amount 4.00", "Sales Tax 3.65"}
				got := b.lines(sr.Raw)
				slices.Sort(want)
				slices.Sort(got)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("SalesReceipt 101 lines (-want +got):\n%s", diff)
				}
			},
		})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBCE2E(t)
			tt.setup(b)
			mark := b.mark()
			sum := b.run(cmpInt(tt.wantCode, exitOK))
			if tt.change != nil {
				tt.change(b)
				mark = b.mark()
				sum = b.run(cmpInt(tt.wantCode, exitOK))
			}
			if tt.wantWrites != nil {
				got := []string{}
				for _, c := range b.writesSince(mark) {
					for _, w := range c.Writes() {
						got = append(got, w.Operation+" "+w.Entity)
					}
				}
				slices.Sort(got)
				if diff := cmp.Diff(tt.wantWrites, got); diff != "" {
					t.Errorf("writes of the last run (-want +got):\n%s", diff)
				}
			}
			if diff := cmp.Diff(tt.wantBooks, b.books()); diff != "" {
				t.Errorf("QBO books (-want +got):\n%s", diff)
			}
			if tt.check != nil {
				tt.check(t, b, sum)
			}
			// Nothing changed since: nothing is written.
			mark = b.mark()
			b.run(cmpInt(tt.wantCode, exitOK))
			if w := b.writesSince(mark); len(w) != 0 {
				t.Errorf("a run with nothing changed wrote %d times: %+v", len(w), w)
			}
		})
	}
}

// linkedTxn is the first transaction a Payment's lines apply it to.
func linkedTxn(raw map[string]any) string {
	ls, _ := raw["Line"].([]any)
	for _, l := range ls {
		m, _ := l.(map[string]any)
		ts, _ := m["LinkedTxn"].([]any)
		for _, x := range ts {
			if lt, ok := x.(map[string]any); ok {
				return field(lt, "TxnId")
			}
		}
	}
	return ""
}

func cmpInt(v, def int) int {
	if v != 0 {
		return v
	}
	return def
}

package main

// End-to-end tests of VELQBO_SOURCE=bigcommerce: `velqbo run` through Main
// against bctest (BigCommerce's wire formats) and qbotest.

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/velocity/bigcommerce"
	"github.com/velqbo/velqbo/velocity/bigcommerce/bctest"
)

// bcE2E is an e2e harness whose source is a bctest store: one customer
// linked, the variants SKU-1 and SKU-2 linked to the seeded QBO items,
// every setting mapped, "PO" a 30-day terms method.
type bcE2E struct {
	*e2e
	BC       *bctest.Server
	custID   int
	variants map[string]int // SKU -> variant id
}

func newBCE2E(t *testing.T, qbo ...qbotest.Option) *bcE2E {
	t.Helper()
	// No quota: the client's pacing would wait on the real clock.
	srv := bctest.NewTestServer(t, bctest.WithQuota(0, 0))
	e := newE2E(t, e2eOptions{qbo: qbo, noConnect: true, env: map[string]string{
		"VELQBO_SOURCE":                 "bigcommerce",
		"VELQBO_BIGCOMMERCE_STORE_HASH": srv.Hash,
		"VELQBO_BIGCOMMERCE_TOKEN":      srv.Token(),
		"VELQBO_BIGCOMMERCE_API_URL":    srv.URL,
	}})
	b := &bcE2E{e2e: e, BC: srv, variants: map[string]int{}}
	b.custID = srv.AddCustomer(bctest.CustomerSpec{Email: "amy@example.com", FirstName: "Amy", LastName: "Smith", Company: "Smith Hardware",
		Addresses: []bctest.Address{{FirstName: "Amy", LastName: "Smith", Company: "Smith Hardware", Street1: "1 Main St", City: "Austin", CountryISO2: "US"}}})
	for _, p := range []struct {
		sku, name, price string
	}{{"SKU-1", "Widget", "19.99"}, {"SKU-2", "Gadget", "5.25"}} {
		_, vids := srv.AddProduct(bctest.ProductSpec{Name: p.name, SKU: p.sku, Price: d(p.price), Visible: true})
		b.variants[p.sku] = vids[0]
	}
	e.Connect()
	e.Cust = e.QBO.AddCustomer("Smith Hardware", "amy@example.com")
	e.mustExec(exitOK, "customers", "link", strconv.Itoa(b.custID), e.Cust)
	for _, sku := range []string{"SKU-1", "SKU-2"} {
		e.mustExec(exitOK, "products", "link", strconv.Itoa(b.variants[sku]), e.Seed.Products[sku])
	}
	e.mustExec(exitOK, sandboxSettingsArgs(e.Seed, "start_date="+e2eStartDate, "bigcommerce.terms=PO=30")...)
	return b
}

// order adds an order of 2 × SKU-1 and 1 × SKU-2 with $7.50 shipping and
// no tax, paid by method.
func (b *bcE2E) order(id int, method string) {
	b.t.Helper()
	_, err := b.BC.AddOrder(bctest.OrderSpec{ID: id, CustomerID: b.custID, PaymentMethod: method,
		Created: time.Now().Add(-time.Hour), Shipping: d("7.50"),
		Lines: []bctest.LineSpec{
			{ProductID: 1, VariantID: b.variants["SKU-1"], SKU: "SKU-1", Name: "Widget", Price: d("19.99"), Quantity: 2},
			{ProductID: 2, VariantID: b.variants["SKU-2"], SKU: "SKU-2", Name: "Gadget", Price: d("5.25"), Quantity: 1},
		}})
	b.must(err)
}

// bcScenario adds n orders from 101 on to b's store, a mix of receipts,
// invoices on terms paid in full or in part by a transaction, and receipts
// with a refund of one widget, and returns the books they make in QBO:
// expectedBooks of each order as velqbo's BigCommerce client reads it.
func bcScenario(t *testing.T, b *bcE2E, n int) []bookDoc {
	t.Helper()
	for i := range n {
		id := 101 + i
		switch i % 4 {
		case 1, 2:
			b.order(id, "PO")
			amt := d("52.73")
			if i%4 == 2 {
				amt = d("10.00")
			}
			_, err := b.BC.AddTransaction(id, bctest.TransactionSpec{Event: "purchase", Method: "offline", Offline: "Check", Gateway: "cheque", Amount: amt})
			b.must(err)
		case 3:
			b.order(id, "Credit Card")
			_, err := b.BC.Refund(id, bctest.RefundSpec{Items: []bctest.RefundItemSpec{{Type: bctest.ItemProduct, ItemID: b.BC.ProductIDs(id)[0], Quantity: 1}}, Reason: "damaged"})
			b.must(err)
		default:
			b.order(id, "Credit Card")
		}
	}
	cfg := bigcommerce.DefaultConfig()
	terms, err := bigcommerce.ParseTerms("PO=30")
	b.must(err)
	cfg.Terms = terms
	c, err := bigcommerce.NewClient(b.BC.URL, b.BC.Hash, b.BC.Token(), bigcommerce.WithConfig(cfg))
	b.must(err)
	var want []bookDoc
	for o, err := range c.Orders(t.Context(), time.Time{}) {
		b.must(err)
		want = append(want, expectedBooks(o)...)
	}
	if len(want) < n {
		t.Fatalf("bcScenario: %d documents expected of %d orders; want at least one each", len(want), n)
	}
	return want
}

func TestBigCommerceRun(t *testing.T) {
	b := newBCE2E(t)
	b.order(101, "Credit Card") // a receipt, shipped
	_, err := b.BC.Ship(101, bctest.ShipmentSpec{TrackingNumber: "1Z999", Provider: "ups", Carrier: "ups"})
	b.must(err)
	b.order(102, "PO") // on terms: an Invoice
	b.order(103, "Credit Card")
	b.order(104, "Credit Card") // refunded outside BigCommerce
	b.must(b.BC.SetStatus(104, bctest.StatusPartiallyRefunded))
	b.order(105, "Credit Card") // pending: not reported
	b.must(b.BC.SetStatus(105, bctest.StatusPending))

	sum := b.run(exitIncomplete)
	if diff := cmp.Diff(counts(3, 0, 0, 0, 1, 0), sum.Counts); diff != "" {
		t.Errorf("first run counts (-want +got):\n%s", diff)
	}
	sr := b.one("SalesReceipt", "101")
	if !sr.TotalAmt.Equal(d("52.73")) {
		t.Errorf("SalesReceipt 101 total: got %s; want 52.73", sr.TotalAmt)
	}
	if got := field(sr.Raw, "TrackingNum"); got != "1Z999" {
		t.Errorf("SalesReceipt 101 TrackingNum: got %q; want 1Z999", got)
	}
	inv := b.one("Invoice", "102")
	if !inv.TotalAmt.Equal(d("52.73")) {
		t.Errorf("Invoice 102 total: got %s; want 52.73", inv.TotalAmt)
	}
	b.one("SalesReceipt", "103")
	if n := len(b.docs("SalesReceipt", "105")) + len(b.docs("SalesReceipt", "104")); n != 0 {
		t.Errorf("pending and refunded-outside orders: got %d documents; want none", n)
	}
	i := slices.IndexFunc(sum.Items, func(it reconcile.Item) bool { return it.SourceID == "104" })
	if i < 0 || sum.Items[i].Action != reconcile.ActionBlocked ||
		!slices.ContainsFunc(sum.Items[i].Reasons, func(r reconcile.Reason) bool { return strings.Contains(r.Text, "outside BigCommerce") }) {
		t.Errorf("order 104: got %+v; want blocked for a refund made outside BigCommerce", sum.Items)
	}

	// The next day: a payment on the terms order, a refund of one widget,
	// a cancellation.
	_, err = b.BC.AddTransaction(102, bctest.TransactionSpec{Event: "purchase", Method: "offline", Offline: "Check", Gateway: "cheque", Amount: d("52.73")})
	b.must(err)
	_, err = b.BC.Refund(103, bctest.RefundSpec{Items: []bctest.RefundItemSpec{{Type: bctest.ItemProduct, ItemID: b.BC.ProductIDs(103)[0], Quantity: 1}}, Reason: "damaged"})
	b.must(err)
	b.must(b.BC.Cancel(101))
	mark := b.mark()
	b.run(exitIncomplete) // 104 stays blocked
	pays := b.QBO.Entities("Payment")
	if len(pays) != 1 || !pays[0].TotalAmt.Equal(d("52.73")) {
		t.Errorf("payments: got %+v; want one of 52.73", pays)
	}
	rr := b.one("RefundReceipt", "RF-103")
	if !rr.TotalAmt.Equal(d("19.99")) {
		t.Errorf("RefundReceipt RF-103 total: got %s; want 19.99", rr.TotalAmt)
	}
	if sr := b.one("SalesReceipt", "101"); !sr.Voided {
		t.Errorf("SalesReceipt 101: not voided after the order was cancelled")
	}
	var ops []string
	for _, c := range b.writesSince(mark) {
		ops = append(ops, c.Operation+" "+c.Entity)
	}
	slices.Sort(ops)
	if want := []string{"create Payment", "create RefundReceipt", "void SalesReceipt"}; !cmp.Equal(ops, want) {
		t.Errorf("writes of the second run: got %q; want %q", ops, want)
	}

	// Nothing changed: nothing written.
	mark = b.mark()
	b.run(exitIncomplete)
	if w := b.writesSince(mark); len(w) != 0 {
		t.Errorf("a run with nothing changed wrote %d times", len(w))
	}
}

func TestBigCommerceConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
	}{
		{"no store hash", map[string]string{"VELQBO_SOURCE": "bigcommerce", "VELQBO_BIGCOMMERCE_TOKEN": "t"}},
		{"no token", map[string]string{"VELQBO_SOURCE": "bigcommerce", "VELQBO_BIGCOMMERCE_STORE_HASH": "abc"}},
		{"unknown source", map[string]string{"VELQBO_SOURCE": "shopify"}},
		{"source and export file", map[string]string{"VELQBO_SOURCE": "bigcommerce", "VELQBO_VELOCITY_FILE": "x.ndjson",
			"VELQBO_BIGCOMMERCE_STORE_HASH": "abc", "VELQBO_BIGCOMMERCE_TOKEN": "t"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newE2E(t, e2eOptions{noConnect: true})
			e.Connect()
			for k, v := range tc.env {
				e.Env[k] = v
			}
			r := e.exec("plan")
			if r.Code != exitUsage {
				t.Errorf("got exit %d (%s); want %d", r.Code, r.Stderr, exitUsage)
			}
		})
	}
}

package reconcile_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// invoiceScenario: order 1001 is sent as a SalesReceipt, then a later
// order 1002 moves the incremental window past 1001's updated_at, so only
// the decision can make a run read 1001 again.
func invoiceScenario(h *engHarness) (receipt qbotest.Entity) {
	h.t.Helper()
	o1 := engOrder("ord_1", "1001", 2)
	o1.UpdatedAt = engStart.Add(-2 * time.Hour)
	h.v.AddOrder(o1)
	h.run(reconcile.Options{})
	o2 := engOrder("ord_2", "1002", 1)
	o2.UpdatedAt = engStart
	h.v.AddOrder(o2)
	h.run(reconcile.Options{})
	return h.byDocNumber("SalesReceipt", "1001")[0]
}

// TestReportAsInvoiceDecision: a person's decision makes the next run
// create the Invoice and void the SalesReceipt, exactly once, though the
// order did not change in Velocity; Plan shows the same.
func TestReportAsInvoiceDecision(t *testing.T) {
	h := newEngHarness(t)
	receipt := invoiceScenario(h)
	if sum := h.run(reconcile.Options{}); len(sum.Items) != 0 {
		t.Fatalf("before the decision: items %+v; want none", sum.Items)
	}

	d, err := h.rec.ReportAsInvoice(h.ctx, "1001", "amy")
	h.must(err)
	if d.InvoiceDecidedBy != "amy" || d.InvoiceDecidedAt.IsZero() || d.QBOType != "SalesReceipt" {
		t.Errorf("row: decided by %q at %v, type %s; want amy, a time, SalesReceipt", d.InvoiceDecidedBy, d.InvoiceDecidedAt, d.QBOType)
	}
	want := []engItem{{"order", "ord_1", "create", "Invoice"}, {"order", "ord_1", "void", "SalesReceipt"}}
	plan, err := h.rec.Plan(h.ctx, reconcile.Options{})
	h.must(err)
	if diff := cmp.Diff(want, engItems(plan)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	sum := h.run(reconcile.Options{})
	if diff := cmp.Diff(want, engItems(sum)); diff != "" {
		t.Fatalf("run (-want +got):\n%s", diff)
	}
	if got, _ := h.q.Get("SalesReceipt", receipt.ID); !got.Voided {
		t.Errorf("receipt %s not voided", receipt.ID)
	}
	inv := h.byDocNumber("Invoice", "1001")
	if len(inv) != 1 || !inv[0].TotalAmt.Equal(engDec("39.98")) {
		t.Fatalf("invoices 1001: got %+v; want one of 39.98", inv)
	}
	row := h.doc("order", "ord_1")
	if row.QBOType != "Invoice" || row.QBOID != inv[0].ID || row.VoidReceiptID != "" || row.InvoiceDecidedBy != "amy" {
		t.Errorf("row: %s %s, receipt to void %q, decided by %q; want Invoice %s, none, amy",
			row.QBOType, row.QBOID, row.VoidReceiptID, row.InvoiceDecidedBy, inv[0].ID)
	}
	m := h.mark()
	if sum := h.run(reconcile.Options{}); len(sum.Items) != 0 || h.writes(m) != 0 {
		t.Errorf("rerun: items %+v, writes %d; want none", sum.Items, h.writes(m))
	}
	// An edit of the order later updates the Invoice, not a receipt.
	h.must(h.v.UpdateOrder("ord_1", func(o *velocity.Order) { o.Email = "new@example.com" }))
	if sum := h.run(reconcile.Options{}); !cmp.Equal(engItems(sum), []engItem{{"order", "ord_1", "update", "Invoice"}}) {
		t.Errorf("after an edit: items %+v; want the Invoice updated", engItems(sum))
	}
	if _, err := h.rec.ReportAsInvoice(h.ctx, "1001", "bob"); !errors.Is(err, reconcile.ErrCannotReportAsInvoice) {
		t.Errorf("deciding again: got %v; want ErrCannotReportAsInvoice", err)
	}
}

// TestReportAsInvoiceBlocked: an order blocked before its first document
// is decided; once unblocked, it is created as an Invoice straight away.
func TestReportAsInvoiceBlocked(t *testing.T) {
	h := newEngHarness(t)
	o := engOrder("ord_1", "1001", 1)
	o.Lines[0].ProductID = "prod_9"
	h.v.AddOrder(o)
	if sum := h.run(reconcile.Options{}); sum.Counts.Blocked != 1 {
		t.Fatalf("blocked: got %d; want 1", sum.Counts.Blocked)
	}
	_, err := h.rec.ReportAsInvoice(h.ctx, "1001", "amy")
	h.must(err)
	h.link(schema.ProductLinks, "prod_9", h.seed.Products["SKU-3"])
	sum := h.run(reconcile.Options{})
	if diff := cmp.Diff([]engItem{{"order", "ord_1", "create", "Invoice"}}, engItems(sum)); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	if n := len(h.q.Entities("SalesReceipt")); n != 0 {
		t.Errorf("sales receipts: got %d; want 0", n)
	}
}

// TestReportAsInvoiceRefused: each order that is, or cannot become, an
// Invoice is refused with its reason, with the source and without it.
func TestReportAsInvoiceRefused(t *testing.T) {
	h := newEngHarness(t)
	h.v.AddOrder(engOrder("ord_1", "1001", 1))
	h.v.AddOrder(engTermsOrder("ord_2", "1002", 1))
	h.v.AddOrder(engOrder("ord_3", "1003", 1))
	h.v.AddOrder(engOrder("ord_4", "1004", 1))
	h.v.AddOrder(engOrder("ord_5", "1005", 1))
	h.run(reconcile.Options{})
	h.must(h.v.SetReportAsInvoice("ord_3", true))
	h.must(h.v.Cancel("ord_4"))
	h.run(reconcile.Options{})
	h.must(h.v.SetReportAsInvoice("ord_5", true)) // not run yet: the ledger holds a receipt
	_, err := h.rec.ReportAsInvoice(h.ctx, "1001", "amy")
	h.must(err)

	ledgerOnly := &reconcile.Reconciler{Store: h.store, Now: h.clk.Now}
	for _, tc := range []struct {
		name   string
		rec    *reconcile.Reconciler
		number string
		by     string
		want   error
		text   string
	}{
		{"Terms", h.rec, "1002", "amy", reconcile.ErrCannotReportAsInvoice, "on terms (net 30 days)"},
		{"TermsLedgerOnly", ledgerOnly, "1002", "amy", reconcile.ErrCannotReportAsInvoice, "invoiced already (Invoice "},
		{"FlagInVelocity", h.rec, "1005", "amy", reconcile.ErrCannotReportAsInvoice, "Velocity marks the order Report as Invoice"},
		{"InvoicedByFlag", ledgerOnly, "1003", "amy", reconcile.ErrCannotReportAsInvoice, "invoiced already"},
		{"Cancelled", h.rec, "1004", "amy", reconcile.ErrCannotReportAsInvoice, "voided (the order was cancelled)"},
		{"DecidedBefore", h.rec, "1001", "bob", reconcile.ErrCannotReportAsInvoice, "amy decided it on "},
		{"NotInLedger", h.rec, "1009", "amy", schema.ErrNotFound, "not in the ledger"},
		{"NoOne", h.rec, "1005", " ", nil, "who decides is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.rec.ReportAsInvoice(h.ctx, tc.number, tc.by)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("got %v; want an error wrapping %v saying %q", err, tc.want, tc.text)
			}
		})
	}
	if d := h.doc("order", "ord_2"); d.InvoiceDecidedBy != "" {
		t.Errorf("refused order recorded as decided by %q", d.InvoiceDecidedBy)
	}
}

// TestReportAsInvoiceCrash kills the decided order's run at every step of
// its writes (the Invoice create, the receipt void), for every n until a
// run completes, and loses QBO's answers: afterwards QBO holds one Invoice
// and the receipt is voided, though the order never changed in Velocity.
func TestReportAsInvoiceCrash(t *testing.T) {
	for _, step := range []crashStep{beforeIntent, afterIntent, afterSend, afterOutcome} {
		t.Run(step.String(), func(t *testing.T) {
			for n := 1; n <= 10; n++ {
				fired := false
				t.Run(fmt.Sprint(n), func(t *testing.T) {
					h := newEngHarness(t)
					receipt := invoiceScenario(h)
					_, err := h.rec.ReportAsInvoice(h.ctx, "1001", "amy")
					h.must(err)
					c := &crash{step: step, at: n}
					restore := c.install(h.rec)
					_, err = h.rec.Run(h.ctx, reconcile.Options{})
					restore()
					if fired = c.killed(); fired && !errors.Is(err, errKilled) {
						t.Fatalf("Run error %v; want the kill", err)
					}
					h.settle()
					checkInvoiced(h, receipt)
				})
				if !fired {
					if n == 1 {
						t.Errorf("the kill never fired")
					}
					return
				}
			}
		})
	}
	t.Run("LostResponses", func(t *testing.T) {
		h := newEngHarness(t)
		receipt := invoiceScenario(h)
		_, err := h.rec.ReportAsInvoice(h.ctx, "1001", "amy")
		h.must(err)
		h.q.Inject(qbotest.Injection{Match: func(c *qbotest.Call) bool {
			return c.Operation == "create" || c.Operation == "batch" || c.Operation == "void"
		}, LoseResponse: true, Times: 100})
		if _, err := h.rec.Run(h.ctx, reconcile.Options{}); err != nil {
			t.Fatalf("Run: %v", err)
		}
		h.q.ClearInjections()
		h.clk.Advance(engLandBy)
		h.settle()
		checkInvoiced(h, receipt)
	})
}

// checkInvoiced: one live Invoice 1001, the receipt voided, the row done.
func checkInvoiced(h *engHarness, receipt qbotest.Entity) {
	h.t.Helper()
	if got := h.byDocNumber("Invoice", "1001"); len(got) != 1 || got[0].Voided {
		h.t.Errorf("invoices 1001: got %+v; want one live", got)
	}
	if got, _ := h.q.Get("SalesReceipt", receipt.ID); !got.Voided {
		h.t.Errorf("receipt %s not voided", receipt.ID)
	}
	if row := h.doc("order", "ord_1"); row.QBOType != "Invoice" || row.VoidReceiptID != "" || row.HasPendingIntent() {
		h.t.Errorf("row: %s, receipt to void %q, pending %q; want Invoice and nothing left", row.QBOType, row.VoidReceiptID, row.PendingRequestID)
	}
}

// TestPreviewOrder: one order's next-run items, as Plan would list them:
// nothing for an order in QBO as desired, the Invoice and the void after
// a decision, the tracking alone after a shipment, the reason of a
// blocked order; an order the source lacks is velocity.ErrNotFound.
func TestPreviewOrder(t *testing.T) {
	h := newEngHarness(t)
	invoiceScenario(h)
	o3 := engOrder("ord_3", "1003", 1)
	o3.Lines[0].ProductID = "prod_9"
	h.v.AddOrder(o3)
	h.run(reconcile.Options{})
	preview := func(id string) []engItem {
		t.Helper()
		p, err := h.rec.PreviewOrder(h.ctx, id)
		h.must(err)
		if p.Order == nil || p.Order.ID != id {
			t.Errorf("preview %s: order %+v", id, p.Order)
		}
		return engItems(&reconcile.Summary{Items: p.Items})
	}
	if got := preview("ord_1"); len(got) != 0 {
		t.Errorf("in QBO as desired: items %+v; want none", got)
	}
	_, err := h.rec.ReportAsInvoice(h.ctx, "1001", "amy")
	h.must(err)
	if diff := cmp.Diff([]engItem{{"order", "ord_1", "create", "Invoice"}, {"order", "ord_1", "void", "SalesReceipt"}}, preview("ord_1")); diff != "" {
		t.Errorf("decided (-want +got):\n%s", diff)
	}
	shipped := engStart
	h.must(h.v.AddShipment("ord_2", velocity.Shipment{ID: "sh_1", ShippedAt: &shipped, Carrier: "UPS", TrackingNumber: "1Z1",
		Items: []velocity.ShipmentItem{{LineID: "ord_2-l1", Quantity: engDec("1")}}}))
	if diff := cmp.Diff([]engItem{{"shipment", "ord_2", "update", "SalesReceipt"}}, preview("ord_2")); diff != "" {
		t.Errorf("shipped (-want +got):\n%s", diff)
	}
	p, err := h.rec.PreviewOrder(h.ctx, "ord_3")
	h.must(err)
	if len(p.Items) != 1 || p.Items[0].Action != "blocked" || !hasReason(p.Items[0].Reasons, reconcile.CodeProductNotLinked,
		reconcile.Fix{Action: reconcile.FixLinkProduct, ID: "prod_9"}) {
		t.Errorf("blocked: items %+v; want blocked, product prod_9 not linked", p.Items)
	}
	if _, err := h.rec.PreviewOrder(h.ctx, "ord_9"); !errors.Is(err, velocity.ErrNotFound) {
		t.Errorf("missing order: got %v; want velocity.ErrNotFound", err)
	}
}

// TestReportAsInvoiceVoidsBatched: 30 orders decided "Report as Invoice"
// at once. Their receipts' SyncTokens are read in one request and their
// voids go in one batch request, after the Invoices are recorded, instead
// of one read and one void request per receipt.
func TestReportAsInvoiceVoidsBatched(t *testing.T) {
	const orders = 30
	h := newEngHarness(t)
	for i := range orders {
		o := engOrder(fmt.Sprintf("ord_%d", i+1), fmt.Sprint(1001+i), 1)
		o.UpdatedAt = engStart.Add(-2 * time.Hour)
		h.v.AddOrder(o)
	}
	h.run(reconcile.Options{})
	receipts := h.live("SalesReceipt")
	if len(receipts) != orders {
		t.Fatalf("receipts: got %d; want %d", len(receipts), orders)
	}
	for i := range orders {
		_, err := h.rec.ReportAsInvoice(h.ctx, fmt.Sprint(1001+i), "amy")
		h.must(err)
	}

	m := h.mark()
	sum := h.run(reconcile.Options{})
	if sum.Counts.Created != orders || !sum.OK() {
		t.Fatalf("run: counts %+v; want %d created, nothing failed", sum.Counts, orders)
	}
	calls := map[string]int{}
	firstVoid, lastCreate := -1, -1
	for i, c := range h.q.Requests()[m:] {
		if c.Operation == "token" {
			continue
		}
		calls[c.Operation+"/"+c.Entity]++
		for _, w := range c.Writes() {
			switch {
			case w.Entity == "SalesReceipt" && firstVoid < 0:
				firstVoid = i
			case w.Entity == "Invoice" && w.Operation == "create":
				lastCreate = i
			}
		}
	}
	// The company's preferences, one lookup of the Invoices' DocNumbers,
	// then three batch requests: the creates, the read of the receipts'
	// SyncTokens, the voids. Without the read, 30 reads and 30 voids.
	want := map[string]int{"read/Preferences": 1, "query/": 1, "batch/": 3}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("requests of the run by operation/entity (-want +got):\n%s", diff)
	}
	if firstVoid < lastCreate {
		t.Errorf("a receipt void (request %d) was sent before the last Invoice create (request %d)", firstVoid, lastCreate)
	}
	if got := len(h.live("SalesReceipt")); got != 0 {
		t.Errorf("live receipts: got %d; want all %d voided", got, orders)
	}
	if got := len(h.live("Invoice")); got != orders {
		t.Errorf("invoices: got %d; want %d", got, orders)
	}
	for i := range orders {
		if row := h.doc("order", fmt.Sprintf("ord_%d", i+1)); row.QBOType != "Invoice" || row.VoidReceiptID != "" || row.HasPendingIntent() {
			t.Errorf("row ord_%d: %s, receipt to void %q, pending %v; want Invoice, none, no intent", i+1, row.QBOType, row.VoidReceiptID, row.HasPendingIntent())
		}
	}
	m = h.mark()
	if sum := h.run(reconcile.Options{}); len(sum.Items) != 0 || h.writes(m) != 0 {
		t.Errorf("rerun: items %+v, writes %d; want none", sum.Items, h.writes(m))
	}
}

package reconcile_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
	"golang.org/x/oauth2"

	"github.com/velqbo/velqbo/internal/clock"
	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/reconcile/reconciletest"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
	"github.com/velqbo/velqbo/velocity/velocitytest"
)

// Compile-time checks: the real implementations satisfy the interfaces.
var (
	_ reconcile.Source = (*velocity.Client)(nil)
	_ reconcile.Source = reconcile.FileSource{}
	_ reconcile.Store  = (*schema.Store)(nil)
	_ reconcile.QBO    = reconcile.QBOClient{}
)

// engHarness wires a Reconciler to the real schema.Store (SQLite in a temp
// dir), the real qbo.Client against qbotest and the real velocity.Client
// against velocitytest.
type engHarness struct {
	t     *testing.T
	ctx   context.Context
	q     *qbotest.Server
	clk   *clock.Fake
	seed  qbotest.Seeded
	v     *velocitytest.Server
	store *schema.Store
	rec   *reconcile.Reconciler
	cust  string // QBO customer linked to cus_1
}

var engStart = time.Date(2025, 9, 1, 12, 0, 0, 0, time.UTC)

func newEngHarness(t *testing.T, qopts ...qbotest.Option) *engHarness {
	t.Helper()
	h := &engHarness{t: t, ctx: t.Context(), clk: clock.NewFake(engStart)}
	h.q = qbotest.NewTestServer(t, append([]qbotest.Option{qbotest.WithClock(h.clk)}, qopts...)...)
	h.seed = h.q.SeedDefaults()
	conf := qbo.NewOAuthConfig(qbotest.DefaultClientID, qbotest.DefaultClientSecret, "http://localhost/cb")
	conf.Endpoint.TokenURL = h.q.TokenURL()
	ts := qbo.NewTokenSource(conf, &oauth2.Token{RefreshToken: h.q.IssueRefreshToken()},
		func(context.Context, *oauth2.Token) error { return nil }, h.q.Client(), h.clk.Now)
	qc, err := qbo.NewClient(ts.HTTPClient(h.q.Client().Transport),
		qbo.WithBaseURL(h.q.URL), qbo.WithRealmID(h.q.Realm()), qbo.WithClock(h.clk),
		qbo.WithTokenInvalidator(ts), qbo.WithRetryPolicy(qbo.RetryPolicy{Jitter: func(d time.Duration) time.Duration { return d }}))
	if err != nil {
		t.Fatal(err)
	}
	h.v = velocitytest.NewTestServer(t)
	vc, err := h.v.NewClient(velocity.WithClock(clock.NewFake(engStart)))
	if err != nil {
		t.Fatal(err)
	}
	// The ledger's times (pending_at) and the engine's now are one clock.
	h.store, err = schema.Open(h.ctx, filepath.Join(t.TempDir(), "velqbo.db"), schema.WithClock(h.clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.store.Close() })
	h.must(h.store.SetSettings(h.ctx, reconciletest.Settings(h.seed)))
	h.cust = h.q.AddCustomer("Amy Smith", "amy@example.com")
	h.link(schema.CustomerLinks, "cus_1", h.cust)
	h.link(schema.ProductLinks, "prod_1", h.seed.Products["SKU-1"])
	h.link(schema.ProductLinks, "prod_2", h.seed.Products["SKU-2"])
	h.rec = &reconcile.Reconciler{
		Source: vc, Store: h.store, QBO: reconcile.QBOClient{C: qc}, Realm: h.q.Realm(),
		Now: h.clk.Now, Concurrency: 4, FixText: engFixText,
	}
	return h
}

// engFixText stands in for the CLI's renderer (cmd/velqbo's fixCommand):
// a reason's text must show its fix as the Reconciler's FixText phrases it.
func engFixText(f reconcile.Fix) string { return fmt.Sprintf("[%s %s]", f.Action, f.ID) }

// hasReason reports whether rs holds a reason with code c and fix f.
func hasReason(rs reconcile.Reasons, c reconcile.ReasonCode, f reconcile.Fix) bool {
	return slices.ContainsFunc(rs, func(r reconcile.Reason) bool { return r.Code == c && r.Fix == f })
}

func (h *engHarness) must(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}

func (h *engHarness) link(kind schema.LinkKind, vid, qid string) {
	h.t.Helper()
	h.must(h.store.SaveLink(h.ctx, kind, schema.Link{VelocityID: vid, QBOID: qid, Method: schema.LinkManual}))
}

func engDec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// engOrder is an approved order of cus_1: qty × 19.99 of prod_1.
func engOrder(id, number string, qty int64) *velocity.Order {
	approved := engStart.Add(-24 * time.Hour)
	q := decimal.NewFromInt(qty)
	total := q.Mul(engDec("19.99"))
	return &velocity.Order{
		ID: id, Number: number, CustomerID: "cus_1", Status: velocity.StatusAwaitingFulfillment,
		ApprovedAt: &approved, PaymentMethod: velocity.MethodCreditCard, Currency: "USD",
		Email:          "amy@example.com",
		BillingAddress: velocity.Address{Name: "Amy Smith", Line1: "1 Main St", City: "Springfield", PostalCode: "12345", Country: "US"},
		Lines: []velocity.OrderLine{{ID: id + "-l1", ProductID: "prod_1", SKU: "SKU-1", Name: "Widget",
			Quantity: q, UnitPrice: engDec("19.99")}},
		Total: total, CreatedAt: approved,
	}
}

// engTermsOrder is engOrder on net-30 terms (reported as an Invoice).
func engTermsOrder(id, number string, qty int64) *velocity.Order {
	o := engOrder(id, number, qty)
	o.PaymentMethod = velocity.MethodTerms
	o.PaymentTerms = &velocity.PaymentTerms{NetDays: 30}
	return o
}

func (h *engHarness) run(opts reconcile.Options) *reconcile.Summary {
	h.t.Helper()
	sum, err := h.rec.Run(h.ctx, opts)
	if err != nil {
		h.t.Fatalf("Run: %v", err)
	}
	return sum
}

// writes counts the QBO write requests (creates, updates, voids, batches)
// received since the mark.
func (h *engHarness) writes(since int) int {
	n := 0
	for _, c := range h.q.Requests()[since:] {
		if c.Method == "POST" && c.Operation != "query" && c.Operation != "token" && c.Operation != "other" {
			n++
		}
	}
	return n
}

// written lists the writes QBO was sent since mark, one per single write
// request and one per write item of a batch request, as
// operation/entity ("update/SalesReceipt"), sorted.
func (h *engHarness) written(since int) []string {
	var out []string
	for _, c := range h.q.Requests()[since:] {
		for _, w := range c.Writes() {
			out = append(out, w.Operation+"/"+w.Entity)
		}
	}
	slices.Sort(out)
	return out
}

func (h *engHarness) mark() int { return len(h.q.Requests()) }

// live returns the non-deleted, non-voided entities of a type.
func (h *engHarness) live(typ string) []qbotest.Entity {
	var out []qbotest.Entity
	for _, e := range h.q.Entities(typ) {
		if !e.Deleted && !e.Voided {
			out = append(out, e)
		}
	}
	return out
}

func (h *engHarness) byDocNumber(typ, dn string) []qbotest.Entity {
	var out []qbotest.Entity
	for _, e := range h.q.Entities(typ) {
		if e.DocNumber == dn && !e.Deleted {
			out = append(out, e)
		}
	}
	return out
}

func (h *engHarness) doc(kind, id string) schema.Document {
	h.t.Helper()
	d, err := h.store.GetDocument(h.ctx, kind, id)
	h.must(err)
	return d
}

type engItem struct{ Kind, SourceID, Action, QBOType string }

func engItems(s *reconcile.Summary) []engItem {
	out := []engItem{}
	for _, it := range s.Items {
		out = append(out, engItem{string(it.Kind), it.SourceID, string(it.Action), it.QBOType})
	}
	return out
}

func engCounts(created, updated, voided, unchanged, blocked, failed int) reconcile.Counts {
	return reconcile.Counts{Created: created, Updated: updated, Voided: voided, Unchanged: unchanged, Blocked: blocked, Failed: failed}
}

func TestRunCreatesThenNothing(t *testing.T) {
	h := newEngHarness(t)
	h.v.AddOrder(engOrder("ord_1", "1001", 2))
	h.v.AddOrder(engTermsOrder("ord_2", "1002", 1))
	h.v.AddOrder(engOrder("ord_3", "1003", 3))

	sum := h.run(reconcile.Options{})
	if diff := cmp.Diff(engCounts(3, 0, 0, 0, 0, 0), sum.Counts); diff != "" {
		t.Fatalf("first run counts (-want +got):\n%s\nitems: %+v", diff, sum.Items)
	}
	if got := len(h.live("SalesReceipt")); got != 2 {
		t.Errorf("sales receipts in QBO: got %d; want 2", got)
	}
	if got := len(h.live("Invoice")); got != 1 {
		t.Errorf("invoices in QBO: got %d; want 1", got)
	}
	sr := h.byDocNumber("SalesReceipt", "1001")
	if len(sr) != 1 || !sr[0].TotalAmt.Equal(engDec("39.98")) {
		t.Fatalf("receipt 1001: got %+v; want one totalling 39.98", sr)
	}
	if want := "[velqbo:o:ord_1:g0]"; !contains(sr[0].PrivateNote, want) {
		t.Errorf("PrivateNote %q; want it to carry %s", sr[0].PrivateNote, want)
	}
	d := h.doc("order", "ord_1")
	if d.State != schema.StateSent || d.QBOID != sr[0].ID || d.HasPendingIntent() {
		t.Errorf("ledger row: state %s id %s pending %v; want sent, %s, no intent", d.State, d.QBOID, d.HasPendingIntent(), sr[0].ID)
	}
	items, err := h.store.RunItems(h.ctx, sum.RunID)
	h.must(err)
	if len(items) != 3 {
		t.Errorf("recorded run items: got %d; want 3", len(items))
	}

	m := h.mark()
	sum = h.run(reconcile.Options{})
	if diff := cmp.Diff(engCounts(0, 0, 0, 3, 0, 0), sum.Counts); diff != "" {
		t.Errorf("second run counts (-want +got):\n%s", diff)
	}
	if len(sum.Items) != 0 {
		t.Errorf("second run items: got %+v; want none", sum.Items)
	}
	if got := len(h.q.Requests()) - m; got != 0 {
		t.Errorf("second run QBO requests: got %d; want 0", got)
	}
	// A full run reads everything and still sends nothing.
	m = h.mark()
	sum = h.run(reconcile.Options{Mode: reconcile.ModeFull})
	if sum.Counts.Unchanged != 3 || h.writes(m) != 0 {
		t.Errorf("full rerun: unchanged %d, writes %d; want 3, 0", sum.Counts.Unchanged, h.writes(m))
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestRunEditShipmentCancel(t *testing.T) {
	h := newEngHarness(t)
	h.v.AddOrder(engOrder("ord_1", "1001", 2))
	h.v.AddOrder(engOrder("ord_2", "1002", 1))
	h.v.AddOrder(engOrder("ord_3", "1003", 1))
	h.run(reconcile.Options{})

	// An edit: one more widget on 1001.
	h.must(h.v.UpdateOrder("ord_1", func(o *velocity.Order) {
		o.Lines[0].Quantity = decimal.NewFromInt(3)
		o.Total = engDec("59.97")
	}))
	// Tracking only on 1002.
	shipped := engStart
	h.must(h.v.AddShipment("ord_2", velocity.Shipment{ID: "sh_1", ShippedAt: &shipped, Carrier: "UPS",
		TrackingNumber: "1Z999", Items: []velocity.ShipmentItem{{LineID: "ord_2-l1", Quantity: decimal.NewFromInt(1)}}}))
	// 1003 cancelled after it was reported.
	h.must(h.v.Cancel("ord_3"))

	plan, err := h.rec.Plan(h.ctx, reconcile.Options{})
	h.must(err)
	m := h.mark()
	sum := h.run(reconcile.Options{})
	want := []engItem{
		{"order", "ord_1", "update", "SalesReceipt"},
		{"shipment", "ord_2", "update", "SalesReceipt"},
		{"order", "ord_3", "void", "SalesReceipt"},
	}
	if diff := cmp.Diff(want, engItems(sum)); diff != "" {
		t.Errorf("run items (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(engItems(plan), engItems(sum)); diff != "" {
		t.Errorf("plan vs run (-plan +run):\n%s", diff)
	}
	if diff := cmp.Diff(engCounts(0, 2, 1, 0, 0, 0), sum.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	// The three writes go in one batch request.
	if got := h.writes(m); got != 1 {
		t.Errorf("write requests: got %d; want 1", got)
	}
	if diff := cmp.Diff([]string{"update/SalesReceipt", "update/SalesReceipt", "void/SalesReceipt"}, h.written(m)); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
	if sr := h.byDocNumber("SalesReceipt", "1001"); len(sr) != 1 || !sr[0].TotalAmt.Equal(engDec("59.97")) {
		t.Errorf("1001 after edit: %+v; want one receipt totalling 59.97", sr)
	}
	if sr := h.byDocNumber("SalesReceipt", "1002"); len(sr) != 1 || sr[0].Raw["TrackingNum"] != "1Z999" {
		t.Errorf("1002 after shipment: %+v; want TrackingNum 1Z999", sr)
	}
	if sr := h.byDocNumber("SalesReceipt", "1003"); len(sr) != 1 || !sr[0].Voided {
		t.Errorf("1003 after cancel: %+v; want voided", sr)
	}
	if d := h.doc("order", "ord_3"); d.State != schema.StateVoided {
		t.Errorf("ord_3 state %s; want voided", d.State)
	}
	m = h.mark()
	sum = h.run(reconcile.Options{})
	if h.writes(m) != 0 || len(sum.Items) != 0 {
		t.Errorf("rerun: writes %d items %+v; want none", h.writes(m), sum.Items)
	}
}

func TestRunPaymentsAndRefunds(t *testing.T) {
	h := newEngHarness(t)
	h.v.AddOrder(engTermsOrder("ord_1", "1001", 2)) // invoice 39.98
	h.v.AddOrder(engOrder("ord_2", "1002", 2))      // receipt 39.98
	h.run(reconcile.Options{})
	inv := h.byDocNumber("Invoice", "1001")
	if len(inv) != 1 || !inv[0].Balance.Equal(engDec("39.98")) {
		t.Fatalf("invoice: %+v; want one with balance 39.98", inv)
	}

	h.must(h.v.AddPayment("ord_1", velocity.Payment{ID: "pay_1", Amount: engDec("10.00"), Method: velocity.MethodCheck, Reference: "chk 12"}))
	h.must(h.v.AddPayment("ord_2", velocity.Payment{ID: "pay_2", Amount: engDec("39.98"), Method: velocity.MethodCreditCard}))
	h.must(h.v.AddRefund("ord_2", velocity.Refund{ID: "ref_1", Lines: []velocity.RefundLine{{Kind: velocity.RefundProduct,
		LineID: "ord_2-l1", Quantity: decimal.NewFromInt(1), Amount: engDec("19.99")}}}))
	h.must(h.v.AddRefund("ord_2", velocity.Refund{ID: "ref_2", CreatedAt: engStart.Add(time.Hour), Lines: []velocity.RefundLine{{Kind: velocity.RefundProduct,
		LineID: "ord_2-l1", Quantity: decimal.NewFromInt(1), Amount: engDec("19.99")}}}))

	sum := h.run(reconcile.Options{})
	want := []engItem{
		{"payment", "pay_1", "create", "Payment"},
		{"payment", "pay_2", "noop", "Payment"},
		{"refund", "ref_1", "create", "RefundReceipt"},
		{"refund", "ref_2", "create", "RefundReceipt"},
	}
	if diff := cmp.Diff(want, engItems(sum)); diff != "" {
		t.Fatalf("items (-want +got):\n%s\n%+v", diff, sum.Items)
	}
	if inv := h.byDocNumber("Invoice", "1001"); !inv[0].Balance.Equal(engDec("29.98")) {
		t.Errorf("invoice balance after payment: got %s; want 29.98", inv[0].Balance)
	}
	for _, dn := range []string{"RF-1002", "RF-1002-2"} {
		if got := h.byDocNumber("RefundReceipt", dn); len(got) != 1 {
			t.Errorf("refund receipt %s: got %d; want 1", dn, len(got))
		}
	}
	// The not-applicable payment is listed once only.
	m := h.mark()
	sum = h.run(reconcile.Options{})
	if len(sum.Items) != 0 || h.writes(m) != 0 {
		t.Errorf("rerun: items %+v writes %d; want none", sum.Items, h.writes(m))
	}
	if sum.Counts.Unchanged != 6 {
		t.Errorf("rerun unchanged: got %d; want 6", sum.Counts.Unchanged)
	}
}

func TestRunReportAsInvoice(t *testing.T) {
	h := newEngHarness(t)
	h.v.AddOrder(engOrder("ord_1", "1001", 2))
	h.run(reconcile.Options{})
	receipt := h.byDocNumber("SalesReceipt", "1001")[0]

	h.must(h.v.SetReportAsInvoice("ord_1", true))
	plan, err := h.rec.Plan(h.ctx, reconcile.Options{})
	h.must(err)
	sum := h.run(reconcile.Options{})
	want := []engItem{{"order", "ord_1", "create", "Invoice"}, {"order", "ord_1", "void", "SalesReceipt"}}
	if diff := cmp.Diff(want, engItems(sum)); diff != "" {
		t.Fatalf("items (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(engItems(plan), engItems(sum)); diff != "" {
		t.Errorf("plan vs run (-plan +run):\n%s", diff)
	}
	if got, _ := h.q.Get("SalesReceipt", receipt.ID); !got.Voided {
		t.Errorf("receipt %s not voided", receipt.ID)
	}
	if got := h.byDocNumber("Invoice", "1001"); len(got) != 1 {
		t.Errorf("invoices 1001: got %d; want 1", len(got))
	}
	d := h.doc("order", "ord_1")
	if d.QBOType != "Invoice" || d.VoidReceiptID != "" {
		t.Errorf("row: type %s receipt to void %q; want Invoice and no receipt left to void", d.QBOType, d.VoidReceiptID)
	}
	m := h.mark()
	if sum := h.run(reconcile.Options{}); len(sum.Items) != 0 || h.writes(m) != 0 {
		t.Errorf("rerun: items %+v writes %d; want none", sum.Items, h.writes(m))
	}
}

func TestRunBlockedThenLinked(t *testing.T) {
	h := newEngHarness(t)
	h.v.AddOrder(engOrder("ord_1", "1001", 1))
	o := engOrder("ord_2", "1002", 1)
	o.Lines[0].ProductID = "prod_9" // not linked
	h.v.AddOrder(o)

	sum := h.run(reconcile.Options{})
	if diff := cmp.Diff(engCounts(1, 0, 0, 0, 1, 0), sum.Counts); diff != "" {
		t.Fatalf("counts (-want +got):\n%s", diff)
	}
	var blocked reconcile.Item
	for _, it := range sum.Items {
		if it.Action == "blocked" {
			blocked = it
		}
	}
	if blocked.SourceID != "ord_2" || !contains(blocked.Reason, "prod_9") {
		t.Errorf("blocked item %+v; want ord_2 naming prod_9", blocked)
	}
	if d := h.doc("order", "ord_2"); d.State != schema.StateBlocked {
		t.Errorf("ord_2 state %s; want blocked", d.State)
	}
	// Still blocked next run (re-read by id, reported again).
	if sum := h.run(reconcile.Options{}); sum.Counts.Blocked != 1 {
		t.Errorf("second run blocked: got %d; want 1", sum.Counts.Blocked)
	}
	h.link(schema.ProductLinks, "prod_9", h.seed.Products["SKU-3"])
	sum = h.run(reconcile.Options{})
	want := []engItem{{"order", "ord_2", "create", "SalesReceipt"}}
	if diff := cmp.Diff(want, engItems(sum)); diff != "" {
		t.Errorf("after linking (-want +got):\n%s", diff)
	}
	if got := h.byDocNumber("SalesReceipt", "1002"); len(got) != 1 {
		t.Errorf("1002 receipts: got %d; want 1", len(got))
	}
}

func TestRunInvalidSourceObject(t *testing.T) {
	h := newEngHarness(t)
	h.v.AddOrder(engOrder("ord_1", "1001", 1))
	h.must(h.v.AddRawOrder([]byte(`{"id":"ord_bad","number":"1009","updated_at":"2025-09-01T10:00:00Z","total":"abc"}`)))
	sum := h.run(reconcile.Options{})
	if sum.Counts.Created != 1 || sum.Counts.Blocked != 1 {
		t.Fatalf("counts %+v; want 1 created, 1 blocked", sum.Counts)
	}
	for _, it := range sum.Items {
		if it.Action == "blocked" && (it.SourceID != "ord_bad" || it.Reason == "") {
			t.Errorf("blocked item %+v; want ord_bad with a reason", it)
		}
	}
}

func TestRunDeletedInQBOThenResync(t *testing.T) {
	h := newEngHarness(t)
	h.v.AddOrder(engOrder("ord_1", "1001", 1))
	h.run(reconcile.Options{})
	first := h.byDocNumber("SalesReceipt", "1001")[0]

	// Resync refuses while the document exists.
	if _, err := h.rec.Resync(h.ctx, "1001"); !errors.Is(err, reconcile.ErrNothingToResync) {
		t.Errorf("Resync of a live document: got %v; want ErrNothingToResync", err)
	}
	h.must(h.q.PersonDelete("SalesReceipt", first.ID))
	h.must(h.v.UpdateOrder("ord_1", func(o *velocity.Order) { o.Email = "new@example.com" }))
	sum := h.run(reconcile.Options{})
	resync := reconcile.Fix{Action: reconcile.FixResync, ID: "1001"}
	if len(sum.Items) != 1 || sum.Items[0].Action != "blocked" || !contains(sum.Items[0].Reason, "deleted in QBO; [resync 1001]") ||
		!hasReason(sum.Items[0].Reasons, reconcile.CodeDeletedInQBO, resync) {
		t.Fatalf("items %+v; want one blocked, %s, with the fix %+v rendered", sum.Items, reconcile.CodeDeletedInQBO, resync)
	}
	if d := h.doc("order", "ord_1"); d.State != schema.StateDeletedInQBO || !contains(d.LastError, "[resync 1001]") {
		t.Errorf("state %s, last error %q; want deleted_in_qbo with the fix rendered", d.State, d.LastError)
	} else if rs, err := reconcile.DecodeReasons(d.LastReasons); err != nil || !hasReason(rs, reconcile.CodeDeletedInQBO, resync) {
		t.Errorf("last reasons %s (%v); want %s with the fix %+v", d.LastReasons, err, reconcile.CodeDeletedInQBO, resync)
	}
	// Not re-created by later runs.
	m := h.mark()
	sum = h.run(reconcile.Options{})
	if h.writes(m) != 0 || sum.Counts.Blocked != 1 {
		t.Errorf("rerun: writes %d blocked %d; want 0, 1", h.writes(m), sum.Counts.Blocked)
	}
	if _, err := h.rec.Resync(h.ctx, "1001"); err != nil {
		t.Fatalf("Resync: %v", err)
	}
	sum = h.run(reconcile.Options{})
	if diff := cmp.Diff([]engItem{{"order", "ord_1", "create", "SalesReceipt"}}, engItems(sum)); diff != "" {
		t.Errorf("after resync (-want +got):\n%s", diff)
	}
	live := h.byDocNumber("SalesReceipt", "1001")
	if len(live) != 1 || live[0].ID == first.ID || !contains(live[0].PrivateNote, ":g1]") {
		t.Errorf("re-created: %+v; want one new receipt with generation 1", live)
	}
}

func TestSummaryJSON(t *testing.T) {
	s := reconcile.Summary{RunID: "r1", Mode: "full", StartedAt: engStart, FinishedAt: engStart,
		Items: []reconcile.Item{{Kind: "order", SourceID: "o1", OrderNumber: "1", Action: "create", QBOType: "Invoice", QBOID: "5", DocNumber: "1"}}}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"run_id":"r1","mode":"full","started_at":"2025-09-01T12:00:00Z","finished_at":"2025-09-01T12:00:00Z",` +
		`"counts":{"created":0,"updated":0,"voided":0,"unchanged":0,"blocked":0,"failed":0},` +
		`"items":[{"kind":"order","source_id":"o1","order_number":"1","action":"create","qbo_type":"Invoice","qbo_id":"5","doc_number":"1","reason":""}]}`
	if string(b) != want {
		t.Errorf("JSON:\ngot  %s\nwant %s", b, want)
	}
}

func TestRunSourceUnavailable(t *testing.T) {
	h := newEngHarness(t)
	h.v.Close()
	_, err := h.rec.Run(h.ctx, reconcile.Options{})
	if !errors.Is(err, reconcile.ErrSourceUnavailable) {
		t.Fatalf("Run with Velocity down: got %v; want ErrSourceUnavailable", err)
	}
	runs, _ := h.store.LastRuns(h.ctx, 1)
	if len(runs) != 1 || runs[0].Status != schema.RunFailed {
		t.Errorf("run recorded: %+v; want one failed", runs)
	}
}

func TestRunQBOAuthRejected(t *testing.T) {
	h := newEngHarness(t)
	h.v.AddOrder(engOrder("ord_1", "1001", 1))
	h.q.RevokeAll()
	_, err := h.rec.Run(h.ctx, reconcile.Options{})
	if !errors.Is(err, reconcile.ErrQBOAuth) {
		t.Fatalf("Run with revoked tokens: got %v; want ErrQBOAuth", err)
	}
}

// TestRunStaleSyncToken: a person edited the document in QBO, so the
// ledger's SyncToken is stale; the update reads the current one and
// succeeds on the single retry.
func TestRunStaleSyncToken(t *testing.T) {
	h := newEngHarness(t)
	h.v.AddOrder(engOrder("ord_1", "1001", 1))
	h.run(reconcile.Options{})
	id := h.doc("order", "ord_1").QBOID
	h.must(h.q.PersonEdit("SalesReceipt", id, func(m map[string]any) { m["CustomerMemo"] = map[string]any{"value": "hi"} }))
	h.must(h.v.UpdateOrder("ord_1", func(o *velocity.Order) {
		o.Lines[0].Quantity = decimal.NewFromInt(2)
		o.Total = engDec("39.98")
	}))
	sum := h.run(reconcile.Options{})
	if diff := cmp.Diff([]engItem{{"order", "ord_1", "update", "SalesReceipt"}}, engItems(sum)); diff != "" {
		t.Fatalf("items (-want +got):\n%s\n%+v", diff, sum.Items)
	}
	if sr := h.byDocNumber("SalesReceipt", "1001"); len(sr) != 1 || !sr[0].TotalAmt.Equal(engDec("39.98")) {
		t.Errorf("after update: %+v; want one receipt of 39.98", sr)
	}
	if d := h.doc("order", "ord_1"); d.SyncToken != "2" || d.State != schema.StateSent {
		t.Errorf("row: token %s state %s; want 2, sent", d.SyncToken, d.State)
	}
}

// TestRunSinceWindow: since mode reads only orders updated in the window,
// plus the problem rows by id.
func TestRunSinceWindow(t *testing.T) {
	h := newEngHarness(t)
	old := engOrder("ord_1", "1001", 1)
	old.UpdatedAt = engStart.Add(-48 * time.Hour)
	h.v.AddOrder(old)
	recent := engOrder("ord_2", "1002", 1)
	recent.UpdatedAt = engStart
	h.v.AddOrder(recent)
	sum := h.run(reconcile.Options{Mode: reconcile.ModeSince, Since: engStart.Add(-time.Hour)})
	if diff := cmp.Diff([]engItem{{"order", "ord_2", "create", "SalesReceipt"}}, engItems(sum)); diff != "" {
		t.Errorf("since items (-want +got):\n%s", diff)
	}
	sum = h.run(reconcile.Options{Mode: reconcile.ModeFull})
	if diff := cmp.Diff([]engItem{{"order", "ord_1", "create", "SalesReceipt"}}, engItems(sum)); diff != "" {
		t.Errorf("full items (-want +got):\n%s", diff)
	}
}

// TestRunQBORejects: a write QBO rejects for the document itself is a
// failed item with the code qbo_refused_document, QBO's fault as its text
// and retry-or-skip as its fix; the ledger row says the same and that it
// needs a person.
func TestRunQBORejects(t *testing.T) {
	h := newEngHarness(t)
	h.v.AddOrder(engOrder("ord_1", "1001", 1))
	h.q.Inject(qbotest.Injection{Match: func(c *qbotest.Call) bool { return c.Method == "POST" && c.Operation != "token" },
		Status: 400, Body: []byte(`{"Fault":{"Error":[{"Message":"Invalid Reference Id","Detail":"Invalid Reference Id : Item","code":"2500"}],"type":"ValidationFault"}}`)})
	sum := h.run(reconcile.Options{})
	if diff := cmp.Diff([]engItem{{"order", "ord_1", "failed", "SalesReceipt"}}, engItems(sum)); diff != "" {
		t.Fatalf("items (-want +got):\n%s", diff)
	}
	it := sum.Items[0]
	text := strings.TrimSuffix(it.Reason, "; [retry_or_skip 1001]")
	want := reconcile.Reasons{{Code: reconcile.CodeQBORefusedDocument, Subject: reconcile.Subject{Kind: reconcile.SubjectOrder, ID: "1001"}, Text: text,
		Fix: reconcile.Fix{Action: reconcile.FixRetryOrSkip, ID: "1001"}}}
	if diff := cmp.Diff(want, it.Reasons); diff != "" || !contains(it.Reason, "Invalid Reference Id") || text == it.Reason {
		t.Errorf("reason %q, reasons (-want +got):\n%s", it.Reason, diff)
	}
	d := h.doc("order", "ord_1")
	if d.State != schema.StateFailed || d.LastError != it.Reason || !d.NeedsPerson || d.FailedRuns != 1 {
		t.Errorf("ledger: state %s, last error %q, needs person %v, failed runs %d; want failed, %q, true, 1", d.State, d.LastError, d.NeedsPerson, d.FailedRuns, it.Reason)
	}
	if got, err := reconcile.DecodeReasons(d.LastReasons); err != nil || cmp.Diff(want, got) != "" {
		t.Errorf("ledger: last reasons %s (%v); want %+v", d.LastReasons, err, want)
	}
}

// TestRunEqualInstalments: a second payment of the same amount on the same
// invoice is sent, not taken for the first one (which carries velqbo's
// marker for another payment).
func TestRunEqualInstalments(t *testing.T) {
	h := newEngHarness(t)
	h.v.AddOrder(engTermsOrder("ord_1", "1001", 2)) // invoice 39.98
	h.run(reconcile.Options{})
	h.must(h.v.AddPayment("ord_1", velocity.Payment{ID: "pay_1", Amount: engDec("10.00"), Method: velocity.MethodCheck}))
	h.run(reconcile.Options{})
	h.must(h.v.AddPayment("ord_1", velocity.Payment{ID: "pay_2", Amount: engDec("10.00"), Method: velocity.MethodCheck}))
	sum := h.run(reconcile.Options{})
	want := []engItem{{"payment", "pay_2", "create", "Payment"}}
	if diff := cmp.Diff(want, engItems(sum)); diff != "" {
		t.Fatalf("items (-want +got):\n%s\n%+v", diff, sum.Items)
	}
	if inv := h.byDocNumber("Invoice", "1001"); !inv[0].Balance.Equal(engDec("19.98")) {
		t.Errorf("invoice balance after two instalments: got %s; want 19.98", inv[0].Balance)
	}
}

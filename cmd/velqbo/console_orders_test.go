package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// consoleOrder is an approved order of the harness store's first customer
// (linked by prepared) for one of its first product: a SalesReceipt.
func consoleOrder(h *consoleHarness, id, number string) *velocity.Order {
	approved := time.Now().Add(-2 * time.Hour)
	c, p := h.data.Customers[0], h.data.Products[0]
	addr := velocity.Address{Name: "Amy " + hostile, Company: "Smith " + hostile, Line1: "1 Main St", City: "Springfield",
		State: "IL", PostalCode: "62701", Country: "US"}
	o := &velocity.Order{
		ID: id, Number: number, CustomerID: c.ID, Status: velocity.StatusAwaitingFulfillment,
		ApprovedAt: &approved, PaymentMethod: velocity.MethodCreditCard, Currency: "USD", Email: "amy@example.com",
		BillingAddress: addr, ShippingAddress: addr,
		Lines: []velocity.OrderLine{{ID: id + "-l1", ProductID: p.ID, SKU: p.SKU, Name: p.Name,
			Quantity: decimal.NewFromInt(2), UnitPrice: decimal.RequireFromString("12.50")}},
		CreatedAt: approved.Add(-time.Hour), UpdatedAt: approved,
	}
	o.Total = o.ComputedTotal()
	return o
}

// ordersConsole is a prepared console whose store also holds orders 9001
// (a SalesReceipt), 9002 (on terms: an Invoice) and 9003 (for a product
// left unlinked: blocked), after one run.
func ordersConsole(t *testing.T) *consoleHarness {
	t.Helper()
	h := newConsole(t, withOrders(3), prepared("prod_unlinked"))
	h.velocity.AddProduct(velocity.Product{ID: "prod_unlinked", SKU: "SKU-UNL", Name: "Sprocket " + hostile, Price: decimal.RequireFromString("3.00"), Active: true})
	h.velocity.AddOrder(consoleOrder(h, "o9001", "9001"))
	terms := consoleOrder(h, "o9002", "9002")
	terms.PaymentMethod, terms.PaymentTerms = velocity.MethodTerms, &velocity.PaymentTerms{NetDays: 30}
	h.velocity.AddOrder(terms)
	blocked := consoleOrder(h, "o9003", "9003")
	blocked.Lines[0].ProductID, blocked.Lines[0].SKU = "prod_unlinked", "SKU-UNL"
	h.velocity.AddOrder(blocked)
	h.Run("", "run")
	return h
}

// orderRow is the ledger row of the order with Velocity id id.
func orderRow(t *testing.T, h *consoleHarness, id string) schema.Document {
	t.Helper()
	d, err := h.store.GetDocument(t.Context(), "order", id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func wantBody(t *testing.T, r *consoleResponse, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(r.Body, s) {
			t.Errorf("page without %q:\n%s", s, r.Body)
		}
	}
}

func TestConsoleOrdersProtected(t *testing.T) {
	t.Parallel()
	h := ordersConsole(t)
	for _, path := range []string{"/orders", "/orders/9001"} {
		h.checkProtected(t, http.MethodGet, path, nil, false)
	}
	for _, tc := range []struct {
		path string
		form url.Values
	}{
		{"/orders/9001/report-as-invoice", url.Values{"confirm": {"yes"}}},
		{"/orders/9003/retry", nil},
		{"/orders/9003/skip", url.Values{"reason": {"paid by hand"}}},
		{"/orders/9003/adopt", nil},
		{"/orders/9001/resync", nil},
	} {
		t.Run(tc.path, func(t *testing.T) {
			h.checkProtected(t, http.MethodPost, tc.path, tc.form, true)
		})
	}
	if d := orderRow(t, h, "o9001"); d.InvoiceDecidedBy != "" || d.Generation != 0 {
		t.Errorf("9001 after refused posts: decided by %q, generation %d; want untouched", d.InvoiceDecidedBy, d.Generation)
	}
	if d := orderRow(t, h, "o9003"); d.State != schema.StateBlocked {
		t.Errorf("9003 after refused posts: state %s; want blocked", d.State)
	}
}

func TestConsoleOrdersList(t *testing.T) {
	t.Parallel()
	h := ordersConsole(t)
	c := h.login(t, "viewer")
	for _, tc := range []struct {
		name, path string
		code       int
		want       []string
		notWant    []string
	}{
		{"All", "/orders", http.StatusOK, []string{`href="/orders/9001"`, `href="/orders/9002"`, `href="/orders/9003"`, "newest first"}, nil},
		{"Search", "/orders?q=9002", http.StatusOK, []string{`href="/orders/9002"`, "Orders 1–1 of 1"}, []string{`href="/orders/9001"`}},
		{"Blocked", "/orders?state=blocked", http.StatusOK, []string{`href="/orders/9003"`, `<option value="blocked" selected>`}, []string{`href="/orders/9001"`}},
		{"SentOpensQBO", "/orders?q=9001&state=sent", http.StatusOK, []string{`href="/orders/9001"`, "SalesReceipt 9001", "salesreceipt?txnId="}, nil},
		{"NoMatch", "/orders?q=nothing-like-it", http.StatusOK, []string{`id="orders-empty"`, "No order matches", `Show every order`}, nil},
		{"BadState", "/orders?state=lost", http.StatusBadRequest, []string{"There is no state"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.get(t, tc.path).wantCode(t, tc.code)
			wantBody(t, r, tc.want...)
			for _, s := range tc.notWant {
				if strings.Contains(r.Body, s) {
					t.Errorf("page with %q", s)
				}
			}
		})
	}
	t.Run("Empty", func(t *testing.T) {
		e := newConsole(t, withOrders(0))
		r := e.login(t, "viewer").get(t, "/orders").wantCode(t, http.StatusOK)
		wantBody(t, r, "The ledger holds no order yet", `href="/runs"`)
	})
	t.Run("Paging", func(t *testing.T) {
		var rows []schema.Document
		for i := range 60 {
			n := 70000 + i
			rows = append(rows, schema.Document{Kind: "order", SourceID: "p" + itoa(n), OrderNumber: itoa(n), State: schema.StateSent,
				FirstSeenAt: time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC)})
		}
		e := newConsole(t, withOrders(0))
		if err := e.store.ImportDocuments(t.Context(), rows); err != nil {
			t.Fatal(err)
		}
		v := e.login(t, "viewer")
		p1 := v.get(t, "/orders?state=sent").wantCode(t, http.StatusOK)
		wantBody(t, p1, "Orders 1–50 of 60", `href="/orders/70059"`, `id="next-page"`, `href="/orders?page=2&amp;state=sent"`)
		p2 := v.get(t, "/orders?page=2&state=sent").wantCode(t, http.StatusOK)
		wantBody(t, p2, "Orders 51–60 of 60", `href="/orders/70000"`, `id="prev-page"`)
		if strings.Contains(p2.Body, `id="next-page"`) {
			t.Errorf("last page links to a next one")
		}
	})
}

func itoa(n int) string { return decimal.NewFromInt(int64(n)).String() }

func TestConsoleOrderPage(t *testing.T) {
	t.Parallel()
	h := ordersConsole(t)
	shipped := time.Now().Add(-time.Hour)
	if err := h.velocity.AddShipment("o9001", velocity.Shipment{ID: "sh_1", ShippedAt: &shipped, Carrier: "UPS " + hostile, TrackingNumber: "1Z999",
		Items: []velocity.ShipmentItem{{LineID: "o9001-l1", Quantity: decimal.NewFromInt(2)}}}); err != nil {
		t.Fatal(err)
	}
	receipt := orderRow(t, h, "o9001").QBOID
	v := h.login(t, "viewer")
	r := v.get(t, "/orders/9001").wantCode(t, http.StatusOK)
	wantBody(t, r, "Order 9001", "SalesReceipt", "salesreceipt?txnId="+receipt, "25.00 USD", "1Z999", "the next run sends its tracking",
		"update SalesReceipt 9001", "Only an admin can change")
	if strings.Contains(r.Body, hostile) || !strings.Contains(r.Body, "&lt;script&gt;") {
		t.Errorf("hostile name not escaped:\n%s", r.Body)
	}
	if strings.Contains(r.Body, `id="form-report-as-invoice"`) {
		t.Errorf("a viewer is offered Report as Invoice")
	}
	h.Run("", "run")
	r = v.get(t, "/orders/9001").wantCode(t, http.StatusOK)
	wantBody(t, r, "on the QuickBooks document", "Nothing to send")

	blocked := v.get(t, "/orders/9003").wantCode(t, http.StatusOK)
	wantBody(t, blocked, "prod_unlinked", `href="/products/prod_unlinked"`, "Link product prod_unlinked to a QuickBooks item")
	v.get(t, "/orders/4242").wantCode(t, http.StatusNotFound)
}

func TestConsoleReportAsInvoice(t *testing.T) {
	t.Parallel()
	h := ordersConsole(t)
	receipt := orderRow(t, h, "o9001").QBOID
	a := h.login(t, "admin")
	page := a.get(t, "/orders/9001").wantCode(t, http.StatusOK)
	wantBody(t, page, `id="form-report-as-invoice"`, `id="confirm-invoice"`, "void SalesReceipt "+receipt)

	r := a.post(t, "/orders/9001/report-as-invoice", nil).wantCode(t, http.StatusUnprocessableEntity)
	wantBody(t, r, "Tick the box to confirm")
	if d := orderRow(t, h, "o9001"); d.InvoiceDecidedBy != "" {
		t.Fatalf("decided without confirmation by %q", d.InvoiceDecidedBy)
	}

	r = a.post(t, "/orders/9001/report-as-invoice", url.Values{"confirm": {"yes"}}).wantCode(t, http.StatusSeeOther)
	if r.Location() != "/orders/9001" {
		t.Errorf("redirect to %q; want /orders/9001", r.Location())
	}
	if d := orderRow(t, h, "o9001"); d.InvoiceDecidedBy != "admin" {
		t.Fatalf("decided by %q; want admin", d.InvoiceDecidedBy)
	}
	after := a.get(t, "/orders/9001").wantCode(t, http.StatusOK)
	wantBody(t, after, "is reported as an Invoice from the next run on", "decided by admin", "create Invoice 9001", "void SalesReceipt")

	h.Run("", "run")
	if e, _ := h.qbo.Get("SalesReceipt", receipt); !e.Voided {
		t.Errorf("receipt %s not voided after the run", receipt)
	}
	if inv := liveByDocNumber(h.qbo, "Invoice", "9001"); inv != 1 {
		t.Errorf("invoices 9001: got %d; want 1", inv)
	}
	done := a.get(t, "/orders/9001").wantCode(t, http.StatusOK)
	wantBody(t, done, "Not offered:", "invoice?txnId=")

	terms := a.get(t, "/orders/9002").wantCode(t, http.StatusOK)
	wantBody(t, terms, "Not offered: the order is on terms (net 30 days)")
	r = a.post(t, "/orders/9002/report-as-invoice", url.Values{"confirm": {"yes"}}).wantCode(t, http.StatusConflict)
	wantBody(t, r, "on terms (net 30 days)")
}

func liveByDocNumber(q *qbotest.Server, typ, dn string) int {
	n := 0
	for _, e := range q.Entities(typ) {
		if e.DocNumber == dn && !e.Voided && !e.Deleted {
			n++
		}
	}
	return n
}

func TestConsoleOrderSkipRetry(t *testing.T) {
	t.Parallel()
	h := ordersConsole(t)
	a := h.login(t, "admin")
	wantBody(t, a.get(t, "/orders/9003").wantCode(t, http.StatusOK), `id="fix-skip"`, `id="skip-reason"`)

	r := a.post(t, "/orders/9003/skip", url.Values{"reason": {"  "}}).wantCode(t, http.StatusUnprocessableEntity)
	wantBody(t, r, "Say why the order is set aside")
	r = a.post(t, "/orders/9003/skip", url.Values{"reason": {"sold by hand " + hostile}}).wantCode(t, http.StatusSeeOther)
	d := orderRow(t, h, "o9003")
	if d.State != schema.StateSkipped || d.SkippedBy != "admin" || d.SkipReason != "sold by hand "+hostile {
		t.Fatalf("after skip: state %s by %q reason %q; want skipped by admin", d.State, d.SkippedBy, d.SkipReason)
	}
	page := a.get(t, "/orders/9003").wantCode(t, http.StatusOK)
	wantBody(t, page, "skipped by admin", `id="fix-retry"`)
	if strings.Contains(page.Body, hostile) {
		t.Errorf("skip reason not escaped")
	}

	// Linked now, but skipped: the run sends nothing for it.
	item := h.qbo.AddItem("Sprocket", "SKU-UNL")
	h.MustRun(exitOK, "", "products", "link", "prod_unlinked", item)
	h.Run("", "run")
	if n := liveByDocNumber(h.qbo, "SalesReceipt", "9003"); n != 0 {
		t.Fatalf("receipts 9003 while skipped: got %d; want 0", n)
	}

	a.post(t, "/orders/9003/retry", nil).wantCode(t, http.StatusSeeOther)
	if d := orderRow(t, h, "o9003"); d.State != schema.StatePending {
		t.Errorf("after retry: state %s; want pending", d.State)
	}
	h.Run("", "run")
	if n := liveByDocNumber(h.qbo, "SalesReceipt", "9003"); n != 1 {
		t.Errorf("receipts 9003 after retry and a run: got %d; want 1", n)
	}
	r = a.post(t, "/orders/9001/retry", nil).wantCode(t, http.StatusConflict)
	wantBody(t, r, "nothing to retry")
}

func TestConsoleOrderResync(t *testing.T) {
	t.Parallel()
	h := ordersConsole(t)
	receipt := orderRow(t, h, "o9001").QBOID
	if err := h.qbo.PersonDelete("SalesReceipt", receipt); err != nil {
		t.Fatal(err)
	}
	h.Run("", "verify", "--full")
	if d := orderRow(t, h, "o9001"); d.State != schema.StateDeletedInQBO {
		t.Fatalf("after verify: state %s; want deleted_in_qbo", d.State)
	}
	a := h.login(t, "admin")
	wantBody(t, a.get(t, "/orders/9001").wantCode(t, http.StatusOK), `id="fix-resync"`, "Re-create in QuickBooks")
	a.post(t, "/orders/9001/resync", nil).wantCode(t, http.StatusSeeOther)
	if d := orderRow(t, h, "o9001"); d.Generation != 1 || d.State != schema.StatePending {
		t.Errorf("after resync: generation %d state %s; want 1, pending", d.Generation, d.State)
	}
	h.Run("", "run")
	if n := liveByDocNumber(h.qbo, "SalesReceipt", "9001"); n != 1 {
		t.Errorf("receipts 9001 after the run: got %d; want 1 (re-created)", n)
	}
}

func TestConsoleOrderAdopt(t *testing.T) {
	t.Parallel()
	h := ordersConsole(t)
	o := consoleOrder(h, "o9004", "9004")
	h.velocity.AddOrder(o)
	id, err := h.qbo.Add("SalesReceipt", map[string]any{"DocNumber": "9004", "TotalAmt": "25.00",
		"CustomerRef": map[string]any{"value": orderRowCustomer(t, h)}, "PrivateNote": "made by hand"})
	if err != nil {
		t.Fatal(err)
	}
	h.Run("", "run")
	if d := orderRow(t, h, "o9004"); d.State != schema.StateBlocked {
		t.Fatalf("9004: state %s; want blocked (exists in QBO unmarked)", d.State)
	}
	a := h.login(t, "admin")
	wantBody(t, a.get(t, "/orders/9004").wantCode(t, http.StatusOK), `id="fix-adopt"`, `href="#fix-adopt"`)
	r := a.post(t, "/orders/9004/adopt", nil).wantCode(t, http.StatusSeeOther)
	_ = r
	if d := orderRow(t, h, "o9004"); d.QBOID != id || d.State != schema.StateSent {
		t.Errorf("after adopt: %s %s; want sent, QBO id %s", d.State, d.QBOID, id)
	}
	if n := liveByDocNumber(h.qbo, "SalesReceipt", "9004"); n != 1 {
		t.Errorf("receipts 9004: got %d; want 1", n)
	}
}

// orderRowCustomer is the QBO customer linked to the harness's first
// Velocity customer.
func orderRowCustomer(t *testing.T, h *consoleHarness) string {
	t.Helper()
	ls, err := h.store.Links(t.Context(), schema.CustomerLinks, []string{h.data.Customers[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	return ls[h.data.Customers[0].ID].QBOID
}

// TestConsoleOrderRunInProgress: while a run holds the run lease an action
// changes nothing and says why.
func TestConsoleOrderRunInProgress(t *testing.T) {
	t.Parallel()
	h := ordersConsole(t)
	if _, err := h.store.AcquireLease(t.Context(), runLeaseName, "velqbo run pid 7 on host", time.Minute); err != nil {
		t.Fatal(err)
	}
	a := h.login(t, "admin")
	for _, tc := range []struct {
		path string
		form url.Values
	}{
		{"/orders/9001/report-as-invoice", url.Values{"confirm": {"yes"}}},
		{"/orders/9003/skip", url.Values{"reason": {"later"}}},
	} {
		r := a.post(t, tc.path, tc.form).wantCode(t, http.StatusConflict)
		wantBody(t, r, "A run is in progress", "velqbo run pid 7 on host")
	}
	if d := orderRow(t, h, "o9001"); d.InvoiceDecidedBy != "" {
		t.Errorf("decided by %q while a run held the lease", d.InvoiceDecidedBy)
	}
	if d := orderRow(t, h, "o9003"); d.State != schema.StateBlocked {
		t.Errorf("9003 state %s while a run held the lease; want blocked", d.State)
	}
}

package main

// The console in a real browser: headless Chromium drives the console on the
// sandbox the way a bookkeeper does (issue 12's scenarios). One Chromium
// serves every subtest; each subtest has its own tab and cookies.

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

func TestConsoleBrowser(t *testing.T) {
	b := startTestBrowser(t)

	t.Run("harness", func(t *testing.T) { testBrowserHarness(t, b) })
	t.Run("LogIn", func(t *testing.T) { testBrowserLogIn(t, b) })
	t.Run("ConnectQuickBooks", func(t *testing.T) { testBrowserConnect(t, b) })
	t.Run("Settings", func(t *testing.T) { testBrowserSettings(t, b) })
	t.Run("LinkCustomerWithSelector", func(t *testing.T) { testBrowserLinkCustomer(t, b) })
	t.Run("CreateCustomer", func(t *testing.T) { testBrowserCreateCustomer(t, b) })
	t.Run("SyncProfileKeepingQBO", func(t *testing.T) { testBrowserSyncKeepQBO(t, b) })
	t.Run("LinkProduct", func(t *testing.T) { testBrowserLinkProduct(t, b) })
	t.Run("ReportAsInvoice", func(t *testing.T) { testBrowserReportAsInvoice(t, b) })
	t.Run("BlockedOrderFix", func(t *testing.T) { testBrowserBlockedOrderFix(t, b) })
	t.Run("RunNow", func(t *testing.T) { testBrowserRunNow(t, b) })
	t.Run("Accessibility", func(t *testing.T) { testBrowserAccessibility(t, b) })
}

// loginTab opens a tab on h's console and logs in through the login form
// as a user named after role ("admin" or "viewer"), created on first use.
func (b *testBrowser) loginTab(t *testing.T, h *consoleHarness, role string) *tab {
	t.Helper()
	h.addUser(t, role, role)
	tb := b.newTab(t, h.srv.URL)
	tb.open("/")
	tb.fill("#name", role)
	tb.fill("#password", consolePassword)
	tb.submit("#login")
	if got := tb.location(); got != "/" {
		tb.fatal("log in as "+role, fmt.Errorf("landed on %s; want /", got))
	}
	return tb
}

// wantA11y fails the test with every accessibility problem of the page
// as it is now (see a11yProblems).
func (tb *tab) wantA11y() {
	tb.t.Helper()
	if p := tb.a11yProblems(); len(p) > 0 {
		tb.t.Errorf("accessibility of %s:\n%s", tb.location(), strings.Join(p, "\n"))
	}
}

// testBrowserLogIn: every page sends a logged-out browser to the login
// form, a wrong password is refused there, the right one lands on the page
// asked for, and logging out ends the session.
func testBrowserLogIn(t *testing.T, b *testBrowser) {
	h := newConsole(t, withOrders(0))
	h.addUser(t, "admin", "admin")
	tb := b.newTab(t, h.srv.URL)
	tb.open("/customers")
	if got := tb.location(); !strings.HasPrefix(got, "/login") {
		t.Fatalf("logged out, /customers: at %s; want the login page", got)
	}
	tb.wantA11y()
	tb.fill("#name", "admin")
	tb.fill("#password", "not the password")
	ctx, cancel := context.WithTimeout(tb.ctx, browserStepTimeout)
	defer cancel()
	// A refused login answers 401 (or 429 when slowed): not a 200 page.
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("#login"), chromedp.NodeVisible)); err != nil {
		tb.fatal("submit a wrong password", err)
	}
	if msg := tb.text("#login-error"); msg == "" {
		t.Errorf("wrong password: the login error is empty")
	}
	tb.fill("#name", "admin")
	tb.fill("#password", consolePassword)
	tb.submit("#login")
	if got, want := tb.location(), "/customers"; got != want {
		t.Errorf("after login: at %s; want %s (the page asked for)", got, want)
	}
	tb.wantText("Customers", "Log out")
	tb.submit("#logout")
	tb.open("/customers")
	if got := tb.location(); !strings.HasPrefix(got, "/login") {
		t.Errorf("after logout, /customers: at %s; want the login page", got)
	}
}

// testBrowserConnect: "Log in to QuickBooks" on Integrations leads through
// qbotest's consent page back to the console's callback, which stores the
// connection; Integrations then shows the company.
func testBrowserConnect(t *testing.T, b *testBrowser) {
	h := newConsole(t, withOrders(0), notConnected())
	tb := b.loginTab(t, h, "admin")
	tb.open("/integrations")
	tb.wantA11y()
	if got := tb.text("#qbo-state"); !strings.Contains(got, "Not connected") {
		t.Errorf("before: state %q; want Not connected", got)
	}
	tb.submit("#connect-qbo")
	if got := tb.location(); !strings.HasPrefix(got, h.qbo.AuthURL()) {
		t.Fatalf("after Log in to QuickBooks: at %s; want Intuit's consent page %s", got, h.qbo.AuthURL())
	}
	if got, want := tb.text("#realm"), h.qbo.Realm(); got != want {
		t.Errorf("consent page: realm %q; want %q", got, want)
	}
	tb.submit("#connect")
	if got := tb.location(); !strings.HasPrefix(got, "/integrations/callback?") {
		t.Fatalf("after Connect: at %s; want the console's callback", got)
	}
	if got := tb.text("#callback-result"); !strings.Contains(got, "Connected to QuickBooks company "+h.qbo.Realm()) {
		t.Errorf("callback: %q; want it to say the company is connected", got)
	}
	if diff := cmp.Diff([]string{h.qbo.Realm()}, h.tokenRealms(t)); diff != "" {
		t.Errorf("stored connections (-want +got):\n%s", diff)
	}
	tb.submit("#continue")
	if got := tb.text("#qbo-state"); !strings.Contains(got, "Connected") || strings.Contains(got, "Not") {
		t.Errorf("after: state %q; want Connected", got)
	}
	if got := tb.text("#qbo-realm"); got != h.qbo.Realm() {
		t.Errorf("after: realm %q; want %q", got, h.qbo.Realm())
	}
	tb.wantA11y()
}

// testBrowserSettings: the settings' dropdowns list the company's records;
// picked by name and saved, they are what the ledger holds.
func testBrowserSettings(t *testing.T, b *testBrowser) {
	h := newConsole(t, withOrders(0))
	tb := b.loginTab(t, h, "admin")
	tb.open("/settings")
	tb.wantA11y()
	picks := []struct{ key, label, id string }{
		{"deposit_account", "Undeposited Funds", h.seed.Accounts["Undeposited Funds"]},
		{"refund_account", "Refunds", h.seed.Accounts["Refunds"]},
		{"discount_account", "Discounts given", h.seed.Accounts["Discounts given"]},
		{"shipping_item", "Shipping", h.seed.Items["Shipping"]},
		{"handling_item", "Handling", h.seed.Items["Handling"]},
		{"tax_item", "Sales Tax", h.seed.Items["Sales Tax"]},
		{"custom_item", "Custom Amount", h.seed.Items["Custom Amount"]},
		{"payment_method.credit_card", "Credit Card", h.seed.PaymentMethods["Credit Card"]},
		{"payment_method.cash", "Cash", h.seed.PaymentMethods["Cash"]},
	}
	for _, p := range picks {
		tb.choose("#setting-"+strings.ReplaceAll(p.key, ".", "-"), p.label)
	}
	// A date field's typing order is the browser's locale; the value is not.
	tb.do("set the start date", chromedp.SetValue(chromedp.CSS("#setting-start_date"), "2026-12-01"))
	tb.submit("#save-settings")
	if tb.has("#settings-error") || tb.has(".field-error") {
		t.Fatalf("save refused: %s", tb.bodyText())
	}
	got := h.storedSettings(t)
	want := map[string]string{"start_date": "2026-12-01"}
	for _, p := range picks {
		want[p.key] = p.id
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("stored %s = %q; want %q", k, got[k], v)
		}
	}
}

// testBrowserHarness checks the harness itself on a plain page: a form
// filled and submitted through the browser arrives as typed, and the
// accessibility checks see a missing label, poor contrast, a missing focus
// ring and a page too wide (so a clean console page means something).
func testBrowserHarness(t *testing.T, b *testBrowser) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><html lang="en"><title>form</title>
<form method="post" action="/done">
<label for="name">Name</label> <input id="name" name="name">
<label for="acct">Account</label> <select id="acct" name="acct"><option value="">choose…</option><option value="35">Checking (Bank)</option><option value="86">Discounts (Income)</option></select>
<button id="save" type="submit">Save</button>
</form></html>`)
	})
	mux.HandleFunc("POST /done", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><html lang="en"><title>done</title><p id="got">%s</p></html>`,
			html.EscapeString(r.PostFormValue("name")+"|"+r.PostFormValue("acct")))
	})
	mux.HandleFunc("GET /bad", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><html lang="en"><title>bad</title>
<style>a:focus { outline: none; } .faint { color: #bbb; }</style>
<input id="nolabel"> <p class="faint">faint text</p> <a id="link" href="/">home</a>
<div style="width: 2000px">wide</div></html>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	tb := b.newTab(t, srv.URL)
	tb.open("/")
	if got := tb.a11yProblems(); len(got) != 0 {
		t.Errorf("a11yProblems on a clean page = %q; want none", got)
	}
	if got := tb.focusProblems(5); len(got) != 0 {
		t.Errorf("focusProblems on a clean page = %q; want none", got)
	}
	tb.fill("#name", `Ada <Lovelace> & Co`)
	tb.choose("#acct", "Discounts")
	tb.submit("#save")
	if got, want := tb.text("#got"), "Ada <Lovelace> & Co|86"; got != want {
		t.Errorf("submitted form: got %q; want %q", got, want)
	}
	if got, want := tb.location(), "/done"; got != want {
		t.Errorf("location after submit: got %q; want %q", got, want)
	}

	tb.open("/bad")
	got := tb.a11yProblems()
	var kinds []string
	for _, p := range got {
		kinds = append(kinds, strings.SplitN(p, ":", 2)[0])
	}
	want := []string{"form control without a label", "contrast 1.92", "page is 2008 px wide in a 1280 px viewport (widest"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("a11yProblems on a bad page (-want +got):\n%s\nall: %q", diff, got)
	}
	if got := tb.focusProblems(3); len(got) != 1 || !strings.Contains(got[0], "a#link") {
		t.Errorf("focusProblems on a bad page = %q; want one, for a#link", got)
	}
}

// testBrowserLinkCustomer: on a customer's page the bookkeeper types in the
// QuickBooks selector, the matching customers appear (a hostile name
// escaped), and Link links the one picked.
func testBrowserLinkCustomer(t *testing.T, b *testBrowser) {
	h := newConsole(t, withOrders(0))
	vc := harborCustomer()
	h.velocity.AddCustomer(vc)
	match := h.qbo.AddCustomer("Harbor Lights", "accounts@harbor.example")
	evil := h.qbo.AddCustomer(hostile+" Harbor", "evil@example.com")
	tb := b.loginTab(t, h, "admin")
	tb.open("/customers?filter=unlinked")
	tb.submit(`a[href="/customers/` + vc.ID + `"]`)
	tb.wantText("Not linked")
	tb.wantA11y()
	tb.fill("#qbo-search", "harbor")
	tb.submit("#qbo-search-submit")
	tb.do("wait for the results", chromedp.WaitVisible(chromedp.CSS("#link-"+evil)))
	if got := tb.text("#qbo-results"); !strings.Contains(got, hostile+" Harbor") {
		t.Errorf("results %q; want the hostile name shown as text", got)
	}
	if tb.has("#qbo-results script") {
		t.Errorf("a QuickBooks name became a script element")
	}
	tb.submit("#link-" + match)
	if got := tb.text("#linked"); !strings.Contains(got, "Linked to Harbor Lights") {
		t.Errorf("after Link: %q; want Linked to Harbor Lights", got)
	}
	if l := h.linkOf(t, schema.CustomerLinks, vc.ID); l.QBOID != match || l.Method != schema.LinkManual {
		t.Errorf("ledger link: %+v; want %s, manual", l, match)
	}
}

// testBrowserCreateCustomer: "Create a new QuickBooks customer" creates it
// in QBO from the Velocity profile and links it.
func testBrowserCreateCustomer(t *testing.T, b *testBrowser) {
	h := newConsole(t, withOrders(0))
	vc := harborCustomer()
	h.velocity.AddCustomer(vc)
	before := len(h.qbo.Entities("Customer"))
	tb := b.loginTab(t, h, "admin")
	tb.open("/customers/" + vc.ID)
	tb.submit("#create")
	if got := tb.text("#linked"); !strings.Contains(got, "created by velqbo") {
		t.Errorf("after Create: %q; want it linked, created by velqbo", got)
	}
	l := h.linkOf(t, schema.CustomerLinks, vc.ID)
	e, ok := h.qbo.Get("Customer", l.QBOID)
	if l.Method != schema.LinkCreate || !ok || e.Raw["DisplayName"] != "Harbor Lights" {
		t.Errorf("ledger link %+v to QBO customer %v; want a created Harbor Lights", l, e.Raw["DisplayName"])
	}
	if n := len(h.qbo.Entities("Customer")); n != before+1 {
		t.Errorf("QBO customers: %d; want %d", n, before+1)
	}
}

// testBrowserSyncKeepQBO: "Sync customer profile…" shows both records
// field by field; keeping QuickBooks' side shows the change to Velocity,
// and confirming writes it to Velocity and nothing to QBO.
func testBrowserSyncKeepQBO(t *testing.T, b *testBrowser) {
	h := newConsole(t, withOrders(0))
	vc := harborCustomer()
	h.velocity.AddCustomer(vc)
	h.MustRun(exitOK, "", "customers", "create", vc.ID)
	qid := h.linkOf(t, schema.CustomerLinks, vc.ID).QBOID
	vc.Phone = "+1-555-010-7777"
	h.velocity.AddCustomer(vc)
	qboBefore, _ := h.qbo.Get("Customer", qid)
	tb := b.loginTab(t, h, "admin")
	tb.open("/customers/" + vc.ID)
	tb.submit("#sync")
	tb.wantText("+1-555-010-7777", "+1-555-010-0900")
	tb.wantA11y()
	tb.do("keep QuickBooks' profile", chromedp.Click(chromedp.CSS("#keep-qbo"), chromedp.NodeVisible))
	tb.submit("#preview")
	if got := tb.text("#changes"); !strings.Contains(got, "+1-555-010-7777 → +1-555-010-0900") {
		t.Errorf("changes %q; want the phone going back to QuickBooks'", got)
	}
	tb.submit("#confirm-sync")
	if got, _ := h.velocity.Customer(vc.ID); got.Phone != "+1-555-010-0900" {
		t.Errorf("Velocity phone: %q; want QuickBooks' +1-555-010-0900", got.Phone)
	}
	if after, _ := h.qbo.Get("Customer", qid); after.Raw["SyncToken"] != qboBefore.Raw["SyncToken"] {
		t.Errorf("QBO customer SyncToken %v → %v; want it untouched", qboBefore.Raw["SyncToken"], after.Raw["SyncToken"])
	}
}

// testBrowserLinkProduct: a product's page suggests the item with the same
// SKU, and its Link button links it.
func testBrowserLinkProduct(t *testing.T, b *testBrowser) {
	h := newConsole(t, withOrders(0))
	h.velocity.AddProduct(velocity.Product{ID: "prod_w", SKU: "WID-1", Name: "Blue Widget"})
	item := h.qbo.AddItem("Blue Widget", "WID-1")
	tb := b.loginTab(t, h, "admin")
	tb.open("/products")
	tb.submit(`a[href="/products/prod_w"]`)
	tb.wantText("same SKU WID-1")
	tb.wantA11y()
	tb.submit("#link-suggested-" + item)
	if got := tb.text("#linked"); !strings.Contains(got, "Linked to Blue Widget") {
		t.Errorf("after Link: %q; want Linked to Blue Widget", got)
	}
	if l := h.linkOf(t, schema.ProductLinks, "prod_w"); l.QBOID != item {
		t.Errorf("ledger link: %+v; want %s", l, item)
	}
}

// testBrowserAccessibility visits every screen on a prepared sandbox at a
// desktop width and at a phone's 375 px: every control labelled, text in
// contrast, nothing wider than the screen, and a visible focus on each of
// the first elements Tab reaches.
func testBrowserAccessibility(t *testing.T, b *testBrowser) {
	h := ordersConsole(t)
	tb := b.loginTab(t, h, "admin")
	pages := []string{"/", "/integrations", "/settings", "/customers", "/customers/" + h.data.Customers[0].ID,
		"/products", "/products/prod_unlinked", "/orders", "/orders/9001", "/orders/9003", "/runs", "/problems"}
	for _, width := range []int64{1280, 375} {
		tb.do("set the viewport", chromedp.EmulateViewport(width, 800))
		for _, p := range pages {
			t.Run(fmt.Sprintf("%d%s", width, p), func(t *testing.T) {
				tb := &tab{t: t, ctx: tb.ctx, base: tb.base}
				tb.open(p)
				tb.wantA11y()
				if f := tb.focusProblems(12); len(f) > 0 {
					t.Errorf("focus on %s:\n%s", p, strings.Join(f, "\n"))
				}
			})
		}
	}
}

// testBrowserReportAsInvoice: an order sent as a SalesReceipt is found by
// its number, reported as an Invoice with the confirmation ticked, and the
// next run voids the receipt and creates the Invoice, which the order's
// QuickBooks section then lists with its link.
func testBrowserReportAsInvoice(t *testing.T, b *testBrowser) {
	h := ordersConsole(t)
	receipt := orderRow(t, h, "o9001").QBOID
	tb := b.loginTab(t, h, "admin")
	tb.open("/orders")
	tb.fill("#order-search", "9001")
	tb.submit("#order-filter")
	tb.submit(`#orders a[href="/orders/9001"]`)
	tb.wantA11y()
	if got := tb.text("#doc-order-o9001"); !strings.Contains(got, "SalesReceipt") {
		t.Errorf("before: document row %q; want the SalesReceipt", got)
	}
	tb.do("tick the confirmation", chromedp.Click(chromedp.CSS("#confirm-invoice"), chromedp.NodeVisible))
	tb.submit("#report-as-invoice")
	if got := tb.text("#invoice-decision"); !strings.Contains(got, "decided by admin") {
		t.Errorf("after Report as Invoice: %q; want decided by admin", got)
	}
	if d := orderRow(t, h, "o9001"); d.InvoiceDecidedBy != "admin" {
		t.Fatalf("ledger: decided by %q; want admin", d.InvoiceDecidedBy)
	}
	h.Run("", "run")
	tb.open("/orders/9001")
	row := tb.text("#doc-order-o9001")
	if !strings.Contains(row, "Invoice") || !strings.Contains(row, "9001") {
		t.Errorf("after the run: document row %q; want Invoice 9001", row)
	}
	href := evalAs[string](tb, "read the QuickBooks link", `() => { const a = document.querySelector("#open-order-o9001"); return a ? a.href : ""; }`)
	if !strings.Contains(href, "invoice?txnId=") {
		t.Errorf("link into QuickBooks %q; want an invoice link", href)
	}
	if e, _ := h.qbo.Get("SalesReceipt", receipt); !e.Voided {
		t.Errorf("SalesReceipt %s not voided", receipt)
	}
	if n := liveByDocNumber(h.qbo, "Invoice", "9001"); n != 1 {
		t.Errorf("QBO invoices 9001: %d; want 1", n)
	}
}

// testBrowserBlockedOrderFix: the blocked filter lists an order whose
// product is unlinked; its QuickBooks section gives the reason and a link
// to the fix, which leads to the product's page; linking the item there
// unblocks the order, which the next run sends.
func testBrowserBlockedOrderFix(t *testing.T, b *testBrowser) {
	h := ordersConsole(t)
	item := h.qbo.AddItem("Sprocket", "SKU-UNL")
	tb := b.loginTab(t, h, "admin")
	tb.open("/orders")
	tb.choose("#order-state", "Blocked")
	tb.submit("#order-filter")
	tb.submit(`#orders a[href="/orders/9003"]`)
	tb.wantText("prod_unlinked")
	tb.submit(`#doc-order-o9003 .fix a[href="/products/prod_unlinked"]`)
	if got := tb.location(); got != "/products/prod_unlinked" {
		t.Fatalf("the fix led to %s; want the product's page", got)
	}
	tb.submit("#link-suggested-" + item)
	if l := h.linkOf(t, schema.ProductLinks, "prod_unlinked"); l.QBOID != item {
		t.Fatalf("ledger link: %+v; want %s", l, item)
	}
	tb.open("/orders/9003")
	if got := tb.text("#next-run"); !strings.Contains(got, "SalesReceipt 9003") {
		t.Errorf("the next run, after the fix: %q; want it to send SalesReceipt 9003", got)
	}
	h.Run("", "run")
	tb.open("/orders/9003")
	if got := tb.text("#doc-order-o9003"); !strings.Contains(got, "sent") {
		t.Errorf("after the run: document row %q; want sent", got)
	}
	if n := liveByDocNumber(h.qbo, "SalesReceipt", "9003"); n != 1 {
		t.Errorf("QBO receipts 9003: %d; want 1", n)
	}
}

// testBrowserRunNow: "Run now" on Runs starts a run in the background;
// the page follows it and the history then shows it done, with the
// documents created, which the Orders screen lists as in QuickBooks.
func testBrowserRunNow(t *testing.T, b *testBrowser) {
	h := newConsole(t, withOrders(6), prepared())
	tb := b.loginTab(t, h, "admin")
	tb.open("/runs")
	tb.submit("#run-now")
	// The run goes on in the background: the page reloads itself when it
	// ends; reopening it until the history shows a finished run bounds
	// the wait without sleeping.
	deadline := time.Now().Add(browserStepTimeout)
	var row string
	for {
		tb.open("/runs")
		if tb.has("#runs tbody tr") {
			row = tb.text("#runs tbody tr")
			if !strings.Contains(row, "running") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no finished run within %s; last row %q", browserStepTimeout, row)
		}
	}
	if !strings.Contains(row, "ok") {
		t.Errorf("run row %q; want ok", row)
	}
	tb.open("/orders")
	body := tb.text("#orders")
	n := 0
	for _, o := range h.data.Orders {
		if liveByDocNumber(h.qbo, "SalesReceipt", o.Number)+liveByDocNumber(h.qbo, "Invoice", o.Number) == 1 {
			n++
			if !strings.Contains(body, o.Number) {
				t.Errorf("orders list does not show order %s, which QBO now holds", o.Number)
			}
		}
	}
	if n == 0 {
		t.Errorf("no document in QBO after Run now")
	}
}

// TestConsoleScreenshots captures the main screens at 1280×800 into the
// directory $VELQBO_SCREENSHOTS (docs/screenshots for the docs); it is
// skipped without it, so CI does not run it.
//
//	VELQBO_SCREENSHOTS=$PWD/docs/screenshots go test ./cmd/velqbo -run TestConsoleScreenshots
func TestConsoleScreenshots(t *testing.T) {
	dir := os.Getenv("VELQBO_SCREENSHOTS")
	if dir == "" {
		t.Skip("set VELQBO_SCREENSHOTS=dir to capture the console's screens")
	}
	b := startTestBrowser(t)
	h := newConsole(t, withOrders(24), prepared(h0Customer))
	h.Run("", "run")
	tb := b.loginTab(t, h, "admin")
	shots := []struct{ name, path, scrollTo string }{
		{"dashboard.png", "/", ""},
		{"settings.png", "/settings", ""},
		{"customer-selector.png", "/customers/" + h0Customer + "?q=a", "#qbo-search"},
		{"runs.png", "/runs", ""},
		{"problems.png", "/problems", ""},
	}
	for _, s := range shots {
		tb.open(s.path)
		if s.scrollTo != "" {
			tb.do("scroll to "+s.scrollTo, chromedp.ScrollIntoView(chromedp.CSS(s.scrollTo)))
		}
		tb.screenshot(dir, s.name)
	}
	// The order page of one of h0Customer's approved orders, blocked by
	// the missing link, from the top of the page.
	var blocked string
	for _, o := range h.data.Orders {
		if o.CustomerID == h0Customer && o.ApprovedAt != nil && o.CancelledAt == nil {
			blocked = o.Number
			break
		}
	}
	if blocked == "" {
		t.Fatalf("no approved order of %s to show blocked", h0Customer)
	}
	tb.open("/orders/" + blocked)
	tb.screenshot(dir, "order.png")
}

// h0Customer is the generated store's customer the screenshots leave
// unlinked, so its orders are blocked and its page offers the selector.
const h0Customer = "cus_1"

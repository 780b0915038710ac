package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/velqbo/velqbo/internal/clock"
	"github.com/velqbo/velqbo/velocity"
	"github.com/velqbo/velqbo/velocity/bigcommerce/bctest"
)

// newBCConsole is the console over a BigCommerce source: bcE2E's store
// (Amy linked, SKU-1 and SKU-2 linked, every setting mapped) after one run
// in which order 101 was sent as a SalesReceipt, order 102 was blocked on
// an unlinked customer, order 103 as invalid (a price that is not whole
// cents) and order 104 on an unlinked product (SKU-3). It returns the
// console, the linked and the unlinked customer's ids.
func newBCConsole(t *testing.T) (h *consoleHarness, linked, unlinked string) {
	t.Helper()
	b := newBCE2E(t)
	b.order(101, "Credit Card")
	nina := b.BC.AddCustomer(bctest.CustomerSpec{Email: "nina@example.com", FirstName: "Nina", LastName: "New",
		Addresses: []bctest.Address{{FirstName: "Nina", LastName: "New", Street1: "2 Side St", City: "Austin", CountryISO2: "US"}}})
	_, err := b.BC.AddOrder(bctest.OrderSpec{ID: 102, CustomerID: nina, PaymentMethod: "Credit Card", Created: time.Now().Add(-time.Hour),
		Lines: []bctest.LineSpec{{ProductID: 1, VariantID: b.variants["SKU-1"], SKU: "SKU-1", Name: "Widget", Price: d("19.99"), Quantity: 1}}})
	b.must(err)
	_, err = b.BC.AddOrder(bctest.OrderSpec{ID: 103, CustomerID: b.custID, PaymentMethod: "Credit Card", Created: time.Now().Add(-time.Hour), TaxPlaces: 4,
		Lines: []bctest.LineSpec{{ProductID: 1, VariantID: b.variants["SKU-1"], SKU: "SKU-1", Name: "Widget", Price: d("5.2525"), Quantity: 1}}})
	b.must(err)
	_, thing := b.BC.AddProduct(bctest.ProductSpec{Name: "Thing", SKU: "SKU-3", Price: d("3.00"), Visible: true})
	_, err = b.BC.AddOrder(bctest.OrderSpec{ID: 104, CustomerID: b.custID, PaymentMethod: "Credit Card", Created: time.Now().Add(-time.Hour),
		Lines: []bctest.LineSpec{{ProductID: 3, VariantID: thing[0], SKU: "SKU-3", Name: "Thing", Price: d("3.00"), Quantity: 1}}})
	b.must(err)
	b.mustExec(exitIncomplete, "run")

	h = &consoleHarness{harness: b.harness, qbo: b.QBO, clock: clock.NewFake(time.Now())}
	m := &Main{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Getenv: envFunc(b.Env),
		Now: h.clock.Now, IsTerminal: func() bool { return false }}
	if err := m.loadConfig(globalFlags{}, map[string]bool{}); err != nil {
		t.Fatal(err)
	}
	m.Log = m.newLogger()
	h.main = m
	if h.store, err = m.createStore(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.store.Close() })
	if h.web, err = m.newConsole(h.store); err != nil {
		t.Fatal(err)
	}
	h.srv = httptest.NewServer(h.web.Handler())
	t.Cleanup(h.srv.Close)
	return h, strconv.Itoa(b.custID), strconv.Itoa(nina)
}

// sourcePage is a console page and the texts that name the source on it.
type sourcePage struct {
	path string
	want []string
}

// checkSourcePages gets each page as an admin and fails when it does not
// answer 200, lacks a text of its want, or names the other source
// (never: "Velocity" anywhere on a BigCommerce store's pages; not: texts
// a Velocity store's pages must not show).
func checkSourcePages(t *testing.T, h *consoleHarness, pages []sourcePage, never string, not ...string) {
	t.Helper()
	admin := h.login(t, "admin")
	runs := admin.get(t, "/runs").wantCode(t, http.StatusOK)
	run := regexp.MustCompile(`href="(/runs/[0-9][0-9A-Za-z-]*)"`).FindStringSubmatch(runs.Body)
	if run == nil {
		t.Fatalf("/runs: no run listed:\n%s", runs.Body)
	}
	pages = append(pages, sourcePage{"/runs", nil}, sourcePage{run[1], nil}, sourcePage{"/runs/preview", []string{"Invalid in "}})
	for _, p := range pages {
		t.Run(p.path, func(t *testing.T) {
			r := admin.get(t, p.path).wantCode(t, http.StatusOK)
			wantIn(t, p.path, r.Body, p.want...)
			if never != "" {
				if i := strings.Index(r.Body, never); i >= 0 {
					t.Errorf("%s: got %q in %q; want the page to name the configured source only", p.path, never, r.Body[max(0, i-120):min(len(r.Body), i+120)])
				}
			}
			for _, n := range not {
				if strings.Contains(r.Body, n) {
					t.Errorf("%s: got %q; want it only for another source", p.path, n)
				}
			}
		})
	}
}

// TestConsoleSourceNames_BigCommerce: with VELQBO_SOURCE=bigcommerce every
// screen names BigCommerce where it means the store velqbo reads from, and
// never Velocity; the sync page says BigCommerce keeps one address.
func TestConsoleSourceNames_BigCommerce(t *testing.T) {
	t.Parallel()
	h, linked, unlinked := newBCConsole(t)
	list := h.login(t, "admin").get(t, "/products").wantCode(t, http.StatusOK)
	p := regexp.MustCompile(`href="/products/(\d+)"`).FindStringSubmatch(list.Body)
	if p == nil {
		t.Fatalf("/products: no product listed:\n%s", list.Body)
	}
	checkSourcePages(t, h, []sourcePage{
		{"/customers", []string{"Every BigCommerce customer needs a QuickBooks customer", `<th scope="col">BigCommerce customer</th>`}},
		{"/customers/" + linked, []string{"<dt>BigCommerce id</dt>"}},
		{"/customers/" + unlinked, []string{"from this BigCommerce customer's profile"}},
		{"/customers/" + linked + "/sync?keep=qbo", []string{"BigCommerce customer Smith Hardware (Amy Smith) is linked", `<th scope="col">BigCommerce</th>`,
			"Keep BigCommerce's profile (update QuickBooks)", "Keep QuickBooks' profile (update BigCommerce)",
			`id="one-address"`, "Changes to BigCommerce customer"}},
		{"/products", []string{"Every BigCommerce product needs a QuickBooks item", `<th scope="col">BigCommerce product</th>`}},
		{"/products/" + p[1], []string{"<dt>BigCommerce id</dt>"}},
		{"/orders", nil},
		{"/orders/101", []string{"Refunds and payments in BigCommerce", "sent to QuickBooks as an Invoice. Its SalesReceipt"}},
		{"/problems", []string{"Invalid in BigCommerce", "Customer not linked to QuickBooks", "product SKU-3 (BigCommerce id "}},
		{"/orders/104", []string{"product SKU-3 (BigCommerce id "}},
		{"/settings", []string{"each BigCommerce payment method"}},
	}, "Velocity")
}

// TestConsoleSourceNames_Velocity: a Velocity store's screens still say
// Velocity, Velocity's own "Report as Invoice" included, and show none of
// BigCommerce's notes (the Settings page lists the bigcommerce.* keys for
// either source).
func TestConsoleSourceNames_Velocity(t *testing.T) {
	t.Parallel()
	h := newConsole(t, prepared())
	h.velocity.AddCustomer(velocity.Customer{ID: "cus_new", Number: "C-NEW", FirstName: "Nina", LastName: "New", Email: "nina@example.com"})
	h.addOrder(t, "ord_new", "9101", "cus_new", "", "")
	if err := h.velocity.AddRawOrder([]byte(`{"id":"ord_bad","number":"9102","updated_at":"2025-09-01T10:00:00Z","total":"abc"}`)); err != nil {
		t.Fatal(err)
	}
	h.MustRun(exitIncomplete, "", "run")
	receipt := ""
	for _, e := range h.qbo.Entities("SalesReceipt") {
		if e.DocNumber != "" && !e.Voided {
			receipt = e.DocNumber
			break
		}
	}
	if receipt == "" {
		t.Fatal("the run made no SalesReceipt")
	}
	cust, prod := h.data.Customers[0].ID, h.data.Products[0].ID
	checkSourcePages(t, h, []sourcePage{
		{"/customers", []string{"Every Velocity customer needs a QuickBooks customer", `<th scope="col">Velocity customer</th>`}},
		{"/customers/" + cust, []string{"<dt>Velocity id</dt>"}},
		{"/customers/cus_new", []string{"from this Velocity customer's profile"}},
		{"/customers/" + cust + "/sync?keep=qbo", []string{`<th scope="col">Velocity</th>`,
			"Keep Velocity's profile (update QuickBooks)", "Keep QuickBooks' profile (update Velocity)"}},
		{"/products", []string{"Every Velocity product needs a QuickBooks item"}},
		{"/products/" + prod, []string{"<dt>Velocity id</dt>"}},
		{"/orders", nil},
		{"/orders/" + receipt, []string{"Refunds and payments in Velocity", "as Velocity's own “Report as Invoice” does"}},
		{"/problems", []string{"Invalid in Velocity"}},
		{"/settings", []string{"each Velocity payment method"}},
	}, "", "in BigCommerce", "BigCommerce customer", `id="one-address"`)
}

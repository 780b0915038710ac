package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/velqbo/velqbo/velocity"
)

// TestConsoleProblems: with nothing wrong the page says so; after a run
// that blocks orders on an unlinked product (three of them, named like a
// script) and an unlinked customer (one), and a verify that finds one
// receipt deleted and one voided in QBO, the page groups them by reason,
// the most frequent first, each record linked to the page that fixes it.
func TestConsoleProblems(t *testing.T) {
	t.Parallel()
	h := newConsole(t, prepared())
	h.checkProtected(t, http.MethodGet, "/problems", nil, false)
	viewer := h.login(t, "viewer")
	r := viewer.get(t, "/problems").wantCode(t, http.StatusOK)
	wantIn(t, "/problems before any run", r.Body, "Nothing needs you.")

	for _, n := range []string{"1", "2", "3"} {
		h.addOrder(t, "ord_evil"+n, "900"+n, "", "prod_evil", hostileName)
	}
	h.velocity.AddCustomer(velocity.Customer{ID: "cus_new", Number: "C-NEW", FirstName: "Nina", LastName: "New", Email: "nina@example.com"})
	h.addOrder(t, "ord_new", "9101", "cus_new", "", "")
	h.MustRun(exitIncomplete, "", "run")

	var receipts []string // DocNumbers of two receipts velqbo made
	for _, e := range h.qbo.Entities("SalesReceipt") {
		if len(receipts) < 2 && e.DocNumber != "" && !e.Voided {
			receipts = append(receipts, e.DocNumber)
			person := h.qbo.PersonVoid
			if len(receipts) == 1 {
				person = h.qbo.PersonDelete
			}
			if err := person("SalesReceipt", e.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(receipts) != 2 {
		t.Fatalf("the run made %d SalesReceipt(s); want at least 2", len(receipts))
	}
	h.MustRun(exitIncomplete, "", "verify")

	r = viewer.get(t, "/problems").wantCode(t, http.StatusOK)
	wantIn(t, "/problems", r.Body,
		"Product not linked to a QuickBooks item", `<span class="count">3</span>`,
		`href="/products/prod_evil"`, "Link product prod_evil to a QuickBooks item",
		"Customer not linked to QuickBooks", `href="/customers/cus_new"`, "Link customer cus_new to a QuickBooks customer",
		"Deleted in QuickBooks", `href="/orders/`+receipts[0]+`"`, `href="/orders/`+receipts[0]+`#fix-resync">Re-create in QuickBooks`,
		"Voided in QuickBooks by someone else", `href="/orders/`+receipts[1]+`"`,
		`href="/orders/9001"`, `href="/orders/9101"`)
	wantEscaped(t, "/problems", r.Body)
	if p, c := strings.Index(r.Body, "Product not linked"), strings.Index(r.Body, "Customer not linked"); p > c {
		t.Errorf("/problems: the customer's group (1 item) comes before the product's (3)")
	}
	if strings.Contains(r.Body, "total_mismatch") {
		t.Errorf("/problems: the test's orders do not add up")
	}
	if strings.Contains(r.Body, "Nothing needs you.") {
		t.Errorf("/problems: shows the empty state with problems listed")
	}
}

package reconcile_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

var _ reconcile.CustomerSource = (*velocity.Client)(nil)
var _ reconcile.CustomerSource = reconcile.FileSource{}

// autoCustomerHarness is the engine harness with cus_2 (Bo Jones, number
// C-2) in Velocity but not in QBO, and order 2001 of cus_2.
func autoCustomerHarness(t *testing.T, on bool) *engHarness {
	t.Helper()
	h := newEngHarness(t)
	h.must(h.store.SetSettings(h.ctx, map[string]string{reconcile.SettingAutoCreateCustomers: map[bool]string{true: "true", false: "false"}[on]}))
	h.v.AddCustomer(velocity.Customer{ID: "cus_2", Number: "C-2", FirstName: "Bo", LastName: "Jones", Email: "bo@example.com",
		BillingAddress: velocity.Address{Line1: "2 Elm St", City: "Springfield", PostalCode: "12345", Country: "US"}, UpdatedAt: engStart})
	o := engOrder("ord_2", "2001", 1)
	o.CustomerID, o.Email = "cus_2", "bo@example.com"
	h.v.AddOrder(o)
	return h
}

// customersFrom returns the live QBO customers velqbo created from a Velocity customer.
func (h *engHarness) customersFrom(velocityID string) []map[string]any {
	var out []map[string]any
	for _, e := range h.live("Customer") {
		if n, _ := e.Raw["Notes"].(string); strings.Contains(n, reconcile.CreatedMarker(velocityID)) {
			out = append(out, e.Raw)
		}
	}
	return out
}

func (h *engHarness) checkCreated(wantName string) string {
	h.t.Helper()
	cs := h.customersFrom("cus_2")
	if len(cs) != 1 {
		h.t.Fatalf("QBO customers made from cus_2: got %d; want 1", len(cs))
	}
	c := cs[0]
	if got := asStr(c["DisplayName"]); got != wantName {
		h.t.Errorf("DisplayName: got %q; want %q", got, wantName)
	}
	if email, _ := c["PrimaryEmailAddr"].(map[string]any); asStr(email["Address"]) != "bo@example.com" {
		h.t.Errorf("PrimaryEmailAddr: got %v; want bo@example.com", c["PrimaryEmailAddr"])
	}
	id := asStr(c["Id"])
	l, err := h.store.GetLink(h.ctx, schema.CustomerLinks, "cus_2")
	h.must(err)
	if l.QBOID != id || l.Method != schema.LinkCreate || l.QBOName != wantName {
		h.t.Errorf("link: got %+v; want QBO id %s, name %q, method create", l, id, wantName)
	}
	sr := h.byDocNumber("SalesReceipt", "2001")
	if len(sr) != 1 {
		h.t.Fatalf("receipts 2001: got %d; want 1", len(sr))
	}
	if ref, _ := sr[0].Raw["CustomerRef"].(map[string]any); asStr(ref["value"]) != id {
		h.t.Errorf("receipt 2001 CustomerRef: got %v; want %s", sr[0].Raw["CustomerRef"], id)
	}
	return id
}

func TestAutoCreateCustomer(t *testing.T) {
	tests := []struct {
		name       string
		seed       func(h *engHarness)
		wantName   string
		wantReason string
	}{
		{name: "plain", wantName: "Bo Jones"},
		{name: "name taken by a vendor", seed: func(h *engHarness) { h.q.AddVendorName("Bo Jones") },
			wantName: "Bo Jones (C-2)", wantReason: `created as "Bo Jones (C-2)"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := autoCustomerHarness(t, true)
			if tt.seed != nil {
				tt.seed(h)
			}
			want := []engItem{{"customer", "cus_2", "create", "Customer"}, {"order", "ord_2", "create", "SalesReceipt"}}
			plan, err := h.rec.Plan(h.ctx, reconcile.Options{})
			h.must(err)
			if diff := cmp.Diff(want, engItems(plan)); diff != "" {
				t.Errorf("plan items (-want +got):\n%s\n%+v", diff, plan.Items)
			}
			if n := len(h.customersFrom("cus_2")); n != 0 {
				t.Fatalf("plan created %d customers; want none", n)
			}
			sum := h.run(reconcile.Options{})
			if diff := cmp.Diff(want, engItems(sum)); diff != "" {
				t.Fatalf("run items (-want +got):\n%s\n%+v", diff, sum.Items)
			}
			if diff := cmp.Diff(engCounts(2, 0, 0, 0, 0, 0), sum.Counts); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
			id := h.checkCreated(tt.wantName)
			it := sum.Items[0]
			if it.QBOID != id || it.DocNumber != "" || it.OrderNumber != "" || !contains(it.Reason, tt.wantReason) {
				t.Errorf("customer item %+v; want qbo_id %s, no doc or order number, reason containing %q", it, id, tt.wantReason)
			}
			if d := h.doc("order", "ord_2"); d.State != schema.StateSent {
				t.Errorf("ord_2 state %s; want sent", d.State)
			}

			m := h.mark()
			sum = h.run(reconcile.Options{})
			if len(sum.Items) != 0 || h.writes(m) != 0 {
				t.Errorf("second run: items %+v writes %d; want none", sum.Items, h.writes(m))
			}
		})
	}
}

func TestAutoCreateCustomersOffBlocks(t *testing.T) {
	h := autoCustomerHarness(t, false)
	sum := h.run(reconcile.Options{})
	if diff := cmp.Diff([]engItem{{"order", "ord_2", "blocked", "SalesReceipt"}}, engItems(sum)); diff != "" {
		t.Fatalf("items (-want +got):\n%s", diff)
	}
	link := reconcile.Fix{Action: reconcile.FixLinkCustomer, ID: "cus_2"}
	if it := sum.Items[0]; !contains(it.Reason, "cus_2") || !contains(it.Reason, "[link_customer cus_2]") ||
		!hasReason(it.Reasons, reconcile.CodeCustomerNotLinked, link) {
		t.Errorf("reason %q %+v; want it to name cus_2, %s, with the fix %+v rendered", it.Reason, it.Reasons, reconcile.CodeCustomerNotLinked, link)
	}
	if n := len(h.customersFrom("cus_2")); n != 0 {
		t.Errorf("customers created: %d; want 0", n)
	}
	if _, err := h.store.GetLink(h.ctx, schema.CustomerLinks, "cus_2"); !errors.Is(err, schema.ErrNotFound) {
		t.Errorf("link of cus_2: got %v; want none", err)
	}
}

// TestAutoCreateCustomerFails: both names taken, so the customer item
// fails and its order stays blocked with the usual reason, run after run.
func TestAutoCreateCustomerFails(t *testing.T) {
	h := autoCustomerHarness(t, true)
	h.q.AddVendorName("Bo Jones")
	h.q.AddEmployeeName("Bo Jones (C-2)")
	for run := range 2 {
		sum := h.run(reconcile.Options{})
		want := []engItem{{"customer", "cus_2", "failed", "Customer"}, {"order", "ord_2", "blocked", "SalesReceipt"}}
		if diff := cmp.Diff(want, engItems(sum)); diff != "" {
			t.Fatalf("run %d items (-want +got):\n%s", run, diff)
		}
		fix := reconcile.Fix{Action: reconcile.FixRenameOrLinkCustomer, ID: "cus_2"}
		if it := sum.Items[0]; !contains(it.Reason, `"Bo Jones (C-2)"`) || !contains(it.Reason, "[rename_or_link_customer cus_2]") ||
			!hasReason(it.Reasons, reconcile.CodeCustomerNameTaken, fix) {
			t.Errorf("customer reason %q %+v; want the names, %s, with the fix %+v rendered", it.Reason, it.Reasons, reconcile.CodeCustomerNameTaken, fix)
		}
		if r := sum.Items[1].Reason; !contains(r, "not linked") {
			t.Errorf("order reason %q; want the unlinked-customer reason", r)
		}
		if diff := cmp.Diff(engCounts(0, 0, 0, 0, 1, 1), sum.Counts); diff != "" {
			t.Errorf("run %d counts (-want +got):\n%s", run, diff)
		}
	}
	if n := len(h.customersFrom("cus_2")); n != 0 {
		t.Errorf("customers created: %d; want 0", n)
	}
}

// TestAutoCreateCustomerCrash: the run dies after QBO made the customer
// and before the link is saved; the next run finds it by its marker,
// links it and sends the order, and no second customer is made.
func TestAutoCreateCustomerCrash(t *testing.T) {
	h := autoCustomerHarness(t, true)
	// The customer is the run's first write: QBO made it, and the run dies
	// before its link is saved.
	restore := (&crash{step: afterSend, at: 1}).install(h.rec)
	if _, err := h.rec.Run(h.ctx, reconcile.Options{}); !errors.Is(err, errKilled) {
		t.Fatalf("killed run: got %v; want the kill", err)
	}
	restore()
	if n := len(h.customersFrom("cus_2")); n != 1 {
		t.Fatalf("customers after the kill: got %d; want 1", n)
	}
	if _, err := h.store.GetLink(h.ctx, schema.CustomerLinks, "cus_2"); !errors.Is(err, schema.ErrNotFound) {
		t.Fatalf("link after the kill: got %v; want none", err)
	}
	if n := len(h.byDocNumber("SalesReceipt", "2001")); n != 0 {
		t.Fatalf("receipts after the kill: got %d; want 0", n)
	}

	sum := h.run(reconcile.Options{})
	want := []engItem{{"customer", "cus_2", "create", "Customer"}, {"order", "ord_2", "create", "SalesReceipt"}}
	if diff := cmp.Diff(want, engItems(sum)); diff != "" {
		t.Fatalf("items (-want +got):\n%s\n%+v", diff, sum.Items)
	}
	if r := sum.Items[0].Reason; !contains(r, "earlier run") {
		t.Errorf("customer reason %q; want it to say an earlier run created it", r)
	}
	h.checkCreated("Bo Jones")
}

func asStr(v any) string { s, _ := v.(string); return s }

// TestAutoCreateCustomerRereadBlocked: orders blocked before the setting
// was turned on are outside the next run's window; they are re-read by id
// and sent once their customer is made.
func TestAutoCreateCustomerRereadBlocked(t *testing.T) {
	for _, tt := range []struct {
		n    int
		opts reconcile.Options
	}{
		{1, reconcile.Options{Mode: reconcile.ModeSince, Since: engStart.Add(time.Hour)}}, // read by id
		{60, reconcile.Options{Mode: reconcile.ModeSince, Since: engStart.Add(time.Hour)}},
		{60, reconcile.Options{Mode: reconcile.ModeFull}}, // the window's stream, filtered to the orders
	} {
		n := tt.n
		t.Run(fmt.Sprint(n, tt.opts.Mode), func(t *testing.T) {
			h := autoCustomerHarness(t, false)
			h.must(h.v.UpdateOrder("ord_2", func(o *velocity.Order) { o.UpdatedAt = engStart.Add(-48 * time.Hour) }))
			for i := 1; i < n; i++ {
				o := engOrder(fmt.Sprintf("ord_x%02d", i), fmt.Sprintf("3%03d", i), 1)
				o.CustomerID, o.UpdatedAt = "cus_2", engStart.Add(-48*time.Hour)
				h.v.AddOrder(o)
			}
			if sum := h.run(reconcile.Options{Mode: reconcile.ModeFull}); sum.Counts.Blocked != n {
				t.Fatalf("setting off: counts %+v; want %d blocked", sum.Counts, n)
			}
			h.must(h.store.SetSettings(h.ctx, map[string]string{reconcile.SettingAutoCreateCustomers: "true"}))
			sum := h.run(tt.opts)
			if diff := cmp.Diff(engCounts(n+1, 0, 0, 0, 0, 0), sum.Counts); diff != "" {
				t.Fatalf("setting on: counts (-want +got):\n%s\n%+v", diff, sum.Items)
			}
			h.checkCreated("Bo Jones")
			if got := len(h.live("SalesReceipt")); got != n {
				t.Errorf("receipts: got %d; want %d", got, n)
			}
		})
	}
}

func TestFileSourceGetCustomer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "export.ndjson")
	lines := `{"type":"customer","id":"cus_1","number":"C-1","email":"a@example.com","updated_at":"2025-09-01T00:00:00Z"}
{"type":"customer","id":"cus_2","number":"C-2","company":"Bo Co","updated_at":"2025-09-01T00:00:00Z"}
`
	if err := os.WriteFile(path, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	src := reconcile.FileSource{FileSource: velocity.OpenFileSource(path)}
	c, err := src.GetCustomer(t.Context(), "cus_2")
	if err != nil || c.Company != "Bo Co" || c.Number != "C-2" {
		t.Errorf("GetCustomer(cus_2): got %+v, %v; want Bo Co, C-2", c, err)
	}
	if _, err := src.GetCustomer(t.Context(), "cus_9"); !errors.Is(err, velocity.ErrNotFound) {
		t.Errorf("GetCustomer(cus_9): got %v; want ErrNotFound", err)
	}
}

// TestAutoCreateCustomerCannotCreate: a QBO connection without a customer
// service fails the customer, in the plan as in the run, with the fix to
// create it by hand.
func TestAutoCreateCustomerCannotCreate(t *testing.T) {
	h := autoCustomerHarness(t, true)
	h.rec.QBO = struct{ reconcile.QBO }{h.rec.QBO} // hides CustomerService
	fix := reconcile.Fix{Action: reconcile.FixCreateCustomer, ID: "cus_2"}
	plan, err := h.rec.Plan(h.ctx, reconcile.Options{})
	h.must(err)
	for name, sum := range map[string]*reconcile.Summary{"plan": plan, "run": h.run(reconcile.Options{})} {
		want := []engItem{{"customer", "cus_2", "failed", "Customer"}, {"order", "ord_2", "blocked", "SalesReceipt"}}
		if diff := cmp.Diff(want, engItems(sum)); diff != "" {
			t.Fatalf("%s items (-want +got):\n%s", name, diff)
		}
		if it := sum.Items[0]; it.Reason != "the QBO connection cannot create customers; [create_customer cus_2]" ||
			!hasReason(it.Reasons, reconcile.CodeCannotCreate, fix) {
			t.Errorf("%s customer reason %q %+v; want %s with the fix %+v rendered", name, it.Reason, it.Reasons, reconcile.CodeCannotCreate, fix)
		}
	}
}

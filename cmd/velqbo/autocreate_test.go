package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/velocity"
)

// TestRunAutoCreateCustomers: with auto_create_customers on, `run --json`
// creates the missing QBO customer, lists it, and sends its order in the
// same run; `plan` lists the same without writing; a rerun sends nothing.
// With the setting off the order is blocked.
func TestRunAutoCreateCustomers(t *testing.T) {
	t.Parallel()
	e := newE2E(t, e2eOptions{})
	e.Vel.AddCustomer(velocity.Customer{ID: "cus_2", Number: "C-2", FirstName: "Bo", LastName: "Jones",
		Company: "Jones: Tools", Email: "bo@example.com"})
	o := e2eOrder("ord_2", "2001", 1)
	o.CustomerID, o.Email = "cus_2", "bo@example.com"
	e.Vel.AddOrder(o)

	type item struct{ Kind, SourceID, Action, QBOType, DocNumber string }
	items := func(s *reconcile.Summary) []item {
		out := []item{}
		for _, it := range s.Items {
			out = append(out, item{string(it.Kind), it.SourceID, string(it.Action), it.QBOType, it.DocNumber})
		}
		return out
	}

	sum := e.summary(exitIncomplete, "plan")
	if diff := cmp.Diff([]item{{"order", "ord_2", "blocked", "SalesReceipt", "2001"}}, items(sum)); diff != "" {
		t.Fatalf("plan with the setting off (-want +got):\n%s", diff)
	}

	e.mustExec(exitOK, "settings", "set", "auto_create_customers=true")
	want := []item{{"customer", "cus_2", "create", "Customer", ""}, {"order", "ord_2", "create", "SalesReceipt", "2001"}}
	m := e.mark()
	sum = e.summary(exitOK, "plan")
	if diff := cmp.Diff(want, items(sum)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if w := e.writesSince(m); len(w) != 0 {
		t.Errorf("plan wrote to QBO: %+v", w)
	}

	sum = e.run(exitOK)
	if diff := cmp.Diff(want, items(sum)); diff != "" {
		t.Fatalf("run (-want +got):\n%s", diff)
	}
	if sum.Counts.Created != 2 {
		t.Errorf("created: got %d; want 2", sum.Counts.Created)
	}
	var made []string
	for _, c := range e.QBO.Entities("Customer") {
		if n := field(c.Raw, "Notes"); strings.Contains(n, reconcile.CreatedMarker("cus_2")) {
			made = append(made, c.ID)
			if got := field(c.Raw, "DisplayName"); got != "Jones- Tools" {
				t.Errorf("DisplayName: got %q; want %q", got, "Jones- Tools")
			}
		}
	}
	if len(made) != 1 || sum.Items[0].QBOID != made[0] {
		t.Fatalf("customers made from cus_2: %v; want one, the item's %q", made, sum.Items[0].QBOID)
	}
	if got := ref(e.one("SalesReceipt", "2001").Raw, "CustomerRef"); got != made[0] {
		t.Errorf("receipt 2001 CustomerRef: got %q; want %q", got, made[0])
	}
	r := e.mustExec(exitOK, "customers", "list")
	if !strings.Contains(r.Stdout, "cus_2") || !strings.Contains(r.Stdout, made[0]) {
		t.Errorf("customers list: got %q; want cus_2 linked to %s", r.Stdout, made[0])
	}

	m = e.mark()
	if sum := e.run(exitOK); len(sum.Items) != 0 || len(e.writesSince(m)) != 0 {
		t.Errorf("rerun: items %+v writes %d; want none", sum.Items, len(e.writesSince(m)))
	}
}

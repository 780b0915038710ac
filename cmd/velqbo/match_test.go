package main

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/velocity"
)

// mustJSON runs velqbo, expects exit code 0, and decodes stdout into v.
func (h *harness) mustJSON(v any, args ...string) {
	h.t.Helper()
	r := h.MustRun(exitOK, "", args...)
	if err := json.Unmarshal([]byte(r.Stdout), v); err != nil {
		h.t.Fatalf("velqbo %s: %v\nstdout: %s", strings.Join(args, " "), err, r.Stdout)
	}
}

// links returns the linked QBO id and method of each linked Velocity record.
func (h *harness) links(noun string) map[string]string {
	h.t.Helper()
	var list map[string][]linkRow
	h.mustJSON(&list, noun, "list", "--json")
	out := map[string]string{}
	for _, r := range list[noun] {
		if r.QBOID != "" {
			out[r.VelocityID] = r.QBOID + "/" + r.Method
		}
	}
	return out
}

// qboOps counts the QBO calls of an operation on an entity.
func (h *harness) qboOps(entity, op string) int {
	n := 0
	for _, c := range h.QBO.Requests() {
		if c.Entity == entity && c.Operation == op {
			n++
		}
	}
	return n
}

func (h *harness) velocityPatches() int {
	n := 0
	for _, r := range h.Vel.Requests() {
		if r.Method == "PATCH" {
			n++
		}
	}
	return n
}

// setCustomer replaces a generated Velocity customer after edit.
func (h *harness) setCustomer(i int, edit func(*velocity.Customer)) velocity.Customer {
	h.t.Helper()
	c := h.Data.Customers[i]
	edit(&c)
	h.Vel.AddCustomer(c)
	return c
}

// proposalView is a proposal as the match tests compare it.
type proposalView struct {
	QBOID, Reason, Status string
}

func viewProposals(out matchOutput) map[string]proposalView {
	got := map[string]proposalView{}
	for _, p := range out.Proposals {
		status := "proposed"
		switch {
		case p.QBOID == "":
			status = "ambiguous"
		case p.Conflict != "":
			status = "conflict"
		}
		got[p.VelocityID] = proposalView{p.QBOID, p.Reason, status}
	}
	return got
}

func TestCustomersMatch_GeneratedStore(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 5)
	h.Connect()

	// Shape a few generated customers so that QBO, seeded below, holds
	// their counterparts; the rest of the store stays unmatched.
	c1 := h.Data.Customers[0]
	h.setCustomer(1, func(c *velocity.Customer) { c.Company = "Quillfeather Trading Ltd." })
	h.setCustomer(2, func(c *velocity.Customer) { c.Email = "shared@ambig.example"; c.Company = "Ambig Three" })
	h.setCustomer(3, func(c *velocity.Customer) { c.Company = "Zephyrine Tools" })
	h.setCustomer(4, func(c *velocity.Customer) { c.Company = "Zephyrine Tools LLC" })
	c6 := h.Data.Customers[5]

	byEmail := h.QBO.AddCustomer("Buyer One Account", strings.ToUpper(c1.Email))
	byCompany := h.QBO.AddCustomer("QUILLFEATHER TRADING", "")
	amb1 := h.QBO.AddCustomer("Ambig One", "shared@ambig.example")
	amb2 := h.QBO.AddCustomer("Ambig Two", "Shared@Ambig.example")
	zeph := h.QBO.AddCustomer("Zephyrine Tools, Inc.", "")
	dormant := h.QBO.AddCustomer("Dormant Account", c6.Email)
	if err := h.QBO.PersonEdit("Customer", dormant, func(m map[string]any) { m["Active"] = false }); err != nil {
		t.Fatal(err)
	}

	var out matchOutput
	h.mustJSON(&out, "customers", "match", "--json")
	want := map[string]proposalView{
		c1.ID:   {byEmail, "same email " + strings.ToLower(c1.Email), "proposed"},
		"cus_2": {byCompany, "same company name after normalising", "proposed"},
		"cus_3": {"", "same email shared@ambig.example", "ambiguous"},
		"cus_4": {zeph, "same company name after normalising", "conflict"},
		"cus_5": {zeph, "same company name after normalising", "conflict"},
	}
	if diff := cmp.Diff(want, viewProposals(out)); diff != "" {
		t.Errorf("customers match (-want +got):\n%s", diff)
	}
	if out.Proposed != 2 || out.Conflicts != 2 || out.Ambiguous != 1 || out.Applied != 0 {
		t.Errorf("counts: got proposed %d, conflicts %d, ambiguous %d, applied %d; want 2, 2, 1, 0", out.Proposed, out.Conflicts, out.Ambiguous, out.Applied)
	}
	for _, p := range out.Proposals {
		if p.VelocityID == "cus_3" && !cmp.Equal(p.Candidates, []string{amb1, amb2}) {
			t.Errorf("ambiguous candidates: got %v; want %v", p.Candidates, []string{amb1, amb2})
		}
		if p.VelocityID == "cus_4" && !strings.Contains(p.Conflict, "also proposed for Velocity cus_5") {
			t.Errorf("cus_4 conflict: got %q; want it to name cus_5", p.Conflict)
		}
	}
	if got := h.links("customers"); len(got) != 0 {
		t.Fatalf("match without --apply linked %v", got)
	}

	// The human output names reasons and what was not applied.
	r := h.MustRun(exitOK, "", "customers", "match", "--apply")
	for _, s := range []string{"same company name after normalising", "not applied: QBO customer " + zeph, "ambiguous: 2 QBO customers share this email", "Linked 2."} {
		if !strings.Contains(r.Stdout, s) {
			t.Errorf("match --apply output lacks %q:\n%s", s, r.Stdout)
		}
	}
	wantLinks := map[string]string{c1.ID: byEmail + "/match", "cus_2": byCompany + "/match"}
	if diff := cmp.Diff(wantLinks, h.links("customers")); diff != "" {
		t.Errorf("links after --apply (-want +got):\n%s", diff)
	}

	// A second match proposes nothing new: the conflicts stay shown, unapplied.
	h.mustJSON(&out, "customers", "match", "--apply", "--json")
	if out.Proposed != 0 || out.Applied != 0 {
		t.Errorf("second match: got %d proposed, %d applied; want 0 and 0", out.Proposed, out.Applied)
	}
	var ids []string
	for id := range viewProposals(out) {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if diff := cmp.Diff([]string{"cus_3", "cus_4", "cus_5"}, ids); diff != "" {
		t.Errorf("second match still lists (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantLinks, h.links("customers")); diff != "" {
		t.Errorf("links after second --apply (-want +got):\n%s", diff)
	}
}

func TestProductsMatch(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 5)
	h.Connect()
	ps := h.Data.Products
	names := map[string]int{}
	for _, p := range ps {
		names[p.Name]++
	}
	// p0 by SKU; pj by a name no other product has; pk has an SKU two items share.
	j, k := -1, -1
	for i := 1; i < len(ps); i++ {
		switch {
		case j < 0 && names[ps[i].Name] == 1 && ps[i].Name != ps[0].Name:
			j = i
		case k < 0:
			k = i
		}
	}
	if j < 0 || k < 0 {
		t.Fatalf("generated products do not allow the test: %v", names)
	}
	bySKU := h.QBO.AddItem("Legacy part", strings.ToLower(ps[0].SKU))
	byName := h.QBO.AddItem(ps[j].Name, "")
	h.QBO.AddItem("Dup A", ps[k].SKU)
	h.QBO.AddItem("Dup B", ps[k].SKU)

	var out matchOutput
	h.mustJSON(&out, "products", "match", "--json")
	want := map[string]proposalView{
		ps[0].ID: {bySKU, "same SKU " + ps[0].SKU, "proposed"},
		ps[j].ID: {byName, "same name", "proposed"},
		ps[k].ID: {"", "same SKU " + ps[k].SKU, "ambiguous"},
	}
	if diff := cmp.Diff(want, viewProposals(out)); diff != "" {
		t.Errorf("products match (-want +got):\n%s", diff)
	}
	r := h.MustRun(exitOK, "", "products", "match", "--apply")
	if !strings.Contains(r.Stdout, "Linked 2.") {
		t.Errorf("products match --apply: got %q; want Linked 2.", r.Stdout)
	}
	if diff := cmp.Diff(map[string]string{ps[0].ID: bySKU + "/match", ps[j].ID: byName + "/match"}, h.links("products")); diff != "" {
		t.Errorf("product links (-want +got):\n%s", diff)
	}
	// What still blocks orders: every other product.
	var list map[string][]linkRow
	h.mustJSON(&list, "products", "list", "--unlinked", "--json")
	if got, want := len(list["products"]), len(ps)-2; got != want {
		t.Errorf("products list --unlinked: got %d; want %d", got, want)
	}
	r = h.MustRun(exitOK, "", "products", "match")
	if !strings.Contains(r.Stdout, "0 proposed, 0 in conflict, 1 ambiguous") {
		t.Errorf("second products match: got %q; want only the ambiguity left", r.Stdout)
	}
	h.MustRun(exitUsage, "", "products", "create", ps[0].ID)
}

// harborCustomer is a Velocity customer with a full profile.
func harborCustomer() velocity.Customer {
	addr := velocity.Address{Name: "Noémie Dubois", Company: "Harbor Lights", Line1: "12 Rue Sainte-Catherine", City: "Montréal", State: "QC", PostalCode: "H2Y 1C6", Country: "CA"}
	return velocity.Customer{
		ID: "cus_900", Number: "C00900", FirstName: "Noémie", LastName: "Dubois", Company: "Harbor Lights",
		Email: "noemie@example.com", Phone: "+1-555-010-0900", BillingAddress: addr, ShippingAddress: addr,
	}
}

func TestCustomersCreate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		taken    func(q *qbotest.Server)
		wantName string
	}{
		{"NoCollision", func(*qbotest.Server) {}, "Harbor Lights"},
		{"Vendor", func(q *qbotest.Server) { q.AddVendorName("Harbor Lights") }, "Harbor Lights (C00900)"},
		{"Employee", func(q *qbotest.Server) { q.AddEmployeeName("harbor lights") }, "Harbor Lights (C00900)"},
		{"Customer", func(q *qbotest.Server) { q.AddCustomer("Harbor Lights", "") }, "Harbor Lights (C00900)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := MustRunMain(t, 0)
			h.Connect()
			vc := harborCustomer()
			h.Vel.AddCustomer(vc)
			tt.taken(h.QBO)
			before := len(h.QBO.Entities("Customer"))

			var out createOutput
			h.mustJSON(&out, "customers", "create", vc.ID, "--json")
			if out.QBOName != tt.wantName || out.Renamed != (tt.wantName != "Harbor Lights") || out.Found {
				t.Errorf("create: got %+v; want name %q", out, tt.wantName)
			}
			custs := h.QBO.Entities("Customer")
			if len(custs) != before+1 {
				t.Fatalf("QBO customers: got %d; want %d", len(custs), before+1)
			}
			got := custs[len(custs)-1].Raw
			if got["Id"] != out.QBOID || got["DisplayName"] != tt.wantName || got["GivenName"] != "Noémie" || got["CompanyName"] != "Harbor Lights" {
				t.Errorf("created QBO customer: got %v", got)
			}
			if a, _ := got["PrimaryEmailAddr"].(map[string]any); a["Address"] != vc.Email {
				t.Errorf("PrimaryEmailAddr: got %v; want %s", got["PrimaryEmailAddr"], vc.Email)
			}
			if a, _ := got["ShipAddr"].(map[string]any); a["City"] != "Montréal" || a["CountrySubDivisionCode"] != "QC" {
				t.Errorf("ShipAddr: got %v", got["ShipAddr"])
			}
			if diff := cmp.Diff(map[string]string{vc.ID: out.QBOID + "/create"}, h.links("customers")); diff != "" {
				t.Errorf("links (-want +got):\n%s", diff)
			}

			r := h.MustRun(exitUsage, "", "customers", "create", vc.ID)
			if !strings.Contains(r.Stderr, "already linked") {
				t.Errorf("second create: stderr %q; want already linked", r.Stderr)
			}
			// Unlinked by hand, a re-create finds the customer it made
			// rather than making another.
			h.MustRun(exitOK, "", "customers", "unlink", vc.ID)
			r = h.MustRun(exitOK, "", "customers", "create", vc.ID)
			if !strings.Contains(r.Stdout, "found (created by an earlier run)") || !strings.Contains(r.Stdout, out.QBOID) {
				t.Errorf("re-create after unlink: got %q; want the earlier customer %s found", r.Stdout, out.QBOID)
			}
			if n := len(h.QBO.Entities("Customer")); n != before+1 {
				t.Errorf("QBO customers after re-create: got %d; want %d", n, before+1)
			}
		})
	}
}

func TestCustomersCreate_Refused(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 0)
	h.Connect()
	vc := harborCustomer()
	h.Vel.AddCustomer(vc)
	h.QBO.AddVendorName("Harbor Lights")
	h.QBO.AddEmployeeName("Harbor Lights (C00900)")
	r := h.MustRun(exitUsage, "", "customers", "create", vc.ID)
	if !strings.Contains(r.Stderr, `"Harbor Lights (C00900)"`) || !strings.Contains(r.Stderr, "customers link") {
		t.Errorf("both names taken: stderr %q; want both names and the link command", r.Stderr)
	}
	if got := h.links("customers"); len(got) != 0 {
		t.Errorf("links: got %v; want none", got)
	}
	r = h.MustRun(exitUsage, "", "customers", "create", "cus_nope")
	if !strings.Contains(r.Stderr, "Velocity has no customer cus_nope") {
		t.Errorf("unknown customer: stderr %q", r.Stderr)
	}
	h.MustRun(exitUsage, "", "customers", "create")
}

func TestCustomersSync(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 0)
	h.Connect()
	vc := harborCustomer()
	h.Vel.AddCustomer(vc)

	r := h.MustRun(exitUsage, "", "customers", "sync", vc.ID, "--keep", "velocity")
	if !strings.Contains(r.Stderr, "not linked") {
		t.Errorf("sync unlinked: stderr %q; want not linked", r.Stderr)
	}
	var created createOutput
	h.mustJSON(&created, "customers", "create", vc.ID, "--json")
	qid := created.QBOID
	h.MustRun(exitUsage, "", "customers", "sync", vc.ID)
	h.MustRun(exitUsage, "", "customers", "sync", vc.ID, "--keep", "both")

	var out syncOutput
	syncJSON := func(keep string) syncOutput {
		t.Helper()
		var o syncOutput
		h.mustJSON(&o, "customers", "sync", vc.ID, "--keep", keep, "--json", "--yes")
		return o
	}
	fields := func(o syncOutput) []string {
		var f []string
		for _, c := range o.Changes {
			f = append(f, c.Field)
		}
		return f
	}

	t.Run("FreshlyCreatedIsInSync", func(t *testing.T) {
		for _, keep := range []string{"velocity", "qbo"} {
			r := h.MustRun(exitOK, "", "customers", "sync", vc.ID, "--keep", keep)
			if !strings.Contains(r.Stdout, "already in sync") {
				t.Errorf("--keep %s: got %q; want already in sync", keep, r.Stdout)
			}
		}
		if n := h.qboOps("Customer", "update"); n != 0 {
			t.Errorf("QBO updates: got %d; want 0", n)
		}
		if n := h.velocityPatches(); n != 0 {
			t.Errorf("Velocity PATCHes: got %d; want 0", n)
		}
	})

	t.Run("KeepVelocity", func(t *testing.T) {
		vc.Email = "noemie.dubois@example.com"
		vc.Phone = "+1-555-010-9999"
		vc.BillingAddress.Line1 = "99 Rue Sainte-Catherine"
		h.Vel.AddCustomer(vc)
		out = syncJSON("velocity")
		if diff := cmp.Diff([]string{"email", "phone", "billing address"}, fields(out)); diff != "" || !out.Written {
			t.Errorf("sync --keep velocity: written %v, fields (-want +got):\n%s", out.Written, diff)
		}
		if got, want := out.Changes[0].String(), "email: noemie@example.com → noemie.dubois@example.com"; got != want {
			t.Errorf("change: got %q; want %q", got, want)
		}
		e, _ := h.QBO.Get("Customer", qid)
		p := reconcile.FromQBO(mustQBOCustomer(t, e.Raw))
		if p.Email != vc.Email || p.Phone != vc.Phone || p.Billing.Line1 != vc.BillingAddress.Line1 || p.Shipping.Line1 != "12 Rue Sainte-Catherine" {
			t.Errorf("QBO customer after sync: got %+v", p)
		}
		if n := h.qboOps("Customer", "update"); n != 1 {
			t.Errorf("QBO updates: got %d; want 1", n)
		}
		// Safe to repeat: nothing differs, nothing is written.
		out = syncJSON("velocity")
		if out.Written || len(out.Changes) != 0 {
			t.Errorf("second sync: got %+v; want no change", out)
		}
		r := h.MustRun(exitOK, "", "customers", "sync", vc.ID, "--keep", "velocity")
		if !strings.Contains(r.Stdout, "already in sync") {
			t.Errorf("third sync: got %q; want already in sync", r.Stdout)
		}
		if n := h.qboOps("Customer", "update"); n != 1 {
			t.Errorf("QBO updates after repeats: got %d; want 1", n)
		}
	})

	t.Run("KeepQBO", func(t *testing.T) {
		err := h.QBO.PersonEdit("Customer", qid, func(m map[string]any) {
			m["PrimaryPhone"] = map[string]any{"FreeFormNumber": "+1-555-010-4242"}
			m["PrimaryEmailAddr"] = map[string]any{"Address": "ap@harbor.example"}
			ship, _ := m["ShipAddr"].(map[string]any)
			ship["Line1"] = "1 Harbour St"
			ship["PostalCode"] = "H2Y 1A1"
		})
		if err != nil {
			t.Fatal(err)
		}
		r := h.MustRun(exitOK, "", "customers", "sync", vc.ID, "--keep", "qbo", "--yes")
		for _, s := range []string{"updated Velocity customer cus_900", "phone: +1-555-010-9999 → +1-555-010-4242", "shipping address: 12 Rue Sainte-Catherine, Montréal QC H2Y 1C6, CA → 1 Harbour St, Montréal QC H2Y 1A1, CA"} {
			if !strings.Contains(r.Stdout, s) {
				t.Errorf("sync --keep qbo output lacks %q:\n%s", s, r.Stdout)
			}
		}
		got, _ := h.Vel.Customer(vc.ID)
		if got.Phone != "+1-555-010-4242" || got.Email != "ap@harbor.example" || got.ShippingAddress.Line1 != "1 Harbour St" {
			t.Errorf("Velocity customer after sync: got %+v", got)
		}
		// The address's own name and company, which QBO does not hold, survive.
		if got.ShippingAddress.Name != "Noémie Dubois" || got.ShippingAddress.Company != "Harbor Lights" {
			t.Errorf("shipping address name/company: got %q/%q; want them kept", got.ShippingAddress.Name, got.ShippingAddress.Company)
		}
		if n := h.velocityPatches(); n != 1 {
			t.Errorf("Velocity PATCHes: got %d; want 1", n)
		}
		out = syncJSON("qbo")
		if out.Written || len(out.Changes) != 0 {
			t.Errorf("second sync --keep qbo: got %+v; want no change", out)
		}
		if n := h.velocityPatches(); n != 1 {
			t.Errorf("Velocity PATCHes after repeat: got %d; want 1", n)
		}
		if n := h.qboOps("Customer", "update"); n != 1 {
			t.Errorf("QBO updates: got %d; want still 1", n)
		}
	})

	t.Run("StaleSyncTokenRereadOnce", func(t *testing.T) {
		cur, _ := h.Vel.Customer(vc.ID)
		cur.Phone = "+1-555-010-7777"
		h.Vel.AddCustomer(cur)
		// Someone saves the customer in QBO while our update is on the wire.
		arrived, hold := make(chan struct{}, 1), make(chan struct{})
		h.QBO.Inject(qbotest.Injection{Times: 1, Hold: hold, Match: func(c *qbotest.Call) bool {
			if c.Entity != "Customer" || c.Operation != "update" {
				return false
			}
			select {
			case arrived <- struct{}{}:
			default:
			}
			return true
		}})
		done := make(chan result, 1)
		go func() { done <- h.Run("", "customers", "sync", vc.ID, "--keep", "velocity", "--yes") }()
		<-arrived
		if err := h.QBO.PersonEdit("Customer", qid, func(m map[string]any) { m["Notes"] = "called on Tuesday" }); err != nil {
			t.Fatal(err)
		}
		close(hold)
		r := <-done
		if r.Code != exitOK || !strings.Contains(r.Stdout, "phone: +1-555-010-4242 → +1-555-010-7777") {
			t.Fatalf("sync with a stale SyncToken: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
		}
		e, _ := h.QBO.Get("Customer", qid)
		p := reconcile.FromQBO(mustQBOCustomer(t, e.Raw))
		if p.Phone != "+1-555-010-7777" || e.Raw["Notes"] != "called on Tuesday" {
			t.Errorf("QBO customer: phone %q, notes %v; want the new phone and the person's note", p.Phone, e.Raw["Notes"])
		}
		var statuses []int
		for _, c := range h.QBO.Requests() {
			if c.Entity == "Customer" && c.Operation == "update" {
				statuses = append(statuses, c.Status)
			}
		}
		if diff := cmp.Diff([]int{200, 400, 200}, statuses); diff != "" {
			t.Errorf("QBO update statuses (-want +got):\n%s", diff)
		}
	})
}

func TestCustomersSync_FileSourceCannotKeepQBO(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 0)
	h.emptyLedger() // without one, "no database at" (exit 3) comes first
	r := h.MustRun(exitUsage, "", "customers", "sync", "cus_1", "--keep", "qbo", "--velocity-file", "/nonexistent.ndjson")
	if !strings.Contains(r.Stderr, "needs its API") {
		t.Errorf("stderr: got %q; want it to say the API is needed", r.Stderr)
	}
}

// mustQBOCustomer decodes a stored fake entity as the client would.
func mustQBOCustomer(t *testing.T, raw map[string]any) *qbo.Customer {
	t.Helper()
	b, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	var c qbo.Customer
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return &c
}

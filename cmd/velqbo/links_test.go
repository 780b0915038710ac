package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/schema"
)

// runInteractive runs velqbo as on a terminal: it may ask, and stdin
// answers.
func (h *harness) runInteractive(stdin string, args ...string) result {
	h.t.Helper()
	var out, errb bytes.Buffer
	m := &Main{
		Stdin:       strings.NewReader(stdin),
		Stdout:      &out,
		Stderr:      &errb,
		Getenv:      envFunc(h.Env),
		Now:         time.Now,
		IsTerminal:  func() bool { return false },
		Interactive: func() bool { return true },
	}
	code := m.Run(h.t.Context(), args)
	return result{Code: code, Stdout: out.String(), Stderr: errb.String()}
}

// linkAudit lists the link moves in the audit log as "operation
// source_id qbo_id", oldest first.
func (h *harness) linkAudit(kind schema.LinkKind) []string {
	h.t.Helper()
	st, err := schema.Open(h.t.Context(), h.Env["VELQBO_DB"])
	if err != nil {
		h.t.Fatal(err)
	}
	defer st.Close()
	es, err := st.ListAudit(h.t.Context(), schema.AuditFilter{SourceKind: string(kind)})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for i := len(es) - 1; i >= 0; i-- {
		if es[i].Operation == "link" || es[i].Operation == "unlink" {
			out = append(out, es[i].Operation+" "+es[i].SourceID+" "+es[i].QBOID)
		}
	}
	return out
}

func TestCustomersLink_Refusals(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 0)
	h.Connect()
	harbor := harborCustomer()
	h.Vel.AddCustomer(harbor)
	other := harborCustomer()
	other.ID, other.Number, other.Email = "cus_901", "C00901", "other@example.com"
	h.Vel.AddCustomer(other)
	q := h.QBO.AddCustomer("Harbor Lights", "noemie@example.com")
	dormant := h.QBO.AddCustomer("Dormant", "")
	if err := h.QBO.PersonEdit("Customer", dormant, func(m map[string]any) { m["Active"] = false }); err != nil {
		t.Fatal(err)
	}
	h.MustRun(exitOK, "", "customers", "link", harbor.ID, q)

	tests := []struct {
		name string
		args []string
		want []string // parts of stderr
	}{
		{"UnknownVelocityID", []string{"cus_nope", q}, []string{"Velocity has no customer cus_nope"}},
		{"UnknownQBOID", []string{other.ID, "9999"}, []string{"QBO has no customer with id 9999"}},
		{"InactiveQBO", []string{other.ID, dormant}, []string{`QBO customer ` + dormant + ` ("Dormant") is inactive`}},
		{"HeldByAnother", []string{other.ID, q}, []string{`QBO customer ` + q + ` ("Harbor Lights") is already linked to Velocity customer cus_900`, "--force"}},
		{"ForceDoesNotLinkMissing", []string{"cus_nope", q, "--force"}, []string{"Velocity has no customer cus_nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.MustRun(exitUsage, "", append([]string{"customers", "link"}, tt.args...)...)
			for _, w := range tt.want {
				if !strings.Contains(r.Stderr, w) {
					t.Errorf("stderr %q; want it to contain %q", r.Stderr, w)
				}
			}
			if diff := cmp.Diff(map[string]string{harbor.ID: q + "/manual"}, h.links("customers")); diff != "" {
				t.Errorf("links after a refusal (-want +got):\n%s", diff)
			}
		})
	}

	// Linking the same pair again is no conflict.
	h.MustRun(exitOK, "", "customers", "link", harbor.ID, q)
	if got := h.linkAudit(schema.CustomerLinks); len(got) != 0 {
		t.Errorf("audit before any move: got %q; want none", got)
	}

	r := h.MustRun(exitOK, "", "customers", "link", other.ID, q, "--force")
	for _, w := range []string{"unlinked Velocity customer cus_900 from QBO customer " + q, "linked Velocity customer cus_901 to QBO customer " + q} {
		if !strings.Contains(r.Stdout, w) {
			t.Errorf("--force: stdout %q; want %q", r.Stdout, w)
		}
	}
	if diff := cmp.Diff(map[string]string{other.ID: q + "/manual"}, h.links("customers")); diff != "" {
		t.Errorf("links after --force (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"unlink cus_900 " + q, "link cus_901 " + q}, h.linkAudit(schema.CustomerLinks)); diff != "" {
		t.Errorf("audit of the move (-want +got):\n%s", diff)
	}
}

func TestCustomersLink_ExportSource(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 5)
	h.Connect()
	file := filepath.Join(t.TempDir(), "export.ndjson")
	var b bytes.Buffer
	if err := h.Data.WriteNDJSON(&b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	q := h.QBO.AddCustomer("Someone", "")
	r := h.MustRun(exitUsage, "", "customers", "link", "cus_nope", q, "--velocity-file", file)
	if !strings.Contains(r.Stderr, "Velocity has no customer cus_nope") {
		t.Errorf("stderr %q; want the unknown id named", r.Stderr)
	}
	h.MustRun(exitOK, "", "customers", "link", h.Data.Customers[0].ID, q, "--velocity-file", file)
}

func TestProductsLink_Refusals(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 5)
	h.Connect()
	p0, p1 := h.Data.Products[0].ID, h.Data.Products[1].ID
	item := h.QBO.AddItem("Legacy part", "")
	h.MustRun(exitOK, "", "products", "link", p0, item)

	r := h.MustRun(exitUsage, "", "products", "link", "prod_nope", item)
	if !strings.Contains(r.Stderr, "Velocity has no product prod_nope") {
		t.Errorf("unknown product: stderr %q", r.Stderr)
	}
	r = h.MustRun(exitUsage, "", "products", "link", p1, "9999")
	if !strings.Contains(r.Stderr, "QBO has no item with id 9999") {
		t.Errorf("unknown item: stderr %q", r.Stderr)
	}
	r = h.MustRun(exitUsage, "", "products", "link", p1, item)
	if !strings.Contains(r.Stderr, "already linked to Velocity product "+p0) || !strings.Contains(r.Stderr, "--force") {
		t.Errorf("held item: stderr %q; want it to name %s and --force", r.Stderr, p0)
	}
	if diff := cmp.Diff(map[string]string{p0: item + "/manual"}, h.links("products")); diff != "" {
		t.Errorf("links after refusals (-want +got):\n%s", diff)
	}
	// An item is shared, not moved: both products keep selling as it.
	r = h.MustRun(exitOK, "", "products", "link", p1, item, "--force")
	if want := "shared with Velocity product " + p0; !strings.Contains(r.Stdout, want) {
		t.Errorf("--force: stdout %q; want it to say %q", r.Stdout, want)
	}
	if diff := cmp.Diff(map[string]string{p0: item + "/manual", p1: item + "/manual"}, h.links("products")); diff != "" {
		t.Errorf("links after --force (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"link " + p1 + " " + item}, h.linkAudit(schema.ProductLinks)); diff != "" {
		t.Errorf("audit of the shared link (-want +got):\n%s", diff)
	}
}

func TestCustomersCreate_ExistingEmail(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 0)
	h.Connect()
	vc := harborCustomer()
	h.Vel.AddCustomer(vc)
	q := h.QBO.AddCustomer("N. Dubois (old account)", "Noemie@Example.com")

	r := h.MustRun(exitUsage, "", "customers", "create", vc.ID)
	for _, w := range []string{`QBO customer ` + q + ` "N. Dubois (old account)" (same email noemie@example.com)`,
		"velqbo customers link cus_900 " + q, "--link-existing", "velqbo customers create cus_900 --force-new"} {
		if !strings.Contains(r.Stderr, w) {
			t.Errorf("create with a taken email: stderr %q; want %q", r.Stderr, w)
		}
	}
	if n := h.qboOps("Customer", "create"); n != 0 {
		t.Errorf("QBO customer creates: got %d; want 0", n)
	}
	if got := h.links("customers"); len(got) != 0 {
		t.Errorf("links: got %v; want none", got)
	}
	h.MustRun(exitUsage, "", "customers", "create", vc.ID, "--link-existing", "--force-new")

	var out createOutput
	h.mustJSON(&out, "customers", "create", vc.ID, "--link-existing", "--json")
	if want := (createOutput{VelocityID: vc.ID, QBOID: q, QBOName: "N. Dubois (old account)", Linked: true}); out != want {
		t.Errorf("--link-existing: got %+v; want %+v", out, want)
	}
	if diff := cmp.Diff(map[string]string{vc.ID: q + "/manual"}, h.links("customers")); diff != "" {
		t.Errorf("links after --link-existing (-want +got):\n%s", diff)
	}

	h.MustRun(exitOK, "", "customers", "unlink", vc.ID)
	var forced createOutput
	h.mustJSON(&forced, "customers", "create", vc.ID, "--force-new", "--json")
	if forced.QBOID == q || forced.QBOID == "" || forced.Linked {
		t.Errorf("--force-new: got %+v; want a new customer", forced)
	}
	if n := h.qboOps("Customer", "create"); n != 1 {
		t.Errorf("QBO customer creates: got %d; want 1", n)
	}
}

func TestCustomersCreate_SeveralWithEmail(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 0)
	h.Connect()
	vc := harborCustomer()
	h.Vel.AddCustomer(vc)
	a := h.QBO.AddCustomer("Account A", vc.Email)
	b := h.QBO.AddCustomer("Account B", vc.Email)
	r := h.MustRun(exitUsage, "", "customers", "create", vc.ID, "--link-existing")
	for _, w := range []string{"QBO customer " + a, "QBO customer " + b, "velqbo customers link cus_900 QBO_ID"} {
		if !strings.Contains(r.Stderr, w) {
			t.Errorf("stderr %q; want %q", r.Stderr, w)
		}
	}
	if got := h.links("customers"); len(got) != 0 {
		t.Errorf("links: got %v; want none", got)
	}
}

func TestCustomersSync_ShowsAndAsks(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 0)
	h.Connect()
	vc := harborCustomer()
	h.Vel.AddCustomer(vc)
	var created createOutput
	h.mustJSON(&created, "customers", "create", vc.ID, "--json")
	qid := created.QBOID
	vc.Email, vc.Phone = "noemie.dubois@example.com", "+1-555-010-9999"
	h.Vel.AddCustomer(vc)
	wantLines := []string{
		"QBO customer " + qid + " (Harbor Lights) would change, from Velocity customer cus_900:",
		"  email: noemie@example.com → noemie.dubois@example.com",
		"  phone: +1-555-010-0900 → +1-555-010-9999",
	}

	t.Run("NoTerminalNoYes", func(t *testing.T) {
		r := h.MustRun(exitUsage, "", "customers", "sync", vc.ID, "--keep", "velocity")
		for _, w := range wantLines {
			if !strings.Contains(r.Stdout, w) {
				t.Errorf("stdout %q; want %q", r.Stdout, w)
			}
		}
		if !strings.Contains(r.Stderr, "pass --yes") {
			t.Errorf("stderr %q; want it to say --yes", r.Stderr)
		}
		var out syncOutput
		r = h.MustRun(exitUsage, "", "customers", "sync", vc.ID, "--keep", "velocity", "--json")
		if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil || out.Written || len(out.Changes) != 2 {
			t.Errorf("--json without --yes: got %+v (%v); want 2 changes, not written", out, err)
		}
		if n := h.qboOps("Customer", "update"); n != 0 {
			t.Errorf("QBO updates: got %d; want 0", n)
		}
	})
	t.Run("TerminalDeclined", func(t *testing.T) {
		r := h.runInteractive("n\n", "customers", "sync", vc.ID, "--keep", "velocity")
		if r.Code != exitOK || !strings.Contains(r.Stderr, "Write 2 change(s) to QBO customer "+qid) || !strings.Contains(r.Stdout, "nothing written") {
			t.Errorf("declined: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
		}
		if n := h.qboOps("Customer", "update"); n != 0 {
			t.Errorf("QBO updates: got %d; want 0", n)
		}
	})
	t.Run("TerminalConfirmed", func(t *testing.T) {
		r := h.runInteractive("y\n", "customers", "sync", vc.ID, "--keep", "velocity")
		if r.Code != exitOK || !strings.Contains(r.Stdout, wantLines[1]) || !strings.Contains(r.Stdout, "updated QBO customer "+qid) {
			t.Errorf("confirmed: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
		}
		if n := h.qboOps("Customer", "update"); n != 1 {
			t.Errorf("QBO updates: got %d; want 1", n)
		}
	})
	t.Run("KeepQBOEmailCase", func(t *testing.T) {
		// The comparison once folded case and called these in sync.
		if err := h.QBO.PersonEdit("Customer", qid, func(m map[string]any) {
			m["PrimaryEmailAddr"] = map[string]any{"Address": "Noemie.Dubois@example.com"}
		}); err != nil {
			t.Fatal(err)
		}
		r := h.MustRun(exitOK, "", "customers", "sync", vc.ID, "--keep", "qbo", "--yes")
		if !strings.Contains(r.Stdout, "email: noemie.dubois@example.com → Noemie.Dubois@example.com") {
			t.Errorf("stdout %q; want the email's case change", r.Stdout)
		}
		if got, _ := h.Vel.Customer(vc.ID); got.Email != "Noemie.Dubois@example.com" {
			t.Errorf("Velocity email: got %q", got.Email)
		}
		r = h.MustRun(exitOK, "", "customers", "sync", vc.ID, "--keep", "qbo")
		if !strings.Contains(r.Stdout, "already in sync") {
			t.Errorf("after the write: stdout %q; want already in sync", r.Stdout)
		}
	})
	t.Run("KeepQBOBlankIsNotInSync", func(t *testing.T) {
		if err := h.QBO.PersonEdit("Customer", qid, func(m map[string]any) {
			delete(m, "PrimaryPhone")
			delete(m, "GivenName")
		}); err != nil {
			t.Fatal(err)
		}
		r := h.MustRun(exitOK, "", "customers", "sync", vc.ID, "--keep", "qbo")
		if strings.Contains(r.Stdout, "already in sync") {
			t.Errorf("stdout %q; the profiles differ, want no \"already in sync\"", r.Stdout)
		}
		for _, w := range []string{"QBO has them blank and sync never erases", "first name: Noémie → (empty)", "phone: +1-555-010-9999 → (empty)"} {
			if !strings.Contains(r.Stdout, w) {
				t.Errorf("stdout %q; want %q", r.Stdout, w)
			}
		}
		if n := h.velocityPatches(); n != 1 {
			t.Errorf("Velocity PATCHes: got %d; want 1 (the email case only)", n)
		}
	})
}

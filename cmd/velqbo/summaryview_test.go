package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/reconcile"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files of testdata/summary")

// summaryFixture is a catch-up: n creates (receipts and invoices), an
// update, four orders blocked on two unlinked products (one of them also
// on a customer), and one QBO refused without a structured reason.
func summaryFixture(n int) *reconcile.Summary {
	sum := &reconcile.Summary{RunID: "run_1", Mode: reconcile.ModeFull}
	for i := range n {
		typ := "SalesReceipt"
		if i%3 == 0 {
			typ = "Invoice"
		}
		sum.Items = append(sum.Items, reconcile.Item{Kind: "order", SourceID: fmt.Sprintf("ord_%d", i), OrderNumber: fmt.Sprint(1000 + i),
			Action: reconcile.ActionCreate, QBOType: typ, DocNumber: fmt.Sprintf("V%d", 1000+i)})
		sum.Counts.Created++
	}
	sum.Items = append(sum.Items, reconcile.Item{Kind: "shipment", SourceID: "ord_x", OrderNumber: "900", Action: reconcile.ActionUpdate,
		QBOType: "Invoice", QBOID: "77", DocNumber: "V900"})
	sum.Counts.Updated++
	product := func(id string) reconcile.Reason {
		return reconcile.Reason{Code: reconcile.CodeProductNotLinked, Subject: reconcile.Subject{Kind: reconcile.SubjectProduct, ID: id}, Text: "product " + id + " is not linked"}
	}
	customer := reconcile.Reason{Code: reconcile.CodeCustomerNotLinked, Subject: reconcile.Subject{Kind: reconcile.SubjectCustomer, ID: "cus_9"}, Text: "customer cus_9 is not linked"}
	for i, rs := range []reconcile.Reasons{{product("prod_7")}, {product("prod_7"), customer}, {product("prod_7"), product("prod_9")}, {product("prod_9")}} {
		sum.Items = append(sum.Items, reconcile.Item{Kind: "order", SourceID: fmt.Sprintf("ord_b%d", i), OrderNumber: fmt.Sprint(2000 + i),
			Action: reconcile.ActionBlocked, QBOType: "SalesReceipt", Reason: rs.Render((&Main{}).fixText), Reasons: rs})
		sum.Counts.Blocked++
	}
	sum.Items = append(sum.Items, reconcile.Item{Kind: "payment", SourceID: "pay_1", OrderNumber: "3000", Action: reconcile.ActionFailed,
		QBOType: "Payment", Reason: "QBO refused it: [6000] A business validation error has occurred"})
	sum.Counts.Failed++
	return sum
}

// TestPrintSummary compares the text of run and plan with the golden files
// in testdata/summary (go test -run TestPrintSummary -update rewrites them).
func TestPrintSummary(t *testing.T) {
	for _, tc := range []struct {
		name string
		sum  *reconcile.Summary
		f    runFlags
		plan bool
	}{
		{name: "plan_small", sum: summaryFixture(4), plan: true},
		{name: "plan_catchup", sum: summaryFixture(120), plan: true},
		{name: "plan_only_update_failed", sum: summaryFixture(120), f: runFlags{only: "update,failed"}, plan: true},
		{name: "run_catchup", sum: summaryFixture(6)},
		{name: "run_only_blocked", sum: summaryFixture(6), f: runFlags{only: "blocked"}},
		{name: "plan_nothing", sum: &reconcile.Summary{Mode: reconcile.ModeIncremental, Counts: reconcile.Counts{Unchanged: 12}}, plan: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := tc.f.view(tc.plan)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			printSummary(&out, tc.sum, v)
			path := filepath.Join("testdata", "summary", tc.name+".txt")
			if *updateGolden {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), out.String()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", path, diff)
			}
		})
	}
}

// TestReport_OnlyJSON: --only narrows the items of --json, not its counts
// or the exit code; without --only the JSON is the summary as it is.
func TestReport_OnlyJSON(t *testing.T) {
	for _, tc := range []struct {
		only      string
		wantItems int
	}{
		{"", 10},
		{"create", 4},
		{"blocked,failed", 5},
		{"void", 0},
	} {
		t.Run("only="+tc.only, func(t *testing.T) {
			sum := summaryFixture(4)
			var out bytes.Buffer
			m := &Main{Stdout: &out}
			v, err := (&runFlags{asJSON: true, only: tc.only}).view(true)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.report(sum, v); err != errIncomplete {
				t.Errorf("report: got %v; want errIncomplete (exit 1: items are blocked)", err)
			}
			var got reconcile.Summary
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if len(got.Items) != tc.wantItems || got.Counts != sum.Counts {
				t.Errorf("items %d, counts %+v; want %d items and counts %+v", len(got.Items), got.Counts, tc.wantItems, sum.Counts)
			}
			if len(sum.Items) != 10 {
				t.Errorf("the summary itself lost items: %d left", len(sum.Items))
			}
		})
	}
}

func TestView_OnlyRefused(t *testing.T) {
	for _, only := range []string{"created", "noop", "blocked,", "all"} {
		if _, err := (&runFlags{only: only}).view(true); err == nil {
			t.Errorf("--only %q: got no error; want a usage error", only)
		}
	}
}

// TestE2E_PlanForPeople: through Main, plan says "would create" and groups
// by action, --only narrows the listing, and an unknown --only value is a
// usage error; run keeps "created".
func TestE2E_PlanForPeople(t *testing.T) {
	e := newE2E(t, e2eOptions{})
	e2eScenario(e.Vel, 5)
	r := e.exec("plan", "--full")
	for _, want := range []string{"Plan (full): would create ", "\nwould create  "} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("plan: want %q in\n%s", want, r.Stdout)
		}
	}
	if r := e.exec("plan", "--full", "--only", "void"); strings.Contains(r.Stdout, "ACTION") {
		t.Errorf("plan --only void: got a listing\n%s", r.Stdout)
	}
	if r := e.exec("plan", "--only", "everything"); r.Code != exitUsage || !strings.Contains(r.Stderr, "--only") {
		t.Errorf("plan --only everything: exit %d, stderr %q; want %d naming --only", r.Code, r.Stderr, exitUsage)
	}
	r = e.exec("run", "--full", "--only", "update")
	if !strings.Contains(r.Stdout, "): created ") || strings.Contains(r.Stdout, "\ncreate ") {
		t.Errorf("run --only update: want \"created\" and no create listed\n%s", r.Stdout)
	}
}

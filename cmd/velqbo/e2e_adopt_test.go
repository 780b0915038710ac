package main

// End-to-end tests of issue 10's ledger stories through Main against
// qbotest: a ledger restored from an old backup, a lost ledger (with and
// without `ledger rebuild`), and documents another integration posted
// before velqbo (blocked, then `adopt`). QBO's own requestid memory is
// wiped before the run under test, so only velqbo's look before create
// stands between a resend and a duplicate.

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/velocity"
)

// copyDB copies the ledger file and its -wal/-shm companions (when there
// are any) from src to dst, as a backup tool copying a quiet database would.
func copyDB(t *testing.T, src, dst string) {
	t.Helper()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		in, err := os.Open(src + suffix)
		if os.IsNotExist(err) {
			os.Remove(dst + suffix)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.OpenFile(dst+suffix, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			t.Fatal(err)
		}
		in.Close()
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// newLedger points the harness at an empty database and prepares it the
// way newE2E did: connected, cus_1, prod_1 and prod_2 linked, settings set.
func (e *e2e) newLedger() {
	e.t.Helper()
	e.Env["VELQBO_DB"] = filepath.Join(e.t.TempDir(), "velqbo.db")
	e.Connect()
	e.mustExec(exitOK, "customers", "link", "cus_1", e.Cust)
	e.mustExec(exitOK, "products", "link", "prod_1", e.Seed.Products["SKU-1"])
	e.mustExec(exitOK, "products", "link", "prod_2", e.Seed.Products["SKU-2"])
	e.mustExec(exitOK, sandboxSettingsArgs(e.Seed, "start_date="+e2eStartDate)...)
}

// createsSince returns the create calls (single or batch) since mark.
func (e *e2e) createsSince(mark int) []string {
	var out []string
	for _, c := range e.writesSince(mark) {
		if c.Operation == "create" || c.Operation == "batch" {
			out = append(out, c.Method+" "+c.Path)
		}
	}
	return out
}

// adoptMoreOrders adds n orders numbered from 3001, of the same kinds as
// e2eScenario, and returns their books.
func adoptMoreOrders(e *e2e, n int) []bookDoc {
	var want []bookDoc
	for i := range n {
		id, num := fmt.Sprintf("mo%d", i+1), fmt.Sprint(3001+i)
		var o *velocity.Order
		switch i % 3 {
		case 0:
			o = e2eTerms(id, num, 1)
			o.Payments = []velocity.Payment{{ID: "p" + id, Amount: d("10.00"), Method: velocity.MethodCheck, CreatedAt: *at(10, 9)}}
		case 1:
			o = e2eOrder(id, num, 2)
			o.Refunds = []velocity.Refund{{ID: "r" + id, CreatedAt: *at(11, 9), PaymentMethod: velocity.MethodCreditCard,
				Total: d("7.50"), Lines: []velocity.RefundLine{{Kind: velocity.RefundShipping, Amount: d("7.50")}}}}
		default:
			o = e2eOrder(id, num, 3)
		}
		e.Vel.AddOrder(o)
		want = append(want, expectedBooks(o)...)
	}
	return want
}

// TestE2E_RestoredBackup: run, back the ledger up, more orders and
// changes, run, put the old backup back, run: QBO ends with every
// document once, nothing already there is created again, and the
// documents the old ledger did not know are adopted.
func TestE2E_RestoredBackup(t *testing.T) {
	t.Parallel()
	e := newE2E(t, e2eOptions{})
	want := e2eScenario(e.Vel, 15)
	e.run(exitOK)
	checkBooks(t, e.QBO, want)

	db := e.Env["VELQBO_DB"]
	backup := filepath.Join(t.TempDir(), "backup.db")
	copyDB(t, db, backup)

	want = append(want, adoptMoreOrders(e, 9)...)
	// A payment on an invoice the backup knows, and an edit of an order
	// it knows.
	e.must(e.Vel.AddPayment("so3", velocity.Payment{ID: "px", Amount: d("5.00"), Method: velocity.MethodWire, CreatedAt: *at(21, 9)}))
	e.must(e.Vel.UpdateOrder("so1", func(o *velocity.Order) {
		o.Lines[0].Quantity = o.Lines[0].Quantity.Add(decimal.NewFromInt(1))
		o.Total = o.ComputedTotal()
	}))
	var fixed []bookDoc
	for _, b := range want {
		switch {
		case b.Source == "o:so1":
			b.Total = d(b.Total).Add(d("19.99")).StringFixed(2)
		case b.Source == "o:so3":
			b.Balance = d(b.Balance).Sub(d("5.00")).StringFixed(2)
		}
		fixed = append(fixed, b)
	}
	want = append(fixed, bookDoc{Type: "Payment", Source: "p:px", Total: "5.00"})
	e.run(exitOK)
	checkBooks(t, e.QBO, want)

	copyDB(t, backup, db)
	e.QBO.ForgetRequestIDs()
	mark := e.mark()
	sum := e.run(exitOK)
	if c := e.createsSince(mark); len(c) != 0 {
		t.Errorf("run on the restored ledger sent %d creates: %v; want none", len(c), c)
	}
	// 9 orders, 3 payments and 3 refunds, and the payment px; the edit
	// of so1 is sent again as an update (QBO holds it already, but the
	// old ledger's SyncToken is stale: it is refreshed and re-sent).
	if sum.Counts.Adopted != 16 || sum.Counts.Created != 0 {
		t.Errorf("counts %+v; want 16 adopted, none created", sum.Counts)
	}
	checkBooks(t, e.QBO, want)
	e.settle(2)
	checkBooks(t, e.QBO, want)
}

// TestE2E_LostDatabase: the ledger is gone. A run on a new one adopts
// every document QBO holds and creates none; so does `ledger rebuild`,
// after which a run sends nothing.
func TestE2E_LostDatabase(t *testing.T) {
	t.Parallel()
	for _, rebuild := range []bool{false, true} {
		t.Run(fmt.Sprintf("rebuild=%v", rebuild), func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, e2eOptions{})
			want := e2eScenario(e.Vel, 15)
			first := e.run(exitOK)
			checkBooks(t, e.QBO, want)
			if first.Counts.Created == 0 {
				t.Fatal("the first run created nothing")
			}
			// An order reported as an invoice: its receipt voided (QBO
			// replaces a voided document's PrivateNote, marker and all), an
			// Invoice under the same DocNumber.
			e.must(e.Vel.SetReportAsInvoice("so11", true))
			e.run(exitOK)
			var kept []bookDoc
			for _, b := range want {
				if b.Source == "o:so11" {
					b.Type, b.Balance = "Invoice", b.Total
				}
				kept = append(kept, b)
			}
			want = kept
			checkBooks(t, e.QBO, want)

			e.newLedger()
			e.QBO.ForgetRequestIDs()
			const younger = "The ledger looks younger than QBO"
			if r := e.mustExec(exitOK, "status"); !strings.Contains(r.Stdout, younger) {
				t.Errorf("status on the new ledger does not say it looks younger than QBO:\n%s", r.Stdout)
			}
			if rebuild {
				mark := e.mark()
				e.mustExec(exitOK, "ledger", "rebuild", "--since", "2025-01-01")
				if w := e.writesSince(mark); len(w) != 0 {
					t.Errorf("ledger rebuild wrote %d times: %+v", len(w), w)
				}
			}
			mark := e.mark()
			sum := e.run(exitOK)
			if w := e.writesSince(mark); len(w) != 0 {
				t.Errorf("run on the new ledger wrote %d times: %+v", len(w), w)
			}
			wantAdopted := len(want) // every live document; the voided receipt is not the order's
			if rebuild {
				wantAdopted = 0
			}
			if sum.Counts.Adopted != wantAdopted || sum.Counts.Created != 0 {
				t.Errorf("counts %+v; want %d adopted, none created", sum.Counts, wantAdopted)
			}
			checkBooks(t, e.QBO, want)
			e.settle(1)
			if r := e.mustExec(exitOK, "status"); strings.Contains(r.Stdout, younger) {
				t.Errorf("status after the ledger caught up still says it looks younger than QBO:\n%s", r.Stdout)
			}
		})
	}
}

// addForeign posts a SalesReceipt as another integration would: the same
// DocNumber as a Velocity order, no velqbo marker.
func addForeign(t *testing.T, e *e2e, docNumber string, qty int64, total string) string {
	t.Helper()
	sr := qbo.SalesReceipt{DocNumber: docNumber, CustomerRef: &qbo.Ref{Value: e.Cust}, PrivateNote: qbo.Ptr("Posted by ShopSync"),
		TxnDate: "2025-06-02",
		Line: []qbo.Line{{Amount: qbo.NewDecimal(d(total)), DetailType: "SalesItemLineDetail",
			SalesItemLineDetail: &qbo.SalesItemLineDetail{ItemRef: &qbo.Ref{Value: e.Seed.Products["SKU-1"]},
				Qty: qbo.NewDecimal(decimal.NewFromInt(qty)), UnitPrice: qbo.NewDecimal(d(total).Div(decimal.NewFromInt(qty)))}}}}
	b, err := json.Marshal(sr)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	id, err := e.QBO.Add("SalesReceipt", m)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestE2E_UnmarkedInQBO: another integration already posted two orders
// under their numbers. velqbo creates neither again: both are blocked
// with a reason naming the QBO document; `adopt --matching` takes the one
// whose customer and total agree and lists the other; `adopt 1002` takes
// that one too; then a run sends nothing for them.
func TestE2E_UnmarkedInQBO(t *testing.T) {
	t.Parallel()
	e := newE2E(t, e2eOptions{})
	e.Vel.AddOrder(e2eOrder("o1", "1001", 2)) // 54.73
	e.Vel.AddOrder(e2eOrder("o2", "1002", 1)) // 34.74
	e.Vel.AddOrder(e2eOrder("o3", "1003", 1))
	match := addForeign(t, e, "1001", 1, "54.73")
	other := addForeign(t, e, "1002", 1, "30.00")

	plan := e.summary(exitIncomplete, "plan")
	sum := e.run(exitIncomplete)
	if diff := cmp.Diff(items(plan), items(sum)); diff != "" {
		t.Errorf("plan vs run (-plan +run):\n%s", diff)
	}
	wantItems := []e2eItem{
		{"order", "o1", "blocked", "SalesReceipt", "1001"},
		{"order", "o2", "blocked", "SalesReceipt", "1002"},
		{"order", "o3", "create", "SalesReceipt", "1003"},
	}
	if diff := cmp.Diff(wantItems, items(sum)); diff != "" {
		t.Fatalf("first run (-want +got):\n%s", diff)
	}
	for _, it := range sum.Items[:2] {
		r := it.Reasons
		if len(r) != 1 || r[0].Code != reconcile.CodeExistsInQBOUnmarked || r[0].QBODoc.Type != "SalesReceipt" ||
			r[0].QBODoc.DocNumber != it.DocNumber || r[0].Fix.Action != reconcile.FixAdopt || r[0].Fix.ID != it.DocNumber {
			t.Errorf("%s: reasons %+v; want exists_in_qbo_unmarked naming the SalesReceipt, fix adopt", it.OrderNumber, r)
		}
		if !strings.Contains(it.Reason, "velqbo adopt "+it.OrderNumber) {
			t.Errorf("%s: reason %q; want it to give `velqbo adopt %s`", it.OrderNumber, it.Reason, it.OrderNumber)
		}
	}
	if got := sum.Items[0].Reasons[0].QBODoc.ID; got != match {
		t.Errorf("1001 names QBO document %s; want %s", got, match)
	}

	r := e.mustExec(exitIncomplete, "adopt", "--matching")
	if !strings.Contains(r.Stdout, "1001") || !strings.Contains(r.Stdout, "1002") || !strings.Contains(r.Stdout, "total") {
		t.Errorf("adopt --matching output:\n%s\nwant 1001 adopted and 1002 listed with its total", r.Stdout)
	}
	sum = e.run(exitIncomplete)
	if diff := cmp.Diff([]e2eItem{{"order", "o2", "blocked", "SalesReceipt", "1002"}}, items(sum)); diff != "" {
		t.Errorf("run after adopt --matching (-want +got):\n%s", diff)
	}
	e.mustExec(exitOK, "adopt", "1002")
	mark := e.mark()
	sum = e.run(exitOK)
	if w := e.writesSince(mark); len(w) != 0 || len(sum.Items) != 0 {
		t.Errorf("run after adopt: %d writes, items %+v; want none", len(w), sum.Items)
	}
	for dn, id := range map[string]string{"1001": match, "1002": other} {
		got := e.docs("SalesReceipt", dn)
		if len(got) != 1 || got[0].ID != id {
			t.Errorf("SalesReceipt %s: got %d documents %+v; want only the other integration's %s", dn, len(got), got, id)
		}
	}
	if n := len(e.docs("SalesReceipt", "1003")); n != 1 {
		t.Errorf("SalesReceipt 1003: %d documents; want 1", n)
	}
}

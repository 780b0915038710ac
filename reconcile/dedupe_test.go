package reconcile_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/velocity"
)

// dupExport writes orders as an NDJSON export, in the order given.
func dupExport(t *testing.T, orders ...*velocity.Order) string {
	t.Helper()
	var buf bytes.Buffer
	for _, o := range orders {
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		buf.WriteString(`{"type":"order",`)
		buf.Write(b[1:])
		buf.WriteByte('\n')
	}
	path := filepath.Join(t.TempDir(), "export.ndjson")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRunDuplicateOrderInOneRead: the same order id twice in one read (a
// duplicated export line, or an order edited while the API was paged) must
// never post the money twice, nor flip QBO between the copies run after run.
func TestRunDuplicateOrderInOneRead(t *testing.T) {
	t1 := engStart.Add(-2 * time.Hour)
	t2 := engStart.Add(-1 * time.Hour)
	copyAt := func(number string, qty int64, at time.Time) *velocity.Order {
		o := engOrder("ord_1", number, qty)
		o.UpdatedAt = at
		return o
	}
	tests := []struct {
		name      string
		orders    []*velocity.Order
		wantDoc   string // DocNumber of the one receipt; "" when blocked
		wantTotal string
	}{
		{"NewerSecond", []*velocity.Order{copyAt("1001", 1, t1), copyAt("1001", 3, t2)}, "1001", "59.97"},
		{"NewerFirst", []*velocity.Order{copyAt("1001", 3, t2), copyAt("1001", 1, t1)}, "1001", "59.97"},
		{"NumberChanged", []*velocity.Order{copyAt("1001", 1, t1), copyAt("1009", 2, t2)}, "1009", "39.98"},
		{"IdenticalLines", []*velocity.Order{copyAt("1001", 2, t1), copyAt("1001", 2, t1)}, "1001", "39.98"},
		{"TieDiffers", []*velocity.Order{copyAt("1001", 1, t1), copyAt("1001", 2, t1)}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newEngHarness(t)
			h.rec.Source = reconcile.FileSource{FileSource: velocity.OpenFileSource(dupExport(t, tt.orders...))}
			for run := 1; run <= 3; run++ {
				mark := h.mark()
				sum := h.run(reconcile.Options{Mode: reconcile.ModeFull})
				live := h.live("SalesReceipt")
				if tt.wantDoc == "" {
					if len(live) != 0 || sum.Counts.Blocked != 1 {
						t.Fatalf("run %d: got %d receipts, counts %+v; want none and 1 blocked", run, len(live), sum.Counts)
					}
					if it := sum.Items[0]; !strings.Contains(it.Reason, "appears more than once") ||
						!it.Reasons.Has(reconcile.CodeDuplicateInSource) {
						t.Errorf("reason: got %q %+v; want it to say the order appears more than once (%s)", it.Reason, it.Reasons, reconcile.CodeDuplicateInSource)
					}
					continue
				}
				if len(live) != 1 {
					t.Fatalf("run %d: got %d receipts in QBO; want exactly 1 (items %+v)", run, len(live), sum.Items)
				}
				if live[0].DocNumber != tt.wantDoc || !live[0].TotalAmt.Equal(engDec(tt.wantTotal)) {
					t.Errorf("run %d: receipt %s totalling %s; want %s totalling %s", run, live[0].DocNumber, live[0].TotalAmt, tt.wantDoc, tt.wantTotal)
				}
				if run > 1 {
					if w := h.writes(mark); w != 0 {
						t.Errorf("run %d: got %d writes; want 0 (the copies must not flip QBO back and forth)", run, w)
					}
				}
			}
		})
	}
}

// TestRunDuplicateOrderNamesSource: the reason that blocks a duplicated
// order names the configured source (Reconciler.SourceName), Velocity
// when none is set.
func TestRunDuplicateOrderNamesSource(t *testing.T) {
	at := engStart.Add(-time.Hour)
	tests := []struct {
		name, source, want, never string
	}{
		{"Default", "", "one read of Velocity with the same updated_at", "BigCommerce"},
		{"BigCommerce", "BigCommerce", "wait for BigCommerce to settle", "Velocity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newEngHarness(t)
			h.rec.SourceName = tt.source
			a, b := engOrder("ord_1", "1001", 1), engOrder("ord_1", "1001", 2)
			a.UpdatedAt, b.UpdatedAt = at, at
			h.rec.Source = reconcile.FileSource{FileSource: velocity.OpenFileSource(dupExport(t, a, b))}
			sum := h.run(reconcile.Options{Mode: reconcile.ModeFull})
			if len(sum.Items) != 1 || !sum.Items[0].Reasons.Has(reconcile.CodeDuplicateInSource) {
				t.Fatalf("items: got %+v; want the order blocked as %s", sum.Items, reconcile.CodeDuplicateInSource)
			}
			if got := sum.Items[0].Reason; !strings.Contains(got, tt.want) || strings.Contains(got, tt.never) {
				t.Errorf("reason: got %q; want %q in it and no %q", got, tt.want, tt.never)
			}
		})
	}
}

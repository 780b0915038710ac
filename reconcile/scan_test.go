package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// engSynthSource yields n orders built on the fly (nothing is held).
type engSynthSource struct{ n int }

func engSynthOrder(i int) *velocity.Order {
	o := engOrder("ord_"+strconv.Itoa(i), strconv.Itoa(100000+i), int64(1+i%5))
	o.UpdatedAt = engStart
	return o
}

func (s engSynthSource) Orders(_ context.Context, _ time.Time) iter.Seq2[*velocity.Order, error] {
	return func(yield func(*velocity.Order, error) bool) {
		for i := range s.n {
			if !yield(engSynthOrder(i), nil) {
				return
			}
		}
	}
}

func (s engSynthSource) GetOrder(_ context.Context, id string) (*velocity.Order, error) {
	i, err := strconv.Atoi(id[len("ord_"):])
	if err != nil || i >= s.n {
		return nil, velocity.ErrNotFound
	}
	return engSynthOrder(i), nil
}

// engNoQBO fails the test on any QBO call.
type engNoQBO struct{ calls atomic.Int64 }

var errNoQBO = errors.New("no QBO call expected")

func (q *engNoQBO) Create(context.Context, string, any, string) (reconcile.DocRef, error) {
	q.calls.Add(1)
	return reconcile.DocRef{}, errNoQBO
}
func (q *engNoQBO) SparseUpdate(context.Context, string, any, string) (reconcile.DocRef, error) {
	q.calls.Add(1)
	return reconcile.DocRef{}, errNoQBO
}
func (q *engNoQBO) Void(context.Context, string, string, string, string) (reconcile.DocRef, error) {
	q.calls.Add(1)
	return reconcile.DocRef{}, errNoQBO
}
func (q *engNoQBO) Get(context.Context, string, string) (reconcile.DocRef, error) {
	q.calls.Add(1)
	return reconcile.DocRef{}, errNoQBO
}
func (q *engNoQBO) FindByDocNumber(context.Context, string, []string) ([]reconcile.DocRef, error) {
	q.calls.Add(1)
	return nil, errNoQBO
}
func (q *engNoQBO) FindPayments(context.Context, string) ([]reconcile.DocRef, error) {
	q.calls.Add(1)
	return nil, errNoQBO
}
func (q *engNoQBO) Batch(context.Context, []reconcile.BatchWrite, string) ([]reconcile.BatchOutcome, error) {
	q.calls.Add(1)
	return nil, errNoQBO
}
func (q *engNoQBO) Company(context.Context) (reconcile.Company, error) {
	q.calls.Add(1)
	return reconcile.Company{}, errNoQBO
}

// engSyncedStore builds a ledger in which every synthetic order is already
// reported with its current fingerprint.
func engSyncedStore(tb testing.TB, n int) (*schema.Store, *engNoQBO, *reconcile.Reconciler) {
	tb.Helper()
	ctx := context.Background()
	st, err := schema.Open(ctx, filepath.Join(tb.TempDir(), "v.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	kv := map[string]string{reconcile.SettingDepositAccount: "35", "payment_method.credit_card": "3"}
	if err := st.SetSettings(ctx, kv); err != nil {
		tb.Fatal(err)
	}
	for _, l := range []struct {
		kind     schema.LinkKind
		vid, qid string
	}{{schema.CustomerLinks, "cus_1", "58"}, {schema.ProductLinks, "prod_1", "7"}} {
		if err := st.SaveLink(ctx, l.kind, schema.Link{VelocityID: l.vid, QBOID: l.qid, Method: schema.LinkManual}); err != nil {
			tb.Fatal(err)
		}
	}
	if err := st.SetCursor(ctx, "qbo.home_currency", "USD"); err != nil {
		tb.Fatal(err)
	}
	settings, err := reconcile.ParseSettings(kv, nil)
	if err != nil {
		tb.Fatal(err)
	}
	env := &reconcile.Env{Settings: settings, HomeCurrency: "USD",
		Customers: map[string]reconcile.Link{"cus_1": {QBOID: "58"}}, Products: map[string]reconcile.Link{"prod_1": {QBOID: "7"}}}
	var batch []schema.Document
	for i := range n {
		d := reconcile.MapOrder(engSynthOrder(i), env).Doc
		if len(d.Blocked) > 0 {
			tb.Fatalf("synthetic order blocked: %s", d.Blocked)
		}
		batch = append(batch, schema.Document{Kind: "order", SourceID: d.SourceID, OrderNumber: d.OrderNumber,
			QBOType: d.QBOType, QBOID: strconv.Itoa(i + 1), SyncToken: "0", DocNumber: d.DocNumber,
			Fingerprint: d.Fingerprint, State: schema.StateSent})
		if len(batch) == 5000 || i == n-1 {
			if err := st.ImportDocuments(ctx, batch); err != nil {
				tb.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	q := &engNoQBO{}
	return st, q, &reconcile.Reconciler{Source: engSynthSource{n: n}, Store: st, QBO: q, Realm: "1"}
}

// TestNoChangeScanStreams: a no-change full run over many orders makes no
// QBO request and keeps no per-order state.
func TestNoChangeScanStreams(t *testing.T) {
	const n = 20000
	_, q, rec := engSyncedStore(t, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	sum, err := rec.Run(t.Context(), reconcile.Options{Mode: reconcile.ModeFull})
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if sum.Counts.Unchanged != n || len(sum.Items) != 0 {
		t.Errorf("unchanged %d items %d; want %d, 0", sum.Counts.Unchanged, len(sum.Items), n)
	}
	if got := q.calls.Load(); got != 0 {
		t.Errorf("QBO calls: got %d; want 0", got)
	}
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 8<<20 {
		t.Errorf("live heap grew by %d bytes after the run; want it not to keep the orders", grew)
	}
	// Incremental after it: the window is empty but nothing is sent either.
	if sum, err := rec.Run(t.Context(), reconcile.Options{}); err != nil || q.calls.Load() != 0 {
		t.Errorf("incremental: %+v, %v, calls %d", sum, err, q.calls.Load())
	}
}

// BenchmarkNoChangeScan measures a no-change full run; -benchtime=1x with
// a large VELQBO_BENCH_ORDERS checks the 1,000,000-order budget.
func BenchmarkNoChangeScan(b *testing.B) {
	n := 100000
	_, _, rec := engSyncedStore(b, n)
	b.ResetTimer()
	for range b.N {
		sum, err := rec.Plan(context.Background(), reconcile.Options{Mode: reconcile.ModeFull})
		if err != nil || sum.Counts.Unchanged != n {
			b.Fatal(err, fmt.Sprint(sum.Counts))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/order")
}

package reconcile_test

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/velqbo/velqbo/reconcile"
)

// poolQBO accepts every create and counts how they came.
type poolQBO struct {
	engNoQBO
	mu               sync.Mutex
	next             int
	singles, batches int
	batchDocs        int
}

func (q *poolQBO) id() string {
	q.next++
	return strconv.Itoa(q.next)
}

func (q *poolQBO) Create(context.Context, string, any, string) (reconcile.DocRef, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.singles++
	return reconcile.DocRef{ID: q.id(), SyncToken: "0"}, nil
}

func (q *poolQBO) Batch(_ context.Context, ws []reconcile.BatchWrite, _ string) ([]reconcile.BatchOutcome, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.batches++
	q.batchDocs += len(ws)
	out := make([]reconcile.BatchOutcome, len(ws))
	for i := range out {
		out[i].Doc = reconcile.DocRef{ID: q.id(), SyncToken: "0"}
	}
	return out, nil
}

// FindByDocNumber finds nothing: the look before each create (lookup.go)
// lets every create through.
func (q *poolQBO) FindByDocNumber(context.Context, string, []string) ([]reconcile.DocRef, error) {
	return nil, nil
}

func (q *poolQBO) Company(context.Context) (reconcile.Company, error) {
	return reconcile.Company{HomeCurrency: "USD"}, nil
}

// pacedQBO also says how much room the batch window has.
type pacedQBO struct {
	poolQBO
	room int
}

func (q *pacedQBO) BatchCapacity(max int) int { return min(q.room, max) }

// TestPool_BatchesOnlyWithRoom: apply's batch workers gather a batch only
// while the QBO client's batch window has room; otherwise every create
// goes as a single request instead of waiting inside a held batch. A QBO
// that cannot tell gets batches as before.
func TestPool_BatchesOnlyWithRoom(t *testing.T) {
	const n = 200
	for _, tc := range []struct {
		name        string
		qbo         interface{ counts() (int, int, int) }
		wantBatches bool
		wantSingles bool
	}{
		{"no room", &pacedQBO{room: 0}, false, true},
		{"room", &pacedQBO{room: 1000}, true, false},
		{"pacing unknown", &poolQBO{}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, rec := engSyncedStore(t, 0)
			rec.Source = engSynthSource{n: n}
			rec.QBO = tc.qbo.(reconcile.QBO)
			sum, err := rec.Run(t.Context(), reconcile.Options{Mode: reconcile.ModeFull})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Counts.Created != n || sum.Counts.Failed != 0 {
				t.Fatalf("counts %+v; want %d created", sum.Counts, n)
			}
			singles, batches, batchDocs := tc.qbo.counts()
			if got := singles + batchDocs; got != n {
				t.Errorf("documents sent: got %d; want %d", got, n)
			}
			if (batches > 0) != tc.wantBatches {
				t.Errorf("batches: got %d; want some: %v", batches, tc.wantBatches)
			}
			if (singles == n) != tc.wantSingles {
				t.Errorf("single creates: got %d of %d", singles, n)
			}
		})
	}
}

func (q *poolQBO) counts() (int, int, int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.singles, q.batches, q.batchDocs
}

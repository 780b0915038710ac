package reconcile

import (
	"context"
	"slices"
	"sync"

	"github.com/velqbo/velqbo/qbo"
)

// queue is one phase's work: creates (batchable) and single writes.
type queue struct {
	mu      sync.Mutex
	creates []*Change
	singles []*Change
}

// popCreates takes up to n creates.
func (q *queue) popCreates(n int) []*Change {
	q.mu.Lock()
	defer q.mu.Unlock()
	n = min(n, len(q.creates))
	out := slices.Clone(q.creates[:n])
	q.creates = q.creates[n:]
	return out
}

func (q *queue) pop(n int, preferCreates bool) []*Change {
	q.mu.Lock()
	defer q.mu.Unlock()
	take := func(s *[]*Change, n int) []*Change {
		n = min(n, len(*s))
		out := slices.Clone((*s)[:n])
		*s = (*s)[n:]
		return out
	}
	if preferCreates && len(q.creates) > 0 {
		return take(&q.creates, n)
	}
	if len(q.singles) > 0 {
		return take(&q.singles, 1)
	}
	return take(&q.creates, 1)
}

// batchPacer is implemented by a QBO whose pacing can say how many batch
// requests it would send now without waiting (QBOClient does).
type batchPacer interface {
	BatchCapacity(max int) int
}

// pool drains one queue with Concurrency workers: batch workers take up to
// qbo.MaxBatchItems creates per batch request, single workers take one
// write at a time (updates and voids always go alone). The qbo client's
// pacer keeps the whole within QBO's limits.
//
// Both of QBO's budgets are used at once: 40 batch requests a minute and
// the rest of the 500 requests as single writes. When the QBO client can
// tell (batchPacer), a batch worker gathers a batch only while the batch
// window has room for it, and otherwise works as a single worker. Without
// that, batch workers would pop 30 creates each and sit out the rest of the
// minute holding them, while single workers ran dry: a catch-up then ran
// at half of what QBO allows.
func (a *applier) pool(ctx context.Context, changes []*Change) {
	if len(changes) == 0 || !a.mayStart() {
		return
	}
	q := &queue{}
	for _, c := range changes {
		if c.Action == ActionCreate {
			q.creates = append(q.creates, c)
		} else {
			q.singles = append(q.singles, c)
		}
	}
	n := a.r.concurrency()
	batchWorkers := 0
	if len(q.creates) > 1 {
		batchWorkers = max(1, n/2)
	}
	pacer, _ := a.r.QBO.(batchPacer)
	var gate sync.Mutex
	gathered := 0 // batches popped but not yet answered (guarded by gate)
	takeBatch := func() []*Change {
		if pacer == nil {
			return q.popCreates(qbo.MaxBatchItems)
		}
		gate.Lock()
		defer gate.Unlock()
		if pacer.BatchCapacity(gathered+1) <= gathered {
			return nil
		}
		cs := q.popCreates(qbo.MaxBatchItems)
		if len(cs) > 0 {
			gathered++
		}
		return cs
	}
	var wg sync.WaitGroup
	for i := range n {
		batch := i < batchWorkers
		wg.Go(func() {
			// A worker takes no new write once the run is stopped or asked
			// to stop; the write it holds finishes and is recorded.
			for a.mayStart() {
				if batch {
					if cs := takeBatch(); len(cs) > 0 {
						if len(cs) > 1 {
							a.createBatch(ctx, cs)
						} else {
							a.one(ctx, cs[0])
						}
						if pacer != nil {
							gate.Lock()
							gathered--
							gate.Unlock()
						}
						continue
					}
				}
				cs := q.pop(1, false)
				if len(cs) == 0 {
					return
				}
				a.one(ctx, cs[0])
			}
		})
	}
	wg.Wait()
}

package reconcile

import (
	"context"
	"slices"
	"sync"

	"github.com/velqbo/velqbo/qbo"
)

// queue is one phase's work: batchable writes (batchable) and writes that
// go alone.
type queue struct {
	mu        sync.Mutex
	batchable []*Change
	singles   []*Change
}

// popBatch takes up to n batchable writes.
func (q *queue) popBatch(n int) []*Change {
	q.mu.Lock()
	defer q.mu.Unlock()
	n = min(n, len(q.batchable))
	out := slices.Clone(q.batchable[:n])
	q.batchable = q.batchable[n:]
	return out
}

// popOne takes one write, those that cannot be batched first.
func (q *queue) popOne() *Change {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, s := range []*[]*Change{&q.singles, &q.batchable} {
		if len(*s) > 0 {
			c := (*s)[0]
			*s = (*s)[1:]
			return c
		}
	}
	return nil
}

// batchPacer is implemented by a QBO whose pacing can say how many batch
// requests it would send now without waiting (QBOClient does).
type batchPacer interface {
	BatchCapacity(max int) int
}

// pool drains one queue with Concurrency workers: batch workers take up to
// qbo.MaxBatchItems writes per batch request (creates, sparse updates and
// voids, mixed: see batchable), single workers take one write at a time.
// The qbo client's pacer keeps the whole within QBO's limits.
//
// Both of QBO's budgets are used at once: 40 batch requests a minute and
// the rest of the 500 requests as single writes. When the QBO client can
// tell (batchPacer), every worker gathers a batch while the batch window
// has room for it, and otherwise sends one write alone. Without that,
// batch workers would pop 30 writes each and sit out the rest of the
// minute holding them, while single workers ran dry: a catch-up then ran
// at half of what QBO allows. And while the window has room no write goes
// alone that a batch could carry: a night of a few hundred tracking
// numbers is a few batch requests, not a few hundred requests. A QBO
// that cannot tell gets half its workers batching, the rest single.
//
// Order between writes that depend on each other is kept by the phases
// (apply): a phase's writes are of distinct, independent documents.
func (a *applier) pool(ctx context.Context, changes []*Change) {
	if len(changes) == 0 || !a.mayStart() {
		return
	}
	q := &queue{}
	for _, c := range changes {
		if batchable(c) {
			q.batchable = append(q.batchable, c)
		} else {
			q.singles = append(q.singles, c)
		}
	}
	n := a.r.concurrency()
	batchWorkers := 0
	if len(q.batchable) > 1 {
		batchWorkers = max(1, n/2)
	}
	pacer, _ := a.r.QBO.(batchPacer)
	var gate sync.Mutex
	gathered := 0 // batches popped but not yet answered (guarded by gate)
	takeBatch := func() []*Change {
		if pacer == nil {
			return q.popBatch(qbo.MaxBatchItems)
		}
		gate.Lock()
		defer gate.Unlock()
		if pacer.BatchCapacity(gathered+1) <= gathered {
			return nil
		}
		cs := q.popBatch(qbo.MaxBatchItems)
		if len(cs) > 0 {
			gathered++
		}
		return cs
	}
	var wg sync.WaitGroup
	for i := range n {
		batch := pacer != nil || i < batchWorkers
		wg.Go(func() {
			// A worker takes no new write once the run is stopped or asked
			// to stop; the write it holds finishes and is recorded.
			for a.mayStart() {
				if batch {
					if cs := takeBatch(); len(cs) > 0 {
						if len(cs) > 1 {
							a.writeBatch(ctx, cs)
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
				c := q.popOne()
				if c == nil {
					return
				}
				a.one(ctx, c)
			}
		})
	}
	wg.Wait()
}

package qbo

import (
	"context"
	"sync"
	"time"
)

// Pacing limits how fast one Client talks to its realm, so that QBO's
// throttles (qbo-notes §3.5: 500 requests/minute and 10 concurrent requests
// per realm and app; 40 batch requests/minute) are avoided rather than
// suffered as 429s. Zero fields take the defaults.
type Pacing struct {
	RequestsPerMinute      int // all requests, batches included; default 500
	BatchRequestsPerMinute int // batch requests; default 40
	MaxInFlight            int // concurrent requests; default 10
}

// DefaultPacing returns QBO's documented per-realm limits.
func DefaultPacing() Pacing {
	return Pacing{RequestsPerMinute: 500, BatchRequestsPerMinute: 40, MaxInFlight: 10}
}

func (p Pacing) withDefaults() Pacing {
	d := DefaultPacing()
	if p.RequestsPerMinute <= 0 {
		p.RequestsPerMinute = d.RequestsPerMinute
	}
	if p.BatchRequestsPerMinute <= 0 {
		p.BatchRequestsPerMinute = d.BatchRequestsPerMinute
	}
	if p.MaxInFlight <= 0 {
		p.MaxInFlight = d.MaxInFlight
	}
	return p
}

// pacer enforces Pacing. Rate limits are sliding windows rather than
// golang.org/x/time/rate token buckets: a bucket of rate N/min and burst b
// admits b+N requests in some 60-second window, which is exactly the overrun
// QBO answers with 429; a window log of the last N send times never exceeds N.
type pacer struct {
	clock Clock
	sem   chan struct{}
	all   *window
	batch *window
}

func newPacer(p Pacing, clock Clock) *pacer {
	p = p.withDefaults()
	return &pacer{
		clock: clock,
		sem:   make(chan struct{}, p.MaxInFlight),
		all:   newWindow(p.RequestsPerMinute, time.Minute),
		batch: newWindow(p.BatchRequestsPerMinute, time.Minute),
	}
}

// acquire waits for a concurrency slot and then for rate capacity, in that
// order so the recorded send time is the actual send time. The returned
// release frees the concurrency slot. A done ctx stops every wait.
func (p *pacer) acquire(ctx context.Context, isBatch bool) (release func(), waited time.Duration, err error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
	release = func() { <-p.sem }
	for _, w := range []*window{p.all, p.batch} {
		if w == p.batch && !isBatch {
			continue
		}
		d := w.reserve(p.clock.Now())
		if d > 0 {
			waited += d
			if err := p.clock.Sleep(ctx, d); err != nil {
				release()
				return nil, waited, err
			}
		}
	}
	return release, waited, nil
}

// window is a sliding-window log: at most n events in any span of length per.
type window struct {
	mu   sync.Mutex
	per  time.Duration
	ring []time.Time // slot times, oldest at next
	next int
}

func newWindow(n int, per time.Duration) *window {
	return &window{per: per, ring: make([]time.Time, n)}
}

// reserve books the earliest slot at or after now that keeps the window
// within limit and returns how long to wait for it. A booked slot is never
// returned, even if the caller gives up: erring toward fewer requests is safe.
func (w *window) reserve(now time.Time) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	slot := now
	if oldest := w.ring[w.next]; !oldest.IsZero() {
		if free := oldest.Add(w.per); free.After(slot) {
			slot = free
		}
	}
	w.ring[w.next] = slot
	w.next = (w.next + 1) % len(w.ring)
	return slot.Sub(now)
}

package qbo

import (
	"context"
	"sync"
	"time"

	"github.com/velqbo/velqbo/internal/clock"
)

// Pacing limits how fast one Client talks to its realm, so that QBO's
// throttles (docs/qbo-notes.md §3.5: 500 requests/minute and 10 concurrent
// requests per realm and app; 40 batch requests/minute) are avoided rather
// than suffered as 429s. Zero fields take the defaults.
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

// PaceEvent is what the client's pacing tells a WithPaceHook about one
// request: that it waits for room in a per-minute window, or that it is
// sent.
type PaceEvent struct {
	// Wait is how long the request waits for room in a per-minute window,
	// from now until Until; 0 when it is sent (admitted).
	Wait  time.Duration
	Until time.Time
	// Batch is set for a batch request.
	Batch bool
}

// pacer enforces Pacing. Rate limits are sliding windows rather than
// golang.org/x/time/rate token buckets: a bucket of rate N/min and burst b
// admits b+N requests in some 60-second window, which is exactly the overrun
// QBO answers with 429; a window of the last N requests never exceeds N.
//
// A request is counted from the moment it is sent until its answer has
// arrived plus the window length. QBO (and qbotest) stamp a request when it
// arrives, which is some time after the client sent it; counting from the
// send time alone would let request i+N leave exactly one window after
// request i left, and arrive less than a window after request i arrived
// whenever i was slower on the wire than i+N: a 429. The answer arrives
// after QBO stamped the request, so a window measured from the answer is
// always at least QBO's. The price is one round trip per window (well under
// 1 % of a minute).
type pacer struct {
	clock clock.Clock
	sem   chan struct{}
	all   *window
	batch *window
	hook  func(PaceEvent) // WithPaceHook; nil: none
}

func newPacer(p Pacing, clk clock.Clock) *pacer {
	p = p.withDefaults()
	return &pacer{
		clock: clk,
		sem:   make(chan struct{}, p.MaxInFlight),
		all:   newWindow(p.RequestsPerMinute, time.Minute),
		batch: newWindow(p.BatchRequestsPerMinute, time.Minute),
	}
}

// acquire waits for a concurrency slot and then for rate capacity, in that
// order so the recorded send time is the actual send time. The returned
// release frees the concurrency slot and stamps the end of the request in
// the rate windows; it must be called once the answer has been read (or the
// attempt failed). A done ctx stops every wait.
func (p *pacer) acquire(ctx context.Context, isBatch bool) (release func(), waited time.Duration, err error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
	var held []*slot
	finish := func() {
		now := p.clock.Now()
		for _, s := range held {
			s.finish(now)
		}
		<-p.sem
	}
	for _, w := range []*window{p.all, p.batch} {
		if w == p.batch && !isBatch {
			continue
		}
		s, prev, d := w.reserve(p.clock.Now())
		held = append(held, s)
		for {
			if d > 0 {
				if p.hook != nil {
					now := p.clock.Now()
					p.hook(PaceEvent{Wait: d, Until: now.Add(d), Batch: isBatch})
				}
				waited += d
				if err := p.clock.Sleep(ctx, d); err != nil {
					finish()
					return nil, waited, err
				}
			}
			if prev == nil {
				break
			}
			// The slot's previous holder may still be in flight (a slow
			// answer): its window starts only when it ends.
			select {
			case <-prev.done:
			case <-ctx.Done():
				finish()
				return nil, waited, ctx.Err()
			}
			d = prev.end.Add(w.per).Sub(p.clock.Now())
			if d <= 0 {
				break
			}
		}
	}
	if p.hook != nil {
		p.hook(PaceEvent{Until: p.clock.Now(), Batch: isBatch})
	}
	return finish, waited, nil
}

// window is a sliding window: at most n requests in any span of length per,
// each counted until per after it ended.
type window struct {
	mu   sync.Mutex
	per  time.Duration
	ring []*slot // the last n requests, oldest at next
	next int
}

// slot is one request's place in a window.
type slot struct {
	at   time.Time     // booked send time
	end  time.Time     // when the request ended; set before done is closed
	done chan struct{} // closed when the request ended
	once sync.Once
}

func (s *slot) finish(now time.Time) {
	s.once.Do(func() {
		if now.Before(s.at) {
			now = s.at
		}
		s.end = now
		close(s.done)
	})
}

func newWindow(n int, per time.Duration) *window {
	return &window{per: per, ring: make([]*slot, n)}
}

// reserve books the earliest send time at or after now that keeps the
// window within its limit, as far as is known now, and returns the slot,
// the request it displaces from the window (nil if none) and how long to
// wait. When prev is still in flight the wait is an estimate: the caller
// waits for prev to end and then until prev.end+per. A booked slot is never
// given back, even if the caller gives up: erring toward fewer requests is
// safe.
func (w *window) reserve(now time.Time) (s, prev *slot, wait time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	at := now
	prev = w.ring[w.next]
	if prev != nil {
		free := prev.at.Add(w.per)
		select {
		case <-prev.done:
			free = prev.end.Add(w.per)
		default:
		}
		if free.After(at) {
			at = free
		}
	}
	s = &slot{at: at, done: make(chan struct{})}
	w.ring[w.next] = s
	w.next = (w.next + 1) % len(w.ring)
	return s, prev, at.Sub(now)
}

// capacity is how many more requests the window admits at now without
// waiting, counting at most max. Slots are handed out in ring order, so the
// count stops at the first slot that is still taken (or in flight).
func (w *window) capacity(now time.Time, max int) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for k := 0; k < len(w.ring) && n < max; k++ {
		s := w.ring[(w.next+k)%len(w.ring)]
		if s != nil {
			select {
			case <-s.done:
				if s.end.Add(w.per).After(now) {
					return n
				}
			default:
				return n
			}
		}
		n++
	}
	return n
}

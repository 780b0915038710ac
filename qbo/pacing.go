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

// WindowKind names one of a realm's per-minute windows.
type WindowKind string

const (
	// RequestWindow counts every request, batches included (QBO's 500 a
	// minute).
	RequestWindow WindowKind = "requests"
	// BatchWindow counts batch requests (QBO's 40 a minute).
	BatchWindow WindowKind = "batches"
)

// Window is one per-minute window of one realm: at most Limit requests in
// any span of Per, each counted from its booked send time until Per after
// it ended (see pacer for why from its end).
type Window struct {
	Realm string
	Kind  WindowKind
	Limit int
	Per   time.Duration
	// Hold bounds how long a booked request can go unfinished: the
	// client's Timeout, which bounds a whole call. A request whose end is
	// never recorded (its process died) stops counting Hold+Per after its
	// booked send time.
	Hold time.Duration
}

// Slot is one request's booked place in a Window.
type Slot struct {
	// At is the earliest time the request may be sent, as known when the
	// slot was booked or last asked about (WindowStore.Ready).
	At time.Time
	// Settled is false while the request the slot displaces from the
	// window has not ended: At is then an estimate, and the caller asks
	// Ready again once At has come.
	Settled bool
	// Ref is the store's own reference to the slot; callers pass it back
	// untouched.
	Ref any
}

// WindowStore keeps a realm's per-minute windows. A Client paces against
// its own in-memory store unless WithWindowStore gives it one that other
// clients (other processes) share: QBO counts requests per realm, so
// clients that each count alone spend the realm's budget several times
// over and meet 429s.
//
// A window holds requests in booking order; a new request takes the place
// of the Limit-th newest request still counting and may be sent once that
// one's place is free (Per after it ended). A booked slot is never given
// back, even if its request is not sent: erring toward fewer requests is
// safe.
type WindowStore interface {
	// Reserve books one place in each of ws, at now, for one request, and
	// returns the slots in the order of ws.
	Reserve(ctx context.Context, ws []Window, now time.Time) ([]Slot, error)
	// Ready asks again, at now, when an unsettled slot of w may be sent. It
	// may block until the displaced request ends, or return another
	// unsettled estimate to be asked about again at its At; it returns
	// ctx.Err() when ctx is done first.
	Ready(ctx context.Context, w Window, s Slot, now time.Time) (Slot, error)
	// Finish records that the request holding slots (one per window of
	// ws, as Reserve returned them) ended at end.
	Finish(ctx context.Context, ws []Window, slots []Slot, end time.Time) error
	// Capacity reports how many more requests w admits at now without
	// waiting, counting at most max. It books nothing.
	Capacity(ctx context.Context, w Window, now time.Time, max int) (int, error)
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
//
// The windows live in a WindowStore (the client's own memory unless
// WithWindowStore shares them); concurrency (MaxInFlight) is this
// client's alone.
type pacer struct {
	clock   clock.Clock
	sem     chan struct{}
	all     Window
	batch   Window
	mem     *memWindows // the client's own windows
	shared  WindowStore // WithWindowStore; nil: mem alone
	hook    func(PaceEvent)
	onError func(error) // WithWindowStore's; nil: none
}

func newPacer(p Pacing, clk clock.Clock, realm string, hold time.Duration) *pacer {
	p = p.withDefaults()
	all := Window{Realm: realm, Kind: RequestWindow, Limit: p.RequestsPerMinute, Per: time.Minute, Hold: hold}
	batch := Window{Realm: realm, Kind: BatchWindow, Limit: p.BatchRequestsPerMinute, Per: time.Minute, Hold: hold}
	return &pacer{
		clock: clk,
		sem:   make(chan struct{}, p.MaxInFlight),
		all:   all,
		batch: batch,
		mem:   newMemWindows(all, batch),
	}
}

// store is the WindowStore in use: the shared one when there is one.
func (p *pacer) store() WindowStore {
	if p.shared != nil {
		return p.shared
	}
	return p.mem
}

// storeFailed reports a shared store's error; the caller paces the
// request by the client's own windows (see WithWindowStore).
func (p *pacer) storeFailed(err error) {
	if p.onError != nil {
		p.onError(err)
	}
}

// acquire waits for a concurrency slot and then for rate capacity, in that
// order so the recorded send time is the actual send time. The returned
// release frees the concurrency slot and stamps the end of the request in
// the rate windows; it must be called once the answer has been read (or the
// attempt failed). A done ctx stops every wait and is returned.
func (p *pacer) acquire(ctx context.Context, isBatch bool) (release func(), waited time.Duration, err error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
	ws := []Window{p.all}
	if isBatch {
		ws = append(ws, p.batch)
	}
	store := p.store()
	slots, err := store.Reserve(ctx, ws, p.clock.Now())
	if err != nil && store != WindowStore(p.mem) && ctx.Err() == nil {
		p.storeFailed(err)
		store = p.mem
		slots, err = store.Reserve(ctx, ws, p.clock.Now())
	}
	if err != nil {
		<-p.sem
		return nil, 0, err
	}
	finish := func() {
		// The end is recorded even when ctx was cancelled: the request may
		// have reached QBO, and it counts there.
		if err := store.Finish(context.WithoutCancel(ctx), ws, slots, p.clock.Now()); err != nil {
			p.storeFailed(err)
		}
		<-p.sem
	}
	for i := range slots {
		for {
			if d := slots[i].At.Sub(p.clock.Now()); d > 0 {
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
			if slots[i].Settled {
				break
			}
			// The slot's previous holder may still be in flight (a slow
			// answer): its window starts only when it ends.
			s, err := store.Ready(ctx, ws[i], slots[i], p.clock.Now())
			if err != nil {
				if ctx.Err() != nil {
					finish()
					return nil, waited, ctx.Err()
				}
				// Why settle rather than fail: the slot was booked and
				// waited for; only the displaced request's end is unknown,
				// and the 429 backstop covers that estimate.
				p.storeFailed(err)
				s = slots[i]
				s.Settled = true
			}
			slots[i] = s
		}
	}
	if p.hook != nil {
		p.hook(PaceEvent{Until: p.clock.Now(), Batch: isBatch})
	}
	return finish, waited, nil
}

// batchCapacity is how many more batch requests the batch window admits now,
// counting at most max.
func (p *pacer) batchCapacity(max int) int {
	now := p.clock.Now()
	if p.shared != nil {
		n, err := p.shared.Capacity(context.Background(), p.batch, now, max)
		if err == nil {
			return n
		}
		p.storeFailed(err)
	}
	n, _ := p.mem.Capacity(context.Background(), p.batch, now, max)
	return n
}

// memWindows is the in-memory WindowStore: one client's own windows.
type memWindows struct {
	all, batch *window
}

var _ WindowStore = (*memWindows)(nil)

func newMemWindows(all, batch Window) *memWindows {
	return &memWindows{all: newWindow(all.Limit, all.Per), batch: newWindow(batch.Limit, batch.Per)}
}

func (m *memWindows) window(w Window) *window {
	if w.Kind == BatchWindow {
		return m.batch
	}
	return m.all
}

// memRef is a memWindows slot's Ref.
type memRef struct{ s, prev *slot }

func (m *memWindows) Reserve(_ context.Context, ws []Window, now time.Time) ([]Slot, error) {
	out := make([]Slot, len(ws))
	for i, w := range ws {
		s, prev, d, settled := m.window(w).reserve(now)
		out[i] = Slot{At: now.Add(d), Settled: settled, Ref: memRef{s, prev}}
	}
	return out, nil
}

// Ready waits for the displaced request to end.
func (m *memWindows) Ready(ctx context.Context, w Window, s Slot, now time.Time) (Slot, error) {
	prev := s.Ref.(memRef).prev
	select {
	case <-prev.done:
	case <-ctx.Done():
		return s, ctx.Err()
	}
	s.At = prev.end.Add(w.Per)
	s.Settled = true
	return s, nil
}

func (m *memWindows) Finish(_ context.Context, _ []Window, slots []Slot, end time.Time) error {
	for _, s := range slots {
		s.Ref.(memRef).s.finish(end)
	}
	return nil
}

func (m *memWindows) Capacity(_ context.Context, w Window, now time.Time, max int) (int, error) {
	return m.window(w).capacity(now, max), nil
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
// the request it displaces from the window (nil if none), how long to wait
// and whether that wait is settled. When prev is still in flight the wait
// is an estimate (settled false): the caller waits for prev to end and then
// until prev.end+per. A booked slot is never given back, even if the caller
// gives up: erring toward fewer requests is safe.
//
// Why settled comes from the same look at prev.done as the wait: prev may
// end at any moment, its answer coming back while this request books; a
// second look that found it ended would call settled a wait estimated from
// prev's send time, and the request would go up to prev's round trip
// before prev stops counting, one more than the limit in the window.
func (w *window) reserve(now time.Time) (s, prev *slot, wait time.Duration, settled bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	at := now
	settled = true
	prev = w.ring[w.next]
	if prev != nil {
		free := prev.at.Add(w.per)
		select {
		case <-prev.done:
			free = prev.end.Add(w.per)
		default:
			settled = false
		}
		if free.After(at) {
			at = free
		}
	}
	s = &slot{at: at, done: make(chan struct{})}
	w.ring[w.next] = s
	w.next = (w.next + 1) % len(w.ring)
	return s, prev, at.Sub(now), settled
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

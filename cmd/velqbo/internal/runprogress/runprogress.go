// Package runprogress knows how far a run is and how long the rest takes:
// the terminal's progress bar and the console's progress bar read the same
// Tracker, fed by the engine's progress callback and the QBO client's pace
// hook. A Board holds the run this process is running, so that the console
// shows the progress of a run it did not start (the daemon's scheduled
// run) when they share a process.
package runprogress

import (
	"fmt"
	"sync"
	"time"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
)

// PaceNotable is the shortest pacing wait that is shown: shorter ones are
// how a paced run always goes.
const PaceNotable = 2 * time.Second

// Tracker follows one run. It is safe for concurrent use.
type Tracker struct {
	pacing qbo.Pacing

	mu          sync.Mutex
	done, total int
	first       time.Time // the first document's report
	// resume is when the earliest known pacing wait ends; a time in the
	// past means no request waits.
	resume            time.Time
	requests, batches int // requests sent (of them batches)
}

// NewTracker returns a Tracker for a run paced by p (the limits the QBO
// client is configured with).
func NewTracker(p qbo.Pacing) *Tracker { return &Tracker{pacing: p} }

// Update is reconcile's Options.Progress at now: done of total documents.
// A total of 0 or less is ignored.
func (t *Tracker) Update(done, total int, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if total <= 0 {
		return
	}
	t.done, t.total = done, total
	if t.first.IsZero() {
		t.first = now
	}
}

// Paced is the QBO client's pace hook (qbo.WithPaceHook). It reports
// whether e starts a notable pacing wait (at least PaceNotable, ending
// after every wait known so far), the one a log says once.
func (t *Tracker) Paced(e qbo.PaceEvent) (newWait bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e.Wait == 0 {
		t.requests++
		if e.Batch {
			t.batches++
		}
		return false
	}
	if e.Wait < PaceNotable {
		return false
	}
	now := e.Until.Add(-e.Wait)
	if !t.resume.After(now) {
		t.resume = e.Until
		return true
	}
	if e.Until.Before(t.resume) {
		t.resume = e.Until
	}
	return false
}

// Snapshot is how far a run is at one moment.
type Snapshot struct {
	Done, Total int
	// ETA is the time the documents left take; HasETA says whether it
	// can be told yet.
	ETA    time.Duration
	HasETA bool
	// Waiting is how long the QBO client still waits for QBO's per-minute
	// limit (0: it sends).
	Waiting time.Duration
}

// Percent is Done of Total in whole percent (0 before anything is known).
func (s Snapshot) Percent() int {
	if s.Total <= 0 {
		return 0
	}
	return s.Done * 100 / s.Total
}

// Snapshot returns the progress at now.
func (t *Tracker) Snapshot(now time.Time) Snapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := Snapshot{Done: t.done, Total: t.total}
	s.ETA, s.HasETA = t.eta(now)
	if w := t.resume.Sub(now); w >= time.Second {
		s.Waiting = w
	}
	return s
}

// eta estimates the time the documents left take: at the documents a
// minute the pacing allows (the requests a minute QBO takes, or fewer when
// the batch requests' budget runs out first, times the documents a request
// has carried so far), or at the rate seen since the first document when
// that is slower and a full pacing window has passed. The rate of the
// last few seconds says nothing: a paced run sends a minute's budget in a
// burst and then waits. t.mu is held.
func (t *Tracker) eta(now time.Time) (time.Duration, bool) {
	if t.done == 0 || t.first.IsZero() {
		return 0, false
	}
	var rate float64 // documents a minute
	if t.requests > 0 {
		reqs := float64(t.pacing.RequestsPerMinute)
		if t.batches > 0 {
			reqs = min(reqs, float64(t.pacing.BatchRequestsPerMinute)*float64(t.requests)/float64(t.batches))
		}
		rate = reqs * float64(t.done) / float64(t.requests)
	}
	if el := now.Sub(t.first); el >= time.Minute || (rate == 0 && el >= 5*time.Second) {
		if seen := float64(t.done) / el.Minutes(); rate == 0 || seen < rate {
			rate = seen
		}
	}
	if rate <= 0 {
		return 0, false
	}
	return time.Duration(float64(t.total-t.done) / rate * float64(time.Minute)), true
}

// RoughDuration says d the way a person would: "42 s", "4 min 10 s",
// "2 h 05 min"; seconds are rounded up, so a wait never reads "0 s".
func RoughDuration(d time.Duration) string {
	s := int((d + time.Second - 1) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", s)
	case s < 3600:
		if s%60 == 0 {
			return fmt.Sprintf("%d min", s/60)
		}
		return fmt.Sprintf("%d min %d s", s/60, s%60)
	}
	return fmt.Sprintf("%d h %02d min", s/3600, s/60%60)
}

// Board holds the run this process runs, and the last one it ran. It is
// safe for concurrent use; the zero Board is empty.
type Board struct {
	mu        sync.Mutex
	cur, last *Live
}

// Live is a run in this process.
type Live struct {
	*Tracker
	// Holder is the run lease's holder: who started the run.
	Holder  string
	Started time.Time

	done chan struct{}
	mu   sync.Mutex
	sum  *reconcile.Summary
	err  error
}

// Begin puts a run on the board. The caller holds the run lease, so no
// other run of this process is on it.
func (b *Board) Begin(t *Tracker, holder string, now time.Time) *Live {
	l := &Live{Tracker: t, Holder: holder, Started: now, done: make(chan struct{})}
	b.mu.Lock()
	b.cur = l
	b.mu.Unlock()
	return l
}

// Finish records how l ended and takes it off the board (it stays as the
// last run). The board keeps the summary without its items. Why: a daemon
// waits hours between runs, and a big run's items (strings allocated all
// through the run) pinned megabytes of its heap; the items are in the
// ledger.
func (b *Board) Finish(l *Live, sum *reconcile.Summary, err error) {
	if sum != nil {
		kept := *sum
		kept.Items = nil
		sum = &kept
	}
	l.mu.Lock()
	l.sum, l.err = sum, err
	l.mu.Unlock()
	b.mu.Lock()
	if b.cur == l {
		b.cur = nil
	}
	b.last = l
	b.mu.Unlock()
	close(l.done)
}

// Current returns the run in progress, or nil.
func (b *Board) Current() *Live {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cur
}

// Last returns the last run that finished, or nil.
func (b *Board) Last() *Live {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}

// Done is closed when the run has finished.
func (l *Live) Done() <-chan struct{} { return l.done }

// Result is the run's summary, without its items, and error once Done is
// closed (nil, nil before).
func (l *Live) Result() (*reconcile.Summary, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sum, l.err
}

// Status is whether a run is in progress and how far it is.
type Status struct {
	// Live is the run this process runs, with its progress; nil when it
	// runs none (another process may).
	Live *Live
	// Lease is the run lease while someone holds it: a run, or a command
	// that changes the ledger (skip, retry, verify …).
	Lease *schema.Lease
	// Run is the ledger's row of the run in progress, once it has one.
	Run *schema.Run
	// Writes counts the QBO writes the audit log holds for Run so far:
	// all that is known of the progress of another process's run.
	Writes int
}

// Running reports whether a run (or a command holding the run lease) is in
// progress.
func (s Status) Running() bool { return s.Live != nil || s.Lease != nil }

// Holder names who holds the run.
func (s Status) Holder() string {
	if s.Live != nil {
		return s.Live.Holder
	}
	if s.Lease != nil {
		return s.Lease.Holder
	}
	return ""
}

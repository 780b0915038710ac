// Package clock is the module's one source of time. Every wait in the
// clients (retry backoff, Retry-After, pacing) and in the fakes goes
// through a Clock, so tests run on a Fake without real sleeps, and a done
// context always ends a wait.
package clock

import (
	"context"
	"sync"
	"time"
)

// Clock tells the time and waits.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done, whichever comes first, and
	// returns ctx.Err() in the latter case. A d <= 0 does not wait.
	Sleep(ctx context.Context, d time.Duration) error
}

// Real is the wall clock.
type Real struct{}

var (
	_ Clock = Real{}
	_ Clock = (*Fake)(nil)
)

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// Sleep waits for d on a timer, returning early with ctx.Err() if ctx is
// done.
func (Real) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Fake is a deterministic clock for tests. Its time moves only by Advance,
// Set, Sleep and, when a step is set, by every call to Now. Sleep returns at
// once, advancing the clock by d and recording d, so a test of Retry-After,
// backoff or pacing costs no wall time and can check every wait. It is safe
// for concurrent use.
type Fake struct {
	mu     sync.Mutex
	now    time.Time
	step   time.Duration
	sleeps []time.Duration
}

// NewFake returns a Fake reading start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// SetStep makes every later call to Now advance the clock by step after
// reading it (0, the default, keeps it still). A fake server stamping each
// mutation with Now then gives each one a distinct time.
func (f *Fake) SetStep(step time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.step = step
}

// Now returns the current fake time, then advances it by the step.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.now
	f.now = f.now.Add(f.step)
	return t
}

// Advance moves the clock forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// Set moves the clock to t.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t
}

// Sleep records d and advances the clock by d (if positive) without
// waiting. It returns
// ctx.Err(), recording nothing, if ctx is already done.
func (f *Fake) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sleeps = append(f.sleeps, d)
	f.now = f.now.Add(max(d, 0))
	return nil
}

// Sleeps returns the durations passed to Sleep so far, in call order.
func (f *Fake) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

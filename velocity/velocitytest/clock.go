package velocitytest

import (
	"context"
	"sync"
	"time"
)

// Clock is a fake clock for the server's updated_at stamps and for the
// client's retry sleeps (it satisfies velocity.Clock). Sleep returns at
// once, advancing the clock by d and recording d, so a test of Retry-After
// or backoff never waits for real.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	step   time.Duration
	sleeps []time.Duration
}

// NewClock returns a fake clock reading start. Every call to Now after
// the first advances it by step (0 keeps it still), which gives each
// server mutation a distinct updated_at when step > 0.
func NewClock(start time.Time, step time.Duration) *Clock {
	return &Clock{now: start, step: step}
}

// Now returns the current fake time, then advances it by the step.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.now
	c.now = c.now.Add(c.step)
	return t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// Sleep records d and advances the clock by d without waiting. It returns
// ctx.Err() if ctx is already done.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return nil
}

// Sleeps returns the durations passed to Sleep so far.
func (c *Clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

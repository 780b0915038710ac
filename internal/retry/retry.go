// Package retry is the module's one retry policy: a jittered exponential
// backoff, a cap on attempts, a Retry-After parser, and a loop that waits
// on an injected clock.Clock so that a done context ends every wait and
// tests never sleep for real.
//
// What is safe to retry is the caller's call (each client documents why its
// requests may be repeated); this package only decides when and how often.
package retry

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/velqbo/velqbo/internal/clock"
)

// Policy says how often to try and how long to wait in between.
type Policy struct {
	// MaxAttempts is the total number of attempts, the first one included:
	// 1 never retries, 3 tries once and retries at most twice. Values
	// below 1 count as 1.
	MaxAttempts int
	// Base is the backoff ceiling after the first failed attempt; it
	// doubles after each further failure, up to Max.
	Base time.Duration
	Max  time.Duration
	// Jitter returns a duration in [0, d]; nil means uniformly random.
	// Tests inject a fixed one (returning d makes every wait the ceiling).
	Jitter func(d time.Duration) time.Duration
}

// Delay returns the backoff after failed attempts (failed >= 1): a wait in
// [c/2, c] where c = min(Max, Base·2^(failed-1)).
//
// Why "equal jitter" (half fixed, half random): the fixed half keeps a
// struggling server from being asked again at once, which full jitter
// allows; the random half keeps many clients that failed together from
// retrying in lockstep.
func (p Policy) Delay(failed int) time.Duration {
	c := min(p.Base, p.Max)
	for i := 1; i < failed && c < p.Max; i++ {
		if c > p.Max/2 {
			c = p.Max // doubling would pass Max, or overflow
			break
		}
		c *= 2
	}
	c = max(c, 0)
	half := c / 2
	return c - half + p.jitter(half)
}

func (p Policy) jitter(d time.Duration) time.Duration {
	if p.Jitter != nil {
		return min(max(p.Jitter(d), 0), d)
	}
	if d <= 0 {
		return 0
	}
	return rand.N(d + 1)
}

// Wait returns how long to wait after failed attempts when the server
// asked for after (0: it did not): the longer of the two. Why both: the
// server's Retry-After says when it will take us again, and our own
// backoff keeps the retries of many workers spread out even when the
// server names a short or past time.
func (p Policy) Wait(failed int, after time.Duration) time.Duration {
	return max(p.Delay(failed), after)
}

// More reports whether another attempt may follow attempts made so far.
func (p Policy) More(attempts int) bool { return attempts < max(p.MaxAttempts, 1) }

// Do calls op with attempt numbers 1, 2, … until it returns nil, returns
// an error marked Permanent, MaxAttempts attempts were made, or ctx is
// done. Between attempts it sleeps on clk for Wait(failed, after), where
// after is what the failed attempt asked for through After.
//
// It returns the number of attempts made and: nil on success; op's last
// error (without the Permanent/After marks) when it stops trying or ctx
// ended during an attempt; and an *InterruptedError wrapping ctx.Err()
// when ctx ended during a wait.
func (p Policy) Do(ctx context.Context, clk clock.Clock, op func(attempt int) error) (int, error) {
	for attempt := 1; ; attempt++ {
		err := op(attempt)
		if err == nil {
			return attempt, nil
		}
		var perm *permanentError
		if errors.As(err, &perm) {
			return attempt, perm.err
		}
		var after time.Duration
		var ae *afterError
		if errors.As(err, &ae) {
			err, after = ae.err, ae.after
		}
		// A done ctx fails every later attempt too: report what happened
		// rather than a cancelled wait.
		if ctx.Err() != nil || !p.More(attempt) {
			return attempt, err
		}
		if werr := clk.Sleep(ctx, p.Wait(attempt, after)); werr != nil {
			return attempt, &InterruptedError{Err: werr, Last: err}
		}
	}
}

// InterruptedError is returned by Do when ctx ended while it waited to
// retry. It unwraps to the context's error only, so errors.Is(err,
// context.Canceled) holds and the last attempt's error is not mistaken for
// the outcome.
type InterruptedError struct {
	Err  error // ctx.Err()
	Last error // the error of the attempt before the wait
}

func (e *InterruptedError) Error() string { return "waiting to retry: " + e.Err.Error() }

// Unwrap returns the context's error.
func (e *InterruptedError) Unwrap() error { return e.Err }

// Permanent marks err as not worth retrying: Do returns it (unmarked) at
// once. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// After marks err as retryable no sooner than d (a server's Retry-After);
// d <= 0 leaves err unmarked. After(nil, d) is nil.
func After(err error, d time.Duration) error {
	if err == nil || d <= 0 {
		return err
	}
	return &afterError{err, d}
}

type afterError struct {
	err   error
	after time.Duration
}

func (e *afterError) Error() string { return e.err.Error() }
func (e *afterError) Unwrap() error { return e.err }

// ParseRetryAfter reads an HTTP Retry-After header value: delay-seconds or
// an HTTP-date, relative to now. ok is false when h is empty or neither
// form; a date in the past is ok with 0 (the server is ready now). The
// result is capped at limit (limit <= 0: no cap), because the header comes
// from the other side and must not park a run for hours.
func ParseRetryAfter(h string, now time.Time, limit time.Duration) (d time.Duration, ok bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		// Cap before multiplying: a huge delay-seconds would overflow.
		if limit > 0 && secs >= int64(limit/time.Second)+1 {
			return limit, true
		}
		d = time.Duration(min(secs, int64(1<<63-1)/int64(time.Second))) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = max(t.Sub(now), 0)
	} else {
		return 0, false
	}
	if limit > 0 {
		d = min(d, limit)
	}
	return d, true
}

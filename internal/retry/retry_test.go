package retry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/internal/clock"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		h      string
		limit  time.Duration
		want   time.Duration
		wantOK bool
	}{
		{"Empty", "", time.Minute, 0, false},
		{"Blank", "  ", time.Minute, 0, false},
		{"Seconds", "7", time.Minute, 7 * time.Second, true},
		{"SecondsSpaces", " 7 ", time.Minute, 7 * time.Second, true},
		{"Zero", "0", time.Minute, 0, true},
		{"SecondsCapped", "3600", time.Minute, time.Minute, true},
		{"SecondsAtCap", "60", time.Minute, time.Minute, true},
		{"SecondsHuge", "99999999999999", time.Minute, time.Minute, true},
		{"SecondsHugeNoCap", "99999999999", 0, time.Duration(int64(1<<63-1)/int64(time.Second)) * time.Second, true},
		{"Negative", "-5", time.Minute, 0, false},
		{"Date", t0.Add(90 * time.Second).Format(http.TimeFormat), 10 * time.Minute, 90 * time.Second, true},
		{"DateCapped", t0.Add(time.Hour).Format(http.TimeFormat), 10 * time.Minute, 10 * time.Minute, true},
		{"PastDate", t0.Add(-time.Hour).Format(http.TimeFormat), time.Minute, 0, true},
		{"DateRFC850", t0.Add(30 * time.Second).Format("Monday, 02-Jan-06 15:04:05 GMT"), time.Minute, 30 * time.Second, true},
		{"Garbage", "soon", time.Minute, 0, false},
		{"Fraction", "1.5", time.Minute, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := ParseRetryAfter(tt.h, t0, tt.limit)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ParseRetryAfter(%q): got %v, %v; want %v, %v", tt.h, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestPolicy_Delay(t *testing.T) {
	t.Parallel()
	p := Policy{Base: time.Second, Max: 5 * time.Second}
	tests := []struct {
		name   string
		jitter func(time.Duration) time.Duration
		want   []time.Duration // Delay(1), Delay(2), …
	}{
		{"MaxJitter", func(d time.Duration) time.Duration { return d },
			[]time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}},
		{"NoJitter", func(time.Duration) time.Duration { return 0 },
			[]time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 2500 * time.Millisecond, 2500 * time.Millisecond}},
		{"JitterOutOfRangeClamped", func(d time.Duration) time.Duration { return 10 * d },
			[]time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := p
			p.Jitter = tt.jitter
			var got []time.Duration
			for n := 1; n <= len(tt.want); n++ {
				got = append(got, p.Delay(n))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("delays (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("RandomJitterRange", func(t *testing.T) {
		t.Parallel()
		for n := 1; n <= 6; n++ {
			ceil := min(time.Second<<(n-1), p.Max)
			for range 200 {
				if d := p.Delay(n); d < ceil/2 || d > ceil {
					t.Fatalf("Delay(%d): got %v; want in [%v, %v]", n, d, ceil/2, ceil)
				}
			}
		}
	})
	t.Run("NoOverflow", func(t *testing.T) {
		t.Parallel()
		p := Policy{Base: time.Second, Max: time.Duration(1<<63 - 1)}
		if d := p.Delay(200); d <= 0 {
			t.Errorf("Delay(200): got %v; want > 0", d)
		}
	})
}

func TestPolicy_Wait(t *testing.T) {
	t.Parallel()
	p := Policy{Base: time.Second, Max: time.Minute, Jitter: func(d time.Duration) time.Duration { return d }}
	tests := []struct {
		name   string
		failed int
		after  time.Duration
		want   time.Duration
	}{
		{"NoRetryAfter", 2, 0, 2 * time.Second},
		{"RetryAfterLonger", 1, 7 * time.Second, 7 * time.Second},
		{"BackoffLonger", 3, time.Second, 4 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := p.Wait(tt.failed, tt.after); got != tt.want {
				t.Errorf("Wait(%d, %v): got %v; want %v", tt.failed, tt.after, got, tt.want)
			}
		})
	}
}

func TestPolicy_Do(t *testing.T) {
	t.Parallel()
	errFlaky := errors.New("flaky")
	errBad := errors.New("bad request")
	p := Policy{MaxAttempts: 3, Base: time.Second, Max: time.Minute, Jitter: func(d time.Duration) time.Duration { return d }}
	tests := []struct {
		name       string
		policy     Policy
		errs       []error // what attempt i returns (nil past the end)
		wantTries  int
		wantErr    error
		wantSleeps []time.Duration
	}{
		{"FirstTry", p, nil, 1, nil, nil},
		{"SecondTry", p, []error{errFlaky}, 2, nil, []time.Duration{time.Second}},
		{"AttemptsAreTotal", p, []error{errFlaky, errFlaky, errFlaky, errFlaky}, 3, errFlaky, []time.Duration{time.Second, 2 * time.Second}},
		{"OneAttempt", Policy{MaxAttempts: 1}, []error{errFlaky}, 1, errFlaky, nil},
		{"ZeroMeansOne", Policy{}, []error{errFlaky}, 1, errFlaky, nil},
		{"Permanent", p, []error{errFlaky, Permanent(errBad)}, 2, errBad, []time.Duration{time.Second}},
		{"RetryAfter", p, []error{After(errFlaky, 7*time.Second)}, 2, nil, []time.Duration{7 * time.Second}},
		{"RetryAfterOnLast", p, []error{errFlaky, errFlaky, After(errFlaky, time.Hour)}, 3, errFlaky, []time.Duration{time.Second, 2 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := clock.NewFake(t0)
			var seen []int
			n, err := tt.policy.Do(t.Context(), clk, func(attempt int) error {
				seen = append(seen, attempt)
				if attempt-1 < len(tt.errs) {
					return tt.errs[attempt-1]
				}
				return nil
			})
			if n != tt.wantTries || err != tt.wantErr {
				t.Errorf("Do: got %d, %v; want %d, %v", n, err, tt.wantTries, tt.wantErr)
			}
			var want []int
			for i := 1; i <= tt.wantTries; i++ {
				want = append(want, i)
			}
			if diff := cmp.Diff(want, seen); diff != "" {
				t.Errorf("attempt numbers (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSleeps, clk.Sleeps()); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPolicy_DoCancel: a cancelled context ends the loop, during an
// attempt or during a wait, on the fake clock (no real sleep happens: the
// test would otherwise take an hour).
func TestPolicy_DoCancel(t *testing.T) {
	t.Parallel()
	errFlaky := errors.New("flaky")
	p := Policy{MaxAttempts: 5, Base: time.Hour, Max: time.Hour}

	t.Run("DuringWait", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		n, err := p.Do(ctx, sleepCancels{cancel}, func(int) error { return errFlaky })
		var ie *InterruptedError
		if n != 1 || !errors.As(err, &ie) || !errors.Is(err, context.Canceled) || ie.Last != errFlaky {
			t.Fatalf("Do: got %d, %v; want 1, an InterruptedError after flaky wrapping context.Canceled", n, err)
		}
		if errors.Is(err, errFlaky) {
			t.Errorf("Do: %v unwraps to the last attempt's error; want only ctx's", err)
		}
		if got, want := err.Error(), "waiting to retry: context canceled"; got != want {
			t.Errorf("message: got %q; want %q", got, want)
		}
	})
	t.Run("DuringAttempt", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		clk := clock.NewFake(t0)
		n, err := p.Do(ctx, clk, func(int) error { cancel(); return errFlaky })
		if n != 1 || err != errFlaky {
			t.Errorf("Do: got %d, %v; want 1, flaky", n, err)
		}
		if s := clk.Sleeps(); len(s) != 0 {
			t.Errorf("sleeps: got %v; want none", s)
		}
	})
	t.Run("RealClockStopsAtOnce", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		start := time.Now()
		if err := (clock.Real{}).Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
			t.Errorf("Sleep: got %v; want context.Canceled", err)
		}
		if d := time.Since(start); d > time.Minute {
			t.Errorf("Sleep on a done ctx took %v", d)
		}
	})
}

// sleepCancels is a clock whose Sleep cancels the context, then waits on
// it like clock.Real would.
type sleepCancels struct{ cancel context.CancelFunc }

func (sleepCancels) Now() time.Time { return t0 }
func (s sleepCancels) Sleep(ctx context.Context, d time.Duration) error {
	s.cancel()
	<-ctx.Done()
	return ctx.Err()
}

func TestMarks(t *testing.T) {
	t.Parallel()
	base := errors.New("base")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"PermanentNil", Permanent(nil), "<nil>"},
		{"AfterNil", After(nil, time.Second), "<nil>"},
		{"AfterZeroUnmarked", After(base, 0), "base"},
		{"PermanentMessage", Permanent(base), "base"},
		{"AfterMessage", After(base, time.Second), "base"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := fmt.Sprint(tt.err); got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
			if tt.err != nil && !errors.Is(tt.err, base) {
				t.Errorf("%v does not unwrap to base", tt.err)
			}
		})
	}
}

package clock

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestFake(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		do         func(context.Context, *Fake) error
		wantNow    time.Time
		wantSleeps []time.Duration
		wantErr    error
	}{
		{"Still", func(context.Context, *Fake) error { return nil }, t0, nil, nil},
		{"Advance", func(_ context.Context, f *Fake) error { f.Advance(time.Hour); return nil }, t0.Add(time.Hour), nil, nil},
		{"Set", func(_ context.Context, f *Fake) error { f.Set(t0.Add(-time.Hour)); return nil }, t0.Add(-time.Hour), nil, nil},
		{"SleepAdvancesAndRecords", func(ctx context.Context, f *Fake) error {
			if err := f.Sleep(ctx, 7*time.Second); err != nil {
				return err
			}
			return f.Sleep(ctx, time.Second)
		}, t0.Add(8 * time.Second), []time.Duration{7 * time.Second, time.Second}, nil},
		{"SleepNonPositiveStays", func(ctx context.Context, f *Fake) error { return f.Sleep(ctx, -time.Second) },
			t0, []time.Duration{-time.Second}, nil},
		{"SleepOnDoneCtx", func(ctx context.Context, f *Fake) error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			return f.Sleep(ctx, time.Second)
		}, t0, nil, context.Canceled},
		{"Step", func(_ context.Context, f *Fake) error {
			f.SetStep(time.Second)
			if got := f.Now(); !got.Equal(t0) {
				t.Errorf("first Now: got %v; want %v", got, t0)
			}
			f.SetStep(0)
			return nil
		}, t0.Add(time.Second), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := NewFake(t0)
			if err := tt.do(t.Context(), f); !errors.Is(err, tt.wantErr) {
				t.Errorf("err: got %v; want %v", err, tt.wantErr)
			}
			if got := f.Now(); !got.Equal(tt.wantNow) {
				t.Errorf("Now: got %v; want %v", got, tt.wantNow)
			}
			if diff := cmp.Diff(tt.wantSleeps, f.Sleeps()); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReal_Sleep(t *testing.T) {
	t.Parallel()
	done, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		d       time.Duration
		wantErr error
	}{
		{"ZeroReturnsAtOnce", t.Context(), 0, nil},
		{"NegativeReturnsAtOnce", t.Context(), -time.Hour, nil},
		{"DoneCtxStopsWait", done, time.Hour, context.Canceled},
		{"DoneCtxZero", done, 0, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := (Real{}).Sleep(tt.ctx, tt.d); !errors.Is(err, tt.wantErr) {
				t.Errorf("Sleep(%v): got %v; want %v", tt.d, err, tt.wantErr)
			}
		})
	}
}

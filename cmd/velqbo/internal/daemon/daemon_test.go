package daemon

import (
	"context"
	"path/filepath"
	runtimemetrics "runtime/metrics"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
)

// heapHeld is the heap memory the process holds from the OS: its objects,
// live or not yet collected, and the free heap not returned.
func heapHeld() uint64 {
	s := []runtimemetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/free:bytes"}}
	runtimemetrics.Read(s)
	return s[0].Value.Uint64() + s[1].Value.Uint64()
}

// An idle daemon holds what it needs between runs, not what the last run
// needed: after a scheduled run the heap the run used is collected and
// returned to the OS (the daemon then waits hours for the next run).
// Not parallel: another test's allocations would blur the figure.
func TestDaemon_TriggerReturnsTheRunsMemory(t *testing.T) {
	ctx := context.Background()
	st, err := schema.Open(ctx, filepath.Join(t.TempDir(), "v.db"))
	if err != nil {
		t.Fatal(err)
	}
	log, _ := test.NewNullLogger()
	log.SetLevel(logrus.PanicLevel)
	const runHeld = 128 << 20
	var during uint64
	d, err := New(ctx, st, Config{Schedule: "@every 24h", Location: time.UTC, Listen: "127.0.0.1:0", Grace: time.Second,
		BlockedRuns: 3, FailedRuns: 2, TokenDays: 14, RunLease: "run", LeaseTTL: time.Minute, Log: log, Now: time.Now,
		Run: func(context.Context, reconcile.Options) (*reconcile.Summary, error) {
			// What a large run holds while it works: many small objects.
			chunks := make([][]byte, 0, runHeld/4096)
			for range runHeld / 4096 {
				chunks = append(chunks, make([]byte, 4096))
			}
			during = heapHeld()
			_ = chunks[len(chunks)-1]
			return &reconcile.Summary{}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Serve(sctx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	d.Trigger()
	after := heapHeld()
	if during < runHeld {
		t.Fatalf("the run held %d MiB of heap; want at least %d MiB (the test measures nothing)", during>>20, runHeld>>20)
	}
	if after > during/4 {
		t.Errorf("heap held after the run: got %d MiB; want under %d MiB (a quarter of the %d MiB the run held)", after>>20, during/4>>20, during>>20)
	}
}

package reconcile_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/velqbo/velqbo/internal/clock"
	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
)

// paceLimits are small per-realm limits, enforced by qbotest and paced by
// the clients, so that a test fills a window in a few dozen requests.
var paceLimits = qbotest.Limits{RequestsPerMinute: 12, BatchPerMinute: 4}

// pacedProcess is one velqbo process in a pacing test: its own store on the
// shared database file and its own QBO client.
type pacedProcess struct {
	st        *schema.Store
	c         *qbo.Client
	throttled *atomic.Int64
}

// newPacedProcess opens path and a client on srv; shared says whether the
// client paces against the ledger's windows or its own.
func newPacedProcess(t *testing.T, srv *qbotest.Server, clk clock.Clock, path string, shared bool, throttled *atomic.Int64) *pacedProcess {
	t.Helper()
	st, err := schema.Open(t.Context(), path, schema.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	hc := &http.Client{Transport: &oauth2.Transport{
		Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: srv.IssueAccessToken()}),
		Base:   srv.Client().Transport,
	}}
	opts := []qbo.Option{qbo.WithBaseURL(srv.URL), qbo.WithRealmID(srv.Realm()), qbo.WithClock(clk),
		// Longer than the fake clock can run ahead while a request is in
		// flight: the call bound is on the wall clock, the windows on the fake.
		qbo.WithTimeout(time.Hour),
		qbo.WithPacing(qbo.Pacing{RequestsPerMinute: paceLimits.RequestsPerMinute, BatchRequestsPerMinute: paceLimits.BatchPerMinute, MaxInFlight: 3}),
		qbo.WithObserver(qbo.Observer{Throttled: func() { throttled.Add(1) }})}
	if shared {
		opts = append(opts, qbo.WithWindowStore(reconcile.PaceWindows{St: st}, func(err error) { t.Errorf("pace store: %v", err) }))
	}
	c, err := qbo.NewClient(hc, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return &pacedProcess{st: st, c: c, throttled: throttled}
}

// request sends a plain request (i even) or a batch (i odd, when batches).
func (p *pacedProcess) request(ctx context.Context, i int, batches bool) error {
	if batches && i%2 == 1 {
		_, _, err := p.c.Batch(ctx, []qbo.BatchItem{{BID: "1", Query: "select * from Item"}},
			&qbo.RequestOptions{RequestID: fmt.Sprintf("%p-%d", p, i)})
		return err
	}
	_, _, err := p.c.CompanyInfo(ctx)
	return err
}

// TestPaceWindows_SharedBudget: two processes (two stores on one database
// file, two clients) on one company meet no 429 where two clients pacing
// alone do: a burst of single requests (`customers link`) and then a run
// with batches.
func TestPaceWindows_SharedBudget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		shared        bool
		wantThrottled bool
	}{
		{"Shared", true, false},
		// The control: the same traffic paced per process overruns QBO's
		// window, so the shared case's 0 is not an accident of the traffic.
		{"Alone", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := clock.NewFake(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
			srv := qbotest.NewTestServer(t, qbotest.WithClock(clk), qbotest.WithLimits(paceLimits))
			path := filepath.Join(t.TempDir(), "velqbo.db")
			var throttled atomic.Int64
			link := newPacedProcess(t, srv, clk, path, tt.shared, &throttled)
			for i := range 8 {
				if err := link.request(t.Context(), 2*i, false); err != nil {
					t.Fatal(err)
				}
			}
			link.st.Close()
			run := newPacedProcess(t, srv, clk, path, tt.shared, &throttled)
			for i := range 20 {
				// Alone, a request may give up on 429s: counted below.
				if err := run.request(t.Context(), i, true); err != nil && tt.shared {
					t.Fatal(err)
				}
			}
			if got := throttled.Load() > 0; got != tt.wantThrottled {
				t.Errorf("429s: got %d; want some: %v (server: %+v)", throttled.Load(), tt.wantThrottled, srv.Stats())
			}
		})
	}
}

// TestPaceWindows_Concurrent: two processes sending at once, three
// workers each, plain requests and batches, meet no 429. (Pacing alone
// they meet some, as above, but how many depends on the interleaving.)
func TestPaceWindows_Concurrent(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	srv := qbotest.NewTestServer(t, qbotest.WithClock(clk), qbotest.WithLimits(paceLimits))
	path := filepath.Join(t.TempDir(), "velqbo.db")
	var throttled atomic.Int64
	procs := []*pacedProcess{
		newPacedProcess(t, srv, clk, path, true, &throttled),
		newPacedProcess(t, srv, clk, path, true, &throttled),
	}
	var wg sync.WaitGroup
	for _, p := range procs {
		for w := range 3 {
			wg.Go(func() {
				for i := range 6 {
					if err := p.request(t.Context(), w*6+i, true); err != nil {
						t.Error(err)
					}
				}
			})
		}
	}
	wg.Wait()
	if n := throttled.Load(); n != 0 {
		t.Errorf("429s: got %d; want 0 (server: %+v)", n, srv.Stats())
	}
	if got, want := srv.Stats().Requests, 36; got != want {
		t.Errorf("requests at the server: got %d; want %d", got, want)
	}
}

// TestPaceWindows_CrashAgesOut: a process that booked the whole window and
// died holds it until its bookings age out, the call bound (Hold) and a
// window after they were booked, and no longer.
func TestPaceWindows_CrashAgesOut(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	srv := qbotest.NewTestServer(t, qbotest.WithClock(clk), qbotest.WithLimits(paceLimits))
	path := filepath.Join(t.TempDir(), "velqbo.db")
	var throttled atomic.Int64

	dead, err := schema.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	start := clk.Now()
	w := qbo.Window{Realm: srv.Realm(), Kind: qbo.RequestWindow, Limit: paceLimits.RequestsPerMinute, Per: time.Minute, Hold: 2 * time.Minute}
	for range paceLimits.RequestsPerMinute {
		if _, err := (reconcile.PaceWindows{St: dead}).Reserve(t.Context(), []qbo.Window{w}, start); err != nil {
			t.Fatal(err)
		}
	}
	dead.Close() // died: no Finish

	p := newPacedProcess(t, srv, clk, path, true, &throttled)
	if err := p.request(t.Context(), 0, false); err != nil {
		t.Fatal(err)
	}
	if got, want := clk.Now().Sub(start), 3*time.Minute; got != want {
		t.Errorf("first request sent at +%v; want +%v (the dead bookings' Hold + a minute)", got, want)
	}
	for i := range paceLimits.RequestsPerMinute - 1 {
		if err := p.request(t.Context(), 2*i+2, false); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := clk.Now().Sub(start), 3*time.Minute; got != want {
		t.Errorf("after a window's worth: +%v; want +%v (the dead bookings are gone)", got, want)
	}
	if n := throttled.Load(); n != 0 {
		t.Errorf("429s: got %d; want 0", n)
	}
}

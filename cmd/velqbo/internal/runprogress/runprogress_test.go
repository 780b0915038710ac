package runprogress

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/reconcile"
)

func TestTrackerETA(t *testing.T) {
	start := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name              string
		elapsed           time.Duration
		done, total       int
		requests, batches int
		want              time.Duration
		wantOK            bool
	}{
		{name: "NothingDone", total: 10, wantOK: false},
		{name: "SinglesAtTheRequestBudget", elapsed: 5 * time.Second, done: 500, total: 3000, requests: 500, want: 5 * time.Minute, wantOK: true},
		// 80 of 100 requests are batches: 40 batches a minute allow 50
		// requests a minute, 24 documents each.
		{name: "BatchBudget", elapsed: 10 * time.Second, done: 2400, total: 3000, requests: 100, batches: 80, want: 30 * time.Second, wantOK: true},
		// QBO answers slower than the budget: after a full window the
		// rate seen counts.
		{name: "SlowerThanTheBudget", elapsed: 2 * time.Minute, done: 500, total: 3000, requests: 500, want: 10 * time.Minute, wantOK: true},
		{name: "NoPacingEventsYet", elapsed: 2 * time.Second, done: 5, total: 10, wantOK: false},
		{name: "NoPacingEventsSeen", elapsed: 10 * time.Second, done: 5, total: 10, want: 10 * time.Second, wantOK: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Tracker{pacing: qbo.DefaultPacing(), done: tc.done, total: tc.total,
				requests: tc.requests, batches: tc.batches}
			if tc.done > 0 {
				p.first = start
			}
			got := p.Snapshot(start.Add(tc.elapsed))
			if got.HasETA != tc.wantOK || got.ETA.Round(time.Second) != tc.want {
				t.Errorf("eta: got %v, %v; want %v, %v", got.ETA, got.HasETA, tc.want, tc.wantOK)
			}
		})
	}
}

// TestTrackerPaced: requests are counted as they are sent, a notable wait
// is reported once when it starts (a second request waiting for the same
// window is not news), and the snapshot says how long is left of it.
func TestTrackerPaced(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	tr := NewTracker(qbo.DefaultPacing())
	for i := 1; i <= 10; i++ {
		if tr.Paced(qbo.PaceEvent{Until: now}) {
			t.Fatalf("a request sent: got a new wait; want none")
		}
		tr.Update(i, 100, now)
	}
	if tr.Paced(qbo.PaceEvent{Wait: time.Second, Until: now.Add(time.Second)}) {
		t.Errorf("a 1 s wait: got a new wait; want it not shown")
	}
	until := now.Add(50 * time.Second)
	if !tr.Paced(qbo.PaceEvent{Wait: 50 * time.Second, Until: until}) {
		t.Errorf("a 50 s wait: got no new wait; want one")
	}
	if tr.Paced(qbo.PaceEvent{Wait: 49 * time.Second, Until: until}) {
		t.Errorf("the same window 1 s later: got a new wait; want none")
	}
	got := tr.Snapshot(now.Add(8 * time.Second))
	want := Snapshot{Done: 10, Total: 100, ETA: 10800 * time.Millisecond, HasETA: true, Waiting: 42 * time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("snapshot (-want +got):\n%s", diff)
	}
	if got, want := got.Percent(), 10; got != want {
		t.Errorf("percent: got %d; want %d", got, want)
	}
}

func TestBoard(t *testing.T) {
	var b Board
	if b.Current() != nil || b.Last() != nil {
		t.Fatalf("empty board: got a run; want none")
	}
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	l := b.Begin(NewTracker(qbo.DefaultPacing()), "console: ann", now)
	if b.Current() != l {
		t.Errorf("current: got %v; want the run begun", b.Current())
	}
	select {
	case <-l.Done():
		t.Fatalf("done before Finish")
	default:
	}
	sum := &reconcile.Summary{RunID: "r1", Counts: reconcile.Counts{Created: 1},
		Items: []reconcile.Item{{SourceID: "o1", Action: reconcile.ActionCreate}}}
	boom := errors.New("boom")
	b.Finish(l, sum, boom)
	<-l.Done()
	if b.Current() != nil || b.Last() != l {
		t.Errorf("after finish: current %v, last %v; want none and the run", b.Current(), b.Last())
	}
	// The board keeps the counts, not the items.
	want := &reconcile.Summary{RunID: "r1", Counts: reconcile.Counts{Created: 1}}
	gotSum, gotErr := l.Result()
	if diff := cmp.Diff(want, gotSum); diff != "" || gotErr != boom {
		t.Errorf("result: got error %v, want %v; summary (-want +got):\n%s", gotErr, boom, diff)
	}
	if len(sum.Items) != 1 {
		t.Errorf("the caller's summary: got %d items; want its 1 item untouched", len(sum.Items))
	}
}

func TestRoughDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{300 * time.Millisecond, "1 s"},
		{42 * time.Second, "42 s"},
		{41*time.Second + time.Millisecond, "42 s"},
		{5 * time.Minute, "5 min"},
		{250 * time.Second, "4 min 10 s"},
		{2*time.Hour + 5*time.Minute, "2 h 05 min"},
	} {
		if got := RoughDuration(tc.d); got != tc.want {
			t.Errorf("RoughDuration(%v): got %q; want %q", tc.d, got, tc.want)
		}
	}
}

package schema

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var paceT0 = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

func paceWin(realm, kind string) PaceWindow {
	return PaceWindow{Realm: realm, Kind: kind, Limit: 3, Per: time.Minute, Hold: 2 * time.Minute}
}

// book reserves one slot in w at at and, when end is not zero, finishes it
// at end.
func book(t *testing.T, s *Store, w PaceWindow, at, end time.Time) PaceSlot {
	t.Helper()
	got, err := s.ReservePace(t.Context(), []PaceWindow{w}, at)
	if err != nil {
		t.Fatal(err)
	}
	if !end.IsZero() {
		if err := s.FinishPace(t.Context(), []PaceWindow{w}, got, end); err != nil {
			t.Fatal(err)
		}
	}
	return got[0]
}

func TestReservePace(t *testing.T) {
	t.Parallel()
	w := paceWin("r1", "requests")
	sec := func(n int) time.Time { return paceT0.Add(time.Duration(n) * time.Second) }
	type row struct{ at, end time.Time } // end zero: not ended
	tests := []struct {
		name        string
		rows        []row
		other       []PaceWindow // each gets Limit open rows at t0
		now         time.Time
		wantAt      time.Time
		wantSettled bool
		wantCap     int
	}{
		{name: "Empty", now: sec(0), wantAt: sec(0), wantSettled: true, wantCap: 3},
		{name: "RoomLeft", rows: []row{{sec(0), sec(1)}, {sec(0), time.Time{}}}, now: sec(5), wantAt: sec(5), wantSettled: true, wantCap: 1},
		{name: "FullOfEnded", rows: []row{{sec(0), sec(3)}, {sec(0), sec(1)}, {sec(0), sec(2)}}, now: sec(10),
			wantAt: sec(61), wantSettled: true, wantCap: 0},
		{name: "OneOpenTwoEnded", rows: []row{{sec(0), time.Time{}}, {sec(0), sec(4)}, {sec(0), sec(2)}}, now: sec(10),
			wantAt: sec(62), wantSettled: true, wantCap: 0},
		// Counted, not ordered: a row booked earlier but still open counts
		// however long ago it was booked.
		{name: "FullOfOpen", rows: []row{{sec(0), time.Time{}}, {sec(20), time.Time{}}, {sec(10), time.Time{}}}, now: sec(30),
			wantAt: sec(60), wantSettled: false, wantCap: 0},
		{name: "EndedRowsAgeOut", rows: []row{{sec(0), sec(1)}, {sec(0), sec(1)}, {sec(0), sec(1)}}, now: sec(61),
			wantAt: sec(61), wantSettled: true, wantCap: 3},
		// A process that booked and died: its rows count until Hold+Per
		// after their send time, and no longer.
		{name: "OpenRowsAgeOut", rows: []row{{sec(0), time.Time{}}, {sec(0), time.Time{}}, {sec(0), time.Time{}}}, now: sec(180),
			wantAt: sec(180), wantSettled: true, wantCap: 3},
		// Booked on a clock an hour ahead, since set back: gone, rather than
		// holding the window for the hour.
		{name: "ClockSetBack", rows: []row{{sec(3600), sec(3601)}, {sec(3600), time.Time{}}, {sec(3600), time.Time{}}}, now: sec(0),
			wantAt: sec(0), wantSettled: true, wantCap: 3},
		{name: "OtherRealmsAndKinds", other: []PaceWindow{paceWin("r2", "requests"), paceWin("r1", "batches")}, now: sec(0),
			wantAt: sec(0), wantSettled: true, wantCap: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := MustOpenStore(t)
			for _, r := range tt.rows {
				book(t, s, w, r.at, r.end)
			}
			for _, o := range tt.other {
				for range o.Limit {
					book(t, s, o, paceT0, time.Time{})
				}
			}
			n, err := s.PaceCapacity(t.Context(), w, tt.now, 5)
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.wantCap {
				t.Errorf("capacity: got %d; want %d", n, tt.wantCap)
			}
			got := book(t, s, w, tt.now, time.Time{})
			if !got.At.Equal(tt.wantAt) || got.Settled != tt.wantSettled {
				t.Errorf("slot: got at +%v settled %v; want at +%v settled %v", got.At.Sub(paceT0), got.Settled, tt.wantAt.Sub(paceT0), tt.wantSettled)
			}
		})
	}
}

// TestPaceReady: an unsettled slot waits for one of the open rows to end,
// polling while none has; it settles at a window after that end.
func TestPaceReady(t *testing.T) {
	t.Parallel()
	s := MustOpenStore(t)
	w := paceWin("r1", "requests")
	var open []PaceSlot
	for range w.Limit {
		open = append(open, book(t, s, w, paceT0, time.Time{}))
	}
	slot := book(t, s, w, paceT0.Add(time.Second), time.Time{})
	if slot.Settled {
		t.Fatalf("slot in a window of open rows: settled at %v; want unsettled", slot.At)
	}
	const poll = 500 * time.Millisecond
	var got []PaceSlot
	ask := func(now time.Time) {
		t.Helper()
		var err error
		slot, err = s.PaceReady(t.Context(), w, slot, now, poll)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, PaceSlot{ID: slot.ID, At: slot.At, Settled: slot.Settled})
	}
	ask(paceT0.Add(time.Minute)) // at the estimate, nothing has ended
	if err := s.FinishPace(t.Context(), []PaceWindow{w}, open[1:2], paceT0.Add(70*time.Second)); err != nil {
		t.Fatal(err)
	}
	ask(paceT0.Add(71 * time.Second))
	ask(paceT0.Add(200 * time.Second)) // settled stays as it is
	want := []PaceSlot{
		{ID: slot.ID, At: paceT0.Add(time.Minute + poll)},
		{ID: slot.ID, At: paceT0.Add(130 * time.Second), Settled: true},
		{ID: slot.ID, At: paceT0.Add(130 * time.Second), Settled: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("slots (-want +got):\n%s", diff)
	}
}

// TestPaceReady_Waiters: more waiters than the limit do not wait for each
// other: each counts only the rows booked before it, so once the open rows
// end the first Limit waiters settle and the rest keep waiting.
func TestPaceReady_Waiters(t *testing.T) {
	t.Parallel()
	s := MustOpenStore(t)
	w := PaceWindow{Realm: "r1", Kind: "requests", Limit: 2, Per: time.Minute, Hold: 5 * time.Minute}
	var open, waiters []PaceSlot
	for range w.Limit {
		open = append(open, book(t, s, w, paceT0, time.Time{}))
	}
	for range 3 {
		waiters = append(waiters, book(t, s, w, paceT0.Add(time.Second), time.Time{}))
	}
	if err := s.FinishPace(t.Context(), []PaceWindow{w, w}, open, paceT0.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	var got []PaceSlot
	for _, slot := range waiters {
		slot, err := s.PaceReady(t.Context(), w, slot, paceT0.Add(11*time.Second), 500*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, slot)
	}
	free := paceT0.Add(70 * time.Second) // the open rows' end + Per
	want := []PaceSlot{
		{ID: waiters[0].ID, At: free, Settled: true},
		{ID: waiters[1].ID, At: free, Settled: true},
		{ID: waiters[2].ID, At: got[2].At},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("waiters (-want +got):\n%s", diff)
	}
}

// TestReservePace_TwoStores: two stores on one file book in one window.
func TestReservePace_TwoStores(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "velqbo.db")
	a, b := mustOpenStoreAt(t, path), mustOpenStoreAt(t, path)
	w := paceWin("r1", "requests")
	book(t, a, w, paceT0, paceT0.Add(time.Second))
	book(t, b, w, paceT0, paceT0.Add(2*time.Second))
	book(t, a, w, paceT0, time.Time{})
	got := book(t, b, w, paceT0.Add(3*time.Second), time.Time{})
	if want := paceT0.Add(61 * time.Second); !got.At.Equal(want) || !got.Settled {
		t.Errorf("fourth slot: got at %v settled %v; want at %v settled", got.At, got.Settled, want)
	}
}

// BenchmarkPace is the cost pacing adds to one QBO request: a reservation
// and its finish, in a window of QBO's 500 kept full by a clock that
// moves 120 ms (500 a minute) per request.
func BenchmarkPace(b *testing.B) {
	s := mustOpenStoreAt(b, filepath.Join(b.TempDir(), "velqbo.db"))
	w := PaceWindow{Realm: "r1", Kind: "requests", Limit: 500, Per: time.Minute, Hold: 5 * time.Minute}
	ws := []PaceWindow{w}
	now := paceT0
	ctx := b.Context()
	for b.Loop() {
		got, err := s.ReservePace(ctx, ws, now)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.FinishPace(ctx, ws, got, now.Add(50*time.Millisecond)); err != nil {
			b.Fatal(err)
		}
		now = now.Add(120 * time.Millisecond)
	}
}

// TestPaceReady_ConsistentRead: PaceReady reads the window twice (how many
// rows count, then when the ended ones free); another process that deletes
// an ended row in between (its booking clears rows that stopped counting)
// must not make the second read come back empty. Not parallel: it sets
// paceAtCounted.
func TestPaceReady_ConsistentRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "velqbo.db")
	a, b := mustOpenStoreAt(t, path), mustOpenStoreAt(t, path)
	w := PaceWindow{Realm: "r1", Kind: "requests", Limit: 2, Per: time.Minute, Hold: 5 * time.Minute}
	first := book(t, a, w, paceT0, time.Time{})
	book(t, a, w, paceT0, time.Time{})
	waiter := book(t, a, w, paceT0.Add(time.Second), time.Time{})
	if waiter.Settled {
		t.Fatalf("the third booking in a window of 2 open rows: got settled; want unsettled")
	}
	end := paceT0.Add(2 * time.Second)
	if err := a.FinishPace(t.Context(), []PaceWindow{w}, []PaceSlot{first}, end); err != nil {
		t.Fatal(err)
	}
	// The other process books when the ended row has stopped counting
	// (end + Per), which deletes it, between PaceReady's two reads.
	var otherErr error
	paceAtCounted = func() {
		paceAtCounted = nil
		_, otherErr = b.ReservePace(t.Context(), []PaceWindow{w}, end.Add(w.Per+time.Second))
	}
	t.Cleanup(func() { paceAtCounted = nil })
	got, err := a.PaceReady(t.Context(), w, waiter, paceT0.Add(3*time.Second), time.Second)
	if otherErr != nil {
		t.Fatalf("the other process's booking: %v", otherErr)
	}
	if err != nil {
		t.Fatalf("PaceReady with another process's booking between its reads: got %v; want the slot", err)
	}
	want := PaceSlot{ID: waiter.ID, At: end.Add(w.Per), Settled: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("slot (-want +got):\n%s", diff)
	}
}

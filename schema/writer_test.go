package schema

import (
	"database/sql"
	"errors"
	"testing"
	"time"
)

// TestWriterTurn: the writers of one Store wait for their turn in the
// Store while another of its write transactions is open, instead of in
// SQLite's busy handler, which is unfair and gives up after busy_timeout
// with SQLITE_BUSY (a run's ledger write failing stops the run). Each kind
// of write is checked: withTx (SetSetting), a single statement (exec:
// DeleteSetting), and the pacing transactions on their own connection
// (ReservePace, FinishPace).
func TestWriterTurn(t *testing.T) {
	t.Parallel()
	w := paceWin("r1", "requests")
	for _, tc := range []struct {
		name  string
		write func(t *testing.T, s *Store, slot PaceSlot) error
	}{
		{"SetSetting", func(t *testing.T, s *Store, _ PaceSlot) error { return s.SetSetting(t.Context(), "k", "v") }},
		{"DeleteSetting", func(t *testing.T, s *Store, _ PaceSlot) error {
			err := s.DeleteSetting(t.Context(), "k")
			if errors.Is(err, ErrNotFound) {
				return nil // it was not set: the statement ran
			}
			return err
		}},
		{"ReservePace", func(t *testing.T, s *Store, _ PaceSlot) error {
			_, err := s.ReservePace(t.Context(), []PaceWindow{w}, paceT0.Add(time.Second))
			return err
		}},
		{"FinishPace", func(t *testing.T, s *Store, slot PaceSlot) error {
			return s.FinishPace(t.Context(), []PaceWindow{w}, []PaceSlot{slot}, paceT0.Add(time.Second))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := MustOpenStore(t)
			slot := book(t, s, w, paceT0, time.Time{})
			waiting := make(chan struct{}, 1)
			s.onWriterWait = func() { waiting <- struct{}{} }
			held, release, holderDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
			go func() {
				holderDone <- s.withTx(ctx, func(tx *sql.Tx, _ time.Time) error {
					close(held)
					<-release
					return nil
				})
			}()
			<-held
			done := make(chan error, 1)
			go func() { done <- tc.write(t, s, slot) }()
			select {
			case <-waiting:
			case err := <-done:
				t.Fatalf("finished while another write transaction of the store was open: got %v; want it to wait its turn", err)
			}
			close(release)
			if err := <-holderDone; err != nil {
				t.Fatalf("the open transaction: %v", err)
			}
			if err := <-done; err != nil {
				t.Errorf("after waiting its turn: got %v; want no error", err)
			}
		})
	}
}

package schema

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"
)

// PaceWindow is one of a realm's per-minute QBO windows (qbo.Window): at
// most Limit requests of Kind in any span of Per, each counted from its
// booked send time until Per after it ended, or, when its end is never
// recorded, until Hold+Per after its booked send time.
type PaceWindow struct {
	Realm string
	Kind  string
	Limit int
	Per   time.Duration
	Hold  time.Duration
}

// PaceSlot is one request's booked place in a PaceWindow.
type PaceSlot struct {
	ID int64
	// At is the earliest send time known when the slot was booked or last
	// asked about (PaceReady).
	At time.Time
	// Settled is false when the window was full of requests that had not
	// ended: At is then an estimate, and PaceReady tells more.
	Settled bool
}

// paceConn is the connection every pacing statement runs on, with
// synchronous=NORMAL. Why not the pool's FULL: a pace row is worth nothing
// after a power loss (its window is a minute long), and FULL would cost
// an fsync for each of the two writes of every QBO request. NORMAL in WAL
// mode is still atomic and durable against a crash of the process. One
// connection, behind mu, also keeps a process's pacing from taking several
// of the pool's connections.
type paceConn struct {
	mu   chan struct{} // a mutex that a done ctx can give up on
	conn *sql.Conn
}

// withPace runs fn on the pacing connection, opening it on first use.
func (s *Store) withPace(ctx context.Context, fn func(c *sql.Conn) error) error {
	select {
	case s.pace.mu <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.pace.mu }()
	if s.pace.conn == nil {
		c, err := s.db.Conn(ctx)
		if err != nil {
			return err
		}
		if _, err := c.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
			c.Close()
			return err
		}
		s.pace.conn = c
	}
	return fn(s.pace.conn)
}

// closePace closes the pacing connection, if it was opened.
func (s *Store) closePace() {
	s.pace.mu <- struct{}{}
	defer func() { <-s.pace.mu }()
	if s.pace.conn != nil {
		s.pace.conn.Close()
		s.pace.conn = nil
	}
}

// ReservePace books, at now, one place for one request in each of ws, in
// one write transaction, and returns the slots in the order of ws. Rows
// that stopped counting, or that lie further ahead than any booking at now
// could (booked on a clock since set back), are deleted on the way.
//
// A window's rows are counted, not ordered: a request may be sent at the
// earliest time t at or after now when fewer than Limit other rows of its
// window still count at t, a row that has not ended counting until it
// does. Every row booked before this one is counted, whatever its send
// time, and every row booked after it counts this one, so no span of Per
// ever holds more than Limit requests however the processes interleave.
// When Limit rows have not ended, the slot is unsettled (see PaceReady).
//
// Returns an error wrapping the database's when the transaction fails
// (after busy_timeout when another process holds the write lock).
func (s *Store) ReservePace(ctx context.Context, ws []PaceWindow, now time.Time) ([]PaceSlot, error) {
	out := make([]PaceSlot, len(ws))
	err := s.withPace(ctx, func(c *sql.Conn) error {
		release, err := s.lockWriter(ctx)
		if err != nil {
			return err
		}
		defer release()
		tx, err := c.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for i, w := range ws {
			if w.Limit <= 0 || w.Per <= 0 {
				return fmt.Errorf("window %s/%s: limit %d per %v", w.Realm, w.Kind, w.Limit, w.Per)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM pace_slots WHERE realm = ? AND kind = ? AND ended IN (0, 1)
				AND (free_ns <= ? OR free_ns > ?)`,
				w.Realm, w.Kind, now.UnixNano(), paceHorizon(w, now)); err != nil {
				return err
			}
			at, settled, err := paceAt(ctx, tx, w, now, math.MaxInt64)
			if err != nil {
				return err
			}
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO pace_slots (realm, kind, at_ns, free_ns) VALUES (?, ?, ?, ?) RETURNING id`,
				w.Realm, w.Kind, at.UnixNano(), at.Add(w.Hold+w.Per).UnixNano()).Scan(&id); err != nil {
				return err
			}
			out[i] = PaceSlot{ID: id, At: at, Settled: settled}
		}
		return tx.Commit()
	})
	if err != nil {
		return nil, fmt.Errorf("reserve pace: %w", err)
	}
	return out, nil
}

// paceAt is the earliest time at or after now when fewer than w.Limit rows
// of w booked before the row self count (a new booking passes
// math.MaxInt64), and whether it is known. Why only those before: a row
// booked later counts self already, so counting it back would make more
// than Limit waiters wait for each other until their rows aged out; with Limit rows not
// ended it is not, and the estimate is the earliest time one of them can
// end, a window after its send time.
func paceAt(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, w PaceWindow, now time.Time, self int64) (time.Time, bool, error) {
	var open, done int
	var firstAt sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT
			COUNT(*) FILTER (WHERE ended = 0), COUNT(*) FILTER (WHERE ended = 1),
			MIN(at_ns) FILTER (WHERE ended = 0)
		FROM pace_slots WHERE realm = ? AND kind = ? AND ended IN (0, 1) AND free_ns > ? AND free_ns <= ? AND id < ?`,
		w.Realm, w.Kind, now.UnixNano(), paceHorizon(w, now), self).Scan(&open, &done, &firstAt); err != nil {
		return time.Time{}, false, err
	}
	if paceAtCounted != nil {
		paceAtCounted()
	}
	switch {
	case open+done < w.Limit:
		return now, true, nil
	case open >= w.Limit:
		return later(now, time.Unix(0, firstAt.Int64).Add(w.Per)), false, nil
	}
	// The ended rows stop counting in the order of free_ns; enough of them
	// must have for the open ones and this one to fit.
	var free int64
	if err := q.QueryRowContext(ctx, `SELECT free_ns FROM pace_slots
		WHERE realm = ? AND kind = ? AND ended = 1 AND free_ns > ? AND free_ns <= ? AND id < ? ORDER BY free_ns LIMIT 1 OFFSET ?`,
		w.Realm, w.Kind, now.UnixNano(), paceHorizon(w, now), self, done-(w.Limit-open)).Scan(&free); err != nil {
		return time.Time{}, false, err
	}
	return later(now, time.Unix(0, free)), true, nil
}

// paceAtCounted, when set (a test, not parallel), runs between paceAt's
// two reads.
var paceAtCounted func()

// paceHorizon is the furthest free_ns a row booked at now can have: sent at
// most a window ahead, ended at most Hold later, counting a window more;
// twice that for slack. A row beyond it was booked on a clock that ran
// ahead of this one and was set back since: counted, it would hold the
// window for as long, so it is ignored and deleted.
func paceHorizon(w PaceWindow, now time.Time) int64 {
	return now.Add(2 * (w.Hold + 2*w.Per)).UnixNano()
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// PaceReady tells, at now, more about an unsettled slot (PaceSlot.Settled
// false; a settled one comes back as it is). When fewer than Limit other
// rows of w have not ended, the slot is settled with the time
// ReservePace's rule gives now (never earlier than its At); else its At
// moves to now+poll, or to when the first of the open rows can end if that
// is later, and it stays unsettled, to be asked again then. It writes
// nothing.
//
// Returns an error wrapping the database's when the read fails.
func (s *Store) PaceReady(ctx context.Context, w PaceWindow, slot PaceSlot, now time.Time, poll time.Duration) (PaceSlot, error) {
	if slot.Settled {
		return slot, nil
	}
	var at time.Time
	var settled bool
	err := s.withPace(ctx, func(c *sql.Conn) error {
		// One read transaction: paceAt reads the window twice, and another
		// process's booking or finish between the two reads made the
		// second find fewer ended rows than the first counted ("no rows").
		// ReadOnly begins a deferred transaction (a WAL snapshot), not the
		// DSN's immediate one, so it takes no write lock.
		tx, err := c.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return err
		}
		defer tx.Rollback()
		at, settled, err = paceAt(ctx, tx, w, now, slot.ID)
		return err
	})
	if err != nil {
		return slot, fmt.Errorf("pace ready: %w", err)
	}
	if !settled {
		at = later(at, now.Add(poll))
	}
	slot.At = later(slot.At, at)
	slot.Settled = settled
	return slot, nil
}

// FinishPace records that the request holding slots (booked in ws, in
// that order) ended at end: each row then counts until end+Per. One write
// transaction.
//
// Returns an error wrapping the database's when the transaction fails.
func (s *Store) FinishPace(ctx context.Context, ws []PaceWindow, slots []PaceSlot, end time.Time) error {
	if len(ws) != len(slots) {
		return fmt.Errorf("finish pace: %d windows, %d slots", len(ws), len(slots))
	}
	err := s.withPace(ctx, func(c *sql.Conn) error {
		release, err := s.lockWriter(ctx)
		if err != nil {
			return err
		}
		defer release()
		tx, err := c.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for i, sl := range slots {
			e := end
			if e.Before(sl.At) {
				e = sl.At
			}
			if _, err := tx.ExecContext(ctx, `UPDATE pace_slots SET free_ns = ?, ended = 1 WHERE id = ?`,
				e.Add(ws[i].Per).UnixNano(), sl.ID); err != nil {
				return err
			}
		}
		return tx.Commit()
	})
	if err != nil {
		return fmt.Errorf("finish pace: %w", err)
	}
	return nil
}

// PaceCapacity reports how many more requests w admits at now without
// waiting, never more than most: Limit less the rows still counting. It
// writes nothing.
//
// Returns an error wrapping the database's when the read fails.
func (s *Store) PaceCapacity(ctx context.Context, w PaceWindow, now time.Time, most int) (int, error) {
	var n int
	err := s.withPace(ctx, func(c *sql.Conn) error {
		return c.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM pace_slots
			WHERE realm = ? AND kind = ? AND ended IN (0, 1) AND free_ns > ? AND free_ns <= ? LIMIT ?)`,
			w.Realm, w.Kind, now.UnixNano(), paceHorizon(w, now), w.Limit).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("pace capacity: %w", err)
	}
	return max(0, min(most, w.Limit-n)), nil
}

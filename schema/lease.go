package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Lease is a named, expiring lock row that keeps a second run or daemon out.
type Lease struct {
	Name       string
	Holder     string
	PID        int
	Host       string
	AcquiredAt time.Time
	ExpiresAt  time.Time
}

// LeaseHeldError is returned when another holder has an unexpired lease.
// errors.Is(err, ErrConflict) is true for it.
type LeaseHeldError struct {
	Name    string
	Holder  string
	PID     int
	Host    string
	Since   time.Time
	Expires time.Time
}

// Error names the holder, its pid and host, and the lease times.
func (e *LeaseHeldError) Error() string {
	return fmt.Sprintf("lease %s is held by %s (pid %d on %s) since %s, until %s",
		e.Name, e.Holder, e.PID, e.Host, e.Since.Format(time.RFC3339), e.Expires.Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *LeaseHeldError) Is(target error) bool { return target == ErrConflict }

// AcquireLease takes the named lease for holder for ttl, atomically (one
// write transaction): it succeeds when the lease is free, expired, or
// already held by holder (which renews it). The lease records this
// process's pid and host name for the error others get.
//
// Returns *LeaseHeldError when someone else holds an unexpired lease.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (Lease, error) {
	l, err := s.takeLease(ctx, name, holder, ttl, true)
	if err != nil {
		return Lease{}, fmt.Errorf("acquire lease %s: %w", name, err)
	}
	return l, nil
}

// RenewLease extends a lease holder holds to now+ttl, keeping AcquiredAt.
// Returns ErrNotFound when the lease is not held (released or never taken)
// and *LeaseHeldError when another holder has taken it.
func (s *Store) RenewLease(ctx context.Context, name, holder string, ttl time.Duration) (Lease, error) {
	l, err := s.takeLease(ctx, name, holder, ttl, false)
	if err != nil {
		return Lease{}, fmt.Errorf("renew lease %s: %w", name, err)
	}
	return l, nil
}

func (s *Store) takeLease(ctx context.Context, name, holder string, ttl time.Duration, acquire bool) (Lease, error) {
	if name == "" || holder == "" || ttl <= 0 {
		return Lease{}, errors.New("name, holder and a positive ttl are required")
	}
	host, _ := os.Hostname()
	var out Lease
	err := s.withTx(ctx, func(tx *sql.Tx, now time.Time) error {
		var cur Lease
		err := tx.QueryRowContext(ctx, `SELECT name, holder, pid, hostname, acquired_at, expires_at FROM lease WHERE name = ?`, name).
			Scan(&cur.Name, &cur.Holder, &cur.PID, &cur.Host, scanTime(&cur.AcquiredAt), scanTime(&cur.ExpiresAt))
		found := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		switch {
		case found && cur.Holder != holder && now.Before(cur.ExpiresAt):
			return &LeaseHeldError{Name: name, Holder: cur.Holder, PID: cur.PID, Host: cur.Host, Since: cur.AcquiredAt, Expires: cur.ExpiresAt}
		case !acquire && !found:
			return ErrNotFound
		case !acquire && cur.Holder != holder:
			// Expired and not ours: we lost it, even if nobody took it yet.
			return fmt.Errorf("lease expired at %s and was held by %s: %w", formatTime(cur.ExpiresAt), cur.Holder, ErrNotFound)
		}
		out = Lease{Name: name, Holder: holder, PID: os.Getpid(), Host: host, AcquiredAt: now.UTC(), ExpiresAt: now.Add(ttl).UTC()}
		if found && cur.Holder == holder {
			out.AcquiredAt = cur.AcquiredAt
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO lease (name, holder, pid, hostname, acquired_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, pid = excluded.pid, hostname = excluded.hostname,
				acquired_at = excluded.acquired_at, expires_at = excluded.expires_at`,
			out.Name, out.Holder, out.PID, out.Host, formatTime(out.AcquiredAt), formatTime(out.ExpiresAt))
		return err
	})
	return out, err
}

// HoldLease takes the named lease for holder, as AcquireLease does, and
// keeps it until release is called: a goroutine renews it every ttl/4, so
// a holder that dies without releasing keeps others out for at most ttl.
//
// A renewal that fails is passed to onRenewErr (when not nil) and tried
// again at the next tick: with four ticks per ttl, one failed renewal
// (a busy database) does not let the lease expire. Renewals and the
// release use ctx's values but not its cancellation.
//
// release stops the renewals and deletes the lease row. It does so even
// after ctx is cancelled (SIGTERM), so the next holder need not wait out
// ttl, and returns ReleaseLease's error. Call it once.
//
// Returns AcquireLease's errors: *LeaseHeldError when someone else holds
// an unexpired lease.
func (s *Store) HoldLease(ctx context.Context, name, holder string, ttl time.Duration, onRenewErr func(error)) (release func() error, err error) {
	if _, err := s.AcquireLease(ctx, name, holder, ttl); err != nil {
		return nil, err
	}
	bg := context.WithoutCancel(ctx)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(ttl / 4)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if _, err := s.RenewLease(bg, name, holder, ttl); err != nil && onRenewErr != nil {
					onRenewErr(err)
				}
			}
		}
	})
	return func() error {
		close(stop)
		wg.Wait()
		return s.ReleaseLease(bg, name, holder)
	}, nil
}

// ReleaseLease gives up the named lease if holder holds it; releasing a
// lease one does not hold does nothing.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := s.exec(ctx, `DELETE FROM lease WHERE name = ? AND holder = ?`, name, holder); err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}

// GetLease returns the named lease, expired or not. Returns ErrNotFound
// when nobody holds it.
func (s *Store) GetLease(ctx context.Context, name string) (Lease, error) {
	var l Lease
	err := s.db.QueryRowContext(ctx, `SELECT name, holder, pid, hostname, acquired_at, expires_at FROM lease WHERE name = ?`, name).
		Scan(&l.Name, &l.Holder, &l.PID, &l.Host, scanTime(&l.AcquiredAt), scanTime(&l.ExpiresAt))
	if errors.Is(err, sql.ErrNoRows) {
		return Lease{}, fmt.Errorf("get lease %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return Lease{}, fmt.Errorf("get lease %s: %w", name, err)
	}
	return l, nil
}

package schema

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestHoldLease runs in a synctest bubble: the renewal ticker fires on
// the bubble's fake time, so no test waits for it.
func TestHoldLease(t *testing.T) {
	const ttl = 2 * time.Minute
	open := func(t *testing.T) *Store {
		t.Helper()
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "lease.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	t.Run("RenewsUntilReleased", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			ctx, cancel := context.WithCancel(t.Context())
			release, err := s.HoldLease(ctx, "run", "A", ttl, func(err error) { t.Errorf("renew: %v", err) })
			if err != nil {
				t.Fatal(err)
			}
			acquired := time.Now()
			for i := 1; i <= 8; i++ { // two ttls: it would have expired without renewals
				time.Sleep(ttl / 4)
				synctest.Wait()
				l, err := s.GetLease(t.Context(), "run")
				if err != nil {
					t.Fatal(err)
				}
				if want := time.Now().Add(ttl); !l.ExpiresAt.Equal(want) || !l.AcquiredAt.Equal(acquired) {
					t.Fatalf("tick %d: got acquired %s, expires %s; want %s, %s", i, l.AcquiredAt, l.ExpiresAt, acquired, want)
				}
			}
			cancel() // SIGTERM: the release must still happen
			if err := release(); err != nil {
				t.Fatalf("release: %v", err)
			}
			if _, err := s.GetLease(t.Context(), "run"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("after release: got %v; want ErrNotFound", err)
			}
			time.Sleep(ttl)
			synctest.Wait()
			if _, err := s.GetLease(t.Context(), "run"); !errors.Is(err, ErrNotFound) {
				t.Errorf("a ttl after release: got %v; want ErrNotFound", err)
			}
		})
	})

	t.Run("HeldByAnother", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			if _, err := s.AcquireLease(t.Context(), "run", "B", ttl); err != nil {
				t.Fatal(err)
			}
			release, err := s.HoldLease(t.Context(), "run", "A", ttl, nil)
			var held *LeaseHeldError
			if !errors.As(err, &held) || held.Holder != "B" || release != nil {
				t.Errorf("got %v, release %v; want *LeaseHeldError naming B and no release", err, release != nil)
			}
		})
	})

	t.Run("LostLeaseReported", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			var mu sync.Mutex
			var errs []error
			release, err := s.HoldLease(t.Context(), "run", "A", ttl, func(err error) {
				mu.Lock()
				defer mu.Unlock()
				errs = append(errs, err)
			})
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			if err := s.ReleaseLease(t.Context(), "run", "A"); err != nil { // as if taken from under us
				t.Fatal(err)
			}
			time.Sleep(ttl / 4)
			synctest.Wait()
			mu.Lock()
			defer mu.Unlock()
			if len(errs) != 1 || !errors.Is(errs[0], ErrNotFound) {
				t.Errorf("renewal errors: got %v; want one wrapping ErrNotFound", errs)
			}
		})
	})
}

package schema

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/velqbo/velqbo/internal/clock"
)

// testKey is a fixed 32-byte token key for tests.
var testKey = []byte("0123456789abcdef0123456789abcdef")

// newTestClock returns the store tests' clock, which moves only by Advance.
func newTestClock() *clock.Fake { return clock.NewFake(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)) }

// MustOpenStore opens a store in a fresh temporary directory with the test
// key and a fixed clock (overridable through opts), closed at cleanup.
func MustOpenStore(tb testing.TB, opts ...Option) *Store {
	tb.Helper()
	return mustOpenStoreAt(tb, filepath.Join(tb.TempDir(), "velqbo.db"), opts...)
}

func mustOpenStoreAt(tb testing.TB, path string, opts ...Option) *Store {
	tb.Helper()
	all := append([]Option{WithTokenKey(testKey), WithClock(newTestClock().Now)}, opts...)
	s, err := Open(context.Background(), path, all...)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestOpen_Migrations(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "velqbo.db")
	clock := newTestClock()

	s, err := Open(ctx, path, WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.Migrations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != len(all) || first[0].Version != 1 || first[0].Name != "0001_init.sql" {
		t.Fatalf("got migrations %+v; want all %d embedded, starting with 0001_init.sql", first, len(all))
	}
	for _, table := range []string{"settings", "customer_links", "product_links", "tokens", "documents",
		"runs", "run_items", "cursors", "audit", "lease"} {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, table).Scan(&n); err != nil || n != 1 {
			t.Errorf("table %s: got count %d, err %v; want 1, nil", table, n, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	t.Run("ReopenDoesNotReapply", func(t *testing.T) {
		clock.Advance(time.Hour)
		s, err := Open(ctx, path, WithClock(clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		again, err := s.Migrations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(again) != len(first) || !again[0].AppliedAt.Equal(first[0].AppliedAt) {
			t.Fatalf("got %+v after reopen; want unchanged %+v", again, first)
		}
	})

	t.Run("NewerSchemaRefused", func(t *testing.T) {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.db.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future.sql', '')`); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if s, err := Open(ctx, path); err == nil {
			s.Close()
			t.Fatal("got nil error opening a database from the future; want an error")
		}
	})
}

func TestOpen_BadArguments(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		path string
		opts []Option
	}{
		"Memory":       {":memory:", nil},
		"QuestionMark": {filepath.Join(dir, "a?b.db"), nil},
		"ShortKey":     {filepath.Join(dir, "k.db"), []Option{WithTokenKey([]byte("short"))}},
		"NoDirectory":  {filepath.Join(dir, "missing", "x.db"), nil},
	} {
		t.Run(name, func(t *testing.T) {
			if s, err := Open(t.Context(), tc.path, tc.opts...); err == nil {
				s.Close()
				t.Fatalf("Open(%q): got nil error; want an error", tc.path)
			}
		})
	}
}

// TestOpen_ExistingOnly: ExistingOnly creates nothing where no database
// is, not even a missing directory's file, and opens one that exists.
func TestOpen_ExistingOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	existing := filepath.Join(dir, "velqbo.db")
	mustOpenStoreAt(t, existing).Close()
	tests := []struct {
		name    string
		path    string
		wantErr error
	}{
		{name: "Missing", path: filepath.Join(dir, "missing.db"), wantErr: ErrNoDatabase},
		{name: "MissingDir", path: filepath.Join(dir, "nodir", "velqbo.db"), wantErr: ErrNoDatabase},
		{name: "Existing", path: existing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(t.Context(), tt.path, ExistingOnly())
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Open: got %v; want %v", err, tt.wantErr)
			}
			if err != nil {
				if _, serr := os.Stat(tt.path); !errors.Is(serr, os.ErrNotExist) {
					t.Errorf("Open left a file at %s (stat: %v); want none", tt.path, serr)
				}
				return
			}
			defer s.Close()
			if _, err := s.LastRuns(t.Context(), 1); err != nil {
				t.Errorf("LastRuns on the opened store: %v", err)
			}
		})
	}
}

func TestOpen_FileMode(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	t.Run("New", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "velqbo.db")
		s := mustOpenStoreAt(t, path)
		// A write makes sure the WAL and shared-memory files exist.
		if err := s.SetSetting(ctx, "k", "v"); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != 0o600 {
				t.Errorf("%s: got mode %o; want 600", filepath.Base(p), got)
			}
		}
	})

	t.Run("ExistingLooseFileTightened", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "velqbo.db")
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		mustOpenStoreAt(t, path)
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("got mode %o; want 600", got)
		}
	})
}

func TestOpen_PragmasOnEveryConnection(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := MustOpenStore(t)
	// Hold several connections at once so the pool must open new ones.
	const n = 4
	for i := range n {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for _, p := range []struct {
			pragma string
			want   string
		}{
			{"journal_mode", "wal"},
			{"foreign_keys", "1"},
			{"busy_timeout", "5000"},
			{"synchronous", "2"}, // FULL
		} {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != p.want {
				t.Errorf("connection %d: PRAGMA %s: got %q; want %q", i, p.pragma, got, p.want)
			}
		}
	}
	if got := s.db.Stats().OpenConnections; got < n {
		t.Errorf("got %d open connections; want at least %d", got, n)
	}
}

func TestStore_ConcurrentWriters(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := MustOpenStore(t)
	const workers, per = 4, 100
	var wg sync.WaitGroup
	errs := make(chan error, workers*per)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				k := DocumentKey{Kind: "order", SourceID: string(rune('a'+w)) + "-" + time.Duration(i).String()}
				req := "req-" + k.SourceID
				if err := s.RecordIntent(ctx, Intent{Key: k, Action: "create", RequestID: req, Fingerprint: "fp"}); err != nil {
					errs <- err
					return
				}
				if err := s.RecordOutcome(ctx, DocumentOutcome{Key: k, RequestID: req, State: StateSent, QBOID: "1",
					Audit: &AuditEntry{Entity: "Invoice", Operation: "create", Outcome: "ok"}}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent write: %v", err)
	}
	docs, err := s.ListDocuments(ctx, DocumentFilter{States: []State{StateSent}})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != workers*per {
		t.Errorf("got %d sent documents; want %d", len(docs), workers*per)
	}
	audit, err := s.ListAudit(ctx, AuditFilter{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) != workers*per {
		t.Errorf("got %d audit entries; want %d", len(audit), workers*per)
	}
}

func TestLeaseHeldError_IsConflict(t *testing.T) {
	t.Parallel()
	var err error = &LeaseHeldError{Name: "run", Holder: "x"}
	if !errors.Is(err, ErrConflict) {
		t.Errorf("errors.Is(LeaseHeldError, ErrConflict): got false; want true")
	}
}

// Package schema is velqbo's SQLite store: settings, customer and product
// links, OAuth tokens (encrypted at rest), the document ledger, runs,
// cursors, the audit log and the run lease, with embedded migrations and all
// of the project's SQL. It knows nothing about QBO or Velocity wire formats:
// it stores the plain strings it is given.
package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

var (
	// ErrNotFound is returned when a requested row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict is returned when a write contradicts what is stored, such
	// as a new write intent over an unresolved one, or a lease held by
	// someone else (see LeaseHeldError).
	ErrConflict = errors.New("conflict")
	// ErrNoDatabase is returned by Open with ExistingOnly when no database
	// file exists at the path.
	ErrNoDatabase = errors.New("no database")
)

// Store is velqbo's SQLite database. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
	now  func() time.Time
	key  []byte // AES-256 key for tokens; nil when none was given
	// existingOnly: Open must not create the file (ExistingOnly).
	existingOnly bool

	byIDStmt    *sql.Stmt // DocumentsBySource for a full chunk
	digestsStmt *sql.Stmt // OrderDigests
	pace        paceConn  // pace.go
	// writer is held by each write of this Store (withTx, exec and the
	// pacing transactions; not VACUUM INTO, which only reads it). Why:
	// SQLite's busy handler polls for the write lock (sleeps of up to
	// 100 ms) and is not fair, so with a dozen writers in one process (the
	// run's workers recording intents and outcomes, the pacing of every
	// QBO request) one of them could lose every poll for busy_timeout and
	// fail with SQLITE_BUSY, which stops the run. Writers of one process
	// queue here in order instead; only other processes are left to
	// busy_timeout.
	writer chan struct{}
	// onWriterWait, when set (tests), is called when a writer finds the
	// turn taken and starts to wait.
	onWriterWait func()
}

// Option configures a Store at Open.
type Option func(*Store)

// WithClock sets the clock used for every timestamp the store writes. Tests
// pass a fixed or stepping clock; the default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// WithTokenKey sets the 32-byte AES-256 key that seals stored OAuth tokens
// (DecodeKey turns a base64 key into one). Without it, the store works but
// SaveToken and LoadToken return ErrNoKey. Open fails when the key is not
// 32 bytes long.
func WithTokenKey(key []byte) Option {
	return func(s *Store) { s.key = append([]byte(nil), key...) }
}

// ExistingOnly makes Open fail with ErrNoDatabase, creating nothing, when
// no file exists at the path: commands that only read the ledger must not
// leave an empty database behind a mistyped path. An existing file is
// still migrated.
func ExistingOnly() Option {
	return func(s *Store) { s.existingOnly = true }
}

// Open opens (creating if needed, unless ExistingOnly) the SQLite database at path and applies
// any pending migrations.
//
// A new file is created with mode 0600 before SQLite opens it; SQLite
// creates the -wal and -shm files with the database file's mode, so they
// are 0600 as well. An existing file readable by group or others is
// tightened to 0600: it holds the sealed tokens and the bookkeeping ledger.
//
// Every pooled connection gets, from the DSN:
//   - busy_timeout(5000): writers wait for each other instead of failing with SQLITE_BUSY;
//   - journal_mode(wal): readers never block the writer;
//   - foreign_keys(1);
//   - synchronous(full): see below;
//   - _txlock=immediate: write transactions take the write lock at BEGIN, so
//     two writers queue on busy_timeout instead of one failing with
//     SQLITE_BUSY when it upgrades a read lock mid-transaction (which
//     busy_timeout cannot fix).
//
// cache_size(-32768) (32 MiB per connection) keeps the hot b-tree pages of a
// large ledger in memory for the batched lookups of a reconcile pass; the
// rest comes from the OS page cache. mmap_size is 0 on purpose: every
// mapped page a pass touches counts in the process's resident set, so a
// 256 MiB map made a no-change run over a million-order ledger peak near
// 400 MiB (the budget is 256 MiB) while saving only ~4 % of its time.
//
// synchronous is FULL, not WAL's usual NORMAL. NORMAL is safe against a
// crash of the process but may lose the last committed transactions on a
// power loss or OS crash. The ledger's guarantee is "the outcome of a QBO
// write is on disk once recorded"; losing it would turn a known outcome back
// into an unknown one (or an intent into nothing). FULL costs one fsync of
// the WAL per commit, and our commit rate is bounded by QBO's 500
// requests/min, so the price is negligible; bulk paths batch many rows per
// transaction.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	s := &Store{path: path, now: time.Now, pace: paceConn{mu: make(chan struct{}, 1)}, writer: make(chan struct{}, 1)}
	for _, o := range opts {
		o(s)
	}
	if s.key != nil && len(s.key) != keySize {
		return nil, fmt.Errorf("open store: token key must be %d bytes, got %d", keySize, len(s.key))
	}
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("open store: %q: want a file path", path)
	}
	// The driver splits the DSN at the first '?', so a path containing one
	// cannot be expressed.
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("open store: %q: path must not contain '?'", path)
	}
	if err := createPrivate(path, !s.existingOnly); err != nil {
		if errors.Is(err, fs.ErrNotExist) && s.existingOnly {
			return nil, fmt.Errorf("open store %s: %w", path, ErrNoDatabase)
		}
		return nil, fmt.Errorf("open store: %w", err)
	}

	dsn := path + "?_pragma=busy_timeout(5000)" +
		"&_pragma=journal_mode(wal)" +
		"&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(full)" +
		"&_pragma=cache_size(-32768)" +
		"&_pragma=mmap_size(0)" +
		"&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s.db = db
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if s.byIDStmt, err = db.PrepareContext(ctx, documentsBySourceSQL); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: prepare: %w", path, err)
	}
	if s.digestsStmt, err = db.PrepareContext(ctx, orderDigestsSQL); err != nil {
		s.byIDStmt.Close()
		db.Close()
		return nil, fmt.Errorf("open store %s: prepare: %w", path, err)
	}
	return s, nil
}

// createPrivate creates path with mode 0600 if it does not exist (and
// create is set: else it returns an error wrapping fs.ErrNotExist), and
// removes group/other permissions from an existing file.
func createPrivate(path string, create bool) error {
	flags := os.O_RDWR
	if create {
		flags |= os.O_CREATE
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return &fs.PathError{Op: "open", Path: path, Err: errors.New("not a regular file")}
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.closePace()
	if s.byIDStmt != nil {
		s.byIDStmt.Close()
	}
	if s.digestsStmt != nil {
		s.digestsStmt.Close()
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// Path returns the database file path.
func (s *Store) Path() string { return s.path }

// withTx runs fn in a write transaction (BEGIN IMMEDIATE, from the DSN) and
// commits it when fn returns nil. now is read once, so every timestamp in
// the transaction agrees.
func (s *Store) withTx(ctx context.Context, fn func(tx *sql.Tx, now time.Time) error) error {
	release, err := s.lockWriter(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer release()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx, s.now()); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// lockWriter waits for this Store's write turn (see Store.writer), or
// returns ctx's error. A write transaction must not start another while it
// holds the turn.
func (s *Store) lockWriter(ctx context.Context) (release func(), err error) {
	select {
	case s.writer <- struct{}{}:
		return func() { <-s.writer }, nil
	default:
	}
	if s.onWriterWait != nil {
		s.onWriterWait()
	}
	select {
	case s.writer <- struct{}{}:
		return func() { <-s.writer }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// exec runs one writing statement outside a transaction, in this Store's
// write turn (see Store.writer) like every write transaction.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	release, err := s.lockWriter(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return s.db.ExecContext(ctx, query, args...)
}

// timeFormat is RFC 3339 in UTC with a fixed-width fraction, so stored
// timestamps compare correctly as text (RFC3339Nano trims zeros and does not).
const timeFormat = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// timeScanner scans a TEXT timestamp column.
type timeScanner struct{ t *time.Time }

func (ts timeScanner) Scan(v any) error {
	var s string
	switch x := v.(type) {
	case nil:
		*ts.t = time.Time{}
		return nil
	case string:
		s = x
	case []byte:
		s = string(x)
	default:
		return fmt.Errorf("scan time: unexpected %T", v)
	}
	t, err := parseTime(s)
	if err != nil {
		return err
	}
	*ts.t = t
	return nil
}

func scanTime(t *time.Time) timeScanner { return timeScanner{t} }

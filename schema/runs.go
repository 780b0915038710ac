package schema

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// RunStatus is the status of a reconciliation run.
type RunStatus string

// Run statuses.
const (
	RunRunning     RunStatus = "running"
	RunOK          RunStatus = "ok"      // finished; nothing failed or blocked
	RunPartial     RunStatus = "partial" // finished; some items failed or blocked
	RunFailed      RunStatus = "failed"  // could not finish
	RunInterrupted RunStatus = "interrupted"
)

// Run is one reconciliation run.
type Run struct {
	ID         string
	Mode       string // incremental, since, full
	StartedAt  time.Time
	FinishedAt time.Time // zero while running
	Status     RunStatus
	Counts     map[string]int // by action: created, updated, voided, unchanged, blocked, failed
	Error      string
}

// RunItem is one non-noop item of a run, as `run --json` lists it.
type RunItem struct {
	RunID       string
	Kind        string
	SourceID    string
	OrderNumber string
	Action      string
	QBOType     string
	QBOID       string
	DocNumber   string
	Reason      string
	// Reasons is Reason as data, stored as given (see Problem.Reasons).
	Reasons []byte
}

// newRunID returns a sortable, unique run id: UTC start time and 4 random bytes.
func newRunID(now time.Time) (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:]), nil
}

// StartRun records the start of a run and returns it with a new id. Runs
// still marked running are marked interrupted first: the caller holds the
// run lease, so they cannot be alive.
func (s *Store) StartRun(ctx context.Context, mode string) (Run, error) {
	var r Run
	err := s.withTx(ctx, func(tx *sql.Tx, now time.Time) error {
		id, err := newRunID(now)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE runs SET status = 'interrupted', finished_at = ?,
			error = CASE WHEN error = '' THEN 'interrupted: a later run started' ELSE error END
			WHERE status = 'running'`, formatTime(now)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO runs (id, mode, started_at, status) VALUES (?, ?, ?, 'running')`,
			id, mode, formatTime(now)); err != nil {
			return err
		}
		r = Run{ID: id, Mode: mode, StartedAt: now.UTC(), Status: RunRunning}
		return nil
	})
	if err != nil {
		return Run{}, fmt.Errorf("start run: %w", err)
	}
	return r, nil
}

// RunResult is how a run ended.
type RunResult struct {
	ID     string
	Status RunStatus // RunOK, RunPartial, RunFailed or RunInterrupted
	Counts map[string]int
	Error  string
	// Cursors are set in the same transaction, so a cursor advances only
	// with the run that earned it.
	Cursors map[string]string
}

// FinishRun records the end of a run (and its cursors) in one transaction.
// Returns ErrNotFound for an unknown run and ErrConflict for a run that is
// not running.
func (s *Store) FinishRun(ctx context.Context, res RunResult) error {
	switch res.Status {
	case RunOK, RunPartial, RunFailed, RunInterrupted:
	default:
		return fmt.Errorf("finish run %s: invalid status %q", res.ID, res.Status)
	}
	counts, err := json.Marshal(res.Counts)
	if err != nil {
		return fmt.Errorf("finish run %s: %w", res.ID, err)
	}
	if res.Counts == nil {
		counts = []byte("{}")
	}
	err = s.withTx(ctx, func(tx *sql.Tx, now time.Time) error {
		var st RunStatus
		err := tx.QueryRowContext(ctx, `SELECT status FROM runs WHERE id = ?`, res.ID).Scan(&st)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if st != RunRunning {
			return fmt.Errorf("run is %s: %w", st, ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE runs SET status = ?, finished_at = ?, counts = ?, error = ? WHERE id = ?`,
			string(res.Status), formatTime(now), string(counts), res.Error, res.ID); err != nil {
			return err
		}
		for name, v := range res.Cursors {
			if err := setCursor(ctx, tx, name, v, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("finish run %s: %w", res.ID, err)
	}
	return nil
}

const runCols = `id, mode, started_at, finished_at, status, counts, error`

func scanRun(r rowScanner) (Run, error) {
	var run Run
	var counts string
	if err := r.Scan(&run.ID, &run.Mode, scanTime(&run.StartedAt), scanTime(&run.FinishedAt), &run.Status, &counts, &run.Error); err != nil {
		return Run{}, err
	}
	if err := json.Unmarshal([]byte(counts), &run.Counts); err != nil {
		return Run{}, fmt.Errorf("run %s counts: %w", run.ID, err)
	}
	return run, nil
}

// GetRun returns a run. Returns ErrNotFound for an unknown id.
func (s *Store) GetRun(ctx context.Context, id string) (Run, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, `SELECT `+runCols+` FROM runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, fmt.Errorf("get run %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Run{}, fmt.Errorf("get run %s: %w", id, err)
	}
	return r, nil
}

// LastRuns returns the n most recent runs, newest first.
func (s *Store) LastRuns(ctx context.Context, n int) ([]Run, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+runCols+` FROM runs ORDER BY started_at DESC, id DESC LIMIT ?`, n)
	if err != nil {
		return nil, fmt.Errorf("last runs: %w", err)
	}
	defer rows.Close()
	out := []Run{}
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("last runs: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("last runs: %w", err)
	}
	return out, nil
}

// LastSuccessfulRun returns the most recent run that finished reading its
// whole window: status ok or partial (blocked items are retried by every
// run regardless of the window). Returns ErrNotFound when there is none.
func (s *Store) LastSuccessfulRun(ctx context.Context) (Run, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, `SELECT `+runCols+` FROM runs WHERE status IN ('ok', 'partial')
		ORDER BY started_at DESC, id DESC LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, fmt.Errorf("last successful run: %w", ErrNotFound)
	}
	if err != nil {
		return Run{}, fmt.Errorf("last successful run: %w", err)
	}
	return r, nil
}

// RunWrites counts the QBO writes the audit log holds for a run: how far a
// run is, as far as the ledger tells while it runs (its items are added
// when it ends).
func (s *Store) RunWrites(ctx context.Context, runID string) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM audit WHERE run_id = ?`, runID).Scan(&n); err != nil {
		return 0, fmt.Errorf("run writes %s: %w", runID, err)
	}
	return n, nil
}

// AddRunItems appends items to a run in one transaction. Items whose RunID
// is empty get runID. Fails (foreign key) when the run does not exist.
func (s *Store) AddRunItems(ctx context.Context, runID string, items []RunItem) error {
	if len(items) == 0 {
		return nil
	}
	err := s.withTx(ctx, func(tx *sql.Tx, _ time.Time) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO run_items
			(run_id, kind, source_id, order_number, action, qbo_type, qbo_id, doc_number, reason, reasons)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, it := range items {
			if it.RunID == "" {
				it.RunID = runID
			}
			if _, err := stmt.ExecContext(ctx, it.RunID, it.Kind, it.SourceID, it.OrderNumber, it.Action,
				it.QBOType, it.QBOID, it.DocNumber, it.Reason, string(it.Reasons)); err != nil {
				return fmt.Errorf("item %s %s: %w", it.Kind, it.SourceID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("add run items to %s: %w", runID, err)
	}
	return nil
}

// RunItems returns a run's items in the order they were added.
func (s *Store) RunItems(ctx context.Context, runID string) ([]RunItem, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT run_id, kind, source_id, order_number, action, qbo_type, qbo_id,
		doc_number, reason, reasons FROM run_items WHERE run_id = ? ORDER BY id`, runID)
	if err != nil {
		return nil, fmt.Errorf("run items %s: %w", runID, err)
	}
	defer rows.Close()
	out := []RunItem{}
	for rows.Next() {
		var it RunItem
		if err := rows.Scan(&it.RunID, &it.Kind, &it.SourceID, &it.OrderNumber, &it.Action, &it.QBOType,
			&it.QBOID, &it.DocNumber, &it.Reason, &it.Reasons); err != nil {
			return nil, fmt.Errorf("run items %s: %w", runID, err)
		}
		if len(it.Reasons) == 0 {
			it.Reasons = nil
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("run items %s: %w", runID, err)
	}
	return out, nil
}

// BlockedItem is an object blocked now, for `status`.
type BlockedItem struct {
	Kind        string
	SourceID    string
	OrderNumber string
	QBOType     string
	DocNumber   string
	Reason      string
	Reasons     []byte // Reason as data (see Problem.Reasons)
	Runs        int    // consecutive runs that blocked it (FailedItems: that failed it needing a person)
	UpdatedAt   time.Time
	// NeedsPerson (FailedItems): QBO refused the document itself.
	NeedsPerson bool
	// SkipReason, SkippedBy, SkippedAt (SkippedItems): the person's word.
	SkipReason string
	SkippedBy  string
	SkippedAt  time.Time
}

// BlockedItems lists the objects currently blocked, with their reasons,
// longest-blocked first.
func (s *Store) BlockedItems(ctx context.Context) ([]BlockedItem, error) {
	out, err := s.problemItems(ctx, `state = 'blocked'`, `blocked_runs DESC`, `blocked_runs`)
	if err != nil {
		return nil, fmt.Errorf("blocked items: %w", err)
	}
	return out, nil
}

// FailedItems lists the objects whose last write failed with a known
// outcome, those needing a person first, longest-failed first. Runs is
// FailedRuns. (A write with an unknown outcome is in PendingIntents.)
func (s *Store) FailedItems(ctx context.Context) ([]BlockedItem, error) {
	out, err := s.problemItems(ctx, `state = 'failed' AND pending_request_id IS NULL`, `needs_person DESC, failed_runs DESC`, `failed_runs`)
	if err != nil {
		return nil, fmt.Errorf("failed items: %w", err)
	}
	return out, nil
}

// SkippedItems lists the objects a person set aside, oldest skip first.
func (s *Store) SkippedItems(ctx context.Context) ([]BlockedItem, error) {
	out, err := s.problemItems(ctx, `state = 'skipped'`, `skipped_at`, `0`)
	if err != nil {
		return nil, fmt.Errorf("skipped items: %w", err)
	}
	return out, nil
}

// problemItems reads the rows matching where (constant SQL), ordered by
// order then key, with runsCol as Runs.
func (s *Store) problemItems(ctx context.Context, where, order, runsCol string) ([]BlockedItem, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT source_kind, source_id, order_number, qbo_type, doc_number,
		last_error, last_reasons, `+runsCol+`, updated_at, needs_person, skip_reason, skipped_by, skipped_at
		FROM documents WHERE `+where+` ORDER BY `+order+`, source_kind, source_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []BlockedItem{}
	for rows.Next() {
		var b BlockedItem
		if err := rows.Scan(&b.Kind, &b.SourceID, &b.OrderNumber, &b.QBOType, &b.DocNumber, &b.Reason, &b.Reasons, &b.Runs,
			scanTime(&b.UpdatedAt), &b.NeedsPerson, &b.SkipReason, &b.SkippedBy, scanTime(&b.SkippedAt)); err != nil {
			return nil, err
		}
		if len(b.Reasons) == 0 {
			b.Reasons = nil
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// GetCursor returns a named cursor's value. Returns ErrNotFound when unset.
func (s *Store) GetCursor(ctx context.Context, name string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM cursors WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("get cursor %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("get cursor %s: %w", name, err)
	}
	return v, nil
}

// SetCursor sets a named cursor. To advance a cursor with a run, use
// RunResult.Cursors instead.
func (s *Store) SetCursor(ctx context.Context, name, value string) error {
	err := s.withTx(ctx, func(tx *sql.Tx, now time.Time) error {
		return setCursor(ctx, tx, name, value, now)
	})
	if err != nil {
		return fmt.Errorf("set cursor %s: %w", name, err)
	}
	return nil
}

func setCursor(ctx context.Context, tx *sql.Tx, name, value string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO cursors (name, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		name, value, formatTime(now))
	return err
}

// BlockedOrdersBySubject counts, for each record that a blocked row's
// reasons name as their subject of kind subjectKind (the engine's
// Reason.Subject, e.g. "customer" with a Velocity customer id), the
// orders it blocks: the distinct order numbers of the blocked rows (a row
// without one counts as its own order). Rows written without reasons as
// data (before 0003) are not counted. Keys are subject ids; records that
// block nothing are absent.
func (s *Store) BlockedOrdersBySubject(ctx context.Context, subjectKind string) (map[string]int, error) {
	// The reasons are JSON as the engine encodes them; SQLite's json_each
	// reads their subjects without a column per reason.
	rows, err := s.db.QueryContext(ctx, `SELECT json_extract(r.value, '$.subject.id') AS subject,
		COUNT(DISTINCT CASE WHEN d.order_number <> '' THEN d.order_number ELSE d.source_kind || ':' || d.source_id END)
		FROM documents d, json_each(d.last_reasons) r
		WHERE d.state = 'blocked' AND d.last_reasons <> '' AND json_valid(d.last_reasons)
			AND json_extract(r.value, '$.subject.kind') = ?
		GROUP BY subject`, subjectKind)
	if err != nil {
		return nil, fmt.Errorf("blocked orders by %s: %w", subjectKind, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id sql.NullString
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("blocked orders by %s: %w", subjectKind, err)
		}
		if id.Valid && id.String != "" {
			out[id.String] = n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("blocked orders by %s: %w", subjectKind, err)
	}
	return out, nil
}

// BlockedOrder is one order a record blocks: its number, or, for a row
// written without one, the row's key.
type BlockedOrder struct {
	OrderNumber string
	Key         DocumentKey
}

// BlockedOrderNumbers lists the orders that record id blocks now, as
// BlockedOrdersBySubject counts them: one entry per order number of the
// blocked rows whose reasons name subject kind subjectKind and id (a row
// without a number is its own entry, with its key), ordered by number.
func (s *Store) BlockedOrderNumbers(ctx context.Context, subjectKind, id string) ([]BlockedOrder, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT d.order_number, d.source_kind, d.source_id
		FROM documents d, json_each(d.last_reasons) r
		WHERE d.state = 'blocked' AND d.last_reasons <> '' AND json_valid(d.last_reasons)
			AND json_extract(r.value, '$.subject.kind') = ? AND json_extract(r.value, '$.subject.id') = ?
		ORDER BY d.order_number, d.source_kind, d.source_id`, subjectKind, id)
	if err != nil {
		return nil, fmt.Errorf("orders blocked by %s %s: %w", subjectKind, id, err)
	}
	defer rows.Close()
	out := []BlockedOrder{}
	seen := map[string]bool{}
	for rows.Next() {
		var o BlockedOrder
		if err := rows.Scan(&o.OrderNumber, &o.Key.Kind, &o.Key.SourceID); err != nil {
			return nil, fmt.Errorf("orders blocked by %s %s: %w", subjectKind, id, err)
		}
		if o.OrderNumber != "" {
			if seen[o.OrderNumber] {
				continue
			}
			seen[o.OrderNumber] = true
			o.Key = DocumentKey{}
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("orders blocked by %s %s: %w", subjectKind, id, err)
	}
	return out, nil
}

package schema

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// AuditEntry is one QBO write in the append-only audit log. The log cannot
// be changed once written: triggers refuse UPDATE and DELETE.
type AuditEntry struct {
	ID         int64
	At         time.Time
	RunID      string
	RequestID  string
	Entity     string // QBO entity: Invoice, SalesReceipt, Customer, ...
	Operation  string // create, update, void, delete, ...
	SourceKind string
	SourceID   string
	QBOID      string
	IntuitTID  string // QBO's intuit_tid, for support tickets
	HTTPStatus int
	Outcome    string // ok, rejected, unknown, found_by_lookup, ...
	Detail     string
}

func appendAudit(ctx context.Context, tx *sql.Tx, a AuditEntry, now time.Time) (int64, error) {
	if a.At.IsZero() {
		a.At = now
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO audit
		(at, run_id, request_id, entity, operation, source_kind, source_id, qbo_id, intuit_tid, http_status, outcome, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		formatTime(a.At), a.RunID, a.RequestID, a.Entity, a.Operation, a.SourceKind, a.SourceID, a.QBOID,
		a.IntuitTID, a.HTTPStatus, a.Outcome, a.Detail)
	if err != nil {
		return 0, fmt.Errorf("append audit: %w", err)
	}
	return res.LastInsertId()
}

// AppendAudit appends an entry (a zero At means now) and returns its id.
// Writes that update the ledger use RecordOutcome's Audit field instead, so
// both land in one transaction.
func (s *Store) AppendAudit(ctx context.Context, a AuditEntry) (int64, error) {
	var id int64
	err := s.withTx(ctx, func(tx *sql.Tx, now time.Time) error {
		var err error
		id, err = appendAudit(ctx, tx, a, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("append audit: %w", err)
	}
	return id, nil
}

// AuditFilter selects audit entries; zero fields match everything.
type AuditFilter struct {
	RunID      string
	SourceKind string
	SourceID   string
	// BeforeID pages backwards: entries with a smaller id only.
	BeforeID int64
	// Limit caps the result (0: 100).
	Limit int
}

// ListAudit returns matching entries, newest first.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	q := `SELECT id, at, run_id, request_id, entity, operation, source_kind, source_id, qbo_id,
		intuit_tid, http_status, outcome, detail FROM audit WHERE 1 = 1`
	var args []any
	if f.RunID != "" {
		q += ` AND run_id = ?`
		args = append(args, f.RunID)
	}
	if f.SourceKind != "" {
		q += ` AND source_kind = ?`
		args = append(args, f.SourceKind)
	}
	if f.SourceID != "" {
		q += ` AND source_id = ?`
		args = append(args, f.SourceID)
	}
	if f.BeforeID > 0 {
		q += ` AND id < ?`
		args = append(args, f.BeforeID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var a AuditEntry
		if err := rows.Scan(&a.ID, scanTime(&a.At), &a.RunID, &a.RequestID, &a.Entity, &a.Operation, &a.SourceKind,
			&a.SourceID, &a.QBOID, &a.IntuitTID, &a.HTTPStatus, &a.Outcome, &a.Detail); err != nil {
			return nil, fmt.Errorf("list audit: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	return out, nil
}

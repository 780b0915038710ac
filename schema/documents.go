package schema

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// State is a ledger row's state.
//
// A row in StateBlocked or StateFailed may still have a document in QBO
// (QBOID set): the state says what happened to the object last, QBOID says
// whether QBO holds a document for it.
type State string

// Ledger states.
const (
	// StatePending: known to the ledger, no document confirmed in QBO yet.
	StatePending State = "pending"
	// StateSent: the document with Fingerprint is confirmed in QBO.
	StateSent State = "sent"
	// StateVoided: the document was voided in QBO.
	StateVoided State = "voided"
	// StateDeletedInQBO: a person deleted the document in QBO; it is
	// reported, not re-created, until BumpGeneration (resync).
	StateDeletedInQBO State = "deleted_in_qbo"
	// StateBlocked: a precondition failed (LastError says which); retried
	// by every run.
	StateBlocked State = "blocked"
	// StateFailed: the last write failed (LastError says how; NeedsPerson
	// says whether a person must act).
	StateFailed State = "failed"
	// StateSkipped: a person set the object aside (SkipReason says why):
	// no run sends it until a retry (RetryDocument).
	StateSkipped State = "skipped"
)

// Valid reports whether st is one of the ledger states.
func (st State) Valid() bool {
	switch st {
	case StatePending, StateSent, StateVoided, StateDeletedInQBO, StateBlocked, StateFailed, StateSkipped:
		return true
	}
	return false
}

// DocumentKey identifies a ledger row: the Velocity object's kind (order,
// refund, payment, ...) and id.
type DocumentKey struct {
	Kind     string
	SourceID string
}

// String returns "kind source_id", for errors.
func (k DocumentKey) String() string { return k.Kind + " " + k.SourceID }

func (k DocumentKey) check() error {
	if k.Kind == "" || k.SourceID == "" {
		return fmt.Errorf("incomplete document key %q/%q", k.Kind, k.SourceID)
	}
	return nil
}

// Document is one ledger row: a Velocity object and the QBO document it maps to.
type Document struct {
	Kind        string // source kind: order, refund, payment, ...
	SourceID    string
	OrderNumber string
	// Generation is bumped by resync; it is part of every request id, so a
	// re-creation is a new request to QBO.
	Generation int
	QBOType    string
	QBOID      string
	SyncToken  string
	DocNumber  string
	// Fingerprint is the fingerprint of the document last confirmed sent.
	Fingerprint string
	State       State
	// PendingRequestID, PendingAction, PendingQBOType, PendingQBOID and
	// PendingFingerprint are the write intent recorded before a QBO write
	// (see Intent), cleared when its outcome is recorded. Set after a
	// crash, they mean "outcome unknown".
	PendingRequestID   string
	PendingAction      WriteAction
	PendingQBOType     string
	PendingQBOID       string
	PendingFingerprint string
	PendingAt          time.Time
	LastError          string
	// LastReasons is LastError as data, as the engine encoded it (see
	// Problem.Reasons); nil when the error has no structure.
	LastReasons []byte
	// Attempts counts write intents since the last successful outcome.
	Attempts int
	// BlockedRuns counts consecutive runs that blocked this object.
	BlockedRuns int

	// RequestAttempt counts the definitive rejections of the current
	// payload since the last success. It is part of every request id: QBO
	// stores a fault under its request id too, so a corrected retry needs
	// a new one.
	RequestAttempt int
	// SourceUpdatedAt is the source's updated_at of the copy of the order
	// the document was last written from (zero: not recorded). An older
	// copy read later must not overwrite it.
	SourceUpdatedAt time.Time
	// VoidReceiptID is a SalesReceipt still to be voided because an
	// Invoice replaced it (report as invoice); empty when none.
	VoidReceiptID string
	// NotApplicable marks a payment on a SalesReceipt order, reported once.
	NotApplicable bool
	// SentTotal and SentCustomerID are the TotalAmt and CustomerRef QBO
	// answered when the document was last confirmed: verify compares them
	// with the live document. Not valid / empty: not recorded, not compared.
	SentTotal      decimal.NullDecimal
	SentCustomerID string
	// PreviousQBOID is the QBO document a resync (BumpGeneration) forgot.
	PreviousQBOID string

	// NeedsPerson marks a failed row whose write QBO refused for the
	// document itself (see DocumentOutcome.NeedsPerson); FailedRuns counts
	// the consecutive runs that failed it so.
	NeedsPerson bool
	FailedRuns  int
	// SkipReason, SkippedBy and SkippedAt say why, by whom and when a
	// person set a StateSkipped row aside.
	SkipReason string
	SkippedBy  string
	SkippedAt  time.Time
	// InvoiceDecidedBy and InvoiceDecidedAt record a person's "Report as
	// Invoice" decision on an order's row (DecideInvoice): who and when.
	// Empty: not decided; the source's flag alone decides.
	InvoiceDecidedBy string
	InvoiceDecidedAt time.Time

	FirstSeenAt time.Time
	UpdatedAt   time.Time

	blockedRunID string
	failedRunID  string
}

// Key returns the document's key.
func (d Document) Key() DocumentKey { return DocumentKey{Kind: d.Kind, SourceID: d.SourceID} }

// HasPendingIntent reports whether a write was intended and its outcome not
// recorded: QBO must be searched before writing again.
func (d Document) HasPendingIntent() bool { return d.PendingRequestID != "" }

// PendingWrite describes the pending intent for messages: its action and
// the QBO document it acts on, e.g. "void Invoice 146"; empty when none.
func (d Document) PendingWrite() string {
	return strings.Join(slices.DeleteFunc([]string{string(d.PendingAction), d.PendingQBOType, d.PendingQBOID},
		func(s string) bool { return s == "" }), " ")
}

const documentCols = `source_kind, source_id, order_number, generation, qbo_type, qbo_id, sync_token,
	doc_number, fingerprint, state, pending_request_id, pending_action, pending_qbo_type, pending_qbo_id,
	pending_fingerprint, pending_at, last_error, last_reasons, attempts, blocked_runs, blocked_run_id,
	request_attempt, source_updated_at, void_receipt_id, not_applicable, sent_total, sent_customer_id,
	previous_qbo_id, needs_person, failed_runs, failed_run_id, skip_reason, skipped_by, skipped_at,
	invoice_decided_by, invoice_decided_at, first_seen_at, updated_at`

type rowScanner interface{ Scan(dest ...any) error }

func scanDocument(r rowScanner) (Document, error) {
	var d Document
	var pReq, pAct, pType, pID, pFP, pAt sql.NullString
	err := r.Scan(&d.Kind, &d.SourceID, &d.OrderNumber, &d.Generation, &d.QBOType, &d.QBOID, &d.SyncToken,
		&d.DocNumber, &d.Fingerprint, &d.State, &pReq, &pAct, &pType, &pID,
		&pFP, &pAt, &d.LastError, &d.LastReasons, &d.Attempts, &d.BlockedRuns, &d.blockedRunID,
		&d.RequestAttempt, scanTime(&d.SourceUpdatedAt), &d.VoidReceiptID, &d.NotApplicable, &d.SentTotal, &d.SentCustomerID,
		&d.PreviousQBOID, &d.NeedsPerson, &d.FailedRuns, &d.failedRunID, &d.SkipReason, &d.SkippedBy, scanTime(&d.SkippedAt),
		&d.InvoiceDecidedBy, scanTime(&d.InvoiceDecidedAt), scanTime(&d.FirstSeenAt), scanTime(&d.UpdatedAt))
	if err != nil {
		return Document{}, err
	}
	d.PendingRequestID, d.PendingAction, d.PendingFingerprint = pReq.String, WriteAction(pAct.String), pFP.String
	d.PendingQBOType, d.PendingQBOID = pType.String, pID.String
	if len(d.LastReasons) == 0 {
		d.LastReasons = nil
	}
	if d.PendingAt, err = parseTime(pAt.String); err != nil {
		return Document{}, err
	}
	return d, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

const putDocumentSQL = `INSERT INTO documents (` + documentCols + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (source_kind, source_id) DO UPDATE SET
		order_number = excluded.order_number,
		generation = excluded.generation,
		qbo_type = excluded.qbo_type,
		qbo_id = excluded.qbo_id,
		sync_token = excluded.sync_token,
		doc_number = excluded.doc_number,
		fingerprint = excluded.fingerprint,
		state = excluded.state,
		pending_request_id = excluded.pending_request_id,
		pending_action = excluded.pending_action,
		pending_qbo_type = excluded.pending_qbo_type,
		pending_qbo_id = excluded.pending_qbo_id,
		pending_fingerprint = excluded.pending_fingerprint,
		pending_at = excluded.pending_at,
		last_error = excluded.last_error,
		last_reasons = excluded.last_reasons,
		attempts = excluded.attempts,
		blocked_runs = excluded.blocked_runs,
		blocked_run_id = excluded.blocked_run_id,
		request_attempt = excluded.request_attempt,
		source_updated_at = excluded.source_updated_at,
		void_receipt_id = excluded.void_receipt_id,
		not_applicable = excluded.not_applicable,
		sent_total = excluded.sent_total,
		sent_customer_id = excluded.sent_customer_id,
		previous_qbo_id = excluded.previous_qbo_id,
		needs_person = excluded.needs_person,
		failed_runs = excluded.failed_runs,
		failed_run_id = excluded.failed_run_id,
		skip_reason = excluded.skip_reason,
		skipped_by = excluded.skipped_by,
		skipped_at = excluded.skipped_at,
		invoice_decided_by = excluded.invoice_decided_by,
		invoice_decided_at = excluded.invoice_decided_at,
		updated_at = excluded.updated_at`

func documentArgs(d Document) ([]any, error) {
	if err := d.Key().check(); err != nil {
		return nil, err
	}
	if !d.State.Valid() {
		return nil, fmt.Errorf("document %s: invalid state %q", d.Key(), d.State)
	}
	return []any{d.Kind, d.SourceID, d.OrderNumber, d.Generation, d.QBOType, d.QBOID, d.SyncToken,
		d.DocNumber, d.Fingerprint, string(d.State), nullString(d.PendingRequestID), nullString(string(d.PendingAction)),
		nullString(d.PendingQBOType), nullString(d.PendingQBOID),
		nullString(d.PendingFingerprint), nullString(formatTime(d.PendingAt)),
		d.LastError, string(d.LastReasons), d.Attempts, d.BlockedRuns, d.blockedRunID,
		d.RequestAttempt, formatTime(d.SourceUpdatedAt), d.VoidReceiptID, d.NotApplicable, d.SentTotal, d.SentCustomerID,
		d.PreviousQBOID, d.NeedsPerson, d.FailedRuns, d.failedRunID, d.SkipReason, d.SkippedBy, formatTime(d.SkippedAt),
		d.InvoiceDecidedBy, formatTime(d.InvoiceDecidedAt), formatTime(d.FirstSeenAt), formatTime(d.UpdatedAt)}, nil
}

func putDocument(ctx context.Context, tx *sql.Tx, d Document) error {
	args, err := documentArgs(d)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, putDocumentSQL, args...)
	return err
}

// loadDocument reads a row inside tx. found is false (and d a fresh pending
// row stamped now) when the row does not exist yet.
func loadDocument(ctx context.Context, tx *sql.Tx, k DocumentKey, now time.Time) (d Document, found bool, err error) {
	d, err = scanDocument(tx.QueryRowContext(ctx, `SELECT `+documentCols+` FROM documents
		WHERE source_kind = ? AND source_id = ?`, k.Kind, k.SourceID))
	if errors.Is(err, sql.ErrNoRows) {
		return Document{Kind: k.Kind, SourceID: k.SourceID, State: StatePending, FirstSeenAt: now}, false, nil
	}
	return d, err == nil, err
}

// mutateDocument runs fn on the row (or a new pending row when create is
// true) in a write transaction and stores the result. fn may use tx for
// related writes (the audit entry).
func (s *Store) mutateDocument(ctx context.Context, k DocumentKey, create bool, fn func(tx *sql.Tx, d *Document, found bool, now time.Time) error) (Document, error) {
	if err := k.check(); err != nil {
		return Document{}, err
	}
	var out Document
	err := s.withTx(ctx, func(tx *sql.Tx, now time.Time) error {
		d, found, err := loadDocument(ctx, tx, k, now)
		if err != nil {
			return err
		}
		if !found && !create {
			return ErrNotFound
		}
		if err := fn(tx, &d, found, now); err != nil {
			return err
		}
		d.UpdatedAt = now
		out = d
		return putDocument(ctx, tx, d)
	})
	return out, err
}

// GetDocument returns the ledger row of a Velocity object.
// Returns ErrNotFound when the object is not in the ledger.
func (s *Store) GetDocument(ctx context.Context, kind, sourceID string) (Document, error) {
	d, err := scanDocument(s.db.QueryRowContext(ctx, `SELECT `+documentCols+` FROM documents
		WHERE source_kind = ? AND source_id = ?`, kind, sourceID))
	if errors.Is(err, sql.ErrNoRows) {
		return Document{}, fmt.Errorf("get document %s %s: %w", kind, sourceID, ErrNotFound)
	}
	if err != nil {
		return Document{}, fmt.Errorf("get document %s %s: %w", kind, sourceID, err)
	}
	return d, nil
}

// lookupChunk is how many ids one DocumentsBySource query binds. A few
// hundred keeps each statement cheap to bind while amortising the per-query
// overhead; SQLite's limit on host parameters is far above it.
const lookupChunk = 500

// documentsBySourceSQL binds the ids as ONE JSON array rather than one
// parameter per id: the driver's per-parameter binding cost dominated the
// lookup, while SQLite's json_each unpacks the array in C.
//
// It reads only the columns a reconcile pass compares and acts on (see
// ledgerCols): this query runs for every order, refund and payment of
// every run, and each column read costs a driver value and often a string.
const documentsBySourceSQL = `SELECT ` + ledgerCols + ` FROM documents
	WHERE source_kind = ? AND source_id IN (SELECT value FROM json_each(?))`

// ledgerCols are the columns DocumentsBySource reads.
const ledgerCols = `source_kind, source_id, order_number, generation, qbo_type, qbo_id, sync_token,
	doc_number, fingerprint, state, pending_request_id, request_attempt, source_updated_at, void_receipt_id,
	not_applicable, invoice_decided_by`

// scanLedgerRow reads a row of ledgerCols.
func scanLedgerRow(r rowScanner) (Document, error) {
	var d Document
	var pReq sql.NullString
	err := r.Scan(&d.Kind, &d.SourceID, &d.OrderNumber, &d.Generation, &d.QBOType, &d.QBOID, &d.SyncToken,
		&d.DocNumber, &d.Fingerprint, &d.State, &pReq, &d.RequestAttempt, scanTime(&d.SourceUpdatedAt), &d.VoidReceiptID,
		&d.NotApplicable, &d.InvoiceDecidedBy)
	if err != nil {
		return Document{}, err
	}
	d.PendingRequestID = pReq.String
	return d, nil
}

// DocumentsBySource returns the ledger rows of the given objects of one
// kind, keyed by source id; ids not in the ledger are absent from the map.
// Large id lists are looked up a chunk (500) at a time, each a primary-key
// probe per id, so a reconcile pass checks a million objects in seconds.
//
// The rows carry what a reconcile pass needs: Kind, SourceID, OrderNumber,
// Generation, QBOType, QBOID, SyncToken, DocNumber, Fingerprint, State,
// PendingRequestID, RequestAttempt, SourceUpdatedAt, VoidReceiptID,
// NotApplicable and InvoiceDecidedBy. The other columns (the rest of the
// intent, LastError, Attempts, BlockedRuns, what verify compares,
// PreviousQBOID, InvoiceDecidedAt, FirstSeenAt, UpdatedAt) are left zero;
// GetDocument and ListDocuments read whole rows.
func (s *Store) DocumentsBySource(ctx context.Context, kind string, ids []string) (map[string]Document, error) {
	out := make(map[string]Document, len(ids))
	for start := 0; start < len(ids); start += lookupChunk {
		chunk := ids[start:min(start+lookupChunk, len(ids))]
		arr, err := json.Marshal(chunk)
		if err != nil {
			return nil, fmt.Errorf("documents by source %s: %w", kind, err)
		}
		rows, err := s.byIDStmt.QueryContext(ctx, kind, string(arr))
		if err != nil {
			return nil, fmt.Errorf("documents by source %s: %w", kind, err)
		}
		for rows.Next() {
			d, err := scanLedgerRow(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("documents by source %s: %w", kind, err)
			}
			out[d.SourceID] = d
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("documents by source %s: %w", kind, err)
		}
	}
	return out, nil
}

// DocumentsByOrderNumber returns every ledger row of an order number (the
// order, its refunds, its payments), ordered by kind and id. It returns an
// empty slice, not an error, when there are none.
func (s *Store) DocumentsByOrderNumber(ctx context.Context, orderNumber string) ([]Document, error) {
	return s.queryDocuments(ctx, 0, `SELECT `+documentCols+` FROM documents WHERE order_number = ?
		ORDER BY source_kind, source_id`, orderNumber)
}

// PendingIntents returns the rows whose last write has no recorded
// outcome: each must be looked up in QBO (by DocNumber and PrivateNote
// marker) and resolved with RecordOutcome or ClearIntent before it is
// written again.
func (s *Store) PendingIntents(ctx context.Context) ([]Document, error) {
	return s.queryDocuments(ctx, 0, `SELECT `+documentCols+` FROM documents WHERE pending_request_id IS NOT NULL
		ORDER BY pending_at, source_kind, source_id`)
}

// queryDocuments runs a query for full rows; capHint presizes the result.
func (s *Store) queryDocuments(ctx context.Context, capHint int, query string, args ...any) ([]Document, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query documents: %w", err)
	}
	defer rows.Close()
	out := make([]Document, 0, capHint)
	for rows.Next() {
		d, err := scanDocument(rows)
		if err != nil {
			return nil, fmt.Errorf("query documents: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query documents: %w", err)
	}
	return out, nil
}

// DocumentFilter selects ledger rows for ListDocuments and EachDocument.
// Zero fields match everything. Rows come in (Kind, SourceID) order.
type DocumentFilter struct {
	Kind   string
	States []State
	// InQBO selects only rows for which QBO holds a document (QBOID set,
	// not deleted in QBO): what verify reads back.
	InQBO bool
	// After starts the listing after this key (keyset paging: pass the key
	// of the last row of the previous page).
	After DocumentKey
	// Limit caps ListDocuments (0: no cap). EachDocument ignores it.
	Limit int
}

func (f DocumentFilter) where() (string, []any) {
	var conds []string
	var args []any
	if f.Kind != "" {
		conds = append(conds, "source_kind = ?")
		args = append(args, f.Kind)
	}
	if len(f.States) > 0 {
		conds = append(conds, "state IN (?"+strings.Repeat(", ?", len(f.States)-1)+")")
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	if f.InQBO {
		conds = append(conds, "qbo_id <> '' AND state <> 'deleted_in_qbo'")
	}
	// With a kind, the range must be on source_id alone for SQLite to
	// seek in the primary key; a row-value range after "source_kind = ?"
	// would scan from the kind's first row on every page.
	switch {
	case f.After == (DocumentKey{}):
	case f.Kind == "":
		conds = append(conds, "(source_kind, source_id) > (?, ?)")
		args = append(args, f.After.Kind, f.After.SourceID)
	case f.After.Kind == f.Kind:
		conds = append(conds, "source_id > ?")
		args = append(args, f.After.SourceID)
	case f.After.Kind > f.Kind:
		conds = append(conds, "0")
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// ListDocuments returns the rows matching f, in (Kind, SourceID) order, at
// most f.Limit of them. Page with f.After.
func (s *Store) ListDocuments(ctx context.Context, f DocumentFilter) ([]Document, error) {
	for _, st := range f.States {
		if !st.Valid() {
			return nil, fmt.Errorf("list documents: invalid state %q", st)
		}
	}
	where, args := f.where()
	q := `SELECT ` + documentCols + ` FROM documents` + where + ` ORDER BY source_kind, source_id`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	docs, err := s.queryDocuments(ctx, min(f.Limit, eachPage), q, args...)
	if err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	return docs, nil
}

// eachPage is EachDocument's page size. Paging by key, rather than one long
// cursor, keeps each read transaction short: fn may write to the store, and
// the WAL can be checkpointed while a million rows stream by.
const eachPage = 2000

// EachDocument calls fn for every row matching f (f.Limit ignored), in
// (Kind, SourceID) order, a page at a time. It stops at, and returns, the
// first error from fn. Used by verify and to detect deleted orders.
func (s *Store) EachDocument(ctx context.Context, f DocumentFilter, fn func(Document) error) error {
	f.Limit = eachPage
	for {
		page, err := s.ListDocuments(ctx, f)
		if err != nil {
			return err
		}
		for _, d := range page {
			if err := fn(d); err != nil {
				return err
			}
		}
		if len(page) < eachPage {
			return nil
		}
		f.After = page[len(page)-1].Key()
	}
}

// DocumentCount is the number of ledger rows of one kind in one state.
type DocumentCount struct {
	Kind  string
	State State
	N     int
}

// CountDocuments counts the ledger rows by kind and state.
func (s *Store) CountDocuments(ctx context.Context) ([]DocumentCount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT source_kind, state, COUNT(*) FROM documents
		GROUP BY source_kind, state ORDER BY source_kind, state`)
	if err != nil {
		return nil, fmt.Errorf("count documents: %w", err)
	}
	defer rows.Close()
	var out []DocumentCount
	for rows.Next() {
		var c DocumentCount
		if err := rows.Scan(&c.Kind, &c.State, &c.N); err != nil {
			return nil, fmt.Errorf("count documents: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count documents: %w", err)
	}
	return out, nil
}

// ImportDocuments writes rows exactly as given (insert or replace by key),
// in one transaction: for bulk loads, tests and benchmarks. Zero
// FirstSeenAt/UpdatedAt are set to now. Reconcile uses RecordIntent and
// RecordOutcome instead.
func (s *Store) ImportDocuments(ctx context.Context, docs []Document) error {
	err := s.withTx(ctx, func(tx *sql.Tx, now time.Time) error {
		stmt, err := tx.PrepareContext(ctx, putDocumentSQL)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, d := range docs {
			if d.FirstSeenAt.IsZero() {
				d.FirstSeenAt = now
			}
			if d.UpdatedAt.IsZero() {
				d.UpdatedAt = now
			}
			args, err := documentArgs(d)
			if err != nil {
				return err
			}
			if _, err := stmt.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("document %s: %w", d.Key(), err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("import documents: %w", err)
	}
	return nil
}

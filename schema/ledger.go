package schema

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// The exactly-once protocol, as the ledger supports it (docs/design.md "Exactly once"):
//
//  1. Before a QBO write, RecordIntent stores the deterministic request id,
//     the action and the fingerprint of the document about to be sent.
//  2. After QBO answers, RecordOutcome stores the result (Id, SyncToken,
//     fingerprint, state) and the audit entry in ONE transaction, and clears
//     the intent. A definite rejection is an outcome too (StateFailed).
//  3. When the answer is unknown (timeout, lost response, crash), the intent
//     stays. PendingIntents lists such rows; the caller looks the document
//     up in QBO and records what it found with RecordOutcome, or ClearIntent
//     when QBO has nothing, and only then writes again.
//
// RecordIntent refuses (ErrConflict) to replace an unresolved intent with a
// different request id, so step 3 cannot be skipped by mistake.

// WriteAction is what a write intent does to a QBO document.
type WriteAction string

// Write actions.
const (
	WriteCreate WriteAction = "create"
	WriteUpdate WriteAction = "update"
	WriteVoid   WriteAction = "void"
	// WriteVoidReplaced voids the SalesReceipt that an Invoice replaced on
	// the same row (report as invoice); the row keeps the Invoice. It is
	// told apart from WriteVoid because the receipt is not the row's own
	// document.
	WriteVoidReplaced WriteAction = "voidreplaced"
)

// Valid reports whether a is one of the write actions.
func (a WriteAction) Valid() bool {
	switch a {
	case WriteCreate, WriteUpdate, WriteVoid, WriteVoidReplaced:
		return true
	}
	return false
}

// Intent is a write about to be sent to QBO.
type Intent struct {
	Key DocumentKey
	// Action is what the write does.
	Action WriteAction
	// TargetType and TargetID name the QBO document the write acts on: the
	// type created (no id yet), the document updated or voided. A lookup
	// of an unknown outcome searches that type, reads that document.
	TargetType string
	TargetID   string
	// RequestID is the deterministic QBO requestid of the write.
	RequestID string
	// Fingerprint is the fingerprint of the document being sent.
	Fingerprint string
	// OrderNumber, QBOType and DocNumber are stored when non-empty, so a
	// row created by its first intent is complete enough to look up.
	OrderNumber string
	QBOType     string
	DocNumber   string
}

// RecordIntent records a write intent before the write is sent, creating
// the ledger row (StatePending) if needed, and counts the attempt.
// Recording the same request id again (a retry after a lookup found
// nothing) is allowed.
//
// Returns ErrConflict when the row already carries an unresolved intent with
// another request id, or is StateDeletedInQBO; an error without a request id
// or a valid action.
func (s *Store) RecordIntent(ctx context.Context, in Intent) error {
	if in.RequestID == "" || !in.Action.Valid() {
		return fmt.Errorf("record intent %s: request id and a valid action are required (got %q)", in.Key, in.Action)
	}
	_, err := s.mutateDocument(ctx, in.Key, true, func(_ *sql.Tx, d *Document, _ bool, now time.Time) error {
		if d.PendingRequestID != "" && d.PendingRequestID != in.RequestID {
			return fmt.Errorf("unresolved intent %s (%s) pending since %s: look it up in QBO first: %w",
				d.PendingRequestID, d.PendingWrite(), formatTime(d.PendingAt), ErrConflict)
		}
		// A document a person deleted in QBO is reported, never silently
		// re-created: only resync (BumpGeneration) makes it writable again.
		if d.State == StateDeletedInQBO {
			return fmt.Errorf("%s %s was deleted in QBO; only a resync (BumpGeneration) makes it writable again: %w", d.QBOType, d.QBOID, ErrConflict)
		}
		d.PendingRequestID, d.PendingAction, d.PendingFingerprint, d.PendingAt = in.RequestID, in.Action, in.Fingerprint, now
		d.PendingQBOType, d.PendingQBOID = in.TargetType, in.TargetID
		d.Attempts++
		setIf(&d.OrderNumber, in.OrderNumber)
		setIf(&d.QBOType, in.QBOType)
		setIf(&d.DocNumber, in.DocNumber)
		return nil
	})
	if err != nil {
		return fmt.Errorf("record intent %s: %w", in.Key, err)
	}
	return nil
}

func setIf(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

// DocumentOutcome is what QBO answered to a write (or what a lookup found).
type DocumentOutcome struct {
	Key DocumentKey
	// RequestID must equal the row's pending intent, when it has one.
	RequestID string
	// State is StateSent, StateVoided, StateDeletedInQBO or StateFailed
	// (a definite rejection: nothing was written).
	State State
	// OrderNumber, QBOType, QBOID, SyncToken and DocNumber are stored when
	// non-empty (empty keeps the stored value). Ignored for StateFailed.
	OrderNumber string
	QBOType     string
	QBOID       string
	SyncToken   string
	DocNumber   string
	// Fingerprint of the document now in QBO; empty means the pending
	// intent's fingerprint. Ignored for StateFailed.
	Fingerprint string
	// Error becomes LastError (empty clears it), and ErrorReasons
	// LastReasons.
	Error        string
	ErrorReasons []byte
	// NeedsPerson, with StateFailed, says that QBO refused the document
	// itself (a validation or business-rule fault): sending it again
	// unchanged fails again, so a person must act. The row's FailedRuns
	// then counts RunID's run, once per run; any other outcome clears both.
	NeedsPerson bool
	RunID       string

	// The row's facts (see Document): each is stored when non-nil and
	// left as it is when nil. Clearing one is setting its zero value:
	// RequestAttempt to 0, VoidReceiptID to "". They are stored whatever
	// the State: a rejection (StateFailed) sets RequestAttempt.
	RequestAttempt  *int
	SourceUpdatedAt *time.Time
	VoidReceiptID   *string
	NotApplicable   *bool
	SentTotal       *decimal.Decimal
	SentCustomerID  *string
	// Generation, when set, replaces the row's generation: a document
	// adopted from QBO carries the generation of its marker.
	Generation *int

	// Audit, when set, is appended in the same transaction. Its empty
	// SourceKind, SourceID, QBOID and RequestID default to the outcome's,
	// a zero At to now.
	Audit *AuditEntry
}

// RecordOutcome records the outcome of a write in ONE transaction: it
// updates the ledger row, clears its intent and appends the audit entry.
// The row is created if it does not exist (a document adopted from a QBO
// lookup).
//
// Returns ErrConflict when the row carries a pending intent with another
// request id (or the outcome has none).
func (s *Store) RecordOutcome(ctx context.Context, o DocumentOutcome) error {
	switch o.State {
	case StateSent, StateVoided, StateDeletedInQBO, StateFailed:
	default:
		return fmt.Errorf("record outcome %s: invalid outcome state %q", o.Key, o.State)
	}
	_, err := s.mutateDocument(ctx, o.Key, true, func(tx *sql.Tx, d *Document, _ bool, now time.Time) error {
		if d.PendingRequestID != "" && d.PendingRequestID != o.RequestID {
			return fmt.Errorf("outcome for request %q but intent %s is pending: %w", o.RequestID, d.PendingRequestID, ErrConflict)
		}
		setIf(&d.OrderNumber, o.OrderNumber)
		if o.State != StateFailed {
			setIf(&d.QBOType, o.QBOType)
			setIf(&d.QBOID, o.QBOID)
			setIf(&d.SyncToken, o.SyncToken)
			setIf(&d.DocNumber, o.DocNumber)
			fp := o.Fingerprint
			if fp == "" {
				fp = d.PendingFingerprint
			}
			setIf(&d.Fingerprint, fp)
			d.Attempts = 0
		}
		d.State = o.State
		d.LastError, d.LastReasons = o.Error, o.ErrorReasons
		d.clearIntent()
		d.BlockedRuns, d.blockedRunID = 0, ""
		d.clearSkip()
		if o.State == StateFailed && o.NeedsPerson {
			d.countFailedRun(o.RunID)
		} else {
			d.clearNeedsPerson()
		}
		d.applyFacts(o)
		if o.Audit == nil {
			return nil
		}
		a := *o.Audit
		setIf(&a.SourceKind, o.Key.Kind)
		setIf(&a.SourceID, o.Key.SourceID)
		setIf(&a.QBOID, d.QBOID)
		setIf(&a.RequestID, o.RequestID)
		_, err := appendAudit(ctx, tx, a, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("record outcome %s: %w", o.Key, err)
	}
	return nil
}

// countFailedRun marks the row as needing a person and counts runID's run
// once.
func (d *Document) countFailedRun(runID string) {
	if !d.NeedsPerson || runID == "" || runID != d.failedRunID {
		d.FailedRuns++
	}
	d.NeedsPerson, d.failedRunID = true, runID
}

func (d *Document) clearNeedsPerson() {
	d.NeedsPerson, d.FailedRuns, d.failedRunID = false, 0, ""
}

func (d *Document) clearSkip() {
	d.SkipReason, d.SkippedBy, d.SkippedAt = "", "", time.Time{}
}

func (d *Document) clearIntent() {
	d.PendingRequestID, d.PendingAction, d.PendingFingerprint, d.PendingAt = "", "", "", time.Time{}
	d.PendingQBOType, d.PendingQBOID = "", ""
}

// applyFacts stores the outcome's non-nil facts.
func (d *Document) applyFacts(o DocumentOutcome) {
	setPtr(&d.RequestAttempt, o.RequestAttempt)
	setPtr(&d.VoidReceiptID, o.VoidReceiptID)
	setPtr(&d.NotApplicable, o.NotApplicable)
	setPtr(&d.SentCustomerID, o.SentCustomerID)
	setPtr(&d.Generation, o.Generation)
	if o.SourceUpdatedAt != nil {
		d.SourceUpdatedAt = o.SourceUpdatedAt.UTC()
	}
	if o.SentTotal != nil {
		d.SentTotal = decimal.NewNullDecimal(*o.SentTotal)
	}
}

func setPtr[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// ClearIntent drops a pending intent after a QBO lookup found that the
// write never happened. Clearing an already cleared intent does nothing.
//
// Returns ErrNotFound when the row does not exist and ErrConflict when a
// different intent is pending.
func (s *Store) ClearIntent(ctx context.Context, k DocumentKey, requestID string) error {
	_, err := s.mutateDocument(ctx, k, false, func(_ *sql.Tx, d *Document, _ bool, _ time.Time) error {
		if d.PendingRequestID != "" && d.PendingRequestID != requestID {
			return fmt.Errorf("intent %s is pending, not %s: %w", d.PendingRequestID, requestID, ErrConflict)
		}
		d.clearIntent()
		return nil
	})
	if err != nil {
		return fmt.Errorf("clear intent %s: %w", k, err)
	}
	return nil
}

// Problem is why an object could not be reported in this run.
type Problem struct {
	Key DocumentKey
	// RunID is the current run; blocking twice in one run counts once.
	RunID  string
	Reason string
	// Reasons is Reason as data, stored as given (LastReasons): schema
	// does not read it; the engine encodes it (reconcile.Reasons, JSON).
	Reasons []byte
	// OrderNumber, QBOType and DocNumber are stored when non-empty, so
	// `status` can name an object that was never sent.
	OrderNumber string
	QBOType     string
	DocNumber   string
}

// RecordBlocked marks an object blocked by a failed precondition with a
// reason a bookkeeper can act on, creating its row if needed, and counts
// the consecutive runs that blocked it. A pending intent is left alone: it
// still needs its lookup. A skipped row stays skipped: a person set it
// aside, and only a retry brings it back.
func (s *Store) RecordBlocked(ctx context.Context, p Problem) error {
	_, err := s.mutateDocument(ctx, p.Key, true, func(_ *sql.Tx, d *Document, _ bool, _ time.Time) error {
		if d.State == StateSkipped {
			return nil
		}
		d.applyProblem(p, StateBlocked)
		d.clearNeedsPerson()
		if p.RunID == "" || p.RunID != d.blockedRunID {
			d.BlockedRuns++
		}
		d.blockedRunID = p.RunID
		return nil
	})
	if err != nil {
		return fmt.Errorf("record blocked %s: %w", p.Key, err)
	}
	return nil
}

// RecordFailed marks an object whose write failed with an unknown outcome
// (timeout, connection lost, 5xx after retries): the pending intent stays,
// so the next run looks the document up before writing again. A definite
// QBO rejection is recorded with RecordOutcome and StateFailed instead.
func (s *Store) RecordFailed(ctx context.Context, p Problem) error {
	_, err := s.mutateDocument(ctx, p.Key, true, func(_ *sql.Tx, d *Document, _ bool, _ time.Time) error {
		d.applyProblem(p, StateFailed)
		d.BlockedRuns, d.blockedRunID = 0, ""
		d.clearNeedsPerson()
		d.clearSkip()
		return nil
	})
	if err != nil {
		return fmt.Errorf("record failed %s: %w", p.Key, err)
	}
	return nil
}

func (d *Document) applyProblem(p Problem, st State) {
	d.State = st
	d.LastError, d.LastReasons = p.Reason, p.Reasons
	setIf(&d.OrderNumber, p.OrderNumber)
	setIf(&d.QBOType, p.QBOType)
	setIf(&d.DocNumber, p.DocNumber)
}

// SetState sets a row's state without a write: for example back to
// StateSent when a blocked object turns out unchanged, or StateDeletedInQBO
// when verify finds the document gone. Any state but blocked/failed clears
// LastError and the blocked-run count.
//
// Returns ErrNotFound when the row does not exist.
func (s *Store) SetState(ctx context.Context, k DocumentKey, st State) error {
	if !st.Valid() {
		return fmt.Errorf("set state %s: invalid state %q", k, st)
	}
	_, err := s.mutateDocument(ctx, k, false, func(_ *sql.Tx, d *Document, _ bool, _ time.Time) error {
		d.State = st
		if st != StateBlocked && st != StateFailed {
			d.LastError, d.LastReasons = "", nil
			d.BlockedRuns, d.blockedRunID = 0, ""
		}
		if st != StateFailed {
			d.clearNeedsPerson()
		}
		if st != StateSkipped {
			d.clearSkip()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set state %s: %w", k, err)
	}
	return nil
}

// BumpGeneration prepares a deliberate re-creation (resync): it increments
// the generation (so every request id changes), forgets the QBO document
// (keeping its id in PreviousQBOID) and resets the row to
// StatePending. DocNumber and OrderNumber stay.
//
// Returns ErrNotFound when the row does not exist and ErrConflict when it
// has an unresolved intent (resolve it first: the old write may have
// happened).
func (s *Store) BumpGeneration(ctx context.Context, kind, sourceID string) (Document, error) {
	k := DocumentKey{Kind: kind, SourceID: sourceID}
	d, err := s.mutateDocument(ctx, k, false, func(_ *sql.Tx, d *Document, _ bool, _ time.Time) error {
		if d.PendingRequestID != "" {
			return fmt.Errorf("intent %s is unresolved: %w", d.PendingRequestID, ErrConflict)
		}
		setIf(&d.PreviousQBOID, d.QBOID)
		d.Generation++
		d.QBOID, d.SyncToken, d.Fingerprint = "", "", ""
		d.State = StatePending
		d.LastError, d.LastReasons = "", nil
		d.Attempts, d.BlockedRuns, d.blockedRunID = 0, 0, ""
		d.clearNeedsPerson()
		d.clearSkip()
		return nil
	})
	if err != nil {
		return Document{}, fmt.Errorf("bump generation %s: %w", k, err)
	}
	return d, nil
}

// SkipDocument sets a row aside on a person's word: state StateSkipped
// with reason, by and the time, and an audit entry (operation "skip",
// detail "by <by>: <reason>") in the same transaction. No run sends a
// skipped row until RetryDocument. Skipping a skipped row again replaces
// its reason.
//
// Returns ErrNotFound when the row does not exist, ErrConflict when it
// has a write whose outcome is unknown (a run must look it up first: the
// document may be in QBO), and an error when reason or by is empty.
func (s *Store) SkipDocument(ctx context.Context, k DocumentKey, reason, by string) (Document, error) {
	if strings.TrimSpace(reason) == "" || strings.TrimSpace(by) == "" {
		return Document{}, fmt.Errorf("skip %s: a reason and who skips are required", k)
	}
	d, err := s.mutateDocument(ctx, k, false, func(tx *sql.Tx, d *Document, _ bool, now time.Time) error {
		if d.PendingRequestID != "" {
			return fmt.Errorf("%s (%s) has an unknown outcome; a run must look it up first: %w", d.PendingRequestID, d.PendingWrite(), ErrConflict)
		}
		d.State = StateSkipped
		d.SkipReason, d.SkippedBy, d.SkippedAt = reason, by, now.UTC()
		d.BlockedRuns, d.blockedRunID = 0, ""
		d.clearNeedsPerson()
		_, err := appendAudit(ctx, tx, AuditEntry{Entity: d.QBOType, Operation: "skip", SourceKind: k.Kind, SourceID: k.SourceID,
			QBOID: d.QBOID, Outcome: "skipped", Detail: "by " + by + ": " + reason}, now)
		return err
	})
	if err != nil {
		return Document{}, fmt.Errorf("skip %s: %w", k, err)
	}
	return d, nil
}

// RetryDocument undoes a skip, or the failure of a refused write, so that
// the next run sends the object again: the row goes back to StatePending
// (which every run re-reads, whatever its window) with its error, skip and
// failed-run count cleared, and an audit entry (operation "retry", detail
// "by <by>") is appended in the same transaction. A row with a document in
// QBO keeps it, and its fingerprint: the run compares and updates it.
//
// Returns ErrNotFound when the row does not exist and ErrConflict when it
// is neither failed nor skipped, or has a write whose outcome is unknown.
func (s *Store) RetryDocument(ctx context.Context, k DocumentKey, by string) (Document, error) {
	d, err := s.mutateDocument(ctx, k, false, func(tx *sql.Tx, d *Document, _ bool, now time.Time) error {
		if d.State != StateFailed && d.State != StateSkipped {
			return fmt.Errorf("it is %s, neither failed nor skipped: %w", d.State, ErrConflict)
		}
		if d.PendingRequestID != "" {
			return fmt.Errorf("%s (%s) has an unknown outcome; the next run looks it up: %w", d.PendingRequestID, d.PendingWrite(), ErrConflict)
		}
		detail := "by " + by
		if d.State == StateSkipped {
			detail += "; was skipped by " + d.SkippedBy + ": " + d.SkipReason
		}
		d.State = StatePending
		d.LastError, d.LastReasons = "", nil
		d.BlockedRuns, d.blockedRunID = 0, ""
		d.clearNeedsPerson()
		d.clearSkip()
		_, err := appendAudit(ctx, tx, AuditEntry{Entity: d.QBOType, Operation: "retry", SourceKind: k.Kind, SourceID: k.SourceID,
			QBOID: d.QBOID, Outcome: "retried", Detail: detail}, now)
		return err
	})
	if err != nil {
		return Document{}, fmt.Errorf("retry %s: %w", k, err)
	}
	return d, nil
}

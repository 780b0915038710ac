package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/schema"
)

// The write protocol: every write to QBO is recorded as an intent first
// (its request id derives from the row and the attempt), then sent, then
// its outcome is recorded. A run that dies in between leaves the intent,
// and the next run looks the write up before sending anything
// (recover.go), so that no document is ever created twice.

// reasonRefused starts the reason of a write QBO refused on every attempt
// before processing it (throttling, 503): failed, not unknown.
const reasonRefused = "not sent: QBO refused every attempt (throttled or unavailable); sent again next run"

// reasonRefusedDocument starts the reason of a write QBO refused for the
// document itself.
const reasonRefusedDocument = "QBO refused the document"

// FailureCode classifies the error of a failed write (not an auth error:
// that stops the run):
//
//   - CodeQBORefusedDocument: QBO answered that the document itself is
//     wrong (a validation or business-rule fault, another 4xx, or a
//     request this client would not send). Nothing was written, and the
//     same document fails again: a person must act.
//   - CodeQBORejected: QBO refused every attempt before processing it
//     (throttled, 503). Nothing was written; the next run sends it again.
//   - CodeOutcomeUnknown: some attempt may have been processed (a
//     timeout, a lost connection, a 500 or 504, a cancelled context): the
//     write is looked up before it is sent again.
//
// A stale SyncToken (5010) is a validation fault that a re-read fixes,
// not a person: it counts as CodeQBORejected. So does a context that ended
// while the client waited to retry a write QBO had refused (throttled,
// 503): nothing was written, and nothing is wrong with the document.
func FailureCode(err error) ReasonCode {
	switch {
	case !definitive(err):
		return CodeOutcomeUnknown
	case qbo.Retryable(err), qbo.IsStaleObject(err),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return CodeQBORejected
	}
	return CodeQBORefusedDocument
}

// one sends one change's write.
func (a *applier) one(ctx context.Context, c *Change) {
	if !a.mayStart() {
		return
	}
	switch c.Action {
	case ActionCreate:
		a.create(ctx, c)
	case ActionUpdate:
		a.update(ctx, c)
	case ActionVoid:
		a.void(ctx, c)
	}
}

func (a *applier) rid(c *Change, action, fingerprint string, attempt int) string {
	return requestID(a.r.Realm, c.Key.Kind, c.Key.SourceID, c.generation(), action, fingerprint, attempt)
}

// intent records the write intent: action on the QBO document typ/id (id
// empty for a create); false means do not send.
func (a *applier) intent(ctx context.Context, c *Change, action schema.WriteAction, typ, id, rid, fp string) bool {
	if a.stopped() {
		return false
	}
	in := schema.Intent{Key: c.Key, Action: action, TargetType: typ, TargetID: id, RequestID: rid,
		Fingerprint: fp, OrderNumber: c.OrderNumber, DocNumber: c.DocNumber}
	if c.replaces == "" && !c.voidReceipt {
		in.QBOType = typ
	}
	if action == schema.WriteVoid {
		in.DocNumber = ""
		if c.voidReceipt {
			in.Action = schema.WriteVoidReplaced
		}
	}
	if err := a.r.Store.RecordIntent(ctx, in); err != nil {
		if errors.Is(err, schema.ErrConflict) {
			c.fail(CodeOutcomeUnknown, reasonUnknownOutcome)
			a.report(c.item(), true)
			return false
		}
		a.storeErr(err)
		return false
	}
	// A run stopped by a fatal error meanwhile sends nothing more; the
	// next run looks this intent up.
	return !a.stopped()
}

func (a *applier) create(ctx context.Context, c *Change) {
	fp := c.Desired.Fingerprint
	rid := a.rid(c, string(ActionCreate), fp, c.attempt())
	if !a.intent(ctx, c, schema.WriteCreate, c.QBOType, "", rid, fp) {
		return
	}
	doc, err := a.r.QBO.Create(ctx, c.QBOType, a.prepare(c, "", "", false), rid)
	if a.stopped() {
		return
	}
	a.outcome(ctx, c, rid, doc, err)
}

// batchable reports whether c's write can go in a batch request: every
// create and sparse update, and a void whose SyncToken is known (the
// ledger's, or a replaced receipt's read by readReceiptTokens).
func batchable(c *Change) bool {
	switch c.Action {
	case ActionCreate:
		return true
	case ActionUpdate:
		return c.Prior != nil && c.Prior.QBOID != "" && c.Prior.SyncToken != ""
	case ActionVoid:
		if c.voidToken() == "" || c.VoidID == "" {
			return false
		}
		switch c.VoidType {
		case TypeInvoice, TypeSalesReceipt, TypePayment, TypeRefundReceipt:
			return true
		}
	}
	return false
}

// writeBatch sends up to 30 writes (creates, sparse updates, voids of
// independent documents: one phase never holds two writes of one document,
// and a write that depends on another is in a later phase) in one batch
// request, under the single path's rules: each item's intent is recorded
// before the batch is sent, with the request id its single write would
// have, and each item's outcome is recorded on its own. The batch's
// request id derives from its items' ids. An item QBO refuses with a
// stale SyncToken (5010) or as not found is re-read and settled alone, as
// update and void do; when the batch's answer is lost every item keeps its
// intent and is looked up on the next run (recover.go) before anything is
// sent again.
func (a *applier) writeBatch(ctx context.Context, cs []*Change) {
	if !a.mayStart() {
		return
	}
	var sent []*Change
	var rids []string
	var writes []BatchWrite
	for _, c := range cs {
		var w BatchWrite
		var rid string
		var ok bool
		switch c.Action {
		case ActionCreate:
			fp := c.Desired.Fingerprint
			rid = a.rid(c, string(ActionCreate), fp, c.attempt())
			ok = a.intent(ctx, c, schema.WriteCreate, c.QBOType, "", rid, fp)
			w = BatchWrite{Op: qbo.BatchCreate, Type: c.QBOType, Entity: a.prepare(c, "", "", false)}
		case ActionUpdate:
			rid, ok = a.updateIntent(ctx, c)
			w = BatchWrite{Op: qbo.BatchUpdate, Type: c.QBOType, Entity: a.prepare(c, c.Prior.QBOID, c.Prior.SyncToken, true)}
		case ActionVoid:
			rid, ok = a.voidIntent(ctx, c, "")
			w = BatchWrite{Op: qbo.BatchVoid, Type: c.VoidType, ID: c.VoidID, SyncToken: c.voidToken()}
		}
		if !ok {
			if a.stopped() {
				return
			}
			continue
		}
		sent, rids, writes = append(sent, c), append(rids, rid), append(writes, w)
	}
	if len(sent) == 0 {
		return
	}
	outs, err := a.r.QBO.Batch(ctx, writes, batchRequestID(rids))
	for i, c := range sent {
		if a.stopped() {
			return
		}
		var o BatchOutcome
		if err != nil {
			o.Err = err
		} else if i < len(outs) {
			o = outs[i]
		} else {
			o.Err = fmt.Errorf("batch item %d: no result", i)
		}
		switch c.Action {
		case ActionCreate:
			a.outcome(ctx, c, rids[i], o.Doc, o.Err)
		case ActionUpdate:
			a.updated(ctx, c, rids[i], o.Doc, o.Err)
		case ActionVoid:
			a.voided(ctx, c, rids[i], o.Doc, o.Err, true)
		}
	}
	byAction := logrus.Fields{"documents": len(sent)}
	for _, c := range sent {
		n, _ := byAction[string(c.Action)].(int)
		byAction[string(c.Action)] = n + 1
	}
	a.log.WithFields(byAction).Info("batch sent")
}

// written is how a write ended, as the ledger is to record it.
type written struct {
	// outcome is what became of the write, for RecordOutcome; its audit
	// entry gets the run's id.
	outcome schema.DocumentOutcome
	// unknown, when set, says why nobody knows whether QBO applied the
	// write: RecordFailed keeps the intent for the next run's lookup, and
	// of outcome only Key and OrderNumber are used.
	unknown string
}

// finish is the last step of every write, and of every lookup that
// settles an earlier run's write: it records how the write ended, and
// only once the ledger holds that does it mark the change (mark) and
// report it. So no change is reported done, and no write that depends on
// it (a payment on its invoice, the void of the receipt it replaced)
// starts, on an outcome the ledger could lose. On a ledger fault the run
// stops and c is not reported; the next run looks its write up. c is nil
// for an earlier run's write, which is only recorded.
func (a *applier) finish(ctx context.Context, c *Change, w written, mark func()) {
	var err error
	if w.unknown != "" {
		p := schema.Problem{Key: w.outcome.Key, RunID: a.runID, Reason: w.unknown, OrderNumber: w.outcome.OrderNumber}
		if c != nil {
			p.Reasons = Reasons{{Code: CodeOutcomeUnknown, Subject: c.subject(), Text: w.unknown}}.encode()
		}
		err = a.r.Store.RecordFailed(ctx, p)
	} else {
		if w.outcome.Audit != nil {
			w.outcome.Audit.RunID = a.runID
		}
		err = a.r.Store.RecordOutcome(ctx, w.outcome)
	}
	if err != nil {
		a.storeErr(err)
		return
	}
	if c == nil {
		return
	}
	if mark != nil {
		mark()
	}
	a.report(c.item(), true)
}

// outcome records what QBO answered to a create or update.
func (a *applier) outcome(ctx context.Context, c *Change, rid string, doc DocRef, err error) {
	if err != nil {
		a.failure(ctx, c, rid, err)
		return
	}
	dn := doc.DocNumber
	if dn == "" {
		dn = c.DocNumber
	}
	// A success resets the attempt: the next change of the payload
	// starts a fresh request id series.
	o := schema.DocumentOutcome{Key: c.Key, RequestID: rid, State: schema.StateSent,
		OrderNumber: c.OrderNumber, QBOType: c.QBOType, QBOID: doc.ID, SyncToken: doc.SyncToken, DocNumber: dn,
		Fingerprint: c.Desired.Fingerprint, RequestAttempt: new(0), NotApplicable: new(false),
		Audit: &schema.AuditEntry{Entity: c.QBOType, Operation: string(c.Action), Outcome: "ok", IntuitTID: doc.IntuitTID}}
	if !c.sourceUpdated.IsZero() {
		o.SourceUpdatedAt = new(c.sourceUpdated)
	}
	if c.replaces != "" {
		o.VoidReceiptID = new(c.replaces)
	}
	a.finish(ctx, c, written{outcome: recordSent(o, doc)}, func() {
		if !c.Desired.Total.IsZero() && !doc.TotalAmt.IsZero() && !doc.TotalAmt.Equal(c.Desired.Total) {
			a.log.WithFields(logrus.Fields{"order": c.OrderNumber, "qbo_id": doc.ID, "qbo_total": doc.TotalAmt.String(),
				"want": c.Desired.Total.String()}).Warn("QBO total differs from the order's")
		}
		c.done, c.resultID, c.QBOID, c.tid = true, doc.ID, doc.ID, doc.IntuitTID
	})
}

// failure records a failed write: a definitive fault clears the intent and
// bumps the attempt (so a corrected retry gets a new request id); an unknown
// outcome keeps the intent for the next run's lookup.
func (a *applier) failure(ctx context.Context, c *Change, rid string, err error) {
	if qbo.IsAuth(err) {
		a.stop(fmt.Errorf("%w: %w", ErrQBOAuth, err))
		return
	}
	if code := FailureCode(err); code != CodeOutcomeUnknown {
		reason, tid := err.Error(), intuitTID(err)
		why := Reasons{{Code: code, Subject: c.subject(), Text: reason}}
		switch code {
		case CodeQBORejected:
			// Throttled or unavailable on every attempt: nothing to fix,
			// nothing to look up; the next run sends it again.
			reason = reasonRefused + ": " + reason
			why[0].Text = reason
		case CodeQBORefusedDocument:
			// Sent again unchanged it fails again, run after run: a person
			// fixes the cause and retries, or skips it.
			why[0].Text = reasonRefusedDocument + ": " + reason
			why[0].Fix = Fix{Action: FixRetryOrSkip, ID: cmp.Or(c.OrderNumber, c.OrderID)}
			reason = a.r.text(why)
		}
		a.finish(ctx, c, written{outcome: schema.DocumentOutcome{Key: c.Key, RequestID: rid, State: schema.StateFailed,
			OrderNumber: c.OrderNumber, Error: reason, ErrorReasons: why.encode(), RequestAttempt: new(c.attempt() + 1),
			NeedsPerson: code.NeedsPerson(), RunID: a.runID,
			Audit: &schema.AuditEntry{Entity: c.QBOType, Operation: string(c.Action), Outcome: "rejected",
				Detail: reason, IntuitTID: tid}}},
			func() { c.Action, c.Why, c.Reason, c.tid = ActionFailed, why, reason, tid })
		return
	}
	if a.stopped() {
		return
	}
	a.log.WithError(err).WithField("item", c.Key.String()).Warn("write outcome unknown")
	a.finish(ctx, c, written{outcome: schema.DocumentOutcome{Key: c.Key, OrderNumber: c.OrderNumber},
		unknown: reasonUnknownOutcome + ": " + err.Error()},
		func() { c.fail(CodeOutcomeUnknown, reasonUnknownOutcome) })
}

// update sends a sparse update with the ledger's SyncToken; updated
// settles what QBO answered.
func (a *applier) update(ctx context.Context, c *Change) {
	rid, ok := a.updateIntent(ctx, c)
	if !ok {
		return
	}
	doc, err := a.r.QBO.SparseUpdate(ctx, c.QBOType, a.prepare(c, c.Prior.QBOID, c.Prior.SyncToken, true), rid)
	if a.stopped() {
		return
	}
	a.updated(ctx, c, rid, doc, err)
}

// updateIntent records the intent of c's update; false means do not send.
func (a *applier) updateIntent(ctx context.Context, c *Change) (string, bool) {
	fp := c.Desired.Fingerprint
	rid := a.rid(c, string(ActionUpdate), fp, c.attempt())
	return rid, a.intent(ctx, c, schema.WriteUpdate, c.QBOType, c.Prior.QBOID, rid, fp)
}

// updated records what QBO answered to c's update (sent alone or in a
// batch). A stale token (5010: a person edited the document, or a payment
// changed the invoice) is refreshed by a GET and the update retried once,
// alone; a document that is gone (610) is recorded deleted_in_qbo and
// reported, never re-created.
func (a *applier) updated(ctx context.Context, c *Change, rid string, doc DocRef, err error) {
	fp, typ, id := c.Desired.Fingerprint, c.QBOType, c.Prior.QBOID
	if qbo.IsStaleObject(err) || qbo.IsNotFound(err) {
		cur, gerr := a.r.QBO.Get(ctx, typ, id)
		switch {
		case qbo.IsNotFound(gerr):
			a.deletedInQBO(ctx, c, rid)
			return
		case gerr != nil:
			err = gerr
		case qbo.IsStaleObject(err):
			// QBO refused the write with a stale SyncToken. When an earlier
			// attempt went unanswered, that attempt may itself have applied
			// the update (which is what moved the SyncToken); sending it
			// again on the new token is then a redundant update of the same
			// content, never a second document. Clear the intent and retry
			// under a request id of its own.
			if werr := a.r.Store.ClearIntent(ctx, c.Key, rid); werr != nil {
				a.storeErr(werr)
				return
			}
			rid = a.rid(c, string(ActionUpdate)+":"+cur.SyncToken, fp, c.attempt())
			if !a.intent(ctx, c, schema.WriteUpdate, typ, id, rid, fp) {
				return
			}
			doc, err = a.r.QBO.SparseUpdate(ctx, typ, a.prepare(c, id, cur.SyncToken, true), rid)
			if a.stopped() {
				return
			}
		}
	}
	a.outcome(ctx, c, rid, doc, err)
}

func (a *applier) deletedInQBO(ctx context.Context, c *Change, rid string) {
	why := Reasons{DeletedInQBO(c.OrderNumber)}
	a.finish(ctx, c, written{outcome: schema.DocumentOutcome{Key: c.Key, RequestID: rid,
		State: schema.StateDeletedInQBO, Error: a.r.text(why), ErrorReasons: why.encode(),
		Audit: &schema.AuditEntry{Entity: c.QBOType, Operation: string(c.Action), Outcome: "deleted_in_qbo"}}},
		func() { a.r.explain(c, ActionBlocked, why) })
}

// voidToken is the SyncToken c's void is sent with: the ledger's, or for a
// replaced receipt the one readReceiptTokens read ("" when unknown).
func (c *Change) voidToken() string {
	switch {
	case c.voidReceipt:
		return c.receiptToken
	case c.Prior != nil:
		return c.Prior.SyncToken
	}
	return ""
}

// void voids a document: a cancelled order's, or the SalesReceipt that an
// Invoice replaced (then the row keeps the Invoice and only forgets the
// receipt). A SyncToken not known yet is read first; voided settles what
// QBO answered.
func (a *applier) void(ctx context.Context, c *Change) {
	token := c.voidToken()
	rid, ok := a.voidIntent(ctx, c, "")
	if !ok {
		return
	}
	var doc DocRef
	var err error
	if token == "" {
		doc, err = a.r.QBO.Get(ctx, c.VoidType, c.VoidID)
		token = doc.SyncToken
	}
	if err == nil && !doc.Voided {
		doc, err = a.r.QBO.Void(ctx, c.VoidType, c.VoidID, token, rid)
	}
	if a.stopped() {
		return
	}
	a.voided(ctx, c, rid, doc, err, false)
}

// voidIntent records the intent of c's void at the SyncToken the request
// id names (none for the first attempt); false means do not send.
func (a *applier) voidIntent(ctx context.Context, c *Change, syncToken string) (string, bool) {
	typ, id := c.VoidType, c.VoidID
	action := string(ActionVoid) + ":" + typ + ":" + id
	if syncToken != "" {
		action += ":" + syncToken
	}
	rid := a.rid(c, action, "", c.attempt())
	return rid, a.intent(ctx, c, schema.WriteVoid, typ, id, rid, "")
}

// voided records what QBO answered to c's void (sent alone, or in a batch
// when batched). A stale token is refreshed once and the void retried
// alone; a document found voided already, or gone, is recorded so.
//
// A batched void is recorded only when QBO's answer is a voided document.
// Why: a SalesReceipt, Payment or RefundReceipt voids in a batch as a
// sparse update with optionsData "void", a form no public source shows. A
// QBO that ignored optionsData would answer a live document, and one that
// refused the form would answer a validation fault; either way the void is
// read again and sent alone, in the single request's documented form,
// instead of being recorded as done or failed.
func (a *applier) voided(ctx context.Context, c *Change, rid string, doc DocRef, err error, batched bool) {
	typ, id := c.VoidType, c.VoidID
	retryAlone := qbo.IsStaleObject(err) ||
		batched && (err == nil && !doc.Voided || qbo.IsValidation(err) && !qbo.IsNotFound(err))
	if retryAlone || qbo.IsNotFound(err) {
		cur, gerr := a.r.QBO.Get(ctx, typ, id)
		switch {
		case qbo.IsNotFound(gerr):
			a.voidDone(ctx, c, rid, DocRef{}, true)
			return
		case gerr != nil:
			err = gerr
		case cur.Voided:
			doc, err = cur, nil
		case retryAlone:
			if werr := a.r.Store.ClearIntent(ctx, c.Key, rid); werr != nil {
				a.storeErr(werr)
				return
			}
			var ok bool
			if rid, ok = a.voidIntent(ctx, c, cur.SyncToken); !ok {
				return
			}
			doc, err = a.r.QBO.Void(ctx, typ, id, cur.SyncToken, rid)
			if a.stopped() {
				return
			}
		}
	}
	if err != nil {
		a.failure(ctx, c, rid, err)
		return
	}
	a.voidDone(ctx, c, rid, doc, false)
}

func (a *applier) voidDone(ctx context.Context, c *Change, rid string, doc DocRef, gone bool) {
	o := schema.DocumentOutcome{Key: c.Key, RequestID: rid, State: schema.StateVoided, SyncToken: doc.SyncToken, RequestAttempt: new(0),
		Audit: &schema.AuditEntry{Entity: c.VoidType, Operation: string(ActionVoid), QBOID: c.VoidID, Outcome: "ok", IntuitTID: doc.IntuitTID}}
	if gone {
		o.State, o.Audit.Outcome = schema.StateDeletedInQBO, "deleted_in_qbo"
	}
	if c.voidReceipt {
		// The row keeps its Invoice; it only forgets the receipt.
		o.State, o.SyncToken, o.VoidReceiptID = schema.StateSent, "", new("")
	}
	a.finish(ctx, c, written{outcome: o}, func() {
		if gone {
			c.Reason = "already deleted in QBO"
		}
		c.done, c.tid = true, doc.IntuitTID
	})
}

// prepare copies the desired entity for sending: PrivateNote gets the
// digest of the payload's fingerprint and the ledger marker (lookup.go
// reads both back when the ledger has lost the document), an update gets Id/SyncToken/sparse, a payment the Id of
// the invoice it pays.
func (a *applier) prepare(c *Change, id, syncToken string, sparse bool) any {
	m := marker(c.Key.Kind, c.Key.SourceID, c.generation())
	note := func(base *string) *string {
		b := ""
		if base != nil {
			b = strings.TrimSpace(*base)
		}
		if b == "" {
			b = "Velocity order " + c.OrderNumber
		}
		s := b + " [" + fpTag(c.Desired.Fingerprint) + "] [" + m + "]"
		return &s
	}
	switch e := c.Desired.Entity.(type) {
	case *qbo.SalesReceipt:
		v := *e
		v.Id, v.SyncToken, v.Sparse, v.PrivateNote = id, syncToken, sparse, note(e.PrivateNote)
		return &v
	case *qbo.Invoice:
		v := *e
		v.Id, v.SyncToken, v.Sparse, v.PrivateNote = id, syncToken, sparse, note(e.PrivateNote)
		return &v
	case *qbo.RefundReceipt:
		v := *e
		v.Id, v.SyncToken, v.Sparse, v.PrivateNote = id, syncToken, sparse, note(e.PrivateNote)
		return &v
	case *qbo.Payment:
		v := *e
		v.Id, v.SyncToken, v.Sparse, v.PrivateNote = id, syncToken, sparse, note(e.PrivateNote)
		v.Line = slices.Clone(e.Line)
		linked := false
		for i := range v.Line {
			v.Line[i].LinkedTxn = slices.Clone(v.Line[i].LinkedTxn)
			for j := range v.Line[i].LinkedTxn {
				if lt := &v.Line[i].LinkedTxn[j]; lt.TxnType == TypeInvoice {
					lt.TxnId, linked = c.invoiceID, true
				}
			}
		}
		if !linked && c.invoiceID != "" {
			v.Line = append(v.Line, qbo.Line{Amount: e.TotalAmt,
				LinkedTxn: []qbo.LinkedTxn{{TxnId: c.invoiceID, TxnType: TypeInvoice}}})
		}
		return &v
	}
	return c.Desired.Entity
}

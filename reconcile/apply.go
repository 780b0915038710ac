package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/sirupsen/logrus"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/schema"
)

// applier executes a plan's changes. Its methods are called from several
// workers; the summary and the stop state are guarded by mu.
type applier struct {
	r        *Reconciler
	runID    string
	sum      *Summary
	progress func(done, total int)
	log      logrus.FieldLogger
	halt     <-chan struct{} // Options.Stop

	mu          sync.Mutex
	fatal       error
	done, total int
}

// stop records the first fatal error; workers stop at their next step.
func (a *applier) stop(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fatal == nil {
		a.fatal = err
	}
}

func (a *applier) stopped() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.fatal != nil
}

func (a *applier) err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.fatal
}

// halted reports whether Options.Stop fired: no new write may start.
func (a *applier) halted() bool {
	select {
	case <-a.halt:
		return true
	default:
		return false
	}
}

// mayStart reports whether a new write may start: the run is neither
// stopped by a fatal error nor asked to stop.
func (a *applier) mayStart() bool { return !a.stopped() && !a.halted() }

// phaseEnd is what a phase returns: the fatal error that stopped the run,
// else ErrInterrupted when Options.Stop fired, else nil.
func (a *applier) phaseEnd() error {
	if err := a.err(); err != nil {
		return err
	}
	if a.halted() {
		return ErrInterrupted
	}
	return nil
}

func (a *applier) report(it Item, sent bool) {
	if sent {
		a.logChange(it)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sum.add(it)
	if sent {
		a.done++
		if a.progress != nil {
			a.progress(a.done, a.total)
		}
	}
}

// logChange writes the one log line of an applied (or refused) change,
// with the stable field names operators grep for.
func (a *applier) logChange(it Item) {
	l := a.log.WithFields(logrus.Fields{"kind": it.Kind, "source_id": it.SourceID, "order_number": it.OrderNumber,
		"action": it.Action, "qbo_type": it.QBOType, "qbo_id": it.QBOID, "doc_number": it.DocNumber})
	if it.tid != "" {
		l = l.WithField("intuit_tid", it.tid)
	}
	switch it.Action {
	case ActionFailed, ActionBlocked:
		l.WithField("reason", it.Reason).Warn("not sent")
	default:
		l.Info("applied")
	}
}

// storeErr stops the run on a ledger failure: without the ledger nothing
// can be sent safely.
func (a *applier) storeErr(err error) {
	if err != nil {
		a.stop(fmt.Errorf("ledger: %w", err))
	}
}

// definitive reports a fault after which nothing was written: QBO judged
// the request invalid (or the client refused to send it). Anything else —
// a network error, 5xx or throttling after the client's retries, a
// cancelled context, an unreadable answer — leaves the outcome unknown.
func definitive(err error) bool {
	var ve *qbo.ValidationError
	if errors.As(err, &ve) {
		return true
	}
	var qe *qbo.Error
	return errors.As(err, &qe) && !qbo.Retryable(err) && !qbo.IsAuth(err)
}

// apply runs the phases: C order documents (creates batched and single,
// updates, voids), D voids of SalesReceipts replaced by Invoices, E
// payments then refunds. It returns the fatal error that stopped it.
func (a *applier) apply(ctx context.Context, res *scan) error {
	var docs, receiptVoids, payments, refunds []*Change
	for _, c := range res.changes {
		switch {
		case c.Action == ActionBlocked:
			if c.Key.SourceID != "" && !c.deleted() {
				a.storeErr(a.r.Store.RecordBlocked(ctx, schema.Problem{Key: c.Key, RunID: a.runID, Reason: c.Reason,
					OrderNumber: c.OrderNumber, QBOType: c.QBOType, DocNumber: c.DocNumber}))
			}
			a.report(c.item(), false)
		case c.Action == ActionFailed:
			a.report(c.item(), false)
		case c.Action == ActionNoop:
			a.noop(ctx, c)
		case c.pending:
			c.Action, c.Reason = ActionFailed, reasonUnknownOutcome
			a.report(c.item(), false)
		case c.voidReceipt:
			receiptVoids = append(receiptVoids, c)
		case c.Key.Kind == KindPayment:
			payments = append(payments, c)
		case c.Key.Kind == KindRefund:
			refunds = append(refunds, c)
		default:
			docs = append(docs, c)
		}
		if a.stopped() {
			return a.err()
		}
	}
	a.mu.Lock()
	a.sum.Counts.Unchanged += res.unchanged
	a.total = len(docs) + len(receiptVoids) + len(payments) + len(refunds)
	for _, c := range docs {
		if c.replaces != "" {
			a.total++
		}
	}
	a.mu.Unlock()

	a.pool(ctx, docs)
	if err := a.phaseEnd(); err != nil {
		return err
	}
	var voids []*Change
	for _, c := range receiptVoids {
		// A receipt left to void by an earlier run waits until this run's
		// write of its Invoice, if any, went through.
		if p := c.parent; p != nil && !p.done && p.Action != ActionNoop {
			c.Action, c.Reason = ActionFailed, "not sent: the invoice of order "+c.OrderNumber+" was not updated"
			a.report(c.item(), true)
			continue
		}
		voids = append(voids, c)
	}
	for _, c := range docs {
		if c.replaces != "" && c.done {
			prior := schema.Document{Kind: KindOrder, SourceID: c.Key.SourceID, Generation: c.generation()}
			voids = append(voids, receiptVoidChange(c.OrderID, c.OrderNumber, &prior, c.replaces))
		}
	}
	a.pool(ctx, voids)
	for _, group := range [][]*Change{payments, refunds} {
		if err := a.phaseEnd(); err != nil {
			return err
		}
		var ready []*Change
		for _, c := range group {
			p := c.parent
			switch {
			case p == nil || p.done:
				if p != nil {
					c.invoiceID = p.resultID
				}
			case p.Action == ActionNoop && !p.pending:
				c.invoiceID = p.QBOID
			default:
				c.Action, c.Reason = ActionFailed, "not sent: the document of order "+c.OrderNumber+" is not in QBO yet"
				a.report(c.item(), true)
				continue
			}
			ready = append(ready, c)
		}
		a.pool(ctx, ready)
	}
	return a.phaseEnd()
}

func (c *Change) deleted() bool {
	return c.Prior != nil && c.Prior.State == schema.StateDeletedInQBO
}

// noop records what an unchanged item needs: a blocked or failed row whose
// document turns out right is sent again, and a payment on a SalesReceipt
// is remembered as not applicable so it is listed once.
func (a *applier) noop(ctx context.Context, c *Change) {
	switch {
	case c.restoreState:
		a.storeErr(a.r.Store.SetState(ctx, c.Key, schema.StateSent))
	case c.notApplicable:
		rid := ""
		if c.Prior != nil {
			rid = c.Prior.PendingRequestID
		}
		a.storeErr(a.r.Store.RecordOutcome(ctx, schema.DocumentOutcome{Key: c.Key, RequestID: rid,
			State: schema.StateSent, OrderNumber: c.OrderNumber, Fingerprint: "n/a",
			NotApplicable: new(true)}))
	}
	a.report(c.item(), false)
}

// queue is one phase's work: creates (batchable) and single writes.
type queue struct {
	mu      sync.Mutex
	creates []*Change
	singles []*Change
}

// popCreates takes up to n creates.
func (q *queue) popCreates(n int) []*Change {
	q.mu.Lock()
	defer q.mu.Unlock()
	n = min(n, len(q.creates))
	out := slices.Clone(q.creates[:n])
	q.creates = q.creates[n:]
	return out
}

func (q *queue) pop(n int, preferCreates bool) []*Change {
	q.mu.Lock()
	defer q.mu.Unlock()
	take := func(s *[]*Change, n int) []*Change {
		n = min(n, len(*s))
		out := slices.Clone((*s)[:n])
		*s = (*s)[n:]
		return out
	}
	if preferCreates && len(q.creates) > 0 {
		return take(&q.creates, n)
	}
	if len(q.singles) > 0 {
		return take(&q.singles, 1)
	}
	return take(&q.creates, 1)
}

// batchPacer is implemented by a QBO whose pacing can say how many batch
// requests it would send now without waiting (QBOClient does).
type batchPacer interface {
	BatchCapacity(max int) int
}

// pool drains one queue with Concurrency workers: batch workers take up to
// qbo.MaxBatchItems creates per batch request, single workers take one
// write at a time (updates and voids always go alone). The qbo client's
// pacer keeps the whole within QBO's limits.
//
// Both of QBO's budgets are used at once: 40 batch requests a minute and
// the rest of the 500 requests as single writes. When the QBO client can
// tell (batchPacer), a batch worker gathers a batch only while the batch
// window has room for it, and otherwise works as a single worker. Without
// that, batch workers would pop 30 creates each and sit out the rest of the
// minute holding them, while single workers ran dry: a catch-up then ran
// at half of what QBO allows.
func (a *applier) pool(ctx context.Context, changes []*Change) {
	if len(changes) == 0 || !a.mayStart() {
		return
	}
	q := &queue{}
	for _, c := range changes {
		if c.Action == ActionCreate {
			q.creates = append(q.creates, c)
		} else {
			q.singles = append(q.singles, c)
		}
	}
	n := a.r.concurrency()
	batchWorkers := 0
	if len(q.creates) > 1 {
		batchWorkers = max(1, n/2)
	}
	pacer, _ := a.r.QBO.(batchPacer)
	var gate sync.Mutex
	gathered := 0 // batches popped but not yet answered (guarded by gate)
	takeBatch := func() []*Change {
		if pacer == nil {
			return q.popCreates(qbo.MaxBatchItems)
		}
		gate.Lock()
		defer gate.Unlock()
		if pacer.BatchCapacity(gathered+1) <= gathered {
			return nil
		}
		cs := q.popCreates(qbo.MaxBatchItems)
		if len(cs) > 0 {
			gathered++
		}
		return cs
	}
	var wg sync.WaitGroup
	for i := range n {
		batch := i < batchWorkers
		wg.Go(func() {
			// A worker takes no new write once the run is stopped or asked
			// to stop; the write it holds finishes and is recorded.
			for a.mayStart() {
				if batch {
					if cs := takeBatch(); len(cs) > 0 {
						if len(cs) > 1 {
							a.createBatch(ctx, cs)
						} else {
							a.one(ctx, cs[0])
						}
						if pacer != nil {
							gate.Lock()
							gathered--
							gate.Unlock()
						}
						continue
					}
				}
				cs := q.pop(1, false)
				if len(cs) == 0 {
					return
				}
				a.one(ctx, cs[0])
			}
		})
	}
	wg.Wait()
}

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
func (a *applier) intent(ctx context.Context, c *Change, action, typ, id, rid, fp string) bool {
	if a.stopped() {
		return false
	}
	in := schema.Intent{Key: c.Key, Action: schema.WriteAction(action), TargetType: typ, TargetID: id, RequestID: rid,
		Fingerprint: fp, OrderNumber: c.OrderNumber, DocNumber: c.DocNumber}
	if c.replaces == "" && !c.voidReceipt {
		in.QBOType = typ
	}
	if action == ActionVoid {
		in.DocNumber = ""
		if c.voidReceipt {
			in.Action = schema.WriteVoidReplaced
		}
	}
	if err := a.r.Store.RecordIntent(ctx, in); err != nil {
		if errors.Is(err, schema.ErrConflict) {
			c.Action, c.Reason = ActionFailed, reasonUnknownOutcome
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
	rid := a.rid(c, ActionCreate, fp, c.attempt())
	if !a.intent(ctx, c, ActionCreate, c.QBOType, "", rid, fp) {
		return
	}
	doc, err := a.r.QBO.Create(ctx, c.QBOType, a.prepare(c, "", "", false), rid)
	if a.stopped() {
		return
	}
	a.outcome(ctx, c, rid, doc, err)
}

// createBatch sends up to 30 creates in one batch request. The batch's
// request id derives from its items' ids; when its answer is lost every
// item keeps its intent and is looked up on the next run.
func (a *applier) createBatch(ctx context.Context, cs []*Change) {
	if !a.mayStart() {
		return
	}
	var sent []*Change
	var rids []string
	var ents []any
	for _, c := range cs {
		fp := c.Desired.Fingerprint
		rid := a.rid(c, ActionCreate, fp, c.attempt())
		if !a.intent(ctx, c, ActionCreate, c.QBOType, "", rid, fp) {
			if a.stopped() {
				return
			}
			continue
		}
		sent, rids, ents = append(sent, c), append(rids, rid), append(ents, a.prepare(c, "", "", false))
	}
	if len(sent) == 0 {
		return
	}
	outs, err := a.r.QBO.CreateBatch(ctx, ents, batchRequestID(rids))
	for i, c := range sent {
		if a.stopped() {
			return
		}
		if err != nil {
			a.outcome(ctx, c, rids[i], DocRef{}, err)
			continue
		}
		a.outcome(ctx, c, rids[i], outs[i].Doc, outs[i].Err)
	}
}

// outcome records what QBO answered to a create or update.
func (a *applier) outcome(ctx context.Context, c *Change, rid string, doc DocRef, err error) {
	if err == nil {
		dn := doc.DocNumber
		if dn == "" {
			dn = c.DocNumber
		}
		// A success resets the attempt: the next change of the payload
		// starts a fresh request id series.
		o := schema.DocumentOutcome{Key: c.Key, RequestID: rid, State: schema.StateSent,
			OrderNumber: c.OrderNumber, QBOType: c.QBOType, QBOID: doc.ID, SyncToken: doc.SyncToken, DocNumber: dn,
			Fingerprint: c.Desired.Fingerprint, RequestAttempt: new(0), NotApplicable: new(false),
			Audit: &schema.AuditEntry{RunID: a.runID, Entity: c.QBOType, Operation: c.Action, Outcome: "ok", IntuitTID: doc.IntuitTID}}
		if !c.sourceUpdated.IsZero() {
			o.SourceUpdatedAt = new(c.sourceUpdated)
		}
		if c.replaces != "" {
			o.VoidReceiptID = new(c.replaces)
		}
		werr := a.r.Store.RecordOutcome(ctx, recordSent(o, doc))
		if werr != nil {
			a.storeErr(werr)
			return
		}
		if !c.Desired.Total.IsZero() && !doc.TotalAmt.IsZero() && !doc.TotalAmt.Equal(c.Desired.Total) {
			a.log.WithFields(logrus.Fields{"order": c.OrderNumber, "qbo_id": doc.ID, "qbo_total": doc.TotalAmt.String(),
				"want": c.Desired.Total.String()}).Warn("QBO total differs from the order's")
		}
		c.done, c.resultID, c.QBOID, c.tid = true, doc.ID, doc.ID, doc.IntuitTID
		a.report(c.item(), true)
		return
	}
	a.failure(ctx, c, rid, err)
}

// failure records a failed write: a definitive fault clears the intent and
// bumps the attempt (so a corrected retry gets a new request id); an unknown
// outcome keeps the intent for the next run's lookup.
func (a *applier) failure(ctx context.Context, c *Change, rid string, err error) {
	if qbo.IsAuth(err) {
		a.stop(fmt.Errorf("%w: %w", ErrQBOAuth, err))
		return
	}
	if definitive(err) {
		reason := err.Error()
		werr := a.r.Store.RecordOutcome(ctx, schema.DocumentOutcome{Key: c.Key, RequestID: rid, State: schema.StateFailed,
			OrderNumber: c.OrderNumber, Error: reason, RequestAttempt: new(c.attempt() + 1),
			Audit: &schema.AuditEntry{RunID: a.runID, Entity: c.QBOType, Operation: c.Action, Outcome: "rejected",
				Detail: reason, IntuitTID: intuitTID(err)}})
		if werr != nil {
			a.storeErr(werr)
			return
		}
		c.Action, c.Reason, c.tid = ActionFailed, reason, intuitTID(err)
		a.report(c.item(), true)
		return
	}
	if a.stopped() {
		return
	}
	a.log.WithError(err).WithField("item", c.Key.String()).Warn("write outcome unknown")
	if werr := a.r.Store.RecordFailed(ctx, schema.Problem{Key: c.Key, RunID: a.runID,
		Reason: reasonUnknownOutcome + ": " + err.Error(), OrderNumber: c.OrderNumber}); werr != nil {
		a.storeErr(werr)
		return
	}
	c.Action, c.Reason = ActionFailed, reasonUnknownOutcome
	a.report(c.item(), true)
}

// update sends a sparse update with the ledger's SyncToken. A stale token
// (5010: a person edited the document, or a payment changed the invoice)
// is refreshed by a GET and the update retried once; a document that is
// gone (610) is recorded deleted_in_qbo and reported, never re-created.
func (a *applier) update(ctx context.Context, c *Change) {
	fp, typ, id := c.Desired.Fingerprint, c.QBOType, c.Prior.QBOID
	rid := a.rid(c, ActionUpdate, fp, c.attempt())
	if !a.intent(ctx, c, ActionUpdate, typ, id, rid, fp) {
		return
	}
	doc, err := a.r.QBO.SparseUpdate(ctx, typ, a.prepare(c, id, c.Prior.SyncToken, true), rid)
	if a.stopped() {
		return
	}
	if qbo.IsStaleObject(err) || qbo.IsNotFound(err) {
		cur, gerr := a.r.QBO.Get(ctx, typ, id)
		switch {
		case qbo.IsNotFound(gerr):
			a.deletedInQBO(ctx, c, rid)
			return
		case gerr != nil:
			err = gerr
		case qbo.IsStaleObject(err):
			// The first write definitely did not happen: clear its intent
			// and retry under a request id of its own.
			if werr := a.r.Store.ClearIntent(ctx, c.Key, rid); werr != nil {
				a.storeErr(werr)
				return
			}
			rid = a.rid(c, ActionUpdate+":"+cur.SyncToken, fp, c.attempt())
			if !a.intent(ctx, c, ActionUpdate, typ, id, rid, fp) {
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
	reason := deletedReason(c.OrderNumber)
	if err := a.r.Store.RecordOutcome(ctx, schema.DocumentOutcome{Key: c.Key, RequestID: rid,
		State: schema.StateDeletedInQBO, Error: reason,
		Audit: &schema.AuditEntry{RunID: a.runID, Entity: c.QBOType, Operation: c.Action, Outcome: "deleted_in_qbo"}}); err != nil {
		a.storeErr(err)
		return
	}
	c.Action, c.Reason = ActionBlocked, reason
	a.report(c.item(), true)
}

// void voids a document: a cancelled order's, or the SalesReceipt that an
// Invoice replaced (then the row keeps the Invoice and only forgets the
// receipt). The SyncToken is read first for a replaced receipt (the ledger
// holds the Invoice's); a stale token is refreshed once.
func (a *applier) void(ctx context.Context, c *Change) {
	typ, id := c.VoidType, c.VoidID
	token := ""
	if c.Prior != nil && !c.voidReceipt {
		token = c.Prior.SyncToken
	}
	rid := a.rid(c, ActionVoid+":"+typ+":"+id, "", c.attempt())
	if !a.intent(ctx, c, ActionVoid, typ, id, rid, "") {
		return
	}
	var doc DocRef
	var err error
	if token == "" {
		doc, err = a.r.QBO.Get(ctx, typ, id)
		token = doc.SyncToken
	}
	if err == nil && !doc.Voided {
		doc, err = a.r.QBO.Void(ctx, typ, id, token, rid)
	}
	if a.stopped() {
		return
	}
	if qbo.IsStaleObject(err) || qbo.IsNotFound(err) {
		cur, gerr := a.r.QBO.Get(ctx, typ, id)
		switch {
		case qbo.IsNotFound(gerr):
			a.voidDone(ctx, c, rid, DocRef{}, true)
			return
		case gerr != nil:
			err = gerr
		case cur.Voided:
			doc, err = cur, nil
		case qbo.IsStaleObject(err):
			if werr := a.r.Store.ClearIntent(ctx, c.Key, rid); werr != nil {
				a.storeErr(werr)
				return
			}
			rid = a.rid(c, ActionVoid+":"+typ+":"+id+":"+cur.SyncToken, "", c.attempt())
			if !a.intent(ctx, c, ActionVoid, typ, id, rid, "") {
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
		Audit: &schema.AuditEntry{RunID: a.runID, Entity: c.VoidType, Operation: ActionVoid, QBOID: c.VoidID, Outcome: "ok", IntuitTID: doc.IntuitTID}}
	if gone {
		o.State, o.Audit.Outcome = schema.StateDeletedInQBO, "deleted_in_qbo"
		c.Reason = "already deleted in QBO"
	}
	if c.voidReceipt {
		// The row keeps its Invoice; it only forgets the receipt.
		o.State, o.SyncToken, o.VoidReceiptID = schema.StateSent, "", new("")
	}
	if err := a.r.Store.RecordOutcome(ctx, o); err != nil {
		a.storeErr(err)
		return
	}
	c.done, c.tid = true, doc.IntuitTID
	a.report(c.item(), true)
}

// prepare copies the desired entity for sending: PrivateNote gets the
// ledger marker, an update gets Id/SyncToken/sparse, a payment the Id of
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
		s := b + " [" + m + "]"
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

// lookupChunk is how many DocNumbers one lookup query names.
const lookupChunk = 30

// resolvePending is phase A: every row whose last write has no recorded
// outcome is resolved before anything is sent.
//
//   - create: QBO is searched (`DocNumber IN (...)`, batched; payments,
//     which have no DocNumber, by `CustomerRef = <the invoice's customer>`)
//     for a document carrying the row's PrivateNote marker. Found: its Id
//     and SyncToken are adopted, nothing is created again. Not found: the
//     intent is cleared and the scan creates it with the same request id.
//   - update: the intent is cleared; the scan re-sends the update with the
//     same request id, which QBO answers from its replay store if the
//     first one arrived (a 610 on the way marks the row deleted_in_qbo).
//   - void: the document is read; voided (or gone) is recorded as such,
//     else the intent is cleared and the void is sent again.
//
// A lookup that fails leaves the intent; the item is reported failed and
// looked up again next run. QBO refusing the connection stops the run.
func (a *applier) resolvePending(ctx context.Context) error {
	rows, err := a.r.Store.PendingIntents(ctx)
	if err != nil {
		return err
	}
	creates := map[string][]schema.Document{} // by QBO type
	for _, d := range rows {
		// An intent recorded without its target acts on the row's own
		// document.
		typ := cmp.Or(d.PendingQBOType, d.QBOType)
		switch d.PendingAction {
		case schema.WriteCreate:
			creates[typ] = append(creates[typ], d)
		case schema.WriteVoid, schema.WriteVoidReplaced:
			a.resolveVoid(ctx, d, typ, cmp.Or(d.PendingQBOID, d.QBOID), d.PendingAction == schema.WriteVoidReplaced)
		default:
			a.storeErr(a.r.Store.ClearIntent(ctx, d.Key(), d.PendingRequestID))
		}
		if a.stopped() {
			return a.err()
		}
	}
	for typ, ds := range creates {
		if typ == TypePayment {
			a.resolvePayments(ctx, ds)
		} else {
			a.resolveCreates(ctx, typ, ds)
		}
		if a.stopped() {
			return a.err()
		}
	}
	return a.err()
}

func (a *applier) lookupFailed(d schema.Document, err error) {
	if qbo.IsAuth(err) {
		a.stop(fmt.Errorf("%w: %w", ErrQBOAuth, err))
		return
	}
	a.log.WithError(err).WithField("item", d.Key().String()).Warn("look up unknown outcome")
}

// adopt records a document found by lookup as the outcome of the pending
// create. When the row held a SalesReceipt and an Invoice was found, the
// receipt is remembered for voiding.
func (a *applier) adopt(ctx context.Context, d schema.Document, typ string, doc DocRef) {
	o := schema.DocumentOutcome{Key: d.Key(), RequestID: d.PendingRequestID,
		State: schema.StateSent, QBOType: typ, QBOID: doc.ID, SyncToken: doc.SyncToken, DocNumber: doc.DocNumber,
		RequestAttempt: new(0), Audit: &schema.AuditEntry{RunID: a.runID, Entity: typ, Operation: ActionCreate,
			Outcome: "found_by_lookup"}}
	if d.QBOID != "" && d.QBOType != "" && d.QBOType != typ {
		o.VoidReceiptID = new(d.QBOID)
	}
	a.log.WithFields(logrus.Fields{"item": d.Key().String(), "qbo_type": typ, "qbo_id": doc.ID}).
		Info("found the document of an unknown outcome; adopted")
	a.storeErr(a.r.Store.RecordOutcome(ctx, recordSent(o, doc)))
}

func (a *applier) resolveCreates(ctx context.Context, typ string, ds []schema.Document) {
	for start := 0; start < len(ds); start += lookupChunk {
		chunk := ds[start:min(start+lookupChunk, len(ds))]
		var nums []string
		for _, d := range chunk {
			if d.DocNumber != "" && !slices.Contains(nums, d.DocNumber) {
				nums = append(nums, d.DocNumber)
			}
		}
		found, err := a.r.QBO.FindByDocNumber(ctx, typ, nums)
		if err != nil {
			a.lookupFailed(chunk[0], err)
			continue
		}
		for _, d := range chunk {
			a.settle(ctx, d, typ, found)
		}
	}
}

// settle adopts the document carrying d's marker, or clears d's intent.
func (a *applier) settle(ctx context.Context, d schema.Document, typ string, found []DocRef) {
	m := marker(d.Kind, d.SourceID, d.Generation)
	for _, doc := range found {
		if hasMarker(doc.PrivateNote, m) {
			a.adopt(ctx, d, typ, doc)
			return
		}
	}
	a.storeErr(a.r.Store.ClearIntent(ctx, d.Key(), d.PendingRequestID))
}

// resolvePayments looks pending payment creates up by the customer of the
// invoice they pay (QBO cannot query a Payment by DocNumber).
func (a *applier) resolvePayments(ctx context.Context, ds []schema.Document) {
	byCustomer := map[string][]DocRef{}
	for _, d := range ds {
		rows, err := a.r.Store.DocumentsByOrderNumber(ctx, d.OrderNumber)
		if err != nil {
			a.storeErr(err)
			return
		}
		invoiceID := ""
		for _, r := range rows {
			if r.Kind == KindOrder && r.QBOType == TypeInvoice {
				invoiceID = r.QBOID
			}
		}
		if invoiceID == "" {
			// No invoice, so no payment could have been linked to one.
			a.storeErr(a.r.Store.ClearIntent(ctx, d.Key(), d.PendingRequestID))
			continue
		}
		inv, err := a.r.QBO.Get(ctx, TypeInvoice, invoiceID)
		if err != nil {
			a.lookupFailed(d, err)
			continue
		}
		pays, ok := byCustomer[inv.CustomerID]
		if !ok {
			if pays, err = a.r.QBO.FindPayments(ctx, inv.CustomerID); err != nil {
				a.lookupFailed(d, err)
				continue
			}
			byCustomer[inv.CustomerID] = pays
		}
		a.settle(ctx, d, TypePayment, pays)
	}
}

// resolveVoid settles a pending void of typ/id; receipt is the void of a
// SalesReceipt replaced by an Invoice (the row keeps the Invoice).
func (a *applier) resolveVoid(ctx context.Context, d schema.Document, typ, id string, receipt bool) {
	doc, err := a.r.QBO.Get(ctx, typ, id)
	gone := qbo.IsNotFound(err)
	if err != nil && !gone {
		a.lookupFailed(d, err)
		return
	}
	if !gone && !doc.Voided {
		a.storeErr(a.r.Store.ClearIntent(ctx, d.Key(), d.PendingRequestID))
		return
	}
	o := schema.DocumentOutcome{Key: d.Key(), RequestID: d.PendingRequestID, State: schema.StateVoided,
		SyncToken: doc.SyncToken, Audit: &schema.AuditEntry{RunID: a.runID, Entity: typ, Operation: ActionVoid,
			QBOID: id, Outcome: "found_by_lookup"}}
	if gone {
		o.State = schema.StateDeletedInQBO
	}
	if receipt {
		o.State, o.SyncToken, o.VoidReceiptID = schema.StateSent, "", new("")
	}
	a.storeErr(a.r.Store.RecordOutcome(ctx, o))
}

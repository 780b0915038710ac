package reconcile

import (
	"context"
	"fmt"
	"slices"
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
	// dry: Plan's look before create, which records nothing.
	dry bool

	mu          sync.Mutex
	fatal       error
	done, total int
	// waiting holds the reason of each create left pending by
	// resolvePending because it may still reach QBO.
	waiting map[schema.DocumentKey]string
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

// logChange writes the one log line of an applied (at debug) or refused
// (at warn) change, with the stable field names operators grep for.
func (a *applier) logChange(it Item) {
	l := a.log.WithFields(logrus.Fields{"kind": string(it.Kind), "source_id": it.SourceID, "order_number": it.OrderNumber,
		"action": string(it.Action), "qbo_type": it.QBOType, "qbo_id": it.QBOID, "doc_number": it.DocNumber})
	if it.tid != "" {
		l = l.WithField("intuit_tid", it.tid)
	}
	switch it.Action {
	case ActionFailed, ActionBlocked:
		l.WithField("reason", it.Reason).Warn("not sent")
	default:
		// Per document at debug: a catch-up sends thousands, and the
		// batches' lines (info) and the run's summary say enough.
		l.Debug("applied")
	}
}

// storeErr stops the run on a ledger failure: without the ledger nothing
// can be sent safely.
func (a *applier) storeErr(err error) {
	if err != nil {
		a.stop(fmt.Errorf("ledger: %w", err))
	}
}

// definitive reports a failure after which nothing was written, so the
// write needs no look-up: QBO refused every attempt before processing it
// (a validation fault, or throttling and 503 until the client's retries
// ran out) or the client refused to send it. Anything some attempt of
// which may have reached QBO without an answer — a timeout, a lost
// connection, an answer cut short, a 500 or 504, a cancelled context —
// leaves the outcome unknown (qbo.MayHaveWritten). Why it matters: an
// unknown write keeps its intent and is looked up before it is sent
// again, a refused one is simply sent again on the next run.
func definitive(err error) bool {
	return !qbo.IsAuth(err) && !qbo.MayHaveWritten(err)
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
				a.storeErr(a.r.Store.RecordBlocked(ctx, schema.Problem{Key: c.Key, RunID: a.runID, Reason: c.Reason, Reasons: c.Why.encode(),
					OrderNumber: c.OrderNumber, QBOType: c.QBOType, DocNumber: c.DocNumber}))
			}
			a.report(c.item(), false)
		case c.Action == ActionFailed:
			if c.pending {
				a.waitingFail(c)
			}
			a.report(c.item(), false)
		case c.Action == ActionNoop:
			a.noop(ctx, c)
		case c.pending:
			if !a.waitingFail(c) {
				c.fail(CodeOutcomeUnknown, reasonUnknownOutcome)
			}
			a.report(c.item(), false)
		case c.voidReceipt:
			receiptVoids = append(receiptVoids, c)
		case c.Key.Kind == string(KindPayment):
			payments = append(payments, c)
		case c.Key.Kind == string(KindRefund):
			refunds = append(refunds, c)
		default:
			docs = append(docs, c)
		}
		if a.stopped() {
			return a.err()
		}
	}
	// Look before create (lookup.go): a document QBO already holds is
	// adopted, or blocks its object, and is never created a second time.
	a.lookBeforeCreate(ctx, slices.Concat(docs, refunds))
	if a.stopped() {
		return a.err()
	}
	a.mu.Lock()
	a.sum.Counts.Unchanged += res.unchanged
	a.total = len(sendable(docs)) + len(receiptVoids) + len(payments) + len(sendable(refunds))
	for _, c := range docs {
		if c.replaces != "" {
			a.total++
		}
	}
	a.mu.Unlock()

	a.pool(ctx, sendable(docs))
	if err := a.phaseEnd(); err != nil {
		return err
	}
	var voids []*Change
	for _, c := range receiptVoids {
		// A receipt left to void by an earlier run waits until this run's
		// write of its Invoice, if any, went through.
		if p := c.parent; p != nil && !p.done && p.Action != ActionNoop {
			c.fail(CodeWaitsForOrder, "not sent: the invoice of order "+c.OrderNumber+" was not updated")
			a.report(c.item(), true)
			continue
		}
		voids = append(voids, c)
	}
	for _, c := range docs {
		if c.replaces != "" && c.done {
			prior := schema.Document{Kind: string(KindOrder), SourceID: c.Key.SourceID, Generation: c.generation()}
			voids = append(voids, receiptVoidChange(c.OrderID, c.OrderNumber, &prior, c.replaces))
		}
	}
	a.readReceiptTokens(ctx, voids)
	a.pool(ctx, voids)
	for _, group := range [][]*Change{payments, refunds} {
		if err := a.phaseEnd(); err != nil {
			return err
		}
		var ready []*Change
		for _, c := range sendable(group) {
			p := c.parent
			switch {
			case p == nil || p.done:
				if p != nil {
					c.invoiceID = p.resultID
				}
			case p.Action == ActionNoop && !p.pending:
				c.invoiceID = p.QBOID
			default:
				c.fail(CodeWaitsForOrder, "not sent: the document of order "+c.OrderNumber+" is not in QBO yet")
				a.report(c.item(), true)
				continue
			}
			ready = append(ready, c)
		}
		if len(group) > 0 && group[0].Key.Kind == string(KindPayment) {
			a.lookBeforePayments(ctx, ready)
			if err := a.phaseEnd(); err != nil {
				return err
			}
		}
		a.pool(ctx, sendable(ready))
	}
	return a.phaseEnd()
}

// sendable is the changes of cs that still write to QBO (a lookup may have
// adopted or blocked a create).
func sendable(cs []*Change) []*Change {
	var out []*Change
	for _, c := range cs {
		switch c.Action {
		case ActionCreate, ActionUpdate, ActionVoid:
			out = append(out, c)
		}
	}
	return out
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

// idFinder is implemented by a QBO that reads documents by id in one
// request (QBOClient does, as VerifyQBO).
type idFinder interface {
	FindByIDs(ctx context.Context, qs []IDQuery) ([]DocRef, error)
}

// readReceiptTokens reads the SyncTokens of the replaced SalesReceipts that
// voids voids, when there are two or more, in as few requests as verify
// reads documents (idRequests), so that their voids go in batch requests
// (batchable) instead of one read and one void each. A receipt not read
// (absent, already voided, or the read failed) keeps no token and is
// voided alone, reading it first, as before: the read is only a saving,
// never a condition.
func (a *applier) readReceiptTokens(ctx context.Context, voids []*Change) {
	f, ok := a.r.QBO.(idFinder)
	if !ok || !a.mayStart() {
		return
	}
	byID := map[string][]*Change{}
	var ids []string
	for _, c := range voids {
		if c.voidReceipt && c.Action == ActionVoid && c.VoidID != "" {
			if _, seen := byID[c.VoidID]; !seen {
				ids = append(ids, c.VoidID)
			}
			byID[c.VoidID] = append(byID[c.VoidID], c)
		}
	}
	if len(ids) < 2 {
		// One receipt saves nothing: its read and void go alone, two
		// requests either way, and no batch place is spent.
		return
	}
	for qs := range idRequests([]string{TypeSalesReceipt}, map[string][]string{TypeSalesReceipt: ids}) {
		docs, err := f.FindByIDs(ctx, qs)
		if err != nil {
			a.log.WithError(err).Warn("read replaced receipts' SyncTokens; each is read alone before its void")
			return
		}
		for _, d := range docs {
			if d.Type != TypeSalesReceipt || d.Voided {
				continue
			}
			for _, c := range byID[d.ID] {
				c.receiptToken = d.SyncToken
			}
		}
	}
}

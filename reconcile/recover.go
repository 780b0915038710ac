package reconcile

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/schema"
)

// Recovery of pending intents: the writes of an earlier run whose outcome
// was never recorded (write.go) are looked up in QBO and settled before
// this run sends anything.

// lookupChunk is how many DocNumbers one lookup query names.
const lookupChunk = 30

// timeouter is implemented by a QBO that can say how long one of its calls
// may last (QBOClient: the qbo client's Timeout).
type timeouter interface {
	Timeout() time.Duration
}

// writeTimeout is how long after a write began an attempt of it may still
// be on its way to QBO: the QBO client's Timeout, or qbo.DefaultTimeout
// when the QBO cannot say (a test double).
func (r *Reconciler) writeTimeout() time.Duration {
	if t, ok := r.QBO.(timeouter); ok && t.Timeout() > 0 {
		return t.Timeout()
	}
	return qbo.DefaultTimeout
}

// landBy is the time after which the create recorded in d's intent can no
// longer reach QBO, so that a look-up finding nothing proves it absent.
//
// Why: a write in flight when its process died (kill -9, a cut context, a
// restart) is still travelling to QBO, or being processed there, when the
// next run looks for it. Sending it again then, in a batch of another
// composition or with another body, is a second document once the first
// lands. The client's Timeout bounds when the write's last attempt was
// sent (pending_at is recorded just before the first); the margin is for
// QBO still processing a request it received just before the client gave
// up, and for the moments between recording the intent and sending
// (Reconciler.LandMargin). Only
// creates wait: a late update carries a SyncToken that the re-sent one has
// moved on (QBO refuses it, 5010), and a late void voids what is to be
// voided anyway.
//
// The margin does not shrink with the client's timeout: how long QBO may
// go on processing a request it received is QBO's, not ours, so a short
// client timeout must not make a look-up trusted sooner.
func (a *applier) landBy(d schema.Document) time.Time {
	m := a.r.LandMargin
	if m <= 0 {
		m = DefaultLandMargin
	}
	return d.PendingAt.Add(a.r.writeTimeout() + m)
}

// DefaultLandMargin is Reconciler.LandMargin's default.
const DefaultLandMargin = time.Minute

// resolvePending is phase A: every row whose last write has no recorded
// outcome is resolved before anything is sent.
//
//   - create: QBO is searched (`DocNumber IN (...)`, batched; payments,
//     which have no DocNumber, by `CustomerRef = <the invoice's customer>`)
//     for a document carrying the row's PrivateNote marker. Found: its Id
//     and SyncToken are adopted, nothing is created again. Not found, and
//     the write can no longer land (landBy): the intent is cleared and the
//     scan creates it with the same request id. Not found, but the write
//     may still land: the intent stays, nothing is sent, and the item is
//     reported waiting (CodeWriteInFlight) until a run after landBy.
//   - update: the document is read. When its PrivateNote carries the
//     digest of the update's fingerprint the update landed (sent alone or
//     in a batch whose answer was lost) and is recorded as sent, with the
//     SyncToken read; nothing is sent again. Otherwise the intent is
//     cleared and the scan re-sends the update with the same request id,
//     which QBO answers from its replay store if the first one arrived
//     alone (a 610 on the way marks the row deleted_in_qbo).
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
		case schema.WriteUpdate:
			a.resolveUpdate(ctx, d, typ, cmp.Or(d.PendingQBOID, d.QBOID))
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
		RequestAttempt: new(0), Audit: &schema.AuditEntry{Entity: typ, Operation: string(ActionCreate), Outcome: "found_by_lookup"}}
	if d.QBOID != "" && d.QBOType != "" && d.QBOType != typ {
		o.VoidReceiptID = new(d.QBOID)
	}
	a.log.WithFields(logrus.Fields{"item": d.Key().String(), "qbo_type": typ, "qbo_id": doc.ID}).
		Info("found the document of an unknown outcome; adopted")
	a.finish(ctx, nil, written{outcome: recordSent(o, doc)}, nil)
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
			a.adoptOrClear(ctx, d, typ, found)
		}
	}
}

// adoptOrClear adopts the document carrying d's marker; else it clears d's
// intent when the write can no longer land, and leaves it waiting when it
// may.
func (a *applier) adoptOrClear(ctx context.Context, d schema.Document, typ string, found []DocRef) {
	m := marker(d.Kind, d.SourceID, d.Generation)
	for _, doc := range found {
		if hasMarker(doc.PrivateNote, m) {
			a.adopt(ctx, d, typ, doc)
			return
		}
	}
	if by := a.landBy(d); a.r.now().Before(by) {
		a.wait(d, by)
		return
	}
	a.storeErr(a.r.Store.ClearIntent(ctx, d.Key(), d.PendingRequestID))
}

// wait leaves d's create pending: it may still reach QBO, so this run
// neither trusts the empty look-up nor sends it again. The change the scan
// makes of d is reported with the reason (apply).
func (a *applier) wait(d schema.Document, by time.Time) {
	loc := a.r.location()
	text := fmt.Sprintf("waiting: a write sent at %s may still reach QBO; looked up again after %s",
		d.PendingAt.In(loc).Format(time.TimeOnly), by.In(loc).Format(time.TimeOnly))
	a.log.WithFields(logrus.Fields{"item": d.Key().String(), "order_number": d.OrderNumber, "request_id": d.PendingRequestID,
		"sent_at": d.PendingAt, "look_up_after": by}).Warn("a create of an earlier run may still reach QBO; not sent again yet")
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.waiting == nil {
		a.waiting = map[schema.DocumentKey]string{}
	}
	a.waiting[d.Key()] = text
}

// waitingFail marks c failed as waiting when this run left its row's
// intent because the write may still land, and reports whether it did.
func (a *applier) waitingFail(c *Change) bool {
	a.mu.Lock()
	text, ok := a.waiting[c.Key]
	a.mu.Unlock()
	if ok {
		c.fail(CodeWriteInFlight, text)
	}
	return ok
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
			if r.Kind == string(KindOrder) && r.QBOType == TypeInvoice {
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
		a.adoptOrClear(ctx, d, TypePayment, pays)
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
		SyncToken: doc.SyncToken, Audit: &schema.AuditEntry{Entity: typ, Operation: string(ActionVoid), QBOID: id,
			Outcome: "found_by_lookup"}}
	if gone {
		o.State = schema.StateDeletedInQBO
	}
	if receipt {
		o.State, o.SyncToken, o.VoidReceiptID = schema.StateSent, "", new("")
	}
	a.finish(ctx, nil, written{outcome: o}, nil)
}

// resolveUpdate settles a pending update of typ/id. Why it reads before
// re-sending: an update sent in a batch went under the batch's request id,
// so re-sending it alone is no replay; had it landed, the re-send would
// meet a moved SyncToken (5010) and be sent a second time on the new one.
// The update's PrivateNote says whether it landed: prepare writes the
// digest of the payload's fingerprint there.
func (a *applier) resolveUpdate(ctx context.Context, d schema.Document, typ, id string) {
	if d.PendingFingerprint == "" || id == "" {
		a.storeErr(a.r.Store.ClearIntent(ctx, d.Key(), d.PendingRequestID))
		return
	}
	doc, err := a.r.QBO.Get(ctx, typ, id)
	switch {
	case qbo.IsNotFound(err):
		// The scan's re-send meets the 610 and records deleted_in_qbo.
		a.storeErr(a.r.Store.ClearIntent(ctx, d.Key(), d.PendingRequestID))
		return
	case err != nil:
		a.lookupFailed(d, err)
		return
	case noteFingerprint(doc.PrivateNote) != noteDigest(d.PendingFingerprint):
		a.storeErr(a.r.Store.ClearIntent(ctx, d.Key(), d.PendingRequestID))
		return
	}
	o := schema.DocumentOutcome{Key: d.Key(), RequestID: d.PendingRequestID, State: schema.StateSent,
		OrderNumber: d.OrderNumber, QBOType: typ, QBOID: doc.ID, SyncToken: doc.SyncToken,
		DocNumber: cmp.Or(doc.DocNumber, d.DocNumber), Fingerprint: d.PendingFingerprint, RequestAttempt: new(0),
		Audit: &schema.AuditEntry{Entity: typ, Operation: string(ActionUpdate), Outcome: "found_by_lookup"}}
	a.log.WithFields(logrus.Fields{"item": d.Key().String(), "qbo_type": typ, "qbo_id": doc.ID}).
		Info("found the update of an unknown outcome applied; recorded")
	a.finish(ctx, nil, written{outcome: recordSent(o, doc)}, nil)
}

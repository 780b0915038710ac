package reconcile

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"sync"
	"time"

	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// Cursor names.
const (
	cursorOrders        = "orders.updated_at"
	cursorHomeCurrency  = "qbo.home_currency"
	cursorMultiCurrency = "qbo.multicurrency"
)

// overlap is subtracted from the incremental cursor: Velocity's updated_at
// is set when a transaction starts, so an order committed just after the
// previous read may carry an earlier timestamp.
const overlap = 15 * time.Minute

const reasonUnknownOutcome = "outcome unknown; looked up next run"

// Change is one unit of work against the ledger: plain data computed by
// the scan, executed by apply.
type Change struct {
	Kind        Kind // item kind: order, shipment, refund, payment
	Key         schema.DocumentKey
	OrderID     string
	OrderNumber string
	Action      Action
	QBOType     string
	QBOID       string
	DocNumber   string
	// Reason is the text of a blocked or failed change (or a note on a
	// noop); Why is its structure when known (Reconciler.explain sets both).
	Reason  string
	Why     Reasons
	Desired *Desired
	Prior   *schema.Document // nil when the ledger has no row

	// VoidType and VoidID name the document a void acts on (the prior
	// document, or the SalesReceipt replaced by an Invoice).
	VoidType, VoidID string
	// voidReceipt marks the void of a replaced SalesReceipt: a second
	// write on the same ledger row, after the Invoice is recorded.
	voidReceipt bool
	// receiptToken is the replaced SalesReceipt's SyncToken, read just
	// before its void (readReceiptTokens); the ledger row holds the
	// Invoice's.
	receiptToken string
	// replaces is the SalesReceipt a create replaces (report as invoice).
	replaces string
	// parent is the order document change of a payment or refund.
	parent *Change
	// pending: the row still has an unresolved intent.
	pending bool
	// tid is the intuit_tid of the write's answer, for the log line.
	tid string
	// sourceUpdated is the updated_at of the order copy this change came
	// from; it guards against an older copy overwriting a newer one.
	sourceUpdated time.Time
	// restoreState: unchanged, but the row says blocked or failed.
	restoreState bool
	// notApplicable: a payment on a SalesReceipt, seen for the first time.
	notApplicable bool
	// unlinkedCustomer: the order document is blocked (among other
	// reasons, maybe) because this Velocity customer has no QBO link.
	unlinkedCustomer string

	// Set by apply.
	done      bool   // the document is in QBO as desired
	resultID  string // the QBO id it got
	invoiceID string // for a payment: the Invoice it pays
	adopted   bool   // the document was found in QBO before creating (lookup.go)
}

func (c *Change) item() Item {
	return Item{Kind: c.Kind, SourceID: c.Key.SourceID, OrderNumber: c.OrderNumber, Action: c.Action,
		QBOType: c.QBOType, QBOID: c.QBOID, DocNumber: c.DocNumber, Reason: c.Reason, Reasons: c.Why, tid: c.tid}
}

func (c *Change) generation() int {
	if c.Prior == nil {
		return 0
	}
	return c.Prior.Generation
}

func (c *Change) attempt() int {
	if c.Prior == nil {
		return 0
	}
	return c.Prior.RequestAttempt
}

// diffDoc compares one desired document with its ledger row. A blocked
// change gets Why; its Reason is rendered by the caller (diffChunk).
func diffDoc(kind Kind, want *Desired, row *schema.Document) *Change {
	c := &Change{Kind: kind, Key: kind.key(want.SourceID), OrderID: want.OrderID,
		OrderNumber: want.OrderNumber, QBOType: want.QBOType, DocNumber: want.DocNumber, Desired: want, Prior: row}
	if row != nil {
		c.QBOID = row.QBOID
		c.pending = row.HasPendingIntent()
	}
	switch {
	case row != nil && row.State == schema.StateSkipped:
		// A person set it aside: nothing is sent, whatever changed. The
		// run lists every skipped row from the ledger (listSkipped).
		c.Action = ActionSkipped
	case len(want.Blocked) > 0:
		c.Action, c.Why = ActionBlocked, want.Blocked
	case row != nil && row.State == schema.StateDeletedInQBO:
		c.Action, c.Why = ActionBlocked, Reasons{DeletedInQBO(want.OrderNumber)}
	case row == nil || row.QBOID == "":
		c.Action = ActionCreate
	case kind == KindOrder && row.QBOType != "" && row.QBOType != want.QBOType:
		// Report as invoice after a SalesReceipt was recorded: create the
		// Invoice, then void the receipt (apply phase D).
		c.Action, c.QBOID, c.replaces = ActionCreate, "", row.QBOID
	case row.State == schema.StateVoided:
		c.Action = ActionNoop
	case sameFingerprint(row.Fingerprint, want.Fingerprint):
		c.Action = ActionNoop
		// A retried row (pending, with its document) whose document turns
		// out right is sent too.
		c.restoreState = row.State == schema.StateBlocked || row.State == schema.StateFailed || row.State == schema.StatePending
	default:
		c.Action = ActionUpdate
		if kind == KindOrder {
			oldBody, oldTrack := SplitFingerprint(row.Fingerprint)
			newBody, newTrack := SplitFingerprint(want.Fingerprint)
			if oldBody == newBody && oldTrack != newTrack {
				c.Kind = KindShipment
			}
		}
	}
	if c.pending && (c.Action == ActionNoop) {
		// An intent is unresolved although the ledger matches: the write
		// must still be looked up before anything else happens.
		c.fail(CodeOutcomeUnknown, reasonUnknownOutcome)
	}
	return c
}

// voidChange voids the document recorded on row (a cancelled order).
func voidChange(o *velocity.Order, row *schema.Document) *Change {
	return &Change{Kind: Kind(row.Kind), Key: row.Key(), OrderID: o.ID, OrderNumber: o.Number, Action: ActionVoid,
		QBOType: row.QBOType, QBOID: row.QBOID, DocNumber: row.DocNumber, Prior: row,
		VoidType: row.QBOType, VoidID: row.QBOID, pending: row.HasPendingIntent()}
}

// receiptVoidChange voids the SalesReceipt an Invoice replaced.
func receiptVoidChange(orderID, number string, row *schema.Document, receiptID string) *Change {
	return &Change{Kind: KindOrder, Key: KindOrder.key(orderID), OrderID: orderID,
		OrderNumber: number, Action: ActionVoid, QBOType: TypeSalesReceipt, QBOID: receiptID, DocNumber: number,
		Prior: row, VoidType: TypeSalesReceipt, VoidID: receiptID, voidReceipt: true,
		pending: row != nil && row.HasPendingIntent()}
}

func rowOf(m map[string]schema.Document, id string) *schema.Document {
	if d, ok := m[id]; ok {
		return &d
	}
	return nil
}

// diffOrder computes the changes of one order, noops included.
func diffOrder(d *OrderDocs, orders, refunds, payments map[string]schema.Document) []*Change {
	o := d.Order
	if d.Skip != "" || o == nil {
		return nil
	}
	row := rowOf(orders, o.ID)
	var out []*Change
	if row != nil && row.State == schema.StateSkipped {
		// Set aside by a person: not voided, not updated, and its refunds
		// and payments wait with it.
		return []*Change{{Kind: KindOrder, Key: row.Key(), OrderID: o.ID, OrderNumber: o.Number, Action: ActionSkipped,
			QBOType: row.QBOType, QBOID: row.QBOID, DocNumber: row.DocNumber, Prior: row}}
	}
	if d.Cancelled {
		// Cancelled after it was reported: void. Its refunds and payments
		// are left alone (voiding the sale is the whole correction).
		if row != nil && row.QBOID != "" && row.State != schema.StateVoided && row.State != schema.StateDeletedInQBO {
			out = append(out, voidChange(o, row))
		} else if row != nil && row.QBOID != "" {
			out = append(out, &Change{Kind: KindOrder, Key: row.Key(), OrderID: o.ID, OrderNumber: o.Number,
				Action: ActionNoop, QBOType: row.QBOType, QBOID: row.QBOID, DocNumber: row.DocNumber, Prior: row})
		}
		if row != nil && row.VoidReceiptID != "" {
			out = append(out, receiptVoidChange(o.ID, o.Number, row, row.VoidReceiptID))
		}
		return out
	}
	if d.Doc == nil {
		return nil
	}
	parent := diffDoc(KindOrder, d.Doc, row)
	out = append(out, parent)
	if row != nil && row.VoidReceiptID != "" && parent.replaces == "" {
		// A crash came between recording the Invoice and voiding the
		// SalesReceipt it replaced: finish the job.
		rv := receiptVoidChange(o.ID, o.Number, row, row.VoidReceiptID)
		rv.parent = parent
		out = append(out, rv)
	}
	switch parent.Action {
	case ActionCreate, ActionUpdate, ActionNoop:
	default:
		return out // refunds and payments wait for their order's document
	}
	for _, p := range d.Payments {
		prow := rowOf(payments, p.SourceID)
		if p.NotApplicable != "" {
			c := &Change{Kind: KindPayment, Key: KindPayment.key(p.SourceID),
				OrderID: o.ID, OrderNumber: o.Number, Action: ActionNoop, QBOType: p.QBOType, Desired: p, Prior: prow}
			if prow == nil || !prow.NotApplicable {
				c.Reason, c.notApplicable = p.NotApplicable, true
				if prow != nil && prow.QBOID != "" {
					c.Reason = p.NotApplicable + fmt.Sprintf(" (payment %s stays in QBO)", prow.QBOID)
				}
			}
			out = append(out, c)
			continue
		}
		c := diffDoc(KindPayment, p, prow)
		c.parent = parent
		out = append(out, c)
	}
	for _, rf := range d.Refunds {
		c := diffDoc(KindRefund, rf, rowOf(refunds, rf.SourceID))
		c.parent = parent
		out = append(out, c)
	}
	return out
}

// scan is the result of reading the source and diffing it with the ledger.
type scan struct {
	changes   []*Change // everything but silent noops
	unchanged int
	// read counts the objects the window's stream gave, invalid ones
	// included (not those read by id).
	read       int
	maxUpdated time.Time
	company    Company
}

// needsSending reports whether any change writes to QBO.
func (s *scan) needsSending() bool {
	for _, c := range s.changes {
		switch c.Action {
		case ActionCreate, ActionUpdate, ActionVoid:
			return true
		}
	}
	return false
}

// planCtx is what one scan needs besides the orders.
type planCtx struct {
	env   Env // Settings, Location, company; links are filled per chunk
	since time.Time
	// reread are order ids to read by id (problem rows); ids seen in the
	// stream are removed as they pass.
	reread map[string]bool
	// settings are the stored settings as read (part of an order digest).
	settings map[string]string
	// record: the scan records order digests (Run; Plan writes nothing).
	record bool
}

func (r *Reconciler) chunkSize() int {
	if r.ChunkSize > 0 {
		return r.ChunkSize
	}
	return 500
}

// loadPlanCtx reads settings, the window and the rows to re-read.
func (r *Reconciler) loadPlanCtx(ctx context.Context, opts Options) (*planCtx, error) {
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	kv := map[string]string{}
	sets, err := r.Store.Settings(ctx)
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	for _, s := range sets {
		kv[s.Key] = s.Value
	}
	settings, err := ParseSettings(kv, loc)
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	pc := &planCtx{env: Env{Settings: settings, Location: loc, SourceName: r.SourceName}, reread: map[string]bool{}, settings: kv,
		record: opts.recordDigests}
	if v, err := r.Store.GetCursor(ctx, cursorHomeCurrency); err == nil {
		pc.env.HomeCurrency = v
	}
	if v, err := r.Store.GetCursor(ctx, cursorMultiCurrency); err == nil {
		pc.env.MultiCurrency = v == "true"
	}
	switch opts.Mode {
	case ModeFull:
		return pc, nil // every order is read: nothing to re-read by id
	case ModeSince:
		pc.since = opts.Since
	case "", ModeIncremental:
		v, err := r.Store.GetCursor(ctx, cursorOrders)
		switch {
		case errors.Is(err, schema.ErrNotFound):
		case err != nil:
			return nil, fmt.Errorf("read cursor: %w", err)
		default:
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return nil, fmt.Errorf("read cursor %s %q: %w", cursorOrders, v, err)
			}
			pc.since = t.Add(-overlap)
		}
	default:
		return nil, fmt.Errorf("unknown mode %q", opts.Mode)
	}
	if pc.since.IsZero() {
		return pc, nil
	}
	// Blocked, failed and pending objects are retried by every run,
	// whatever the window: read their orders by id.
	needOrder := map[string]bool{} // order numbers of refund/payment rows
	add := func(d schema.Document) error {
		if d.Kind == string(KindOrder) {
			pc.reread[d.SourceID] = true
		} else if d.OrderNumber != "" {
			needOrder[d.OrderNumber] = true
		}
		return nil
	}
	f := schema.DocumentFilter{States: []schema.State{schema.StatePending, schema.StateBlocked, schema.StateFailed}}
	if err := r.Store.EachDocument(ctx, f, add); err != nil {
		return nil, fmt.Errorf("list problem rows: %w", err)
	}
	pend, err := r.Store.PendingIntents(ctx)
	if err != nil {
		return nil, fmt.Errorf("list pending intents: %w", err)
	}
	for _, d := range pend {
		add(d)
	}
	// A Report as Invoice decision does not move the order's updated_at in
	// the source: read the decided orders whose Invoice is not in QBO yet.
	due, err := r.Store.InvoiceDecisionsDue(ctx)
	if err != nil {
		return nil, fmt.Errorf("list invoice decisions: %w", err)
	}
	for _, id := range due {
		pc.reread[id] = true
	}
	for num := range needOrder {
		docs, err := r.Store.DocumentsByOrderNumber(ctx, num)
		if err != nil {
			return nil, fmt.Errorf("rows of order %s: %w", num, err)
		}
		for _, d := range docs {
			if d.Kind == string(KindOrder) {
				pc.reread[d.SourceID] = true
			}
		}
	}
	return pc, nil
}

// scanOrders streams the source a chunk at a time, maps and diffs each
// chunk against the ledger, and keeps only the changes: a no-change chunk
// leaves nothing behind, so memory does not grow with the store.
//
// It is a three-stage pipeline so that reading the source, querying the
// ledger (one query per kind and chunk) and mapping (pure, CPU-bound: the
// bulk of a no-change scan) overlap: this goroutine reads and cuts chunks,
// one loader queries the ledger, and GOMAXPROCS mappers map and diff whole
// chunks. Channels of two bound the chunks in flight.
func (r *Reconciler) scanOrders(ctx context.Context, pc *planCtx) (*scan, error) {
	res := &scan{company: Company{HomeCurrency: pc.env.HomeCurrency, MultiCurrency: pc.env.MultiCurrency}}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex // guards res and firstErr
	var firstErr error
	setErr := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
	}
	addChange := func(c *Change) {
		mu.Lock()
		res.changes = append(res.changes, c)
		mu.Unlock()
	}

	dg := r.newDigester(ctx, pc)
	raw := make(chan []*velocity.Order, 2)
	ready := make(chan *loadedChunk, 2)
	go func() {
		defer close(ready)
		for chunk := range raw {
			if ctx.Err() != nil {
				continue // drain so the reader never blocks
			}
			l, err := r.loadChunk(ctx, chunk, &pc.env)
			if err != nil {
				setErr(err)
				continue
			}
			l.dg = dg
			select {
			case ready <- l:
			case <-ctx.Done():
			}
		}
	}()
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for l := range ready {
				cs, unchanged := r.diffChunkCtx(ctx, l)
				mu.Lock()
				res.changes = append(res.changes, cs...)
				res.unchanged += unchanged
				mu.Unlock()
			}
		})
	}

	size := r.chunkSize()
	chunk := make([]*velocity.Order, 0, size)
	send := func(force bool) {
		if len(chunk) == 0 || (!force && len(chunk) < size) {
			return
		}
		select {
		case raw <- chunk:
		case <-ctx.Done():
		}
		chunk = make([]*velocity.Order, 0, size)
	}
	add := func(o *velocity.Order) {
		if o.UpdatedAt.After(res.maxUpdated) {
			res.maxUpdated = o.UpdatedAt // only this goroutine writes it
		}
		chunk = append(chunk, o)
		send(false)
	}
	res.read = r.readOrders(ctx, pc, dg, add, addChange, setErr)
	send(true)
	close(raw)
	wg.Wait()
	res.changes = dedupeChanges(res.changes, r.sourceName())
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if dg != nil {
		res.read += dg.read
		res.unchanged += dg.unchanged
		if dg.maxUpdated.After(res.maxUpdated) {
			res.maxUpdated = dg.maxUpdated
		}
		dg.flush(ctx, r)
	}
	return res, nil
}

// readOrders feeds the pipeline: the window's orders, then the problem
// orders not seen in it, read by id. It returns how many objects the
// window's stream gave.
//
// With a digester, the orders it recognises are left out by the source and
// counted by the digester.
func (r *Reconciler) readOrders(ctx context.Context, pc *planCtx, dg *digester, add func(*velocity.Order), addChange func(*Change), setErr func(error)) (read int) {
	orders := r.Source.Orders
	if dg != nil {
		orders = func(ctx context.Context, since time.Time) iter.Seq2[*velocity.Order, error] {
			return r.Source.(exceptSource).OrdersExcept(ctx, since, dg.skip(ctx))
		}
	}
	for o, err := range orders(ctx, pc.since) {
		if err != nil {
			var oe *velocity.ObjectError
			if !errors.As(err, &oe) {
				if ctx.Err() == nil {
					setErr(fmt.Errorf("read orders: %w: %w", ErrSourceUnavailable, err))
				}
				return
			}
			read++
			addChange(r.objectErrorChange(oe))
			delete(pc.reread, oe.ID)
			continue
		}
		read++
		delete(pc.reread, o.ID)
		add(o)
		if ctx.Err() != nil {
			return
		}
	}
	for id := range pc.reread {
		o, err := r.Source.GetOrder(ctx, id)
		var oe *velocity.ObjectError
		switch {
		case errors.As(err, &oe):
			if oe.ID == "" {
				oe.ID = id
			}
			addChange(r.objectErrorChange(oe))
		case errors.Is(err, velocity.ErrNotFound):
			why := Reasons{{Code: CodeNotInSource, Subject: Subject{Kind: SubjectOrder, ID: id},
				Text: "order " + id + " is no longer in " + r.sourceName()}}
			addChange(&Change{Kind: KindOrder, Key: KindOrder.key(id),
				OrderID: id, Action: ActionBlocked, Reason: why.String(), Why: why})
		case err != nil:
			if ctx.Err() == nil {
				setErr(fmt.Errorf("read order %s: %w: %w", id, ErrSourceUnavailable, err))
			}
			return
		default:
			add(o)
		}
	}
	return read
}

func (r *Reconciler) objectErrorChange(oe *velocity.ObjectError) *Change {
	reason := oe.Reason
	if oe.Line > 0 {
		reason = fmt.Sprintf("line %d: %s", oe.Line, reason)
	}
	why := Reasons{{Code: CodeInvalidInSource, Subject: Subject{Kind: SubjectOrder, ID: oe.ID},
		Text: "invalid order in " + r.sourceName() + ": " + reason}}
	return &Change{Kind: KindOrder, Key: KindOrder.key(oe.ID), OrderID: oe.ID,
		Action: ActionBlocked, Reason: why.String(), Why: why}
}

// loadedChunk is a chunk of orders with its ledger rows and links.
type loadedChunk struct {
	orders                          []*velocity.Order
	env                             Env
	orderRows, refundRows, payments map[string]schema.Document
	dg                              *digester // records the digests of unchanged orders; nil: none
}

// uniq appends id to ids unless seen.
func uniq(ids []string, seen map[string]bool, id string) []string {
	if seen[id] {
		return ids
	}
	seen[id] = true
	return append(ids, id)
}

// loadChunk loads the chunk's ledger rows and links: one query per kind.
func (r *Reconciler) loadChunk(ctx context.Context, orders []*velocity.Order, base *Env) (*loadedChunk, error) {
	var orderIDs, refundIDs, paymentIDs, customerIDs, productIDs []string
	seenC, seenP := map[string]bool{}, map[string]bool{}
	for _, o := range orders {
		orderIDs = append(orderIDs, o.ID)
		for _, rf := range o.Refunds {
			refundIDs = append(refundIDs, rf.ID)
		}
		for _, p := range o.Payments {
			paymentIDs = append(paymentIDs, p.ID)
		}
		customerIDs = uniq(customerIDs, seenC, o.CustomerID)
		for _, l := range o.Lines {
			productIDs = uniq(productIDs, seenP, l.ProductID)
		}
	}
	l := &loadedChunk{orders: orders, env: *base}
	var err error
	if l.orderRows, err = r.Store.DocumentsBySource(ctx, string(KindOrder), orderIDs); err != nil {
		return nil, err
	}
	if l.refundRows, err = r.rowsOf(ctx, KindRefund, refundIDs); err != nil {
		return nil, err
	}
	if l.payments, err = r.rowsOf(ctx, KindPayment, paymentIDs); err != nil {
		return nil, err
	}
	if l.env.Customers, err = r.links(ctx, schema.CustomerLinks, customerIDs); err != nil {
		return nil, err
	}
	if l.env.Products, err = r.links(ctx, schema.ProductLinks, productIDs); err != nil {
		return nil, err
	}
	return l, nil
}

// decided returns o as the mapping must see it: with ReportAsInvoice set
// when a person decided so on its ledger row (Reconciler.ReportAsInvoice),
// exactly as if the source had set the flag. o itself is not changed.
func (l *loadedChunk) decided(o *velocity.Order) *velocity.Order {
	if o.ReportAsInvoice || l.orderRows[o.ID].InvoiceDecidedBy == "" {
		return o
	}
	oc := *o
	oc.ReportAsInvoice = true
	return &oc
}

func (r *Reconciler) rowsOf(ctx context.Context, kind Kind, ids []string) (map[string]schema.Document, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return r.Store.DocumentsBySource(ctx, string(kind), ids)
}

// diffChunk maps each order of a loaded chunk and returns its changes
// (silent noops only counted).
func (r *Reconciler) diffChunk(l *loadedChunk) (changes []*Change, unchanged int) {
	return r.diffChunkCtx(context.Background(), l)
}

// diffChunkCtx is diffChunk; with l.dg, it records the digest of each
// order whose documents are all silent noops (ctx is the recording's).
func (r *Reconciler) diffChunkCtx(ctx context.Context, l *loadedChunk) (changes []*Change, unchanged int) {
	mapFn := r.Map
	if mapFn == nil {
		mapFn = MapOrder
	}
	for _, o := range l.orders {
		digestible := l.dg != nil && o.LineSHA256 != [32]byte{}
		n := 0
		o = l.decided(o)
		docs := mapFn(o, &l.env)
		for _, c := range diffOrder(docs, l.orderRows, l.refundRows, l.payments) {
			if len(c.Why) > 0 {
				r.explain(c, c.Action, c.Why)
			}
			// Only an order whose every document is a silent noop, on rows
			// carrying its number (migration 0009's triggers find an
			// order's rows by number), gets a digest.
			if c.Action != ActionNoop || c.Reason != "" || c.restoreState || c.pending ||
				(c.Prior != nil && c.Prior.OrderNumber != o.Number) {
				digestible = false
			}
			n++
			c.sourceUpdated = o.UpdatedAt
			if staleCopy(c) {
				digestible = false
				unchanged++ // an older copy of an order QBO already has newer
				continue
			}
			if docs.UnlinkedCustomer != "" && c.Action == ActionBlocked && c.Desired != nil && c.Desired == docs.Doc && len(c.Desired.Blocked) > 0 {
				c.unlinkedCustomer = docs.UnlinkedCustomer
			}
			if c.Action == ActionSkipped {
				continue // listed from the ledger, once (listSkipped)
			}
			if c.Action == ActionNoop && c.Reason == "" && !c.restoreState {
				unchanged++
				continue
			}
			changes = append(changes, c)
		}
		if digestible {
			l.dg.add(ctx, r, o, n)
		}
	}
	return changes, unchanged
}

func (r *Reconciler) links(ctx context.Context, kind schema.LinkKind, ids []string) (map[string]Link, error) {
	ls, err := r.Store.Links(ctx, kind, ids)
	if err != nil {
		return nil, fmt.Errorf("read %s links: %w", kind, err)
	}
	out := make(map[string]Link, len(ls))
	for id, l := range ls {
		out[id] = Link{QBOID: l.QBOID, Name: l.QBOName}
	}
	return out, nil
}

// plan reads everything and returns the changes, reading the company
// facts when something is to be sent (see scanCurrent). fresh is what was
// read from QBO, nil when nothing needed it.
func (r *Reconciler) plan(ctx context.Context, opts Options) (res *scan, fresh *Company, err error) {
	return r.scanCurrent(ctx, opts, r, nil, nil)
}

// scanCurrent scans the window with scanner (r, or a re-scan's view of r),
// reading only the orders in only by id when only is not nil. When
// something is to be sent and the company facts were not read yet this
// run (fresh is nil), it reads them and, if they differ from the cached
// ones the mapping used, scans again with them, so the changes are
// mapped with the company's current currency facts. It returns the facts
// read, or fresh. plan and rescan share it.
func (r *Reconciler) scanCurrent(ctx context.Context, opts Options, scanner *Reconciler, only map[string]bool, fresh *Company) (*scan, *Company, error) {
	for {
		pc, err := r.loadPlanCtx(ctx, opts)
		if err != nil {
			return nil, nil, err
		}
		if fresh != nil {
			pc.env.HomeCurrency, pc.env.MultiCurrency = fresh.HomeCurrency, fresh.MultiCurrency
		}
		if only != nil {
			pc.reread = make(map[string]bool, len(only))
			for id := range only {
				pc.reread[id] = true
			}
		}
		res, err := scanner.scanOrders(ctx, pc)
		if err != nil {
			return nil, nil, err
		}
		if fresh != nil || !res.needsSending() {
			return res, fresh, nil
		}
		co, err := r.QBO.Company(ctx)
		if err != nil {
			return nil, nil, r.qboFatal(fmt.Errorf("read company preferences: %w", err))
		}
		fresh = &co
		if co == res.company {
			return res, fresh, nil
		}
	}
}

// Plan computes what Run would do, without sending anything to QBO or
// writing to the ledger (it may read the company preferences). Unresolved
// intents are planned from the ledger as it stands (Run looks them up in
// QBO first). It returns an error wrapping ErrSourceUnavailable when
// Velocity cannot be read and ErrQBOAuth when QBO refuses the connection.
func (r *Reconciler) Plan(ctx context.Context, opts Options) (*Summary, error) {
	sum := &Summary{Mode: modeName(opts.Mode), StartedAt: r.now(), Items: []Item{}}
	res, fresh, err := r.plan(ctx, opts)
	if err != nil {
		return nil, err
	}
	sum.warnEmpty(opts, res)
	if res, err = r.planCustomers(ctx, opts, res, fresh, sum); err != nil {
		return nil, err
	}
	// The look before create only reads QBO: Plan does it too, so it lists
	// what Run would adopt or block (payments are looked up by Run alone,
	// once their invoices are settled).
	look := &applier{r: r, sum: &Summary{}, log: r.log(), dry: true}
	look.lookBeforeCreate(ctx, res.changes)
	if err := look.err(); err != nil {
		return nil, err
	}
	for _, c := range res.changes {
		it := c.item()
		if c.pending && it.Reason == "" {
			it.Reason = "outcome of an earlier write unknown; looked up in QBO first"
		}
		sum.add(it)
		if c.replaces != "" && (c.Action == ActionCreate || c.adopted) {
			sum.add(Item{Kind: KindOrder, SourceID: c.Key.SourceID, OrderNumber: c.OrderNumber, Action: ActionVoid,
				QBOType: TypeSalesReceipt, QBOID: c.replaces, DocNumber: c.OrderNumber})
		}
	}
	sum.Counts.Unchanged += res.unchanged
	if err := r.listSkipped(ctx, sum); err != nil {
		return nil, err
	}
	sum.FinishedAt = r.now()
	sum.sortItems()
	return sum, nil
}

// WarnEmptySource is the warning of a full read that found no order at
// all: an empty export or the wrong store is more likely than a store
// without orders.
const WarnEmptySource = "the source held no orders: a full read of Velocity found nothing (an empty export file, or the wrong store?)"

// warnEmpty adds WarnEmptySource when a full read found nothing.
func (s *Summary) warnEmpty(opts Options, res *scan) {
	if modeName(opts.Mode) == ModeFull && res.read == 0 {
		s.Warnings = append(s.Warnings, WarnEmptySource)
	}
}

func modeName(m Mode) Mode {
	if m == "" {
		return ModeIncremental
	}
	return m
}

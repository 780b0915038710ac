package reconcile

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// CustomerWriter is the part of QBO's customer service that creating a
// customer uses; *qbo.CustomersService implements it. Errors are the qbo
// client's.
type CustomerWriter interface {
	Create(ctx context.Context, c *qbo.Customer, opts *qbo.RequestOptions) (*qbo.Customer, *qbo.Response, error)
	QueryAll(ctx context.Context, clause string) ([]qbo.Customer, error)
}

// CustomerSource is a Source that can also read one Velocity customer:
// *velocity.Client and FileSource. GetCustomer returns an error matching
// velocity.ErrNotFound when there is no such customer and an
// *velocity.ObjectError when it is invalid. A run needs it only to create
// missing QBO customers (setting auto_create_customers).
type CustomerSource interface {
	GetCustomer(ctx context.Context, id string) (*velocity.Customer, error)
}

// GetCustomer scans the export for the customer with id (constant memory;
// meant for the few customers a run creates).
func (s FileSource) GetCustomer(ctx context.Context, id string) (*velocity.Customer, error) {
	for c, err := range s.Customers(ctx, time.Time{}) {
		if err != nil {
			var oe *velocity.ObjectError
			if errors.As(err, &oe) {
				if oe.ID == id {
					return nil, err
				}
				continue
			}
			return nil, err
		}
		if c != nil && c.ID == id {
			return c, nil
		}
	}
	return nil, fmt.Errorf("get customer %s from export: %w", id, velocity.ErrNotFound)
}

// CustomerService is QBO's customer service, for creating the customers
// of auto_create_customers.
func (q QBOClient) CustomerService() CustomerWriter { return q.C.Customers }

// customerServicer is a QBO that can also create customers.
type customerServicer interface{ CustomerService() CustomerWriter }

// CreatedCustomer is the QBO customer CreateCustomer made or found.
type CreatedCustomer struct {
	QBOID   string
	QBOName string
	// Renamed is set when the plain DisplayName was taken and the customer
	// number was added.
	Renamed bool
	// Found is set when an earlier, interrupted create had made the
	// customer: it was found by its Notes marker, nothing was created now.
	Found bool
	// IntuitTID is QBO's transaction id of the create, "" when found.
	IntuitTID string
}

// NameTakenError says that both DisplayNames a new customer could get are
// taken by other QBO customers, vendors or employees.
type NameTakenError struct {
	VelocityID string
	Names      [2]string // the plain and the numbered DisplayName
}

func (e *NameTakenError) Error() string { return e.Reason().Text }

// Reason is e as a reason, with its fix: rename in QBO or link by hand.
func (e *NameTakenError) Reason() Reason {
	return Reason{Code: CodeCustomerNameTaken, Subject: Subject{Kind: SubjectCustomer, ID: e.VelocityID},
		Text: fmt.Sprintf("QBO already has a customer, vendor or employee named %q and one named %q", e.Names[0], e.Names[1]),
		Fix:  Fix{Action: FixRenameOrLinkCustomer, ID: e.VelocityID}}
}

// customerReason is a reason about Velocity customer id.
func customerReason(code ReasonCode, id, text string) Reason {
	return Reason{Code: code, Subject: Subject{Kind: SubjectCustomer, ID: id}, Text: text}
}

// cannotCreate is the reason a run cannot create customer id itself.
func cannotCreate(id, why string) Reason {
	r := customerReason(CodeCannotCreate, id, why)
	r.Fix = Fix{Action: FixCreateCustomer, ID: id}
	return r
}

// CreateCustomer makes the QBO customer of the Velocity customer c: named
// DisplayName (NumberedDisplayName when QBO answers fault 6240, the name
// is taken), with c's profile and the CreatedMarker in its Notes. It does
// not save the link; the caller does, with schema.LinkCreate.
//
// Exactly once: a customer that an earlier, interrupted create made (the
// link was never saved) is found by its marker before anything is
// created, and each create carries a deterministic request id, so a lost
// answer replayed within QBO's memory returns the same customer.
//
// It returns a *NameTakenError when both names are taken, and otherwise
// the qbo client's error, wrapped (a network error leaves the outcome
// unknown: calling again finds the customer if it was made).
func CreateCustomer(ctx context.Context, q CustomerWriter, realm string, c *velocity.Customer) (CreatedCustomer, error) {
	p := FromVelocity(c)
	names := [2]string{DisplayName(p), NumberedDisplayName(p)}
	found, err := q.QueryAll(ctx, "WHERE DisplayName IN ("+qbo.QueryString(names[0])+", "+qbo.QueryString(names[1])+")")
	if err != nil {
		return CreatedCustomer{}, fmt.Errorf("look for an earlier create of Velocity customer %s: %w", c.ID, err)
	}
	for i := range found {
		if IsCreatedFrom(&found[i], c.ID) {
			return CreatedCustomer{QBOID: found[i].Id, QBOName: found[i].DisplayName,
				Renamed: found[i].DisplayName != names[0], Found: true}, nil
		}
	}
	for attempt := range names {
		// attempt is part of the id: QBO remembers the 6240 fault under
		// the first id, and the numbered name is a different write.
		rid := CustomerRequestID(realm, "create", c.ID, strconv.Itoa(attempt+1))
		qc, resp, err := q.Create(ctx, NewQBOCustomer(p, names[attempt]), &qbo.RequestOptions{RequestID: rid})
		if err == nil {
			out := CreatedCustomer{QBOID: qc.Id, QBOName: qc.DisplayName, Renamed: qc.DisplayName != names[0]}
			if resp != nil {
				out.IntuitTID = resp.IntuitTID
			}
			return out, nil
		}
		if qbo.Code(err) != qbo.CodeDuplicateName {
			return CreatedCustomer{}, fmt.Errorf("create QBO customer for Velocity customer %s: %w", c.ID, err)
		}
	}
	return CreatedCustomer{}, &NameTakenError{VelocityID: c.ID, Names: names}
}

// unlinkedCustomers groups the orders blocked on an unlinked Velocity
// customer by that customer's id.
func (s *scan) unlinkedCustomers() map[string][]string {
	out := map[string][]string{}
	for _, c := range s.changes {
		if c.unlinkedCustomer != "" && c.OrderID != "" {
			out[c.unlinkedCustomer] = append(out[c.unlinkedCustomer], c.OrderID)
		}
	}
	return out
}

// replaceOrders swaps the changes of the orders in ids for those of a
// re-scan of them.
func (s *scan) replaceOrders(ids map[string]bool, n *scan) {
	keep := make([]*Change, 0, len(s.changes)+len(n.changes))
	for _, c := range s.changes {
		if !ids[c.OrderID] {
			keep = append(keep, c)
		}
	}
	s.changes = append(keep, n.changes...)
	s.unchanged += n.unchanged
}

// autoCreateOn reads the auto_create_customers setting.
func (r *Reconciler) autoCreateOn(ctx context.Context) (bool, error) {
	pc, err := r.loadPlanCtx(ctx, Options{Mode: ModeFull})
	if err != nil {
		return false, err
	}
	return pc.env.Settings.AutoCreateCustomers, nil
}

// customerItem is the run item of a customer create.
func customerItem(id string) Item {
	return Item{Kind: KindCustomer, SourceID: id, Action: ActionCreate, QBOType: TypeCustomer}
}

// velocityCustomer reads one customer for a create. A customer that is
// missing or invalid is a failed item (why set); any other error means
// the source is unavailable.
func (r *Reconciler) velocityCustomer(ctx context.Context, id string) (c *velocity.Customer, why Reasons, err error) {
	cs, ok := r.Source.(CustomerSource)
	if !ok {
		return nil, Reasons{cannotCreate(id, "the order source cannot read customers")}, nil
	}
	c, err = cs.GetCustomer(ctx, id)
	var oe *velocity.ObjectError
	switch {
	case err == nil:
		return c, nil, nil
	case errors.As(err, &oe):
		return nil, Reasons{customerReason(CodeInvalidInSource, id, "invalid customer in "+r.sourceName()+": "+oe.Reason)}, nil
	case errors.Is(err, velocity.ErrNotFound):
		return nil, Reasons{customerReason(CodeNotInSource, id, "customer "+id+" is not in "+r.sourceName())}, nil
	}
	return nil, nil, fmt.Errorf("read customer %s: %w: %w", id, ErrSourceUnavailable, err)
}

// createCustomers is phase B: with auto_create_customers on, it creates
// (or finds) the QBO customer of every Velocity customer whose orders
// the scan blocked for want of a link, saves the links, and re-scans
// those orders so that this run sends them. A customer that cannot be
// created is a failed item and its orders stay blocked with their reason.
// It returns the updated scan and company facts, or the fatal error that
// stopped the run (ErrInterrupted when Options.Stop fired).
func (a *applier) createCustomers(ctx context.Context, opts Options, res *scan, fresh *Company) (*scan, *Company, error) {
	r := a.r
	want := res.unlinkedCustomers()
	if len(want) == 0 {
		return res, fresh, nil
	}
	if on, err := r.autoCreateOn(ctx); err != nil || !on {
		return res, fresh, err
	}
	ids := slices.Sorted(maps.Keys(want))
	existing, err := r.links(ctx, schema.CustomerLinks, ids)
	if err != nil {
		return nil, nil, err
	}
	var cw CustomerWriter
	if s, ok := r.QBO.(customerServicer); ok {
		cw = s.CustomerService()
	}

	var mu sync.Mutex
	linked := map[string]bool{}
	sem := make(chan struct{}, r.concurrency())
	var wg sync.WaitGroup
	for _, id := range ids {
		if l, ok := existing[id]; ok && l.QBOID != "" {
			linked[id] = true // linked by hand since the scan
			continue
		}
		if !a.mayStart() {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if a.createCustomer(ctx, cw, id) {
				mu.Lock()
				linked[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := a.phaseEnd(); err != nil {
		return nil, nil, err
	}
	orders := map[string]bool{}
	for id := range linked {
		for _, o := range want[id] {
			orders[o] = true
		}
	}
	if len(orders) == 0 {
		return res, fresh, nil
	}
	n, fresh, err := r.rescan(ctx, opts, orders, nil, fresh)
	if err != nil {
		return nil, nil, err
	}
	res.replaceOrders(orders, n)
	return res, fresh, nil
}

// createCustomer creates and links one customer and reports it; true when
// the link is saved.
func (a *applier) createCustomer(ctx context.Context, cw CustomerWriter, id string) bool {
	r := a.r
	it := customerItem(id)
	fail := func(why ...Reason) bool {
		it.Action, it.Reasons, it.Reason = ActionFailed, why, r.text(why)
		a.logChange(it)
		a.report(it, false)
		return false
	}
	vc, why, err := r.velocityCustomer(ctx, id)
	if err != nil {
		a.stop(err)
		return false
	}
	if len(why) > 0 {
		return fail(why...)
	}
	if cw == nil {
		return fail(cannotCreate(id, "the QBO connection cannot create customers"))
	}
	out, err := CreateCustomer(ctx, cw, r.Realm, vc)
	var nt *NameTakenError
	switch {
	case err == nil:
	case errors.As(err, &nt):
		return fail(nt.Reason())
	case qbo.IsAuth(err):
		a.stop(r.qboFatal(err))
		return false
	case ctx.Err() != nil:
		a.stop(ctx.Err())
		return false
	case definitive(err):
		return fail(customerReason(CodeQBORejected, id, err.Error()))
	default:
		// The create may have gone through: the next run finds it by its
		// marker instead of making another.
		return fail(customerReason(CodeOutcomeUnknown, id, reasonUnknownOutcome))
	}
	if a.stopped() {
		return false
	}
	if err := r.Store.SaveLink(ctx, schema.CustomerLinks, schema.Link{VelocityID: id, QBOID: out.QBOID,
		QBOName: out.QBOName, Method: schema.LinkCreate}); err != nil {
		a.storeErr(fmt.Errorf("link created QBO customer %s: %w", out.QBOID, err))
		return false
	}
	it.QBOID, it.tid = out.QBOID, out.IntuitTID
	switch {
	case out.Found:
		it.Reason = fmt.Sprintf("QBO customer %q was created by an earlier run; linked now", out.QBOName)
	case out.Renamed:
		it.Reason = fmt.Sprintf("the name was taken by another QBO customer, vendor or employee; created as %q", out.QBOName)
	}
	a.logChange(it)
	a.report(it, false)
	return true
}

// planCustomers is Plan's phase B: the customer creates a run would do,
// and the blocked orders re-planned as if the customers were linked.
func (r *Reconciler) planCustomers(ctx context.Context, opts Options, res *scan, fresh *Company, sum *Summary) (*scan, error) {
	want := res.unlinkedCustomers()
	if len(want) == 0 {
		return res, nil
	}
	if on, err := r.autoCreateOn(ctx); err != nil || !on {
		return res, err
	}
	ids := slices.Sorted(maps.Keys(want))
	existing, err := r.links(ctx, schema.CustomerLinks, ids)
	if err != nil {
		return nil, err
	}
	_, canCreate := r.QBO.(customerServicer)
	overlay := map[string]Link{}
	for _, id := range ids {
		if l, ok := existing[id]; ok && l.QBOID != "" {
			overlay[id] = l
			continue
		}
		it := customerItem(id)
		_, why, err := r.velocityCustomer(ctx, id)
		if err != nil {
			return nil, err
		}
		if len(why) == 0 && !canCreate {
			why = Reasons{cannotCreate(id, "the QBO connection cannot create customers")}
		}
		if len(why) > 0 {
			it.Action, it.Reasons, it.Reason = ActionFailed, why, r.text(why)
			sum.add(it)
			continue
		}
		sum.add(it)
		// A stand-in id: the plan is never sent.
		overlay[id] = Link{QBOID: "(new)", Name: id}
	}
	orders := map[string]bool{}
	for id := range overlay {
		for _, o := range want[id] {
			orders[o] = true
		}
	}
	if len(orders) == 0 {
		return res, nil
	}
	n, _, err := r.rescan(ctx, opts, orders, overlay, fresh)
	if err != nil {
		return nil, err
	}
	res.replaceOrders(orders, n)
	return res, nil
}

// rescanByID is how many orders a re-scan reads one by one; above it, it
// streams the run's window again and keeps only those orders (a single
// pass over an export file instead of one per order).
const rescanByID = 50

// rescan maps and diffs just the orders in ids again, with overlay added
// to the customer links (Plan's stand-ins). Like plan, it reads the
// company facts when something is to be sent and they were not read yet.
func (r *Reconciler) rescan(ctx context.Context, opts Options, ids map[string]bool, overlay map[string]Link, fresh *Company) (*scan, *Company, error) {
	rr := *r
	if len(ids) <= rescanByID {
		rr.Source = byIDSource{r.Source}
	} else {
		rr.Source = filterSource{Source: r.Source, ids: ids}
	}
	if len(overlay) > 0 {
		rr.Store = linkOverlay{Store: r.Store, customers: overlay}
	}
	return r.scanCurrent(ctx, opts, &rr, ids, fresh)
}

// byIDSource streams nothing: every order of a re-scan is read by id.
type byIDSource struct{ Source }

func (byIDSource) Orders(context.Context, time.Time) iter.Seq2[*velocity.Order, error] {
	return func(func(*velocity.Order, error) bool) {}
}

// filterSource streams only the orders in ids (and no invalid ones: those
// were reported by the first scan); the rest are read by id.
type filterSource struct {
	Source
	ids map[string]bool
}

func (s filterSource) Orders(ctx context.Context, since time.Time) iter.Seq2[*velocity.Order, error] {
	return func(yield func(*velocity.Order, error) bool) {
		for o, err := range s.Source.Orders(ctx, since) {
			if err != nil {
				if velocity.IsObjectError(err) {
					continue
				}
				yield(nil, err)
				return
			}
			if s.ids[o.ID] && !yield(o, nil) {
				return
			}
		}
	}
}

// linkOverlay adds customer links that are not saved (Plan's stand-ins).
type linkOverlay struct {
	Store
	customers map[string]Link
}

func (s linkOverlay) Links(ctx context.Context, kind schema.LinkKind, ids []string) (map[string]schema.Link, error) {
	ls, err := s.Store.Links(ctx, kind, ids)
	if err != nil || kind != schema.CustomerLinks {
		return ls, err
	}
	if ls == nil {
		ls = map[string]schema.Link{}
	}
	for _, id := range ids {
		if l, ok := s.customers[id]; ok {
			if _, saved := ls[id]; !saved {
				ls[id] = schema.Link{VelocityID: id, QBOID: l.QBOID, QBOName: l.Name}
			}
		}
	}
	return ls, nil
}

// ExistingCustomer is an active QBO customer that creating one for a
// Velocity customer would duplicate.
type ExistingCustomer struct {
	QBOID   string `json:"qbo_id"`
	QBOName string `json:"qbo_name"`
	Reason  string `json:"reason"`
}

// ExistingCustomers returns the active QBO customers that already have
// the email of the Velocity customer c (trimmed, case-insensitive), which
// `customers create` offers to link instead of making a second one. A
// customer velqbo created from c itself (its marker) is left out:
// CreateCustomer finds it and links it. Errors are the qbo client's,
// wrapped.
func ExistingCustomers(ctx context.Context, q CustomerWriter, c *velocity.Customer) ([]ExistingCustomer, error) {
	email := strings.TrimSpace(c.Email)
	if email == "" {
		return nil, nil
	}
	found, err := q.QueryAll(ctx, "WHERE PrimaryEmailAddr = "+qbo.QueryString(email))
	if err != nil {
		return nil, fmt.Errorf("look for QBO customers with the email of Velocity customer %s: %w", c.ID, err)
	}
	return sameEmail(c, found), nil
}

// sameEmail keeps the customers of found that ExistingCustomers reports,
// ordered by QBO id.
func sameEmail(c *velocity.Customer, found []qbo.Customer) []ExistingCustomer {
	want := normEmail(c.Email)
	var out []ExistingCustomer
	for i := range found {
		q := &found[i]
		if want == "" || IsCreatedFrom(q, c.ID) || (q.Active != nil && !*q.Active) {
			continue
		}
		if q.PrimaryEmailAddr == nil || normEmail(q.PrimaryEmailAddr.Address) != want {
			continue
		}
		out = append(out, ExistingCustomer{QBOID: q.Id, QBOName: q.DisplayName, Reason: "same email " + want})
	}
	slices.SortFunc(out, func(a, b ExistingCustomer) int { return compareIDs(a.QBOID, b.QBOID) })
	return out
}

// compareIDs orders QBO ids numerically when both are numbers.
func compareIDs(a, b string) int {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	if errA == nil && errB == nil {
		return x - y
	}
	return strings.Compare(a, b)
}

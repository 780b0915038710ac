package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// sourceErr is an error of the Velocity source that matches
// ErrSourceUnavailable and reads as the source's error alone.
type sourceErr struct{ err error }

func (e sourceErr) Error() string   { return e.err.Error() }
func (e sourceErr) Unwrap() []error { return []error{ErrSourceUnavailable, e.err} }

// Unlink deletes the link of a Velocity customer or product. It returns
// an error matching schema.ErrNotFound when there was none, and the
// store's otherwise.
func (l Linker) Unlink(ctx context.Context, kind schema.LinkKind, velocityID string) error {
	return l.Store.DeleteLink(ctx, kind, velocityID)
}

// LinkRow is one Velocity customer or product with its link, as `customers
// list` and `products list` (and the console's lists) show it.
type LinkRow struct {
	VelocityID string `json:"velocity_id"`
	Number     string `json:"number,omitempty"`
	SKU        string `json:"sku,omitempty"`
	Name       string `json:"name"`
	Email      string `json:"email,omitempty"`
	QBOID      string `json:"qbo_id,omitempty"`
	QBOName    string `json:"qbo_name,omitempty"`
	Method     string `json:"method,omitempty"`
	// Blocking is how many orders the record blocks now (filled only when
	// LinkFilter.Counts is set).
	Blocking int `json:"-"`
}

// LinkFilter selects the rows ListLinks returns.
type LinkFilter struct {
	// Unlinked keeps only records without a QBO link.
	Unlinked bool
	// Blocking keeps only records that block orders now (it implies Counts).
	Blocking bool
	// Text keeps only records whose id, number, SKU, name, email or QBO
	// name contains it, in any case.
	Text string
	// Counts fills LinkRow.Blocking.
	Counts bool
}

// LinkLister is the part of *schema.Store that ListLinks uses.
type LinkLister interface {
	Links(ctx context.Context, kind schema.LinkKind, ids []string) (map[string]schema.Link, error)
	BlockedOrdersBySubject(ctx context.Context, subjectKind string) (map[string]int, error)
}

// LinkList is what ListLinks found: the rows, in the source's order, and
// the source's invalid records (their errors' text).
type LinkList struct {
	Rows    []LinkRow
	Invalid []string
}

// CustomerName is how lists name a Velocity customer: "first last", or
// "Company (first last)".
func CustomerName(c *velocity.Customer) string {
	name := strings.TrimSpace(c.FirstName + " " + c.LastName)
	if c.Company != "" {
		name = strings.TrimSpace(c.Company + " (" + name + ")")
	}
	return name
}

// ListLinks streams the Velocity customers or products of src and joins
// each batch of them with their links, keeping the rows f selects. The
// blocked-order counts come from the ledger's blocked rows whose reasons
// name the record. Errors: one matching ErrSourceUnavailable when the
// source cannot be read, and the store's.
func ListLinks(ctx context.Context, src velocity.Source, st LinkLister, kind schema.LinkKind, f LinkFilter) (LinkList, error) {
	var blocking map[string]int
	if f.Blocking || f.Counts {
		var err error
		if blocking, err = st.BlockedOrdersBySubject(ctx, string(linkSubject(kind))); err != nil {
			return LinkList{}, err
		}
	}
	text := strings.ToLower(strings.TrimSpace(f.Text))
	var out LinkList
	pending := []LinkRow{}
	flush := func() error {
		ids := make([]string, len(pending))
		for i, r := range pending {
			ids[i] = r.VelocityID
		}
		links, err := st.Links(ctx, kind, ids)
		if err != nil {
			return err
		}
		for _, r := range pending {
			if l, ok := links[r.VelocityID]; ok {
				r.QBOID, r.QBOName, r.Method = l.QBOID, l.QBOName, string(l.Method)
			}
			r.Blocking = blocking[r.VelocityID]
			if (f.Unlinked && r.QBOID != "") || (f.Blocking && r.Blocking == 0) || !r.contains(text) {
				continue
			}
			out.Rows = append(out.Rows, r)
		}
		pending = pending[:0]
		return nil
	}
	add := func(r LinkRow) error {
		pending = append(pending, r)
		if len(pending) >= 500 {
			return flush()
		}
		return nil
	}
	if kind == schema.CustomerLinks {
		for c, err := range src.Customers(ctx, time.Time{}) {
			if err != nil {
				if velocity.IsObjectError(err) {
					out.Invalid = append(out.Invalid, err.Error())
					continue
				}
				return LinkList{}, fmt.Errorf("read Velocity customers: %w", sourceErr{err})
			}
			if err := add(LinkRow{VelocityID: c.ID, Number: c.Number, Name: CustomerName(c), Email: c.Email}); err != nil {
				return LinkList{}, err
			}
		}
	} else {
		for p, err := range src.Products(ctx, time.Time{}) {
			if err != nil {
				if velocity.IsObjectError(err) {
					out.Invalid = append(out.Invalid, err.Error())
					continue
				}
				return LinkList{}, fmt.Errorf("read Velocity products: %w", sourceErr{err})
			}
			if err := add(LinkRow{VelocityID: p.ID, SKU: p.SKU, Name: p.Name}); err != nil {
				return LinkList{}, err
			}
		}
	}
	if err := flush(); err != nil {
		return LinkList{}, err
	}
	return out, nil
}

// contains reports whether one of r's texts contains lower (lower case);
// "" is in every row.
func (r LinkRow) contains(lower string) bool {
	if lower == "" {
		return true
	}
	for _, s := range []string{r.VelocityID, r.Number, r.SKU, r.Name, r.Email, r.QBOID, r.QBOName} {
		if strings.Contains(strings.ToLower(s), lower) {
			return true
		}
	}
	return false
}

// LinkMatches is what MatchLinks found.
type LinkMatches struct {
	Proposals []Proposal
	// Invalid are the source's invalid records (their errors' text).
	Invalid []string
}

// MatchLinks reads every Velocity customer (or product) of src and every
// QBO customer (or item), and proposes links for the records existing
// (Velocity id -> QBO id) does not link, with MatchCustomers or
// MatchProducts. Errors: one matching ErrSourceUnavailable when the source
// cannot be read, and the qbo client's, wrapped.
func MatchLinks(ctx context.Context, src velocity.Source, q QBOClient, kind schema.LinkKind, existing map[string]string) (LinkMatches, error) {
	var out LinkMatches
	if kind == schema.CustomerLinks {
		var vel []CustomerProfile
		for c, err := range src.Customers(ctx, time.Time{}) {
			if err != nil {
				if velocity.IsObjectError(err) {
					out.Invalid = append(out.Invalid, err.Error())
					continue
				}
				return LinkMatches{}, fmt.Errorf("read Velocity customers: %w", sourceErr{err})
			}
			vel = append(vel, FromVelocity(c))
		}
		qs, err := allQBOCustomers(ctx, q)
		if err != nil {
			return LinkMatches{}, err
		}
		out.Proposals = MatchCustomers(vel, qs, existing)
		return out, nil
	}
	var vel []velocity.Product
	for p, err := range src.Products(ctx, time.Time{}) {
		if err != nil {
			if velocity.IsObjectError(err) {
				out.Invalid = append(out.Invalid, err.Error())
				continue
			}
			return LinkMatches{}, fmt.Errorf("read Velocity products: %w", sourceErr{err})
		}
		vel = append(vel, *p)
	}
	qs, err := allQBOItems(ctx, q)
	if err != nil {
		return LinkMatches{}, err
	}
	out.Proposals = MatchProducts(vel, qs, existing)
	return out, nil
}

func allQBOCustomers(ctx context.Context, q QBOClient) ([]QBOCustomer, error) {
	qcs, err := q.C.Customers.QueryAll(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("read QBO customers: %w", err)
	}
	qs := make([]QBOCustomer, len(qcs))
	for i := range qcs {
		qs[i] = QBOCustomerOf(&qcs[i])
	}
	return qs, nil
}

func allQBOItems(ctx context.Context, q QBOClient) ([]QBOItem, error) {
	its, err := q.C.Items.QueryAll(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("read QBO items: %w", err)
	}
	qs := make([]QBOItem, len(its))
	for i := range its {
		qs[i] = QBOItemOf(&its[i])
	}
	return qs, nil
}

// ApplyMatches saves the proposals that conflict with nothing (method
// match) and returns them. Errors are the store's, after the proposals
// saved before.
func ApplyMatches(ctx context.Context, st LinkStore, kind schema.LinkKind, proposals []Proposal) ([]Proposal, error) {
	var applied []Proposal
	for _, p := range proposals {
		if !p.Applicable() {
			continue
		}
		if err := st.SaveLink(ctx, kind, schema.Link{VelocityID: p.VelocityID, QBOID: p.QBOID, QBOName: p.QBOName, Method: schema.LinkMatch}); err != nil {
			return applied, fmt.Errorf("apply match: %w", err)
		}
		applied = append(applied, p)
	}
	return applied, nil
}

// Suggestion is one QBO record proposed for a Velocity record, with why.
// Conflict is set when linking it needs care: the record is already
// linked to another Velocity record.
type Suggestion struct {
	QBOID, QBOName string
	Reason         string
	Conflict       string
}

// Suggest proposes QBO records for one Velocity customer or product, by
// the rules of MatchCustomers and MatchProducts against every QBO
// customer (item) and the links in existing (Velocity id -> QBO id; the
// record's own link is ignored, so a linked record is still shown what
// matches). An ambiguity gives each of its equal candidates. None:
// an empty slice. Errors: one matching velocity.ErrNotFound or an
// *velocity.ObjectError from the source, one matching
// ErrSourceUnavailable when it cannot answer, and the qbo client's.
func Suggest(ctx context.Context, src velocity.Source, q QBOClient, kind schema.LinkKind, velocityID string, existing map[string]string) ([]Suggestion, error) {
	others := make(map[string]string, len(existing))
	for v, id := range existing {
		if v != velocityID {
			others[v] = id
		}
	}
	var ps []Proposal
	names := map[string]string{}
	if kind == schema.CustomerLinks {
		c, err := GetVelocityCustomer(ctx, src, velocityID)
		if err != nil {
			return nil, err
		}
		qs, err := allQBOCustomers(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, x := range qs {
			names[x.ID] = x.Label()
		}
		ps = MatchCustomers([]CustomerProfile{FromVelocity(c)}, qs, others)
	} else {
		p, err := GetVelocityProduct(ctx, src, velocityID)
		if err != nil {
			return nil, err
		}
		qs, err := allQBOItems(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, x := range qs {
			names[x.ID] = x.Name
		}
		ps = MatchProducts([]velocity.Product{*p}, qs, others)
	}
	out := []Suggestion{}
	for _, p := range ps {
		if p.QBOID != "" {
			out = append(out, Suggestion{QBOID: p.QBOID, QBOName: p.QBOName, Reason: p.Reason, Conflict: p.Conflict})
			continue
		}
		for _, id := range p.Candidates {
			out = append(out, Suggestion{QBOID: id, QBOName: names[id], Reason: p.Reason + fmt.Sprintf(" (one of %d)", len(p.Candidates))})
		}
	}
	return out, nil
}

// GetVelocityCustomer reads one Velocity customer: by id when src can
// (CustomerSource), else by one pass over its customers. Errors: one
// matching velocity.ErrNotFound, the record's *velocity.ObjectError, or
// one matching ErrSourceUnavailable.
func GetVelocityCustomer(ctx context.Context, src velocity.Source, id string) (*velocity.Customer, error) {
	var c *velocity.Customer
	var err error
	if cs, ok := src.(CustomerSource); ok {
		c, err = cs.GetCustomer(ctx, id)
	} else {
		c, err = scanRecord(src.Customers(ctx, time.Time{}), id, func(c *velocity.Customer) string { return c.ID })
	}
	return c, velocityReadErr(err)
}

// GetVelocityProduct reads one Velocity product by one pass over src's
// products (Velocity's API has no product by id). Errors as
// GetVelocityCustomer.
func GetVelocityProduct(ctx context.Context, src velocity.Source, id string) (*velocity.Product, error) {
	p, err := scanRecord(src.Products(ctx, time.Time{}), id, func(p *velocity.Product) string { return p.ID })
	return p, velocityReadErr(err)
}

func velocityReadErr(err error) error {
	if err == nil || errors.Is(err, velocity.ErrNotFound) || velocity.IsObjectError(err) {
		return err
	}
	return sourceErr{err}
}

func scanRecord[T any](seq func(func(*T, error) bool), id string, idOf func(*T) string) (*T, error) {
	for v, err := range seq {
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
		if v != nil && idOf(v) == id {
			return v, nil
		}
	}
	return nil, fmt.Errorf("find %s: %w", id, velocity.ErrNotFound)
}

// BlockedOrdersReader lists the orders a record blocks; *schema.Store
// implements it.
type BlockedOrdersReader interface {
	BlockedOrderNumbers(ctx context.Context, subjectKind, id string) ([]schema.BlockedOrder, error)
}

// linkSubject is the reasons' subject kind of a link kind's records.
func linkSubject(kind schema.LinkKind) SubjectKind {
	if kind == schema.ProductLinks {
		return SubjectProduct
	}
	return SubjectCustomer
}

// BlockedOrders lists the orders Velocity customer or product id blocks
// now, by number: the blocked rows whose reasons name it. Errors are the
// store's.
func BlockedOrders(ctx context.Context, st BlockedOrdersReader, kind schema.LinkKind, id string) ([]schema.BlockedOrder, error) {
	return st.BlockedOrderNumbers(ctx, string(linkSubject(kind)), id)
}

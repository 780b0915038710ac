package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// LinkRefusal says why a link was refused.
type LinkRefusal string

// Why a link is refused.
const (
	LinkNoVelocity      LinkRefusal = "velocity_not_found"
	LinkInvalidVelocity LinkRefusal = "velocity_invalid"
	LinkNoQBO           LinkRefusal = "qbo_not_found"
	LinkInactiveQBO     LinkRefusal = "qbo_inactive"
	// LinkHeld: the QBO record is linked to another Velocity record and
	// force was not given.
	LinkHeld LinkRefusal = "qbo_linked_elsewhere"
)

// LinkRefusedError is a link that CheckLink refused, with what the
// operator needs to fix it.
type LinkRefusedError struct {
	Code       LinkRefusal
	Kind       schema.LinkKind
	VelocityID string
	QBOID      string
	QBOName    string
	// HeldBy are the Velocity ids already linked to the QBO record (LinkHeld).
	HeldBy []string
	// Detail is why the Velocity record is invalid (LinkInvalidVelocity).
	Detail string
}

func (e *LinkRefusedError) Error() string {
	qboNoun := qboNoun(e.Kind)
	switch e.Code {
	case LinkNoVelocity:
		return fmt.Sprintf("Velocity has no %s %s (see `velqbo %ss list`)", e.Kind, e.VelocityID, e.Kind)
	case LinkInvalidVelocity:
		return fmt.Sprintf("Velocity %s %s is invalid: %s", e.Kind, e.VelocityID, e.Detail)
	case LinkNoQBO:
		hint := "look it up in QBO, or see what `velqbo customers match` proposes"
		if e.Kind == schema.ProductLinks {
			hint = "see `velqbo settings items`"
		}
		return fmt.Sprintf("QBO has no %s with id %s (%s)", qboNoun, e.QBOID, hint)
	case LinkInactiveQBO:
		if e.Kind == schema.ProductLinks {
			return fmt.Sprintf("QBO item %s (%q) is inactive or a category, which cannot be sold; reactivate it in QBO or choose another", e.QBOID, e.QBOName)
		}
		return fmt.Sprintf("QBO %s %s (%q) is inactive; reactivate it in QBO or choose another", qboNoun, e.QBOID, e.QBOName)
	case LinkHeld:
		if e.Kind == schema.ProductLinks {
			return fmt.Sprintf("QBO item %s (%q) is already linked to Velocity product %s; pass --force to link %s to it as well (the item is then shared)",
				e.QBOID, e.QBOName, strings.Join(e.HeldBy, ", "), e.VelocityID)
		}
		return fmt.Sprintf("QBO %s %s (%q) is already linked to Velocity %s %s; pass --force to move the link to %s",
			qboNoun, e.QBOID, e.QBOName, e.Kind, strings.Join(e.HeldBy, ", "), e.VelocityID)
	}
	return fmt.Sprintf("link of Velocity %s %s to QBO %s %s refused: %s", e.Kind, e.VelocityID, qboNoun, e.QBOID, e.Code)
}

// qboNoun is what QBO calls the record a link kind points at.
func qboNoun(kind schema.LinkKind) string {
	if kind == schema.ProductLinks {
		return "item"
	}
	return "customer"
}

// LinkTarget is the QBO record a link points at.
type LinkTarget struct {
	ID, Name string
	Active   bool
}

// LinkFacts is what CheckLink decides on: the request and what the
// source, QBO and the links say about it.
type LinkFacts struct {
	Kind              schema.LinkKind
	VelocityID, QBOID string
	// VelocityErr is the source's answer to a read of VelocityID: nil
	// when it exists, velocity.ErrNotFound or an *velocity.ObjectError.
	VelocityErr error
	// QBO is the QBO record; nil when QBO has none with QBOID.
	QBO *LinkTarget
	// HeldBy are the Velocity ids linked to QBOID now.
	HeldBy []string
	Force  bool
}

// CheckLink applies the linking rules: the Velocity record must exist and
// be valid, the QBO record must exist and be active, and a QBO record
// linked to another Velocity record is taken only with Force. It returns
// a *LinkRefusedError, an error wrapping ErrSourceUnavailable when the
// source could not answer, or nil.
func CheckLink(f LinkFacts) error {
	refuse := func(code LinkRefusal) *LinkRefusedError {
		e := &LinkRefusedError{Code: code, Kind: f.Kind, VelocityID: f.VelocityID, QBOID: f.QBOID}
		if f.QBO != nil {
			e.QBOName = f.QBO.Name
		}
		return e
	}
	var oe *velocity.ObjectError
	switch {
	case f.VelocityErr == nil:
	case errors.As(f.VelocityErr, &oe):
		e := refuse(LinkInvalidVelocity)
		e.Detail = oe.Reason
		return e
	case errors.Is(f.VelocityErr, velocity.ErrNotFound):
		return refuse(LinkNoVelocity)
	default:
		return fmt.Errorf("read Velocity %s %s: %w: %w", f.Kind, f.VelocityID, ErrSourceUnavailable, f.VelocityErr)
	}
	if f.QBO == nil {
		return refuse(LinkNoQBO)
	}
	if !f.QBO.Active {
		return refuse(LinkInactiveQBO)
	}
	if others := others(f.HeldBy, f.VelocityID); len(others) > 0 && !f.Force {
		e := refuse(LinkHeld)
		e.HeldBy = others
		return e
	}
	return nil
}

func others(ids []string, id string) []string {
	var out []string
	for _, o := range ids {
		if o != id {
			out = append(out, o)
		}
	}
	return out
}

// LinkLookup reads the QBO record a link would point at; QBOClient
// implements it. It returns nil and no error when QBO has no such record,
// and the qbo client's error otherwise.
type LinkLookup interface {
	LinkTarget(ctx context.Context, kind schema.LinkKind, id string) (*LinkTarget, error)
}

// LinkTarget reads a QBO customer or item by id.
func (q QBOClient) LinkTarget(ctx context.Context, kind schema.LinkKind, id string) (*LinkTarget, error) {
	var t LinkTarget
	var active *bool
	var err error
	if kind == schema.ProductLinks {
		var it *qbo.Item
		if it, _, err = q.C.Items.Get(ctx, id); err == nil {
			t, active = LinkTarget{ID: it.Id, Name: it.Name}, it.Active
			if it.Type == qbo.ItemTypeCategory {
				// A category cannot be sold: an order line cannot use it.
				active = new(bool)
			}
		}
	} else {
		var c *qbo.Customer
		if c, _, err = q.C.Customers.Get(ctx, id); err == nil {
			t, active = LinkTarget{ID: c.Id, Name: c.DisplayName}, c.Active
		}
	}
	if qbo.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read QBO %s %s: %w", qboNoun(kind), id, err)
	}
	// QBO omits Active only on partial reads; the record is then active.
	t.Active = active == nil || *active
	return &t, nil
}

// LinkStore is the part of *schema.Store that linking uses.
type LinkStore interface {
	LinksToQBO(ctx context.Context, kind schema.LinkKind, qboID string) ([]schema.Link, error)
	SaveLink(ctx context.Context, kind schema.LinkKind, l schema.Link) error
	MoveLink(ctx context.Context, kind schema.LinkKind, l schema.Link, release []string, audit []schema.AuditEntry) error
	DeleteLink(ctx context.Context, kind schema.LinkKind, velocityID string) error
}

// FindVelocityRecord reads a Velocity customer or product by id from src:
// customers through GetCustomer when src has it, products (Velocity's API
// has no product by id) and the customers of an export by one pass over
// the stream. It returns nil when the record exists, an error matching
// velocity.ErrNotFound when it does not, its *velocity.ObjectError when
// it is invalid, and the source's error otherwise.
func FindVelocityRecord(ctx context.Context, src velocity.Source, kind schema.LinkKind, id string) error {
	if kind == schema.CustomerLinks {
		if cs, ok := src.(CustomerSource); ok {
			_, err := cs.GetCustomer(ctx, id)
			return err
		}
		return scanFor(src.Customers(ctx, time.Time{}), id, func(c *velocity.Customer) string { return c.ID })
	}
	return scanFor(src.Products(ctx, time.Time{}), id, func(p *velocity.Product) string { return p.ID })
}

func scanFor[T any](seq func(func(*T, error) bool), id string, idOf func(*T) string) error {
	_, err := scanRecord(seq, id, idOf)
	return err
}

// Linker links Velocity customers and products to QBO records by hand,
// for the CLI and the console alike.
type Linker struct {
	Source velocity.Source
	QBO    LinkLookup
	Store  LinkStore
}

// LinkResult is a saved link.
type LinkResult struct {
	QBOName string
	// Moved are the Velocity ids a QBO customer was taken from (force).
	Moved []string
	// SharedWith are the Velocity products that keep their link to the
	// same QBO item (force on a product link).
	SharedWith []string
}

// Link checks a link with CheckLink and saves it (method manual). With
// force, a QBO customer linked to another Velocity customer is moved: its
// link is deleted and the move is written to the audit log, with the new
// link, in one transaction. A QBO item is shared instead: the other
// products keep their links, because several Velocity products (variants,
// a generic "parts" item) commonly sell as one QBO item, while one QBO
// customer standing for two Velocity customers would merge their books. Errors: a *LinkRefusedError, an error
// wrapping ErrSourceUnavailable, the qbo client's or the store's.
func (l Linker) Link(ctx context.Context, kind schema.LinkKind, velocityID, qboID string, force bool) (LinkResult, error) {
	f := LinkFacts{Kind: kind, VelocityID: velocityID, QBOID: qboID, Force: force}
	// The source's answer decides before QBO is asked.
	if f.VelocityErr = FindVelocityRecord(ctx, l.Source, kind, velocityID); f.VelocityErr != nil {
		return LinkResult{}, CheckLink(f)
	}
	t, err := l.QBO.LinkTarget(ctx, kind, qboID)
	if err != nil {
		return LinkResult{}, err
	}
	f.QBO = t
	held, err := l.Store.LinksToQBO(ctx, kind, qboID)
	if err != nil {
		return LinkResult{}, err
	}
	for _, h := range held {
		f.HeldBy = append(f.HeldBy, h.VelocityID)
	}
	if err := CheckLink(f); err != nil {
		return LinkResult{}, err
	}
	link := schema.Link{VelocityID: velocityID, QBOID: qboID, QBOName: t.Name, Method: schema.LinkManual}
	moved := others(f.HeldBy, velocityID)
	if len(moved) == 0 {
		return LinkResult{QBOName: t.Name}, l.Store.SaveLink(ctx, kind, link)
	}
	if kind == schema.ProductLinks {
		audit := []schema.AuditEntry{{Entity: "Item", Operation: "link", SourceKind: string(kind), SourceID: velocityID,
			QBOID: qboID, Outcome: "ok", Detail: fmt.Sprintf("shared with Velocity %s %s with --force", kind, strings.Join(moved, ", "))}}
		if err := l.Store.MoveLink(ctx, kind, link, nil, audit); err != nil {
			return LinkResult{}, err
		}
		return LinkResult{QBOName: t.Name, SharedWith: slices.Clone(moved)}, nil
	}
	entity := "Customer"
	var audit []schema.AuditEntry
	for _, m := range moved {
		audit = append(audit, schema.AuditEntry{Entity: entity, Operation: "unlink", SourceKind: string(kind), SourceID: m,
			QBOID: qboID, Outcome: "ok", Detail: fmt.Sprintf("link moved to Velocity %s %s with --force", kind, velocityID)})
	}
	audit = append(audit, schema.AuditEntry{Entity: entity, Operation: "link", SourceKind: string(kind), SourceID: velocityID,
		QBOID: qboID, Outcome: "ok", Detail: fmt.Sprintf("moved from Velocity %s %s with --force", kind, strings.Join(moved, ", "))})
	if err := l.Store.MoveLink(ctx, kind, link, moved, audit); err != nil {
		return LinkResult{}, err
	}
	return LinkResult{QBOName: t.Name, Moved: slices.Clone(moved)}, nil
}

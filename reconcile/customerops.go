package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// CreateOptions answer "QBO already has a customer with this email" for
// CreateLinked.
type CreateOptions struct {
	// LinkExisting links the one QBO customer with the email instead.
	LinkExisting bool
	// ForceNew creates a second QBO customer anyway.
	ForceNew bool
}

// AlreadyLinkedError refuses a create: the Velocity customer is linked.
type AlreadyLinkedError struct {
	VelocityID string
	Link       schema.Link
}

func (e *AlreadyLinkedError) Error() string {
	return fmt.Sprintf("Velocity customer %s is already linked to QBO customer %s (%s); `velqbo customers sync %s --keep velocity` copies its profile",
		e.VelocityID, e.Link.QBOID, e.Link.QBOName, e.VelocityID)
}

// ErrCreateOptions: LinkExisting and ForceNew were both asked for.
var ErrCreateOptions = errors.New("customers create takes --link-existing or --force-new, not both")

// ExistingCustomersError refuses a create because QBO already has active
// customers with the Velocity customer's email: a second one would split
// its books. The caller offers to link one (LinkExisting with exactly
// one) or to create anyway (ForceNew).
type ExistingCustomersError struct {
	VelocityID string
	Existing   []ExistingCustomer
}

func (e *ExistingCustomersError) Error() string {
	return fmt.Sprintf("QBO already has %d customer(s) with the email of Velocity customer %s, so none was created", len(e.Existing), e.VelocityID)
}

// LinkGetter reads one link; *schema.Store implements it.
type LinkGetter interface {
	GetLink(ctx context.Context, kind schema.LinkKind, velocityID string) (schema.Link, error)
}

// CheckCreate refuses a create before anything is read: an
// *AlreadyLinkedError when Velocity customer id is linked, ErrCreateOptions
// for contradictory options, the store's error otherwise.
func CheckCreate(ctx context.Context, st LinkGetter, id string, o CreateOptions) error {
	if l, err := st.GetLink(ctx, schema.CustomerLinks, id); err == nil {
		return &AlreadyLinkedError{VelocityID: id, Link: l}
	} else if !errors.Is(err, schema.ErrNotFound) {
		return err
	}
	if o.LinkExisting && o.ForceNew {
		return ErrCreateOptions
	}
	return nil
}

// CustomerCreator creates a Velocity customer's QBO customer and links
// the two, for `customers create` and the console's "Create a new one".
type CustomerCreator struct {
	Linker    Linker // links an existing customer (LinkExisting)
	Customers CustomerWriter
	Realm     string
	Store     LinkStore
}

// CreateResult is a create's outcome: the customer made or found, or, when
// Linked, the existing customer linked instead (Reason: why it was the
// one).
type CreateResult struct {
	CreatedCustomer
	Linked bool
	Reason string
}

// Create makes (or finds, see CreateCustomer) the QBO customer of vc and
// saves the link (method create). Unless o.ForceNew, the active QBO
// customers that already have vc's email come first: with o.LinkExisting
// and exactly one, that one is linked (Linker.Link, no force) and nothing
// is created; otherwise an *ExistingCustomersError.
//
// Errors: *ExistingCustomersError, *NameTakenError, Linker.Link's, the
// qbo client's (wrapped) and the store's.
func (cc CustomerCreator) Create(ctx context.Context, vc *velocity.Customer, o CreateOptions) (CreateResult, error) {
	if !o.ForceNew {
		existing, err := ExistingCustomers(ctx, cc.Customers, vc)
		if err != nil {
			return CreateResult{}, err
		}
		switch {
		case len(existing) == 1 && o.LinkExisting:
			e := existing[0]
			res, err := cc.Linker.Link(ctx, schema.CustomerLinks, vc.ID, e.QBOID, false)
			if err != nil {
				return CreateResult{}, err
			}
			return CreateResult{CreatedCustomer: CreatedCustomer{QBOID: e.QBOID, QBOName: res.QBOName}, Linked: true, Reason: e.Reason}, nil
		case len(existing) > 0:
			return CreateResult{}, &ExistingCustomersError{VelocityID: vc.ID, Existing: existing}
		}
	}
	created, err := CreateCustomer(ctx, cc.Customers, cc.Realm, vc)
	if err != nil {
		return CreateResult{}, err
	}
	if err := cc.Store.SaveLink(ctx, schema.CustomerLinks, schema.Link{VelocityID: vc.ID, QBOID: created.QBOID, QBOName: created.QBOName, Method: schema.LinkCreate}); err != nil {
		return CreateResult{}, fmt.Errorf("link created QBO customer %s: %w", created.QBOID, err)
	}
	return CreateResult{CreatedCustomer: created}, nil
}

// Which record's profile a sync keeps.
const (
	KeepVelocity = "velocity" // Velocity's profile is copied onto QBO
	KeepQBO      = "qbo"      // QBO's profile is copied onto Velocity
)

// ErrKeep: a sync needs KeepVelocity or KeepQBO.
var ErrKeep = errors.New("customers sync needs --keep velocity (Velocity's profile wins) or --keep qbo (QBO's wins)")

// QBOCustomerGoneError: the QBO customer of a link is gone or inactive.
type QBOCustomerGoneError struct{ VelocityID, QBOID string }

func (e *QBOCustomerGoneError) Error() string {
	return fmt.Sprintf("QBO customer %s, linked to Velocity customer %s, is gone or inactive: relink with `velqbo customers link`", e.QBOID, e.VelocityID)
}

// SyncChangedError: the record to write changed between the changes shown
// and the write; nothing was written.
type SyncChangedError struct{ QBOID string }

func (e *SyncChangedError) Error() string {
	return fmt.Sprintf("QBO customer %s changed while you were asked; nothing written, run the sync again to see the new changes", e.QBOID)
}

// CustomerUpdater reads and updates QBO customers; *qbo.CustomersService
// implements it.
type CustomerUpdater interface {
	Get(ctx context.Context, id string) (*qbo.Customer, *qbo.Response, error)
	SparseUpdate(ctx context.Context, c *qbo.Customer, opts *qbo.RequestOptions) (*qbo.Customer, *qbo.Response, error)
}

// CustomerPatcher updates a Velocity customer; *velocity.Client
// implements it.
type CustomerPatcher interface {
	PatchCustomer(ctx context.Context, id string, patch velocity.CustomerPatch) (*velocity.Customer, error)
}

// ProfileSync is a sync of a linked customer's profile, planned (Changes,
// Kept) and, after ProfileSyncer.Apply, Written.
type ProfileSync struct {
	VelocityID, QBOID string
	Keep              string
	Velocity          *velocity.Customer
	QBO               *qbo.Customer
	// Changes are the fields the write changes on the other record.
	Changes []FieldChange
	// Kept differ but are left alone: the kept record has them blank, and
	// sync never erases.
	Kept    []FieldChange
	Written bool
}

// Digest names p.Changes for a confirmation: Apply writes only while the
// changes are still those the person confirmed.
func (p ProfileSync) Digest() string { return ChangesDigest(p.Changes) }

// ChangesDigest is a short stable name of changes (hex).
func ChangesDigest(changes []FieldChange) string {
	sum := sha256.Sum256([]byte(ChangesKey(changes)))
	return hex.EncodeToString(sum[:12])
}

// ProfileSyncer plans and applies `customers sync`, for the CLI and the
// console alike.
type ProfileSyncer struct {
	QBO CustomerUpdater
	// Velocity is nil when the source is an export file: KeepQBO then
	// cannot be applied.
	Velocity CustomerPatcher
	Realm    string
}

// Plan reads the QBO customer of link and diffs it with vc for keep.
// Errors: ErrKeep, *QBOCustomerGoneError, the qbo client's (wrapped).
func (s ProfileSyncer) Plan(ctx context.Context, link schema.Link, vc *velocity.Customer, keep string) (ProfileSync, error) {
	if keep != KeepVelocity && keep != KeepQBO {
		return ProfileSync{}, ErrKeep
	}
	qc, err := s.getQBO(ctx, vc.ID, link.QBOID)
	if err != nil {
		return ProfileSync{}, err
	}
	return PlanProfileSync(vc, qc, keep), nil
}

// PlanProfileSync diffs the records of a linked customer: the changes that
// copying the kept record's profile onto the other would make.
func PlanProfileSync(vc *velocity.Customer, qc *qbo.Customer, keep string) ProfileSync {
	p := ProfileSync{VelocityID: vc.ID, QBOID: qc.Id, Keep: keep, Velocity: vc, QBO: qc}
	have, want := FromQBO(qc), FromVelocity(vc)
	if keep == KeepQBO {
		have, want = want, have
	}
	p.Changes, p.Kept = Diff(have, want), Kept(have, want)
	return p
}

func (s ProfileSyncer) getQBO(ctx context.Context, velocityID, qboID string) (*qbo.Customer, error) {
	qc, _, err := s.QBO.Get(ctx, qboID)
	if qbo.IsNotFound(err) {
		return nil, &QBOCustomerGoneError{VelocityID: velocityID, QBOID: qboID}
	} else if err != nil {
		return nil, fmt.Errorf("read QBO customer %s: %w", qboID, err)
	}
	return qc, nil
}

// Apply writes the planned sync p: only the fields that differ, nothing
// when they agree, so it is safe to repeat. confirmed is the Digest of
// the changes the person was shown; the write happens only while they
// are still the changes to make (a SyncChangedError otherwise). "" writes
// whatever the changes are (--yes). It returns p with Changes as written
// and Written set.
//
// Errors: *SyncChangedError, *QBOCustomerGoneError, the qbo client's and
// the Velocity client's, wrapped.
func (s ProfileSyncer) Apply(ctx context.Context, p ProfileSync, confirmed string) (ProfileSync, error) {
	if len(p.Changes) == 0 {
		return p, nil
	}
	switch p.Keep {
	case KeepVelocity:
		want := FromVelocity(p.Velocity)
		qc := p.QBO
		upd, changes := QBOUpdate(qc, want)
		// One re-read on 5010: someone saved the customer in QBO since our
		// read. The diff is recomputed against what they saved.
		for attempt := 0; upd != nil; attempt++ {
			if confirmed != "" && ChangesDigest(changes) != confirmed {
				return p, &SyncChangedError{QBOID: qc.Id}
			}
			// The SyncToken is part of the id: the same change of the same
			// version is one write, a change of a newer version another.
			// attempt too, since QBO keeps a 5010 under its requestid.
			rid := CustomerRequestID(s.Realm, "sync", qc.Id, qc.SyncToken, ChangesKey(changes), strconv.Itoa(attempt))
			_, _, err := s.QBO.SparseUpdate(ctx, upd, &qbo.RequestOptions{RequestID: rid})
			if err == nil {
				p.Written = true
				break
			}
			if !qbo.IsStaleObject(err) || attempt > 0 {
				return p, fmt.Errorf("update QBO customer %s from Velocity customer %s: %w", qc.Id, p.VelocityID, err)
			}
			if qc, err = s.getQBO(ctx, p.VelocityID, qc.Id); err != nil {
				return p, err
			}
			upd, changes = QBOUpdate(qc, want)
			p.QBO, p.Changes = qc, changes
		}
	case KeepQBO:
		if s.Velocity == nil {
			return p, errors.New("keeping QBO's profile writes to Velocity and needs its API, not an export file")
		}
		patch, changes, ok := VelocityPatch(p.Velocity, FromQBO(p.QBO))
		if confirmed != "" && ChangesDigest(changes) != confirmed {
			return p, &SyncChangedError{QBOID: p.QBOID}
		}
		p.Changes = changes
		if ok {
			if _, err := s.Velocity.PatchCustomer(ctx, p.VelocityID, patch); err != nil {
				return p, fmt.Errorf("update Velocity customer %s from QBO customer %s: %w", p.VelocityID, p.QBOID, err)
			}
			p.Written = true
		}
	default:
		return p, ErrKeep
	}
	return p, nil
}

// ProfileField is one profile field of both records of a linked customer,
// for showing them side by side.
type ProfileField struct {
	Field         string
	Velocity, QBO string
	Differs       bool
}

// ProfileFields lists the fields a sync copies, with both records' values
// (trimmed), in Diff's order.
func ProfileFields(vel, q CustomerProfile) []ProfileField {
	var out []ProfileField
	add := func(field, v, qv string) {
		out = append(out, ProfileField{Field: field, Velocity: v, QBO: qv, Differs: v != qv})
	}
	text := func(field, v, qv string) {
		add(field, strings.TrimSpace(v), strings.TrimSpace(qv))
	}
	text(FieldFirstName, vel.FirstName, q.FirstName)
	text(FieldLastName, vel.LastName, q.LastName)
	text(FieldCompany, vel.Company, q.Company)
	text(FieldEmail, vel.Email, q.Email)
	text(FieldPhone, vel.Phone, q.Phone)
	add(FieldBilling, vel.Billing.trim().String(), q.Billing.trim().String())
	add(FieldShipping, vel.Shipping.trim().String(), q.Shipping.trim().String())
	return out
}

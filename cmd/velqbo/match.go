package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// matchOutput is `customers match --json` / `products match --json`.
type matchOutput struct {
	Proposals []reconcile.Proposal `json:"proposals"`
	Proposed  int                  `json:"proposed"`  // applicable proposals
	Conflicts int                  `json:"conflicts"` // proposals naming a QBO record claimed twice
	Ambiguous int                  `json:"ambiguous"` // no proposal: several QBO candidates
	Applied   int                  `json:"applied"`   // saved by --apply
	Invalid   []string             `json:"invalid,omitempty"`
}

// matchLinks proposes links for the unlinked Velocity customers or
// products and, with --apply, saves the proposals that conflict with
// nothing. Conflicts and ambiguities are shown and left for `link`.
func (m *Main) matchLinks(ctx context.Context, st *schema.Store, kind schema.LinkKind, f linkFlags) error {
	src, _, err := m.velocitySource()
	if err != nil {
		return err
	}
	conn, err := m.connectQBO(ctx, st)
	if err != nil {
		return err
	}
	links, err := st.ListLinks(ctx, kind)
	if err != nil {
		return err
	}
	existing := make(map[string]string, len(links))
	for _, l := range links {
		existing[l.VelocityID] = l.QBOID
	}
	var out matchOutput
	if kind == schema.CustomerLinks {
		var vel []reconcile.CustomerProfile
		for c, err := range src.Customers(ctx, timeZero) {
			if err != nil {
				if velocity.IsObjectError(err) {
					out.Invalid = append(out.Invalid, err.Error())
					continue
				}
				return unavailable(fmt.Errorf("read Velocity customers: %w", err))
			}
			vel = append(vel, reconcile.FromVelocity(c))
		}
		qcs, err := conn.Client.Customers.QueryAll(ctx, "")
		if err != nil {
			return qboError(fmt.Errorf("read QBO customers: %w", err))
		}
		qs := make([]reconcile.QBOCustomer, len(qcs))
		for i := range qcs {
			qs[i] = reconcile.QBOCustomerOf(&qcs[i])
		}
		out.Proposals = reconcile.MatchCustomers(vel, qs, existing)
	} else {
		var vel []velocity.Product
		for p, err := range src.Products(ctx, timeZero) {
			if err != nil {
				if velocity.IsObjectError(err) {
					out.Invalid = append(out.Invalid, err.Error())
					continue
				}
				return unavailable(fmt.Errorf("read Velocity products: %w", err))
			}
			vel = append(vel, *p)
		}
		its, err := conn.Client.Items.QueryAll(ctx, "")
		if err != nil {
			return qboError(fmt.Errorf("read QBO items: %w", err))
		}
		qs := make([]reconcile.QBOItem, len(its))
		for i := range its {
			qs[i] = reconcile.QBOItemOf(&its[i])
		}
		out.Proposals = reconcile.MatchProducts(vel, qs, existing)
	}
	if out.Proposals == nil {
		out.Proposals = []reconcile.Proposal{}
	}
	for _, p := range out.Proposals {
		switch {
		case p.Applicable():
			out.Proposed++
		case p.QBOID == "":
			out.Ambiguous++
		default:
			out.Conflicts++
		}
	}
	var applied []reconcile.Proposal
	if f.apply {
		for _, p := range out.Proposals {
			if !p.Applicable() {
				continue
			}
			if err := st.SaveLink(ctx, kind, schema.Link{VelocityID: p.VelocityID, QBOID: p.QBOID, QBOName: p.QBOName, Method: schema.LinkMatch}); err != nil {
				return fmt.Errorf("apply match: %w", err)
			}
			applied = append(applied, p)
			out.Applied++
		}
	}
	if f.asJSON {
		return writeJSON(m.Stdout, out)
	}
	m.printProposals(kind, out, f.apply)
	return nil
}

func (m *Main) printProposals(kind schema.LinkKind, out matchOutput, applied bool) {
	noun := string(kind)
	if len(out.Proposals) == 0 {
		fmt.Fprintf(m.Stdout, "no new %s links to propose\n", noun)
	} else {
		tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VELOCITY ID\tNAME\tQBO ID\tQBO NAME\tREASON\tSTATUS")
		for _, p := range out.Proposals {
			status := "proposed"
			switch {
			case p.Applicable() && applied:
				status = "linked"
			case p.QBOID == "":
				status = "ambiguous: " + p.Conflict
			case p.Conflict != "":
				status = "not applied: " + p.Conflict
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.VelocityID, p.VelocityName, dash(p.QBOID), p.QBOName, p.Reason, status)
		}
		tw.Flush()
		fmt.Fprintf(m.Stdout, "\n%d proposed, %d in conflict, %d ambiguous.", out.Proposed, out.Conflicts, out.Ambiguous)
		switch {
		case applied:
			fmt.Fprintf(m.Stdout, " Linked %d.", out.Applied)
		case out.Proposed > 0:
			fmt.Fprintf(m.Stdout, " Run `velqbo %ss match --apply` to save the %d proposed.", noun, out.Proposed)
		}
		if out.Conflicts+out.Ambiguous > 0 {
			fmt.Fprintf(m.Stdout, " Link the others by hand: `velqbo %ss link VELOCITY_ID QBO_ID`.", noun)
		}
		fmt.Fprintln(m.Stdout)
	}
	for _, p := range out.Invalid {
		fmt.Fprintf(m.Stderr, "invalid: %s\n", p)
	}
}

// velocityCustomer reads one Velocity customer from the configured source.
// The client is nil when the source is an export file.
func (m *Main) velocityCustomer(ctx context.Context, id string) (*velocity.Customer, *velocity.Client, error) {
	src, client, err := m.velocitySource()
	if err != nil {
		return nil, nil, err
	}
	if client != nil {
		c, err := client.GetCustomer(ctx, id)
		if err != nil {
			return nil, nil, velocityCustomerError(id, err)
		}
		return c, client, nil
	}
	c, err := reconcile.FileSource{FileSource: src.(*velocity.FileSource)}.GetCustomer(ctx, id)
	if err != nil {
		return nil, nil, velocityCustomerError(id, err)
	}
	return c, nil, nil
}

func velocityCustomerError(id string, err error) error {
	switch {
	case errors.Is(err, velocity.ErrNotFound):
		return usageErrorf("Velocity has no customer %s (see `velqbo customers list`)", id)
	case velocity.IsObjectError(err):
		return usageErrorf("Velocity customer %s is invalid: %v", id, err)
	}
	return unavailable(fmt.Errorf("read Velocity customer %s: %w", id, err))
}

// createOutput is `customers create --json`.
type createOutput struct {
	VelocityID string `json:"velocity_id"`
	QBOID      string `json:"qbo_id"`
	QBOName    string `json:"qbo_name"`
	// Renamed is set when the plain DisplayName was taken and the customer
	// number was added.
	Renamed bool `json:"renamed"`
	// Found is set when the customer had been created by an earlier,
	// interrupted run and was only linked now.
	Found bool `json:"found,omitempty"`
}

// createCustomer pushes a Velocity customer to QBO as a new customer and
// links the two.
//
// Exactly once: a customer velqbo created carries a marker in its Notes,
// and an earlier run that created it but never saved the link is found by
// that marker before anything is created. Each create carries a
// deterministic requestid, so a lost answer replayed within QBO's memory
// returns the same customer.
func (m *Main) createCustomer(ctx context.Context, st *schema.Store, f linkFlags, id string) error {
	if l, err := st.GetLink(ctx, schema.CustomerLinks, id); err == nil {
		return usageErrorf("Velocity customer %s is already linked to QBO customer %s (%s); `velqbo customers sync %s --keep velocity` copies its profile", id, l.QBOID, l.QBOName, id)
	} else if !errors.Is(err, schema.ErrNotFound) {
		return err
	}
	vc, _, err := m.velocityCustomer(ctx, id)
	if err != nil {
		return err
	}
	conn, err := m.connectQBO(ctx, st)
	if err != nil {
		return err
	}
	created, err := reconcile.CreateCustomer(ctx, conn.Client.Customers, conn.Realm, vc)
	var taken *reconcile.NameTakenError
	switch {
	case errors.As(err, &taken):
		return usageErrorf("%s", reasonText(taken.Reason()))
	case err != nil:
		return qboError(err)
	}
	out := createOutput{VelocityID: id, QBOID: created.QBOID, QBOName: created.QBOName, Renamed: created.Renamed, Found: created.Found}
	plain := reconcile.DisplayName(reconcile.FromVelocity(vc))
	if out.Renamed && !out.Found {
		m.Log.WithField("velocity_id", id).Infof("QBO DisplayName %q is taken; added the customer number", plain)
	}
	if err := st.SaveLink(ctx, schema.CustomerLinks, schema.Link{VelocityID: id, QBOID: created.QBOID, QBOName: created.QBOName, Method: schema.LinkCreate}); err != nil {
		return fmt.Errorf("link created QBO customer %s: %w", created.QBOID, err)
	}
	if f.asJSON {
		return writeJSON(m.Stdout, out)
	}
	verb := "created"
	if out.Found {
		verb = "found (created by an earlier run)"
	}
	fmt.Fprintf(m.Stdout, "%s QBO customer %s %q for Velocity customer %s, and linked them\n", verb, created.QBOID, created.QBOName, id)
	if out.Renamed {
		fmt.Fprintf(m.Stdout, "the name %q is used by another QBO customer, vendor or employee, so the customer number was added\n", plain)
	}
	return nil
}

// syncOutput is `customers sync --json`.
type syncOutput struct {
	VelocityID string                  `json:"velocity_id"`
	QBOID      string                  `json:"qbo_id"`
	Keep       string                  `json:"keep"`
	Changes    []reconcile.FieldChange `json:"changes"`
	Written    bool                    `json:"written"`
}

// syncCustomer copies the profile of one side of a linked customer onto
// the other. It writes only the fields that differ, and nothing when they
// agree, so it is safe to repeat.
func (m *Main) syncCustomer(ctx context.Context, st *schema.Store, f linkFlags, id string) error {
	if f.keep != "velocity" && f.keep != "qbo" {
		return usageErrorf("customers sync needs --keep velocity (Velocity's profile wins) or --keep qbo (QBO's wins)")
	}
	if f.keep == "qbo" && m.Config.Velocity.File != "" {
		return &ConfigValidationError{Field: "--velocity-file", Value: m.Config.Velocity.File, Err: errors.New("--keep qbo writes to Velocity and needs its API (VELQBO_VELOCITY_URL/VELQBO_VELOCITY_TOKEN), not an export file")}
	}
	link, err := st.GetLink(ctx, schema.CustomerLinks, id)
	if errors.Is(err, schema.ErrNotFound) {
		return usageErrorf("Velocity customer %s is not linked to a QBO customer: run `velqbo customers link`, `match --apply` or `create` first", id)
	} else if err != nil {
		return err
	}
	vc, vclient, err := m.velocityCustomer(ctx, id)
	if err != nil {
		return err
	}
	conn, err := m.connectQBO(ctx, st)
	if err != nil {
		return err
	}
	getQBO := func() (*qbo.Customer, error) {
		qc, _, err := conn.Client.Customers.Get(ctx, link.QBOID)
		if qbo.IsNotFound(err) {
			return nil, usageErrorf("QBO customer %s, linked to Velocity customer %s, is gone or inactive: relink with `velqbo customers link`", link.QBOID, id)
		} else if err != nil {
			return nil, qboError(fmt.Errorf("read QBO customer %s: %w", link.QBOID, err))
		}
		return qc, nil
	}
	qc, err := getQBO()
	if err != nil {
		return err
	}
	out := syncOutput{VelocityID: id, QBOID: link.QBOID, Keep: f.keep}
	switch f.keep {
	case "velocity":
		want := reconcile.FromVelocity(vc)
		upd, changes := reconcile.QBOUpdate(qc, want)
		out.Changes = changes
		// One re-read on 5010: someone saved the customer in QBO since our
		// read. The diff is recomputed against what they saved.
		for attempt := 0; upd != nil; attempt++ {
			// The SyncToken is part of the id: the same change of the same
			// version is one write, a change of a newer version another.
			// attempt too, since QBO keeps a 5010 under its requestid.
			rid := reconcile.CustomerRequestID(conn.Realm, "sync", qc.Id, qc.SyncToken, reconcile.ChangesKey(changes), strconv.Itoa(attempt))
			_, _, err := conn.Client.Customers.SparseUpdate(ctx, upd, &qbo.RequestOptions{RequestID: rid})
			if err == nil {
				out.Written = true
				break
			}
			if !qbo.IsStaleObject(err) || attempt > 0 {
				return qboError(fmt.Errorf("update QBO customer %s from Velocity customer %s: %w", qc.Id, id, err))
			}
			if qc, err = getQBO(); err != nil {
				return err
			}
			upd, changes = reconcile.QBOUpdate(qc, want)
			out.Changes = changes
		}
	case "qbo":
		patch, changes, ok := reconcile.VelocityPatch(vc, reconcile.FromQBO(qc))
		out.Changes = changes
		if ok {
			if _, err := vclient.PatchCustomer(ctx, id, patch); err != nil {
				return fmt.Errorf("update Velocity customer %s from QBO customer %s: %w", id, qc.Id, err)
			}
			out.Written = true
		}
	}
	if out.Changes == nil {
		out.Changes = []reconcile.FieldChange{}
	}
	if f.asJSON {
		return writeJSON(m.Stdout, out)
	}
	if !out.Written {
		fmt.Fprintf(m.Stdout, "Velocity customer %s and QBO customer %s (%s) are already in sync; nothing written\n", id, qc.Id, qc.DisplayName)
		return nil
	}
	target := fmt.Sprintf("QBO customer %s (%s)", qc.Id, qc.DisplayName)
	source := "Velocity customer " + id
	if f.keep == "qbo" {
		target, source = source, fmt.Sprintf("QBO customer %s (%s)", qc.Id, qc.DisplayName)
	}
	fmt.Fprintf(m.Stdout, "updated %s from %s:\n", target, source)
	for _, c := range out.Changes {
		fmt.Fprintf(m.Stdout, "  %s\n", c)
	}
	return nil
}

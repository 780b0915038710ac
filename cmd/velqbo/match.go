package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

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
	found, err := reconcile.MatchLinks(ctx, src, reconcile.QBOClient{C: conn.Client}, kind, existing)
	switch {
	case errors.Is(err, reconcile.ErrSourceUnavailable):
		return unavailable(err)
	case err != nil:
		return qboError(err)
	}
	out := matchOutput{Proposals: found.Proposals, Invalid: found.Invalid}
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
	if f.apply {
		applied, err := reconcile.ApplyMatches(ctx, st, kind, out.Proposals)
		if err != nil {
			return err
		}
		out.Applied = len(applied)
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

// velocityCustomer reads one customer from the configured source. The
// client is nil when the source is an export file.
func (m *Main) velocityCustomer(ctx context.Context, id string) (*velocity.Customer, sourceAPI, error) {
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
	// Linked is set when --link-existing linked a QBO customer that
	// already had the email; nothing was created.
	Linked bool `json:"linked,omitempty"`
}

// createCustomer pushes a Velocity customer to QBO as a new customer and
// links the two (reconcile.CustomerCreator, which the console uses too).
func (m *Main) createCustomer(ctx context.Context, st *schema.Store, f linkFlags, id string) error {
	opts := reconcile.CreateOptions{LinkExisting: f.linkExisting, ForceNew: f.forceNew}
	if err := reconcile.CheckCreate(ctx, st, id, opts); err != nil {
		var al *reconcile.AlreadyLinkedError
		if errors.As(err, &al) || errors.Is(err, reconcile.ErrCreateOptions) {
			return usageErrorf("%s", err.Error())
		}
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
	src, _, err := m.velocitySource()
	if err != nil {
		return err
	}
	cc := reconcile.CustomerCreator{
		Linker:    reconcile.Linker{Source: src, QBO: reconcile.QBOClient{C: conn.Client}, Store: st},
		Customers: conn.Client.Customers, Realm: conn.Realm, Store: st,
	}
	res, err := cc.Create(ctx, vc, opts)
	var taken *reconcile.NameTakenError
	var existing *reconcile.ExistingCustomersError
	var refused *reconcile.LinkRefusedError
	switch {
	case errors.As(err, &existing):
		return existingCustomersError(id, existing.Existing)
	case errors.As(err, &taken):
		return usageErrorf("%s", m.reasonText(taken.Reason()))
	case errors.As(err, &refused), errors.Is(err, reconcile.ErrSourceUnavailable):
		return linkError(err)
	case err != nil:
		return qboError(err)
	}
	if res.Linked {
		if f.asJSON {
			return writeJSON(m.Stdout, createOutput{VelocityID: id, QBOID: res.QBOID, QBOName: res.QBOName, Linked: true})
		}
		fmt.Fprintf(m.Stdout, "linked Velocity customer %s to the existing QBO customer %s %q (%s); nothing created\n", id, res.QBOID, res.QBOName, res.Reason)
		return nil
	}
	out := createOutput{VelocityID: id, QBOID: res.QBOID, QBOName: res.QBOName, Renamed: res.Renamed, Found: res.Found}
	plain := reconcile.DisplayName(reconcile.FromVelocity(vc))
	if out.Renamed && !out.Found {
		m.Log.WithField("velocity_id", id).Infof("QBO DisplayName %q is taken; added the customer number", plain)
	}
	if f.asJSON {
		return writeJSON(m.Stdout, out)
	}
	verb := "created"
	if out.Found {
		verb = "found (created by an earlier run)"
	}
	fmt.Fprintf(m.Stdout, "%s QBO customer %s %q for Velocity customer %s, and linked them\n", verb, res.QBOID, res.QBOName, id)
	if out.Renamed {
		fmt.Fprintf(m.Stdout, "the name %q is used by another QBO customer, vendor or employee, so the customer number was added\n", plain)
	}
	return nil
}

// existingCustomersError is create's refusal when QBO already has
// customers with the email (exit 2): it says how to link one or to create
// a second customer anyway.
func existingCustomersError(id string, existing []reconcile.ExistingCustomer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "QBO already has a customer with the email of Velocity customer %s, so none was created:", id)
	for _, e := range existing {
		fmt.Fprintf(&b, "\n  QBO customer %s %q (%s)", e.QBOID, e.QBOName, e.Reason)
	}
	if len(existing) == 1 {
		fmt.Fprintf(&b, "\nlink it instead: `velqbo customers link %s %s`, or `velqbo customers create %s --link-existing`", id, existing[0].QBOID, id)
	} else {
		fmt.Fprintf(&b, "\nlink one of them instead: `velqbo customers link %s QBO_ID`", id)
	}
	fmt.Fprintf(&b, "\nto create a second QBO customer anyway: `velqbo customers create %s --force-new`", id)
	return usageErrorf("%s", b.String())
}

// syncOutput is `customers sync --json`.
type syncOutput struct {
	VelocityID string                  `json:"velocity_id"`
	QBOID      string                  `json:"qbo_id"`
	Keep       string                  `json:"keep"`
	Changes    []reconcile.FieldChange `json:"changes"`
	// Kept are the fields that differ but that sync leaves alone: the
	// winning record has them blank, and sync never erases.
	Kept    []reconcile.FieldChange `json:"kept"`
	Written bool                    `json:"written"`
}

// errNotConfirmed: sync showed its changes and wrote nothing, because
// there was no terminal to ask and no --yes.
var errNotConfirmed = usageErrorf("nothing written: pass --yes to write these changes (there is no terminal to ask)")

// syncCustomer copies the profile of one side of a linked customer onto
// the other (reconcile.ProfileSyncer, which the console uses too). It
// shows the fields it would change, both records' values, and writes them
// only once confirmed: on a terminal by answering y, else by --yes. It
// writes only the fields that differ, and nothing when they agree, so it
// is safe to repeat.
func (m *Main) syncCustomer(ctx context.Context, st *schema.Store, f linkFlags, id string) error {
	if f.keep != reconcile.KeepVelocity && f.keep != reconcile.KeepQBO {
		return usageErrorf("%s", reconcile.ErrKeep.Error())
	}
	if f.keep == reconcile.KeepQBO && m.Config.Velocity.File != "" {
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
	syncer := reconcile.ProfileSyncer{QBO: conn.Client.Customers, Realm: conn.Realm}
	if vclient != nil {
		syncer.Velocity = vclient
	}
	plan, err := syncer.Plan(ctx, link, vc, f.keep)
	if err != nil {
		return syncError(err)
	}
	qc := plan.QBO
	out := syncOutput{VelocityID: id, QBOID: link.QBOID, Keep: f.keep, Changes: plan.Changes, Kept: plan.Kept}
	qboName := fmt.Sprintf("QBO customer %s (%s)", qc.Id, qc.DisplayName)
	velName := "Velocity customer " + id
	target, source, winner := qboName, velName, "Velocity"
	if f.keep == reconcile.KeepQBO {
		target, source, winner = velName, qboName, "QBO"
	}
	if len(out.Changes) > 0 {
		if err := m.confirmSync(f, out, target, source); errors.Is(err, errDeclined) {
			fmt.Fprintln(m.Stdout, "nothing written")
			return nil
		} else if err != nil {
			return err
		}
	}
	confirmed := plan.Digest()
	if f.yes {
		confirmed = ""
	}
	done, err := syncer.Apply(ctx, plan, confirmed)
	if err != nil {
		return syncError(err)
	}
	out.Changes, out.Written = done.Changes, done.Written
	if out.Changes == nil {
		out.Changes = []reconcile.FieldChange{}
	}
	if out.Kept == nil {
		out.Kept = []reconcile.FieldChange{}
	}
	if f.asJSON {
		return writeJSON(m.Stdout, out)
	}
	if !out.Written {
		if len(out.Kept) == 0 {
			fmt.Fprintf(m.Stdout, "Velocity customer %s and QBO customer %s (%s) are already in sync; nothing written\n", id, qc.Id, qc.DisplayName)
			return nil
		}
		fmt.Fprintf(m.Stdout, "nothing to write to %s: these fields differ, but %s has them blank and sync never erases:\n", target, winner)
		printChanges(m, out.Kept)
		return nil
	}
	fmt.Fprintf(m.Stdout, "updated %s from %s:\n", target, source)
	printChanges(m, out.Changes)
	if len(out.Kept) > 0 {
		fmt.Fprintf(m.Stdout, "left alone (blank in %s, sync never erases):\n", winner)
		printChanges(m, out.Kept)
	}
	return nil
}

// syncError maps the sync engine's errors to exit codes: a gone QBO
// customer or a change while asked is a usage error (2).
func syncError(err error) error {
	var gone *reconcile.QBOCustomerGoneError
	var changed *reconcile.SyncChangedError
	if errors.As(err, &gone) || errors.As(err, &changed) {
		return usageErrorf("%s", err.Error())
	}
	return qboError(err)
}

func printChanges(m *Main, changes []reconcile.FieldChange) {
	for _, c := range changes {
		fmt.Fprintf(m.Stdout, "  %s\n", c)
	}
}

// confirmSync shows the changes a sync would write and returns nil when
// they may be written: --yes, or y on a terminal. Declined, it returns
// errDeclined (sync then exits 0); with no terminal and no --yes, errNotConfirmed (exit 2)
// after printing the changes (as JSON with --json).
func (m *Main) confirmSync(f linkFlags, out syncOutput, target, source string) error {
	if f.yes {
		return nil
	}
	interactive := m.Interactive != nil && m.Interactive()
	if f.asJSON && !interactive {
		out.Kept = nonNil(out.Kept)
		if err := writeJSON(m.Stdout, out); err != nil {
			return err
		}
		return errNotConfirmed
	}
	w := m.Stdout
	if f.asJSON {
		w = m.Stderr // stdout carries only the JSON
	}
	fmt.Fprintf(w, "%s would change, from %s:\n", target, source)
	for _, c := range out.Changes {
		fmt.Fprintf(w, "  %s\n", c)
	}
	if !interactive {
		return errNotConfirmed
	}
	fmt.Fprintf(m.Stderr, "Write %d change(s) to %s? [y/N] ", len(out.Changes), target)
	answer, _ := bufio.NewReader(m.Stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return errDeclined
}

// errDeclined: the operator answered no; nothing is written.
var errDeclined = errors.New("not confirmed")

func nonNil(c []reconcile.FieldChange) []reconcile.FieldChange {
	if c == nil {
		return []reconcile.FieldChange{}
	}
	return c
}

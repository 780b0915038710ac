package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
)

// linkFlags are the flags of `customers` and `products`.
type linkFlags struct {
	asJSON, unlinked, apply bool
	keep                    string
	// force moves a link off another Velocity record (link).
	force bool
	// linkExisting and forceNew answer create's "QBO already has a
	// customer with this email".
	linkExisting, forceNew bool
	// yes writes sync's changes without asking.
	yes bool
}

func customersCommand() command {
	var f linkFlags
	return command{
		name:  "customers",
		flags: f.register,
		run: func(ctx context.Context, m *Main, args []string) error {
			return m.linksCommand(ctx, schema.CustomerLinks, f, args)
		},
	}
}

func productsCommand() command {
	var f linkFlags
	return command{
		name:  "products",
		flags: f.registerProducts,
		run: func(ctx context.Context, m *Main, args []string) error {
			return m.linksCommand(ctx, schema.ProductLinks, f, args)
		},
	}
}

func (f *linkFlags) register(fs *flag.FlagSet) {
	f.registerProducts(fs)
	fs.StringVar(&f.keep, "keep", "", "with sync: velocity or qbo, the record whose profile wins")
	fs.BoolVar(&f.yes, "yes", false, "with sync: write the changes without asking")
	fs.BoolVar(&f.linkExisting, "link-existing", false, "with create: link the QBO customer that already has the email instead of creating one")
	fs.BoolVar(&f.forceNew, "force-new", false, "with create: create a new QBO customer even if one already has the email")
}

func (f *linkFlags) registerProducts(fs *flag.FlagSet) {
	fs.BoolVar(&f.asJSON, "json", false, "print JSON")
	fs.BoolVar(&f.unlinked, "unlinked", false, "list only records without a QBO link")
	fs.BoolVar(&f.apply, "apply", false, "with match: save the proposed links")
	fs.BoolVar(&f.force, "force", false, "with link: take a QBO record already linked to another Velocity record (a customer's link moves; an item is shared)")
}

func (m *Main) linksCommand(ctx context.Context, kind schema.LinkKind, f linkFlags, args []string) error {
	noun := string(kind) + "s"
	want := map[string]int{"list": 0, "link": 2, "unlink": 1, "match": 0}
	subs := "list, link, unlink, match"
	if kind == schema.CustomerLinks {
		want["create"], want["sync"] = 1, 1
		subs += ", create, sync"
	}
	if len(args) == 0 {
		return usageErrorf("%s needs a subcommand: %s", noun, subs)
	}
	sub, args := args[0], args[1:]
	n, ok := want[sub]
	if !ok {
		return usageErrorf("unknown %s subcommand %q", noun, sub)
	}
	if len(args) != n {
		return usageErrorf("%s %s takes %d argument(s), got %d", noun, sub, n, len(args))
	}
	st, err := m.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "match":
		return m.matchLinks(ctx, st, kind, f)
	case "create":
		return m.createCustomer(ctx, st, f, args[0])
	case "sync":
		return m.syncCustomer(ctx, st, f, args[0])
	case "link":
		return m.link(ctx, st, kind, f.force, args[0], args[1])
	case "unlink":
		if err := (reconcile.Linker{Store: st}).Unlink(ctx, kind, args[0]); err != nil {
			if errors.Is(err, schema.ErrNotFound) {
				return usageErrorf("%s %s is not linked", kind, args[0])
			}
			return err
		}
		fmt.Fprintf(m.Stdout, "unlinked Velocity %s %s\n", kind, args[0])
		return nil
	default:
		return m.listLinks(ctx, st, kind, f)
	}
}

// link saves a link after reconcile.Linker's checks, so that a typo is
// caught here rather than as a link that never shows or a blocked order
// later: the Velocity record must exist, the QBO record must exist and be
// active, and one linked to another Velocity record moves only with force.
func (m *Main) link(ctx context.Context, st *schema.Store, kind schema.LinkKind, force bool, velocityID, qboID string) error {
	src, _, err := m.velocitySource()
	if err != nil {
		return err
	}
	conn, err := m.connectQBO(ctx, st)
	if err != nil {
		return err
	}
	l := reconcile.Linker{Source: src, QBO: reconcile.QBOClient{C: conn.Client}, Store: st}
	res, err := l.Link(ctx, kind, velocityID, qboID, force)
	if err != nil {
		return linkError(err)
	}
	qboNoun := "customer"
	if kind == schema.ProductLinks {
		qboNoun = "item"
	}
	for _, old := range res.Moved {
		fmt.Fprintf(m.Stdout, "unlinked Velocity %s %s from QBO %s %s (--force)\n", kind, old, qboNoun, qboID)
	}
	fmt.Fprintf(m.Stdout, "linked Velocity %s %s to QBO %s %s (%s)\n", kind, velocityID, qboNoun, qboID, res.QBOName)
	if len(res.SharedWith) > 0 {
		fmt.Fprintf(m.Stdout, "QBO %s %s is shared with Velocity %s %s (--force)\n", qboNoun, qboID, kind, strings.Join(res.SharedWith, ", "))
	}
	return nil
}

// linkError maps Linker's errors to exit codes: a refusal is a usage
// error (2), an unreachable source or QBO exit 3.
func linkError(err error) error {
	var re *reconcile.LinkRefusedError
	switch {
	case errors.As(err, &re):
		return usageErrorf("%s", re.Error())
	case errors.Is(err, reconcile.ErrSourceUnavailable):
		return unavailable(err)
	}
	return qboError(err)
}

// linkRow is a row of `customers list --json` and `products list --json`.
type linkRow = reconcile.LinkRow

// listLinks lists the Velocity records with their links
// (reconcile.ListLinks, which the console uses too).
func (m *Main) listLinks(ctx context.Context, st *schema.Store, kind schema.LinkKind, f linkFlags) error {
	src, _, err := m.velocitySource()
	if err != nil {
		return err
	}
	list, err := reconcile.ListLinks(ctx, src, st, kind, reconcile.LinkFilter{Unlinked: f.unlinked})
	if errors.Is(err, reconcile.ErrSourceUnavailable) {
		return unavailable(err)
	} else if err != nil {
		return err
	}
	rows, problems := list.Rows, list.Invalid
	if f.asJSON {
		return writeJSON(m.Stdout, map[string]any{string(kind) + "s": rows, "invalid": problems})
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	if kind == schema.CustomerLinks {
		fmt.Fprintln(tw, "VELOCITY ID\tNUMBER\tNAME\tEMAIL\tQBO ID\tQBO NAME")
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.VelocityID, r.Number, r.Name, r.Email, dash(r.QBOID), r.QBOName)
		}
	} else {
		fmt.Fprintln(tw, "VELOCITY ID\tSKU\tNAME\tQBO ID\tQBO NAME")
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.VelocityID, r.SKU, r.Name, dash(r.QBOID), r.QBOName)
		}
	}
	tw.Flush()
	for _, p := range problems {
		fmt.Fprintf(m.Stderr, "invalid: %s\n", p)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/user"
	"strings"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
)

// retryCommand is `velqbo retry ORDER_NUMBER...`: the failed and skipped
// objects of each order are sent again by the next run.
func retryCommand() command {
	var by string
	return command{
		name: "retry",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&by, "by", "", "who retries, for the audit log (default: the OS user and host)")
		},
		run: func(ctx context.Context, m *Main, args []string) error {
			if len(args) == 0 {
				return usageErrorf("retry takes ORDER_NUMBER...")
			}
			return m.withLease(ctx, m.ledgerOnly, func(r *reconcile.Reconciler) error {
				docs, err := r.Retry(ctx, args, cmp.Or(by, m.whoAmI()))
				for _, d := range docs {
					fmt.Fprintf(m.Stdout, "%s %s of order %s: the next run sends it again\n", d.Kind, d.SourceID, d.OrderNumber)
				}
				return ledgerCommandErr(err)
			})
		},
	}
}

// skipCommand is `velqbo skip ORDER_NUMBER --reason TEXT`: the order's
// objects not in QBO are set aside until `velqbo retry`.
func skipCommand() command {
	var reason, by string
	return command{
		name: "skip",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&reason, "reason", "", "why it is set aside (required; shown by status and every run)")
			fs.StringVar(&by, "by", "", "who skips, for the ledger and the audit log (default: the OS user and host)")
		},
		run: func(ctx context.Context, m *Main, args []string) error {
			if len(args) != 1 {
				return usageErrorf("skip takes one ORDER_NUMBER and --reason TEXT")
			}
			if strings.TrimSpace(reason) == "" {
				return usageErrorf("skip: --reason TEXT is required: say why the order is set aside")
			}
			return m.withLease(ctx, m.ledgerOnly, func(r *reconcile.Reconciler) error {
				docs, err := r.Skip(ctx, args[0], reason, cmp.Or(by, m.whoAmI()))
				for _, d := range docs {
					fmt.Fprintf(m.Stdout, "%s %s of order %s: skipped by %s; no run sends it until `velqbo retry %s`\n",
						d.Kind, d.SourceID, d.OrderNumber, d.SkippedBy, d.OrderNumber)
				}
				return ledgerCommandErr(err)
			})
		},
	}
}

// withLease opens the ledger, holds the run lease and calls fn with the
// Reconciler build makes. Every command that changes ledger rows a run
// plans from (skip, retry, adopt, resync, ledger rebuild) goes through
// it: a run that planned an item before it was skipped or adopted would
// otherwise still send it. A lease held by a run is exit 3, naming it.
func (m *Main) withLease(ctx context.Context, build func(context.Context, *schema.Store) (*reconcile.Reconciler, error), fn func(r *reconcile.Reconciler) error) error {
	st, err := m.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	release, err := m.holdLease(ctx, st)
	if err != nil {
		return err
	}
	defer release()
	r, err := build(ctx, st)
	if err != nil {
		return err
	}
	return fn(r)
}

// ledgerOnly is a Reconciler on the database alone: retry and skip change
// the ledger only, so they need neither QBO nor the source.
func (m *Main) ledgerOnly(_ context.Context, st *schema.Store) (*reconcile.Reconciler, error) {
	return &reconcile.Reconciler{Store: st, Log: m.Log, Now: m.Now, FixText: m.fixText}, nil
}

// ledgerCommandErr maps the errors of Retry and Skip to exit codes: a
// number that is not in the ledger or has nothing to do is a usage error
// (2); a write with an unknown outcome asks for a run first (3).
func ledgerCommandErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, schema.ErrConflict):
		return unavailable(fmt.Errorf("%w (run `velqbo run` first)", err))
	case errors.Is(err, schema.ErrNotFound), errors.Is(err, reconcile.ErrNothingToRetry), errors.Is(err, reconcile.ErrNothingToSkip):
		return usageErrorf("%v", err)
	}
	return err
}

// whoAmI names the person at the terminal for the audit log: the OS user
// and the host.
func (m *Main) whoAmI() string {
	name := m.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	host, _ := os.Hostname()
	return strings.Trim(cmp.Or(name, "unknown")+"@"+host, "@")
}

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
			return m.withLedger(ctx, func(r *reconcile.Reconciler) error {
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
			return m.withLedger(ctx, func(r *reconcile.Reconciler) error {
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

// withLedger runs fn with a Reconciler on the database alone: retry and
// skip change the ledger only, so they need neither QBO nor the source.
func (m *Main) withLedger(ctx context.Context, fn func(r *reconcile.Reconciler) error) error {
	st, err := m.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	// A run that planned an item before it was skipped would still send
	// it: hold the run lease, as a run does, so the two never overlap.
	release, err := m.holdLease(ctx, st)
	if err != nil {
		return err
	}
	defer release()
	return fn(&reconcile.Reconciler{Store: st, Log: m.Log, Now: m.Now, FixText: fixCommand})
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

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
)

// adoptCommand is `velqbo adopt [--matching] [--json] [ORDER_NUMBER...]`:
// it takes over the QBO documents that blocked their orders because
// velqbo did not make them (exists_in_qbo_unmarked).
func adoptCommand() command {
	var matching, asJSON bool
	return command{
		name: "adopt",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&matching, "matching", false, "adopt every blocked one whose customer and total agree to the cent; list the others")
			fs.BoolVar(&asJSON, "json", false, "print the result as one JSON array on stdout")
		},
		run: func(ctx context.Context, m *Main, args []string) error {
			if len(args) == 0 && !matching {
				return usageErrorf("adopt takes ORDER_NUMBER... or --matching")
			}
			return m.withLease(ctx, m.newReconciler, func(r *reconcile.Reconciler) error {
				res, err := r.Adopt(ctx, reconcile.AdoptOptions{OrderNumbers: args, Matching: matching})
				if err != nil {
					return exitFor(err)
				}
				if asJSON {
					if res == nil {
						res = []reconcile.Adoption{}
					}
					if err := writeJSON(m.Stdout, res); err != nil {
						return err
					}
				}
				left := 0
				for _, a := range res {
					if !a.Adopted {
						left++
					}
					if asJSON {
						continue
					}
					what := strings.TrimSpace(fmt.Sprintf("%s %s", a.QBOType, a.QBOID))
					if a.DocNumber != "" {
						what += " (DocNumber " + a.DocNumber + ")"
					}
					switch {
					case a.Adopted && len(a.Differences) > 0:
						fmt.Fprintf(m.Stdout, "adopted %s %s of order %s: %s, as it is (%s)\n", a.Kind, a.SourceID, a.OrderNumber, what, strings.Join(a.Differences, "; "))
					case a.Adopted:
						fmt.Fprintf(m.Stdout, "adopted %s %s of order %s: %s\n", a.Kind, a.SourceID, a.OrderNumber, what)
					case a.Kind == "":
						fmt.Fprintf(m.Stdout, "not adopted: order %s: %s\n", a.OrderNumber, a.Why)
					default:
						fmt.Fprintf(m.Stdout, "not adopted %s %s of order %s: %s: %s (`velqbo adopt %s` takes it as it is)\n", a.Kind, a.SourceID, a.OrderNumber, what, a.Why, a.OrderNumber)
					}
				}
				if len(res) == 0 && !asJSON {
					fmt.Fprintln(m.Stdout, "Nothing to adopt: no order is blocked by a document already in QBO.")
				}
				if left > 0 {
					return errIncomplete
				}
				return nil
			})
		},
	}
}

// ledgerCommand is `velqbo ledger rebuild [--since DATE] [--json]`.
func ledgerCommand() command {
	var since string
	var asJSON bool
	return command{
		name: "ledger",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&since, "since", "", "read documents dated on or after DATE (YYYY-MM-DD); default: all")
			fs.BoolVar(&asJSON, "json", false, "print the report as one JSON object on stdout")
		},
		run: func(ctx context.Context, m *Main, args []string) error {
			if len(args) != 1 || args[0] != "rebuild" {
				return usageErrorf("ledger takes one subcommand: rebuild")
			}
			var from time.Time
			if since != "" {
				t, err := time.ParseInLocation(time.DateOnly, since, m.Config.Location())
				if err != nil {
					return usageErrorf("--since %q: want YYYY-MM-DD", since)
				}
				from = t
			}
			return m.withLease(ctx, m.qboOnly, func(r *reconcile.Reconciler) error {
				rep, err := r.RebuildLedger(ctx, from)
				if err != nil {
					return exitFor(err)
				}
				if asJSON {
					return writeJSON(m.Stdout, rep)
				}
				fmt.Fprintf(m.Stdout, "Ledger rebuilt from QBO: %d documents read, %d carry velqbo's marker; %d recorded, %d already known, %d left as they are. Nothing was written to QBO.\n",
					rep.Read, rep.Marked, rep.Recorded, rep.Known, len(rep.Skipped))
				for _, s := range rep.Skipped {
					fmt.Fprintf(m.Stdout, "  left: %s\n", s)
				}
				return nil
			})
		},
	}
}

// qboOnly is a Reconciler on the ledger and QBO, without the source:
// ledger rebuild reads QBO alone.
func (m *Main) qboOnly(ctx context.Context, st *schema.Store) (*reconcile.Reconciler, error) {
	conn, err := m.connectQBO(ctx, st)
	if err != nil {
		return nil, err
	}
	return &reconcile.Reconciler{Store: st, QBO: reconcile.QBOClient{C: conn.Client}, Realm: conn.Realm,
		Location: m.Config.Location(), Log: m.Log, Now: m.Now, FixText: m.fixText}, nil
}

// ledgerCheckNewest is how many of QBO's newest documents of each type
// `status` compares with the ledger: four queries in all.
const ledgerCheckNewest = 20

// checkLedger is status's look at QBO: whether QBO holds documents velqbo
// made that the ledger does not (a restored, lost or new ledger). It
// costs one query per document type, bounded by a short timeout; when QBO
// cannot be reached it returns nil and status says nothing about it.
func (m *Main) checkLedger(ctx context.Context, st *schema.Store) *reconcile.LedgerLag {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := m.connectQBO(ctx, st)
	if err != nil {
		return nil
	}
	r := &reconcile.Reconciler{Store: st, QBO: reconcile.QBOClient{C: conn.Client}, Realm: conn.Realm, Log: m.Log}
	lag, err := r.CheckLedger(ctx, ledgerCheckNewest)
	if err != nil {
		m.Log.WithError(err).Debug("status: could not compare the ledger with QBO")
		return nil
	}
	return lag
}

// printLedgerLag is status's line about a ledger younger than QBO.
func printLedgerLag(w io.Writer, lag *reconcile.LedgerLag) {
	if !lag.Behind() {
		return
	}
	var ex []string
	for _, d := range lag.Examples {
		s := d.Type + " " + d.ID
		if d.DocNumber != "" {
			s += " (DocNumber " + d.DocNumber + ")"
		}
		ex = append(ex, s)
	}
	fmt.Fprintf(w, "\n! The ledger looks younger than QBO: %d of QBO's newest documents made by velqbo are not in it (%s).\n"+
		"  If the database was restored from a backup or lost, run `velqbo ledger rebuild` (it writes nothing to QBO);\n"+
		"  a run adopts such documents anyway instead of creating them again.\n", lag.Unknown, strings.Join(ex, ", "))
}

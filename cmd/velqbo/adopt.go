package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/velqbo/velqbo/reconcile"
)

// adoptCommand is `velqbo adopt [--matching] [--json] [ORDER_NUMBER...]`:
// it takes over the QBO documents that blocked their orders because
// velqbo did not make them (exists_in_qbo_unmarked).
func adoptCommand() command {
	var matching, asJSON bool
	return command{
		name:    "adopt",
		summary: "record documents QBO already holds (made by a person or another integration) instead of creating them",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&matching, "matching", false, "adopt every blocked one whose customer and total agree to the cent; list the others")
			fs.BoolVar(&asJSON, "json", false, "print the result as one JSON array on stdout")
		},
		run: func(ctx context.Context, m *Main, args []string) error {
			if len(args) == 0 && !matching {
				return usageErrorf("adopt takes ORDER_NUMBER... or --matching")
			}
			st, err := m.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			r, err := m.newReconciler(ctx, st)
			if err != nil {
				return err
			}
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
		},
	}
}

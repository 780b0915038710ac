package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/velqbo/velqbo/reconcile"
)

func verifyCommand() command {
	var asJSON, full bool
	return command{
		name: "verify",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&asJSON, "json", false, "print the report as one JSON object on stdout")
			fs.BoolVar(&full, "full", false, "read every recorded document by id even when CDC could be used")
		},
		run: func(ctx context.Context, m *Main, args []string) error {
			if len(args) > 0 {
				return usageErrorf("verify takes no arguments")
			}
			rep, err := m.verifyWith(ctx, reconcile.VerifyOptions{Full: full})
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeJSON(m.Stdout, rep); err != nil {
					return err
				}
			} else {
				m.printDrift(rep)
			}
			if !rep.Clean() {
				return &exitError{code: exitIncomplete, err: fmt.Errorf("%d document(s) in QBO differ from what was sent; "+
					"nothing was changed in QBO (`velqbo resync ORDER_NUMBER` re-creates a deleted document)", len(rep.Drift))}
			}
			return nil
		},
	}
}

// verifyOnce reads the recorded documents back from QBO (CDC when the last
// verify is recent) and reports drift; the daemon calls it after each run.
func (m *Main) verifyOnce(ctx context.Context) (*reconcile.DriftReport, error) {
	return m.verifyWith(ctx, reconcile.VerifyOptions{})
}

// verifyWith runs one verify under the run lease: a run in progress would
// move SyncTokens under it. Not connected, a refused token or a held lease
// come back as exit code 3.
func (m *Main) verifyWith(ctx context.Context, opts reconcile.VerifyOptions) (*reconcile.DriftReport, error) {
	st, err := m.openStore(ctx)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	conn, err := m.connectQBO(ctx, st)
	if err != nil {
		return nil, err
	}
	release, err := m.holdLease(ctx, st)
	if err != nil {
		return nil, err
	}
	defer release()
	// Verify needs no Velocity source: it compares the ledger with QBO.
	r := &reconcile.Reconciler{
		Store:    st,
		QBO:      reconcile.QBOClient{C: conn.Client},
		Realm:    conn.Realm,
		Location: m.Config.Location(),
		Log:      m.Log,
		Now:      m.Now,
		FixText:  m.fixText,
	}
	rep, err := r.Verify(ctx, opts)
	if err != nil {
		return nil, exitFor(err)
	}
	return rep, nil
}

func (m *Main) printDrift(rep *reconcile.DriftReport) {
	w := m.Stdout
	how := "every document read by id"
	if rep.Mode == "cdc" {
		how = "changes since " + rep.Since.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(w, "Verify (%s): %d document(s) recorded, %d compared with QBO, %d QBO request(s)\n",
		how, rep.Checked, rep.Read, rep.Requests)
	if rep.Clean() {
		fmt.Fprintln(w, "No drift: QBO holds what was sent.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DRIFT\tKIND\tORDER\tQBO\tDOC\tDETAIL")
	for _, d := range rep.Drift {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s\t%s\t%s\n", d.Drift, d.Kind, d.OrderNumber, d.QBOType, d.QBOID, d.DocNumber, oneLine(d.Detail))
	}
	tw.Flush()
}

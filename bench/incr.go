package main

import (
	"context"
	"fmt"
	"time"

	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
	"github.com/velqbo/velqbo/velocity/velocitytest"
)

// incrResult is what the incremental runs measured.
type incrResult struct {
	store                int // orders in the store
	ledgerDocs           int // documents in QBO and the ledger
	changed              int // orders edited
	noChange, changedRun procStats
	full                 procStats
	updated              int
	noChangeVelocityReqs int
	changedVelocityReqs  int
	changedQBORequests   int
	noChangeQBORequests  int
	changedQBOPerUpdate  float64
}

// benchIncremental measures incremental runs of the real binary over the
// Velocity API (velocitytest) against a company whose documents exist:
//
//  1. A velocitytest store of n orders (seed 3) and a qbotest company with
//     every customer and product; pacing is lifted on both sides (this is
//     about cost, not rate).
//  2. The ledger is seeded as a completed first run leaves it, and each
//     sendable document is put into the company (qbotest.Add) under the
//     QBO id the ledger records, so later updates find it.
//  3. `velqbo run --json` (incremental, nothing changed), then 1 % of the
//     orders get a new e-mail address (which changes the BillEmail of their
//     document and refunds, and bumps updated_at), then `velqbo run --json`
//     again, and for reference `velqbo run --full --json` (every order read
//     again).
//
// The cost to compare is velqbo's CPU time: the fake Velocity server clones
// and sorts every order of the store for every page it serves, which shows
// in wall time (and in the bench process's CPU) whatever velqbo does.
func benchIncremental(ctx context.Context, bin, dir string, n int) (incrResult, error) {
	res := incrResult{store: n}
	ds := velocitytest.Generate(3, velocitytest.GenOptions{Orders: n})
	vel, velEnv, err := serveStore(ds)
	if err != nil {
		return res, err
	}
	defer vel.Close()
	srv := qbotest.NewServer(qbotest.WithoutLimits())
	defer srv.Close()
	var env *reconcile.Env
	var ss seedStats
	in, err := install(ctx, bin, dir, srv, ds.Customers, ds.Products, func(st *schema.Store, e *reconcile.Env) error {
		env = e
		var err error
		ss, err = seedLedger(ctx, st, env, sliceSource(ds.Orders).Orders(ctx, time.Time{}),
			func(d *reconcile.Desired) (string, error) { return createInQBO(srv, d, 0) })
		if err != nil {
			return fmt.Errorf("seed ledger: %w", err)
		}
		return nil
	}, append(velEnv, unpaced...)...)
	if err != nil {
		return res, err
	}
	res.ledgerDocs = ss.docs

	measure := func(args ...string) (procStats, runSummary, int, int, error) {
		vel.ResetRequests()
		calls := len(srv.Requests())
		ps, err := in.run(nil, args...)
		if err != nil {
			return ps, runSummary{}, 0, 0, err
		}
		sum, err := parseSummary(ps.stdout)
		return ps, sum, len(vel.Requests()), apiRequests(srv.Requests()[calls:]), err
	}
	var sum runSummary
	res.noChange, sum, res.noChangeVelocityReqs, res.noChangeQBORequests, err = measure("run", "--json")
	if err != nil {
		return res, err
	}
	if c := sum.Counts; c.Created+c.Updated+c.Voided > 0 {
		return res, fmt.Errorf("no-change incremental run changed QBO: %+v", c)
	}

	// Edit 1 % of the reported orders.
	env2 := *env
	var ids []string
	for i, o := range ds.Orders {
		if i%100 != 0 {
			continue
		}
		if d := reconcile.MapOrder(o, &env2); d.Skip == "" && !d.Cancelled && d.Doc != nil && len(d.Doc.Blocked) == 0 {
			ids = append(ids, o.ID)
		}
	}
	// The new address changes the order's document and its refunds'
	// (RefundReceipt carries BillEmail too); count what must be updated.
	wantUpdated := 0
	byID := map[string]*velocity.Order{}
	for _, o := range ds.Orders {
		byID[o.ID] = o
	}
	for _, id := range ids {
		before := reconcile.MapOrder(byID[id], &env2)
		if err := vel.UpdateOrder(id, func(o *velocity.Order) { o.Email = "changed." + o.ID + "@example.com" }); err != nil {
			return res, err
		}
		o, _ := vel.Order(id)
		after := reconcile.MapOrder(o, &env2)
		old := map[string]string{}
		for _, d := range append(append([]*reconcile.Desired{before.Doc}, before.Refunds...), before.Payments...) {
			old[string(d.Kind)+"/"+d.SourceID] = d.Fingerprint
		}
		for _, d := range append(append([]*reconcile.Desired{after.Doc}, after.Refunds...), after.Payments...) {
			if len(d.Blocked) == 0 && d.NotApplicable == "" && old[string(d.Kind)+"/"+d.SourceID] != d.Fingerprint {
				wantUpdated++
			}
		}
	}
	res.changed = len(ids)
	res.changedRun, sum, res.changedVelocityReqs, res.changedQBORequests, err = measure("run", "--json")
	if err != nil {
		return res, err
	}
	res.updated = sum.Counts.Updated
	if res.updated != wantUpdated || sum.Counts.Failed > 0 || sum.Counts.Created > 0 {
		var odd []string
		for _, it := range sum.Items {
			if it.Action != reconcile.ActionUpdate && len(odd) < 5 {
				odd = append(odd, fmt.Sprintf("%s %s %s: %s", it.Action, it.Kind, it.OrderNumber, it.Reason))
			}
		}
		return res, fmt.Errorf("1%% changed run: %+v; want %d updated (e.g. %v)", sum.Counts, wantUpdated, odd)
	}
	res.changedQBOPerUpdate = float64(res.changedQBORequests) / float64(res.updated)

	res.full, sum, _, _, err = measure("run", "--full", "--json")
	if err != nil {
		return res, err
	}
	if c := sum.Counts; c.Created+c.Updated+c.Voided > 0 {
		return res, fmt.Errorf("full run after the incremental one changed QBO: %+v", c)
	}
	return res, nil
}

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
	"github.com/velqbo/velqbo/velocity/velocitytest"
)

// updatesResult is what the update-heavy catch-up measured.
type updatesResult struct {
	docs        int     // order documents seeded in QBO and the ledger that get a new tracking number
	updated     int     // documents the run updated
	failed      int     // items the run reported failed
	minutes     int     // whole QBO minutes in the measured span
	perMin      float64 // changes per QBO minute within those minutes
	throttled   int     // 429 answers
	requests    int     // company API requests of the run
	batches     int     // batch requests
	singles     int     // single writes (update, create, void)
	reqPerDoc   float64 // requests / updated
	realSeconds float64
	scale       float64
}

// benchUpdates is the update-heavy catch-up (e): n order documents already
// in a qbotest company (and recorded in the ledger as a completed run
// leaves them) each get one new shipped shipment with a tracking number,
// as after a carrier outage, and one incremental run reports them through
// the real qbo client and reconcile engine. qbotest enforces QBO's limits;
// the client paces in the ledger's shared windows, and both sides and the
// ledger run on one scaled clock, as in (b).
//
// The rate is read off the server's log as in (b): the changes carried by
// the write requests (single updates, creates and voids, and the write
// items of batches) that arrived within the first k whole QBO minutes,
// divided by k. Every request is counted once in requests per document,
// look-ups and re-reads included.
func benchUpdates(ctx context.Context, dir string, n int, scale float64) (updatesResult, error) {
	res := updatesResult{scale: scale}
	ds := velocitytest.Generate(5, velocitytest.GenOptions{Orders: n + n/2})
	// The seeded documents go in through qbotest.Add, not the API: only the
	// measured run meets the limits.
	clk := newScaledClock(scale)
	srv := qbotest.NewServer(qbotest.WithClock(clk),
		qbotest.WithLimits(qbotest.DefaultLimits), qbotest.WithAccessTokenTTL(24*time.Hour))
	defer srv.Close()
	co := newCompany(srv, ds.Customers, ds.Products)
	st, env, err := co.openLedger(ctx, filepath.Join(dir, "updates.db"), schema.WithClock(clk.Now))
	if err != nil {
		return res, err
	}
	defer st.Close()

	// The first orders whose own document is sent (a SalesReceipt or an
	// Invoice, not blocked, not cancelled) until there are n of them.
	var orders sliceSource
	for _, o := range ds.Orders {
		if len(orders) == n {
			break
		}
		docs := reconcile.MapOrder(o, env)
		if docs.Skip != "" || docs.Cancelled || docs.Doc == nil || len(docs.Doc.Blocked) > 0 || docs.Doc.NotApplicable != "" {
			continue
		}
		orders = append(orders, o)
	}
	if len(orders) < n {
		return res, fmt.Errorf("the generated store has %d sendable orders; want %d", len(orders), n)
	}
	ss, err := seedLedger(ctx, st, env, orders.Orders(ctx, time.Time{}),
		func(d *reconcile.Desired) (string, error) { return createInQBO(srv, d, 0) })
	if err != nil {
		return res, fmt.Errorf("seed ledger: %w", err)
	}

	// The shipments arrive: each order gets one more shipped shipment with
	// a tracking number of its own, and its updated_at moves past the
	// cursor, so the incremental run reads exactly these orders.
	after := ss.maxUpdated.Add(time.Hour)
	for i, o := range orders {
		c := *o
		c.Shipments = slices.Clone(o.Shipments)
		at := after.Add(time.Duration(i) * time.Second)
		c.Shipments = append(c.Shipments, velocity.Shipment{ID: o.ID + "-late", CreatedAt: at, ShippedAt: &at,
			Carrier: "UPS", TrackingNumber: "1ZLATE" + strconv.Itoa(100000+i)})
		c.UpdatedAt = at
		orders[i] = &c
	}
	res.docs = len(orders)

	var ps paceStats
	client, err := pacedClient(srv, clk, st, &ps)
	if err != nil {
		return res, err
	}
	r := &reconcile.Reconciler{Source: orders, Store: st, QBO: reconcile.QBOClient{C: client}, Realm: srv.Realm(),
		Location: time.UTC, Now: clk.Now}
	mark := len(srv.Requests())
	start := time.Now()
	sum, err := r.Run(ctx, reconcile.Options{Mode: reconcile.ModeIncremental})
	if err != nil {
		return res, fmt.Errorf("update catch-up run: %w", err)
	}
	res.realSeconds = time.Since(start).Seconds()
	if err := ps.storeErr(); err != nil {
		// The figures would be those of the binary's fallback, not of its
		// pacing.
		return res, fmt.Errorf("update catch-up run: %w", err)
	}
	res.updated, res.failed = sum.Counts.Updated, sum.Counts.Failed
	if c := sum.Counts; c.Updated != n || c.Created+c.Voided > 0 {
		return res, fmt.Errorf("update catch-up: %+v; want %d updated and nothing else written", c, n)
	}

	log := readWriteLog(srv.Requests()[mark:])
	res.requests, res.batches, res.singles = log.requests, log.batches, log.singles
	res.throttled = max(srv.Stats().Throttled, int(ps.throttled.Load()))
	rate, err := log.rate()
	if err != nil {
		return res, fmt.Errorf("update catch-up of %d documents: %w", res.updated, err)
	}
	res.minutes, res.perMin = rate.minutes, rate.perMin
	if os.Getenv("VELQBO_BENCH_DEBUG") != "" {
		log.debug(os.Stderr)
	}
	res.reqPerDoc = float64(res.requests) / float64(res.updated)
	return res, nil
}

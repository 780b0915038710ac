package main

import (
	"context"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"time"

	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
	"github.com/velqbo/velqbo/velocity/velocitytest"
)

// QBO's documented limits (docs/qbo-notes.md §3.5) and the catch-up ceiling
// they imply: every batch request carries 30 creates and every other request of
// the 500 is a single create.
const (
	qboRequestsPerMinute = 500
	qboBatchesPerMinute  = 40
	qboBatchItems        = 30
	limitDocsPerMinute   = qboBatchesPerMinute*qboBatchItems + (qboRequestsPerMinute - qboBatchesPerMinute) // 1,660
)

// sliceSource is a reconcile.Source over orders held in memory.
type sliceSource []*velocity.Order

func (s sliceSource) Orders(_ context.Context, since time.Time) iter.Seq2[*velocity.Order, error] {
	return func(yield func(*velocity.Order, error) bool) {
		for _, o := range s {
			if !since.IsZero() && o.UpdatedAt.Before(since) {
				continue
			}
			if !yield(o, nil) {
				return
			}
		}
	}
}

func (s sliceSource) GetOrder(_ context.Context, id string) (*velocity.Order, error) {
	for _, o := range s {
		if o.ID == id {
			return o, nil
		}
	}
	return nil, fmt.Errorf("order %s: %w", id, velocity.ErrNotFound)
}

// catchupResult is what the catch-up measured.
type catchupResult struct {
	docs        int     // documents created
	orders      int     // orders read
	minutes     int     // whole QBO minutes in the measured span
	inMinutes   int     // documents sent within those minutes
	docsPerMin  float64 // inMinutes / minutes
	spanMin     float64 // first to last request, QBO minutes
	throttled   int     // 429 answers the server gave
	failed      int     // items the run reported failed
	requests    int     // company API requests
	batches     int     // batch requests
	singles     int     // single creates
	reqPerDoc   float64
	realSeconds float64
	scale       float64
}

// benchCatchup creates about n missing documents through the real qbo
// client and the reconcile engine against a qbotest company that enforces
// QBO's limits. The client paces as the binary's does, in the ledger's
// shared windows (pacedClient). Both sides and the ledger run on one scaled
// clock (one QBO minute is 60/scale real seconds), so the windows agree on
// what a minute is.
//
// The rate is measured on the server's log (writeLog.rate): the documents
// carried by the requests that arrived within the first k whole QBO minutes
// of the first one, divided by k.
func benchCatchup(ctx context.Context, dir string, n int, scale float64) (catchupResult, error) {
	var res catchupResult
	clk := newScaledClock(scale)
	srv := qbotest.NewServer(qbotest.WithClock(clk),
		qbotest.WithLimits(qbotest.DefaultLimits), qbotest.WithAccessTokenTTL(24*time.Hour))
	defer srv.Close()

	// Orders enough for n sendable documents (receipts, invoices, refunds,
	// payments on invoices), cut at an order boundary.
	ds := velocitytest.Generate(2, velocitytest.GenOptions{Orders: n})
	co := newCompany(srv, ds.Customers, ds.Products)
	st, env, err := co.openLedger(ctx, filepath.Join(dir, "catchup.db"), schema.WithClock(clk.Now))
	if err != nil {
		return res, err
	}
	defer st.Close()
	var orders sliceSource
	want := 0
	for _, o := range ds.Orders {
		if want >= n {
			break
		}
		docs := reconcile.MapOrder(o, env)
		if docs.Skip != "" || docs.Cancelled {
			continue
		}
		for _, d := range append(append([]*reconcile.Desired{docs.Doc}, docs.Refunds...), docs.Payments...) {
			if len(d.Blocked) == 0 && d.NotApplicable == "" {
				want++
			}
		}
		orders = append(orders, o)
	}
	res.orders = len(orders)

	var ps paceStats
	client, err := pacedClient(srv, clk, st, &ps)
	if err != nil {
		return res, err
	}
	r := &reconcile.Reconciler{Source: orders, Store: st, QBO: reconcile.QBOClient{C: client}, Realm: srv.Realm(),
		Location: time.UTC, Now: clk.Now}
	start := time.Now()
	sum, err := r.Run(ctx, reconcile.Options{Mode: reconcile.ModeFull})
	if err != nil {
		return res, fmt.Errorf("catch-up run: %w", err)
	}
	res.realSeconds = time.Since(start).Seconds()
	if err := ps.storeErr(); err != nil {
		// The figures would be those of the binary's fallback, not of its
		// pacing.
		return res, fmt.Errorf("catch-up run: %w", err)
	}
	res.docs = sum.Counts.Created
	res.failed = sum.Counts.Failed
	if res.docs != want {
		return res, fmt.Errorf("catch-up created %d documents; want %d (blocked %d, failed %d)", res.docs, want,
			sum.Counts.Blocked, sum.Counts.Failed)
	}

	// Read the rate off the server's log.
	log := readWriteLog(srv.Requests())
	res.requests, res.batches, res.singles = log.requests, log.batches, log.singles
	res.throttled = max(srv.Stats().Throttled, int(ps.throttled.Load()))
	rate, err := log.rate()
	if err != nil {
		return res, fmt.Errorf("catch-up of %d documents: %w", res.docs, err)
	}
	res.minutes, res.inMinutes, res.docsPerMin, res.spanMin = rate.minutes, rate.inMinutes, rate.perMin, rate.spanMin
	if os.Getenv("VELQBO_BENCH_DEBUG") != "" {
		log.debug(os.Stderr)
	}
	res.reqPerDoc = float64(res.requests) / float64(res.docs)
	return res, nil
}

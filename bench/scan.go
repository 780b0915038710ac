package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
	"github.com/velqbo/velqbo/velocity/velocitytest"
)

// scanResult is what the no-change scan measured.
type scanResult struct {
	orders       int
	exportBytes  int64
	genSeconds   float64
	seedSeconds  float64
	seed         seedStats
	first        procStats // the first run after seeding: it records the order digests
	run          procStats // the run after it: the steady no-change run
	unchanged    int
	qboRequests  int
	qboWrites    int
	ordersPerSec float64
}

// benchScan measures a no-change full run of the real binary over an NDJSON
// export of n orders:
//
//  1. velocitytest.WriteNDJSON streams n generated orders (seed 1) to a file.
//  2. A qbotest company is seeded (accounts, placeholder items, payment
//     methods) and gets one customer per Velocity customer and one item per
//     product of the export.
//  3. `velqbo connect --realm R --refresh-token-stdin` connects the
//     installation; settings and links are written to its ledger.
//  4. The ledger is seeded with what a completed first run would have
//     recorded (seedLedger: real MapOrder and Fingerprint against the fully
//     linked Env, bulk ImportDocuments).
//  5. `velqbo run --full --json --velocity-file export.ndjson` runs as a
//     child process twice; each run's wall time, CPU time and peak RSS
//     (getrusage of the child) are taken, and the company must have
//     received no write. The first run after seeding decodes every order
//     and records each order's digest (what the first run after an upgrade
//     or a settings change costs); the second is the steady nightly check,
//     which skips the orders whose digest is unchanged, and is the (a)
//     figure.
func benchScan(ctx context.Context, bin, dir string, n int) (scanResult, error) {
	res := scanResult{orders: n}
	path := filepath.Join(dir, "export.ndjson")
	f, err := os.Create(path)
	if err != nil {
		return res, err
	}
	start := time.Now()
	if err := velocitytest.WriteNDJSON(f, 1, n); err != nil {
		f.Close()
		return res, err
	}
	if err := f.Close(); err != nil {
		return res, err
	}
	res.genSeconds = time.Since(start).Seconds()
	if fi, err := os.Stat(path); err == nil {
		res.exportBytes = fi.Size()
	}
	src := velocity.OpenFileSource(path)
	var customers []velocity.Customer
	var products []velocity.Product
	for c, err := range src.Customers(ctx, time.Time{}) {
		if err != nil {
			return res, err
		}
		customers = append(customers, *c)
	}
	for p, err := range src.Products(ctx, time.Time{}) {
		if err != nil {
			return res, err
		}
		products = append(products, *p)
	}

	srv := qbotest.NewServer()
	defer srv.Close()
	in, err := install(ctx, bin, dir, srv, customers, products, func(st *schema.Store, env *reconcile.Env) error {
		start := time.Now()
		var err error
		res.seed, err = seedLedger(ctx, st, env, src.Orders(ctx, time.Time{}), nil)
		res.seedSeconds = time.Since(start).Seconds()
		if err != nil {
			return fmt.Errorf("seed ledger: %w", err)
		}
		return nil
	})
	if err != nil {
		return res, err
	}

	mark, calls := srv.Stats(), len(srv.Requests())
	res.first, err = in.run(nil, "run", "--full", "--json", "--velocity-file", path)
	if err != nil {
		return res, err
	}
	if first, err := parseSummary(res.first.stdout); err != nil {
		return res, err
	} else if c := first.Counts; c.Created+c.Updated+c.Voided > 0 {
		return res, fmt.Errorf("first no-change run wrote to QBO: created %d, updated %d, voided %d", c.Created, c.Updated, c.Voided)
	}
	res.run, err = in.run(nil, "run", "--full", "--json", "--velocity-file", path)
	if err != nil {
		return res, err
	}
	sum, err := parseSummary(res.run.stdout)
	if err != nil {
		return res, err
	}
	res.unchanged = sum.Counts.Unchanged
	res.qboWrites = qboWrites(srv.Stats(), mark)
	res.qboRequests = apiRequests(srv.Requests()[calls:])
	res.ordersPerSec = float64(n) / res.run.wall.Seconds()
	c := sum.Counts
	if c.Created+c.Updated+c.Voided > 0 || res.qboWrites > 0 {
		return res, fmt.Errorf("no-change run wrote to QBO: created %d, updated %d, voided %d, %d write requests",
			c.Created, c.Updated, c.Voided, res.qboWrites)
	}
	if c.Unchanged != res.seed.docs+res.seed.notApplicable {
		return res, fmt.Errorf("no-change run: %d unchanged; want %d (%d documents, %d not applicable)", c.Unchanged,
			res.seed.docs+res.seed.notApplicable, res.seed.docs, res.seed.notApplicable)
	}
	return res, nil
}

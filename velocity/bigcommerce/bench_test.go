package bigcommerce_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/velocity"
	"github.com/velqbo/velqbo/velocity/bigcommerce/bctest"
)

// readCost is what one read of the store cost.
type readCost struct {
	Orders   int // orders yielded (blocked ones included)
	Requests int // requests the store received, 429s included
	Limited  int // of which 429
	// StoreTime is how long the read took on the store's clock: with the
	// client pacing itself under the quota, the wall time of the read at
	// that quota (the fake answers at once).
	StoreTime time.Duration
}

func (r readCost) perOrder() float64 {
	if r.Orders == 0 {
		return 0
	}
	return float64(r.Requests) / float64(r.Orders)
}

// measureRead reads the orders since since and counts what it cost.
func measureRead(f *fixture, since time.Time) (readCost, error) {
	f.srv.ResetRequests()
	start := f.clk.Now()
	var cost readCost
	for _, err := range f.c.Orders(context.Background(), since) {
		if err != nil && !velocity.IsObjectError(err) {
			return cost, err
		}
		cost.Orders++
	}
	cost.Requests, cost.Limited = f.srv.RequestCount(), f.srv.RateLimited()
	cost.StoreTime = f.clk.Now().Sub(start)
	return cost, nil
}

// nightOfChanges changes pct % of the store's orders the way a business
// day does (ship, refund, cancel, edit, a terms payment) and returns how
// many it changed.
func nightOfChanges(srv *bctest.Server, pct float64) (int, error) {
	ids := srv.OrderIDs()
	n := max(1, int(float64(len(ids))*pct/100))
	step := len(ids) / n
	changed := 0
	for i := 0; i < len(ids) && changed < n; i += step {
		id := ids[i]
		var err error
		switch changed % 5 {
		case 0:
			_, err = srv.Ship(id, bctest.ShipmentSpec{TrackingNumber: fmt.Sprintf("NIGHT%d", id), Provider: "usps"})
			if err != nil { // already shipped in full: edit instead
				err = srv.Modify(id, func(s *bctest.OrderSpec) { s.StaffNotes = "edited" })
			}
		case 1:
			_, err = srv.Refund(id, bctest.RefundSpec{Items: []bctest.RefundItemSpec{{Type: bctest.ItemShipping}}})
		case 2:
			err = srv.Cancel(id)
		case 3:
			err = srv.Modify(id, func(s *bctest.OrderSpec) { s.StaffNotes = "edited" })
		case 4:
			_, err = srv.Refund(id, bctest.RefundSpec{Items: []bctest.RefundItemSpec{{Type: bctest.ItemOrder, Amount: cents(100)}}, Quiet: true})
		}
		if err != nil && !errors.Is(err, bctest.ErrNotFound) {
			return changed, fmt.Errorf("change order %d: %w", id, err)
		}
		changed++
	}
	return changed, nil
}

// storeStart places a generated store of n orders so that every change
// in it (a terms payment comes up to 20 days after its order) is before
// t0, the clock's start.
func storeStart(n int) time.Time {
	return t0.Add(-time.Duration(n)*7*time.Minute - 25*24*time.Hour)
}

// storeAtQuota is a generated store of n orders behind the Standard
// plan's quota (150 requests per 30 s) and a client keeping to its
// default share.
func storeAtQuota(tb testing.TB, n int) *fixture {
	tb.Helper()
	f := newFixture(tb, nil)
	if err := f.srv.Generate(bctest.GenOptions{Seed: 42, Orders: n, Start: storeStart(n)}); err != nil {
		tb.Fatal(err)
	}
	return f
}

// BenchmarkReadStore measures requests per order for a full read of a
// 10,000-order store and for a night in which 1 % of it changed, and the
// wall time of each at the Standard plan's quota (store-s: the store's
// clock, on which the client's pacing waits). Run once:
//
//	go test -run '^$' -bench BenchmarkReadStore -benchtime 1x ./velocity/bigcommerce/
func BenchmarkReadStore(b *testing.B) {
	for range b.N {
		f := storeAtQuota(b, 10_000)
		full, err := measureRead(f, time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		cursor := f.clk.Now()
		f.clk.Advance(24 * time.Hour)
		changed, err := nightOfChanges(f.srv, 1)
		if err != nil {
			b.Fatal(err)
		}
		night, err := measureRead(f, cursor)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(full.perOrder(), "full-req/order")
		b.ReportMetric(float64(full.Requests), "full-requests")
		b.ReportMetric(full.StoreTime.Seconds(), "full-store-s")
		b.ReportMetric(float64(night.Requests)/float64(changed), "night-req/changed-order")
		b.ReportMetric(float64(night.Requests), "night-requests")
		b.ReportMetric(night.StoreTime.Seconds(), "night-store-s")
		b.ReportMetric(float64(full.Limited+night.Limited), "429s")
	}
}

// TestReadCost keeps the request budget of a read honest on a small
// store: the figures BenchmarkReadStore records for 10,000 orders must
// not creep up unnoticed.
func TestReadCost(t *testing.T) {
	f := storeAtQuota(t, 1000)
	full, err := measureRead(f, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if full.Orders != 1000 {
		t.Errorf("full read: got %d orders; want 1000", full.Orders)
	}
	// Per order: the order list and its refunds are 2/250; a shipment
	// list for the shipped reportable orders (about 60 % of a generated
	// store) and a transactions list for the terms ones (5 %).
	if got := full.perOrder(); got > 0.7 {
		t.Errorf("full read: got %.3f requests per order; want at most 0.7", got)
	}
	if full.Limited != 0 {
		t.Errorf("full read: got %d answers 429; want none (the client paces itself)", full.Limited)
	}
	// At 75 requests per 30 s (half of 150), the read takes at least
	// requests/75 windows.
	if min := time.Duration(full.Requests/75) * 30 * time.Second; full.StoreTime < min {
		t.Errorf("full read: took %v of store time for %d requests; want at least %v at half the quota", full.StoreTime, full.Requests, min)
	}
	cursor := f.clk.Now()
	f.clk.Advance(24 * time.Hour)
	changed, err := nightOfChanges(f.srv, 1)
	if err != nil {
		t.Fatal(err)
	}
	night, err := measureRead(f, cursor)
	if err != nil {
		t.Fatal(err)
	}
	if night.Orders != changed {
		t.Errorf("night: got %d orders; want the %d changed", night.Orders, changed)
	}
	// Order list (2 lists), refunds since, refunds of the page, a
	// shipment list per shipped order, one order read per quiet refund.
	if night.Requests > 4+2*changed {
		t.Errorf("night: got %d requests for %d changed orders; want at most %d", night.Requests, changed, 4+2*changed)
	}
	t.Logf("full: %d orders, %d requests (%.3f/order), %v store time; night: %d changed, %d requests, %v",
		full.Orders, full.Requests, full.perOrder(), full.StoreTime, changed, night.Requests, night.StoreTime)
}

func cents(c int64) decimal.Decimal { return decimal.New(c, -2) }

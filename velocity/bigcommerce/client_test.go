package bigcommerce_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/internal/clock"
	"github.com/velqbo/velqbo/velocity"
	"github.com/velqbo/velqbo/velocity/bigcommerce"
	"github.com/velqbo/velqbo/velocity/bigcommerce/bctest"
)

var t0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// fixture is a fake store and a client of it on one fake clock.
type fixture struct {
	clk *clock.Fake
	srv *bctest.Server
	c   *bigcommerce.Client
}

func newFixture(t testing.TB, srvOpts []bctest.Option, opts ...bigcommerce.Option) *fixture {
	t.Helper()
	clk := clock.NewFake(t0)
	srv := bctest.NewTestServer(t, append([]bctest.Option{bctest.WithClock(clk)}, srvOpts...)...)
	cfg := bigcommerce.DefaultConfig()
	terms, err := bigcommerce.ParseTerms(bctest.GeneratedTerms)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Terms = terms
	base := []bigcommerce.Option{
		bigcommerce.WithHTTPClient(srv.Client()), bigcommerce.WithClock(clk), bigcommerce.WithConfig(cfg),
	}
	c, err := bigcommerce.NewClient(srv.URL, srv.Hash, srv.Token(), append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{clk: clk, srv: srv, c: c}
}

// readOrders returns the ids of the orders read, those the mapping
// blocked (an *velocity.ObjectError) included: this file tests the
// reading, mapping_test.go the mapping.
func readOrders(t *testing.T, c *bigcommerce.Client, since time.Time) []string {
	t.Helper()
	var ids []string
	for o, err := range c.Orders(context.Background(), since) {
		var oe *velocity.ObjectError
		switch {
		case errors.As(err, &oe):
			ids = append(ids, oe.ID)
		case err != nil:
			t.Fatalf("orders: %v", err)
		default:
			ids = append(ids, o.ID)
		}
	}
	return ids
}

func idRange(from, n int) []string {
	var out []string
	for i := range n {
		out = append(out, strconv.Itoa(from+i))
	}
	return out
}

// paths counts the requests by path with the ids replaced by {id}.
func paths(reqs []bctest.Request) map[string]int {
	out := map[string]int{}
	for _, r := range reqs {
		var segs []string
		for _, s := range strings.Split(r.Path, "/") {
			if _, err := strconv.Atoi(s); err == nil {
				s = "{id}"
			}
			segs = append(segs, s)
		}
		out[r.Method+" "+strings.Join(segs, "/")]++
	}
	return out
}

func simpleOrder(id int, modified time.Time) bctest.OrderSpec {
	return bctest.OrderSpec{ID: id, CustomerID: 1, Created: modified, Modified: modified, PaymentMethod: "Credit Card",
		Lines: []bctest.LineSpec{{ProductID: 1, VariantID: 1, SKU: "A", Name: "A", Price: decimal.RequireFromString("10.00"), Quantity: 2}}}
}

func TestOrdersPaging(t *testing.T) {
	for _, tc := range []struct {
		name      string
		orders    int
		limit     int
		wantLists int // GET /v2/orders, both lists
	}{
		{"empty store", 0, 5, 2},
		{"short page", 3, 5, 2},
		{"exact pages end in a 204", 10, 5, 4},
		{"last page short", 12, 5, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil, bigcommerce.WithPageLimit(tc.limit))
			for i := range tc.orders {
				if _, err := f.srv.AddOrder(simpleOrder(101+i, t0.Add(-time.Hour))); err != nil {
					t.Fatal(err)
				}
			}
			got := readOrders(t, f.c, time.Time{})
			if d := cmp.Diff(idRange(101, tc.orders), got); d != "" {
				t.Errorf("orders (-want +got):\n%s", d)
			}
			if n := paths(f.srv.Requests())["GET /v2/orders"]; n != tc.wantLists {
				t.Errorf("got %d order list requests; want %d", n, tc.wantLists)
			}
			// Nothing shipped, no coupon, no terms: no sub-resource requests.
			for p, n := range paths(f.srv.Requests()) {
				if strings.HasPrefix(p, "GET /v2/orders/{id}") || strings.Contains(p, "transactions") {
					t.Errorf("got %d requests %s; want none", n, p)
				}
			}
		})
	}
}

func TestOrdersSubResourcesOnlyWhenThere(t *testing.T) {
	f := newFixture(t, []bctest.Option{bctest.WithQuota(0, 0)})
	if err := f.srv.Generate(bctest.GenOptions{Seed: 7, Orders: len(bctest.Cases)}); err != nil {
		t.Fatal(err)
	}
	got := readOrders(t, f.c, time.Time{})
	if len(got) != len(bctest.Cases) {
		t.Fatalf("got %d orders; want %d", len(got), len(bctest.Cases))
	}
	// The generated cases: shipped or partially shipped and reportable
	// (CardShipped ×3, TermsPaid, TaxInclusive, CouponDiscount,
	// FeesHandling, StoreCredit, PartiallyShipped, RefundProduct,
	// RefundOutside); terms (TermsPO and TermsPaid). Coupons are never
	// read.
	want := map[string]int{
		"GET /v2/orders":                         2,
		"GET /v3/orders/payment_actions/refunds": 2,
		"GET /v2/orders/{id}/shipments":          11,
		"GET /v3/orders/{id}/transactions":       2,
	}
	if d := cmp.Diff(want, paths(f.srv.Requests())); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
}

func TestOrdersIncremental(t *testing.T) {
	since := t0.Add(-time.Hour)
	f := newFixture(t, nil, bigcommerce.WithOverlap(5*time.Minute))
	for i, mod := range []time.Time{
		since.Add(-10 * time.Minute), // before the overlap: not read
		since.Add(-5 * time.Minute),  // at the overlap's start: read (inclusive)
		since.Add(-time.Minute),      // within the overlap
		since.Add(time.Minute),       // after since
	} {
		if _, err := f.srv.AddOrder(simpleOrder(201+i, mod)); err != nil {
			t.Fatal(err)
		}
	}
	// A refund created after since on an order modified long before,
	// that did not move it: read anyway.
	if _, err := f.srv.AddOrder(simpleOrder(300, since.Add(-48*time.Hour))); err != nil {
		t.Fatal(err)
	}
	if _, err := f.srv.Refund(300, bctest.RefundSpec{Items: []bctest.RefundItemSpec{{Type: bctest.ItemProduct, Quantity: 1}}, Created: since.Add(2 * time.Minute), Quiet: true}); err != nil {
		t.Fatal(err)
	}
	// An old refund on an order that moved is read with it.
	if _, err := f.srv.Refund(203, bctest.RefundSpec{Items: []bctest.RefundItemSpec{{Type: bctest.ItemShipping}}, Created: since.Add(-24 * time.Hour), Quiet: true}); err != nil {
		t.Fatal(err)
	}
	got := readOrders(t, f.c, since)
	if d := cmp.Diff([]string{"202", "203", "204", "300"}, got); d != "" {
		t.Errorf("orders (-want +got):\n%s", d)
	}
	var minMod, created string
	for _, r := range f.srv.Requests() {
		q, _ := url.ParseQuery(r.RawQuery)
		if r.Path == "/v2/orders" && minMod == "" {
			minMod = q.Get("min_date_modified")
		}
		if r.Path == "/v3/orders/payment_actions/refunds" && q.Has("created:min") {
			created = q.Get("created:min")
		}
	}
	if want := since.Add(-5 * time.Minute).Format("Mon, 02 Jan 2006 15:04:05 -0700"); minMod != want {
		t.Errorf("got min_date_modified %q; want %q", minMod, want)
	}
	if want := since.Add(-5 * time.Minute).Format(time.RFC3339); created != want {
		t.Errorf("got created:min %q; want %q", created, want)
	}
}

func TestOrdersDeletedOnce(t *testing.T) {
	f := newFixture(t, nil)
	for i := range 3 {
		if _, err := f.srv.AddOrder(simpleOrder(401+i, t0.Add(-time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.srv.Delete(402); err != nil {
		t.Fatal(err)
	}
	got := readOrders(t, f.c, time.Time{})
	if d := cmp.Diff([]string{"401", "403", "402"}, got); d != "" {
		t.Errorf("orders (-want +got):\n%s", d)
	}
}

// pacing runs a full read of a generated store under a quota and returns
// the client's sleeps and the server's 429 count.
func TestPacingKeepsToTheShare(t *testing.T) {
	for _, tc := range []struct {
		name      string
		quota     int
		share     float64
		otherApps int
		// wantPerWindow is the most requests velqbo may send in a window.
		wantPerWindow int
	}{
		{"default half", 20, 0, 0, 10},
		{"quarter", 20, 0.25, 0, 5},
		{"other apps leave less than the share", 20, 0.5, 16, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []bigcommerce.Option
			if tc.share > 0 {
				opts = append(opts, bigcommerce.WithQuotaShare(tc.share))
			}
			f := newFixture(t, []bctest.Option{bctest.WithQuota(tc.quota, 30*time.Second)}, append(opts, bigcommerce.WithPageLimit(5))...)
			f.srv.SetOtherApps(tc.otherApps)
			if err := f.srv.Generate(bctest.GenOptions{Seed: 3, Orders: 60}); err != nil {
				t.Fatal(err)
			}
			f.srv.ResetRequests()
			start := f.clk.Now()
			got := readOrders(t, f.c, time.Time{})
			if len(got) != 60 {
				t.Fatalf("got %d orders; want 60", len(got))
			}
			if n := f.srv.RateLimited(); n != 0 {
				t.Errorf("got %d answers 429; want none", n)
			}
			// Count velqbo's requests per 30-second window of the fake clock.
			reqs := f.srv.Requests()
			windows := int(f.clk.Now().Sub(start)/(30*time.Second)) + 1
			if min := (len(reqs) + tc.wantPerWindow - 1) / tc.wantPerWindow; windows < min {
				t.Errorf("read %d requests in %d windows; want at least %d windows at %d a window", len(reqs), windows, min, tc.wantPerWindow)
			}
			if len(f.clk.Sleeps()) == 0 {
				t.Errorf("got no pacing sleeps; want some")
			}
		})
	}
}

func TestRetries(t *testing.T) {
	for _, tc := range []struct {
		name      string
		inject    func(s *bctest.Server)
		wantSleep time.Duration // at least
	}{
		{"429 with the quota spent by other apps waits for the reset", func(s *bctest.Server) {
			s.SpendQuota(150)
		}, 30 * time.Second},
		{"429 without headers backs off", func(s *bctest.Server) {
			s.InjectFault(bctest.FaultRateLimitNoHeaders, "/v2/orders", 0, 2)
		}, 500 * time.Millisecond},
		{"503 is retried", func(s *bctest.Server) {
			s.InjectFault(bctest.FaultStatus, "/v2/orders", http.StatusServiceUnavailable, 1)
		}, 250 * time.Millisecond},
		{"a dropped connection is retried", func(s *bctest.Server) {
			s.InjectFault(bctest.FaultDrop, "/v2/orders", 0, 1)
		}, 250 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			if _, err := f.srv.AddOrder(simpleOrder(501, t0.Add(-time.Hour))); err != nil {
				t.Fatal(err)
			}
			tc.inject(f.srv)
			got := readOrders(t, f.c, time.Time{})
			if d := cmp.Diff([]string{"501"}, got); d != "" {
				t.Errorf("orders (-want +got):\n%s", d)
			}
			var slept time.Duration
			for _, d := range f.clk.Sleeps() {
				slept += d
			}
			if slept < tc.wantSleep {
				t.Errorf("slept %v; want at least %v", slept, tc.wantSleep)
			}
		})
	}
}

func TestErrorsNotRetried(t *testing.T) {
	f := newFixture(t, nil)
	c, err := bigcommerce.NewClient(f.srv.URL, f.srv.Hash, "wrong", bigcommerce.WithHTTPClient(f.srv.Client()), bigcommerce.WithClock(f.clk))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetOrder(context.Background(), "1")
	if !errors.Is(err, velocity.ErrUnauthorized) {
		t.Errorf("got %v; want ErrUnauthorized", err)
	}
	if n := f.srv.RequestCount(); n != 1 {
		t.Errorf("got %d requests; want 1 (401 is not retried)", n)
	}
	_, err = f.c.GetOrder(context.Background(), "999")
	if !errors.Is(err, velocity.ErrNotFound) {
		t.Errorf("got %v; want ErrNotFound", err)
	}
	_, err = f.c.GetOrder(context.Background(), "abc")
	if !errors.Is(err, velocity.ErrNotFound) {
		t.Errorf("got %v; want ErrNotFound for a non-numeric id", err)
	}
}

func TestGetOrder(t *testing.T) {
	f := newFixture(t, nil)
	if _, err := f.srv.AddOrder(simpleOrder(601, t0.Add(-time.Hour))); err != nil {
		t.Fatal(err)
	}
	if _, err := f.srv.Ship(601, bctest.ShipmentSpec{TrackingNumber: "1Z1"}); err != nil {
		t.Fatal(err)
	}
	o, err := f.c.GetOrder(context.Background(), "601")
	if err != nil {
		t.Fatal(err)
	}
	if o.ID != "601" {
		t.Errorf("got order %s; want 601", o.ID)
	}
	want := map[string]int{
		"GET /v3/orders/payment_actions/refunds": 1,
		"GET /v2/orders/{id}":                    1,
		"GET /v2/orders/{id}/shipments":          1,
	}
	if d := cmp.Diff(want, paths(f.srv.Requests())); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
}

func TestCustomersAndProducts(t *testing.T) {
	f := newFixture(t, nil, bigcommerce.WithPageLimit(2))
	for i := range 3 {
		f.srv.AddCustomer(bctest.CustomerSpec{Email: "c" + strconv.Itoa(i) + "@x.example", FirstName: "C", LastName: strconv.Itoa(i),
			Addresses: []bctest.Address{{FirstName: "C", LastName: "X", Street1: "1 Main", City: "Austin", CountryISO2: "US"}}})
	}
	f.srv.AddProduct(bctest.ProductSpec{Name: "Gloves", SKU: "GL", Price: decimal.NewFromInt(5),
		Variants: []bctest.VariantSpec{{SKU: "GL-S", Label: "S"}, {SKU: "GL-M", Label: "M"}}})
	f.srv.AddProduct(bctest.ProductSpec{Name: "Mask", SKU: "MK", Price: decimal.NewFromInt(2)})
	var emails []string
	for c, err := range f.c.Customers(context.Background(), time.Time{}) {
		if err != nil {
			t.Fatal(err)
		}
		emails = append(emails, c.Email)
	}
	if d := cmp.Diff([]string{"c0@x.example", "c1@x.example", "c2@x.example"}, emails); d != "" {
		t.Errorf("customers (-want +got):\n%s", d)
	}
	var skus []string
	for p, err := range f.c.Products(context.Background(), time.Time{}) {
		if err != nil {
			t.Fatal(err)
		}
		skus = append(skus, p.SKU)
	}
	if d := cmp.Diff([]string{"GL-S", "GL-M", "MK"}, skus); d != "" {
		t.Errorf("product variants (-want +got):\n%s", d)
	}
	if _, err := f.c.GetCustomer(context.Background(), "99"); !errors.Is(err, velocity.ErrNotFound) {
		t.Errorf("got %v; want ErrNotFound", err)
	}
}

func TestPatchCustomer(t *testing.T) {
	f := newFixture(t, nil)
	id := f.srv.AddCustomer(bctest.CustomerSpec{Email: "a@x.example", FirstName: "A", LastName: "B",
		Addresses: []bctest.Address{{FirstName: "A", LastName: "B", Street1: "1 Main", City: "Austin", CountryISO2: "US"}}})
	ids := strconv.Itoa(id)
	company, email := "Clinic LLC", "new@x.example"
	got, err := f.c.PatchCustomer(context.Background(), ids, velocity.CustomerPatch{Company: &company, Email: &email,
		BillingAddress: &velocity.Address{Name: "Ann Lee", Line1: "2 Oak", City: "Dallas", Country: "US"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Company != company || got.Email != email {
		t.Errorf("got company %q email %q; want %q %q", got.Company, got.Email, company, email)
	}
	var puts []string
	for _, r := range f.srv.Requests() {
		if r.Method == http.MethodPut {
			puts = append(puts, r.Path)
		}
	}
	if d := cmp.Diff([]string{"/v3/customers", "/v3/customers/addresses"}, puts); d != "" {
		t.Errorf("writes (-want +got):\n%s", d)
	}
	_, err = f.c.PatchCustomer(context.Background(), ids, velocity.CustomerPatch{
		BillingAddress: &velocity.Address{Line1: "a"}, ShippingAddress: &velocity.Address{Line1: "b"}})
	if err == nil {
		t.Errorf("got no error for different billing and shipping addresses; want one")
	}
}

func TestConfigLoader(t *testing.T) {
	calls := 0
	fail := true
	f := newFixture(t, nil, bigcommerce.WithConfigLoader(func(context.Context) (bigcommerce.Config, error) {
		calls++
		if fail {
			return bigcommerce.Config{}, errors.New("no ledger")
		}
		cfg := bigcommerce.DefaultConfig()
		cfg.Terms = map[string]int{"po": 30}
		return cfg, nil
	}))
	if _, err := f.srv.AddOrder(simpleOrder(701, t0.Add(-time.Hour))); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.GetOrder(context.Background(), "701"); err == nil || !strings.Contains(err.Error(), "no ledger") {
		t.Errorf("got %v; want the loader's error", err)
	}
	fail = false
	for range 2 {
		if got := readOrders(t, f.c, time.Time{}); len(got) != 1 {
			t.Errorf("got orders %v; want 701", got)
		}
	}
	if calls != 2 {
		t.Errorf("loader called %d times; want 2 (a failure, then once)", calls)
	}
}

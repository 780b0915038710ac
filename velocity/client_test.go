package velocity_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/internal/clock"
	"github.com/velqbo/velqbo/velocity"
	"github.com/velqbo/velqbo/velocity/velocitytest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// setup starts a fake server with a fake clock and returns a client whose
// retries sleep on that clock.
func setup(t *testing.T, opts ...velocity.Option) (*velocity.Client, *velocitytest.Server, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(t0)
	clk.SetStep(time.Second)
	srv := velocitytest.NewTestServer(t, velocitytest.WithNow(clk.Now))
	c, err := srv.NewClient(append([]velocity.Option{velocity.WithClock(clk)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, srv, clk
}

func order(id string, updated time.Time) *velocity.Order {
	return &velocity.Order{
		ID: id, Number: "N" + id, CustomerID: "c1",
		Lines:     []velocity.OrderLine{{ID: "l1", ProductID: "p1", Quantity: decimal.NewFromInt(2), UnitPrice: decimal.RequireFromString("9.99")}},
		Total:     decimal.RequireFromString("19.98"),
		CreatedAt: updated, UpdatedAt: updated,
	}
}

func collect[T any](t *testing.T, seq func(func(*T, error) bool), id func(*T) string) (ids []string, objErrs []string, fatal error) {
	t.Helper()
	for v, err := range seq {
		switch {
		case err == nil:
			ids = append(ids, id(v))
		case velocity.IsObjectError(err):
			objErrs = append(objErrs, err.Error())
		default:
			fatal = err
		}
	}
	return ids, objErrs, fatal
}

func orderID(o *velocity.Order) string { return o.ID }

func TestClient_Orders(t *testing.T) {
	t.Parallel()
	t.Run("Paging", func(t *testing.T) {
		t.Parallel()
		c, srv, _ := setup(t, velocity.WithPageLimit(3))
		var want []string
		for i := range 10 {
			id := fmt.Sprintf("o%02d", i)
			srv.AddOrder(order(id, t0.Add(time.Duration(i/2)*time.Minute))) // pairs share updated_at
			want = append(want, id)
		}
		ids, objErrs, fatal := collect(t, c.Orders(t.Context(), time.Time{}), orderID)
		if fatal != nil || objErrs != nil {
			t.Fatalf("errors: %v, %v", fatal, objErrs)
		}
		if diff := cmp.Diff(want, ids); diff != "" {
			t.Errorf("ids (-want +got):\n%s", diff)
		}
		if got, want := len(srv.Requests()), 4; got != want {
			t.Errorf("got %d requests; want %d pages", got, want)
		}
		for _, r := range srv.Requests() {
			if !strings.Contains(r.RawQuery, "limit=3") {
				t.Errorf("request %s?%s lacks limit=3", r.Path, r.RawQuery)
			}
		}
	})
	t.Run("UpdatedSinceInclusive", func(t *testing.T) {
		t.Parallel()
		c, srv, _ := setup(t)
		srv.AddOrder(order("a", t0.Add(-time.Second)))
		srv.AddOrder(order("b", t0))
		srv.AddOrder(order("c", t0.Add(time.Nanosecond*1500)))
		ids, _, fatal := collect(t, c.Orders(t.Context(), t0), orderID)
		if fatal != nil {
			t.Fatal(fatal)
		}
		if diff := cmp.Diff([]string{"b", "c"}, ids); diff != "" {
			t.Errorf("ids (-want +got):\n%s", diff)
		}
	})
	t.Run("InvalidObjectMidPage", func(t *testing.T) {
		t.Parallel()
		c, srv, _ := setup(t)
		srv.AddOrder(order("a", t0))
		if err := srv.AddRawOrder([]byte(`{"id":"bad","number":"7","customer_id":"c1","lines":[{"product_id":"p","quantity":"1","unit_price":"1.999"}],"total":"2.00","updated_at":"2026-03-01T12:00:01Z"}`)); err != nil {
			t.Fatal(err)
		}
		srv.AddOrder(order("z", t0.Add(2*time.Second)))
		ids, objErrs, fatal := collect(t, c.Orders(t.Context(), time.Time{}), orderID)
		if fatal != nil {
			t.Fatal(fatal)
		}
		if diff := cmp.Diff([]string{"a", "z"}, ids); diff != "" {
			t.Errorf("ids (-want +got):\n%s", diff)
		}
		want := []string{`order bad: lines[0].unit_price: "1.999" has more than 2 decimal places`}
		if diff := cmp.Diff(want, objErrs); diff != "" {
			t.Errorf("object errors (-want +got):\n%s", diff)
		}
	})
	t.Run("RateLimitRetryAfter", func(t *testing.T) {
		t.Parallel()
		c, srv, clk := setup(t)
		srv.AddOrder(order("a", t0))
		srv.InjectFault(velocitytest.Fault{Kind: velocitytest.FaultRateLimit, RetryAfter: 7, Count: 2})
		ids, _, fatal := collect(t, c.Orders(t.Context(), time.Time{}), orderID)
		if fatal != nil {
			t.Fatal(fatal)
		}
		if diff := cmp.Diff([]string{"a"}, ids); diff != "" {
			t.Errorf("ids (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]time.Duration{7 * time.Second, 7 * time.Second}, clk.Sleeps()); diff != "" {
			t.Errorf("sleeps (-want +got):\n%s", diff)
		}
	})
	t.Run("UnavailableThenOK", func(t *testing.T) {
		t.Parallel()
		c, srv, clk := setup(t)
		srv.AddOrder(order("a", t0))
		srv.InjectFault(velocitytest.Fault{Kind: velocitytest.FaultUnavailable, Path: "/v1/orders"})
		ids, _, fatal := collect(t, c.Orders(t.Context(), time.Time{}), orderID)
		if fatal != nil || len(ids) != 1 {
			t.Fatalf("got %v, %v; want [a], nil", ids, fatal)
		}
		if s := clk.Sleeps(); len(s) != 1 || s[0] <= 0 || s[0] > time.Second {
			t.Errorf("sleeps = %v; want one jittered backoff in (0, 1s]", s)
		}
	})
	t.Run("RetriesExhausted", func(t *testing.T) {
		t.Parallel()
		c, srv, clk := setup(t, velocity.WithMaxAttempts(3))
		srv.InjectFault(velocitytest.Fault{Kind: velocitytest.FaultStatus, Status: 502, Count: 5})
		_, _, fatal := collect(t, c.Orders(t.Context(), time.Time{}), orderID)
		var ae *velocity.APIError
		if !errors.As(fatal, &ae) || ae.Status != 502 {
			t.Fatalf("error = %v; want *APIError 502", fatal)
		}
		if got := len(srv.Requests()); got != 3 {
			t.Errorf("got %d requests; want 3 (1 + 2 retries)", got)
		}
		if got := len(clk.Sleeps()); got != 2 {
			t.Errorf("got %d sleeps; want 2", got)
		}
	})
	t.Run("Unauthorized", func(t *testing.T) {
		t.Parallel()
		clk := clock.NewFake(t0)
		srv := velocitytest.NewTestServer(t)
		c, err := velocity.NewClient(srv.URL, "wrong", velocity.WithClock(clk))
		if err != nil {
			t.Fatal(err)
		}
		_, _, fatal := collect(t, c.Orders(t.Context(), time.Time{}), orderID)
		if !errors.Is(fatal, velocity.ErrUnauthorized) {
			t.Fatalf("error = %v; want ErrUnauthorized", fatal)
		}
		if strings.Contains(fatal.Error(), "wrong") {
			t.Errorf("error %q leaks the token", fatal)
		}
		if got := len(srv.Requests()); got != 1 {
			t.Errorf("got %d requests; want 1 (no retry)", got)
		}
	})
	t.Run("HTML500", func(t *testing.T) {
		t.Parallel()
		c, srv, _ := setup(t, velocity.WithMaxAttempts(2))
		srv.InjectFault(velocitytest.Fault{Kind: velocitytest.FaultHTML, Count: 2})
		_, _, fatal := collect(t, c.Orders(t.Context(), time.Time{}), orderID)
		var ae *velocity.APIError
		if !errors.As(fatal, &ae) || ae.Status != 500 {
			t.Fatalf("error = %v; want *APIError 500", fatal)
		}
		for _, want := range []string{srv.URL + "/v1/orders", "500", "text/html"} {
			if !strings.Contains(fatal.Error(), want) {
				t.Errorf("error %q does not name %q", fatal, want)
			}
		}
		if got := len(srv.Requests()); got != 2 {
			t.Errorf("got %d requests; want 2 (5xx retried)", got)
		}
	})
	t.Run("HTML500ThenOK", func(t *testing.T) {
		t.Parallel()
		c, srv, _ := setup(t)
		srv.AddOrder(order("a", t0))
		srv.InjectFault(velocitytest.Fault{Kind: velocitytest.FaultHTML})
		ids, _, fatal := collect(t, c.Orders(t.Context(), time.Time{}), orderID)
		if fatal != nil || len(ids) != 1 {
			t.Fatalf("got %v, %v; want [a], nil", ids, fatal)
		}
	})
	t.Run("LatencyReleased", func(t *testing.T) {
		t.Parallel()
		c, srv, _ := setup(t)
		srv.AddOrder(order("a", t0))
		release, held := make(chan struct{}), make(chan struct{}, 1)
		srv.InjectFault(velocitytest.Fault{Kind: velocitytest.FaultLatency, Release: release, Held: held})
		go func() {
			<-held
			close(release)
		}()
		ids, _, fatal := collect(t, c.Orders(t.Context(), time.Time{}), orderID)
		if fatal != nil || len(ids) != 1 {
			t.Fatalf("got %v, %v; want [a], nil", ids, fatal)
		}
	})
	t.Run("TruncatedOnceRetried", func(t *testing.T) {
		t.Parallel()
		c, srv, _ := setup(t)
		srv.AddOrder(order("a", t0))
		srv.InjectFault(velocitytest.Fault{Kind: velocitytest.FaultTruncated})
		ids, _, fatal := collect(t, c.Orders(t.Context(), time.Time{}), orderID)
		if fatal != nil || len(ids) != 1 {
			t.Fatalf("got %v, %v; want [a], nil (a cut-off body is a broken transfer, retried)", ids, fatal)
		}
		if got := len(srv.Requests()); got != 2 {
			t.Errorf("got %d requests; want 2", got)
		}
	})
	t.Run("TruncatedAlways", func(t *testing.T) {
		t.Parallel()
		c, srv, _ := setup(t)
		srv.AddOrder(order("a", t0))
		srv.InjectFault(velocitytest.Fault{Kind: velocitytest.FaultTruncated, Count: 100})
		_, _, fatal := collect(t, c.Orders(t.Context(), time.Time{}), orderID)
		var be *velocity.BodyError
		if !errors.As(fatal, &be) || be.Status != 200 || !be.Truncated {
			t.Fatalf("error = %v; want a truncated *BodyError with status 200", fatal)
		}
		if !strings.Contains(fatal.Error(), "truncated") || !strings.Contains(fatal.Error(), srv.URL) {
			t.Errorf("error %q does not say truncated and name the URL", fatal)
		}
		if got := len(srv.Requests()); got < 2 {
			t.Errorf("got %d requests; want the retries", got)
		}
	})
	t.Run("HTML200NotRetried", func(t *testing.T) {
		t.Parallel()
		c, srv, _ := setup(t)
		srv.AddOrder(order("a", t0))
		srv.InjectFault(velocitytest.Fault{Kind: velocitytest.FaultHTML, Status: 200})
		_, _, fatal := collect(t, c.Orders(t.Context(), time.Time{}), orderID)
		var be *velocity.BodyError
		if !errors.As(fatal, &be) || be.Truncated {
			t.Fatalf("error = %v; want a non-truncated *BodyError", fatal)
		}
		if got := len(srv.Requests()); got != 1 {
			t.Errorf("got %d requests; want 1 (an HTML answer is not retried)", got)
		}
	})
	t.Run("Truncated503Retried", func(t *testing.T) {
		t.Parallel()
		c, srv, _ := setup(t)
		srv.AddOrder(order("a", t0))
		srv.InjectFault(velocitytest.Fault{Kind: velocitytest.FaultTruncated, Status: 503})
		ids, _, fatal := collect(t, c.Orders(t.Context(), time.Time{}), orderID)
		if fatal != nil || len(ids) != 1 {
			t.Fatalf("got %v, %v; want [a], nil", ids, fatal)
		}
	})
	t.Run("LatencyCancelled", func(t *testing.T) {
		t.Parallel()
		c, srv, _ := setup(t)
		release := make(chan struct{})
		defer close(release)
		held := make(chan struct{}, 1)
		srv.InjectFault(velocitytest.Fault{Kind: velocitytest.FaultLatency, Release: release, Held: held})
		ctx, cancel := contextWithCancel(t)
		go func() {
			<-held
			cancel()
		}()
		_, _, fatal := collect(t, c.Orders(ctx, time.Time{}), orderID)
		if fatal == nil || !strings.Contains(fatal.Error(), "context canceled") {
			t.Fatalf("error = %v; want context canceled", fatal)
		}
	})
}

func TestClient_Customers(t *testing.T) {
	t.Parallel()
	c, srv, _ := setup(t, velocity.WithPageLimit(1))
	srv.AddCustomer(velocity.Customer{ID: "c1", FirstName: "Zoë", UpdatedAt: t0})
	srv.AddCustomer(velocity.Customer{ID: "c2", UpdatedAt: t0})
	ids, _, fatal := collect(t, c.Customers(t.Context(), time.Time{}), func(c *velocity.Customer) string { return c.ID })
	if fatal != nil {
		t.Fatal(fatal)
	}
	if diff := cmp.Diff([]string{"c1", "c2"}, ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	srv.AddProduct(velocity.Product{ID: "p1", Price: decimal.RequireFromString("1.50")})
	pids, _, fatal := collect(t, c.Products(t.Context(), time.Time{}), func(p *velocity.Product) string { return p.ID })
	if fatal != nil || len(pids) != 1 {
		t.Fatalf("products = %v, %v; want [p1]", pids, fatal)
	}
}

func TestClient_GetOrder(t *testing.T) {
	t.Parallel()
	c, srv, _ := setup(t)
	srv.AddOrder(order("o/1", t0))
	o, err := c.GetOrder(t.Context(), "o/1")
	if err != nil {
		t.Fatal(err)
	}
	if o.ID != "o/1" || !o.Total.Equal(o.ComputedTotal()) {
		t.Errorf("got %s total %s; want o/1 with total = computed", o.ID, o.Total)
	}
	if _, err := c.GetOrder(t.Context(), "nope"); !errors.Is(err, velocity.ErrNotFound) {
		t.Errorf("GetOrder(nope) error = %v; want ErrNotFound", err)
	}
}

func TestClient_PatchCustomer(t *testing.T) {
	t.Parallel()
	c, srv, _ := setup(t)
	srv.AddCustomer(velocity.Customer{ID: "c1", FirstName: "Ana", Email: "old@example.com", UpdatedAt: t0.Add(-time.Hour)})
	email, phone := "new@example.com", ""
	addr := velocity.Address{Line1: "1 Rue Sainte-Catherine", City: "Montréal"}
	got, err := c.PatchCustomer(t.Context(), "c1", velocity.CustomerPatch{Email: &email, Phone: &phone, BillingAddress: &addr})
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != email || got.FirstName != "Ana" || got.BillingAddress != addr {
		t.Errorf("patched = %+v; want new email, first name kept, new address", got)
	}
	if !got.UpdatedAt.Equal(t0) {
		t.Errorf("updated_at = %v; want bumped to the server clock %v", got.UpdatedAt, t0)
	}
	reqs := srv.Requests()
	if last := reqs[len(reqs)-1]; last.Method != http.MethodPatch || last.Body != `{"email":"new@example.com","phone":"","billing_address":{"line1":"1 Rue Sainte-Catherine","city":"Montréal"}}` {
		t.Errorf("request = %s %s; want PATCH with only the set fields", last.Method, last.Body)
	}
	again, err := c.GetCustomer(t.Context(), "c1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("GetCustomer after patch (-patched +got):\n%s", diff)
	}
	if _, err := c.PatchCustomer(t.Context(), "missing", velocity.CustomerPatch{Email: &email}); !errors.Is(err, velocity.ErrNotFound) {
		t.Errorf("patch missing error = %v; want ErrNotFound", err)
	}
}

func TestNewClient_Invalid(t *testing.T) {
	tests := []struct {
		name, url, token string
		opts             []velocity.Option
	}{
		{"RelativeURL", "/v1", "t", nil},
		{"FTP", "ftp://x", "t", nil},
		{"NoToken", "http://x", "", nil},
		{"LimitTooBig", "http://x", "t", []velocity.Option{velocity.WithPageLimit(1001)}},
		{"LimitZero", "http://x", "t", []velocity.Option{velocity.WithPageLimit(0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := velocity.NewClient(tt.url, tt.token, tt.opts...); err == nil {
				t.Errorf("NewClient(%q, %q) error = nil; want an error", tt.url, tt.token)
			}
		})
	}
}

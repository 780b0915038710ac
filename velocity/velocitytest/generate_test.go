package velocitytest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/internal/clock"
	"github.com/velqbo/velqbo/velocity"
)

func TestGenerate_Deterministic(t *testing.T) {
	t.Parallel()
	write := func(seed int64) []byte {
		var b bytes.Buffer
		if err := Generate(seed, GenOptions{Orders: 300, Invalid: 8}).WriteNDJSON(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, b, c := write(42), write(42), write(43)
	if !bytes.Equal(a, b) {
		t.Errorf("same seed gave different bytes: %x vs %x", sha256.Sum256(a), sha256.Sum256(b))
	}
	if bytes.Equal(a, c) {
		t.Errorf("seeds 42 and 43 gave identical bytes")
	}
	// The streaming writer produces the same lines as Generate without
	// invalid objects.
	var d, s bytes.Buffer
	if err := Generate(42, GenOptions{Orders: 300}).WriteNDJSON(&d); err != nil {
		t.Fatal(err)
	}
	if err := WriteNDJSON(&s, 42, 300); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.Bytes(), s.Bytes()) {
		t.Errorf("WriteNDJSON stream differs from Generate(...).WriteNDJSON")
	}
}

// TestGenerate_Invariants reads a generated export back through the real
// reader and checks what reconcile relies on.
func TestGenerate_Invariants(t *testing.T) {
	t.Parallel()
	ds := Generate(7, GenOptions{Orders: 2000, Invalid: 16})
	var buf bytes.Buffer
	if err := ds.WriteNDJSON(&buf); err != nil {
		t.Fatal(err)
	}
	fr := velocity.NewFileReader(&buf)
	var stats struct {
		orders, terms, rai, pending, cancelled, refunded, multiRefund, shipped, paid, fractional, custom, unicode int
	}
	invalidSeen := map[string]string{}
	for rec, err := range fr.All() {
		if err != nil {
			var oe *velocity.ObjectError
			if !errors.As(err, &oe) {
				t.Fatal(err)
			}
			invalidSeen[oe.ID] = oe.Reason
			continue
		}
		o := rec.Order
		if o == nil {
			continue
		}
		stats.orders++
		if !o.Total.Equal(o.ComputedTotal()) {
			t.Errorf("order %s: total %s != computed %s", o.ID, o.Total, o.ComputedTotal())
		}
		if o.Total.Exponent() < -2 || o.Total.Sign() <= 0 {
			t.Errorf("order %s: total %s not a positive 2-digit amount", o.ID, o.Total)
		}
		if o.RefundsTotal().GreaterThan(o.Total) {
			t.Errorf("order %s: refunds %s exceed total %s", o.ID, o.RefundsTotal(), o.Total)
		}
		if o.PaymentsTotal().GreaterThan(o.Total) {
			t.Errorf("order %s: payments %s exceed total %s", o.ID, o.PaymentsTotal(), o.Total)
		}
		for _, r := range o.RefundsOrdered() {
			if doc := fmt.Sprintf("RF-%s-%d", o.Number, r.N); len(doc) > 21 {
				t.Errorf("order %s: DocNumber %q longer than 21", o.ID, doc)
			}
		}
		for _, l := range o.Lines {
			if l.Amount().Exponent() < -2 && !l.Amount().Equal(l.Amount().Round(2)) {
				t.Errorf("order %s line %s: amount %s not whole cents", o.ID, l.ID, l.Amount())
			}
			if !l.Quantity.Equal(l.Quantity.Truncate(0)) {
				stats.fractional++
			}
		}
		if o.UpdatedAt.Before(o.CreatedAt) {
			t.Errorf("order %s: updated_at before created_at", o.ID)
		}
		switch {
		case o.ApprovedAt == nil && o.CancelledAt == nil:
			stats.pending++
		case o.CancelledAt != nil:
			stats.cancelled++
		}
		if o.OnTerms() {
			stats.terms++
		}
		if o.ReportAsInvoice {
			stats.rai++
		}
		if len(o.Refunds) > 0 {
			stats.refunded++
		}
		if len(o.Refunds) > 1 {
			stats.multiRefund++
		}
		if len(o.Shipments) > 0 {
			stats.shipped++
		}
		if len(o.Payments) > 0 {
			stats.paid++
		}
		if len(o.CustomAmounts) > 0 {
			stats.custom++
		}
		if strings.ContainsAny(o.BillingAddress.Name+o.BillingAddress.Company+o.BillingAddress.City, "éëø日東🚀") {
			stats.unicode++
		}
	}
	if stats.orders != 2000 {
		t.Errorf("read %d valid orders; want 2000", stats.orders)
	}
	for name, n := range map[string]int{
		"terms": stats.terms, "report_as_invoice": stats.rai, "pending": stats.pending, "cancelled": stats.cancelled,
		"refunded": stats.refunded, "multi-refund": stats.multiRefund, "shipped": stats.shipped, "paid": stats.paid,
		"fractional": stats.fractional, "custom": stats.custom, "unicode": stats.unicode,
	} {
		if n == 0 {
			t.Errorf("no %s orders in 2000; want some", name)
		}
	}
	if len(invalidSeen) != len(ds.Invalid) {
		t.Errorf("got %d invalid objects; want %d", len(invalidSeen), len(ds.Invalid))
	}
	for _, inv := range ds.Invalid {
		if got := invalidSeen[inv.ID]; !strings.Contains(got, inv.Reason) {
			t.Errorf("invalid %s: reason %q; want it to contain %q", inv.ID, got, inv.Reason)
		}
	}
}

func TestServer_Contract(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) // after every generated timestamp
	clk.SetStep(time.Second)
	srv := NewTestServer(t, WithNow(clk.Now))
	ds := Generate(1, GenOptions{Orders: 25, Invalid: 3})
	if err := srv.Load(ds); err != nil {
		t.Fatal(err)
	}
	hc := srv.Client()
	get := func(path, token string) int {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tests := []struct {
		path, token string
		want        int
	}{
		{"/v1/orders", srv.Token(), 200},
		{"/v1/orders", "", 401},
		{"/v1/orders", "nope", 401},
		{"/v1/orders?limit=0", srv.Token(), 400},
		{"/v1/orders?limit=1001", srv.Token(), 400},
		{"/v1/orders?limit=1000", srv.Token(), 200},
		{"/v1/orders?updated_since=yesterday", srv.Token(), 400},
		{"/v1/orders?cursor=%21%21", srv.Token(), 400},
		{"/v1/orders/ord_1", srv.Token(), 200},
		{"/v1/orders/bad_1", srv.Token(), 200},
		{"/v1/orders/nope", srv.Token(), 404},
		{"/v1/invoices", srv.Token(), 404},
	}
	for _, tt := range tests {
		if got := get(tt.path, tt.token); got != tt.want {
			t.Errorf("GET %s (token %q) = %d; want %d", tt.path, tt.token, got, tt.want)
		}
	}

	// Mutations bump updated_at and show up in a since-query.
	c, err := srv.NewClient(velocity.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	since := clk.Now()
	if err := srv.AddRefund("ord_3", velocity.Refund{Lines: []velocity.RefundLine{{Kind: velocity.RefundShipping, Amount: decimal.RequireFromString("0.01")}}}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Cancel("ord_5"); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for o, err := range c.Orders(t.Context(), since) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.ID)
	}
	if fmt.Sprint(ids) != "[ord_3 ord_5]" {
		t.Errorf("orders since mutations = %v; want [ord_3 ord_5]", ids)
	}
	o, _ := srv.Order("ord_3")
	if r := o.Refunds[len(o.Refunds)-1]; !r.Total.Equal(decimal.RequireFromString("0.01")) || r.ID == "" {
		t.Errorf("added refund = %+v; want id set and total 0.01", r)
	}
	if err := srv.Cancel("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Cancel(nope) = %v; want ErrNotFound", err)
	}
}

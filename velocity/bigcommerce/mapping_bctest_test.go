package bigcommerce_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/internal/clock"
	"github.com/velqbo/velqbo/velocity"
	"github.com/velqbo/velqbo/velocity/bigcommerce"
	"github.com/velqbo/velqbo/velocity/bigcommerce/bctest"
)

// The fake store writes its JSON with its own structs, so decoding and
// mapping its generated store checks the wire structs and the mapping
// against an independent writer, one order of every B2B case.

func fetch(t *testing.T, s *bctest.Server, path string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+"/stores/"+s.Hash+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", s.Token())
	req.Header.Set("Accept", "application/json")
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return b
}

func noBad[T any](t *testing.T, what string, v T, bad []*velocity.ObjectError, err error) T {
	t.Helper()
	if err != nil || len(bad) > 0 {
		t.Fatalf("%s: bad %v, err %v; want none", what, bad, err)
	}
	return v
}

func TestMapOrder_GeneratedStore(t *testing.T) {
	s := bctest.NewTestServer(t, bctest.WithClock(clock.NewFake(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))), bctest.WithQuota(0, 0))
	if err := s.Generate(bctest.GenOptions{Seed: 7, Orders: len(bctest.Cases)}); err != nil {
		t.Fatal(err)
	}
	st, err := bigcommerce.ParseStatuses(bigcommerce.DefaultStatuses)
	if err != nil {
		t.Fatal(err)
	}
	terms, err := bigcommerce.ParseTerms(bctest.GeneratedTerms)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &bigcommerce.Config{Statuses: st, Terms: terms}

	for _, id := range s.OrderIDs() {
		c := bctest.CaseOf(id)
		t.Run(fmt.Sprintf("%d %s", id, c), func(t *testing.T) {
			o, err := bigcommerce.DecodeOrder(fetch(t, s, fmt.Sprintf("/v2/orders/%d?include=consignments.line_items,fees&consignment_structure=object", id)))
			if err != nil {
				t.Fatalf("DecodeOrder: %v", err)
			}
			d := &bigcommerce.OrderData{Order: *o}
			ships, bad, err := bigcommerce.DecodeShipments(fetch(t, s, fmt.Sprintf("/v2/orders/%d/shipments", id)))
			d.Shipments = noBad(t, "shipments", ships, bad, err)
			refunds, bad, err := bigcommerce.DecodeRefunds(fetch(t, s, fmt.Sprintf("/v3/orders/%d/payment_actions/refunds", id)))
			d.Refunds = noBad(t, "refunds", refunds, bad, err).Data
			txns, bad, err := bigcommerce.DecodeTransactions(fetch(t, s, fmt.Sprintf("/v3/orders/%d/transactions", id)))
			d.Transactions = noBad(t, "transactions", txns, bad, err).Data

			got, err := bigcommerce.MapOrder(d, cfg)
			if want := map[bctest.Case]string{
				bctest.CaseRefundOutside: "no refund record",
				// A card order partly paid by store credit and a gift
				// certificate cannot be one sales receipt.
				bctest.CaseStoreCredit: "a sales receipt records one payment method",
			}[c]; want != "" {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("MapOrder err = %v; want blocked with %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("MapOrder: %v", err)
			}
			switch c {
			case bctest.CasePending:
				if got.Approved() {
					t.Errorf("pending order is approved; want not reported")
				}
				return
			case bctest.CaseCancelled, bctest.CaseDeleted:
				if !got.Cancelled() {
					t.Errorf("order is not cancelled; want cancelled")
				}
				return
			case bctest.CaseTermsPO, bctest.CaseTermsPaid:
				if !got.OnTerms() {
					t.Errorf("order on %q is not on terms", o.PaymentMethod)
				}
				if c == bctest.CaseTermsPaid && len(got.Payments) == 0 {
					t.Errorf("paid terms order has no payments")
				}
			}
			if !got.Approved() {
				t.Errorf("order is not approved; want reported")
			}
			if !got.ComputedTotal().Equal(got.Total) || !got.Total.Equal(o.TotalIncTax.Decimal) {
				t.Errorf("parts %s, total %s; want both total_inc_tax %s", got.ComputedTotal(), got.Total, o.TotalIncTax.Decimal)
			}
			for _, r := range got.Refunds {
				sum := decimal0()
				for _, l := range r.Lines {
					sum = sum.Add(l.Amount)
				}
				if !sum.Equal(r.Total) {
					t.Errorf("refund %s: lines %s; want its total %s (%+v)", r.ID, sum, r.Total, r.Lines)
				}
			}
		})
	}

	t.Run("customers and products", func(t *testing.T) {
		cs, bad, err := bigcommerce.DecodeCustomers(fetch(t, s, "/v3/customers?include=addresses&limit=250"))
		for _, c := range noBad(t, "customers", cs, bad, err).Data {
			if vc := bigcommerce.MapCustomer(&c); vc.ID == "0" || vc.UpdatedAt.IsZero() {
				t.Errorf("customer %d maps to %+v", c.ID, vc)
			}
		}
		ps, bad, err := bigcommerce.DecodeProducts(fetch(t, s, "/v3/catalog/products?include=variants&limit=250"))
		for _, p := range noBad(t, "products", ps, bad, err).Data {
			vps, err := bigcommerce.MapProduct(&p)
			if err != nil || len(vps) == 0 {
				t.Errorf("product %d: %v, %d variants", p.ID, err, len(vps))
			}
		}
	})
}

func decimal0() decimal.Decimal { return decimal.Zero }

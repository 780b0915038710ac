package reconcile_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/velqbo/velqbo/internal/clock"
	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/velocity"
	"github.com/velqbo/velqbo/velocity/velocitytest"
)

// propCompany is a fake QBO company with every generated customer and
// product linked, and the real qbo client talking to it.
type propCompany struct {
	srv *qbotest.Server
	c   *qbo.Client
	env *reconcile.Env
}

func newPropCompany(t *testing.T, ds *velocitytest.Dataset) *propCompany {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	srv := qbotest.NewTestServer(t, qbotest.WithClock(clk), qbotest.WithoutLimits())
	sd := srv.SeedDefaults()
	env := &reconcile.Env{
		Settings: reconcile.Settings{
			DepositAccount:    sd.Accounts["Checking"],
			RefundAccount:     sd.Accounts["Refunds"],
			DiscountAccount:   sd.Accounts["Discounts given"],
			ShippingItem:      sd.Items["Shipping"],
			HandlingItem:      sd.Items["Handling"],
			TaxItem:           sd.Items["Sales Tax"],
			CustomItem:        sd.Items["Custom Amount"],
			NonTaxableTaxCode: "NON",
			PaymentMethods: map[string]string{
				velocity.MethodCreditCard:  sd.PaymentMethods["Credit Card"],
				velocity.MethodACH:         sd.PaymentMethods["ACH"],
				velocity.MethodCheck:       sd.PaymentMethods["Check"],
				velocity.MethodWire:        sd.PaymentMethods["Wire"],
				velocity.MethodCash:        sd.PaymentMethods["Cash"],
				velocity.MethodStoreCredit: srv.AddPaymentMethod("Store Credit"),
			},
		},
		Location:     mapChicago(t),
		HomeCurrency: "USD",
		Customers:    map[string]reconcile.Link{},
		Products:     map[string]reconcile.Link{},
	}
	for _, c := range ds.Customers {
		name := fmt.Sprintf("%s %s %s", c.FirstName, c.LastName, c.Number)
		env.Customers[c.ID] = reconcile.Link{QBOID: srv.AddCustomer(name, c.Email), Name: name}
	}
	for _, p := range ds.Products {
		name := p.Name + " " + p.SKU
		env.Products[p.ID] = reconcile.Link{QBOID: srv.AddItem(name, p.SKU), Name: name}
	}
	hc := &http.Client{Transport: &oauth2.Transport{
		Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: srv.IssueAccessToken()}),
		Base:   srv.Client().Transport,
	}}
	c, err := qbo.NewClient(hc, qbo.WithBaseURL(srv.URL), qbo.WithRealmID(srv.Realm()), qbo.WithClock(clk),
		// Pacing is the client's business and tested there; here it would
		// only slow a few hundred creates down.
		qbo.WithPacing(qbo.Pacing{RequestsPerMinute: 100000, BatchRequestsPerMinute: 10000, MaxInFlight: 10}))
	if err != nil {
		t.Fatal(err)
	}
	return &propCompany{srv: srv, c: c, env: env}
}

// TestMapOrder_PropertyGenerated maps generated orders with everything
// linked and creates every sendable document in the fake QBO: QBO's own
// TotalAmt must equal Desired.Total and the Velocity figure to the cent,
// and no valid generated order may be blocked.
func TestMapOrder_PropertyGenerated(t *testing.T) {
	seeds := []int64{1, 7, 2026}
	const ordersPerSeed = 250
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			ds := velocitytest.Generate(seed, velocitytest.GenOptions{Customers: 30, Products: 50, Orders: ordersPerSeed})
			co := newPropCompany(t, ds)
			ctx := t.Context()
			var st propStats
			for _, o := range ds.Orders {
				co.checkOrder(ctx, t, o, &st)
			}
			// The generator's mix must actually exercise every path.
			if st.receipts == 0 || st.invoices == 0 || st.refunds == 0 || st.payments == 0 || st.notApplicable == 0 || st.skipped == 0 || st.cancelled == 0 {
				t.Errorf("coverage: got %+v; want every kind of document at least once", st)
			}
		})
	}
}

type propStats struct {
	receipts, invoices, refunds, payments, notApplicable, skipped, cancelled int
}

func (co *propCompany) checkOrder(ctx context.Context, t *testing.T, o *velocity.Order, st *propStats) {
	t.Helper()
	docs := reconcile.MapOrder(o, co.env)
	if docs.Skip != "" {
		st.skipped++
		if o.Approved() && (o.CancelledAt == nil || !o.CancelledAt.Before(*o.ApprovedAt)) {
			t.Errorf("order %s: skipped %q; want an approved order mapped", o.Number, docs.Skip)
		}
		return
	}
	d := docs.Doc
	if len(d.Blocked) > 0 {
		t.Errorf("order %s: blocked %q; want a valid, fully linked order sendable", o.Number, d.Blocked)
		return
	}
	if !d.Total.Equal(o.Total) {
		t.Errorf("order %s: Desired.Total %s; want the order total %s", o.Number, d.Total, o.Total)
	}
	if docs.Cancelled {
		st.cancelled++
		return // nothing is created for a cancelled order
	}
	reqID := "prop-" + o.ID
	var total qbo.Decimal
	invoiceID := ""
	switch e := d.Entity.(type) {
	case *qbo.SalesReceipt:
		st.receipts++
		got, _, err := co.c.SalesReceipts.Create(ctx, e, &qbo.RequestOptions{RequestID: reqID})
		if err != nil {
			t.Errorf("order %s: create SalesReceipt: %v", o.Number, err)
			return
		}
		total = *got.TotalAmt
	case *qbo.Invoice:
		st.invoices++
		got, _, err := co.c.Invoices.Create(ctx, e, &qbo.RequestOptions{RequestID: reqID})
		if err != nil {
			t.Errorf("order %s: create Invoice: %v", o.Number, err)
			return
		}
		total, invoiceID = *got.TotalAmt, got.Id
	default:
		t.Fatalf("order %s: Entity %T; want a SalesReceipt or Invoice", o.Number, d.Entity)
	}
	if !total.Equal(d.Total) || !total.Equal(o.Total) {
		t.Errorf("order %s: QBO TotalAmt %s; want %s (Desired) = %s (Velocity)", o.Number, total, d.Total, o.Total)
	}

	for i, r := range docs.Refunds {
		if len(r.Blocked) > 0 {
			t.Errorf("order %s refund %s: blocked %q; want sendable", o.Number, r.SourceID, r.Blocked)
			continue
		}
		st.refunds++
		got, _, err := co.c.RefundReceipts.Create(ctx, r.Entity.(*qbo.RefundReceipt), &qbo.RequestOptions{RequestID: "prop-" + r.SourceID})
		if err != nil {
			t.Errorf("order %s refund %s: create: %v", o.Number, r.SourceID, err)
			continue
		}
		want := o.RefundsOrdered()[i].Total
		if !got.TotalAmt.Equal(r.Total) || !got.TotalAmt.Equal(want) {
			t.Errorf("order %s refund %s: QBO TotalAmt %s; want %s (Desired) = %s (Velocity)", o.Number, r.SourceID, got.TotalAmt, r.Total, want)
		}
		if got.DocNumber != r.DocNumber || !strings.HasPrefix(got.DocNumber, "RF-"+o.Number) {
			t.Errorf("order %s refund %s: DocNumber %q; want %q", o.Number, r.SourceID, got.DocNumber, r.DocNumber)
		}
	}

	for _, p := range docs.Payments {
		if p.NotApplicable != "" {
			st.notApplicable++
			if d.QBOType != reconcile.TypeSalesReceipt {
				t.Errorf("order %s payment %s: not applicable on a %s; want only on a SalesReceipt", o.Number, p.SourceID, d.QBOType)
			}
			continue
		}
		if len(p.Blocked) > 0 {
			t.Errorf("order %s payment %s: blocked %q; want sendable", o.Number, p.SourceID, p.Blocked)
			continue
		}
		st.payments++
		pay := p.Entity.(*qbo.Payment)
		// What apply does: link the payment to the invoice it pays.
		pay.Line[0].LinkedTxn[0].TxnId = invoiceID
		got, _, err := co.c.Payments.Create(ctx, pay, &qbo.RequestOptions{RequestID: "prop-" + p.SourceID})
		if err != nil {
			t.Errorf("order %s payment %s: create: %v", o.Number, p.SourceID, err)
			continue
		}
		var want qbo.Decimal
		for _, vp := range o.Payments {
			if vp.ID == p.SourceID {
				want = qbo.Decimal{Decimal: vp.Amount}
			}
		}
		if !got.TotalAmt.Equal(p.Total) || !got.TotalAmt.Equal(want.Decimal) {
			t.Errorf("order %s payment %s: QBO TotalAmt %s; want %s (Desired) = %s (Velocity)", o.Number, p.SourceID, got.TotalAmt, p.Total, want)
		}
	}
}

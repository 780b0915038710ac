package reconcile_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/velqbo/velqbo/internal/clock"
	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity/bigcommerce"
)

// settingsCompany is a seeded qbotest company, a client for it and an empty
// ledger.
type settingsCompany struct {
	srv   *qbotest.Server
	seed  qbotest.Seeded
	c     *qbo.Client
	store *schema.Store
}

func newSettingsCompany(t *testing.T) *settingsCompany {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	srv := qbotest.NewTestServer(t, qbotest.WithClock(clk), qbotest.WithoutLimits())
	sc := &settingsCompany{srv: srv, seed: srv.SeedDefaults()}
	hc := &http.Client{Transport: &oauth2.Transport{
		Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: srv.IssueAccessToken()}),
		Base:   srv.Client().Transport,
	}}
	var err error
	if sc.c, err = qbo.NewClient(hc, qbo.WithBaseURL(srv.URL), qbo.WithRealmID(srv.Realm()), qbo.WithClock(clk)); err != nil {
		t.Fatal(err)
	}
	if sc.store, err = schema.Open(t.Context(), filepath.Join(t.TempDir(), "velqbo.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sc.store.Close() })
	return sc
}

func TestCheckSettings(t *testing.T) {
	t.Parallel()
	sc := newSettingsCompany(t)
	inactive, err := sc.srv.Add("Account", map[string]any{"Name": "Old Bank", "AccountType": "Bank", "Active": false})
	if err != nil {
		t.Fatal(err)
	}
	s := sc.seed
	tests := []struct {
		name string
		kv   map[string]string
		want reconcile.SettingErrors
	}{
		{"Fits", map[string]string{"deposit_account": s.Accounts["Checking"], "shipping_item": s.Items["Shipping"],
			"payment_method.cash": s.PaymentMethods["Cash"], "non_taxable_tax_code": "NON", "start_date": "2026-01-01",
			"auto_create_customers": "true"}, reconcile.SettingErrors{}},
		{"Clear", map[string]string{"deposit_account": ""}, reconcile.SettingErrors{}},
		{"WrongType", map[string]string{"deposit_account": s.Accounts["Sales"]},
			reconcile.SettingErrors{"deposit_account": `"Sales" is a Income account; deposit_account must be a Bank or Other Current Asset account`}},
		{"Missing", map[string]string{"tax_item": "999999"}, reconcile.SettingErrors{"tax_item": "no such record in QBO"}},
		{"Inactive", map[string]string{"refund_account": inactive}, reconcile.SettingErrors{"refund_account": `"Old Bank" is inactive in QBO`}},
		{"NonTaxableTaxCode", map[string]string{"non_taxable_tax_code": s.TaxCodes["Exempt"]}, reconcile.SettingErrors{}},
		{"TaxableTaxCode", map[string]string{"non_taxable_tax_code": s.TaxCodes["California"]}, reconcile.SettingErrors{
			"non_taxable_tax_code": `tax code "California" is taxable in QBO, so QBO would add its own tax to every line; non_taxable_tax_code must be a code that is not taxable`}},
		{"TaxablePseudoCode", map[string]string{"non_taxable_tax_code": "TAX"}, reconcile.SettingErrors{
			"non_taxable_tax_code": `tax code "TAX (US pseudo-code)" is taxable in QBO, so QBO would add its own tax to every line; non_taxable_tax_code must be a code that is not taxable`}},
		{"ProductIsNotPlaceholder", map[string]string{"custom_item": s.Items["Widget"], "handling_item": s.Items["Handling"]},
			reconcile.SettingErrors{}}, // Widget is NonInventory: a placeholder type
		{"BadForm", map[string]string{"start_date": "yesterday", "auto_create_customers": "maybe"}, reconcile.SettingErrors{
			"start_date":            `setting start_date: "yesterday" is not a date of the form YYYY-MM-DD`,
			"auto_create_customers": `setting auto_create_customers: "maybe" is not true or false`}},
		{"UnknownKey", map[string]string{"colour": "blue"}, reconcile.SettingErrors{
			"colour": `unknown setting "colour" (known: auto_create_customers, bigcommerce.statuses, bigcommerce.terms, custom_item, deposit_account, discount_account, handling_item, non_taxable_tax_code, refund_account, shipping_item, start_date, tax_item, payment_method.<velocity method>)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := reconcile.CheckSettings(t.Context(), sc.c, tt.kv)
			if err != nil {
				t.Fatalf("CheckSettings: got error %v; want none", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("NoClientNeeded", func(t *testing.T) {
		got, err := reconcile.CheckSettings(t.Context(), nil, map[string]string{"start_date": "2026-01-01", "shipping_item": ""})
		if err != nil || len(got) != 0 {
			t.Errorf("got %v, %v; want no problems and no error", got, err)
		}
	})
}

func TestSetSettings_AllOrNothing(t *testing.T) {
	t.Parallel()
	sc := newSettingsCompany(t)
	ctx := t.Context()
	s := sc.seed
	bad, err := reconcile.SetSettings(ctx, sc.store, sc.c, map[string]string{
		"handling_item": s.Items["Handling"], "refund_account": "999999"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(reconcile.SettingErrors{"refund_account": "no such record in QBO"}, bad); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if all := settingsMap(t, sc.store); len(all) != 0 {
		t.Errorf("after a refused batch: got settings %v; want none saved", all)
	}
	bad, err = reconcile.SetSettings(ctx, sc.store, sc.c, map[string]string{
		"handling_item": s.Items["Handling"], "refund_account": s.Accounts["Refunds"]})
	if err != nil || len(bad) != 0 {
		t.Fatalf("got %v, %v; want saved", bad, err)
	}
	want := map[string]string{"handling_item": s.Items["Handling"], "refund_account": s.Accounts["Refunds"]}
	if diff := cmp.Diff(want, settingsMap(t, sc.store)); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
}

func settingsMap(t *testing.T, st *schema.Store) map[string]string {
	t.Helper()
	all, err := st.Settings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, s := range all {
		m[s.Key] = s.Value
	}
	return m
}

func TestSettingChoices(t *testing.T) {
	t.Parallel()
	sc := newSettingsCompany(t)
	s := sc.seed
	if _, err := sc.srv.Add("Account", map[string]any{"Name": "Old Bank", "AccountType": "Bank", "Active": false}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key  string
		want []reconcile.SettingChoice
	}{
		{"deposit_account", []reconcile.SettingChoice{
			{ID: s.Accounts["Checking"], Name: "Checking", Type: "Bank"},
			{ID: s.Accounts["Refunds"], Name: "Refunds", Type: "Bank"},
			{ID: s.Accounts["Undeposited Funds"], Name: "Undeposited Funds", Type: "Other Current Asset"},
		}},
		{"discount_account", []reconcile.SettingChoice{
			{ID: s.Accounts["Discounts given"], Name: "Discounts given", Type: "Income"},
			{ID: s.Accounts["Sales"], Name: "Sales", Type: "Income"},
			{ID: s.Accounts["Services"], Name: "Services", Type: "Income"},
		}},
		{"shipping_item", []reconcile.SettingChoice{
			{ID: s.Items["Custom Amount"], Name: "Custom Amount", Type: "NonInventory"},
			{ID: s.Items["Gadget"], Name: "Gadget", Type: "NonInventory"},
			{ID: s.Items["Gizmo"], Name: "Gizmo", Type: "NonInventory"},
			{ID: s.Items["Handling"], Name: "Handling", Type: "Service"},
			{ID: s.Items["Sales Tax"], Name: "Sales Tax", Type: "NonInventory"},
			{ID: s.Items["Shipping"], Name: "Shipping", Type: "Service"},
			{ID: s.Items["Widget"], Name: "Widget", Type: "NonInventory"},
		}},
		{"payment_method.wire", []reconcile.SettingChoice{
			{ID: s.PaymentMethods["ACH"], Name: "ACH", Type: "NON_CREDIT_CARD"},
			{ID: s.PaymentMethods["Cash"], Name: "Cash", Type: "NON_CREDIT_CARD"},
			{ID: s.PaymentMethods["Check"], Name: "Check", Type: "NON_CREDIT_CARD"},
			{ID: s.PaymentMethods["Credit Card"], Name: "Credit Card", Type: "CREDIT_CARD"},
			{ID: s.PaymentMethods["Wire"], Name: "Wire", Type: "NON_CREDIT_CARD"},
		}},
		{"non_taxable_tax_code", []reconcile.SettingChoice{
			{ID: "NON", Name: "NON (US pseudo-code)", Type: "not taxable"},
			{ID: s.TaxCodes["Exempt"], Name: "Exempt", Type: "not taxable"},
		}},
		{"start_date", nil},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, err := reconcile.SettingChoices(t.Context(), sc.c, tt.key)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("choices (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := reconcile.SettingChoices(t.Context(), sc.c, "colour"); err == nil {
		t.Errorf("unknown key: got no error; want one")
	}
}

func TestDescribeSettings(t *testing.T) {
	t.Parallel()
	sc := newSettingsCompany(t)
	s := sc.seed
	all := []schema.Setting{
		{Key: "_realm", Value: "1"},
		{Key: "shipping_item", Value: s.Items["Shipping"]},
		{Key: "deposit_account", Value: s.Accounts["Sales"]},
		{Key: "start_date", Value: "2026-01-01"},
	}
	got, err := reconcile.DescribeSettings(t.Context(), sc.c, all)
	if err != nil {
		t.Fatal(err)
	}
	want := []reconcile.SettingState{
		{Key: "deposit_account", Value: s.Accounts["Sales"], QBO: &reconcile.SettingRecord{Name: "Sales", Type: "Income", Active: true, Found: true},
			Problem: `"Sales" is a Income account; deposit_account must be a Bank or Other Current Asset account`},
		{Key: "shipping_item", Value: s.Items["Shipping"], QBO: &reconcile.SettingRecord{Name: "Shipping", Type: "Service", Active: true, Found: true}},
		{Key: "start_date", Value: "2026-01-01"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("states (-want +got):\n%s", diff)
	}
	offline, err := reconcile.DescribeSettings(t.Context(), nil, all)
	if err != nil || len(offline) != 3 || offline[0].QBO != nil {
		t.Errorf("without QBO: got %+v, %v; want the three rows with ids only", offline, err)
	}
}

func TestSettingChoicesFor_OneQueryPerKind(t *testing.T) {
	t.Parallel()
	sc := newSettingsCompany(t)
	keys := []string{"deposit_account", "refund_account", "discount_account", "shipping_item", "tax_item",
		"payment_method.cash", "payment_method.ach", "non_taxable_tax_code", "start_date", "auto_create_customers"}
	before := sc.srv.Stats().Queries
	got, err := reconcile.SettingChoicesFor(t.Context(), sc.c, keys)
	if err != nil {
		t.Fatal(err)
	}
	if n := sc.srv.Stats().Queries - before; n != 4 {
		t.Errorf("queries: got %d; want 4 (accounts, items, payment methods, tax codes once each)", n)
	}
	for _, k := range keys[:8] {
		if len(got[k]) == 0 {
			t.Errorf("choices of %s: got none; want some", k)
		}
	}
	if _, ok := got["start_date"]; ok {
		t.Errorf("start_date: got choices %v; want none", got["start_date"])
	}
}

func TestCheckSettingsBigCommerce(t *testing.T) {
	for _, tc := range []struct {
		key, value, wantProblem string
	}{
		{reconcile.SettingBigCommerceStatuses, "2,3,11", ""},
		{reconcile.SettingBigCommerceStatuses, "2,16", `bigcommerce.statuses: "16" is not a BigCommerce status id (0-14)`},
		{reconcile.SettingBigCommerceTerms, "PO=30,Net 30=30", ""},
		{reconcile.SettingBigCommerceTerms, "PO", `bigcommerce.terms: "PO" is not METHOD=NET_DAYS`},
	} {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			problems, err := reconcile.CheckSettings(context.Background(), nil, map[string]string{tc.key: tc.value})
			if err != nil {
				t.Fatal(err)
			}
			if got := problems[tc.key]; got != tc.wantProblem {
				t.Errorf("got problem %q; want %q", got, tc.wantProblem)
			}
		})
	}
	cfg, err := reconcile.BigCommerceConfig([]schema.Setting{{Key: reconcile.SettingBigCommerceTerms, Value: "PO=30"}, {Key: reconcile.SettingBigCommerceStatuses, Value: "2,7"}})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(bigcommerce.Config{Statuses: map[int]bool{2: true, 7: true}, Terms: map[string]int{"po": 30}}, cfg); d != "" {
		t.Errorf("config (-want +got):\n%s", d)
	}
	if _, err := reconcile.BigCommerceConfig([]schema.Setting{{Key: reconcile.SettingBigCommerceTerms, Value: "PO=x"}}); err == nil {
		t.Errorf("got no error for a bad stored value; want one")
	}
}

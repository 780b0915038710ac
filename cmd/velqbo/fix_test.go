package main

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/velocity"
)

func TestFixCommand(t *testing.T) {
	tests := []struct {
		fix  reconcile.Fix
		want string
	}{
		{reconcile.Fix{Action: reconcile.FixLinkCustomer, ID: "cus_1"},
			"run `velqbo customers link cus_1 QBO_CUSTOMER_ID`, `velqbo customers match --apply` or `velqbo customers create cus_1`"},
		{reconcile.Fix{Action: reconcile.FixCreateCustomer, ID: "cus_2"}, "create it with `velqbo customers create cus_2`"},
		{reconcile.Fix{Action: reconcile.FixRenameOrLinkCustomer, ID: "cus_2"},
			"rename one in QBO, or link by hand with `velqbo customers link cus_2 QBO_ID`"},
		{reconcile.Fix{Action: reconcile.FixLinkProduct, ID: "77"}, "run `velqbo products link 77 QBO_ITEM_ID` or `velqbo products match --apply`"},
		{reconcile.Fix{Action: reconcile.FixSetSetting, ID: "shipping_item", List: "items"},
			"run `velqbo settings items` to choose one, then `velqbo settings set shipping_item=ID`"},
		{reconcile.Fix{Action: reconcile.FixSetSetting, ID: "start_date"}, "run `velqbo settings set start_date=ID`"},
		{reconcile.Fix{Action: reconcile.FixMapPaymentMethod, ID: "credit_card"}, "run `velqbo settings set payment_method.credit_card=ID`"},
		{reconcile.Fix{Action: reconcile.FixResync, ID: "1001"}, "run `velqbo resync 1001` to re-create it"},
		{reconcile.Fix{}, ""},
		{reconcile.Fix{Action: reconcile.FixRetryOrSkip, ID: "1001"},
			"fix the cause in Velocity or QBO, then run `velqbo retry 1001`; or set it aside with `velqbo skip 1001 --reason TEXT`"},
		{reconcile.Fix{Action: reconcile.FixRetry, ID: "1001"}, "`velqbo retry 1001` sends it again"},
		{reconcile.Fix{Action: "no_such_action", ID: "x"}, ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.fix.Action), func(t *testing.T) {
			if got := fixCommand("Velocity", tt.fix); got != tt.want {
				t.Errorf("fixCommand(%+v): got %q; want %q", tt.fix, got, tt.want)
			}
		})
	}
}

// TestFixTextNamesSource: the fix of a failed item says to fix the cause
// in the configured source: Velocity by default, BigCommerce with
// VELQBO_SOURCE=bigcommerce.
func TestFixTextNamesSource(t *testing.T) {
	fix := reconcile.Fix{Action: reconcile.FixRetryOrSkip, ID: "101"}
	tests := []struct {
		source, want string
	}{
		{"", "fix the cause in Velocity or QBO, then run `velqbo retry 101`; or set it aside with `velqbo skip 101 --reason TEXT`"},
		{sourceVelocity, "fix the cause in Velocity or QBO, then run `velqbo retry 101`; or set it aside with `velqbo skip 101 --reason TEXT`"},
		{sourceBigCommerce, "fix the cause in BigCommerce or QBO, then run `velqbo retry 101`; or set it aside with `velqbo skip 101 --reason TEXT`"},
	}
	for _, tt := range tests {
		t.Run("source="+tt.source, func(t *testing.T) {
			m := &Main{Config: Config{Source: tt.source}}
			if got := m.fixText(fix); got != tt.want {
				t.Errorf("fixText: got %q; want %q", got, tt.want)
			}
			rs := reconcile.Reasons{{Code: reconcile.CodeQBORefusedDocument, Text: "QBO refused the document", Fix: fix}}
			if got, want := m.reasonsText("", rs), "QBO refused the document; "+tt.want; got != want {
				t.Errorf("reasonsText: got %q; want %q", got, want)
			}
		})
	}
}

// TestReasonText: the engine's reasons, rendered by the CLI, read exactly
// as they did when the engine wrote the commands itself.
func TestReasonText(t *testing.T) {
	approved := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	dec := decimal.RequireFromString
	// order is a receipt of cus_1 for one unit of product 77 plus 7.50
	// shipping, paid by card; settings says everything is set.
	order := func() *velocity.Order {
		return &velocity.Order{ID: "ord_1", Number: "1001", CustomerID: "cus_1", ApprovedAt: &approved,
			BillingAddress: velocity.Address{Company: "Acme Supply Co."}, PaymentMethod: "credit_card",
			Lines:         []velocity.OrderLine{{ID: "l1", ProductID: "77", SKU: "SKU-9", Quantity: dec("1"), UnitPrice: dec("10.00")}},
			ShippingTotal: dec("7.50"), Total: dec("17.50")}
	}
	env := func() *reconcile.Env {
		return &reconcile.Env{
			Settings:  reconcile.Settings{DepositAccount: "35", ShippingItem: "9", PaymentMethods: map[string]string{"credit_card": "3"}},
			Customers: map[string]reconcile.Link{"cus_1": {QBOID: "58"}},
			Products:  map[string]reconcile.Link{"77": {QBOID: "19"}},
		}
	}
	mapped := []struct {
		name   string
		mutate func(e *reconcile.Env)
		code   reconcile.ReasonCode
		want   string
	}{
		{"unlinked customer", func(e *reconcile.Env) { delete(e.Customers, "cus_1") }, reconcile.CodeCustomerNotLinked,
			"customer cus_1 (Acme Supply Co.) is not linked to a QBO customer: run `velqbo customers link cus_1 QBO_CUSTOMER_ID`, `velqbo customers match --apply` or `velqbo customers create cus_1`"},
		{"unlinked product", func(e *reconcile.Env) { delete(e.Products, "77") }, reconcile.CodeProductNotLinked,
			"product SKU-9 (Velocity id 77) is not linked to a QBO item: run `velqbo products link 77 QBO_ITEM_ID` or `velqbo products match --apply`"},
		{"missing item setting", func(e *reconcile.Env) { e.Settings.ShippingItem = "" }, reconcile.CodeSettingMissing,
			"setting shipping_item is not set (needed for shipping of 7.50): run `velqbo settings items` to choose one, then `velqbo settings set shipping_item=ID`"},
		{"missing account setting", func(e *reconcile.Env) { e.Settings.DepositAccount = "" }, reconcile.CodeSettingMissing,
			"setting deposit_account is not set (needed for the sales receipt): run `velqbo settings accounts` to choose one, then `velqbo settings set deposit_account=ID`"},
		{"unmapped payment method", func(e *reconcile.Env) { delete(e.Settings.PaymentMethods, "credit_card") }, reconcile.CodePaymentMethodUnmapped,
			"payment method \"credit_card\" is not mapped to a QBO payment method: run `velqbo settings set payment_method.credit_card=ID`"},
	}
	for _, tt := range mapped {
		t.Run(tt.name, func(t *testing.T) {
			e := env()
			tt.mutate(e)
			doc := reconcile.MapOrder(order(), e).Doc
			if doc == nil || len(doc.Blocked) != 1 || doc.Blocked[0].Code != tt.code {
				t.Fatalf("Blocked: got %+v; want one reason %s", doc, tt.code)
			}
			if got := doc.Blocked.Render((&Main{}).fixText); got != tt.want {
				t.Errorf("rendered: got %q; want %q", got, tt.want)
			}
		})
	}

	others := []struct {
		name   string
		reason reconcile.Reason
		want   string
	}{
		{"deleted in QBO", reconcile.DeletedInQBO("1001"), "deleted in QBO; run `velqbo resync 1001` to re-create it"},
		{"customer name taken", (&reconcile.NameTakenError{VelocityID: "cus_2", Names: [2]string{"Bo Jones", "Bo Jones (C-2)"}}).Reason(),
			"QBO already has a customer, vendor or employee named \"Bo Jones\" and one named \"Bo Jones (C-2)\": rename one in QBO, or link by hand with `velqbo customers link cus_2 QBO_ID`"},
	}
	for _, tt := range others {
		t.Run(tt.name, func(t *testing.T) {
			if got := (&Main{}).reasonText(tt.reason); got != tt.want {
				t.Errorf("reasonText: got %q; want %q", got, tt.want)
			}
		})
	}
}

// Package reconciletest holds what tests, the demo sandbox and the
// benchmark share to prepare a ledger for the engine against the fake QBO
// company of qbo/qbotest, and the interceptors (NewStore, NewQBO) through
// which tests put crash points into the engine's writes.
package reconciletest

import (
	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/reconcile"
)

// Settings maps every account, placeholder item and payment method a
// generated Velocity store (velocitytest.Generate) can need to the records
// of a company seeded with qbotest's SeedDefaults. Keys are reconcile's
// setting names; values are the seeded records' QBO ids.
func Settings(s qbotest.Seeded) map[string]string {
	settings := map[string]string{
		reconcile.SettingDepositAccount:  s.Accounts["Undeposited Funds"],
		reconcile.SettingRefundAccount:   s.Accounts["Refunds"],
		reconcile.SettingDiscountAccount: s.Accounts["Discounts given"],
		reconcile.SettingShippingItem:    s.Items["Shipping"],
		reconcile.SettingHandlingItem:    s.Items["Handling"],
		reconcile.SettingTaxItem:         s.Items["Sales Tax"],
		reconcile.SettingCustomItem:      s.Items["Custom Amount"],
	}
	for method, name := range map[string]string{
		"credit_card": "Credit Card", "ach": "ACH", "check": "Check", "wire": "Wire", "cash": "Cash",
		"store_credit": "Cash", "terms": "Check",
	} {
		settings[reconcile.SettingPaymentMethodPrefix+method] = s.PaymentMethods[name]
	}
	return settings
}

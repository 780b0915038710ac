package web

import (
	"net/url"

	"github.com/velqbo/velqbo/reconcile"
)

// fixLink is a reason's fix as the console offers it: a link to the
// screen that applies it (the console's counterpart of the CLI's
// fixCommand in cmd/velqbo/fix.go).
type fixLink struct {
	Text string
	URL  string
}

// fixLinkOf renders fix f as a link; here is the order number of the page
// that shows it, whose own actions are anchors on that page. ok is false
// for the zero Fix (the source's or QBO's data must change) and unknown
// actions.
func fixLinkOf(f reconcile.Fix, here string) (l fixLink, ok bool) {
	id := url.PathEscape(f.ID)
	order := "/orders/" + id
	if f.ID == here {
		order = ""
	}
	switch f.Action {
	case reconcile.FixLinkCustomer:
		return fixLink{"Link customer " + f.ID + " to a QuickBooks customer", "/customers/" + id}, true
	case reconcile.FixCreateCustomer:
		return fixLink{"Create customer " + f.ID + " in QuickBooks", "/customers/" + id}, true
	case reconcile.FixRenameOrLinkCustomer:
		return fixLink{"Link customer " + f.ID + " by hand", "/customers/" + id}, true
	case reconcile.FixLinkProduct:
		return fixLink{"Link product " + f.ID + " to a QuickBooks item", "/products/" + id}, true
	case reconcile.FixSetSetting:
		return fixLink{"Choose " + f.ID + " in Settings", "/settings#" + f.ID}, true
	case reconcile.FixMapPaymentMethod:
		key := reconcile.SettingPaymentMethodPrefix + f.ID
		return fixLink{"Map payment method " + f.ID + " in Settings", "/settings#" + key}, true
	case reconcile.FixResync:
		return fixLink{"Re-create in QuickBooks", order + "#fix-resync"}, true
	case reconcile.FixAdopt:
		return fixLink{"Take over the QuickBooks document", order + "#fix-adopt"}, true
	case reconcile.FixRetryOrSkip:
		return fixLink{"Retry, or skip with a reason", order + "#fix-retry"}, true
	case reconcile.FixRetry:
		return fixLink{"Retry", order + "#fix-retry"}, true
	}
	return fixLink{}, false
}

package main

import (
	"fmt"

	"github.com/velqbo/velqbo/reconcile"
)

// fixCommand phrases a reason's fix as the command lines that apply it,
// naming source (Config.sourceName) where a cause is fixed in the store.
// It is the one place that names commands in the engine's reasons: the
// Reconciler renders Item.Reason and the ledger's last error with it
// (Main.fixText). An unknown action gives "" (the reason's text then
// stands alone).
func fixCommand(source string, f reconcile.Fix) string {
	switch f.Action {
	case reconcile.FixLinkCustomer:
		return fmt.Sprintf("run `velqbo customers link %s QBO_CUSTOMER_ID`, `velqbo customers match --apply` or `velqbo customers create %s`", f.ID, f.ID)
	case reconcile.FixCreateCustomer:
		return fmt.Sprintf("create it with `velqbo customers create %s`", f.ID)
	case reconcile.FixRenameOrLinkCustomer:
		return fmt.Sprintf("rename one in QBO, or link by hand with `velqbo customers link %s QBO_ID`", f.ID)
	case reconcile.FixLinkProduct:
		return fmt.Sprintf("run `velqbo products link %s QBO_ITEM_ID` or `velqbo products match --apply`", f.ID)
	case reconcile.FixSetSetting:
		if f.List == "" {
			return fmt.Sprintf("run `velqbo settings set %s=ID`", f.ID)
		}
		return fmt.Sprintf("run `velqbo settings %s` to choose one, then `velqbo settings set %s=ID`", f.List, f.ID)
	case reconcile.FixMapPaymentMethod:
		return fmt.Sprintf("run `velqbo settings set %s%s=ID`", reconcile.SettingPaymentMethodPrefix, f.ID)
	case reconcile.FixResync:
		return fmt.Sprintf("run `velqbo resync %s` to re-create it", f.ID)
	case reconcile.FixAdopt:
		return fmt.Sprintf("run `velqbo adopt %s` to take it over instead of creating another", f.ID)
	case reconcile.FixRetryOrSkip:
		return fmt.Sprintf("fix the cause in %s or QBO, then run `velqbo retry %s`; or set it aside with `velqbo skip %s --reason TEXT`", source, f.ID, f.ID)
	case reconcile.FixRetry:
		return fmt.Sprintf("`velqbo retry %s` sends it again", f.ID)
	}
	return ""
}

// fixText is fixCommand for the configured source: the FixText of every
// Reconciler the CLI and the console build.
func (m *Main) fixText(f reconcile.Fix) string { return fixCommand(m.Config.sourceName(), f) }

// reasonText is r as the CLI prints it: its text and the command that
// fixes it.
func (m *Main) reasonText(r reconcile.Reason) string { return r.Render(m.fixText) }

// storedReasons decodes the reasons a ledger row or run item keeps next to
// its text; nil when it has none or they cannot be read (the text, which
// says the same, is shown then).
func storedReasons(b []byte) reconcile.Reasons {
	rs, err := reconcile.DecodeReasons(b)
	if err != nil {
		return nil
	}
	return rs
}

// reasonsText is what `status` shows: the stored reasons rendered with
// today's commands, or the stored text of a row that has none.
func (m *Main) reasonsText(text string, rs reconcile.Reasons) string {
	if len(rs) == 0 {
		return text
	}
	return rs.Render(m.fixText)
}

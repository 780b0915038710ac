package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/velqbo/velqbo/reconcile/reconciletest"
)

// storedSettings is the ledger's settings, internal ones left out.
func (h *consoleHarness) storedSettings(t *testing.T) map[string]string {
	t.Helper()
	all, err := h.store.Settings(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, s := range all {
		if !strings.HasPrefix(s.Key, "_") {
			m[s.Key] = s.Value
		}
	}
	return m
}

// selected returns the value of the option selected in the select named
// name, "" when none is.
func selected(t *testing.T, body, name string) string {
	t.Helper()
	re := regexp.MustCompile(`(?s)<select id="[^"]*" name="` + regexp.QuoteMeta(name) + `".*?</select>`)
	sel := re.FindString(body)
	if sel == "" {
		t.Fatalf("no select named %s in\n%s", name, body)
	}
	m := regexp.MustCompile(`<option value="([^"]*)" selected`).FindStringSubmatch(sel)
	if m == nil {
		m = regexp.MustCompile(`<option value="([^"]*)"[^>]* selected`).FindStringSubmatch(sel)
	}
	if m == nil {
		return ""
	}
	return m[1]
}

func TestConsoleSettings_Protected(t *testing.T) {
	t.Parallel()
	h := newConsole(t, withOrders(0))
	h.checkProtected(t, http.MethodGet, "/settings", nil, false)
	h.checkProtected(t, http.MethodPost, "/settings", url.Values{"deposit_account": {h.seed.Accounts["Checking"]}}, true)
	if got := h.storedSettings(t); len(got) != 0 {
		t.Errorf("after refused posts: got settings %v; want none saved", got)
	}
	r := h.login(t, "viewer").get(t, "/settings").wantCode(t, http.StatusOK)
	if !strings.Contains(r.Body, "<fieldset disabled>") || strings.Contains(r.Body, `id="save-settings"`) {
		t.Errorf("viewer's settings page: want disabled fields and no save button in\n%s", r.Body)
	}
}

func TestConsoleSettings_Page(t *testing.T) {
	t.Parallel()
	h := newConsole(t, withOrders(1), prepared())
	hostile := h.qbo.AddAccount("<script>alert(1)</script> Bank", "Bank")
	shipping := h.seed.Items["Shipping"]
	if err := h.qbo.PersonEdit("Item", shipping, func(m map[string]any) { m["Active"] = false }); err != nil {
		t.Fatal(err)
	}
	r := h.login(t, "admin").get(t, "/settings").wantCode(t, http.StatusOK)
	want := reconciletest.Settings(h.seed)
	for _, key := range []string{"deposit_account", "refund_account", "discount_account", "tax_item", "payment_method.credit_card", "payment_method.cash"} {
		if got := selected(t, r.Body, key); got != want[key] {
			t.Errorf("%s: got %q selected; want the stored %q", key, got, want[key])
		}
	}
	for _, wantText := range []string{
		"The account SalesReceipts and Payments deposit the money to.", // a description under its field
		"Accepts: Bank or Other Current Asset.</span>",
		`value="` + hostile + `">&lt;script&gt;alert(1)&lt;/script&gt; Bank (Bank)`,
		"The saved value is not usable: &#34;Shipping&#34; is inactive in QBO",
		`name="start_date"`, `name="auto_create_customers"`, `name="non_taxable_tax_code"`,
		`id="save-settings"`,
	} {
		if !strings.Contains(r.Body, wantText) {
			t.Errorf("settings page: want %q in\n%s", wantText, r.Body)
		}
	}
	if strings.Contains(r.Body, "<script>alert(1)") {
		t.Errorf("settings page: a QBO account name is not escaped")
	}
	// The inactive item is still selected, marked as not usable, and not
	// offered among the choices of the other item fields.
	if got := selected(t, r.Body, "shipping_item"); got != shipping {
		t.Errorf("shipping_item: got %q selected; want the stored %q shown as such", got, shipping)
	}
	// Only accounts of the fitting types are offered.
	sales := `value="` + h.seed.Accounts["Sales"] + `"`
	dep := regexp.MustCompile(`(?s)<select id="setting-deposit_account".*?</select>`).FindString(r.Body)
	if strings.Contains(dep, sales) {
		t.Errorf("deposit_account offers the Income account Sales:\n%s", dep)
	}

	t.Run("NotConnected", func(t *testing.T) {
		h := newConsole(t, withOrders(0), notConnected())
		r := h.login(t, "admin").get(t, "/settings").wantCode(t, http.StatusOK)
		if !strings.Contains(r.Body, `id="settings-not-connected"`) || strings.Contains(r.Body, `id="save-settings"`) {
			t.Errorf("settings page not connected: want the pointer to Integrations and no save button in\n%s", r.Body)
		}
	})
}

func TestConsoleSettings_Save(t *testing.T) {
	t.Parallel()
	s := func(h *consoleHarness) map[string]string {
		return map[string]string{"Checking": h.seed.Accounts["Checking"], "Sales": h.seed.Accounts["Sales"],
			"Handling": h.seed.Items["Handling"], "Cash": h.seed.PaymentMethods["Cash"]}
	}
	t.Run("Valid", func(t *testing.T) {
		t.Parallel()
		h := newConsole(t, withOrders(0))
		ids := s(h)
		admin := h.login(t, "admin")
		r := admin.post(t, "/settings", url.Values{
			"deposit_account":       {ids["Checking"]},
			"handling_item":         {ids["Handling"]},
			"payment_method.cash":   {ids["Cash"]},
			"payment_method.terms":  {""},
			"start_date":            {"2026-01-01"},
			"auto_create_customers": {"false", "true"},
			"non_taxable_tax_code":  {""},
			"refund_account":        {""},
		}).wantCode(t, http.StatusSeeOther)
		if r.Location() != "/settings" {
			t.Errorf("after saving: redirected to %q; want /settings", r.Location())
		}
		want := map[string]string{"deposit_account": ids["Checking"], "handling_item": ids["Handling"],
			"payment_method.cash": ids["Cash"], "start_date": "2026-01-01", "auto_create_customers": "true"}
		if diff := cmp.Diff(want, h.storedSettings(t)); diff != "" {
			t.Errorf("saved settings (-want +got):\n%s", diff)
		}
		page := admin.get(t, "/settings").wantCode(t, http.StatusOK)
		if !strings.Contains(page.Body, "Saved auto_create_customers, deposit_account, handling_item, payment_method.cash, start_date.") {
			t.Errorf("after saving: want the flash naming the saved keys in\n%s", page.Body)
		}
		// The CLI reads what the console saved.
		out := h.MustRun(exitOK, "", "settings")
		if !strings.Contains(out.Stdout, "deposit_account") || !strings.Contains(out.Stdout, "Checking") {
			t.Errorf("velqbo settings after the console saved: got\n%s", out.Stdout)
		}
		// Posting the stored values changes nothing.
		admin.post(t, "/settings", url.Values{"auto_create_customers": {"false", "true"}, "deposit_account": {ids["Checking"]}}).wantCode(t, http.StatusSeeOther)
		if page := admin.get(t, "/settings"); !strings.Contains(page.Body, "Nothing changed.") {
			t.Errorf("posting the stored values: want the flash Nothing changed. in\n%s", page.Body)
		}
		// Unticking the checkbox posts only the hidden false.
		admin.post(t, "/settings", url.Values{"auto_create_customers": {"false"}}).wantCode(t, http.StatusSeeOther)
		if got := h.storedSettings(t)["auto_create_customers"]; got != "false" {
			t.Errorf("auto_create_customers after unticking: got %q; want false", got)
		}
	})
	t.Run("UntickedUnsetBoolean", func(t *testing.T) {
		t.Parallel()
		h := newConsole(t, withOrders(0))
		admin := h.login(t, "admin")
		admin.post(t, "/settings", url.Values{"auto_create_customers": {"false"}, "start_date": {"2026-03-01"}}).wantCode(t, http.StatusSeeOther)
		want := map[string]string{"start_date": "2026-03-01"}
		if diff := cmp.Diff(want, h.storedSettings(t)); diff != "" {
			t.Errorf("saved settings (-want +got):\n%s", diff)
		}
	})
	t.Run("Refused", func(t *testing.T) {
		t.Parallel()
		h := newConsole(t, withOrders(0))
		ids := s(h)
		admin := h.login(t, "admin")
		r := admin.post(t, "/settings", url.Values{
			"deposit_account": {ids["Sales"]},
			"handling_item":   {ids["Handling"]},
			"tax_item":        {"999999"},
			"start_date":      {"yesterday"},
		}).wantCode(t, http.StatusUnprocessableEntity)
		for _, want := range []string{
			"Nothing was saved",
			"&#34;Sales&#34; is a Income account; deposit_account must be a Bank or Other Current Asset account",
			"no such record in QBO",
			"is not a date of the form YYYY-MM-DD",
			`aria-invalid="true"`,
		} {
			if !strings.Contains(r.Body, want) {
				t.Errorf("refused form: want %q in\n%s", want, r.Body)
			}
		}
		// The form keeps what was posted.
		if got := selected(t, r.Body, "handling_item"); got != ids["Handling"] {
			t.Errorf("handling_item after a refused save: got %q selected; want the posted %q", got, ids["Handling"])
		}
		if got := h.storedSettings(t); len(got) != 0 {
			t.Errorf("after a refused save: got settings %v; want none (all or nothing)", got)
		}
	})
	t.Run("TaxableTaxCodeRefused", func(t *testing.T) {
		t.Parallel()
		h := newConsole(t, withOrders(0))
		admin := h.login(t, "admin")
		r := admin.post(t, "/settings", url.Values{"non_taxable_tax_code": {h.seed.TaxCodes["California"]}}).
			wantCode(t, http.StatusUnprocessableEntity)
		want := "tax code &#34;California&#34; is taxable in QBO, so QBO would add its own tax to every line"
		if !strings.Contains(r.Body, want) {
			t.Errorf("refused form: want %q in\n%s", want, r.Body)
		}
		if got := h.storedSettings(t); len(got) != 0 {
			t.Errorf("after a refused save: got settings %v; want none", got)
		}
	})
	t.Run("UnchangedInvalidDoesNotBlock", func(t *testing.T) {
		t.Parallel()
		h := newConsole(t, withOrders(1), prepared())
		shipping := h.seed.Items["Shipping"]
		if err := h.qbo.PersonEdit("Item", shipping, func(m map[string]any) { m["Active"] = false }); err != nil {
			t.Fatal(err)
		}
		admin := h.login(t, "admin")
		admin.post(t, "/settings", url.Values{"shipping_item": {shipping}, "start_date": {"2026-02-01"}}).wantCode(t, http.StatusSeeOther)
		if got := h.storedSettings(t)["start_date"]; got != "2026-02-01" {
			t.Errorf("start_date: got %q; want saved", got)
		}
	})
}

package web

import (
	"cmp"
	"net/http"
	"slices"
	"strings"

	"github.com/velqbo/velqbo/reconcile"
)

// SettingsView is what the QuickBooks Online settings screen shows: the
// stored settings with the QBO record each names and its problem, the
// Velocity payment methods and their mappings, and for every key the
// records that fit it, read live from QBO.
type SettingsView struct {
	// Connected is false when no company is connected: States then carry
	// ids only and there are no Choices.
	Connected bool
	States    []reconcile.SettingState
	Methods   []reconcile.PaymentMethodMapping
	Choices   map[string][]reconcile.SettingChoice
}

// routesSettings registers the QuickBooks Online settings screen's routes.
func (s *Server) routesSettings(mux *http.ServeMux) {
	mux.Handle("GET /settings", s.viewer(s.settingsPage))
	mux.Handle("POST /settings", s.admin(s.settingsSubmit))
}

// settingField is one form field.
type settingField struct {
	Key  string
	ID   string // the element id: "setting-" and the key, dots as dashes
	Kind reconcile.SettingKind
	// Label and Help: what the field maps, in plain words.
	Label, Help string
	Types       string // the QBO types accepted, "" for any
	// Value is what the field holds: the stored value, or what was posted.
	Value   string
	Choices []reconcile.SettingChoice
	// Stray is Value when it is not among Choices (a record that is
	// missing, inactive or of the wrong type), shown as such.
	Stray     *reconcile.SettingChoice
	Problem   string // what is wrong with the stored value
	Error     string // why the posted value was refused
	NotNeeded bool   // terms: needs no payment method
	Unknown   bool   // a payment method velqbo does not know Velocity to send
}

// sameSetting reports whether posted is what stored already means: an
// unticked checkbox posts "false", which an unset boolean (false by
// default) already is.
func sameSetting(key, posted, stored string) bool {
	if kind, _ := reconcile.KindOfSetting(key); kind == reconcile.SettingBool {
		return strings.EqualFold(cmp.Or(posted, "false"), cmp.Or(stored, "false"))
	}
	return posted == stored
}

// IsBool, IsDate and IsTaxCode say which input the field is.
func (f settingField) IsBool() bool    { return f.Kind == reconcile.SettingBool }
func (f settingField) IsDate() bool    { return f.Kind == reconcile.SettingDate }
func (f settingField) IsTaxCode() bool { return f.Kind == reconcile.SettingTaxCode }

type settingsData struct {
	Connected bool
	Fields    []settingField
	Methods   []settingField
	Errors    FieldErrors
	Error     string
}

// settingLabels are the fields' names in the form.
var settingLabels = map[string]string{
	reconcile.SettingDepositAccount:      "Deposit account",
	reconcile.SettingRefundAccount:       "Refund account",
	reconcile.SettingDiscountAccount:     "Discount account",
	reconcile.SettingShippingItem:        "Shipping item",
	reconcile.SettingHandlingItem:        "Handling item",
	reconcile.SettingTaxItem:             "Tax item",
	reconcile.SettingCustomItem:          "Custom line item",
	reconcile.SettingNonTaxableTaxCode:   "Non-taxable tax code",
	reconcile.SettingStartDate:           "Start date",
	reconcile.SettingAutoCreateCustomers: "Create missing customers",
}

// sentence makes a SettingInfo.Maps phrase a sentence.
func sentence(s string) string {
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

func fieldID(key string) string { return "setting-" + strings.ReplaceAll(key, ".", "-") }

// settingsForm builds the form's fields from v, with posted values (nil: the
// stored ones) and the refused fields' errors.
func settingsForm(v SettingsView, posted map[string]string, errs FieldErrors) settingsData {
	d := settingsData{Connected: v.Connected, Errors: errs}
	stored := map[string]reconcile.SettingState{}
	for _, st := range v.States {
		stored[st.Key] = st
	}
	field := func(info reconcile.SettingInfo, label string) settingField {
		st := stored[info.Key]
		f := settingField{Key: info.Key, ID: fieldID(info.Key), Kind: info.Kind, Label: label, Help: sentence(info.Maps),
			Types: info.TypeList(), Value: st.Value, Choices: v.Choices[info.Key], Problem: st.Problem, Error: errs[info.Key]}
		if p, ok := posted[info.Key]; ok && p != f.Value {
			f.Value, f.Problem = p, ""
		}
		if f.Value != "" && v.Connected && !slices.ContainsFunc(f.Choices, func(c reconcile.SettingChoice) bool { return c.ID == f.Value }) {
			stray := reconcile.SettingChoice{ID: f.Value}
			if st.QBO != nil && st.Value == f.Value {
				stray.Name, stray.Type = st.QBO.Name, st.QBO.Type
			}
			f.Stray = &stray
		}
		return f
	}
	for _, info := range reconcile.SettingInfos() {
		if strings.HasPrefix(info.Key, reconcile.SettingPaymentMethodPrefix) {
			continue
		}
		d.Fields = append(d.Fields, field(info, settingLabels[info.Key]))
	}
	for _, m := range v.Methods {
		info, _ := reconcile.SettingInfoOf(m.Key)
		f := field(info, m.Method)
		f.NotNeeded, f.Unknown = !m.Needed, !m.Known
		if m.QBOInactive && f.Problem == "" {
			f.Problem = "inactive in QuickBooks"
		}
		d.Methods = append(d.Methods, f)
	}
	return d
}

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.backend.SettingsView(r.Context())
	if err != nil && !errNotConnected(err) {
		s.log.WithError(err).Error("console: settings")
		d := settingsForm(v, nil, nil)
		d.Error = "QuickBooks could not be asked for the accounts and items: " + err.Error()
		s.render(w, r, http.StatusBadGateway, "settings.html", d)
		return
	}
	s.render(w, r, http.StatusOK, "settings.html", settingsForm(v, nil, nil))
}

// settingsSubmit saves the fields whose value differs from the stored one,
// all or none (reconcile.SetSettings: nothing saved that QBO would refuse).
// Why only the changed ones: a stored value QBO now refuses (an account made
// inactive) must not keep the bookkeeper from fixing another field; it is
// shown as a problem at its field instead.
func (s *Server) settingsSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	all, err := s.backend.Store().Settings(ctx)
	if err != nil {
		s.log.WithError(err).Error("console: read settings")
		s.errorPage(w, r, http.StatusInternalServerError, "The ledger could not be read.")
		return
	}
	stored := map[string]string{}
	for _, st := range all {
		stored[st.Key] = st.Value
	}
	// The form, with QBO's choices, is read only when it is shown again
	// (a refusal): a save that succeeds redirects, and SaveSettings asks
	// QBO about the changed values itself.
	view := func() SettingsView {
		v, _ := s.backend.SettingsView(ctx) // a partial view still shows the posted values and errors
		return v
	}
	posted := map[string]string{}
	changed := map[string]string{}
	var order []string
	for key, vals := range r.PostForm {
		if _, err := reconcile.KindOfSetting(key); err != nil || len(vals) == 0 {
			continue
		}
		// A checkbox posts a hidden "false" and, when ticked, "true"
		// after it: the last value is the field's.
		val := strings.TrimSpace(vals[len(vals)-1])
		posted[key] = val
		if !sameSetting(key, val, stored[key]) {
			changed[key] = val
			order = append(order, key)
		}
	}
	if len(changed) == 0 {
		s.redirect(w, r, "/settings", "Nothing changed.")
		return
	}
	bad, err := s.backend.SaveSettings(ctx, changed)
	if err != nil {
		d := settingsForm(view(), posted, nil)
		d.Error = "Nothing was saved: QuickBooks could not be asked to check the values: " + err.Error()
		s.render(w, r, http.StatusBadGateway, "settings.html", d)
		return
	}
	if len(bad) > 0 {
		d := settingsForm(view(), posted, FieldErrors(bad))
		d.Error = "Nothing was saved: the fields marked below need another value."
		s.render(w, r, http.StatusUnprocessableEntity, "settings.html", d)
		return
	}
	slices.Sort(order)
	user, _ := CurrentUser(ctx)
	s.log.WithField("user", user.Name).WithField("keys", strings.Join(order, ",")).Info("console: settings saved")
	s.redirect(w, r, "/settings", "Saved "+strings.Join(order, ", ")+".")
}

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/velocity"
)

func settingsCommand() command {
	var asJSON bool
	return command{
		name:  "settings",
		flags: func(fs *flag.FlagSet) { fs.BoolVar(&asJSON, "json", false, "print JSON") },
		run: func(ctx context.Context, m *Main, args []string) error {
			sub := ""
			if len(args) > 0 {
				sub, args = args[0], args[1:]
			}
			if sub != "" && sub != "set" && len(args) > 0 {
				return usageErrorf("settings %s takes no arguments", sub)
			}
			switch sub {
			case "":
				return m.showSettings(ctx, asJSON)
			case "set":
				return m.setSettings(ctx, args)
			case "accounts":
				return m.listQBO(ctx, "accounts", asJSON)
			case "items":
				return m.listQBO(ctx, "items", asJSON)
			case "payment-methods":
				return m.listPaymentMethods(ctx, asJSON)
			default:
				return usageErrorf("unknown settings subcommand %q (want set, accounts, items or payment-methods; see `velqbo help settings`)", sub)
			}
		},
	}
}

// qboName is what a setting's value is in QBO.
type qboName struct {
	Name   string `json:"name,omitempty"`
	Type   string `json:"type,omitempty"`
	Active bool   `json:"active"`
	Found  bool   `json:"found"`
}

// lookupSetting reads the QBO record a setting names.
func lookupSetting(ctx context.Context, c *qbo.Client, kind reconcile.SettingKind, id string) (qboName, error) {
	active := func(p *bool) bool { return p == nil || *p }
	var (
		n   qboName
		err error
	)
	switch kind {
	case reconcile.SettingAccount:
		var a *qbo.Account
		if a, _, err = c.Accounts.Get(ctx, id); err == nil {
			n = qboName{Name: a.FullyQualifiedName, Type: a.AccountType, Active: active(a.Active), Found: true}
			if n.Name == "" {
				n.Name = a.Name
			}
		}
	case reconcile.SettingItem:
		var it *qbo.Item
		if it, _, err = c.Items.Get(ctx, id); err == nil {
			n = qboName{Name: it.Name, Type: it.Type, Active: active(it.Active), Found: true}
		}
	case reconcile.SettingPaymentMethod:
		var pm *qbo.PaymentMethod
		if pm, _, err = c.PaymentMethods.Get(ctx, id); err == nil {
			n = qboName{Name: pm.Name, Type: pm.Type, Active: active(pm.Active), Found: true}
		}
	case reconcile.SettingTaxCode:
		if id == "NON" || id == "TAX" {
			return qboName{Name: id + " (US pseudo-code)", Active: true, Found: true}, nil
		}
		var tc *qbo.TaxCode
		if tc, _, err = c.TaxCodes.Get(ctx, id); err == nil {
			n = qboName{Name: tc.Name, Active: active(tc.Active), Found: true}
		}
	default:
		return qboName{}, nil
	}
	if qbo.IsNotFound(err) {
		return qboName{}, nil
	}
	return n, err
}

// checkSetting says why a QBO record is wrong for a setting, or "".
func checkSetting(key string, kind reconcile.SettingKind, n qboName) string {
	if !n.Found {
		return "no such record in QBO"
	}
	if !n.Active {
		return fmt.Sprintf("%q is inactive in QBO", n.Name)
	}
	info, _ := reconcile.SettingInfoOf(key)
	if len(info.Types) > 0 && !slices.Contains(info.Types, n.Type) {
		noun := "account"
		if kind == reconcile.SettingItem {
			noun = "item"
		}
		return fmt.Sprintf("%q is a %s %s; %s must be a %s %s", n.Name, n.Type, noun, key, orList(info.Types), noun)
	}
	return ""
}

func (m *Main) setSettings(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageErrorf("settings set needs KEY=VALUE arguments")
	}
	kv := map[string]string{}
	keys := []string{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return usageErrorf("settings set: %q is not KEY=VALUE", a)
		}
		if err := reconcile.CheckSettingValue(k, v); err != nil {
			return usageErrorf("%v", err)
		}
		if _, dup := kv[k]; !dup {
			keys = append(keys, k)
		}
		kv[k] = v
	}
	st, err := m.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()

	var conn *qboConn
	var problems []string
	for _, k := range keys {
		kind, _ := reconcile.KindOfSetting(k)
		v := kv[k]
		if v == "" || kind == reconcile.SettingDate || kind == reconcile.SettingBool {
			continue
		}
		if conn == nil {
			if conn, err = m.connectQBO(ctx, st); err != nil {
				return err
			}
		}
		n, err := lookupSetting(ctx, conn.Client, kind, v)
		if err != nil {
			return qboError(fmt.Errorf("check %s=%s in QBO: %w", k, v, err))
		}
		if why := checkSetting(k, kind, n); why != "" {
			problems = append(problems, fmt.Sprintf("%s=%s: %s", k, v, why))
		}
	}
	if len(problems) > 0 {
		return usageErrorf("nothing was saved:\n  %s\n(see `velqbo settings accounts`, `velqbo settings items` and `velqbo settings payment-methods`)", strings.Join(problems, "\n  "))
	}
	if err := st.SetSettings(ctx, kv); err != nil {
		return err
	}
	for _, k := range keys {
		if kv[k] == "" {
			fmt.Fprintf(m.Stdout, "cleared %s\n", k)
		} else {
			fmt.Fprintf(m.Stdout, "set %s=%s\n", k, kv[k])
		}
	}
	return nil
}

type settingView struct {
	Key     string   `json:"key"`
	Value   string   `json:"value"`
	QBO     *qboName `json:"qbo,omitempty"`
	Problem string   `json:"problem,omitempty"`
}

func (m *Main) showSettings(ctx context.Context, asJSON bool) error {
	st, err := m.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	all, err := st.Settings(ctx)
	if err != nil {
		return err
	}
	// Names come from QBO when connected; without a connection the ids are
	// still shown.
	conn, cerr := m.connectQBO(ctx, st)
	var views []settingView
	for _, s := range all {
		if strings.HasPrefix(s.Key, "_") {
			continue
		}
		v := settingView{Key: s.Key, Value: s.Value}
		kind, err := reconcile.KindOfSetting(s.Key)
		if err == nil && cerr == nil && s.Value != "" && kind != reconcile.SettingDate && kind != reconcile.SettingBool {
			n, err := lookupSetting(ctx, conn.Client, kind, s.Value)
			if err != nil {
				return qboError(err)
			}
			v.QBO = &n
			v.Problem = checkSetting(s.Key, kind, n)
		}
		views = append(views, v)
	}
	sort.Slice(views, func(i, j int) bool { return views[i].Key < views[j].Key })
	if asJSON {
		return writeJSON(m.Stdout, map[string]any{"settings": views, "connected": cerr == nil})
	}
	if len(views) == 0 {
		fmt.Fprintln(m.Stdout, "no settings yet: see `velqbo settings accounts`, `velqbo settings items` and `velqbo settings set KEY=VALUE`")
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	for _, v := range views {
		name := ""
		if v.QBO != nil {
			name = v.QBO.Name
		}
		flag := ""
		if v.Problem != "" {
			flag = "! " + v.Problem
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v.Key, v.Value, name, flag)
	}
	tw.Flush()
	if cerr != nil {
		fmt.Fprintf(m.Stderr, "(QBO names not shown: %v)\n", cerr)
	}
	return nil
}

type qboRow struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	Sku  string `json:"sku,omitempty"`
}

func (m *Main) listQBO(ctx context.Context, what string, asJSON bool) error {
	st, err := m.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	conn, err := m.connectQBO(ctx, st)
	if err != nil {
		return err
	}
	var rows []qboRow
	switch what {
	case "accounts":
		for a, err := range conn.Client.Accounts.All(ctx, "WHERE Active = true") {
			if err != nil {
				return qboError(err)
			}
			name := a.FullyQualifiedName
			if name == "" {
				name = a.Name
			}
			rows = append(rows, qboRow{ID: a.Id, Name: name, Type: a.AccountType})
		}
	case "items":
		for it, err := range conn.Client.Items.All(ctx, "WHERE Active = true") {
			if err != nil {
				return qboError(err)
			}
			r := qboRow{ID: it.Id, Name: it.Name, Type: it.Type}
			if it.Sku != nil {
				r.Sku = *it.Sku
			}
			rows = append(rows, r)
		}
	}
	if asJSON {
		return writeJSON(m.Stdout, map[string]any{what: rows})
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tTYPE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Name, r.Type)
	}
	return tw.Flush()
}

func writeJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// orList joins words as "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// paymentMethodRow is one of QBO's payment methods.
type paymentMethodRow struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Type   string `json:"type,omitempty"`
	Active bool   `json:"active"`
}

// velocityMethodRow is a Velocity payment method and its mapping.
type velocityMethodRow struct {
	Method  string `json:"method"`
	Key     string `json:"key"`
	QBOID   string `json:"qbo_id,omitempty"`
	QBOName string `json:"qbo_name,omitempty"`
	// QBOInactive: the mapped QBO method has been made inactive since.
	QBOInactive bool `json:"qbo_inactive,omitempty"`
	// Needed is false for terms, which says the order was on credit, not
	// how money moved, and blocks nothing when unmapped.
	Needed bool `json:"needed"`
	// Known is false for a method that is only in the settings.
	Known bool `json:"known"`
}

// listPaymentMethods prints QBO's payment methods, inactive ones too, and
// the Velocity methods with the QBO method each is mapped to.
func (m *Main) listPaymentMethods(ctx context.Context, asJSON bool) error {
	st, err := m.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	all, err := st.Settings(ctx)
	if err != nil {
		return err
	}
	conn, err := m.connectQBO(ctx, st)
	if err != nil {
		return err
	}
	qboRows := []paymentMethodRow{}
	names := map[string]string{}
	inactive := map[string]bool{}
	for pm, err := range conn.Client.PaymentMethods.All(ctx, "WHERE Active IN (true, false)") {
		if err != nil {
			return qboError(err)
		}
		qboRows = append(qboRows, paymentMethodRow{ID: pm.Id, Name: pm.Name, Type: pm.Type, Active: pm.Active == nil || *pm.Active})
		names[pm.Id] = pm.Name
		inactive[pm.Id] = pm.Active != nil && !*pm.Active
	}
	mapped := map[string]string{}
	for _, s := range all {
		if method, ok := strings.CutPrefix(s.Key, reconcile.SettingPaymentMethodPrefix); ok && method != "" && s.Value != "" {
			mapped[method] = s.Value
		}
	}
	var velRows []velocityMethodRow
	seen := map[string]bool{}
	add := func(method string, known bool) {
		seen[method] = true
		id := mapped[method]
		velRows = append(velRows, velocityMethodRow{Method: method, Key: reconcile.SettingPaymentMethodPrefix + method,
			QBOID: id, QBOName: names[id], QBOInactive: inactive[id], Needed: method != velocity.MethodTerms, Known: known})
	}
	for _, method := range velocity.KnownMethods() {
		add(method, true)
	}
	extra := []string{}
	for method := range mapped {
		if !seen[method] {
			extra = append(extra, method)
		}
	}
	sort.Strings(extra)
	for _, method := range extra {
		add(method, false)
	}
	if asJSON {
		return writeJSON(m.Stdout, map[string]any{"qbo": qboRows, "velocity": velRows})
	}
	fmt.Fprintln(m.Stdout, "QBO payment methods:")
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  ID\tNAME\tTYPE\tACTIVE")
	for _, r := range qboRows {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%t\n", r.ID, r.Name, r.Type, r.Active)
	}
	tw.Flush()
	fmt.Fprintln(m.Stdout, "\nVelocity payment methods:")
	tw = tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  METHOD\tSETTING\tMAPPED TO")
	for _, r := range velRows {
		to := "-"
		switch {
		case r.QBOID != "" && r.QBOInactive:
			to = fmt.Sprintf("%s (%s, inactive in QBO)", r.QBOID, r.QBOName)
		case r.QBOID != "" && r.QBOName != "":
			to = fmt.Sprintf("%s (%s)", r.QBOID, r.QBOName)
		case r.QBOID != "":
			to = r.QBOID + " (not in QBO)"
		case !r.Needed:
			to = "- (not needed)"
		}
		if !r.Known {
			to += "  (not a method velqbo knows Velocity to send)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", r.Method, r.Key, to)
	}
	tw.Flush()
	fmt.Fprintf(m.Stdout, "\nMap one with `velqbo settings set %sMETHOD=ID`.\n", reconcile.SettingPaymentMethodPrefix)
	return nil
}

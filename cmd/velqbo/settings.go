package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/reconcile"
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

	// QBO is only asked (and so only needs a connection) when some value
	// names a QBO record.
	var client *qbo.Client
	for _, k := range keys {
		if reconcile.SettingNeedsQBO(k, kv[k]) {
			conn, err := m.connectQBO(ctx, st)
			if err != nil {
				return err
			}
			client = conn.Client
			break
		}
	}
	bad, err := reconcile.SetSettings(ctx, st, client, kv)
	if err != nil {
		return qboError(err)
	}
	if len(bad) > 0 {
		var problems []string
		for _, k := range keys {
			if why, ok := bad[k]; ok {
				problems = append(problems, fmt.Sprintf("%s=%s: %s", k, kv[k], why))
			}
		}
		return usageErrorf("nothing was saved:\n  %s\n(see `velqbo settings accounts`, `velqbo settings items` and `velqbo settings payment-methods`)", strings.Join(problems, "\n  "))
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

// settingView is one row of `velqbo settings`.
type settingView = reconcile.SettingState

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
	var client *qbo.Client
	if cerr == nil {
		client = conn.Client
	}
	views, err := reconcile.DescribeSettings(ctx, client, all)
	if err != nil {
		return qboError(err)
	}
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

// paymentMethodRow is one of QBO's payment methods.
type paymentMethodRow struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Type   string `json:"type,omitempty"`
	Active bool   `json:"active"`
}

// velocityMethodRow is a Velocity payment method and its mapping.
type velocityMethodRow = reconcile.PaymentMethodMapping

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
	methods, err := allPaymentMethods(ctx, conn.Client)
	if err != nil {
		return qboError(err)
	}
	for _, pm := range methods {
		qboRows = append(qboRows, paymentMethodRow{ID: pm.Id, Name: pm.Name, Type: pm.Type, Active: pm.Active == nil || *pm.Active})
	}
	velRows := reconcile.PaymentMethodMappings(all, methods)
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

// allPaymentMethods lists the company's payment methods, inactive ones
// too: a mapping may name one made inactive since, and must be shown as
// such rather than as unknown.
func allPaymentMethods(ctx context.Context, c *qbo.Client) ([]qbo.PaymentMethod, error) {
	var methods []qbo.PaymentMethod
	for pm, err := range c.PaymentMethods.All(ctx, "WHERE Active IN (true, false)") {
		if err != nil {
			return nil, err
		}
		methods = append(methods, pm)
	}
	return methods, nil
}

package main

import (
	"context"
	"strings"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/web"
	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/reconcile"
)

// SettingsView reads what `velqbo settings`, `settings payment-methods`,
// `settings accounts` and `settings items` show, through the same engine
// functions. Without a connection it returns the stored ids and an error
// wrapping web.ErrNotConnected.
func (b *consoleBackend) SettingsView(ctx context.Context) (web.SettingsView, error) {
	all, err := b.st.Settings(ctx)
	if err != nil {
		return web.SettingsView{}, err
	}
	var v web.SettingsView
	conn, cerr := b.m.connectQBO(ctx, b.st)
	if cerr != nil {
		v.States, _ = reconcile.DescribeSettings(ctx, nil, all)
		v.Methods = reconcile.PaymentMethodMappings(all, nil)
		return v, consoleErr(cerr)
	}
	c := conn.Client
	if v.States, err = reconcile.DescribeSettings(ctx, c, all); err != nil {
		return v, qboError(err)
	}
	methods, err := allPaymentMethods(ctx, c)
	if err != nil {
		return v, qboError(err)
	}
	v.Methods = reconcile.PaymentMethodMappings(all, methods)
	keys := []string{}
	for _, info := range reconcile.SettingInfos() {
		if !strings.HasPrefix(info.Key, reconcile.SettingPaymentMethodPrefix) {
			keys = append(keys, info.Key)
		}
	}
	for _, pm := range v.Methods {
		keys = append(keys, pm.Key)
	}
	if v.Choices, err = reconcile.SettingChoicesFor(ctx, c, keys); err != nil {
		return v, qboError(err)
	}
	v.Connected = true
	return v, nil
}

// SaveSettings checks and saves kv all or nothing, as `velqbo settings set`
// does (reconcile.SetSettings).
func (b *consoleBackend) SaveSettings(ctx context.Context, kv map[string]string) (reconcile.SettingErrors, error) {
	var c *qbo.Client
	for k, v := range kv {
		if reconcile.SettingNeedsQBO(k, v) {
			conn, err := b.m.connectQBO(ctx, b.st)
			if err != nil {
				return nil, consoleErr(err)
			}
			c = conn.Client
			break
		}
	}
	bad, err := reconcile.SetSettings(ctx, b.st, c, kv)
	if err != nil {
		return bad, qboError(err)
	}
	return bad, nil
}

package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/oauth2"

	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity/velocitytest"
)

// sandbox is the built-in pair of fakes that `velqbo demo` runs against:
// a fake QBO company and a fake Velocity store with a generated dataset,
// both on loopback.
type sandbox struct {
	QBO  *qbotest.Server
	Seed qbotest.Seeded
	Vel  *velocitytest.Server
	Data *velocitytest.Dataset
	Dir  string
}

// sandboxOptions say how big a store to generate.
type sandboxOptions struct {
	Seed      int64
	Orders    int
	Customers int
	Products  int
}

func startSandbox(o sandboxOptions) (*sandbox, error) {
	dir, err := os.MkdirTemp("", "velqbo-demo-")
	if err != nil {
		return nil, err
	}
	sb := &sandbox{Dir: dir}
	sb.QBO = qbotest.NewServer()
	sb.Seed = sb.QBO.SeedDefaults()
	sb.Vel, err = velocitytest.Listen("127.0.0.1:0")
	if err != nil {
		sb.Close()
		return nil, err
	}
	sb.Data = velocitytest.Generate(o.Seed, velocitytest.GenOptions{Customers: o.Customers, Products: o.Products, Orders: o.Orders})
	if err := sb.Vel.Load(sb.Data); err != nil {
		sb.Close()
		return nil, err
	}
	return sb, nil
}

// Close stops both fakes and removes the sandbox's files.
func (sb *sandbox) Close() {
	if sb.QBO != nil {
		sb.QBO.Close()
	}
	if sb.Vel != nil {
		sb.Vel.Close()
	}
	os.RemoveAll(sb.Dir)
}

// configure points m's configuration at the sandbox, with a throwaway
// database and encryption key.
func (sb *sandbox) configure(m *Main) error {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	c := &m.Config
	c.DB = filepath.Join(sb.Dir, "velqbo-demo.db")
	c.SecretKey = base64.StdEncoding.EncodeToString(key)
	c.QBO.ClientID = qbotest.DefaultClientID
	c.QBO.ClientSecret = qbotest.DefaultClientSecret
	c.QBO.APIURL = sb.QBO.APIURL()
	c.QBO.TokenURL = sb.QBO.TokenURL()
	c.QBO.AuthURL = sb.QBO.AuthURL()
	c.QBO.RevokeURL = sb.QBO.RevokeURL()
	c.Velocity = VelocityConfig{URL: sb.Vel.URL, Token: sb.Vel.Token()}
	return nil
}

// env is the sandbox's configuration as environment variables, for a
// second shell (`velqbo demo --serve`).
func (sb *sandbox) env(m *Main) [][2]string {
	c := m.Config
	return [][2]string{
		{"VELQBO_DB", c.DB},
		{"VELQBO_SECRET_KEY", c.SecretKey},
		{"VELQBO_QBO_CLIENT_ID", c.QBO.ClientID},
		{"VELQBO_QBO_CLIENT_SECRET", c.QBO.ClientSecret},
		{"VELQBO_QBO_API_URL", c.QBO.APIURL},
		{"VELQBO_QBO_TOKEN_URL", c.QBO.TokenURL},
		{"VELQBO_QBO_AUTH_URL", c.QBO.AuthURL},
		{"VELQBO_QBO_REVOKE_URL", c.QBO.RevokeURL},
		{"VELQBO_VELOCITY_URL", c.Velocity.URL},
		{"VELQBO_VELOCITY_TOKEN", c.Velocity.Token},
	}
}

// prepare does what a bookkeeper does before the first run: connect, map
// the accounts and placeholder items, and link customers and products (the
// sandbox creates a QBO record for each). It leaves the products named in
// unlinked without a link, so the demo can show a blocked order.
func (sb *sandbox) prepare(ctx context.Context, m *Main, unlinked map[string]bool) error {
	if err := m.storeConnection(ctx, sb.QBO.Realm(), &oauth2.Token{RefreshToken: sb.QBO.IssueRefreshToken()}); err != nil {
		return err
	}
	st, err := m.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	settings := sandboxSettings(sb.Seed)
	if err := st.SetSettings(ctx, settings); err != nil {
		return err
	}
	for _, c := range sb.Data.Customers {
		name := c.Company
		if name == "" {
			name = c.FirstName + " " + c.LastName
		}
		name = fmt.Sprintf("%s (%s)", name, c.Number)
		id := sb.QBO.AddCustomer(name, c.Email)
		if err := st.SaveLink(ctx, schema.CustomerLinks, schema.Link{VelocityID: c.ID, QBOID: id, QBOName: name, Method: schema.LinkManual}); err != nil {
			return err
		}
	}
	for _, p := range sb.Data.Products {
		if unlinked[p.ID] {
			continue
		}
		id, name, err := sb.addItem(p.Name, p.SKU)
		if err != nil {
			return err
		}
		if err := st.SaveLink(ctx, schema.ProductLinks, schema.Link{VelocityID: p.ID, QBOID: id, QBOName: name, Method: schema.LinkManual}); err != nil {
			return err
		}
	}
	return nil
}

// addItem creates a QBO item for a Velocity product. Item names are unique
// in QBO, so a name already taken gets the SKU appended.
func (sb *sandbox) addItem(name, sku string) (id, used string, err error) {
	for _, n := range []string{name, name + " (" + sku + ")"} {
		f := map[string]any{"Name": n, "Type": "NonInventory", "IncomeAccountRef": map[string]any{"value": sb.Seed.Accounts["Sales"]}}
		if sku != "" {
			f["Sku"] = sku
		}
		if id, err = sb.QBO.Add("Item", f); err == nil {
			return id, n, nil
		}
	}
	return "", "", fmt.Errorf("create sandbox item for %s: %w", sku, err)
}

// sandboxSettings maps every account, placeholder item and payment method
// that a generated store needs to the seeded fake company's records. The
// demo and the tests share it.
func sandboxSettings(s qbotest.Seeded) map[string]string {
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

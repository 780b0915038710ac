// Package sandbox is velqbo's built-in pair of fakes, a fake QBO company
// and a fake Velocity store with a generated dataset, both on loopback,
// and the preparation a bookkeeper does on a ledger before the first run
// against them. `velqbo demo` runs on it; the command's tests prepare
// their ledgers with it.
package sandbox

import (
	"context"
	"fmt"
	"os"

	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/reconcile/reconciletest"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
	"github.com/velqbo/velqbo/velocity/velocitytest"
)

// Sandbox is a fake QBO company with qbotest's default records and a fake
// Velocity store serving Data. Tests that start the fakes themselves fill
// in the fields they have; Start fills in all of them.
type Sandbox struct {
	QBO  *qbotest.Server
	Seed qbotest.Seeded
	Vel  *velocitytest.Server
	Data *velocitytest.Dataset
	// Dir is a private directory for the sandbox's files (the demo's
	// ledger); Close removes it.
	Dir string
}

// Options say how big a store to generate.
type Options struct {
	Seed      int64
	Orders    int
	Customers int
	Products  int
}

// Start starts both fakes on loopback with a store generated from o, and
// makes Dir. The caller must Close the sandbox.
func Start(o Options) (*Sandbox, error) {
	dir, err := os.MkdirTemp("", "velqbo-demo-")
	if err != nil {
		return nil, err
	}
	sb := &Sandbox{Dir: dir}
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

// Close stops both fakes and removes Dir.
func (sb *Sandbox) Close() {
	if sb.QBO != nil {
		sb.QBO.Close()
	}
	if sb.Vel != nil {
		sb.Vel.Close()
	}
	if sb.Dir != "" {
		os.RemoveAll(sb.Dir)
	}
}

// Prepare does what a bookkeeper does in st before the first run, once
// the company is connected: map the accounts, placeholder items and
// payment methods (reconciletest.Settings), and link every customer and
// product to a QBO record it creates in the fake company. It leaves the
// customers and products whose Velocity ids are in unlinked without a
// link (nor a QBO record), so the demo can show a blocked order. It
// returns the store's and the fake's errors.
func (sb *Sandbox) Prepare(ctx context.Context, st *schema.Store, unlinked map[string]bool) error {
	if err := st.SetSettings(ctx, reconciletest.Settings(sb.Seed)); err != nil {
		return err
	}
	for _, c := range sb.Data.Customers {
		if unlinked[c.ID] {
			continue
		}
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
		id, name, err := sb.AddItem(p.Name, p.SKU)
		if err != nil {
			return err
		}
		if err := st.SaveLink(ctx, schema.ProductLinks, schema.Link{VelocityID: p.ID, QBOID: id, QBOName: name, Method: schema.LinkManual}); err != nil {
			return err
		}
	}
	return nil
}

// AddItem creates a QBO item for a Velocity product and returns its id and
// the name it got. Item names are unique in QBO, so a name already taken
// gets the SKU appended. It returns the fake's error when both are taken.
func (sb *Sandbox) AddItem(name, sku string) (id, used string, err error) {
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

// BlockingProduct picks a product that an approved, not cancelled order
// uses, so that leaving it unlinked blocks that order; "" when there is
// none.
func (sb *Sandbox) BlockingProduct() string {
	for _, o := range sb.Data.Orders {
		if o.ApprovedAt != nil && o.CancelledAt == nil && len(o.Lines) > 0 {
			return o.Lines[0].ProductID
		}
	}
	return ""
}

// Product returns the generated product with id; the zero Product when
// there is none.
func (sb *Sandbox) Product(id string) velocity.Product {
	for _, p := range sb.Data.Products {
		if p.ID == id {
			return p
		}
	}
	return velocity.Product{}
}

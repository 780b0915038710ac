package main

import (
	"context"
	"errors"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// The Customers screen's Backend methods, and the link methods the
// Products screen shares: each calls the engine function its command
// calls (customers list, link, unlink, match, create, sync).

func (b *consoleBackend) Customers(ctx context.Context, f reconcile.LinkFilter) (reconcile.LinkList, error) {
	return b.listLinks(ctx, schema.CustomerLinks, f)
}

func (b *consoleBackend) listLinks(ctx context.Context, kind schema.LinkKind, f reconcile.LinkFilter) (reconcile.LinkList, error) {
	src, _, err := b.m.velocitySource()
	if err != nil {
		return reconcile.LinkList{}, err
	}
	return reconcile.ListLinks(ctx, src, b.st, kind, f)
}

func (b *consoleBackend) Customer(ctx context.Context, id string) (*velocity.Customer, *schema.Link, error) {
	src, _, err := b.m.velocitySource()
	if err != nil {
		return nil, nil, err
	}
	c, err := reconcile.GetVelocityCustomer(ctx, src, id)
	if err != nil {
		return nil, nil, err
	}
	l, err := b.link(ctx, schema.CustomerLinks, id)
	return c, l, err
}

// link is the link of Velocity record id, nil when there is none.
func (b *consoleBackend) link(ctx context.Context, kind schema.LinkKind, id string) (*schema.Link, error) {
	l, err := b.st.GetLink(ctx, kind, id)
	if errors.Is(err, schema.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &l, nil
}

func (b *consoleBackend) BlockedOrders(ctx context.Context, kind schema.LinkKind, id string) ([]schema.BlockedOrder, error) {
	return reconcile.BlockedOrders(ctx, b.st, kind, id)
}

func (b *consoleBackend) SearchQBOCustomers(ctx context.Context, text string, page reconcile.SearchPage) (reconcile.Found[reconcile.QBOCustomer], error) {
	c, _, err := b.QBO(ctx)
	if err != nil {
		return reconcile.Found[reconcile.QBOCustomer]{}, err
	}
	return reconcile.SearchQBOCustomers(ctx, c.Customers, text, page)
}

func (b *consoleBackend) Suggest(ctx context.Context, kind schema.LinkKind, id string) ([]reconcile.Suggestion, error) {
	src, _, err := b.m.velocitySource()
	if err != nil {
		return nil, err
	}
	c, _, err := b.QBO(ctx)
	if err != nil {
		return nil, err
	}
	links, err := b.st.ListLinks(ctx, kind)
	if err != nil {
		return nil, err
	}
	existing := make(map[string]string, len(links))
	for _, l := range links {
		existing[l.VelocityID] = l.QBOID
	}
	return reconcile.Suggest(ctx, src, reconcile.QBOClient{C: c}, kind, id, existing)
}

// linker is the reconcile.Linker `customers link` and `products link`
// build.
func (b *consoleBackend) linker(ctx context.Context) (reconcile.Linker, error) {
	src, _, err := b.m.velocitySource()
	if err != nil {
		return reconcile.Linker{}, err
	}
	c, _, err := b.QBO(ctx)
	if err != nil {
		return reconcile.Linker{}, err
	}
	return reconcile.Linker{Source: src, QBO: reconcile.QBOClient{C: c}, Store: b.st}, nil
}

func (b *consoleBackend) Link(ctx context.Context, kind schema.LinkKind, velocityID, qboID string, force bool) (reconcile.LinkResult, error) {
	l, err := b.linker(ctx)
	if err != nil {
		return reconcile.LinkResult{}, err
	}
	return l.Link(ctx, kind, velocityID, qboID, force)
}

func (b *consoleBackend) Unlink(ctx context.Context, kind schema.LinkKind, velocityID string) error {
	return reconcile.Linker{Store: b.st}.Unlink(ctx, kind, velocityID)
}

func (b *consoleBackend) CreateCustomer(ctx context.Context, id string, opts reconcile.CreateOptions) (reconcile.CreateResult, error) {
	if err := reconcile.CheckCreate(ctx, b.st, id, opts); err != nil {
		return reconcile.CreateResult{}, err
	}
	l, err := b.linker(ctx)
	if err != nil {
		return reconcile.CreateResult{}, err
	}
	vc, err := reconcile.GetVelocityCustomer(ctx, l.Source, id)
	if err != nil {
		return reconcile.CreateResult{}, err
	}
	conn, err := b.m.connectQBO(ctx, b.st)
	if err != nil {
		return reconcile.CreateResult{}, consoleErr(err)
	}
	cc := reconcile.CustomerCreator{Linker: l, Customers: conn.Client.Customers, Realm: conn.Realm, Store: b.st}
	return cc.Create(ctx, vc, opts)
}

// profileSync reads linked customer id's link and Velocity record and
// builds the syncer `customers sync` uses.
func (b *consoleBackend) profileSync(ctx context.Context, id string) (reconcile.ProfileSyncer, schema.Link, *velocity.Customer, error) {
	link, err := b.st.GetLink(ctx, schema.CustomerLinks, id)
	if err != nil {
		return reconcile.ProfileSyncer{}, schema.Link{}, nil, err
	}
	src, vclient, err := b.m.velocitySource()
	if err != nil {
		return reconcile.ProfileSyncer{}, schema.Link{}, nil, err
	}
	vc, err := reconcile.GetVelocityCustomer(ctx, src, id)
	if err != nil {
		return reconcile.ProfileSyncer{}, schema.Link{}, nil, err
	}
	conn, err := b.m.connectQBO(ctx, b.st)
	if err != nil {
		return reconcile.ProfileSyncer{}, schema.Link{}, nil, consoleErr(err)
	}
	s := reconcile.ProfileSyncer{QBO: conn.Client.Customers, Realm: conn.Realm}
	if vclient != nil {
		s.Velocity = vclient
	}
	return s, link, vc, nil
}

func (b *consoleBackend) PlanProfileSync(ctx context.Context, id, keep string) (reconcile.ProfileSync, error) {
	s, link, vc, err := b.profileSync(ctx, id)
	if err != nil {
		return reconcile.ProfileSync{}, err
	}
	return s.Plan(ctx, link, vc, keep)
}

func (b *consoleBackend) ApplyProfileSync(ctx context.Context, id, keep, confirmed string) (reconcile.ProfileSync, error) {
	if keep == reconcile.KeepQBO && b.m.Config.Velocity.File != "" {
		return reconcile.ProfileSync{}, &ConfigValidationError{Field: "--velocity-file", Value: b.m.Config.Velocity.File,
			Err: errors.New("keeping QBO's profile writes to Velocity and needs its API (VELQBO_VELOCITY_URL/VELQBO_VELOCITY_TOKEN), not an export file")}
	}
	s, link, vc, err := b.profileSync(ctx, id)
	if err != nil {
		return reconcile.ProfileSync{}, err
	}
	plan, err := s.Plan(ctx, link, vc, keep)
	if err != nil {
		return reconcile.ProfileSync{}, err
	}
	return s.Apply(ctx, plan, confirmed)
}

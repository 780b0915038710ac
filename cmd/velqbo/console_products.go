package main

import (
	"context"

	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

// The Products screen's Backend methods (it shares Link, Unlink, Suggest
// and BlockedOrders with Customers): `products list`, `settings items`.

func (b *consoleBackend) Products(ctx context.Context, f reconcile.LinkFilter) (reconcile.LinkList, error) {
	return b.listLinks(ctx, schema.ProductLinks, f)
}

func (b *consoleBackend) Product(ctx context.Context, id string) (*velocity.Product, *schema.Link, error) {
	src, _, err := b.m.velocitySource()
	if err != nil {
		return nil, nil, err
	}
	p, err := reconcile.GetVelocityProduct(ctx, src, id)
	if err != nil {
		return nil, nil, err
	}
	l, err := b.link(ctx, schema.ProductLinks, id)
	return p, l, err
}

func (b *consoleBackend) SearchQBOItems(ctx context.Context, text string, page reconcile.SearchPage) (reconcile.Found[reconcile.QBOItem], error) {
	c, _, err := b.QBO(ctx)
	if err != nil {
		return reconcile.Found[reconcile.QBOItem]{}, err
	}
	return reconcile.SearchQBOItems(ctx, c.Items, text, page)
}

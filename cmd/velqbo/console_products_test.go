package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
)

func TestConsoleProducts(t *testing.T) {
	t.Parallel()
	h := newConsole(t, withOrders(0))
	h.velocity.AddProduct(velocity.Product{ID: "prod_w", SKU: "WID-1", Name: "Blue Widget"})
	h.velocity.AddProduct(velocity.Product{ID: "prod_v", SKU: "WID-1-L", Name: "Blue Widget, large"})
	h.velocity.AddProduct(velocity.Product{ID: "prod_h", SKU: "EVIL-1", Name: hostile})
	item := h.qbo.AddItem("Blue Widget", "WID-1")
	evil := h.qbo.AddItem(hostile+" item", "EVIL-Q")
	viewer, admin := h.login(t, "viewer"), h.login(t, "admin")

	t.Run("ListEscapesAndFilters", func(t *testing.T) {
		r := viewer.get(t, "/products").wantCode(t, http.StatusOK).wantBody(t, `href="/products/prod_w"`, `href="/products/prod_h"`)
		r.wantEscaped(t, hostile)
		viewer.get(t, "/products?q=wid-1-l").wantBody(t, `href="/products/prod_v"`)
		if r := viewer.get(t, "/products?q=wid-1-l"); strings.Contains(r.Body, `href="/products/prod_h"`) {
			t.Errorf("search wid-1-l: got the hostile product too")
		}
		viewer.get(t, "/products/prod_h").wantCode(t, http.StatusOK).wantEscaped(t, hostile)
		viewer.get(t, "/products/prod_nope").wantCode(t, http.StatusNotFound)
	})
	t.Run("SuggestionBySKU", func(t *testing.T) {
		admin.get(t, "/products/prod_w").wantCode(t, http.StatusOK).wantBody(t, `id="link-suggested-`+item+`"`, "same SKU WID-1")
	})
	t.Run("SearchEscapesQBONames", func(t *testing.T) {
		r := admin.getHX(t, "/products/prod_h/search?q=item").wantCode(t, http.StatusOK).wantBody(t, `id="link-`+evil+`"`)
		r.wantEscaped(t, hostile)
		admin.getHX(t, "/products/prod_w/search?q=wid-1").wantBody(t, `id="link-`+item+`"`)
	})
	t.Run("LinkThenShareWithConfirm", func(t *testing.T) {
		admin.post(t, "/products/prod_w/link", url.Values{"qbo_id": {item}}).wantCode(t, http.StatusSeeOther)
		if l := h.linkOf(t, schema.ProductLinks, "prod_w"); l.QBOID != item {
			t.Fatalf("link: got %+v; want %s", l, item)
		}
		admin.post(t, "/products/prod_v/link", url.Values{"qbo_id": {item}}).wantCode(t, http.StatusConflict).
			wantBody(t, `id="force-link"`, "shares the item")
		if l := h.linkOf(t, schema.ProductLinks, "prod_v"); l.QBOID != "" {
			t.Fatalf("before confirming: prod_v linked %+v", l)
		}
		admin.post(t, "/products/prod_v/link", url.Values{"qbo_id": {item}, "force": {"1"}}).wantCode(t, http.StatusSeeOther)
		// Shared, not moved: both products keep the item.
		for _, id := range []string{"prod_w", "prod_v"} {
			if l := h.linkOf(t, schema.ProductLinks, id); l.QBOID != item {
				t.Errorf("shared: %s linked %+v; want %s", id, l, item)
			}
		}
	})
	t.Run("UnknownItemRefused", func(t *testing.T) {
		admin.post(t, "/products/prod_h/link", url.Values{"qbo_id": {"424242"}}).wantCode(t, http.StatusUnprocessableEntity).
			wantBody(t, "QuickBooks has no item with id 424242")
	})
	t.Run("Unlink", func(t *testing.T) {
		viewer.post(t, "/products/prod_v/unlink", nil).wantCode(t, http.StatusForbidden)
		admin.post(t, "/products/prod_v/unlink", nil).wantCode(t, http.StatusSeeOther)
		if l := h.linkOf(t, schema.ProductLinks, "prod_v"); l.QBOID != "" {
			t.Errorf("unlinked: got %+v; want none", l)
		}
		if l := h.linkOf(t, schema.ProductLinks, "prod_w"); l.QBOID != item {
			t.Errorf("the other product: got %+v; want still %s", l, item)
		}
	})
}

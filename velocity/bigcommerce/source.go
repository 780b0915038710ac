package bigcommerce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/velqbo/velqbo/velocity"
)

// Compile-time check: the client reads everything a run reads.
var _ velocity.Source = (*Client)(nil)

// v2Date is the form of the v2 date filters (BigCommerce also takes
// ISO-8601).
const v2Date = "Mon, 02 Jan 2006 15:04:05 -0700"

// orderQuery is the query that embeds what embeds: the products in their
// shipping consignments and the fees, so a page of orders costs one
// request instead of three per order.
func orderQuery() url.Values {
	q := url.Values{}
	q.Set("include", "consignments.line_items,fees")
	q.Set("consignment_structure", "object")
	return q
}

// Orders yields the orders modified at or after since (minus the
// client's overlap; all orders when since is zero), deleted ones
// included, each with its products, fees, refunds and, when the order
// says there are some, shipments and (on terms) transactions.
// An order whose refund was created since then is yielded too, even when
// its date_modified did not move. An order that does not decode or map
// yields a *velocity.ObjectError and the iteration goes on; any other
// error (network after retries, *velocity.APIError, unreadable page, ctx)
// is yielded once and ends it. An order may be yielded once only.
//
// Requests: one per page of 250 orders (and one for the deleted ones),
// one per page for their refunds, one (a page per 250) for the refunds
// created since, one per shipped or terms order that is not cancelled or
// deleted, one per order whose new refund did not move it.
func (c *Client) Orders(ctx context.Context, since time.Time) iter.Seq2[*velocity.Order, error] {
	return func(yield func(*velocity.Order, error) bool) {
		cfg, err := c.config(ctx)
		if err != nil {
			yield(nil, err)
			return
		}
		var from time.Time
		if !since.IsZero() {
			from = since.Add(-c.overlap).UTC().Truncate(time.Second)
		}
		// Refunds created since from: their orders are read whether or not
		// they moved (a refund does not always touch date_modified).
		var refunded []int64
		if !from.IsZero() {
			q := url.Values{}
			q.Set("created:min", from.Format(time.RFC3339))
			err := c.eachRefundPage(ctx, q, func(rs []Refund) {
				for _, r := range rs {
					if !slices.Contains(refunded, r.OrderID) {
						refunded = append(refunded, r.OrderID)
					}
				}
			})
			if err != nil {
				yield(nil, fmt.Errorf("bigcommerce: refunds created since %s: %w", from.Format(time.RFC3339), err))
				return
			}
		}
		seen := map[int64]bool{}
		// Deleted orders are read in a list of their own: whether the
		// order list includes them unasked is not documented, and a
		// deleted order's document must be voided. seen drops an order
		// that both lists return.
		for _, deleted := range []bool{false, true} {
			q := orderQuery()
			q.Set("sort", "id:asc")
			q.Set("limit", strconv.Itoa(c.limit))
			if !from.IsZero() {
				q.Set("min_date_modified", from.Format(v2Date))
			}
			if deleted {
				q.Set("is_deleted", "true")
			}
			if !c.orderPages(ctx, &cfg, q, seen, yield) {
				return
			}
		}
		var rest []int64
		for _, id := range refunded {
			if !seen[id] {
				rest = append(rest, id)
			}
		}
		for chunk := range slices.Chunk(rest, c.limit) {
			refunds, err := c.refundsOf(ctx, chunk)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, id := range chunk {
				o, err := c.getOrder(ctx, &cfg, id, refunds[id])
				if errors.Is(err, velocity.ErrNotFound) {
					continue // a refund of an order since removed for good
				}
				if !yield(o, err) || (err != nil && !velocity.IsObjectError(err)) {
					return
				}
			}
		}
	}
}

// orderPages reads the order list pages of q, yielding each order. It
// returns false when the iteration must end (the consumer stopped, or a
// fatal error was yielded).
func (c *Client) orderPages(ctx context.Context, cfg *Config, q url.Values, seen map[int64]bool, yield func(*velocity.Order, error) bool) bool {
	for page := 1; ; page++ {
		q.Set("page", strconv.Itoa(page))
		status, data, err := c.do(ctx, http.MethodGet, "/v2/orders", q, nil)
		if err != nil {
			return yield(nil, fmt.Errorf("bigcommerce: list orders: %w", err)) && false
		}
		if status == http.StatusNoContent {
			return true // past the last page
		}
		orders, bad, err := DecodeOrders(data)
		if err != nil {
			return yield(nil, fmt.Errorf("bigcommerce: list orders page %d: %w", page, bodyError(http.MethodGet, "/v2/orders", status, data, err))) && false
		}
		for _, oe := range bad {
			if !yield(nil, oe) {
				return false
			}
		}
		var ids []int64
		for _, o := range orders {
			ids = append(ids, o.ID)
		}
		refunds, err := c.refundsOf(ctx, ids)
		if err != nil {
			return yield(nil, err) && false
		}
		for i := range orders {
			o := &orders[i]
			if seen[o.ID] {
				continue
			}
			seen[o.ID] = true
			vo, err := c.complete(ctx, cfg, o, refunds[o.ID])
			if !yield(vo, err) || (err != nil && !velocity.IsObjectError(err)) {
				return false
			}
		}
		if len(orders)+len(bad) < c.limit {
			return true // a short page is the last
		}
	}
}

// GetOrder returns one order by id with everything Orders reads for it.
// It returns an error matching velocity.ErrNotFound when there is no such
// order, a *velocity.ObjectError when it does not decode or map, and a
// *velocity.APIError or network error otherwise.
func (c *Client) GetOrder(ctx context.Context, id string) (*velocity.Order, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return nil, fmt.Errorf("bigcommerce: get order %q: %w", id, &velocity.APIError{Status: http.StatusNotFound, Method: http.MethodGet, URL: "/v2/orders/" + url.PathEscape(id), Message: "BigCommerce order ids are positive integers"})
	}
	cfg, err := c.config(ctx)
	if err != nil {
		return nil, err
	}
	refunds, err := c.refundsOf(ctx, []int64{n})
	if err != nil {
		return nil, err
	}
	return c.getOrder(ctx, &cfg, n, refunds[n])
}

func (c *Client) getOrder(ctx context.Context, cfg *Config, id int64, refunds []Refund) (*velocity.Order, error) {
	path := "/v2/orders/" + itoa(id)
	status, data, err := c.do(ctx, http.MethodGet, path, orderQuery(), nil)
	if err != nil {
		return nil, fmt.Errorf("bigcommerce: get order %d: %w", id, err)
	}
	o, err := DecodeOrder(data)
	if err != nil {
		if velocity.IsObjectError(err) {
			return nil, err
		}
		return nil, fmt.Errorf("bigcommerce: get order %d: %w", id, bodyError(http.MethodGet, path, status, data, err))
	}
	return c.complete(ctx, cfg, o, refunds)
}

// complete reads what the order says it has and is not embedded, then
// maps it.
func (c *Client) complete(ctx context.Context, cfg *Config, o *Order, refunds []Refund) (*velocity.Order, error) {
	d := &OrderData{Order: *o, Refunds: refunds}
	base := "/v2/orders/" + itoa(o.ID)
	// The order list embeds the products in the consignments and the
	// fees; only an answer without them costs a request more.
	if cs := o.Consignments; cs == nil || cs.Link != nil || consignedLinks(cs) {
		var err error
		if d.Products, err = v2List(ctx, c, base+"/products", DecodeOrderProducts); err != nil {
			return nil, err
		}
		if d.ShippingAddresses, err = v2List(ctx, c, base+"/shipping_addresses", DecodeShippingAddresses); err != nil {
			return nil, err
		}
	}
	if o.Fees == nil || o.Fees.Link != nil {
		var err error
		if d.Fees, err = v2List(ctx, c, base+"/fees", DecodeFees); err != nil {
			return nil, err
		}
		if d.Fees == nil {
			d.Fees = []Fee{}
		}
	}
	// Shipments and transactions are read only when the order says it
	// has some, and not for a cancelled or deleted order, whose document
	// is only ever voided. Which orders are reported is the mapping's
	// rule, not repeated here. Coupons are never read: coupon_discount on
	// the order is the discount.
	if !o.IsDeleted && o.StatusID != StatusCancelled {
		var err error
		if o.ItemsShipped > 0 {
			if d.Shipments, err = v2List(ctx, c, base+"/shipments", DecodeShipments); err != nil {
				return nil, err
			}
		}
		if _, terms := cfg.Terms[NormalizeMethod(o.PaymentMethod)]; terms {
			if d.Transactions, err = c.transactions(ctx, o.ID); err != nil {
				return nil, err
			}
		}
	}
	return MapOrder(d, cfg)
}

// consignedLinks reports whether a consignment points at its products
// instead of embedding them.
func consignedLinks(cs *Consignments) bool {
	for _, s := range cs.Shipping {
		if len(s.LineItems.Links) > 0 {
			return true
		}
	}
	for _, p := range cs.Pickups {
		if len(p.LineItems.Links) > 0 {
			return true
		}
	}
	for _, d := range cs.Downloads {
		if len(d.LineItems.Links) > 0 {
			return true
		}
	}
	for _, g := range cs.Email.GiftCertificates {
		if len(g.LineItems.Links) > 0 {
			return true
		}
	}
	return false
}

// v2List reads every page of a v2 order sub-resource (204: none). An
// object that does not decode makes the whole order invalid: its
// *velocity.ObjectError is returned.
func v2List[T any](ctx context.Context, c *Client, path string, decode func([]byte) ([]T, []*velocity.ObjectError, error)) ([]T, error) {
	var out []T
	q := url.Values{}
	q.Set("limit", strconv.Itoa(c.limit))
	for page := 1; ; page++ {
		q.Set("page", strconv.Itoa(page))
		status, data, err := c.do(ctx, http.MethodGet, path, q, nil)
		if err != nil {
			return nil, fmt.Errorf("bigcommerce: %s: %w", path, err)
		}
		if status == http.StatusNoContent {
			return out, nil
		}
		items, bad, err := decode(data)
		if err != nil {
			return nil, fmt.Errorf("bigcommerce: %s: %w", path, bodyError(http.MethodGet, path, status, data, err))
		}
		if len(bad) > 0 {
			return nil, bad[0]
		}
		out = append(out, items...)
		if len(items) < c.limit {
			return out, nil
		}
	}
}

// v3Pages reads every page of a v3 list, calling each with the page's
// data. It follows meta.pagination when the answer has it, and otherwise
// (the refunds list documents an empty meta) goes on while pages are
// full.
func v3Pages[T any](ctx context.Context, c *Client, path string, q url.Values, decode func([]byte) (Page[T], []*velocity.ObjectError, error), each func([]T, []*velocity.ObjectError) error) error {
	q.Set("limit", strconv.Itoa(c.limit))
	for page := 1; ; page++ {
		q.Set("page", strconv.Itoa(page))
		status, data, err := c.do(ctx, http.MethodGet, path, q, nil)
		if err != nil {
			return fmt.Errorf("bigcommerce: %s: %w", path, err)
		}
		if status == http.StatusNoContent {
			return nil
		}
		p, bad, err := decode(data)
		if err != nil {
			return fmt.Errorf("bigcommerce: %s: %w", path, bodyError(http.MethodGet, path, status, data, err))
		}
		if err := each(p.Data, bad); err != nil {
			return err
		}
		n := len(p.Data) + len(bad)
		if pg := p.Meta.Pagination; pg != nil {
			if pg.CurrentPage >= pg.TotalPages || n == 0 {
				return nil
			}
		} else if n < c.limit {
			return nil
		}
	}
}

// eachRefundPage reads the store-wide refunds list filtered by q. A
// refund that does not decode cannot be attributed for sure, so it ends
// the read: guessing would report the order without it.
func (c *Client) eachRefundPage(ctx context.Context, q url.Values, each func([]Refund)) error {
	return v3Pages(ctx, c, "/v3/orders/payment_actions/refunds", q, DecodeRefunds, func(rs []Refund, bad []*velocity.ObjectError) error {
		if len(bad) > 0 {
			return fmt.Errorf("refund: %w", bad[0])
		}
		each(rs)
		return nil
	})
}

// refundsOf returns the refunds of the given orders, by order id, in one
// request per 250 refunds (order_id:in).
func (c *Client) refundsOf(ctx context.Context, ids []int64) (map[int64][]Refund, error) {
	out := map[int64][]Refund{}
	if len(ids) == 0 {
		return out, nil
	}
	list := make([]string, len(ids))
	for i, id := range ids {
		list[i] = itoa(id)
	}
	q := url.Values{}
	q.Set("order_id:in", strings.Join(list, ","))
	err := c.eachRefundPage(ctx, q, func(rs []Refund) {
		for _, r := range rs {
			out[r.OrderID] = append(out[r.OrderID], r)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("bigcommerce: refunds of orders %s: %w", truncateList(list), err)
	}
	return out, nil
}

func truncateList(ids []string) string {
	if len(ids) > 5 {
		return strings.Join(ids[:5], ",") + ",…"
	}
	return strings.Join(ids, ",")
}

// transactions reads an order's v3 transactions (204: none).
func (c *Client) transactions(ctx context.Context, id int64) ([]Transaction, error) {
	var out []Transaction
	err := v3Pages(ctx, c, "/v3/orders/"+itoa(id)+"/transactions", url.Values{}, DecodeTransactions, func(ts []Transaction, bad []*velocity.ObjectError) error {
		if len(bad) > 0 {
			return bad[0]
		}
		out = append(out, ts...)
		return nil
	})
	return out, err
}

// Customers yields the customers modified at or after since (minus the
// overlap; all when zero), with their addresses. A customer that does
// not decode or map yields a *velocity.ObjectError and the iteration goes
// on; other errors end it.
func (c *Client) Customers(ctx context.Context, since time.Time) iter.Seq2[*velocity.Customer, error] {
	return func(yield func(*velocity.Customer, error) bool) {
		q := url.Values{}
		q.Set("include", "addresses")
		q.Set("sort", "id:asc")
		if !since.IsZero() {
			q.Set("date_modified:min", since.Add(-c.overlap).UTC().Format(time.RFC3339))
		}
		stop := errors.New("stop")
		err := v3Pages(ctx, c, "/v3/customers", q, DecodeCustomers, func(cs []Customer, bad []*velocity.ObjectError) error {
			for _, oe := range bad {
				if !yield(nil, oe) {
					return stop
				}
			}
			for i := range cs {
				if !yield(MapCustomer(&cs[i]), nil) {
					return stop
				}
			}
			return nil
		})
		if err != nil && !errors.Is(err, stop) {
			yield(nil, fmt.Errorf("bigcommerce: list customers: %w", err))
		}
	}
}

// Products yields the catalog's products modified at or after since
// (minus the overlap; all when zero), one velocity.Product per variant:
// orders link products by variant SKU, and a product without options is
// its base variant. Errors are as for Customers.
func (c *Client) Products(ctx context.Context, since time.Time) iter.Seq2[*velocity.Product, error] {
	return func(yield func(*velocity.Product, error) bool) {
		q := url.Values{}
		q.Set("include", "variants")
		if !since.IsZero() {
			q.Set("date_modified:min", since.Add(-c.overlap).UTC().Format(time.RFC3339))
		}
		stop := errors.New("stop")
		err := v3Pages(ctx, c, "/v3/catalog/products", q, DecodeProducts, func(ps []Product, bad []*velocity.ObjectError) error {
			for _, oe := range bad {
				if !yield(nil, oe) {
					return stop
				}
			}
			for i := range ps {
				vs, err := MapProduct(&ps[i])
				if err != nil {
					if !yield(nil, err) {
						return stop
					}
					continue
				}
				for _, v := range vs {
					if !yield(v, nil) {
						return stop
					}
				}
			}
			return nil
		})
		if err != nil && !errors.Is(err, stop) {
			yield(nil, fmt.Errorf("bigcommerce: list products: %w", err))
		}
	}
}

// GetCustomer returns one customer with its addresses. It returns an
// error matching velocity.ErrNotFound when there is none, a
// *velocity.ObjectError when it does not decode or map, and a
// *velocity.APIError or network error otherwise.
func (c *Client) GetCustomer(ctx context.Context, id string) (*velocity.Customer, error) {
	wc, err := c.customer(ctx, id)
	if err != nil {
		return nil, err
	}
	return MapCustomer(wc), nil
}

func (c *Client) customer(ctx context.Context, id string) (*Customer, error) {
	notFound := &velocity.APIError{Status: http.StatusNotFound, Method: http.MethodGet, URL: "/v3/customers?id:in=" + url.QueryEscape(id)}
	if n, err := strconv.ParseInt(id, 10, 64); err != nil || n <= 0 {
		return nil, fmt.Errorf("bigcommerce: get customer %q: %w", id, notFound)
	}
	q := url.Values{}
	q.Set("id:in", id)
	q.Set("include", "addresses")
	var found *Customer
	err := v3Pages(ctx, c, "/v3/customers", q, DecodeCustomers, func(cs []Customer, bad []*velocity.ObjectError) error {
		if len(bad) > 0 {
			return bad[0]
		}
		for i := range cs {
			if itoa(cs[i].ID) == id {
				found = &cs[i]
			}
		}
		return nil
	})
	if err != nil {
		if velocity.IsObjectError(err) {
			return nil, err
		}
		return nil, fmt.Errorf("bigcommerce: get customer %s: %w", id, err)
	}
	if found == nil {
		return nil, fmt.Errorf("bigcommerce: get customer %s: %w", id, notFound)
	}
	return found, nil
}

// PatchCustomer writes the given profile fields of a customer back to
// BigCommerce (PUT /v3/customers, and PUT /v3/customers/addresses for an
// address) and returns the customer as BigCommerce then holds it.
// BigCommerce's customers have a list of addresses, not a billing and a
// shipping one: the mapping reads both from the first address, so both
// write to it, and a patch that sets them to different addresses is
// refused. Errors are as for GetCustomer; a rejected write is a
// *velocity.APIError with status 400, 413 or 422.
func (c *Client) PatchCustomer(ctx context.Context, id string, patch velocity.CustomerPatch) (*velocity.Customer, error) {
	wc, err := c.customer(ctx, id)
	if err != nil {
		return nil, err
	}
	addr := patch.BillingAddress
	if patch.ShippingAddress != nil {
		if addr != nil && *addr != *patch.ShippingAddress {
			return nil, fmt.Errorf("bigcommerce: update customer %s: a BigCommerce customer's billing and shipping address are its first address; they cannot be set to different addresses", id)
		}
		addr = patch.ShippingAddress
	}
	if addr != nil && len(wc.Addresses) == 0 {
		return nil, fmt.Errorf("bigcommerce: update customer %s: the customer has no address in BigCommerce to update", id)
	}
	upd := map[string]any{"id": wc.ID}
	for k, v := range map[string]*string{"first_name": patch.FirstName, "last_name": patch.LastName, "company": patch.Company, "email": patch.Email, "phone": patch.Phone} {
		if v != nil {
			upd[k] = *v
		}
	}
	if len(upd) > 1 {
		body, err := json.Marshal([]any{upd})
		if err != nil {
			return nil, fmt.Errorf("bigcommerce: update customer %s: %w", id, err)
		}
		if _, _, err := c.do(ctx, http.MethodPut, "/v3/customers", nil, body); err != nil {
			return nil, fmt.Errorf("bigcommerce: update customer %s: %w", id, err)
		}
	}
	if addr != nil {
		body, err := json.Marshal([]any{addressUpdate(wc.Addresses[0].ID, *addr)})
		if err != nil {
			return nil, fmt.Errorf("bigcommerce: update customer %s: %w", id, err)
		}
		if _, _, err := c.do(ctx, http.MethodPut, "/v3/customers/addresses", nil, body); err != nil {
			return nil, fmt.Errorf("bigcommerce: update customer %s address: %w", id, err)
		}
	}
	return c.GetCustomer(ctx, id)
}

// addressUpdate is the body of one address in PUT /v3/customers/addresses.
// velocity.Address has one name; BigCommerce splits it at the first space.
// BigCommerce takes the country as an ISO 3166 alpha-2 code only, so a
// country name (what the mapping reads when the address has one) leaves
// the country as it is.
func addressUpdate(id int64, a velocity.Address) map[string]any {
	first, last, _ := strings.Cut(strings.TrimSpace(a.Name), " ")
	u := map[string]any{
		"id": id, "first_name": first, "last_name": last, "company": a.Company,
		"address1": a.Line1, "address2": a.Line2, "city": a.City, "state_or_province": a.State,
		"postal_code": a.PostalCode, "phone": a.Phone,
	}
	if len(a.Country) == 2 {
		u["country_code"] = strings.ToUpper(a.Country)
	}
	return u
}

package bctest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/orders", s.listOrders)
	mux.HandleFunc("GET /v2/orders/{id}", s.getOrder)
	mux.HandleFunc("GET /v2/orders/{id}/products", orderList(s, func(o *order) []wOrderProduct { return values(o.products) }))
	mux.HandleFunc("GET /v2/orders/{id}/shipping_addresses", orderList(s, func(o *order) []wShippingAddress { return []wShippingAddress{o.address} }))
	mux.HandleFunc("GET /v2/orders/{id}/shipments", orderList(s, func(o *order) []wShipment { return values(o.shipments) }))
	mux.HandleFunc("GET /v2/orders/{id}/coupons", orderList(s, func(o *order) []wCoupon { return values(o.coupons) }))
	mux.HandleFunc("GET /v2/orders/{id}/fees", orderList(s, func(o *order) []wFee { return slices.Clone(o.w.Fees) }))
	mux.HandleFunc("GET /v3/orders/{id}/transactions", s.orderTransactions)
	mux.HandleFunc("GET /v3/orders/payment_actions/refunds", s.listRefunds)
	mux.HandleFunc("GET /v3/orders/{id}/payment_actions/refunds", s.orderRefunds)
	mux.HandleFunc("GET /v3/customers", s.listCustomers)
	mux.HandleFunc("PUT /v3/customers", s.putCustomers)
	mux.HandleFunc("PUT /v3/customers/addresses", s.putAddresses)
	mux.HandleFunc("GET /v3/catalog/products", s.listProducts)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		prefix := "/stores/" + s.Hash
		rest, ok := strings.CutPrefix(r.URL.Path, prefix)
		if !ok || !strings.HasPrefix(rest, "/v") {
			writeV2Error(w, http.StatusNotFound, "no such store or path")
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			s.mu.Lock()
			s.requests = append(s.requests, Request{Method: r.Method, Path: rest, RawQuery: r.URL.RawQuery, Status: rec.status})
			s.mu.Unlock()
		}()
		if s.applyFault(rec, rest) {
			return
		}
		if !s.admit(rec) {
			return
		}
		if r.Header.Get("X-Auth-Token") != s.token {
			writeV2Error(rec, http.StatusUnauthorized, "You are not authorized to access this resource.")
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = rest
		r2.URL.RawPath = ""
		mux.ServeHTTP(rec, r2)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// applyFault serves an injected fault, if one matches.
func (s *Server) applyFault(w http.ResponseWriter, path string) bool {
	s.mu.Lock()
	var f *fault
	for i := range s.faults {
		if s.faults[i].count > 0 && strings.HasPrefix(path, s.faults[i].path) {
			s.faults[i].count--
			f = &s.faults[i]
			break
		}
	}
	var kind FaultKind
	var status int
	if f != nil {
		kind, status = f.kind, f.status
	}
	s.mu.Unlock()
	switch kind {
	case FaultStatus:
		writeV2Error(w, cmpOr(status, http.StatusInternalServerError), "injected fault")
	case FaultRateLimitNoHeaders:
		writeV2Error(w, http.StatusTooManyRequests, "platform under load")
	case FaultDrop:
		if hj, ok := w.(*statusRecorder).ResponseWriter.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
			}
		}
	default:
		return false
	}
	return true
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// admit counts the request against the shared window and sets the
// rate-limit headers; past the quota it answers 429 as BigCommerce does
// (the headers say how long until the window resets).
func (s *Server) admit(w http.ResponseWriter) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.quota <= 0 {
		return true
	}
	now := s.clock.Now()
	s.rollWindow(now)
	reset := s.windowEnd.Sub(now)
	h := w.Header()
	h.Set("X-Rate-Limit-Time-Window-Ms", strconv.FormatInt(s.window.Milliseconds(), 10))
	h.Set("X-Rate-Limit-Time-Reset-Ms", strconv.FormatInt(reset.Milliseconds(), 10))
	h.Set("X-Rate-Limit-Requests-Quota", strconv.Itoa(s.quota))
	if s.used >= s.quota {
		s.limited++
		h.Set("X-Rate-Limit-Requests-Left", "0")
		h.Set("X-Retry-After", strconv.FormatInt(int64((reset+time.Second-1)/time.Second), 10))
		writeV2Error(w, http.StatusTooManyRequests, "You have exceeded the rate limit.")
		return false
	}
	s.used++
	h.Set("X-Rate-Limit-Requests-Left", strconv.Itoa(s.quota-s.used))
	return true
}

// writeV2Error writes v2's error shape, an array of {status, message}.
func writeV2Error(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode([]map[string]any{{"status": status, "message": msg}}) //nolint:errcheck
}

// writeV3Error writes v3's error shape.
func writeV3Error(w http.ResponseWriter, status int, title string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"status": status, "title": title, "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes", "errors": map[string]any{}}) //nolint:errcheck
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v) //nolint:errcheck
}

// v2Page writes one v2 list page: 204 with no body when it is empty (past
// the end, or nothing matched), as BigCommerce does.
func v2Page[T any](w http.ResponseWriter, r *http.Request, all []T) {
	page, limit, err := paging(r)
	if err != nil {
		writeV2Error(w, http.StatusBadRequest, err.Error())
		return
	}
	lo := (page - 1) * limit
	if lo >= len(all) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, all[lo:min(lo+limit, len(all))])
}

// v3Page writes one v3 list page with meta.pagination.
func v3Page[T any](w http.ResponseWriter, r *http.Request, all []T) {
	page, limit, err := paging(r)
	if err != nil {
		writeV3Error(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	lo := min((page-1)*limit, len(all))
	data := all[lo:min(lo+limit, len(all))]
	pages := (len(all) + limit - 1) / limit
	links := map[string]string{"current": fmt.Sprintf("?page=%d&limit=%d", page, limit)}
	if page < pages {
		links["next"] = fmt.Sprintf("?page=%d&limit=%d", page+1, limit)
	}
	if page > 1 {
		links["previous"] = fmt.Sprintf("?page=%d&limit=%d", page-1, limit)
	}
	writeJSON(w, wList{Data: data, Meta: wMeta{Pagination: &wPagination{
		Total: len(all), Count: len(data), PerPage: limit, CurrentPage: page, TotalPages: pages, Links: links,
	}}})
}

func paging(r *http.Request) (page, limit int, err error) {
	q := r.URL.Query()
	page, limit = 1, defaultLimit
	if v := q.Get("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 1 {
			return 0, 0, fmt.Errorf("page %q is not a positive integer", v)
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 {
			return 0, 0, fmt.Errorf("limit %q is not a positive integer", v)
		}
		limit = min(limit, MaxLimit)
	}
	return page, limit, nil
}

// parseDate reads a date filter in any form BigCommerce accepts: RFC-2822,
// RFC-3339/ISO-8601 (with or without zone; without one it is UTC), or a
// Unix timestamp.
func parseDate(v string) (time.Time, error) {
	for _, layout := range []string{rfc2822Layout, time.RFC3339Nano, "2006-01-02T15:04:05.000-07:00", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	return time.Time{}, fmt.Errorf("date %q is not RFC-2822, ISO-8601 or a Unix timestamp", v)
}

func intList(v string) (map[int]bool, error) {
	if v == "" {
		return nil, nil
	}
	out := map[int]bool{}
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer list", v)
		}
		out[n] = true
	}
	return out, nil
}

func pathID(r *http.Request) (int, bool) {
	n, err := strconv.Atoi(r.PathValue("id"))
	return n, err == nil
}

// ---- v2 orders ----

func (s *Server) listOrders(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var bounds [4]time.Time
	for i, k := range []string{"min_date_modified", "max_date_modified", "min_date_created", "max_date_created"} {
		if v := q.Get(k); v != "" {
			t, err := parseDate(v)
			if err != nil {
				writeV2Error(w, http.StatusBadRequest, k+": "+err.Error())
				return
			}
			bounds[i] = t
		}
	}
	intParam := func(k string) (int, bool, error) {
		v := q.Get(k)
		if v == "" {
			return 0, false, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, false, fmt.Errorf("%s %q is not an integer", k, v)
		}
		return n, true, nil
	}
	minID, hasMin, err1 := intParam("min_id")
	maxID, hasMax, err2 := intParam("max_id")
	status, hasStatus, err3 := intParam("status_id")
	cust, hasCust, err4 := intParam("customer_id")
	for _, err := range []error{err1, err2, err3, err4} {
		if err != nil {
			writeV2Error(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	// Deleted (archived) orders are left out unless asked for; whether
	// BigCommerce lists them by default is not documented, so the client
	// must work either way.
	deleted := q.Get("is_deleted") == "true"
	sortKey, desc := "id", false
	if v := q.Get("sort"); v != "" {
		k, dir, _ := strings.Cut(v, ":")
		if !slices.Contains([]string{"id", "customer_id", "date_created", "date_modified", "status_id"}, k) || (dir != "" && dir != "asc" && dir != "desc") {
			writeV2Error(w, http.StatusBadRequest, "sort "+v+" is not supported")
			return
		}
		sortKey, desc = k, dir == "desc"
	}
	inc := includes(r)
	s.mu.Lock()
	var out []wOrder
	for _, o := range s.sortedOrders() {
		ow := &o.w
		mod, created := time.Time(ow.DateModified), time.Time(ow.DateCreated)
		switch {
		case ow.IsDeleted != deleted,
			!bounds[0].IsZero() && mod.Before(bounds[0]),
			!bounds[1].IsZero() && mod.After(bounds[1]),
			!bounds[2].IsZero() && created.Before(bounds[2]),
			!bounds[3].IsZero() && created.After(bounds[3]),
			hasMin && ow.ID < minID,
			hasMax && ow.ID > maxID,
			hasStatus && ow.StatusID != status,
			hasCust && ow.CustomerID != cust:
			continue
		}
		out = append(out, s.render(o, inc))
	}
	s.mu.Unlock()
	slices.SortStableFunc(out, func(a, b wOrder) int {
		var c int
		switch sortKey {
		case "customer_id":
			c = a.CustomerID - b.CustomerID
		case "date_created":
			c = time.Time(a.DateCreated).Compare(time.Time(b.DateCreated))
		case "date_modified":
			c = time.Time(a.DateModified).Compare(time.Time(b.DateModified))
		case "status_id":
			c = a.StatusID - b.StatusID
		}
		if c == 0 {
			c = a.ID - b.ID
		}
		if desc {
			c = -c
		}
		return c
	})
	v2Page(w, r, out)
}

type include struct{ lineItems, consignments, fees bool }

func includes(r *http.Request) include {
	var inc include
	for _, v := range strings.Split(r.URL.Query().Get("include"), ",") {
		switch strings.TrimSpace(v) {
		case "consignments.line_items":
			inc.lineItems, inc.consignments = true, true
		case "consignments":
			inc.consignments = true
		case "fees":
			inc.fees = true
		}
	}
	// Without consignment_structure=object BigCommerce answers an older
	// array form; the fake serves only the object form and leaves the
	// consignments out otherwise.
	if r.URL.Query().Get("consignment_structure") != "object" {
		inc.consignments, inc.lineItems = false, false
	}
	return inc
}

// sortedOrders returns the orders by id. Caller holds s.mu.
func (s *Server) sortedOrders() []*order {
	out := make([]*order, 0, len(s.orders))
	for _, o := range s.orders {
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b *order) int { return a.w.ID - b.w.ID })
	return out
}

// render builds the wire order with what inc embeds. Caller holds s.mu.
func (s *Server) render(o *order, inc include) wOrder {
	w := o.w
	base := fmt.Sprintf("%s/stores/%s/v2/orders/%d", s.URL, s.Hash, w.ID)
	w.Products = link{URL: base + "/products", Resource: fmt.Sprintf("/orders/%d/products", w.ID)}
	w.ShippingAddresses = link{URL: base + "/shipping_addresses", Resource: fmt.Sprintf("/orders/%d/shipping_addresses", w.ID)}
	w.Coupons = link{URL: base + "/coupons", Resource: fmt.Sprintf("/orders/%d/coupons", w.ID)}
	w.Fees = slices.Clone(w.Fees)
	if w.Fees == nil {
		w.Fees = []wFee{}
	}
	if inc.consignments {
		cs := &wConsigns{Pickups: []any{}, Shipping: []wConsShip{}, Downloads: []any{}, Email: wConsEmail{GiftCertificates: []any{}}}
		ship := wConsShip{wShippingAddress: o.address, LineItems: []wOrderProduct{}}
		if inc.lineItems {
			for _, p := range o.products {
				ship.LineItems = append(ship.LineItems, *p)
			}
		}
		cs.Shipping = append(cs.Shipping, ship)
		w.Consignments = cs
	}
	return w
}

// withOrder runs f on the order named in the path, or answers 404.
func (s *Server) withOrder(w http.ResponseWriter, r *http.Request, f func(o *order)) {
	id, ok := pathID(r)
	s.mu.Lock()
	o := s.orders[id]
	if !ok || o == nil {
		s.mu.Unlock()
		writeV2Error(w, http.StatusNotFound, "The requested resource was not found.")
		return
	}
	f(o)
	s.mu.Unlock()
}

func (s *Server) getOrder(w http.ResponseWriter, r *http.Request) {
	var out wOrder
	found := false
	s.withOrder(w, r, func(o *order) { out, found = s.render(o, includes(r)), true })
	if found {
		writeJSON(w, out)
	}
}

// orderList answers a v2 sub-resource of one order (its products,
// addresses, shipments, coupons, fees) as a page of what list copies out
// of the order under the store's lock; 404 when there is no such order.
func orderList[T any](s *Server, list func(o *order) []T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var out []T
		found := false
		s.withOrder(w, r, func(o *order) { out, found = list(o), true })
		if found {
			v2Page(w, r, out)
		}
	}
}

// values copies the values behind ps, so a page never aliases the store.
func values[T any](ps []*T) []T {
	var out []T
	for _, p := range ps {
		out = append(out, *p)
	}
	return out
}

// ---- v3 orders: transactions and refunds ----

func (s *Server) orderTransactions(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	s.mu.Lock()
	o := s.orders[id]
	var out []wTransaction
	if o != nil {
		for _, t := range o.transactions {
			out = append(out, *t)
		}
	}
	s.mu.Unlock()
	switch {
	case !ok || o == nil:
		writeV3Error(w, http.StatusNotFound, "Order not found")
	case len(out) == 0:
		w.WriteHeader(http.StatusNoContent)
	default:
		v3Page(w, r, out)
	}
}

func (s *Server) listRefunds(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	orderIDs, err1 := intList(q.Get("order_id:in"))
	ids, err2 := intList(q.Get("id:in"))
	var minT, maxT time.Time
	var err3, err4 error
	if v := q.Get("created:min"); v != "" {
		minT, err3 = time.Parse(time.RFC3339Nano, v)
	}
	if v := q.Get("created:max"); v != "" {
		maxT, err4 = time.Parse(time.RFC3339Nano, v)
	}
	for _, err := range []error{err1, err2, err3, err4} {
		if err != nil {
			writeV3Error(w, http.StatusUnprocessableEntity, err.Error())
			return
		}
	}
	s.mu.Lock()
	var out []wRefund
	for _, rf := range s.refunds {
		c := time.Time(rf.Created)
		switch {
		case orderIDs != nil && !orderIDs[rf.OrderID],
			ids != nil && !ids[rf.ID],
			!minT.IsZero() && c.Before(minT),
			!maxT.IsZero() && c.After(maxT):
			continue
		}
		out = append(out, *rf)
	}
	s.mu.Unlock()
	v3Page(w, r, out)
}

func (s *Server) orderRefunds(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	s.mu.Lock()
	o := s.orders[id]
	out := []wRefund{}
	for _, rf := range s.refunds {
		if rf.OrderID == id {
			out = append(out, *rf)
		}
	}
	s.mu.Unlock()
	if !ok || o == nil {
		writeV3Error(w, http.StatusNotFound, "Order not found")
		return
	}
	writeJSON(w, wList{Data: out})
}

// ---- v3 customers ----

func (s *Server) listCustomers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ids, err := intList(q.Get("id:in"))
	if err != nil {
		writeV3Error(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	var minMod time.Time
	if v := q.Get("date_modified:min"); v != "" {
		if minMod, err = parseDate(v); err != nil {
			writeV3Error(w, http.StatusUnprocessableEntity, err.Error())
			return
		}
	}
	withAddr := false
	withCredit := false
	for _, v := range strings.Split(q.Get("include"), ",") {
		withAddr = withAddr || v == "addresses"
		withCredit = withCredit || v == "storecredit"
	}
	s.mu.Lock()
	var out []wCustomer
	for _, c := range s.customers {
		if (ids != nil && !ids[c.ID]) || (!minMod.IsZero() && time.Time(c.DateModified).Before(minMod)) {
			continue
		}
		cc := *c
		if !withAddr {
			cc.Addresses = nil
		}
		if !withCredit {
			cc.StoreCreditAmounts = nil
		}
		out = append(out, cc)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b wCustomer) int { return a.ID - b.ID })
	v3Page(w, r, out)
}

// customerPut is the writable part of a customer in PUT /v3/customers.
type customerPut struct {
	ID        *int    `json:"id"`
	Email     *string `json:"email"`
	FirstName *string `json:"first_name"`
	LastName  *string `json:"last_name"`
	Company   *string `json:"company"`
	Phone     *string `json:"phone"`
	Notes     *string `json:"notes"`
}

func (s *Server) putCustomers(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeV3Error(w, http.StatusBadRequest, err.Error())
		return
	}
	var in []customerPut
	if err := json.Unmarshal(body, &in); err != nil {
		writeV3Error(w, http.StatusUnprocessableEntity, "body is not an array of customers: "+err.Error())
		return
	}
	if len(in) > 10 {
		writeV3Error(w, http.StatusRequestEntityTooLarge, "The maximum number of items allowed in the array is 10.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range in {
		if c.ID == nil || s.customers[*c.ID] == nil {
			writeV3Error(w, http.StatusUnprocessableEntity, "customer id missing or unknown")
			return
		}
		if c.Email != nil && !strings.Contains(*c.Email, "@") {
			writeV3Error(w, http.StatusUnprocessableEntity, "email is not valid")
			return
		}
	}
	now := s.stamp()
	out := []wCustomer{}
	for _, c := range in {
		st := s.customers[*c.ID]
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&st.Email, c.Email)
		set(&st.FirstName, c.FirstName)
		set(&st.LastName, c.LastName)
		set(&st.Company, c.Company)
		set(&st.Phone, c.Phone)
		set(&st.Notes, c.Notes)
		st.DateModified = iso(now)
		cc := *st
		cc.Addresses, cc.StoreCreditAmounts = nil, nil
		out = append(out, cc)
	}
	writeJSON(w, wList{Data: out})
}

type addressPut struct {
	ID              *int    `json:"id"`
	FirstName       *string `json:"first_name"`
	LastName        *string `json:"last_name"`
	Company         *string `json:"company"`
	Address1        *string `json:"address1"`
	Address2        *string `json:"address2"`
	City            *string `json:"city"`
	StateOrProvince *string `json:"state_or_province"`
	PostalCode      *string `json:"postal_code"`
	CountryCode     *string `json:"country_code"`
	Phone           *string `json:"phone"`
}

func (s *Server) putAddresses(w http.ResponseWriter, r *http.Request) {
	var in []addressPut
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil {
		writeV3Error(w, http.StatusUnprocessableEntity, "body is not an array of addresses: "+err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	find := func(id int) (*wCustomer, *wCustomerAddress) {
		for _, c := range s.customers {
			for i := range c.Addresses {
				if c.Addresses[i].ID == id {
					return c, &c.Addresses[i]
				}
			}
		}
		return nil, nil
	}
	for _, a := range in {
		if a.ID == nil {
			writeV3Error(w, http.StatusUnprocessableEntity, "address id missing")
			return
		}
		if c, _ := find(*a.ID); c == nil {
			writeV3Error(w, http.StatusUnprocessableEntity, "address unknown")
			return
		}
	}
	now := s.stamp()
	out := []wCustomerAddress{}
	for _, a := range in {
		c, st := find(*a.ID)
		for _, f := range []struct {
			dst *string
			v   *string
		}{{&st.FirstName, a.FirstName}, {&st.LastName, a.LastName}, {&st.Company, a.Company}, {&st.Address1, a.Address1},
			{&st.Address2, a.Address2}, {&st.City, a.City}, {&st.StateOrProvince, a.StateOrProvince},
			{&st.PostalCode, a.PostalCode}, {&st.CountryCode, a.CountryCode}, {&st.Phone, a.Phone}} {
			if f.v != nil {
				*f.dst = *f.v
			}
		}
		c.DateModified = iso(now)
		out = append(out, *st)
	}
	writeJSON(w, wList{Data: out})
}

// ---- v3 catalog ----

func (s *Server) listProducts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ids, err := intList(q.Get("id:in"))
	if err != nil {
		writeV3Error(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	var minMod time.Time
	if v := q.Get("date_modified:min"); v != "" {
		if minMod, err = parseDate(v); err != nil {
			writeV3Error(w, http.StatusUnprocessableEntity, err.Error())
			return
		}
	}
	sku := q.Get("sku")
	withVariants := slices.Contains(strings.Split(q.Get("include"), ","), "variants")
	s.mu.Lock()
	var out []wProduct
	for _, p := range s.products {
		if (ids != nil && !ids[p.ID]) || (!minMod.IsZero() && time.Time(p.DateModified).Before(minMod)) || (sku != "" && p.SKU != sku) {
			continue
		}
		pp := *p
		if withVariants {
			pp.Variants = slices.Clone(p.Variants)
		} else {
			pp.Variants = nil
		}
		out = append(out, pp)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b wProduct) int { return a.ID - b.ID })
	v3Page(w, r, out)
}

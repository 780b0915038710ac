// Package velocitytest provides a fake Velocity server and a seeded dataset
// generator, for tests, benchmarks and `velqbo demo`. The server is a
// simplified, stateful, in-memory form of the Velocity API contract v1
// (docs/velocity-api.md) on loopback; it is not a mock and it is
// not Velocity.
package velocitytest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/velocity"
)

// DefaultToken is the API token a Server accepts unless WithToken says
// otherwise.
const DefaultToken = "velocitytest-token"

// Server is a fake Velocity API server on 127.0.0.1. Its store is in
// memory and guarded by a mutex, so tests may mutate it while a client
// reads.
type Server struct {
	// URL is the base URL, e.g. "http://127.0.0.1:53124"; pass it to
	// velocity.NewClient.
	URL string

	token string
	now   func() time.Time
	ln    net.Listener
	srv   *http.Server

	mu        sync.Mutex
	customers map[string]*velocity.Customer
	products  map[string]*velocity.Product
	orders    map[string]*storedOrder
	faults    []*Fault
	requests  []Request
	seq       int
}

// storedOrder is a valid order, or a raw (possibly invalid) JSON object
// served as is.
type storedOrder struct {
	order     *velocity.Order
	raw       json.RawMessage
	id        string
	updatedAt time.Time
}

// Request is a request the server received, for assertions.
type Request struct {
	Method   string
	Path     string
	RawQuery string
	Body     string
}

// Option configures a Server.
type Option func(*Server)

// WithToken sets the API token the server accepts.
func WithToken(token string) Option { return func(s *Server) { s.token = token } }

// WithNow sets the clock that stamps updated_at (default time.Now; pass
// a clock.Fake's Now, with a step, for deterministic tests).
func WithNow(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// NewServer starts a server on 127.0.0.1:0. Like httptest.NewServer it
// panics if it cannot listen; use Listen to choose the address and get an
// error instead.
func NewServer(opts ...Option) *Server {
	s, err := Listen("127.0.0.1:0", opts...)
	if err != nil {
		panic(fmt.Sprintf("velocitytest: %v", err))
	}
	return s
}

// Listen starts a server on addr (e.g. "127.0.0.1:8081").
func Listen(addr string, opts ...Option) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	s := &Server{
		token:     DefaultToken,
		now:       time.Now,
		ln:        ln,
		customers: map[string]*velocity.Customer{},
		products:  map[string]*velocity.Product{},
		orders:    map[string]*storedOrder{},
	}
	for _, opt := range opts {
		opt(s)
	}
	s.URL = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: s.handler(), ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln) //nolint:errcheck // returns ErrServerClosed on Close
	return s, nil
}

// NewTestServer starts a server and closes it when the test ends.
func NewTestServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := NewServer(opts...)
	tb.Cleanup(s.Close)
	return s
}

// Close stops the server; held (latency) requests are released.
func (s *Server) Close() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.srv.Shutdown(ctx) //nolint:errcheck
	s.srv.Close()       //nolint:errcheck
}

// Token returns the API token the server accepts.
func (s *Server) Token() string { return s.token }

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 16}}
}

// NewClient returns a velocity.Client pointed at the server with its
// token; opts come after the defaults and may override them.
func (s *Server) NewClient(opts ...velocity.Option) (*velocity.Client, error) {
	return velocity.NewClient(s.URL, s.token, append([]velocity.Option{velocity.WithHTTPClient(s.Client())}, opts...)...)
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	s.requests = nil
	s.mu.Unlock()
}

// ---- store mutations ----

// ErrNotFound is returned by mutations of an object the store lacks.
var ErrNotFound = errors.New("velocitytest: not found")

func (s *Server) nextID(prefix string) string {
	s.seq++
	return prefix + strconv.Itoa(s.seq)
}

// AddCustomer stores c (replacing one with the same id). A zero UpdatedAt
// is set from the server clock; a set one is kept, so generated datasets
// load deterministically.
func (s *Server) AddCustomer(c velocity.Customer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = s.now()
	}
	s.customers[c.ID] = &c
}

// AddProduct stores p; UpdatedAt as for AddCustomer.
func (s *Server) AddProduct(p velocity.Product) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = s.now()
	}
	s.products[p.ID] = &p
}

// AddOrder stores a copy of o. Zero CreatedAt and UpdatedAt are set from
// the server clock; set ones are kept.
func (s *Server) AddOrder(o *velocity.Order) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o = o.Clone()
	if o.CreatedAt.IsZero() {
		o.CreatedAt = s.now()
	}
	if o.UpdatedAt.IsZero() {
		o.UpdatedAt = s.now()
	}
	s.orders[o.ID] = &storedOrder{order: o, id: o.ID, updatedAt: o.UpdatedAt}
}

// AddRawOrder stores a raw JSON object served as is in order lists and by
// GET /v1/orders/{id}, to test invalid data. Its id and updated_at are read
// leniently for routing and ordering; the server clock stands in for an
// unreadable updated_at. It returns an error only when raw is not a JSON
// object.
func (s *Server) AddRawOrder(raw []byte) error {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return fmt.Errorf("velocitytest: raw order: %w", err)
	}
	var id, ua string
	json.Unmarshal(probe["id"], &id)         //nolint:errcheck // lenient on purpose
	json.Unmarshal(probe["updated_at"], &ua) //nolint:errcheck
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := time.Parse(time.RFC3339, ua)
	if err != nil {
		t = s.now()
	}
	if id == "" {
		id = s.nextID("raw-")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return fmt.Errorf("velocitytest: raw order: %w", err)
	}
	s.orders[id] = &storedOrder{raw: buf.Bytes(), id: id, updatedAt: t}
	return nil
}

// mutate applies f to a stored valid order and bumps its updated_at, as
// Velocity does when the order or anything embedded in it changes.
func (s *Server) mutate(id string, f func(o *velocity.Order, now time.Time)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	so, ok := s.orders[id]
	if !ok || so.order == nil {
		return fmt.Errorf("order %s: %w", id, ErrNotFound)
	}
	now := s.now()
	f(so.order, now)
	so.order.UpdatedAt = now
	so.updatedAt = now
	return nil
}

// UpdateOrder edits an order in place through f and bumps its updated_at.
// It returns ErrNotFound for an unknown (or raw) order.
func (s *Server) UpdateOrder(id string, f func(*velocity.Order)) error {
	return s.mutate(id, func(o *velocity.Order, _ time.Time) { f(o) })
}

// Approve sets approved_at (now) and moves a pending order to
// awaiting_fulfillment.
func (s *Server) Approve(id string) error {
	return s.mutate(id, func(o *velocity.Order, now time.Time) {
		o.ApprovedAt = &now
		if o.Status == "" || o.Status == velocity.StatusPending {
			o.Status = velocity.StatusAwaitingFulfillment
		}
	})
}

// AddShipment appends sh to the order. An empty ID and a zero CreatedAt
// are filled in; the order status follows the shipped quantities.
func (s *Server) AddShipment(orderID string, sh velocity.Shipment) error {
	return s.mutate(orderID, func(o *velocity.Order, now time.Time) {
		if sh.ID == "" {
			sh.ID = s.nextID("SH-")
		}
		if sh.CreatedAt.IsZero() {
			sh.CreatedAt = now
		}
		o.Shipments = append(o.Shipments, sh)
		o.Status = shipStatus(o)
	})
}

func shipStatus(o *velocity.Order) string {
	shipped := map[string]decimal.Decimal{}
	for _, sh := range o.Shipments {
		for _, it := range sh.Items {
			shipped[it.LineID] = shipped[it.LineID].Add(it.Quantity)
		}
	}
	for _, l := range o.Lines {
		if shipped[l.ID].LessThan(l.Quantity) {
			return velocity.StatusPartiallyShipped
		}
	}
	return velocity.StatusShipped
}

// AddRefund appends r to the order. An empty ID, a zero CreatedAt and a
// zero Total (set to the sum of the lines) are filled in; the status
// becomes partially_refunded or refunded.
func (s *Server) AddRefund(orderID string, r velocity.Refund) error {
	return s.mutate(orderID, func(o *velocity.Order, now time.Time) {
		if r.ID == "" {
			r.ID = s.nextID("RE-")
		}
		if r.CreatedAt.IsZero() {
			r.CreatedAt = now
		}
		if r.Total.IsZero() {
			for _, l := range r.Lines {
				r.Total = r.Total.Add(l.Amount)
			}
		}
		o.Refunds = append(o.Refunds, r)
		if o.RefundsTotal().GreaterThanOrEqual(o.Total) {
			o.Status = velocity.StatusRefunded
		} else {
			o.Status = velocity.StatusPartiallyRefunded
		}
	})
}

// AddPayment appends p to the order; an empty ID and a zero CreatedAt are
// filled in.
func (s *Server) AddPayment(orderID string, p velocity.Payment) error {
	return s.mutate(orderID, func(o *velocity.Order, now time.Time) {
		if p.ID == "" {
			p.ID = s.nextID("PA-")
		}
		if p.CreatedAt.IsZero() {
			p.CreatedAt = now
		}
		o.Payments = append(o.Payments, p)
	})
}

// Cancel sets cancelled_at (now) and the status cancelled.
func (s *Server) Cancel(orderID string) error {
	return s.mutate(orderID, func(o *velocity.Order, now time.Time) {
		o.CancelledAt = &now
		o.Status = velocity.StatusCancelled
	})
}

// SetReportAsInvoice sets the order's "Report as Invoice" flag.
func (s *Server) SetReportAsInvoice(orderID string, v bool) error {
	return s.mutate(orderID, func(o *velocity.Order, _ time.Time) { o.ReportAsInvoice = v })
}

// Order returns a copy of a stored valid order.
func (s *Server) Order(id string) (*velocity.Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	so, ok := s.orders[id]
	if !ok || so.order == nil {
		return nil, false
	}
	return so.order.Clone(), true
}

// Customer returns a copy of a stored customer.
func (s *Server) Customer(id string) (velocity.Customer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.customers[id]
	if !ok {
		return velocity.Customer{}, false
	}
	return *c, true
}

// Load adds a dataset's customers, products, orders and invalid objects.
func (s *Server) Load(ds *Dataset) error {
	for _, c := range ds.Customers {
		s.AddCustomer(c)
	}
	for _, p := range ds.Products {
		s.AddProduct(p)
	}
	for _, o := range ds.Orders {
		s.AddOrder(o)
	}
	for _, inv := range ds.Invalid {
		if inv.Kind != velocity.KindOrder {
			continue
		}
		if err := s.AddRawOrder(inv.JSON); err != nil {
			return err
		}
	}
	return nil
}

// ---- HTTP ----

func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/customers", s.listCustomers)
	mux.HandleFunc("GET /v1/customers/{id}", s.getCustomer)
	mux.HandleFunc("PATCH /v1/customers/{id}", s.patchCustomer)
	mux.HandleFunc("GET /v1/products", s.listProducts)
	mux.HandleFunc("GET /v1/orders", s.listOrders)
	mux.HandleFunc("GET /v1/orders/{id}", s.getOrder)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no route "+r.Method+" "+r.URL.Path)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if r.Body != nil {
			body, _ = readAllLimit(r, 1<<20)
			r.Body = http.NoBody
		}
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Body: string(body)})
		f := s.takeFault(r.URL.Path)
		s.mu.Unlock()
		r.Body = readCloser{bytes.NewReader(body)}
		if f != nil && s.applyFault(f, w, r, mux) {
			return
		}
		if !s.authorized(r) {
			writeError(w, http.StatusUnauthorized, "unauthorized", "invalid or missing api token")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	return ok && tok == s.token
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}}) //nolint:errcheck
}

func writeJSON(w http.ResponseWriter, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data) //nolint:errcheck
}

// listParams reads updated_since, cursor and limit, answering 400 when
// one is malformed.
type listParams struct {
	since  time.Time
	after  *cursorKey
	limit  int
	failed bool
}

type cursorKey struct {
	at time.Time
	id string
}

func (k cursorKey) less(at time.Time, id string) bool {
	if c := k.at.Compare(at); c != 0 {
		return c < 0
	}
	return k.id < id
}

// The cursor is opaque to clients; here it is the (updated_at, id) key of
// the last object served, so a page boundary survives concurrent edits.
func encodeCursor(k cursorKey) string {
	return base64.RawURLEncoding.EncodeToString([]byte(k.at.UTC().Format(time.RFC3339Nano) + "|" + k.id))
}

func decodeCursor(s string) (*cursorKey, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	ts, id, ok := strings.Cut(string(b), "|")
	if !ok {
		return nil, errors.New("malformed")
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return nil, err
	}
	return &cursorKey{at: t, id: id}, nil
}

func parseList(w http.ResponseWriter, r *http.Request) listParams {
	q := r.URL.Query()
	p := listParams{limit: velocity.DefaultPageLimit}
	if v := q.Get("updated_since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_parameter", "updated_since: not an RFC 3339 timestamp")
			p.failed = true
			return p
		}
		p.since = t
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > velocity.MaxPageLimit {
			writeError(w, http.StatusBadRequest, "invalid_parameter", "limit: must be 1..1000")
			p.failed = true
			return p
		}
		p.limit = n
	}
	if v := q.Get("cursor"); v != "" {
		k, err := decodeCursor(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_cursor", "cursor: not a cursor from this server")
			p.failed = true
			return p
		}
		p.after = k
	}
	return p
}

type listItem struct {
	at   time.Time
	id   string
	json func() (json.RawMessage, error)
}

func servePage(w http.ResponseWriter, p listParams, items []listItem) {
	slices.SortFunc(items, func(a, b listItem) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	items = slices.DeleteFunc(items, func(it listItem) bool {
		return (!p.since.IsZero() && it.at.Before(p.since)) || (p.after != nil && !p.after.less(it.at, it.id))
	})
	resp := struct {
		Data       []json.RawMessage `json:"data"`
		NextCursor string            `json:"next_cursor,omitempty"`
	}{Data: make([]json.RawMessage, 0, min(p.limit, len(items)))}
	if len(items) > p.limit {
		last := items[p.limit-1]
		resp.NextCursor = encodeCursor(cursorKey{at: last.at, id: last.id})
		items = items[:p.limit]
	}
	for _, it := range items {
		raw, err := it.json()
		if err != nil {
			writeError(w, http.StatusInternalServerError, "internal", err.Error())
			return
		}
		resp.Data = append(resp.Data, raw)
	}
	writeJSON(w, resp)
}

func marshalFunc(v any) func() (json.RawMessage, error) {
	return func() (json.RawMessage, error) { return json.Marshal(v) }
}

func (s *Server) listCustomers(w http.ResponseWriter, r *http.Request) {
	p := parseList(w, r)
	if p.failed {
		return
	}
	s.mu.Lock()
	items := make([]listItem, 0, len(s.customers))
	for _, c := range s.customers {
		items = append(items, listItem{at: c.UpdatedAt, id: c.ID, json: marshalFunc(*c)})
	}
	s.mu.Unlock()
	servePage(w, p, items)
}

func (s *Server) listProducts(w http.ResponseWriter, r *http.Request) {
	p := parseList(w, r)
	if p.failed {
		return
	}
	s.mu.Lock()
	items := make([]listItem, 0, len(s.products))
	for _, pr := range s.products {
		items = append(items, listItem{at: pr.UpdatedAt, id: pr.ID, json: marshalFunc(*pr)})
	}
	s.mu.Unlock()
	servePage(w, p, items)
}

func (so *storedOrder) marshal() (json.RawMessage, error) {
	if so.raw != nil {
		return so.raw, nil
	}
	return json.Marshal(so.order)
}

func (s *Server) listOrders(w http.ResponseWriter, r *http.Request) {
	p := parseList(w, r)
	if p.failed {
		return
	}
	s.mu.Lock()
	items := make([]listItem, 0, len(s.orders))
	for _, so := range s.orders {
		var snap storedOrder
		if so.raw != nil {
			snap = *so
		} else {
			snap = storedOrder{order: so.order.Clone()}
		}
		items = append(items, listItem{at: so.updatedAt, id: so.id, json: snap.marshal})
	}
	s.mu.Unlock()
	servePage(w, p, items)
}

func (s *Server) getOrder(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	so, ok := s.orders[id]
	var raw json.RawMessage
	var err error
	if ok {
		raw, err = so.marshal()
	}
	s.mu.Unlock()
	switch {
	case !ok:
		writeError(w, http.StatusNotFound, "not_found", "no order "+id)
	case err != nil:
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
	default:
		writeJSON(w, raw)
	}
}

func (s *Server) getCustomer(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	c, ok := s.Customer(id)
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no customer "+id)
		return
	}
	writeJSON(w, c)
}

// patchCustomer applies a subset of the writable profile fields. Any other
// field, or a value of the wrong JSON type, is a 400 and changes nothing.
func (s *Server) patchCustomer(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&fields); err != nil || fields == nil {
		writeError(w, http.StatusBadRequest, "invalid_body", "body must be a JSON object")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.customers[id]
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no customer "+id)
		return
	}
	upd := *c
	for k, v := range fields {
		var target any
		switch k {
		case "first_name":
			target = &upd.FirstName
		case "last_name":
			target = &upd.LastName
		case "company":
			target = &upd.Company
		case "email":
			target = &upd.Email
		case "phone":
			target = &upd.Phone
		case "billing_address":
			upd.BillingAddress = velocity.Address{}
			target = &upd.BillingAddress
		case "shipping_address":
			upd.ShippingAddress = velocity.Address{}
			target = &upd.ShippingAddress
		default:
			writeError(w, http.StatusBadRequest, "invalid_field", k+": not a writable profile field")
			return
		}
		if err := json.Unmarshal(v, target); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_field", k+": "+err.Error())
			return
		}
	}
	upd.UpdatedAt = s.now()
	*c = upd
	writeJSON(w, upd)
}

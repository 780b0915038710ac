// Package bctest provides a fake BigCommerce store API and a seeded store
// generator, for tests, benchmarks and the demo. The server is a
// stateful, in-memory form of the parts of BigCommerce's
// v2/v3 REST API that velqbo reads, in BigCommerce's wire formats: RFC-2822
// dates, money as 4-place decimal strings (v2) or numbers (v3), integer
// status_id, v2 paging by page/limit with 204 past the end, v3
// meta.pagination, X-Auth-Token, and the X-Rate-Limit-* headers with 429s
// on a 30-second window shared with simulated other apps. It is not a mock
// and it is not BigCommerce.
package bctest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/velqbo/velqbo/internal/clock"
)

// Defaults of a Server.
const (
	DefaultToken     = "bctest-token"
	DefaultStoreHash = "bctest01"
	// DefaultQuota is the Standard and Plus plans' quota per window.
	DefaultQuota  = 150
	DefaultWindow = 30 * time.Second
	// MaxLimit is the largest page BigCommerce serves.
	MaxLimit     = 250
	defaultLimit = 50
)

// Server is a fake BigCommerce API on 127.0.0.1. Its store is in memory
// and guarded by a mutex, so tests may mutate it while a client reads.
type Server struct {
	// URL is the API base URL, e.g. "http://127.0.0.1:53124"; the client
	// appends /stores/{hash}/v2|v3/....
	URL string
	// Hash is the store hash in the paths.
	Hash string

	token string
	clock clock.Clock
	ln    net.Listener
	srv   *http.Server

	mu        sync.Mutex
	orders    map[int]*order
	refunds   []*wRefund
	customers map[int]*wCustomer
	products  map[int]*wProduct
	seq       map[string]int

	// Rate limiting: one fixed window shared by every app on the store.
	quota       int // 0: unlimited (no headers, no 429)
	window      time.Duration
	windowEnd   time.Time
	used        int
	otherPerWin int // requests other apps spend at the start of each window
	faults      []fault
	requests    []Request
	limited     int
}

// order is one stored order with its sub-resources.
type order struct {
	w            wOrder
	rate         decimal.Decimal // tax rate of every taxed part
	taxPlaces    int32           // OrderSpec.TaxPlaces
	products     []*wOrderProduct
	address      wShippingAddress
	shipments    []*wShipment
	coupons      []*wCoupon
	transactions []*wTransaction
}

// Request is a request the server received, for assertions and counting.
type Request struct {
	Method   string
	Path     string // without /stores/{hash}
	RawQuery string
	Status   int
}

// Option configures a Server.
type Option func(*Server)

// WithToken sets the X-Auth-Token the server accepts.
func WithToken(token string) Option { return func(s *Server) { s.token = token } }

// WithStoreHash sets the store hash.
func WithStoreHash(h string) Option { return func(s *Server) { s.Hash = h } }

// WithClock sets the clock that stamps changes and runs the rate-limit
// window (default the real clock; pass a *clock.Fake in tests).
func WithClock(c clock.Clock) Option { return func(s *Server) { s.clock = c } }

// WithQuota sets the requests per window (default 150 per 30 s); quota 0
// disables rate limiting and its headers.
func WithQuota(quota int, window time.Duration) Option {
	return func(s *Server) { s.quota, s.window = quota, window }
}

// NewServer starts a server on 127.0.0.1:0; it panics if it cannot
// listen, like httptest.NewServer.
func NewServer(opts ...Option) *Server {
	s, err := Listen("127.0.0.1:0", opts...)
	if err != nil {
		panic(fmt.Sprintf("bctest: %v", err))
	}
	return s
}

// NewTestServer starts a server and closes it when the test ends.
func NewTestServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := NewServer(opts...)
	tb.Cleanup(s.Close)
	return s
}

// Listen starts a server on addr (e.g. "127.0.0.1:8082").
func Listen(addr string, opts ...Option) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	s := &Server{
		Hash:      DefaultStoreHash,
		token:     DefaultToken,
		clock:     clock.Real{},
		ln:        ln,
		orders:    map[int]*order{},
		customers: map[int]*wCustomer{},
		products:  map[int]*wProduct{},
		seq:       map[string]int{},
		quota:     DefaultQuota,
		window:    DefaultWindow,
	}
	for _, opt := range opts {
		opt(s)
	}
	s.URL = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: s.handler(), ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln) //nolint:errcheck // returns ErrServerClosed on Close
	return s, nil
}

// Close stops the server.
func (s *Server) Close() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.srv.Shutdown(ctx) //nolint:errcheck
	s.srv.Close()       //nolint:errcheck
}

// Token returns the token the server accepts.
func (s *Server) Token() string { return s.token }

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
}

// Requests returns the requests received so far, 429s included.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// RequestCount returns how many requests were received (429s included),
// the figure the quota counts.
func (s *Server) RequestCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// RateLimited returns how many requests were answered 429 for the quota.
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limited
}

// ResetRequests forgets the recorded requests and 429 count.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests, s.limited = nil, 0
}

// SetOtherApps makes other apps on the store spend n requests at the
// start of every window, before velqbo's first; they share the quota as
// on a real store.
func (s *Server) SetOtherApps(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.otherPerWin = n
}

// SpendQuota spends n requests of the current window as another app
// would.
func (s *Server) SpendQuota(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rollWindow(s.clock.Now())
	s.used += n
}

// rollWindow starts a new window when the current one is over. Caller
// holds s.mu.
func (s *Server) rollWindow(now time.Time) {
	if s.quota <= 0 || now.Before(s.windowEnd) {
		return
	}
	s.windowEnd = now.Add(s.window)
	s.used = min(s.otherPerWin, s.quota)
}

// FaultKind is a kind of injected failure.
type FaultKind int

// Fault kinds.
const (
	// FaultStatus answers Status (e.g. 500, 502, 503) with a v2 error body.
	FaultStatus FaultKind = iota + 1
	// FaultRateLimitNoHeaders answers 429 without rate-limit headers, as
	// BigCommerce does when the platform itself is under load.
	FaultRateLimitNoHeaders
	// FaultDrop closes the connection without an answer.
	FaultDrop
)

type fault struct {
	kind   FaultKind
	path   string
	status int
	count  int
}

// InjectFault makes the next count requests whose path (without
// /stores/{hash}) starts with path fail with kind.
func (s *Server) InjectFault(kind FaultKind, path string, status, count int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fault{kind: kind, path: path, status: status, count: max(count, 1)})
}

// ErrNotFound is returned by mutations of something the store lacks.
var ErrNotFound = errors.New("bctest: not found")

func (s *Server) next(kind string, start int) int {
	if s.seq[kind] < start {
		s.seq[kind] = start
	}
	s.seq[kind]++
	return s.seq[kind]
}

// stamp returns the server time truncated to the second, as BigCommerce's
// dates are. Caller holds s.mu.
func (s *Server) stamp() time.Time {
	return s.clock.Now().UTC().Truncate(time.Second)
}

// Package qbotest is a stateful fake QuickBooks Online server for tests and
// the velqbo demo, shaped like net/http/httptest. It speaks QBO's v3 JSON wire
// format and reproduces QBO's behaviour and failures (SyncToken conflicts,
// requestid replay, pacing limits, token rotation); it is not a QBO emulator
// for production use and holds everything in memory.
package qbotest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Server is a fake QBO: API, OAuth endpoints and inspection helpers.
// All methods are safe for concurrent use.
type Server struct {
	// URL is the base URL of the server, e.g. http://127.0.0.1:43121.
	URL string

	cfg  config
	ts   *httptest.Server
	done chan struct{}
	once sync.Once

	mu          sync.Mutex
	st          *store
	calls       []*Call
	tidSeq      int
	injections  []*injection
	writeFaults []*writeFault
	replays     map[string]storedResponse
	late        []*lateWrite // CommitLate writes not committed yet
	inflight    int
	window      []time.Time // API request times in the last minute
	batchWin    []time.Time // batch request times in the last minute
	grants      map[string]*grant
	refresh     map[string]*refreshToken
	access      map[string]*accessToken
	codes       map[string]*authCode

	// ignoreBatchVoid: IgnoreBatchVoidOption.
	ignoreBatchVoid atomic.Bool
}

type storedResponse struct {
	status int
	body   []byte
}

// NewServer starts a fake QBO on 127.0.0.1:0. It needs no testing.TB, so a
// normal binary (velqbo demo) can run it. Call Close when done.
func NewServer(opts ...Option) *Server {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{
		cfg:     cfg,
		done:    make(chan struct{}),
		st:      newStore(),
		replays: map[string]storedResponse{},
		grants:  map[string]*grant{},
		refresh: map[string]*refreshToken{},
		access:  map[string]*accessToken{},
		codes:   map[string]*authCode{},
	}
	s.seedCompany()
	s.ts = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.ts.URL
	return s
}

// NewTestServer is NewServer with Close registered on tb.Cleanup.
func NewTestServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := NewServer(opts...)
	tb.Cleanup(s.Close)
	return s
}

// Close releases held requests and shuts the server down.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.done)
		s.ts.Close()
	})
}

// Client returns an *http.Client configured for the server.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Realm returns the realm id the server serves.
func (s *Server) Realm() string { return s.cfg.realm }

// APIURL returns the base of the accounting API, e.g. URL + "/v3/company/<realm>"
// is where entity paths go; APIURL itself ends before "/v3".
func (s *Server) APIURL() string { return s.URL }

// CompanyURL returns URL + "/v3/company/<realm>".
func (s *Server) CompanyURL() string { return s.URL + "/v3/company/" + s.cfg.realm }

// TokenURL returns the OAuth token endpoint.
func (s *Server) TokenURL() string { return s.URL + s.cfg.tokenPath }

// AuthURL returns the OAuth authorize endpoint.
func (s *Server) AuthURL() string { return s.URL + "/connect/oauth2" }

// RevokeURL returns the OAuth revoke endpoint.
func (s *Server) RevokeURL() string { return s.URL + "/v2/oauth2/tokens/revoke" }

func (s *Server) now() time.Time { return s.cfg.clock.Now() }

// Call is one request the server received, as Requests reports it.
type Call struct {
	Time         time.Time
	Method       string
	Path         string
	Query        url.Values
	Body         []byte
	RequestID    string
	MinorVersion string
	// Entity is the canonical entity name ("Invoice"), empty for non-entity calls.
	Entity string
	// Operation is one of create, read, update, void, delete, query, batch,
	// cdc, token, authorize, revoke, other.
	Operation string
	// ID is the entity id from the path or body, when there is one.
	ID        string
	Sparse    bool
	Status    int
	IntuitTID string
	// Replayed is set when a requestid replay answered without executing.
	Replayed bool
	// Lost is set when an injection dropped the response after committing.
	Lost bool
	// Injected is set when an Injection matched this call.
	Injected bool
	// CommittedAt is when a CommitLate write committed (server clock);
	// zero until then, and for every other call.
	CommittedAt time.Time
}

// Injection is a fault hook, checked before the default handler (in the
// style of controller-runtime's interceptor). For API calls it runs after
// authentication and pacing, so a held request counts as in flight.
type Injection struct {
	// Match selects calls; nil matches every call. It runs with the
	// server's lock held, so it must not call Server methods.
	Match func(*Call) bool
	// Times is how many matching calls it applies to; 0 means all of them.
	Times int
	// Latency delays the call through the server's clock (WithClock). A
	// client that gives up meanwhile gets a 503 and nothing is executed,
	// unless CommitLate is set.
	Latency time.Duration
	// CommitLate makes a write commit at the END of its Latency whether or
	// not its client is still waiting, as a request QBO received keeps
	// being processed after the client timed out or died: the answer
	// reaches a client that waited, and is lost otherwise. On a
	// clock.Fake the write is due once the clock has passed arrival +
	// Latency, and commits when the server next serves an API request or
	// LandDue is called (a client that waits for it waits until then); on
	// a real clock, also when its time comes. A
	// write with the requestid of an earlier committed one is a replay
	// when it commits (QBO's contract); one that commits first takes the
	// requestid. Only writes (not queries or reads) are delayed this way.
	CommitLate bool
	// Hold, when non-nil, blocks the call until the channel is closed, the
	// client goes away, or the server closes.
	Hold <-chan struct{}
	// Throttle answers 429 ThrottleExceeded without executing.
	Throttle bool
	// Status, when non-zero, answers with this status without executing.
	// Body is sent as is; when nil a SystemFault body is generated.
	Status int
	Body   []byte
	// LoseResponse executes (and commits) the call, then closes the
	// connection without a response: the client sees a network error.
	LoseResponse bool
}

type injection struct {
	Injection
	left int // remaining uses; -1 unlimited
}

// Inject adds a fault hook. Hooks are tried in the order added; the first
// match with uses left applies.
func (s *Server) Inject(inj Injection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	left := inj.Times
	if left <= 0 {
		left = -1
	}
	s.injections = append(s.injections, &injection{Injection: inj, left: left})
}

// ClearInjections removes every fault hook.
func (s *Server) ClearInjections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.injections = nil
	s.writeFaults = nil
}

// Requests returns a copy of every call received so far, in arrival order.
func (s *Server) Requests() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		out[i] = *c
		out[i].Query = cloneValues(c.Query)
		out[i].Body = bytes.Clone(c.Body)
	}
	return out
}

// Stats counts calls by outcome.
type Stats struct {
	Requests     int // every call, OAuth included
	Creates      int // successful creates (not replays)
	Updates      int
	Voids        int
	Deletes      int
	Queries      int
	Batches      int
	Replays      int
	Throttled    int // 429 answers
	Unauthorized int // 401 answers
	Lost         int
}

// Stats returns counters over Requests.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	var st Stats
	for _, c := range s.calls {
		st.Requests++
		switch {
		case c.Replayed:
			st.Replays++
		case c.Status == http.StatusTooManyRequests:
			st.Throttled++
		case c.Status == http.StatusUnauthorized:
			st.Unauthorized++
		case c.Status == http.StatusOK:
			switch c.Operation {
			case "create":
				st.Creates++
			case "update":
				st.Updates++
			case "void":
				st.Voids++
			case "delete":
				st.Deletes++
			case "query":
				st.Queries++
			case "batch":
				st.Batches++
			}
		}
		if c.Lost {
			st.Lost++
		}
	}
	return st
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// response buffers a handler's answer so it can be stored for replay or lost.
type response struct {
	status int
	header http.Header
	body   []byte
	// deferred: a CommitLate write whose client left before it committed;
	// the commit records the call's status.
	deferred bool
}

func (r *response) json(status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"qbotest: encode response"}`)
	}
	r.status = status
	r.header.Set("Content-Type", "application/json;charset=UTF-8")
	r.body = b
}

func (s *Server) stamp(m map[string]any) map[string]any {
	m["time"] = s.now().Format("2006-01-02T15:04:05.000-07:00")
	return m
}

func (s *Server) faultResponse(resp *response, f *fault) {
	resp.json(f.status, s.stamp(map[string]any{"Fault": f.object()}))
}

func newTID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func randToken(prefix string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	c := s.beginCall(r, body)
	resp := &response{header: http.Header{}}
	lost := s.dispatch(r.Context(), resp, r, c, body)

	s.mu.Lock()
	if !resp.deferred {
		c.Status = resp.status
		c.Lost = lost
	}
	s.mu.Unlock()

	if lost {
		// The write is committed; drop the connection so the client sees a
		// network error instead of an answer, as when a response is lost.
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	for k, vs := range resp.header {
		w.Header()[k] = vs
	}
	w.Header()["intuit_tid"] = []string{c.IntuitTID}
	if resp.status == 0 {
		resp.status = http.StatusOK
	}
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

func (s *Server) beginCall(r *http.Request, body []byte) *Call {
	q := r.URL.Query()
	c := &Call{
		Method:       r.Method,
		Path:         r.URL.Path,
		Query:        q,
		Body:         body,
		RequestID:    q.Get("requestid"),
		MinorVersion: q.Get("minorversion"),
		Operation:    "other",
	}
	classify(c, s.cfg.tokenPath, body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tidSeq++
	c.Time = s.now()
	c.IntuitTID = fmt.Sprintf("1-%08x-%s", s.tidSeq, newTID())
	s.calls = append(s.calls, c)
	return c
}

// classify fills Entity, Operation, ID and Sparse from the request.
func classify(c *Call, tokenPath string, body []byte) {
	switch c.Path {
	case tokenPath:
		c.Operation = "token"
		return
	case "/connect/oauth2":
		c.Operation = "authorize"
		return
	case "/v2/oauth2/tokens/revoke":
		c.Operation = "revoke"
		return
	}
	rest, ok := strings.CutPrefix(c.Path, "/v3/company/")
	if !ok {
		return
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 2 {
		return
	}
	seg := strings.ToLower(parts[1])
	switch seg {
	case "query":
		c.Operation = "query"
		return
	case "batch":
		c.Operation = "batch"
		return
	case "cdc":
		c.Operation = "cdc"
		return
	case "companyinfo":
		c.Entity, c.Operation = "CompanyInfo", "read"
		return
	case "preferences":
		c.Entity, c.Operation = "Preferences", "read"
		return
	}
	ent, ok := pathEntities[seg]
	if !ok {
		return
	}
	c.Entity = ent
	if c.Method == http.MethodGet {
		c.Operation = "read"
		if len(parts) > 2 {
			c.ID = parts[2]
		}
		return
	}
	var head struct {
		ID     json.RawMessage `json:"Id"`
		Sparse bool            `json:"sparse"`
	}
	_ = json.Unmarshal(body, &head)
	if len(head.ID) > 0 {
		var id string
		if json.Unmarshal(head.ID, &id) != nil {
			id = string(head.ID)
		}
		c.ID = id
	}
	c.Sparse = head.Sparse
	c.Operation = writeOperation(c.Query.Get("operation"), c.Query.Get("include"), c.ID != "")
}

func writeOperation(operation, include string, hasID bool) string {
	switch {
	case strings.EqualFold(operation, "delete"):
		return "delete"
	case strings.EqualFold(operation, "void"), hasInclude(include, "void"):
		return "void"
	case hasID:
		return "update"
	default:
		return "create"
	}
}

func hasInclude(include, what string) bool {
	for p := range strings.SplitSeq(include, ",") {
		if strings.EqualFold(strings.TrimSpace(p), what) {
			return true
		}
	}
	return false
}

// takeInjection returns the first matching hook with uses left and consumes one use.
func (s *Server) takeInjection(c *Call) *Injection {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, inj := range s.injections {
		if inj.left == 0 {
			continue
		}
		if inj.Match != nil && !inj.Match(c) {
			continue
		}
		if inj.left > 0 {
			inj.left--
		}
		c.Injected = true
		cp := inj.Injection
		return &cp
	}
	return nil
}

// applyInjection waits as the hook says and reports whether it answered the call.
func (s *Server) applyInjection(ctx context.Context, inj *Injection, resp *response) bool {
	if inj == nil {
		return false
	}
	if inj.Latency > 0 {
		if err := s.cfg.clock.Sleep(ctx, inj.Latency); err != nil {
			s.faultResponse(resp, faultSystem(http.StatusServiceUnavailable))
			return true
		}
	}
	if inj.Hold != nil {
		select {
		case <-inj.Hold:
		case <-ctx.Done():
			s.faultResponse(resp, faultSystem(http.StatusServiceUnavailable))
			return true
		case <-s.done:
			s.faultResponse(resp, faultSystem(http.StatusServiceUnavailable))
			return true
		}
	}
	switch {
	case inj.Throttle:
		s.faultResponse(resp, faultThrottle())
		return true
	case inj.Status != 0:
		if inj.Body != nil {
			resp.status = inj.Status
			resp.body = bytes.Clone(inj.Body)
			resp.header.Set("Content-Type", http.DetectContentType(inj.Body))
			if json.Valid(inj.Body) {
				resp.header.Set("Content-Type", "application/json;charset=UTF-8")
			}
			return true
		}
		s.faultResponse(resp, faultSystem(inj.Status))
		return true
	}
	return false
}

// dispatch routes one request and reports whether its response must be lost.
func (s *Server) dispatch(ctx context.Context, resp *response, r *http.Request, c *Call, body []byte) bool {
	switch {
	case c.Operation == "token" || c.Operation == "authorize" || c.Operation == "revoke":
		inj := s.takeInjection(c)
		if s.applyInjection(ctx, inj, resp) {
			return false
		}
		switch c.Operation {
		case "token":
			s.handleToken(resp, r, body)
		case "authorize":
			s.handleAuthorize(resp, r, body)
		default:
			s.handleRevoke(resp, r, body)
		}
		return inj != nil && inj.LoseResponse
	case strings.HasPrefix(c.Path, "/v3/company/"):
		return s.serveAPI(ctx, resp, r, c, body)
	default:
		resp.status = http.StatusNotFound
		resp.header.Set("Content-Type", "text/plain; charset=utf-8")
		resp.body = []byte("404 page not found\n")
		return false
	}
}

func (s *Server) serveAPI(ctx context.Context, resp *response, r *http.Request, c *Call, body []byte) bool {
	if f := s.authenticate(r); f != nil {
		s.faultResponse(resp, f)
		return false
	}
	rest := strings.TrimPrefix(c.Path, "/v3/company/")
	realm, _, _ := strings.Cut(rest, "/")
	if realm != s.cfg.realm {
		s.faultResponse(resp, faultAuthorization())
		return false
	}
	// Whatever was due by now is in the books before this request is
	// served, so a lookup sees every late write that has landed.
	s.LandDue()
	release, ok := s.admit(c.Operation == "batch")
	if !ok {
		s.faultResponse(resp, faultThrottle())
		return false
	}
	defer release()

	inj := s.takeInjection(c)
	if inj != nil && inj.CommitLate && isWriteCall(r, c) {
		return s.commitLate(ctx, resp, r, c, body, inj)
	}
	if s.applyInjection(ctx, inj, resp) {
		return false
	}
	lose := inj != nil && inj.LoseResponse

	s.mu.Lock()
	defer s.mu.Unlock()
	s.execute(resp, r, c, body)
	return lose
}

func isWriteCall(r *http.Request, c *Call) bool {
	return r.Method == http.MethodPost && c.Operation != "query" && c.Operation != "other"
}

// execute runs an API call with s.mu held, answering a repeated write
// requestid from the replay store.
func (s *Server) execute(resp *response, r *http.Request, c *Call, body []byte) {
	isWrite := isWriteCall(r, c)
	if isWrite && c.RequestID != "" {
		// QBO's documented requestid contract: a repeated id is not executed
		// again; the first answer is returned as it was.
		if sr, ok := s.replays[c.RequestID]; ok {
			c.Replayed = true
			resp.status = sr.status
			resp.body = bytes.Clone(sr.body)
			resp.header.Set("Content-Type", "application/json;charset=UTF-8")
			return
		}
	}
	s.handleAPI(resp, r, c, body)
	if isWrite && c.RequestID != "" {
		s.replays[c.RequestID] = storedResponse{status: resp.status, body: bytes.Clone(resp.body)}
	}
}

// ForgetRequestIDs drops every stored requestid answer, as real QBO does
// after a window nobody has documented: a write sent again afterwards is
// executed again. Tests of a lost or restored ledger call it so that only
// the client's own checks stand between a resend and a duplicate.
func (s *Server) ForgetRequestIDs() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.replays)
}

// admit applies the pacing limits with the injected clock.
func (s *Server) admit(batch bool) (release func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	cut := now.Add(-time.Minute)
	s.window = prune(s.window, cut)
	s.batchWin = prune(s.batchWin, cut)
	l := s.cfg.limits
	if l.Concurrent > 0 && s.inflight >= l.Concurrent {
		return nil, false
	}
	if l.RequestsPerMinute > 0 && len(s.window) >= l.RequestsPerMinute {
		return nil, false
	}
	if batch && l.BatchPerMinute > 0 && len(s.batchWin) >= l.BatchPerMinute {
		return nil, false
	}
	s.window = append(s.window, now)
	if batch {
		s.batchWin = append(s.batchWin, now)
	}
	s.inflight++
	return func() {
		s.mu.Lock()
		s.inflight--
		s.mu.Unlock()
	}, true
}

func prune(ts []time.Time, cut time.Time) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].After(cut) {
		i++
	}
	return ts[i:]
}

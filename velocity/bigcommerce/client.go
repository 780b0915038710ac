package bigcommerce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/velqbo/velqbo/internal/clock"
	"github.com/velqbo/velqbo/internal/retry"
	"github.com/velqbo/velqbo/velocity"
)

// Defaults and bounds of the client.
const (
	// DefaultAPIURL is BigCommerce's API gateway; /stores/{hash}/v2|v3/...
	// is appended.
	DefaultAPIURL = "https://api.bigcommerce.com"
	// MaxPageLimit is the largest page BigCommerce serves (v2 and v3).
	MaxPageLimit = 250
	// DefaultQuotaShare is the share of the store's rate-limit quota the
	// client spends at most: the quota is shared by every app installed
	// on the store, and velqbo is rarely the one that must come first.
	DefaultQuotaShare = 0.5
	// DefaultOverlap is re-read before the since time of an incremental
	// read. BigCommerce's dates have whole seconds and its min_date_*
	// filters are inclusive, so a second would do; a minute also covers
	// a modification committed while the previous read was under way.
	DefaultOverlap = time.Minute
	// DefaultMaxAttempts counts every attempt of a request, the first
	// included.
	DefaultMaxAttempts = 6
	DefaultUserAgent   = "velqbo (+https://github.com/velqbo/velqbo)"

	defaultMinBackoff = 500 * time.Millisecond
	defaultMaxBackoff = 30 * time.Second
	// maxRetryAfter caps how long a header can park a run; BigCommerce's
	// window is 30 s.
	maxRetryAfter = 2 * time.Minute
	maxBodyBytes  = 64 << 20
)

// Client reads a BigCommerce store through its REST API (v2 orders, v3
// refunds, transactions, customers and catalog) and maps what it reads
// onto the velocity domain types, so that reconcile treats a BigCommerce
// store like the Velocity API. It paces itself on the store's rate-limit
// headers. It is safe for concurrent use.
type Client struct {
	base      *url.URL // .../stores/{hash}
	token     string
	hc        *http.Client
	clock     clock.Clock
	retry     retry.Policy
	limit     int
	overlap   time.Duration
	userAgent string
	pace      *pacer
	cfg       Config
	// loadCfg, when set, reads cfg on first use (cfgMu guards both).
	loadCfg  func(context.Context) (Config, error)
	cfgMu    sync.Mutex
	requests atomic.Int64
}

// Option configures a Client.
type Option func(*Client) error

// WithHTTPClient sets the HTTP client (default: a 60 s timeout).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("nil http client")
		}
		c.hc = hc
		return nil
	}
}

// WithClock sets the clock of every wait: pacing, Retry-After, backoff
// (default clock.Real).
func WithClock(clk clock.Clock) Option {
	return func(c *Client) error {
		if clk == nil {
			return errors.New("nil clock")
		}
		c.clock = clk
		return nil
	}
}

// WithMaxAttempts sets how many attempts a request gets in all, the first
// included (default DefaultMaxAttempts; 1 disables retries).
func WithMaxAttempts(n int) Option {
	return func(c *Client) error {
		if n < 1 {
			return fmt.Errorf("max attempts %d < 1", n)
		}
		c.retry.MaxAttempts = n
		return nil
	}
}

// WithBackoff sets the first and largest backoff between retries of
// errors that say nothing about when to come back (default 500 ms, 30 s).
func WithBackoff(min, max time.Duration) Option {
	return func(c *Client) error {
		if min <= 0 || max < min {
			return fmt.Errorf("backoff %v..%v is not a range", min, max)
		}
		c.retry.Base, c.retry.Max = min, max
		return nil
	}
}

// WithPageLimit sets the page size of list requests (1..250, default 250:
// the fewer pages, the fewer requests against the quota).
func WithPageLimit(n int) Option {
	return func(c *Client) error {
		if n < 1 || n > MaxPageLimit {
			return fmt.Errorf("page limit %d not in 1..%d", n, MaxPageLimit)
		}
		c.limit = n
		return nil
	}
}

// WithQuotaShare sets the share of the store's quota per window the
// client may spend, in (0, 1] (default DefaultQuotaShare).
func WithQuotaShare(share float64) Option {
	return func(c *Client) error {
		if !(share > 0 && share <= 1) {
			return fmt.Errorf("quota share %v not in (0, 1]", share)
		}
		c.pace.share = share
		return nil
	}
}

// WithOverlap sets how long before since an incremental read starts
// (default DefaultOverlap; 0 reads from since exactly).
func WithOverlap(d time.Duration) Option {
	return func(c *Client) error {
		if d < 0 {
			return fmt.Errorf("overlap %v < 0", d)
		}
		c.overlap = d
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		c.userAgent = ua
		return nil
	}
}

// WithConfig sets the store's reporting rules (reportable statuses, terms
// payment methods) the orders are read and mapped with (default
// DefaultConfig).
func WithConfig(cfg Config) Option {
	return func(c *Client) error {
		if cfg.Statuses == nil || cfg.Terms == nil {
			return errors.New("config without statuses or terms; start from DefaultConfig")
		}
		c.cfg = cfg
		return nil
	}
}

// WithConfigLoader makes the client read its Config through load on
// first use (the first Orders or GetOrder call), instead of taking it at
// construction: velqbo keeps the rules among its settings, in the ledger,
// which a command may not have open yet when it builds its source. A
// load error is returned by that call, and the next call loads again.
func WithConfigLoader(load func(context.Context) (Config, error)) Option {
	return func(c *Client) error {
		if load == nil {
			return errors.New("nil config loader")
		}
		c.loadCfg = load
		return nil
	}
}

// config returns the client's Config, loading it first if a loader is
// set and has not succeeded yet.
func (c *Client) config(ctx context.Context) (Config, error) {
	c.cfgMu.Lock()
	defer c.cfgMu.Unlock()
	if c.loadCfg != nil {
		cfg, err := c.loadCfg(ctx)
		if err != nil {
			return Config{}, fmt.Errorf("bigcommerce: settings: %w", err)
		}
		if cfg.Statuses == nil || cfg.Terms == nil {
			return Config{}, errors.New("bigcommerce: settings: config without statuses or terms")
		}
		c.cfg, c.loadCfg = cfg, nil
	}
	return c.cfg, nil
}

// NewClient returns a client of the store storeHash at apiURL (normally
// DefaultAPIURL; /stores/{hash}/v2|v3/... is appended) authenticating with
// the store-level API account's access token. It returns an error when
// apiURL is not an absolute http(s) URL, the hash or token is empty or
// not a path segment, or an option is invalid.
func NewClient(apiURL, storeHash, token string, opts ...Option) (*Client, error) {
	u, err := url.Parse(apiURL)
	if err != nil {
		return nil, fmt.Errorf("bigcommerce: api url: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("bigcommerce: api url %q: want an absolute http(s) url", apiURL)
	}
	if storeHash == "" || strings.ContainsAny(storeHash, "/?#% ") {
		return nil, fmt.Errorf("bigcommerce: store hash %q: want the hash of the store's API path", storeHash)
	}
	if token == "" {
		return nil, errors.New("bigcommerce: empty access token")
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/stores/" + storeHash
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	c := &Client{
		base:      u,
		token:     token,
		hc:        &http.Client{Timeout: 60 * time.Second},
		clock:     clock.Real{},
		retry:     retry.Policy{MaxAttempts: DefaultMaxAttempts, Base: defaultMinBackoff, Max: defaultMaxBackoff},
		limit:     MaxPageLimit,
		overlap:   DefaultOverlap,
		userAgent: DefaultUserAgent,
		pace:      &pacer{share: DefaultQuotaShare},
		cfg:       DefaultConfig(),
	}
	for _, opt := range opts {
		if err := opt(c); err != nil {
			return nil, fmt.Errorf("bigcommerce: %w", err)
		}
	}
	c.pace.clock = c.clock
	return c, nil
}

// Requests returns how many HTTP requests the client has sent, retries
// included: what the store's quota counts.
func (c *Client) Requests() int64 { return c.requests.Load() }

// do sends one API request (path below /stores/{hash}, e.g.
// "/v2/orders"), pacing it under the quota share and retrying per
// shouldRetry, and returns the status and body of the 2xx answer (204
// has an empty body). body is replayed unchanged on every attempt.
//
// Errors: *velocity.APIError for a non-2xx answer after the retries
// (errors.Is velocity.ErrNotFound for 404, velocity.ErrUnauthorized for
// 401), *velocity.BodyError for an unreadable body, a network error, or
// the context's error.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body []byte) (int, []byte, error) {
	u := *c.base
	u.Path = c.base.Path + path
	u.RawQuery = query.Encode()
	target := u.String()
	var status int
	var data []byte
	attempts, err := c.retry.Do(ctx, c.clock, func(int) error {
		if err := c.pace.wait(ctx); err != nil {
			return retry.Permanent(err)
		}
		var after time.Duration
		var err error
		status, data, after, err = c.once(ctx, method, target, body)
		if err == nil {
			return nil
		}
		if !shouldRetry(err) {
			return retry.Permanent(err)
		}
		// The rate-limit reset (or Retry-After) is a floor under the
		// backoff: asking sooner only earns another 429.
		return retry.After(err, after)
	})
	var ie *retry.InterruptedError
	switch {
	case err == nil:
		return status, data, nil
	case errors.As(err, &ie):
		return 0, nil, fmt.Errorf("bigcommerce: %s %s: %w", method, target, err)
	case attempts > 1:
		return 0, nil, fmt.Errorf("%w (after %d attempts)", err, attempts)
	}
	return 0, nil, err
}

// shouldRetry decides whether a failed attempt is worth another.
//
// Every request this client sends is safe to repeat: GETs read, and the
// only writes (PUT of a customer's profile fields or an address) set
// fields to given values, so replaying one after a lost response leaves
// the same state. That is why network errors and 5xx are retried for
// PUT too. 429 means the request was not processed. 401 (wrong token)
// and the other 4xx (our bug or bad input) do not heal.
func shouldRetry(err error) bool {
	var ae *velocity.APIError
	if errors.As(err, &ae) {
		return ae.Status == http.StatusTooManyRequests || ae.Status >= 500
	}
	var be *velocity.BodyError
	if errors.As(err, &be) {
		return be.Status >= 500 || be.Truncated
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// once sends one attempt and returns the answer's status and body, and,
// for a 429 or 5xx, how long the server asked us to wait.
func (c *Client) once(ctx context.Context, method, target string, body []byte) (status int, data []byte, after time.Duration, err error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return 0, nil, 0, fmt.Errorf("bigcommerce: %s %s: %w", method, target, err)
	}
	req.Header.Set("X-Auth-Token", c.token)
	req.Header.Set("Accept", "application/json")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.requests.Add(1)
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, 0, fmt.Errorf("bigcommerce: %w", err)
	}
	now := c.clock.Now()
	reset, limited := c.pace.observe(resp.Header, now)
	data, err = io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	resp.Body.Close()
	if err != nil {
		return 0, nil, 0, fmt.Errorf("bigcommerce: %s %s: status %d: reading body: %w", method, target, resp.StatusCode, err)
	}
	if len(data) > maxBodyBytes {
		return 0, nil, 0, &velocity.BodyError{Method: method, URL: target, Status: resp.StatusCode, Err: fmt.Errorf("body larger than %d bytes", maxBodyBytes)}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, data, 0, nil
	}
	ae := &velocity.APIError{Status: resp.StatusCode, Method: method, URL: target, Message: errorMessage(resp, data)}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests && limited:
		// Our quota (or the other apps') is spent: the window's reset says
		// when the next request will be taken.
		after = reset
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		// A 429 without the quota headers means the platform is under load:
		// X-Retry-After or Retry-After if given, else the growing backoff.
		if d, ok := retry.ParseRetryAfter(resp.Header.Get("X-Retry-After"), now, maxRetryAfter); ok {
			after = d
		} else if d, ok := retry.ParseRetryAfter(resp.Header.Get("Retry-After"), now, maxRetryAfter); ok {
			after = d
		}
	}
	return 0, nil, min(after, maxRetryAfter), ae
}

// errorMessage extracts BigCommerce's error text: v2 answers
// [{"status", "message"}], v3 {"status", "title", "errors"}.
func errorMessage(resp *http.Response, data []byte) string {
	var v2 []struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &v2) == nil && len(v2) > 0 && v2[0].Message != "" {
		return v2[0].Message
	}
	var v3 struct {
		Title  string         `json:"title"`
		Errors map[string]any `json:"errors"`
	}
	if json.Unmarshal(data, &v3) == nil && v3.Title != "" {
		if len(v3.Errors) > 0 {
			b, _ := json.Marshal(v3.Errors)
			return v3.Title + ": " + snippet(b)
		}
		return v3.Title
	}
	if len(data) == 0 {
		return ""
	}
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		ct = "non-JSON"
	}
	return fmt.Sprintf("unexpected %s body: %q", ct, snippet(data))
}

func snippet(data []byte) string {
	const n = 200
	if len(data) > n {
		return string(data[:n]) + "…"
	}
	return string(data)
}

// bodyError reports a 2xx body that is not the document expected (an
// HTML page from a proxy, say). It is not retried: the server answered,
// and a body cut off in transit already failed as a read error, which is.
func bodyError(method, path string, status int, data []byte, err error) error {
	return &velocity.BodyError{Method: method, URL: path, Status: status, Snippet: snippet(data), Err: err}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

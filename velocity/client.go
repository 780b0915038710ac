package velocity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/velqbo/velqbo/internal/clock"
	"github.com/velqbo/velqbo/internal/retry"
)

// Source is what a run reads from Velocity, over HTTP (*Client) or from an
// export file (*FileSource). Each iterator yields either an object, an
// *ObjectError for one invalid object (iteration goes on), or a fatal
// error (iteration ends). since is inclusive; the zero time means all.
type Source interface {
	Customers(ctx context.Context, since time.Time) iter.Seq2[*Customer, error]
	Products(ctx context.Context, since time.Time) iter.Seq2[*Product, error]
	Orders(ctx context.Context, since time.Time) iter.Seq2[*Order, error]
}

var (
	_ Source = (*Client)(nil)
	_ Source = (*FileSource)(nil)
)

// Defaults and bounds of the client.
const (
	DefaultPageLimit = 200
	MaxPageLimit     = 1000
	// DefaultMaxAttempts counts every attempt of a request, the first
	// included (one try and five retries).
	DefaultMaxAttempts = 6
	DefaultUserAgent   = "velqbo (+https://github.com/velqbo/velqbo)"

	defaultMinBackoff = 500 * time.Millisecond
	defaultMaxBackoff = 30 * time.Second
	// maxRetryAfter caps how long a Retry-After header can park a run.
	maxRetryAfter = 10 * time.Minute
	// maxBodyBytes bounds a response body; a 1000-order page is a few MB.
	maxBodyBytes = 256 << 20
)

// Client is a client of the Velocity HTTP API (contract v1). It is safe
// for concurrent use.
type Client struct {
	base      *url.URL
	token     string
	hc        *http.Client
	clock     clock.Clock
	retry     retry.Policy
	limit     int
	userAgent string
}

// Option configures a Client.
type Option func(*Client) error

// WithHTTPClient sets the HTTP client (default: a client with a 60 s
// timeout).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("nil http client")
		}
		c.hc = hc
		return nil
	}
}

// WithClock sets the clock used for Retry-After and backoff sleeps
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

// WithPageLimit sets the page size of list requests (1..1000, default 200).
func WithPageLimit(n int) Option {
	return func(c *Client) error {
		if n < 1 || n > MaxPageLimit {
			return fmt.Errorf("page limit %d not in 1..%d", n, MaxPageLimit)
		}
		c.limit = n
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

// WithBackoff sets the first and the largest backoff delay between retries
// of errors that carry no Retry-After (default 500 ms and 30 s).
func WithBackoff(min, max time.Duration) Option {
	return func(c *Client) error {
		if min <= 0 || max < min {
			return fmt.Errorf("backoff %v..%v is not a range", min, max)
		}
		c.retry.Base, c.retry.Max = min, max
		return nil
	}
}

// NewClient returns a client of the Velocity API at baseURL (for example
// "https://store.example.com/api"; paths such as /v1/orders are appended)
// authenticating with the bearer token. It returns an error when baseURL
// is not an absolute http(s) URL, the token is empty, or an option is
// invalid.
func NewClient(baseURL, token string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("velocity: base url: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("velocity: base url %q: want an absolute http(s) url", baseURL)
	}
	if token == "" {
		return nil, errors.New("velocity: empty api token")
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	c := &Client{
		base:      u,
		token:     token,
		hc:        &http.Client{Timeout: 60 * time.Second},
		clock:     clock.Real{},
		retry:     retry.Policy{MaxAttempts: DefaultMaxAttempts, Base: defaultMinBackoff, Max: defaultMaxBackoff},
		limit:     DefaultPageLimit,
		userAgent: DefaultUserAgent,
	}
	for _, opt := range opts {
		if err := opt(c); err != nil {
			return nil, fmt.Errorf("velocity: %w", err)
		}
	}
	return c, nil
}

// errorBody is the contract's error shape.
type errorBody struct {
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// do sends one API request, retrying per shouldRetry through the client's
// retry.Policy, and decodes a 2xx JSON body into out. body is replayed
// unchanged on every attempt.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body []byte, out any) error {
	// path arrives escaped (ids go through url.PathEscape), so an id with
	// a '/' stays one path segment.
	u := *c.base
	u.RawPath = c.base.EscapedPath() + path
	p, err := url.PathUnescape(u.RawPath)
	if err != nil {
		return fmt.Errorf("velocity: path %q: %w", path, err)
	}
	u.Path = p
	u.RawQuery = query.Encode()
	target := u.String()

	attempts, err := c.retry.Do(ctx, c.clock, func(int) error {
		after, err := c.once(ctx, method, target, body, out)
		if err == nil {
			return nil
		}
		if ok, _ := shouldRetry(err); !ok {
			return retry.Permanent(err)
		}
		// The server's Retry-After is a floor under the backoff.
		return retry.After(err, after)
	})
	var ie *retry.InterruptedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ie):
		return fmt.Errorf("velocity: %s %s: %w", method, target, err)
	case attempts > 1:
		return fmt.Errorf("%w (after %d attempts)", err, attempts)
	}
	return err
}

// shouldRetry decides whether a failed attempt is worth trying again, and
// why; the policy then caps the attempts and a done ctx stops them.
//
// Every request this client sends is safe to repeat: GETs read, and the
// only write (PATCH of a customer profile) sets fields to given values, so
// replaying it after a lost response leaves the same state. That is why
// network errors and 5xx are retried for PATCH too. 429 and 503 mean the
// request was not processed. 401 is a wrong token and will not heal; other
// 4xx are our bug or bad input and will not heal either. A 2xx whose body
// is not the expected JSON (HTML from a proxy, say) is not retried: the
// server answered, and asking again would most likely get the same bytes;
// a 2xx whose JSON is cut short is retried, as a broken transfer.
func shouldRetry(err error) (bool, string) {
	var ae *APIError
	if errors.As(err, &ae) {
		switch {
		case ae.Status == http.StatusTooManyRequests:
			return true, "rate limited"
		case ae.Status >= 500:
			return true, "server error"
		}
		return false, "client error"
	}
	var be *BodyError
	if errors.As(err, &be) {
		// A cut-off body is a broken transfer, not the server's answer, and
		// every request here is a GET or an idempotent PATCH: ask again.
		return be.Status >= 500 || be.Truncated, "unreadable body"
	}
	return true, "network error"
}

// once sends one attempt. retryAfter is the server's Retry-After, if any.
func (c *Client) once(ctx context.Context, method, target string, body []byte, out any) (retryAfter time.Duration, err error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return 0, fmt.Errorf("velocity: %s %s: %w", method, target, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// *url.Error already names the method and URL.
		return 0, fmt.Errorf("velocity: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	resp.Body.Close()
	if err != nil {
		// The connection broke mid-body: a network error, retried.
		return 0, fmt.Errorf("velocity: %s %s: status %d: reading body: %w", method, target, resp.StatusCode, err)
	}
	if len(data) > maxBodyBytes {
		return 0, &BodyError{Method: method, URL: target, Status: resp.StatusCode, Err: fmt.Errorf("body larger than %d bytes", maxBodyBytes)}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil {
			return 0, nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return 0, &BodyError{Method: method, URL: target, Status: resp.StatusCode, Snippet: snippet(data), Truncated: truncatedJSON(err, data), Err: describeJSONError(err, data)}
		}
		return 0, nil
	}
	ae := &APIError{Status: resp.StatusCode, Method: method, URL: target}
	var eb errorBody
	if json.Unmarshal(data, &eb) == nil && eb.Error != nil {
		ae.Code, ae.Message = eb.Error.Code, eb.Error.Message
	} else if len(data) > 0 {
		ae.Message = fmt.Sprintf("unexpected %s body: %q", contentType(resp), snippet(data))
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		retryAfter, _ = retry.ParseRetryAfter(resp.Header.Get("Retry-After"), c.clock.Now(), maxRetryAfter)
	}
	return retryAfter, ae
}

func contentType(resp *http.Response) string {
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		return ct
	}
	return "non-JSON"
}

// truncatedJSON reports whether err says the JSON ended early.
func truncatedJSON(err error, data []byte) bool {
	var se *json.SyntaxError
	return errors.Is(err, io.ErrUnexpectedEOF) || (errors.As(err, &se) && se.Offset >= int64(len(data)))
}

func describeJSONError(err error, data []byte) error {
	if truncatedJSON(err, data) {
		return fmt.Errorf("truncated JSON (%d bytes): %w", len(data), err)
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

func snippet(data []byte) string {
	const n = 200
	if len(data) > n {
		return string(data[:n]) + "…"
	}
	return string(data)
}

// page is one list response.
type page struct {
	Data       *[]json.RawMessage `json:"data"`
	NextCursor string             `json:"next_cursor"`
}

// Customers yields the customers updated at or after since (all when since
// is zero), in (updated_at, id) order, one page in memory at a time. An
// invalid customer yields an *ObjectError and the iteration goes on; any
// other error (network after retries, *APIError, ErrUnauthorized, ctx) is
// yielded once and ends it.
func (c *Client) Customers(ctx context.Context, since time.Time) iter.Seq2[*Customer, error] {
	return list(ctx, c, "/v1/customers", since, decodeCustomer)
}

// Products yields the products updated at or after since; see Customers.
func (c *Client) Products(ctx context.Context, since time.Time) iter.Seq2[*Product, error] {
	return list(ctx, c, "/v1/products", since, decodeProduct)
}

// Orders yields the orders (with shipments, refunds and payments) updated
// at or after since; see Customers. Each element of a page is decoded on
// its own, so one invalid order is reported by id while the rest of its
// page still arrives.
func (c *Client) Orders(ctx context.Context, since time.Time) iter.Seq2[*Order, error] {
	return list(ctx, c, "/v1/orders", since, decodeOrder)
}

func list[T any](ctx context.Context, c *Client, path string, since time.Time, decode func([]byte, int) (*T, error)) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		cursor := ""
		for {
			q := url.Values{}
			q.Set("limit", strconv.Itoa(c.limit))
			if !since.IsZero() {
				q.Set("updated_since", since.Format(time.RFC3339Nano))
			}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			var p page
			if err := c.do(ctx, http.MethodGet, path, q, nil, &p); err != nil {
				yield(nil, fmt.Errorf("list %s: %w", path, err))
				return
			}
			if p.Data == nil {
				yield(nil, fmt.Errorf("list %s: page without \"data\"", path))
				return
			}
			for _, raw := range *p.Data {
				obj, err := decode(raw, 0)
				if !yield(obj, err) {
					return
				}
			}
			if p.NextCursor == "" {
				return
			}
			if p.NextCursor == cursor {
				// A server bug would otherwise loop forever.
				yield(nil, fmt.Errorf("list %s: server returned the same cursor twice", path))
				return
			}
			cursor = p.NextCursor
		}
	}
}

// GetOrder returns one order. It returns an error matching ErrNotFound when
// there is no such order, an *ObjectError when the order is invalid, and
// an *APIError or network error otherwise.
func (c *Client) GetOrder(ctx context.Context, id string) (*Order, error) {
	var raw json.RawMessage
	if err := c.do(ctx, http.MethodGet, "/v1/orders/"+url.PathEscape(id), nil, nil, &raw); err != nil {
		return nil, fmt.Errorf("get order %s: %w", id, err)
	}
	return decodeOrder(raw, 0)
}

// GetCustomer returns one customer. Errors are as for GetOrder.
func (c *Client) GetCustomer(ctx context.Context, id string) (*Customer, error) {
	var raw json.RawMessage
	if err := c.do(ctx, http.MethodGet, "/v1/customers/"+url.PathEscape(id), nil, nil, &raw); err != nil {
		return nil, fmt.Errorf("get customer %s: %w", id, err)
	}
	return decodeCustomer(raw, 0)
}

// CustomerPatch holds the writable profile fields of a customer. Nil
// fields are left unchanged; a non-nil empty string clears a field. An
// address, when set, replaces the whole address.
type CustomerPatch struct {
	FirstName       *string  `json:"first_name,omitempty"`
	LastName        *string  `json:"last_name,omitempty"`
	Company         *string  `json:"company,omitempty"`
	Email           *string  `json:"email,omitempty"`
	Phone           *string  `json:"phone,omitempty"`
	BillingAddress  *Address `json:"billing_address,omitempty"`
	ShippingAddress *Address `json:"shipping_address,omitempty"`
}

// PatchCustomer updates the given profile fields of a customer and returns
// the customer as Velocity now holds it. Errors are as for GetOrder; a
// rejected patch is an *APIError with status 400 or 422.
func (c *Client) PatchCustomer(ctx context.Context, id string, patch CustomerPatch) (*Customer, error) {
	body, err := json.Marshal(patch)
	if err != nil {
		return nil, fmt.Errorf("patch customer %s: %w", id, err)
	}
	var raw json.RawMessage
	if err := c.do(ctx, http.MethodPatch, "/v1/customers/"+url.PathEscape(id), nil, body, &raw); err != nil {
		return nil, fmt.Errorf("patch customer %s: %w", id, err)
	}
	return decodeCustomer(raw, 0)
}

package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/sandbox"
	"github.com/velqbo/velqbo/cmd/velqbo/internal/web"
	"github.com/velqbo/velqbo/internal/clock"
	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity/velocitytest"
)

// consoleHarness is the console on the sandbox fakes: a Main configured
// for them (as MustRunMain's environment), the real adapter and an
// httptest server. The embedded CLI harness runs commands on the same
// ledger (h.MustRun(exitOK, "", "customers", "list")).
type consoleHarness struct {
	*harness
	main     *Main
	store    *schema.Store
	qbo      *qbotest.Server
	velocity *velocitytest.Server
	data     *velocitytest.Dataset
	seed     qbotest.Seeded
	// clock is the console's and the ledger's time (sessions, throttling,
	// audit); advance it to expire a session.
	clock *clock.Fake
	web   *web.Server
	srv   *httptest.Server
}

type consoleOptions struct {
	orders    int
	connected bool
	prepared  bool
	unlinked  []string
	env       map[string]string
}

// consoleOption changes what newConsole sets up.
type consoleOption func(*consoleOptions)

// withOrders generates a store of n orders (default 12; 0: an empty store).
func withOrders(n int) consoleOption { return func(o *consoleOptions) { o.orders = n } }

// notConnected leaves the ledger without a QBO company (default: connected
// with `velqbo connect`, no settings, nothing linked).
func notConnected() consoleOption { return func(o *consoleOptions) { o.connected = false } }

// prepared maps the settings and links every customer and product but the
// Velocity ids in unlinked, as the sandbox does before the demo's first run.
func prepared(unlinked ...string) consoleOption {
	return func(o *consoleOptions) { o.prepared, o.unlinked = true, unlinked }
}

// withEnv sets an environment variable of the console's Main (and of the
// CLI harness), e.g. VELQBO_CONSOLE_SECURE_COOKIES.
func withEnv(k, v string) consoleOption {
	return func(o *consoleOptions) {
		if o.env == nil {
			o.env = map[string]string{}
		}
		o.env[k] = v
	}
}

// consolePassword is every harness user's password.
const consolePassword = "correct horse battery staple"

// newConsole starts the console on fresh fakes.
func newConsole(t *testing.T, opts ...consoleOption) *consoleHarness {
	t.Helper()
	o := consoleOptions{orders: 12, connected: true}
	for _, f := range opts {
		f(&o)
	}
	ch := &consoleHarness{harness: MustRunMain(t, o.orders)}
	ch.qbo, ch.velocity, ch.data, ch.seed = ch.QBO, ch.Vel, ch.Data, ch.Seed
	for k, v := range o.env {
		ch.Env[k] = v
	}
	if o.connected {
		ch.Connect()
	}
	ch.clock = clock.NewFake(time.Now())
	m := &Main{
		Stdin:      strings.NewReader(""),
		Stdout:     io.Discard,
		Stderr:     io.Discard,
		Getenv:     envFunc(ch.Env),
		Now:        ch.clock.Now,
		IsTerminal: func() bool { return false },
	}
	if err := m.loadConfig(globalFlags{}, map[string]bool{}); err != nil {
		t.Fatal(err)
	}
	m.Log = m.newLogger()
	ch.main = m
	st, err := m.createStore(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ch.store = st
	if o.prepared {
		if !o.connected {
			t.Fatal("newConsole: prepared needs a connected ledger")
		}
		sb := &sandbox.Sandbox{QBO: ch.qbo, Seed: ch.seed, Vel: ch.velocity, Data: ch.data}
		unlinked := map[string]bool{}
		for _, id := range o.unlinked {
			unlinked[id] = true
		}
		if err := sb.Prepare(t.Context(), st, unlinked); err != nil {
			t.Fatal(err)
		}
	}
	ch.web, err = m.newConsole(st)
	if err != nil {
		t.Fatal(err)
	}
	ch.srv = httptest.NewServer(ch.web.Handler())
	t.Cleanup(ch.srv.Close)
	return ch
}

// addUser creates the console user name with role (admin or viewer) and
// consolePassword, unless it exists.
func (h *consoleHarness) addUser(t *testing.T, name, role string) {
	t.Helper()
	if _, err := h.store.ConsoleUser(t.Context(), name); err == nil {
		return
	}
	hash, err := web.HashPassword(consolePassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.AddConsoleUser(t.Context(), schema.ConsoleUser{Name: name, Role: role, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
}

// anonymous is a browser that is not logged in.
func (h *consoleHarness) anonymous(t *testing.T) *consoleClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &consoleClient{h: h, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// login returns a browser logged in as a user named after role ("admin"
// or "viewer"), created on first use, with the session's CSRF token.
func (h *consoleHarness) login(t *testing.T, role string) *consoleClient {
	t.Helper()
	h.addUser(t, role, role)
	c := h.anonymous(t)
	r := c.postForm(t, "/login", url.Values{"name": {role}, "password": {consolePassword}}, "same-origin", false)
	if r.Code != http.StatusSeeOther {
		t.Fatalf("login as %s: status %d; want 303\n%s", role, r.Code, r.Body)
	}
	home := c.get(t, "/")
	m := csrfRE.FindStringSubmatch(home.Body)
	if m == nil {
		t.Fatalf("login as %s: no CSRF token on /:\n%s", role, home.Body)
	}
	c.csrf = m[1]
	return c
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// consoleClient is one browser: a cookie jar that does not follow
// redirects, so tests see each 302/303.
type consoleClient struct {
	h    *consoleHarness
	c    *http.Client
	csrf string
}

// consoleResponse is a response, its body read.
type consoleResponse struct {
	Code   int
	Header http.Header
	Body   string
}

// Location is the redirect's target.
func (r *consoleResponse) Location() string { return r.Header.Get("Location") }

// wantCode fails the test unless the response has status code.
func (r *consoleResponse) wantCode(t *testing.T, code int) *consoleResponse {
	t.Helper()
	if r.Code != code {
		t.Fatalf("status %d; want %d\n%s", r.Code, code, r.Body)
	}
	return r
}

func (c *consoleClient) do(t *testing.T, req *http.Request) *consoleResponse {
	t.Helper()
	resp, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &consoleResponse{Code: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// get requests path as a browser following a link on the console would.
func (c *consoleClient) get(t *testing.T, path string) *consoleResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, c.h.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return c.do(t, req)
}

// post submits form to path from a console page, with the CSRF token.
func (c *consoleClient) post(t *testing.T, path string, form url.Values) *consoleResponse {
	t.Helper()
	return c.postForm(t, path, form, "same-origin", true)
}

// postCrossSite submits form to path from another site (the browser says
// Sec-Fetch-Site: cross-site), with a valid token: it must be refused.
func (c *consoleClient) postCrossSite(t *testing.T, path string, form url.Values) *consoleResponse {
	t.Helper()
	return c.postForm(t, path, form, "cross-site", true)
}

// postNoToken submits form to path from a console page without the CSRF
// token, as a browser that sends no Sec-Fetch-Site or Origin would let a
// forged form through: it must be refused.
func (c *consoleClient) postNoToken(t *testing.T, path string, form url.Values) *consoleResponse {
	t.Helper()
	return c.postForm(t, path, form, "", false)
}

func (c *consoleClient) postForm(t *testing.T, path string, form url.Values, site string, token bool) *consoleResponse {
	t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	if token {
		f.Set(web.CSRFField, c.csrf)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, c.h.srv.URL+path, strings.NewReader(f.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	switch site {
	case "same-origin":
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Origin", c.h.srv.URL)
	case "cross-site":
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.example")
	}
	return c.do(t, req)
}

// checkProtected checks what every console route must do: a logged-out
// browser is sent to the login page (GET) or refused (POST); for a POST, a
// viewer is refused (when adminOnly), and so are a cross-site request and
// one without the CSRF token. None of the refused posts may change
// anything: the caller checks the ledger afterwards.
func (h *consoleHarness) checkProtected(t *testing.T, method, path string, form url.Values, adminOnly bool) {
	t.Helper()
	anon := h.anonymous(t)
	switch method {
	case http.MethodGet:
		r := anon.get(t, path)
		if r.Code != http.StatusFound || !strings.HasPrefix(r.Location(), "/login") {
			t.Errorf("GET %s logged out: status %d to %q; want 302 to /login", path, r.Code, r.Location())
		}
		return
	case http.MethodPost:
	default:
		t.Fatalf("checkProtected: method %s", method)
	}
	if r := anon.post(t, path, form); r.Code != http.StatusUnauthorized {
		t.Errorf("POST %s logged out: status %d; want 401", path, r.Code)
	}
	if adminOnly {
		if r := h.login(t, "viewer").post(t, path, form); r.Code != http.StatusForbidden {
			t.Errorf("POST %s as viewer: status %d; want 403", path, r.Code)
		}
	}
	admin := h.login(t, "admin")
	if r := admin.postCrossSite(t, path, form); r.Code != http.StatusForbidden {
		t.Errorf("POST %s cross-site: status %d; want 403", path, r.Code)
	}
	if r := admin.postNoToken(t, path, form); r.Code != http.StatusForbidden {
		t.Errorf("POST %s without CSRF token: status %d; want 403", path, r.Code)
	}
}

package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestConsoleLogin(t *testing.T) {
	t.Parallel()
	h := newConsole(t, withOrders(0), notConnected())
	h.addUser(t, "alice", "admin")
	tests := []struct {
		name, user, password string
		wantCode             int
		wantLocation         string
		wantBody             string
	}{
		{name: "right password", user: "alice", password: consolePassword, wantCode: http.StatusSeeOther, wantLocation: "/"},
		{name: "wrong password", user: "alice", password: "not the password", wantCode: http.StatusUnauthorized, wantBody: "Wrong name or password."},
		{name: "no such user", user: "mallory", password: consolePassword, wantCode: http.StatusUnauthorized, wantBody: "Wrong name or password."},
		{name: "empty", wantCode: http.StatusUnauthorized, wantBody: "Wrong name or password."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := h.anonymous(t)
			r := c.postForm(t, "/login", url.Values{"name": {tt.user}, "password": {tt.password}}, "same-origin", false)
			if r.Code != tt.wantCode {
				t.Fatalf("got status %d; want %d\n%s", r.Code, tt.wantCode, r.Body)
			}
			if got := r.Location(); got != tt.wantLocation {
				t.Errorf("got Location %q; want %q", got, tt.wantLocation)
			}
			if !strings.Contains(r.Body, tt.wantBody) {
				t.Errorf("got body without %q:\n%s", tt.wantBody, r.Body)
			}
			if tt.wantCode != http.StatusSeeOther {
				return
			}
			var session *http.Cookie
			for _, ck := range r.Header.Values("Set-Cookie") {
				if strings.HasPrefix(ck, "velqbo_session=") {
					session = &http.Cookie{Raw: ck}
					for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
						if !strings.Contains(ck, want) {
							t.Errorf("got session cookie %q; want it %s", ck, want)
						}
					}
				}
			}
			if session == nil {
				t.Fatalf("got no session cookie: %v", r.Header)
			}
			home := c.get(t, "/").wantCode(t, http.StatusOK)
			if !strings.Contains(home.Body, "alice") {
				t.Errorf("got a home page without the user's name:\n%s", home.Body)
			}
		})
	}
}

func TestConsoleLoginNext(t *testing.T) {
	t.Parallel()
	h := newConsole(t, withOrders(0), notConnected())
	h.addUser(t, "alice", "admin")
	tests := []struct{ next, want string }{
		{"/customers?q=a", "/customers?q=a"},
		{"//evil.example/x", "/"},
		{"https://evil.example/", "/"},
		{`/\evil.example`, "/"},
		// Browsers drop tabs and newlines from a Location: "/\t/x"
		// would be read as "//x", another site.
		{"/\t/evil.example", "/"},
		{"/\r\n/evil.example", "/"},
		{"/%09/evil.example", "/%09/evil.example"}, // escaped: a path here
		{"", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.next, func(t *testing.T) {
			r := h.anonymous(t).postForm(t, "/login", url.Values{"name": {"alice"}, "password": {consolePassword}, "next": {tt.next}}, "same-origin", false)
			if got := r.Location(); got != tt.want {
				t.Errorf("got Location %q; want %q", got, tt.want)
			}
		})
	}
}

func TestConsoleAuthRequired(t *testing.T) {
	t.Parallel()
	h := newConsole(t, withOrders(0), notConnected())
	r := h.anonymous(t).get(t, "/customers?q=x").wantCode(t, http.StatusFound)
	if got, want := r.Location(), "/login?next="+url.QueryEscape("/customers?q=x"); got != want {
		t.Errorf("got Location %q; want %q", got, want)
	}
	h.checkProtected(t, http.MethodGet, "/", nil, false)
	h.checkProtected(t, http.MethodPost, "/logout", nil, false)
	// The login page and the stylesheet are open.
	h.anonymous(t).get(t, "/login").wantCode(t, http.StatusOK)
	h.anonymous(t).get(t, "/static/console.css").wantCode(t, http.StatusOK)
}

func TestConsoleLogout(t *testing.T) {
	t.Parallel()
	h := newConsole(t, withOrders(0), notConnected())
	c := h.login(t, "admin")
	r := c.post(t, "/logout", nil).wantCode(t, http.StatusSeeOther)
	if got := r.Location(); got != "/login" {
		t.Errorf("got Location %q; want /login", got)
	}
	if r := c.get(t, "/"); r.Code != http.StatusFound {
		t.Errorf("GET / after logout: status %d; want 302", r.Code)
	}
	n, err := h.store.CountConsoleSessions(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("got %d sessions after logout; want 0", n)
	}
}

func TestConsoleSecurityHeaders(t *testing.T) {
	t.Parallel()
	h := newConsole(t, withOrders(0), notConnected())
	for _, path := range []string{"/login", "/", "/static/console.css"} {
		t.Run(path, func(t *testing.T) {
			r := h.login(t, "viewer").get(t, path)
			for k, want := range map[string]string{
				"X-Frame-Options":        "DENY",
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "same-origin",
			} {
				if got := r.Header.Get(k); got != want {
					t.Errorf("got %s %q; want %q", k, got, want)
				}
			}
			csp := r.Header.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("got Content-Security-Policy %q; want it to contain %q", csp, want)
				}
			}
		})
	}
}

func TestConsoleEscapesUserName(t *testing.T) {
	t.Parallel()
	h := newConsole(t, withOrders(0), notConnected())
	h.addUser(t, `<script>alert(1)</script>`, "admin")
	c := h.anonymous(t)
	c.postForm(t, "/login", url.Values{"name": {`<script>alert(1)</script>`}, "password": {consolePassword}}, "same-origin", false).wantCode(t, http.StatusSeeOther)
	r := c.get(t, "/").wantCode(t, http.StatusOK)
	if strings.Contains(r.Body, "<script>alert(1)") {
		t.Errorf("got the user's name unescaped:\n%s", r.Body)
	}
	if !strings.Contains(r.Body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("got no escaped user name:\n%s", r.Body)
	}
}

func TestConsoleSessionExpiry(t *testing.T) {
	t.Parallel()
	t.Run("idle", func(t *testing.T) {
		h := newConsole(t, withOrders(0), notConnected())
		c := h.login(t, "admin")
		// Use within the idle timeout keeps the session alive.
		for i := range 3 {
			h.clock.Advance(29 * time.Minute)
			if r := c.get(t, "/"); r.Code != http.StatusOK {
				t.Fatalf("GET / after %d × 29 min of use: status %d; want 200", i+1, r.Code)
			}
		}
		h.clock.Advance(31 * time.Minute)
		if r := c.get(t, "/"); r.Code != http.StatusFound {
			t.Errorf("GET / after 31 min idle: status %d; want 302 to the login", r.Code)
		}
		if n, err := h.store.CountConsoleSessions(t.Context(), ""); err != nil || n != 0 {
			t.Errorf("got %d sessions (%v) after the idle timeout; want the session deleted", n, err)
		}
	})
	t.Run("absolute", func(t *testing.T) {
		h := newConsole(t, withOrders(0), notConnected())
		c := h.login(t, "admin")
		var used time.Duration
		for used < 24*time.Hour {
			h.clock.Advance(25 * time.Minute)
			used += 25 * time.Minute
			if r := c.get(t, "/"); r.Code != http.StatusOK {
				break
			}
		}
		if used <= 12*time.Hour || used > 12*time.Hour+25*time.Minute {
			t.Errorf("a session in constant use ended after %v; want just after 12h", used)
		}
	})
}

func TestConsoleLoginThrottle(t *testing.T) {
	t.Parallel()
	h := newConsole(t, withOrders(0), notConnected())
	h.addUser(t, "alice", "admin")
	try := func(name, password string) *consoleResponse {
		t.Helper()
		return h.anonymous(t).postForm(t, "/login", url.Values{"name": {name}, "password": {password}}, "same-origin", false)
	}
	for _, name := range []string{"alice", "mallory"} {
		t.Run(name, func(t *testing.T) {
			h.clock.Advance(time.Hour) // earlier failures are out of the window
			for i := range 5 {
				if r := try(name, "wrong password!"); r.Code != http.StatusUnauthorized {
					t.Fatalf("failure %d: status %d; want 401", i+1, r.Code)
				}
			}
			// The sixth attempt waits 30 s, whether or not the name
			// exists and whether or not the password is right.
			r := try(name, consolePassword)
			if r.Code != http.StatusTooManyRequests || !strings.Contains(r.Body, "Too many failed logins. Try again in 30 seconds.") {
				t.Fatalf("sixth attempt: status %d; want 429 saying to wait 30 seconds\n%s", r.Code, r.Body)
			}
			h.clock.Advance(31 * time.Second)
			r = try(name, "wrong password!")
			if r.Code != http.StatusUnauthorized {
				t.Fatalf("after 31 s: status %d; want 401", r.Code)
			}
			// The sixth failure doubles the wait.
			h.clock.Advance(31 * time.Second)
			if r := try(name, consolePassword); r.Code != http.StatusTooManyRequests {
				t.Errorf("31 s after the sixth failure: status %d; want 429", r.Code)
			}
			h.clock.Advance(30 * time.Second)
			want := http.StatusUnauthorized
			if name == "alice" {
				want = http.StatusSeeOther
			}
			if r := try(name, consolePassword); r.Code != want {
				t.Errorf("61 s after the sixth failure: status %d; want %d", r.Code, want)
			}
		})
	}
}

// TestConsoleLoginThrottle_Parallel: a burst of attempts sent at once gets
// no more password checks than attempts sent one by one (five), because
// the throttle check and the failure record are one step.
func TestConsoleLoginThrottle_Parallel(t *testing.T) {
	t.Parallel()
	h := newConsole(t, withOrders(0), notConnected())
	h.addUser(t, "bob", "admin")
	const burst = 12
	codes := make(chan int, burst)
	var wg sync.WaitGroup
	for range burst {
		wg.Go(func() {
			form := url.Values{"name": {"bob"}, "password": {"wrong password!"}}
			req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/login", strings.NewReader(form.Encode()))
			if err != nil {
				codes <- -1
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			resp, err := h.srv.Client().Do(req)
			if err != nil {
				codes <- -1
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	got := map[int]int{}
	for c := range codes {
		got[c]++
	}
	if diff := cmp.Diff(map[int]int{http.StatusUnauthorized: 5, http.StatusTooManyRequests: burst - 5}, got); diff != "" {
		t.Errorf("status codes of %d parallel failed logins (-want +got):\n%s", burst, diff)
	}
}

func TestConsoleSessionSettings(t *testing.T) {
	t.Parallel()
	t.Run("secure cookies", func(t *testing.T) {
		t.Parallel()
		h := newConsole(t, withOrders(0), notConnected(), withEnv("VELQBO_CONSOLE_SECURE_COOKIES", "true"))
		h.addUser(t, "alice", "admin")
		r := h.anonymous(t).postForm(t, "/login", url.Values{"name": {"alice"}, "password": {consolePassword}}, "same-origin", false)
		r.wantCode(t, http.StatusSeeOther)
		if ck := r.Header.Get("Set-Cookie"); !strings.Contains(ck, "velqbo_session=") || !strings.Contains(ck, "; Secure") {
			t.Errorf("got Set-Cookie %q; want the session cookie Secure", ck)
		}
	})
	t.Run("idle timeout", func(t *testing.T) {
		t.Parallel()
		h := newConsole(t, withOrders(0), notConnected(), withEnv("VELQBO_CONSOLE_IDLE_TIMEOUT", "5m"))
		c := h.login(t, "admin")
		h.clock.Advance(6 * time.Minute)
		if r := c.get(t, "/"); r.Code != http.StatusFound {
			t.Errorf("GET / after 6 min idle with a 5m timeout: status %d; want 302", r.Code)
		}
	})
}

// TestConsoleCSRFHeader: a script's POST may carry the token in the
// X-CSRF-Token header instead of the form.
func TestConsoleCSRFHeader(t *testing.T) {
	t.Parallel()
	h := newConsole(t, withOrders(0), notConnected())
	for _, tt := range []struct {
		name, token string
		want        int
	}{
		{"wrong token", "not-the-token", http.StatusForbidden},
		{"right token", "", http.StatusSeeOther},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := h.login(t, "admin")
			token := tt.token
			if token == "" {
				token = c.csrf
			}
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, h.srv.URL+"/logout", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			req.Header.Set("X-CSRF-Token", token)
			if r := c.do(t, req); r.Code != tt.want {
				t.Errorf("got status %d; want %d", r.Code, tt.want)
			}
		})
	}
}

func TestConsoleConfigRefused(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 0)
	tests := []struct{ k, v, want string }{
		{"VELQBO_CONSOLE_IDLE_TIMEOUT", "10s", "at least 1m"},
		{"VELQBO_CONSOLE_IDLE_TIMEOUT", "soon", "not a duration"},
		{"VELQBO_CONSOLE_SESSION_MAX_AGE", "10m", "at least the idle timeout"},
		{"VELQBO_CONSOLE_OFF", "maybe", "true or false"},
		{"VELQBO_CONSOLE_SECURE_COOKIES", "yes please", "true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.k+"="+tt.v, func(t *testing.T) {
			h.Env[tt.k] = tt.v
			r := h.Run("", "users", "list")
			delete(h.Env, tt.k)
			if r.Code != exitUsage || !strings.Contains(r.Stderr, tt.k) || !strings.Contains(r.Stderr, tt.want) {
				t.Errorf("got exit %d, stderr %q; want %d naming %s and %q", r.Code, r.Stderr, exitUsage, tt.k, tt.want)
			}
		})
	}
}

// TestConsoleLoopbackHost: a console on a loopback listener answers only
// requests naming this machine (or the host of VELQBO_QBO_REDIRECT_URL, a
// reverse proxy's public name), so a DNS-rebound page from another site
// cannot use it; on a network listener the Host is not checked.
func TestConsoleLoopbackHost(t *testing.T) {
	t.Parallel()
	h := newConsole(t, withOrders(0), notConnected(), withEnv("VELQBO_QBO_REDIRECT_URL", "https://books.example.com/integrations/callback"))
	h.addUser(t, "alice", "admin")
	tests := []struct {
		listen, host string
		want         int
	}{
		{"127.0.0.1:8089", "127.0.0.1:8089", http.StatusOK},
		{"127.0.0.1:8089", "localhost:8089", http.StatusOK},
		{"127.0.0.1:8089", "[::1]:8089", http.StatusOK},
		{"127.0.0.1:8089", "books.example.com", http.StatusOK},
		{"127.0.0.1:8089", "evil.example:8089", http.StatusMisdirectedRequest},
		{"127.0.0.1:8089", "127.0.0.1.evil.example", http.StatusMisdirectedRequest},
		{"0.0.0.0:8089", "evil.example", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.listen+"/"+tt.host, func(t *testing.T) {
			srv, err := h.main.consoleOn(t.Context(), h.store, tt.listen)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodGet, "/login", nil)
			req.Host = tt.host
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("GET /login with Host %q on %s: status %d; want %d", tt.host, tt.listen, rec.Code, tt.want)
			}
		})
	}
}

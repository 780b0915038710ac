// Package web is velqbo's console: server-rendered pages over the same
// engine functions the CLI calls (through Backend), with local accounts,
// sessions in the ledger, CSRF protection and embedded assets.
package web

import (
	"cmp"
	"embed"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/velqbo/velqbo/internal/clock"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is what New needs.
type Config struct {
	// Backend is the engine (required).
	Backend Backend
	// SourceName is the store velqbo reads orders from, as the engine's
	// reasons name it ("Velocity", "BigCommerce"; required): the screens
	// name it wherever they mean that store.
	SourceName string
	// Clock tells the time of sessions and throttling; nil: the wall clock.
	Clock clock.Clock
	// Location is the business time zone dates are shown in; nil: UTC.
	Location *time.Location
	// Log receives request errors; nil: discarded.
	Log *logrus.Logger
	// QBOAppURL is the QuickBooks web app for the environment
	// (QBOAppProduction or QBOAppSandbox), for qboURL links; empty:
	// production.
	QBOAppURL string
	// SecureCookies marks the session cookie Secure. It is set anyway on
	// requests that came over TLS.
	SecureCookies bool
	// IdleTimeout ends a session not used for this long (default 30 min);
	// MaxAge ends any session this long after login (default 12 h).
	IdleTimeout, MaxAge time.Duration
	// LoopbackOnly refuses (421) a request whose Host is not a loopback
	// name or address. Why: a console on loopback trusts that only this
	// machine reaches it, and DNS rebinding breaks that — a page from
	// evil.example whose name then resolves to 127.0.0.1 would be
	// same-origin with the console; its requests still say
	// Host: evil.example. AllowHosts are further host names it accepts
	// (the public name a reverse proxy on this machine passes on).
	LoopbackOnly bool
	AllowHosts   []string
}

// The QuickBooks Online web apps qboURL links into.
const (
	QBOAppProduction = "https://app.qbo.intuit.com/app/"
	QBOAppSandbox    = "https://app.sandbox.qbo.intuit.com/app/"
)

// Server is the console.
type Server struct {
	c       Config
	clk     clock.Clock
	log     *logrus.Logger
	backend Backend
	pages   map[string]*template.Template
	handler http.Handler
	once    oneTimeLogins
	// loginMu makes a login's throttle check, password check and failure
	// record one step: without it a burst of parallel attempts all pass
	// the check before any failure is recorded.
	loginMu sync.Mutex
}

// New parses the embedded templates and builds the console's routes.
// Returns an error when the Backend is missing or a template does not
// parse.
func New(c Config) (*Server, error) {
	if c.Backend == nil {
		return nil, errors.New("web: Config.Backend is required")
	}
	if c.SourceName == "" {
		return nil, errors.New("web: Config.SourceName is required")
	}
	s := &Server{c: c, backend: c.Backend, clk: c.Clock, log: c.Log}
	if s.clk == nil {
		s.clk = clock.Real{}
	}
	if s.c.Location == nil {
		s.c.Location = time.UTC
	}
	if s.log == nil {
		s.log = logrus.New()
		s.log.SetOutput(io.Discard)
	}
	s.c.QBOAppURL = cmp.Or(s.c.QBOAppURL, QBOAppProduction)
	s.c.IdleTimeout = cmp.Or(s.c.IdleTimeout, 30*time.Minute)
	s.c.MaxAge = cmp.Or(s.c.MaxAge, 12*time.Hour)
	pages, err := s.parseTemplates()
	if err != nil {
		return nil, err
	}
	s.pages = pages

	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler(http.FileServerFS(static))))
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.loginSubmit)
	mux.HandleFunc("GET /login/once", s.oneTimePage)
	mux.HandleFunc("POST /login/once", s.oneTimeSubmit)
	mux.Handle("POST /logout", s.viewer(s.logout))
	mux.Handle("GET /{$}", s.viewer(s.home))
	mux.Handle("/", s.viewer(s.notFound))
	s.routesIntegrations(mux)
	s.routesSettings(mux)
	s.routesCustomers(mux)
	s.routesProducts(mux)
	s.routesOrders(mux)
	s.routesRuns(mux)
	s.routesProblems(mux)

	// Why: a browser that says where a request came from (Sec-Fetch-Site
	// or Origin) is refused a cross-site state change here, before any
	// handler; the per-session token in every form (viewer/admin) covers
	// browsers that say neither.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, http.StatusForbidden, "This request came from another site and was refused.")
	}))
	s.handler = securityHeaders(cop.Handler(mux))
	if c.LoopbackOnly {
		s.handler = loopbackHost(s.handler, c.AllowHosts)
	}
	return s, nil
}

// Handler serves every console route. The daemon mounts /healthz and
// /metrics beside it.
func (s *Server) Handler() http.Handler { return s.handler }

// securityHeaders sets the headers every response carries: scripts,
// styles and frames only from the console itself, no framing by others,
// no Referer to other sites, no MIME sniffing.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

func staticHandler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotFound, "There is no such page.")
}

// loopbackHost refuses requests whose Host header names anything but this
// machine: localhost (or a name under .localhost) or a loopback address,
// or one of allow.
func loopbackHost(h http.Handler, allow []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if hh, _, err := net.SplitHostPort(host); err == nil {
			host = hh
		}
		host = strings.TrimSuffix(strings.ToLower(host), ".")
		ip := net.ParseIP(strings.Trim(host, "[]"))
		if host != "localhost" && !strings.HasSuffix(host, ".localhost") && (ip == nil || !ip.IsLoopback()) &&
			!slices.ContainsFunc(allow, func(a string) bool { return strings.EqualFold(a, host) }) {
			http.Error(w, "This console answers only on localhost (the Host header names another machine).", http.StatusMisdirectedRequest)
			return
		}
		h.ServeHTTP(w, r)
	})
}

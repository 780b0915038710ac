package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/velqbo/velqbo/schema"
)

// User is the person logged in.
type User struct {
	Name string
	Role string
}

// Admin reports whether u may change things.
func (u User) Admin() bool { return u.Role == schema.RoleAdmin }

// session is the logged-in request's session.
type session struct {
	User   User
	IDHash string
	// CSRF is the token every form of this session must send back.
	CSRF string
}

type sessionKey struct{}

func sessionFrom(ctx context.Context) *session {
	s, _ := ctx.Value(sessionKey{}).(*session)
	return s
}

// CurrentUser returns the logged-in user of a request that went through
// viewer or admin; ok is false otherwise. Backend methods name it in the
// audit log.
func CurrentUser(ctx context.Context) (User, bool) {
	if s := sessionFrom(ctx); s != nil {
		return s.User, true
	}
	return User{}, false
}

const (
	sessionCookie = "velqbo_session"
	// CSRFField is the form field (and X-CSRF-Token the header, for htmx)
	// carrying the session's token.
	CSRFField  = "csrf_token"
	csrfHeader = "X-CSRF-Token"
)

// hashID is what the ledger keeps of a session id: its SHA-256, so a
// copy of the database does not let anyone take over a session.
func hashID(raw []byte) string {
	h := sha256.Sum256(raw)
	return hex.EncodeToString(h[:])
}

// csrfToken derives the session's form token from the raw session id.
// Why derived: it needs no storage, differs per session, and cannot be
// computed from what the ledger stores (the id's hash).
func csrfToken(raw []byte) string {
	h := sha256.Sum256(append([]byte("velqbo csrf\x00"), raw...))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// secure reports whether cookies must be Secure: configured, or the
// request came over TLS.
func (s *Server) secure(r *http.Request) bool { return s.c.SecureCookies || r.TLS != nil }

// authenticate finds the request's live session: the cookie's id must
// hash to a stored session that is neither idle past IdleTimeout nor older
// than MaxAge (a stale one is deleted). It returns nil when there is none.
func (s *Server) authenticate(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(raw) != 32 {
		return nil, nil
	}
	st := s.backend.Store()
	idHash := hashID(raw)
	cs, err := st.ConsoleSession(r.Context(), idHash)
	if errors.Is(err, schema.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := s.clk.Now()
	if now.Sub(cs.LastSeen) > s.c.IdleTimeout || now.Sub(cs.CreatedAt) > s.c.MaxAge {
		return nil, st.DeleteConsoleSession(r.Context(), idHash)
	}
	// Why only after a minute: every page would otherwise be a write.
	if now.Sub(cs.LastSeen) > time.Minute {
		if err := st.TouchConsoleSession(r.Context(), idHash); err != nil {
			return nil, err
		}
	}
	return &session{User: User{Name: cs.User, Role: cs.Role}, IDHash: idHash, CSRF: csrfToken(raw)}, nil
}

// viewer lets any logged-in user through; others are sent to the login
// page (GET) or refused (other methods). A request that is not GET or
// HEAD must carry the session's CSRF token.
func (s *Server) viewer(h http.HandlerFunc) http.Handler {
	return s.auth(false, h)
}

// admin is viewer for admins only: a viewer gets the 403 page.
func (s *Server) admin(h http.HandlerFunc) http.Handler {
	return s.auth(true, h)
}

func (s *Server) auth(adminOnly bool, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.authenticate(r)
		if err != nil {
			s.log.WithError(err).Error("console: session")
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		if sess == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
				return
			}
			s.errorPage(w, r, http.StatusUnauthorized, "Your session has ended. Log in again.")
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess))
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			got := r.Header.Get(csrfHeader)
			if got == "" {
				got = r.PostFormValue(CSRFField)
			}
			if subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) != 1 {
				s.errorPage(w, r, http.StatusForbidden, "This form has expired or did not come from the console. Reload the page and try again.")
				return
			}
		}
		if adminOnly && !sess.User.Admin() {
			s.errorPage(w, r, http.StatusForbidden, "Only an admin may do this. You are logged in as a viewer.")
			return
		}
		h(w, r)
	})
}

type loginData struct {
	Name  string
	Next  string
	Error string
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login.html", loginData{Next: safeNext(r.URL.Query().Get("next"))})
}

// errBadLogin is the one message of every refused login: it never says
// whether the user exists.
const errBadLogin = "Wrong name or password."

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	password := r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	ctx := r.Context()
	st := s.backend.Store()
	fail := func(status int, msg string) {
		s.render(w, r, status, "login.html", loginData{Name: name, Next: next, Error: msg})
	}
	keys := []string{"user:" + strings.ToLower(name), "addr:" + remoteAddr(r)}
	s.loginMu.Lock()
	defer s.loginMu.Unlock()
	if wait, err := s.throttled(ctx, keys); err != nil {
		s.log.WithError(err).Error("console: login throttle")
		fail(http.StatusInternalServerError, "The console could not check your login. Try again.")
		return
	} else if wait > 0 {
		fail(http.StatusTooManyRequests, fmt.Sprintf("Too many failed logins. Try again in %s.", roundUp(wait)))
		return
	}
	u, err := st.ConsoleUser(ctx, name)
	if err != nil && !errors.Is(err, schema.ErrNotFound) {
		s.log.WithError(err).Error("console: login")
		fail(http.StatusInternalServerError, "The console could not check your login. Try again.")
		return
	}
	// Why verify against a dummy hash for an unknown name: the answer
	// then takes as long as for a real user, so timing does not tell
	// which names exist.
	hash := u.PasswordHash
	if hash == "" {
		hash = dummyHash()
	}
	ok, verr := VerifyPassword(hash, password)
	if err != nil || verr != nil || !ok {
		if err := st.RecordLoginFailure(ctx, s.clk.Now().Add(-throttleWindow), keys...); err != nil {
			s.log.WithError(err).Error("console: record login failure")
		}
		s.log.WithField("user", name).WithField("remote", remoteAddr(r)).Warn("console: failed login")
		fail(http.StatusUnauthorized, errBadLogin)
		return
	}
	for _, k := range keys {
		st.ClearLoginFailures(ctx, k)
	}
	if err := s.startSession(w, r, u.Name); err != nil {
		s.log.WithError(err).Error("console: create session")
		fail(http.StatusInternalServerError, "The console could not log you in. Try again.")
		return
	}
	s.log.WithField("user", u.Name).Info("console: login")
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if sess := sessionFrom(r.Context()); sess != nil {
		if err := s.backend.Store().DeleteConsoleSession(r.Context(), sess.IDHash); err != nil {
			s.log.WithError(err).Error("console: logout")
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secure(r)})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps a post-login destination only when it is a path on this
// console: "//evil.example" or "https://…" would be an open redirect, and
// so would "/\t/evil.example", because browsers drop tabs and newlines
// from a Location and read "//evil.example". So: no control character, no
// backslash, and nothing url.Parse sees a scheme or host in.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}

// remoteAddr is the client's IP address (without the port).
func remoteAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Login throttling: after throttleFree failures of a key (the user name
// typed, or the remote address) within throttleWindow, each further
// attempt waits throttleBase, doubling per failure, at most throttleMax
// after the latest failure.
const (
	throttleFree   = 5
	throttleWindow = 15 * time.Minute
	throttleBase   = 30 * time.Second
	throttleMax    = 15 * time.Minute
)

// throttled returns how long the login must wait before any of keys may
// try again (0: it may now).
func (s *Server) throttled(ctx context.Context, keys []string) (time.Duration, error) {
	now := s.clk.Now()
	var wait time.Duration
	for _, k := range keys {
		n, last, err := s.backend.Store().LoginFailures(ctx, k, now.Add(-throttleWindow))
		if err != nil {
			return 0, err
		}
		if n < throttleFree {
			continue
		}
		d := throttleBase << min(n-throttleFree, 10)
		d = min(d, throttleMax)
		wait = max(wait, last.Add(d).Sub(now))
	}
	return wait, nil
}

func roundUp(d time.Duration) string {
	if d <= time.Minute {
		return fmt.Sprintf("%d seconds", int((d+time.Second-1)/time.Second))
	}
	return fmt.Sprintf("%d minutes", int((d+time.Minute-1)/time.Minute))
}

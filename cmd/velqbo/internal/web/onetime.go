package web

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/velqbo/velqbo/schema"
)

// oneTimeTTL is how long a one-time login link stays valid.
const oneTimeTTL = 15 * time.Minute

// oneTimeLogins are the unused one-time login links, by the SHA-256 of
// their token. They live in memory only: a restart forgets them.
type oneTimeLogins struct {
	mu     sync.Mutex
	tokens map[string]oneTime
}

type oneTime struct {
	user    string
	expires time.Time
}

// OneTimeLogin returns a link (a path with its token) that logs its first
// visitor in as user, within 15 minutes; it cannot be used twice.
// `velqbo demo --serve` prints one. Returns an error when the token
// cannot be drawn.
func (s *Server) OneTimeLogin(user string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	s.once.mu.Lock()
	defer s.once.mu.Unlock()
	if s.once.tokens == nil {
		s.once.tokens = map[string]oneTime{}
	}
	s.once.tokens[hashID(raw)] = oneTime{user: user, expires: s.clk.Now().Add(oneTimeTTL)}
	return "/login/once?token=" + url.QueryEscape(base64.RawURLEncoding.EncodeToString(raw)), nil
}

// take consumes token: it returns its user when the token is known and
// not expired, and forgets it either way.
func (o *oneTimeLogins) take(token string, now time.Time) (string, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 32 {
		return "", false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	h := hashID(raw)
	t, ok := o.tokens[h]
	delete(o.tokens, h)
	if !ok || now.After(t.expires) {
		return "", false
	}
	return t.user, true
}

// oneTimePage shows a button that uses the link. Why not log in on the GET
// itself: a link preview or prefetch would spend the token.
func (s *Server) oneTimePage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login_once.html", r.URL.Query().Get("token"))
}

func (s *Server) oneTimeSubmit(w http.ResponseWriter, r *http.Request) {
	user, ok := s.once.take(r.PostFormValue("token"), s.clk.Now())
	if !ok {
		s.render(w, r, http.StatusUnauthorized, "login.html", loginData{Next: "/", Error: "This one-time login link was used already or has expired. Log in with a name and password."})
		return
	}
	if err := s.startSession(w, r, user); err != nil {
		s.log.WithError(err).Error("console: one-time login")
		s.errorPage(w, r, http.StatusInternalServerError, "The console could not log you in.")
		return
	}
	s.log.WithField("user", user).Info("console: one-time login")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// startSession records a new session of user and sets its cookie.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, user string) error {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	st := s.backend.Store()
	now := s.clk.Now()
	// Sessions that ended by time are deleted here, at each login, so the
	// table does not grow with every browser that never logged out.
	if _, err := st.DeleteStaleConsoleSessions(r.Context(), now.Add(-s.c.IdleTimeout), now.Add(-s.c.MaxAge)); err != nil {
		return err
	}
	if err := st.CreateConsoleSession(r.Context(), schema.ConsoleSession{IDHash: hashID(raw), User: user, Remote: remoteAddr(r)}); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: base64.RawURLEncoding.EncodeToString(raw), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secure(r),
	})
	return nil
}

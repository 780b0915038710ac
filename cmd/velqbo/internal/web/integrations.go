package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/tokenhealth"
	"github.com/velqbo/velqbo/qbo"
)

// CallbackPath is where Intuit sends the browser back after consent. The
// redirect URL Intuit is given (and compares against the app's registered
// ones) is the console's own address with this path.
const CallbackPath = "/integrations/callback"

// QBOStatus is the QuickBooks Online connection as the Integrations screen
// shows it.
type QBOStatus struct {
	// Realm is the connected company; "" when not connected.
	Realm string
	// LedgerRealm is the company the ledger belongs to, kept after a
	// disconnect: only that company may be connected again.
	LedgerRealm string
	// Company is the connected company's CompanyInfo, read live; nil when
	// QBO could not be asked (CompanyErr says why).
	Company    *qbo.CompanyInfo
	CompanyErr string
	// Health is the stored refresh token's health, asked of Intuit once the
	// access token has run out (as `velqbo status` does).
	Health *tokenhealth.Health
	// Sandbox is set when the app talks to Intuit's sandbox.
	Sandbox bool
}

// QBOConnected is a company the console has just connected.
type QBOConnected struct {
	Realm string
	// RefreshExpiresAt is when the new refresh token ends unless a refresh
	// renews it; zero when Intuit did not say.
	RefreshExpiresAt time.Time
}

// QBODisconnected is a company whose tokens were forgotten.
type QBODisconnected struct {
	Realm string
	// RevokeErr is why Intuit did not revoke the token when it was
	// forgotten anyway; nil when revoked.
	RevokeErr error
}

// oauthStateCookie carries the state of a consent this browser started.
// Why a cookie of its own, SameSite=Lax and not the session: Intuit's
// redirect back is a cross-site navigation, on which a browser does not
// send the SameSite=Strict session cookie; a Lax cookie it does send. The
// state in Intuit's redirect must equal it, so a callback forged by another
// site (which cannot know or set the value) is refused: that is the OAuth
// CSRF defence. It is single-use: every callback clears it.
const oauthStateCookie = "velqbo_oauth_state"

// oauthStateTTL is how long a consent may take.
const oauthStateTTL = 10 * time.Minute

// routesIntegrations registers the Integrations screen's routes.
func (s *Server) routesIntegrations(mux *http.ServeMux) {
	mux.Handle("GET /integrations", s.viewer(s.integrations))
	// A link, not a form: a form's redirect to Intuit would break the
	// form-action 'self' policy. It only starts a consent, and the
	// session cookie (SameSite=Strict) keeps other sites from starting
	// one in an admin's name.
	mux.Handle("GET /integrations/connect", s.admin(s.integrationsConnect))
	// No session required: the state cookie authenticates the callback
	// (see oauthStateCookie).
	mux.HandleFunc("GET "+CallbackPath, s.integrationsCallback)
	mux.Handle("GET /integrations/disconnect", s.admin(s.integrationsDisconnectConfirm))
	mux.Handle("POST /integrations/disconnect", s.admin(s.integrationsDisconnect))
}

type integrationsData struct {
	Status QBOStatus
	Error  string
}

func (s *Server) integrations(w http.ResponseWriter, r *http.Request) {
	st, err := s.backend.QBOStatus(r.Context())
	d := integrationsData{Status: st}
	if err != nil {
		s.log.WithError(err).Error("console: integrations")
		d.Error = err.Error()
	}
	s.render(w, r, http.StatusOK, "integrations.html", d)
}

// consoleBase is the console's address as the browser reached it.
func consoleBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) integrationsConnect(w http.ResponseWriter, r *http.Request) {
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		s.errorPage(w, r, http.StatusInternalServerError, "The console could not start the login to QuickBooks. Try again.")
		return
	}
	state := base64.RawURLEncoding.EncodeToString(raw)
	redirect := s.backend.QBORedirectURL(consoleBase(r))
	authURL, err := s.backend.QBOAuthURL(redirect, state)
	if err != nil {
		s.render(w, r, http.StatusServiceUnavailable, "integrations.html", integrationsData{Error: err.Error()})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: oauthStateCookie, Value: state, Path: CallbackPath,
		MaxAge: int(oauthStateTTL / time.Second), HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(r)})
	http.Redirect(w, r, authURL, http.StatusFound)
}

type callbackData struct {
	Connected *QBOConnected
	// Denied: the user clicked Cancel at Intuit.
	Denied bool
	Error  string
}

func (s *Server) integrationsCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	want := ""
	if c, err := r.Cookie(oauthStateCookie); err == nil {
		want = c.Value
	}
	http.SetCookie(w, &http.Cookie{Name: oauthStateCookie, Value: "", Path: CallbackPath, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(r)})
	got := q.Get("state")
	if want == "" || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		s.log.WithField("remote", remoteAddr(r)).Warn("console: OAuth callback refused: state mismatch")
		s.render(w, r, http.StatusBadRequest, "integrations_callback.html", callbackData{
			Error: "This answer from QuickBooks does not match a login started from this browser (state mismatch), or the login took longer than 10 minutes. Nothing was stored. Start again from Integrations."})
		return
	}
	if e := q.Get("error"); e != "" {
		s.render(w, r, http.StatusOK, "integrations_callback.html", callbackData{Denied: true,
			Error: "QuickBooks did not grant access (" + e + "). Nothing was changed."})
		return
	}
	cb, err := qbo.ParseCallback(q)
	if err != nil {
		s.render(w, r, http.StatusBadRequest, "integrations_callback.html", callbackData{Error: err.Error()})
		return
	}
	conn, err := s.backend.CompleteQBOConnect(r.Context(), s.backend.QBORedirectURL(consoleBase(r)), cb)
	if err != nil {
		s.log.WithError(err).Warn("console: connect to QBO")
		s.render(w, r, http.StatusBadGateway, "integrations_callback.html", callbackData{Error: err.Error()})
		return
	}
	l := s.log.WithField("realm", conn.Realm).WithField("remote", remoteAddr(r))
	if sess, err := s.authenticate(r); err == nil && sess != nil {
		l = l.WithField("user", sess.User.Name)
	}
	l.Info("console: connected to QBO")
	s.render(w, r, http.StatusOK, "integrations_callback.html", callbackData{Connected: &conn})
}

type disconnectData struct {
	Status QBOStatus
	Forget bool
	Error  string
}

func (s *Server) integrationsDisconnectConfirm(w http.ResponseWriter, r *http.Request) {
	st, err := s.backend.QBOStatus(r.Context())
	d := disconnectData{Status: st}
	if err != nil {
		d.Error = err.Error()
	}
	s.render(w, r, http.StatusOK, "integrations_disconnect.html", d)
}

func (s *Server) integrationsDisconnect(w http.ResponseWriter, r *http.Request) {
	forget := r.PostFormValue("forget") == "true"
	gone, err := s.backend.DisconnectQBO(r.Context(), forget)
	if err != nil {
		st, _ := s.backend.QBOStatus(r.Context())
		s.render(w, r, http.StatusBadGateway, "integrations_disconnect.html", disconnectData{Status: st, Forget: forget, Error: err.Error()})
		return
	}
	if len(gone) == 0 {
		s.redirect(w, r, "/integrations", "Not connected to QuickBooks: nothing to disconnect.")
		return
	}
	user, _ := CurrentUser(r.Context())
	msg := ""
	for _, d := range gone {
		s.log.WithField("realm", d.Realm).WithField("user", user.Name).Info("console: disconnected from QBO")
		if d.RevokeErr != nil {
			msg += "Forgot the tokens of QuickBooks company " + d.Realm + " (Intuit did not revoke them: " + d.RevokeErr.Error() + "). "
		} else {
			msg += "Disconnected from QuickBooks company " + d.Realm + "; the ledger, links and settings are kept. "
		}
	}
	s.redirect(w, r, "/integrations", msg[:len(msg)-1])
}

// errNotConnected reports whether err says no company is connected.
func errNotConnected(err error) bool { return errors.Is(err, ErrNotConnected) }

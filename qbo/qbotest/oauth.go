package qbotest

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// grant is one connection (one consent); revoking any of its tokens ends it.
type grant struct {
	id      string
	revoked bool
}

type refreshToken struct {
	grant        *grant
	issued       time.Time
	expires      time.Time
	supersededAt time.Time // zero while it is the newest of its grant
}

type accessToken struct {
	grant   *grant
	expires time.Time
}

type authCode struct {
	redirectURI string
	expires     time.Time
	used        bool
}

func (s *Server) newGrantLocked() *grant {
	g := &grant{id: randToken("", 8)}
	s.grants[g.id] = g
	return g
}

func (s *Server) newRefreshLocked(g *grant) string {
	tok := randToken("AB11", 24)
	now := s.now()
	s.refresh[tok] = &refreshToken{grant: g, issued: now, expires: now.Add(s.cfg.refreshTTL)}
	return tok
}

func (s *Server) newAccessLocked(g *grant) string {
	tok := randToken("eyJqbXQiOi", 32)
	s.access[tok] = &accessToken{grant: g, expires: s.now().Add(s.cfg.accessTTL)}
	return tok
}

// IssueRefreshToken returns a valid refresh token of a new connection, as if
// a user had just connected the app.
func (s *Server) IssueRefreshToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newRefreshLocked(s.newGrantLocked())
}

// IssueAccessToken returns a valid access token of a new connection, for
// tests that call the API directly.
func (s *Server) IssueAccessToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newAccessLocked(s.newGrantLocked())
}

// ExpireAccessTokens makes every access token issued so far expired.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := s.now().Add(-time.Second)
	for _, a := range s.access {
		a.expires = past
	}
}

// RevokeAll revokes every connection, as when the user disconnects the app in QBO.
func (s *Server) RevokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.grants {
		g.revoked = true
	}
}

// authenticate checks the Bearer access token of an API request.
func (s *Server) authenticate(r *http.Request) *fault {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return faultAuthentication("Authorization header is missing or not a Bearer token")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.access[strings.TrimSpace(tok)]
	switch {
	case !ok:
		return faultAuthentication("Token invalid")
	case a.grant.revoked:
		return faultAuthentication("Token revoked")
	case !s.now().Before(a.expires):
		return faultAuthentication("Token expired")
	}
	return nil
}

func oauthError(resp *response, status int, code, desc string) {
	m := map[string]any{"error": code}
	if desc != "" {
		m["error_description"] = desc
	}
	resp.json(status, m)
	resp.header.Set("Content-Type", "application/json")
}

// clientAuth checks HTTP Basic or client_secret_post credentials.
func (s *Server) clientAuth(r *http.Request, form url.Values) bool {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	return id == s.cfg.clientID && secret == s.cfg.clientSecret
}

func (s *Server) handleToken(resp *response, r *http.Request, body []byte) {
	if r.Method != http.MethodPost {
		oauthError(resp, http.StatusMethodNotAllowed, "invalid_request", "POST required")
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		oauthError(resp, http.StatusBadRequest, "invalid_request", "body is not form-encoded")
		return
	}
	if !s.clientAuth(r, form) {
		oauthError(resp, http.StatusUnauthorized, "invalid_client", "")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var g *grant
	var refresh string
	switch form.Get("grant_type") {
	case "refresh_token":
		presented := form.Get("refresh_token")
		rt, ok := s.refresh[presented]
		if !ok || rt.grant.revoked || !now.Before(rt.expires) ||
			(!rt.supersededAt.IsZero() && !now.Before(rt.supersededAt.Add(s.cfg.refreshGrace))) {
			oauthError(resp, http.StatusBadRequest, "invalid_grant", "")
			return
		}
		g = rt.grant
		refresh = presented
		if s.cfg.rotateEvery <= 0 || now.Sub(rt.issued) >= s.cfg.rotateEvery || !rt.supersededAt.IsZero() {
			// Rotation: every older token of this grant is superseded now.
			refresh = s.newRefreshLocked(g)
			for tok, other := range s.refresh {
				if other.grant == g && tok != refresh && other.supersededAt.IsZero() {
					other.supersededAt = now
				}
			}
		} else {
			rt.expires = now.Add(s.cfg.refreshTTL) // rolling expiry
		}
	case "authorization_code":
		code, ok := s.codes[form.Get("code")]
		if !ok || code.used || !now.Before(code.expires) || code.redirectURI != form.Get("redirect_uri") {
			oauthError(resp, http.StatusBadRequest, "invalid_grant", "")
			return
		}
		code.used = true
		g = s.newGrantLocked()
		refresh = s.newRefreshLocked(g)
	default:
		oauthError(resp, http.StatusBadRequest, "unsupported_grant_type", "")
		return
	}
	rt := s.refresh[refresh]
	resp.json(http.StatusOK, map[string]any{
		"token_type":                 "bearer",
		"expires_in":                 int(s.cfg.accessTTL / time.Second),
		"refresh_token":              refresh,
		"x_refresh_token_expires_in": int(rt.expires.Sub(now) / time.Second),
		"access_token":               s.newAccessLocked(g),
	})
	resp.header.Set("Content-Type", "application/json")
}

// handleAuthorize is Intuit's consent endpoint. A GET shows the consent
// page (the app, the company, Connect and Cancel), as Intuit's does, unless
// WithAutoConsent says the user has already consented; the page's form
// POSTs back here, and the answer redirects to redirect_uri with a code and
// realmId, or with error=access_denied for Cancel.
func (s *Server) handleAuthorize(resp *response, r *http.Request, body []byte) {
	q := r.URL.Query()
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		q, _ = url.ParseQuery(string(body))
	default:
		resp.status = http.StatusMethodNotAllowed
		resp.header.Set("Content-Type", "text/plain; charset=utf-8")
		resp.body = []byte("GET or POST required\n")
		return
	}
	redirect := q.Get("redirect_uri")
	ru, err := url.Parse(redirect)
	if q.Get("client_id") != s.cfg.clientID || redirect == "" || err != nil || !ru.IsAbs() {
		resp.status = http.StatusBadRequest
		resp.header.Set("Content-Type", "text/plain; charset=utf-8")
		resp.body = []byte("invalid client_id or redirect_uri\n")
		return
	}
	v := ru.Query()
	if st := q.Get("state"); st != "" {
		v.Set("state", st)
	}
	switch {
	case q.Get("response_type") != "code":
		v.Set("error", "unsupported_response_type")
	case s.cfg.denyAuthorize:
		v.Set("error", "access_denied")
	case r.Method == http.MethodGet && !s.cfg.autoConsent:
		s.consentPage(resp, q)
		return
	case r.Method == http.MethodPost && q.Get("decision") != "connect":
		v.Set("error", "access_denied")
	default:
		s.mu.Lock()
		code := randToken("AB11", 16)
		s.codes[code] = &authCode{redirectURI: redirect, expires: s.now().Add(5 * time.Minute)}
		s.mu.Unlock()
		v.Set("code", code)
		v.Set("realmId", s.cfg.realm)
	}
	ru.RawQuery = v.Encode()
	resp.status = http.StatusFound
	resp.header.Set("Location", ru.String())
}

// consentTemplate is the consent page. Every value is escaped by
// html/template: the redirect_uri and state come from the caller.
var consentTemplate = template.Must(template.New("consent").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Connect {{.App}} to QuickBooks (qbotest)</title>
<style>
body { font-family: system-ui, sans-serif; background: #f4f5f8; color: #1f2328; margin: 0; }
main { max-width: 28rem; margin: 4rem auto; background: #fff; border-radius: 8px; padding: 2rem; box-shadow: 0 1px 4px rgba(0,0,0,.15); }
h1 { font-size: 1.3rem; margin-top: 0; }
.company { font-weight: 600; }
.buttons { display: flex; gap: .75rem; justify-content: flex-end; margin-top: 2rem; }
button { font: inherit; padding: .55rem 1.2rem; border-radius: 4px; border: 1px solid #2c7a2c; cursor: pointer; }
#connect { background: #2c7a2c; color: #fff; }
#cancel { background: #fff; color: #2c7a2c; }
.note { color: #57606a; font-size: .85rem; }
</style>
</head>
<body>
<main>
<h1 id="consent-title">{{.App}} wants to connect to your QuickBooks company</h1>
<p>Company: <span class="company" id="company-name">{{.Company}}</span> (realm <span id="realm">{{.Realm}}</span>)</p>
<p>{{.App}} will be able to read and write this company's accounting data ({{.Scope}}).</p>
<form method="post" action="{{.Action}}">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<div class="buttons">
<button type="submit" id="cancel" name="decision" value="cancel">Cancel</button>
<button type="submit" id="connect" name="decision" value="connect">Connect</button>
</div>
</form>
<p class="note">This is qbotest, a fake of Intuit's consent page.</p>
</main>
</body>
</html>
`))

type hiddenField struct{ Name, Value string }

func (s *Server) consentPage(resp *response, q url.Values) {
	data := struct {
		App, Company, Realm, Scope, Action string
		Hidden                             []hiddenField
	}{App: s.cfg.appName, Company: s.cfg.companyName, Realm: s.cfg.realm, Scope: q.Get("scope"), Action: "/connect/oauth2"}
	for _, k := range []string{"client_id", "redirect_uri", "response_type", "scope", "state"} {
		if q.Has(k) {
			data.Hidden = append(data.Hidden, hiddenField{k, q.Get(k)})
		}
	}
	var b bytes.Buffer
	if err := consentTemplate.Execute(&b, data); err != nil {
		resp.status = http.StatusInternalServerError
		resp.header.Set("Content-Type", "text/plain; charset=utf-8")
		resp.body = []byte("qbotest: render consent page: " + err.Error() + "\n")
		return
	}
	resp.status = http.StatusOK
	resp.header.Set("Content-Type", "text/html; charset=utf-8")
	resp.body = b.Bytes()
}

func (s *Server) handleRevoke(resp *response, r *http.Request, body []byte) {
	if r.Method != http.MethodPost {
		oauthError(resp, http.StatusMethodNotAllowed, "invalid_request", "POST required")
		return
	}
	var in struct {
		Token string `json:"token"`
	}
	if json.Unmarshal(body, &in) != nil || in.Token == "" {
		form, _ := url.ParseQuery(string(body))
		in.Token = form.Get("token")
	}
	form, _ := url.ParseQuery(string(body))
	if !s.clientAuth(r, form) {
		oauthError(resp, http.StatusUnauthorized, "invalid_client", "")
		return
	}
	if in.Token == "" {
		oauthError(resp, http.StatusBadRequest, "invalid_request", "token missing")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rt, ok := s.refresh[in.Token]; ok {
		rt.grant.revoked = true
	} else if a, ok := s.access[in.Token]; ok {
		a.grant.revoked = true
	}
	resp.status = http.StatusOK
}

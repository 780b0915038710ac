package qbotest

import (
	"encoding/json"
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

func (s *Server) handleAuthorize(resp *response, r *http.Request) {
	q := r.URL.Query()
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

package qbo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Intuit OAuth 2.0 endpoints (the same for sandbox and production). They are
// variables so tests and fakes can point them elsewhere; prefer setting the
// fields of your own oauth2.Config over mutating these.
var (
	Endpoint = oauth2.Endpoint{
		AuthURL:   "https://appcenter.intuit.com/connect/oauth2",
		TokenURL:  "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
		AuthStyle: oauth2.AuthStyleInHeader,
	}
	RevokeURL = "https://developer.api.intuit.com/v2/oauth2/tokens/revoke"
)

// ScopeAccounting is the OAuth scope for the Accounting API.
const ScopeAccounting = "com.intuit.quickbooks.accounting"

// NewOAuthConfig returns an oauth2.Config for Intuit with the accounting scope.
func NewOAuthConfig(clientID, clientSecret, redirectURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		RedirectURL:  redirectURL,
		Endpoint:     Endpoint,
		Scopes:       []string{ScopeAccounting},
	}
}

// AuthCodeURL returns the consent URL the user visits. state must be an
// unguessable value the caller checks on the callback.
func AuthCodeURL(conf *oauth2.Config, state string) string {
	return conf.AuthCodeURL(state)
}

// Callback is what Intuit's redirect carries.
type Callback struct {
	Code, State, RealmID string
}

// ParseCallback reads code, state and realmId from the redirect's query. It
// returns an error carrying Intuit's "error" parameter if consent failed, or
// if code or realmId is missing.
func ParseCallback(q url.Values) (Callback, error) {
	if e := q.Get("error"); e != "" {
		return Callback{}, fmt.Errorf("qbo: authorization failed: %s", e)
	}
	cb := Callback{Code: q.Get("code"), State: q.Get("state"), RealmID: q.Get("realmId")}
	if cb.Code == "" || cb.RealmID == "" {
		return Callback{}, errors.New("qbo: callback is missing code or realmId")
	}
	return cb, nil
}

// Exchange trades an authorization code for a token. httpClient (may be
// nil) is used for the token endpoint. Errors never contain the code.
func Exchange(ctx context.Context, conf *oauth2.Config, httpClient *http.Client, code string) (*oauth2.Token, error) {
	if httpClient != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, httpClient)
	}
	tok, err := conf.Exchange(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("exchange authorization code: %w", mapTokenError(err))
	}
	return tok, nil
}

// RefreshTokenExpiry returns when tok's refresh token expires, from Intuit's
// x_refresh_token_expires_in extra (seconds from issue, here taken as from
// issuedAt), or the zero time if the token does not say.
func RefreshTokenExpiry(tok *oauth2.Token, issuedAt time.Time) time.Time {
	if tok == nil {
		return time.Time{}
	}
	var secs int64
	switch v := tok.Extra("x_refresh_token_expires_in").(type) {
	case float64:
		secs = int64(v)
	case json.Number:
		secs, _ = v.Int64()
	case string:
		fmt.Sscan(v, &secs)
	}
	if secs <= 0 {
		return time.Time{}
	}
	return issuedAt.Add(time.Duration(secs) * time.Second)
}

// SaveFunc persists a token. It is called with every new token (including a
// rotated refresh token) before the token is used.
type SaveFunc func(ctx context.Context, tok *oauth2.Token) error

// TokenSource is an oauth2.TokenSource for one realm that:
//
//   - serialises refreshes: concurrent callers wait on one mutex and all
//     receive the single new token, so one refresh token is never spent twice
//     (Intuit rotates refresh tokens; parallel refreshes break the chain);
//   - hands every new token to save before returning it, so a rotated refresh
//     token is on disk before any request uses its access token. If save
//     fails the new token is discarded and the error returned; Intuit keeps
//     the previous refresh token valid for a while, so the next call retries;
//   - refreshes early (Skew before expiry) and on demand after Invalidate;
//   - maps OAuth invalid_grant to ErrTokenRejected.
//
// Errors never contain token values.
type TokenSource struct {
	conf *oauth2.Config
	save SaveFunc
	hc   *http.Client
	now  func() time.Time

	// Skew is how long before expiry a token is refreshed; default 60s.
	Skew time.Duration
	// MinInvalidateInterval ignores Invalidate calls within this long after
	// a refresh, so a burst of 401s from requests that were already in
	// flight with the old token causes one refresh, not one each; default 10s.
	MinInvalidateInterval time.Duration

	mu          sync.Mutex
	tok         *oauth2.Token
	forced      bool
	lastRefresh time.Time
}

// NewTokenSource returns a TokenSource starting from tok (as loaded from
// storage; it needs a RefreshToken). httpClient (may be nil) is used for the
// token endpoint; now (may be nil) is the clock.
func NewTokenSource(conf *oauth2.Config, tok *oauth2.Token, save SaveFunc, httpClient *http.Client, now func() time.Time) *TokenSource {
	if now == nil {
		now = time.Now
	}
	if save == nil {
		save = func(context.Context, *oauth2.Token) error { return nil }
	}
	return &TokenSource{conf: conf, save: save, hc: httpClient, now: now, tok: tok,
		Skew: 60 * time.Second, MinInvalidateInterval: 10 * time.Second}
}

// HTTPClient returns an *http.Client that authenticates with ts over base
// (nil means http.DefaultTransport). Use it instead of oauth2.NewClient:
// NewClient wraps the source in oauth2.ReuseTokenSource, whose own cache would
// keep serving an access token after Invalidate.
func (ts *TokenSource) HTTPClient(base http.RoundTripper) *http.Client {
	return &http.Client{Transport: &oauth2.Transport{Source: ts, Base: base}}
}

// refreshTimeout bounds a refresh started from Token, which has no context.
const refreshTimeout = 60 * time.Second

// Token returns a valid access token, refreshing if needed. It returns an
// error wrapping ErrTokenRejected if Intuit rejects the refresh token.
func (ts *TokenSource) Token() (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
	defer cancel()
	return ts.TokenContext(ctx)
}

// TokenContext is Token with a context for the refresh and the save.
func (ts *TokenSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if !ts.forced && ts.valid(ts.tok) {
		return ts.tok, nil
	}
	return ts.refreshLocked(ctx)
}

// Refresh forces a refresh now, whatever the current token's expiry.
func (ts *TokenSource) Refresh(ctx context.Context) (*oauth2.Token, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.refreshLocked(ctx)
}

// Invalidate marks the current access token as rejected so the next Token
// call refreshes. Client calls it on HTTP 401.
func (ts *TokenSource) Invalidate() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if !ts.lastRefresh.IsZero() && ts.now().Sub(ts.lastRefresh) < ts.MinInvalidateInterval {
		return
	}
	ts.forced = true
}

func (ts *TokenSource) valid(t *oauth2.Token) bool {
	if t == nil || t.AccessToken == "" {
		return false
	}
	return t.Expiry.IsZero() || ts.now().Add(ts.Skew).Before(t.Expiry)
}

func (ts *TokenSource) refreshLocked(ctx context.Context) (*oauth2.Token, error) {
	if ts.tok == nil || ts.tok.RefreshToken == "" {
		return nil, fmt.Errorf("refresh qbo token: no refresh token: %w", ErrTokenRejected)
	}
	if ts.hc != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, ts.hc)
	}
	// An access-token-less token makes oauth2 go straight to the refresh grant.
	src := ts.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: ts.tok.RefreshToken})
	nt, err := src.Token()
	if err != nil {
		return nil, fmt.Errorf("refresh qbo token: %w", mapTokenError(err))
	}
	if nt.RefreshToken == "" {
		nt.RefreshToken = ts.tok.RefreshToken
	}
	if err := ts.save(ctx, nt); err != nil {
		return nil, fmt.Errorf("save refreshed qbo token: %w", err)
	}
	ts.tok = nt
	ts.forced = false
	ts.lastRefresh = ts.now()
	return nt, nil
}

// mapTokenError turns OAuth invalid_grant into ErrTokenRejected while keeping
// the original *oauth2.RetrieveError in the chain.
func mapTokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
		return fmt.Errorf("%w: %w", ErrTokenRejected, err)
	}
	return err
}

// Revoke revokes token (a refresh or access token) at revokeURL (normally
// RevokeURL), authenticating with the app's client credentials. It returns
// an error with the HTTP status on failure; the error never contains the
// token or secret.
func Revoke(ctx context.Context, httpClient *http.Client, revokeURL, clientID, clientSecret, token string) error {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	body, _ := json.Marshal(map[string]string{"token": token})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, revokeURL, bytes.NewReader(body))
	if err != nil {
		return errors.New("revoke qbo token: invalid revoke url")
	}
	req.SetBasicAuth(clientID, clientSecret)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("revoke qbo token: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		return fmt.Errorf("revoke qbo token: http %d %s", resp.StatusCode, e.Error)
	}
	return nil
}

var _ oauth2.TokenSource = (*TokenSource)(nil)
var _ TokenInvalidator = (*TokenSource)(nil)

package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/tokenhealth"
	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity"
	"github.com/velqbo/velqbo/velocity/bigcommerce"
)

// errNotConnected is returned when no QBO company is connected yet.
var errNotConnected = errors.New("not connected to QuickBooks Online: run `velqbo connect` first")

// openStore opens the existing database: every command but connect, demo
// and an unconfigured daemon works on a ledger that is already there, and
// must not leave an empty one behind a mistyped --db. A missing file is
// exit code 3 with noDatabase's message. The token key is passed when
// configured, so commands that never touch tokens work without
// VELQBO_SECRET_KEY.
func (m *Main) openStore(ctx context.Context) (*schema.Store, error) {
	return m.open(ctx, schema.ExistingOnly())
}

// createStore opens the database, creating it when missing (connect, demo,
// daemon --allow-unconfigured).
func (m *Main) createStore(ctx context.Context) (*schema.Store, error) {
	return m.open(ctx)
}

func (m *Main) open(ctx context.Context, extra ...schema.Option) (*schema.Store, error) {
	opts := append([]schema.Option{schema.WithClock(m.Now)}, extra...)
	if m.Config.SecretKey != "" {
		key, err := m.Config.Key()
		if err != nil {
			return nil, err
		}
		opts = append(opts, schema.WithTokenKey(key))
	}
	st, err := schema.Open(ctx, m.Config.DB, opts...)
	if errors.Is(err, schema.ErrNoDatabase) {
		return nil, unavailable(m.noDatabase())
	}
	if err != nil {
		return nil, unavailable(fmt.Errorf("open database %s: %w", m.Config.DB, err))
	}
	return st, nil
}

// noDatabase says that the configured database file does not exist and how
// to get one; it wraps schema.ErrNoDatabase.
func (m *Main) noDatabase() error { return noDatabaseError{path: m.Config.DB} }

type noDatabaseError struct{ path string }

func (e noDatabaseError) Error() string {
	return fmt.Sprintf("no database at %s: run `velqbo connect` to start one, or point --db (VELQBO_DB) at the ledger", e.path)
}

func (e noDatabaseError) Unwrap() error { return schema.ErrNoDatabase }

// oauthConfig is the OAuth client of the QBO app, with Intuit's endpoints
// unless overridden.
func (m *Main) oauthConfig(redirectURL string) (*oauth2.Config, error) {
	c := m.Config.QBO
	if c.ClientID == "" || c.ClientSecret == "" {
		return nil, &ConfigValidationError{Field: "VELQBO_QBO_CLIENT_ID/VELQBO_QBO_CLIENT_SECRET", Err: errors.New("the QBO app's credentials are required (from the Intuit developer portal)")}
	}
	conf := qbo.NewOAuthConfig(c.ClientID, c.ClientSecret, redirectURL)
	if c.TokenURL != "" {
		conf.Endpoint.TokenURL = c.TokenURL
	}
	if c.AuthURL != "" {
		conf.Endpoint.AuthURL = c.AuthURL
	}
	return conf, nil
}

func (m *Main) revokeURL() string {
	if m.Config.QBO.RevokeURL != "" {
		return m.Config.QBO.RevokeURL
	}
	return qbo.RevokeURL
}

// saveToken is the TokenSource's save callback: every refreshed token, and
// with it a rotated refresh token, is stored encrypted before it is used.
func (m *Main) saveToken(st *schema.Store, realm string, prev string) qbo.SaveFunc {
	return func(ctx context.Context, tok *oauth2.Token) error {
		now := m.Now()
		t := schema.Token{
			Realm:            realm,
			RefreshToken:     tok.RefreshToken,
			AccessToken:      tok.AccessToken,
			AccessExpiresAt:  tok.Expiry,
			RefreshExpiresAt: qbo.RefreshTokenExpiry(tok, now),
		}
		if old, err := st.LoadToken(ctx, realm); err == nil {
			t.RefreshRotatedAt = old.RefreshRotatedAt
			t.HardExpiresAt = old.HardExpiresAt
			if t.RefreshExpiresAt.IsZero() {
				t.RefreshExpiresAt = old.RefreshExpiresAt
			}
			prev = old.RefreshToken
		}
		if tok.RefreshToken != prev || t.RefreshRotatedAt.IsZero() {
			t.RefreshRotatedAt = now
		}
		if v, ok := extraSeconds(tok, "x_refresh_token_hard_expires_in"); ok {
			t.HardExpiresAt = now.Add(v)
		}
		return st.SaveToken(ctx, t)
	}
}

func extraSeconds(tok *oauth2.Token, key string) (time.Duration, bool) {
	switch v := tok.Extra(key).(type) {
	case float64:
		return time.Duration(v) * time.Second, v > 0
	case int64:
		return time.Duration(v) * time.Second, v > 0
	}
	return 0, false
}

// qboConn is a connected QBO client and the token source behind it.
type qboConn struct {
	Client *qbo.Client
	TS     *qbo.TokenSource
	Realm  string
}

// connectQBO builds the QBO client from the stored token of the connected
// company. It returns errNotConnected (exit code 3) when there is none.
func (m *Main) connectQBO(ctx context.Context, st *schema.Store) (*qboConn, error) {
	infos, err := st.Tokens(ctx)
	if err != nil {
		return nil, err
	}
	if len(infos) == 0 {
		return nil, unavailable(errNotConnected)
	}
	if len(infos) > 1 {
		return nil, unavailable(fmt.Errorf("more than one QBO company is connected; run `velqbo disconnect` for all but one"))
	}
	realm := infos[0].Realm
	tok, err := st.LoadToken(ctx, realm)
	if err != nil {
		return nil, unavailable(fmt.Errorf("load QBO token: %w", err))
	}
	return m.newQBOConn(realm, &oauth2.Token{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: tok.AccessExpiresAt, TokenType: "Bearer"}, st)
}

func (m *Main) newQBOConn(realm string, tok *oauth2.Token, st *schema.Store) (*qboConn, error) {
	conf, err := m.oauthConfig("")
	if err != nil {
		return nil, err
	}
	base := http.DefaultTransport
	ts := qbo.NewTokenSource(conf, tok, m.saveToken(st, realm, tok.RefreshToken), &http.Client{Transport: base, Timeout: 60 * time.Second}, m.Now)
	c := m.Config.QBO
	if m.intr != nil {
		base = inflightTransport{base: base, n: &m.intr.writes}
	}
	client, err := qbo.NewClient(ts.HTTPClient(base), append([]qbo.Option{
		qbo.WithBaseURL(m.Config.APIBaseURL()),
		qbo.WithRealmID(realm),
		qbo.WithMinorVersion(c.MinorVersion),
		qbo.WithUserAgent("velqbo/" + version),
		qbo.WithPacing(qbo.Pacing{RequestsPerMinute: c.RequestsPerMinute, BatchRequestsPerMinute: c.BatchesPerMinute, MaxInFlight: c.Concurrency}),
		qbo.WithTimeout(c.Timeout),
		qbo.WithTokenInvalidator(ts),
		// QBO counts requests per company: every process on this ledger
		// paces against the same windows.
		qbo.WithWindowStore(reconcile.PaceWindows{St: st}, m.paceStoreFailed),
	}, m.QBOOptions...)...)
	if err != nil {
		return nil, err
	}
	return &qboConn{Client: client, TS: ts, Realm: realm}, nil
}

// paceStoreFailed logs an error of the ledger's pacing windows; the
// request was paced by its own process's windows instead.
func (m *Main) paceStoreFailed(err error) {
	if m.Log == nil {
		return
	}
	m.Log.WithError(err).Warn("QBO pacing: the shared windows in the database failed; pacing this request alone")
}

// errTokenRejected is what every command says when Intuit refuses the
// stored refresh token.
var errTokenRejected = errors.New(tokenhealth.RejectedText)

// qboError turns errors that mean "could not run" into exit code 3 with a
// message that says what to do.
func qboError(err error) error {
	if errors.Is(err, qbo.ErrTokenRejected) {
		return unavailable(errTokenRejected)
	}
	if qbo.IsAuth(err) {
		return unavailable(fmt.Errorf("QuickBooks refused the credentials: %w; run `velqbo connect` again", err))
	}
	return err
}

// sourceAPI is a source read over HTTP, *velocity.Client or
// *bigcommerce.Client: besides the lists a run reads, one order or
// customer by id and the profile write-back of `customers sync --keep qbo`.
type sourceAPI interface {
	velocity.Source
	GetOrder(ctx context.Context, id string) (*velocity.Order, error)
	GetCustomer(ctx context.Context, id string) (*velocity.Customer, error)
	reconcile.CustomerPatcher
}

var (
	_ sourceAPI = (*velocity.Client)(nil)
	_ sourceAPI = (*bigcommerce.Client)(nil)
)

// velocitySource is the configured source of orders, customers and
// products: the BigCommerce store when VELQBO_SOURCE=bigcommerce, else the
// Velocity export file when one is set, else the Velocity API. The API
// client is nil for an export file.
func (m *Main) velocitySource() (velocity.Source, sourceAPI, error) {
	if m.Config.Source == sourceBigCommerce {
		c, err := m.bigCommerceSource()
		if err != nil {
			return nil, nil, err
		}
		return c, c, nil
	}
	if m.Config.Velocity.File != "" {
		return velocity.OpenFileSource(m.Config.Velocity.File), nil, nil
	}
	if m.Config.Velocity.URL == "" || m.Config.Velocity.Token == "" {
		return nil, nil, &ConfigValidationError{Field: "VELQBO_VELOCITY_URL/VELQBO_VELOCITY_TOKEN", Err: errors.New("set the Velocity API URL and token, or --velocity-file for an export")}
	}
	c, err := velocity.NewClient(m.Config.Velocity.URL, m.Config.Velocity.Token, append([]velocity.Option{velocity.WithUserAgent("velqbo/" + version)}, m.VelocityOptions...)...)
	if err != nil {
		return nil, nil, &ConfigValidationError{Field: "VELQBO_VELOCITY_URL", Value: m.Config.Velocity.URL, Err: err}
	}
	return c, c, nil
}

// bigCommerceSource is the BigCommerce client of the configuration. Its
// reporting rules (bigcommerce.statuses, bigcommerce.terms) are settings
// in the ledger, read when the client first reads orders.
func (m *Main) bigCommerceSource() (*bigcommerce.Client, error) {
	bc := m.Config.BigCommerce
	if bc.StoreHash == "" || bc.Token == "" {
		return nil, &ConfigValidationError{Field: "VELQBO_BIGCOMMERCE_STORE_HASH/VELQBO_BIGCOMMERCE_TOKEN", Err: errors.New("set the store hash and the access token of a store-level API account")}
	}
	loader := func(ctx context.Context) (bigcommerce.Config, error) {
		st, err := m.openStore(ctx)
		if err != nil {
			return bigcommerce.Config{}, err
		}
		defer st.Close()
		all, err := st.Settings(ctx)
		if err != nil {
			return bigcommerce.Config{}, err
		}
		return reconcile.BigCommerceConfig(all)
	}
	opts := append([]bigcommerce.Option{bigcommerce.WithUserAgent("velqbo/" + version), bigcommerce.WithConfigLoader(loader),
		bigcommerce.WithQuotaShare(cmp.Or(bc.QuotaShare, bigcommerce.DefaultQuotaShare))}, m.BigCommerceOptions...)
	c, err := bigcommerce.NewClient(cmp.Or(bc.APIURL, bigcommerce.DefaultAPIURL), bc.StoreHash, bc.Token, opts...)
	if err != nil {
		return nil, &ConfigValidationError{Field: "VELQBO_BIGCOMMERCE_API_URL/VELQBO_BIGCOMMERCE_STORE_HASH", Value: bc.APIURL, Err: err}
	}
	return c, nil
}

// timeZero asks a source for everything.
var timeZero time.Time

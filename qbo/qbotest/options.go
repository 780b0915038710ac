package qbotest

import (
	"time"

	"github.com/velqbo/velqbo/internal/clock"
)

// DefaultRealm is the company (realm) id a Server serves unless WithRealm says otherwise.
const DefaultRealm = "9130350000000000"

// Default OAuth client credentials accepted by the token endpoint.
const (
	DefaultClientID     = "qbotest-client-id"
	DefaultClientSecret = "qbotest-client-secret"
)

// Limits are the pacing limits the Server enforces per realm, as QBO does.
// A value <= 0 disables that limit.
type Limits struct {
	// RequestsPerMinute counts every API request, batches included (QBO: 500).
	RequestsPerMinute int
	// BatchPerMinute counts batch requests only (QBO: 40).
	BatchPerMinute int
	// Concurrent is the number of API requests in flight at once (QBO: 10).
	Concurrent int
}

// DefaultLimits are QBO's documented production limits.
var DefaultLimits = Limits{RequestsPerMinute: 500, BatchPerMinute: 40, Concurrent: 10}

type config struct {
	realm             string
	clock             clock.Clock
	limits            Limits
	dupDocNumberFault bool
	homeCurrency      string
	companyName       string
	clientID          string
	clientSecret      string
	rotateEvery       time.Duration
	refreshGrace      time.Duration
	refreshTTL        time.Duration
	accessTTL         time.Duration
	denyAuthorize     bool
	autoConsent       bool
	appName           string
	tokenPath         string
	defaultMax        int
}

func defaultConfig() config {
	return config{
		realm:        DefaultRealm,
		clock:        clock.Real{},
		limits:       DefaultLimits,
		homeCurrency: "USD",
		companyName:  "Velqbo Test Company",
		appName:      "velqbo",
		clientID:     DefaultClientID,
		clientSecret: DefaultClientSecret,
		refreshTTL:   8726400 * time.Second, // 101 days, the rolling expiry Intuit reports
		accessTTL:    time.Hour,
		tokenPath:    "/oauth2/v1/tokens/bearer",
		defaultMax:   100,
	}
}

// Option configures a Server.
type Option func(*config)

// WithRealm sets the realm id (company id) the server serves.
func WithRealm(id string) Option { return func(c *config) { c.realm = id } }

// WithClock sets the clock used for token expiry, pacing windows, MetaData
// times, the "time" envelope field and Injection.Latency waits (default
// clock.Real). Tests pass a clock.Fake, shared with the client, so latency
// costs no wall time.
func WithClock(clk clock.Clock) Option { return func(c *config) { c.clock = clk } }

// WithLimits replaces the pacing limits; a field <= 0 disables that limit.
func WithLimits(l Limits) Option { return func(c *config) { c.limits = l } }

// WithoutLimits disables all pacing limits.
func WithoutLimits() Option { return func(c *config) { c.limits = Limits{} } }

// WithDuplicateDocNumberFault turns on the company preference that makes QBO
// reject a duplicate DocNumber with fault 6140. QBO's default (and this
// server's) is to accept duplicates silently.
func WithDuplicateDocNumberFault(on bool) Option {
	return func(c *config) { c.dupDocNumberFault = on }
}

// WithHomeCurrency sets the company's home currency code (default "USD").
func WithHomeCurrency(code string) Option { return func(c *config) { c.homeCurrency = code } }

// WithCompanyName sets CompanyInfo.CompanyName.
func WithCompanyName(name string) Option { return func(c *config) { c.companyName = name } }

// WithClientCredentials sets the OAuth client id and secret the token endpoint accepts.
func WithClientCredentials(id, secret string) Option {
	return func(c *config) { c.clientID, c.clientSecret = id, secret }
}

// WithRefreshRotation sets how old a refresh token must be before a refresh
// returns a new value. The default, 0, rotates on every use: the harshest case.
// Intuit rotates about every 24 hours.
func WithRefreshRotation(every time.Duration) Option {
	return func(c *config) { c.rotateEvery = every }
}

// WithRefreshGrace lets a superseded refresh token keep working for d after
// it was replaced. The default is 0: a superseded token fails at once.
func WithRefreshGrace(d time.Duration) Option { return func(c *config) { c.refreshGrace = d } }

// WithAccessTokenTTL sets the access token lifetime (default 1 hour, expires_in 3600).
func WithAccessTokenTTL(d time.Duration) Option { return func(c *config) { c.accessTTL = d } }

// WithDenyAuthorize makes the authorize endpoint redirect with error=access_denied
// at once, as when the user clicks Cancel on Intuit's consent page.
func WithDenyAuthorize(deny bool) Option { return func(c *config) { c.denyAuthorize = deny } }

// WithTokenPath changes the token endpoint path (default /oauth2/v1/tokens/bearer).
func WithTokenPath(p string) Option { return func(c *config) { c.tokenPath = p } }

// WithDefaultMaxResults sets the page size used when a query has no MAXRESULTS
// (default 100, so a client that relies on an implicit page size is caught).
func WithDefaultMaxResults(n int) Option { return func(c *config) { c.defaultMax = n } }

// WithAutoConsent makes the authorize endpoint redirect with a code at once,
// as if the user had clicked Connect, instead of showing the consent page:
// for tests whose "browser" only follows redirects.
func WithAutoConsent(on bool) Option { return func(c *config) { c.autoConsent = on } }

// WithAppName sets the app name the consent page shows (default "velqbo").
func WithAppName(name string) Option { return func(c *config) { c.appName = name } }

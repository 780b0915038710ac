package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/reconcile"
	"github.com/velqbo/velqbo/velocity/bigcommerce"
)

// Config is velqbo's whole configuration. It is filled, lowest precedence
// first, from DefaultConfig, the YAML file, the environment and the flags
// (docs/cli.md "Configuration"). Secrets (client secret, Velocity token,
// secret key) have no flag: flags show in `ps`.
type Config struct {
	ConfigFile string `yaml:"-"`
	DB         string `yaml:"db"`

	QBO      QBOConfig      `yaml:"qbo"`
	Velocity VelocityConfig `yaml:"velocity"`
	// Source is where orders come from: "velocity" (the Velocity API
	// contract or an export; the default) or "bigcommerce" (the store's
	// BigCommerce REST API).
	Source      string            `yaml:"source"`
	BigCommerce BigCommerceConfig `yaml:"bigcommerce"`

	// SecretKey is VELQBO_SECRET_KEY: 32 random bytes, base64. It encrypts
	// the stored OAuth tokens.
	SecretKey string `yaml:"secret_key"`
	Timezone  string `yaml:"timezone"`
	Schedule  string `yaml:"schedule"`
	Listen    string `yaml:"listen"`
	LogFormat string `yaml:"log_format"`
	LogLevel  string `yaml:"log_level"`
	// AlertWebhook receives JSON alerts from the daemon (optional).
	AlertWebhook string `yaml:"alert_webhook"`
	// MetricsToken, when set, is the bearer token /metrics requires;
	// unset, /metrics is served on a loopback listener only.
	MetricsToken string `yaml:"metrics_token"`
	// Console is the web console the daemon serves (docs/console.md).
	Console ConsoleConfig `yaml:"console"`
}

// ConsoleConfig is the web console's part of the configuration.
type ConsoleConfig struct {
	// Off serves only /healthz and /metrics on the listener.
	Off bool `yaml:"off"`
	// SecureCookies marks the session cookie Secure although the
	// console is served over plain HTTP: set it behind a proxy that
	// terminates TLS.
	SecureCookies bool `yaml:"secure_cookies"`
	// IdleTimeout ends a session unused this long; SessionMaxAge ends any
	// session this long after its login.
	IdleTimeout   time.Duration `yaml:"idle_timeout"`
	SessionMaxAge time.Duration `yaml:"session_max_age"`
}

// QBOConfig is the QuickBooks Online side: app credentials, endpoints and pacing.
type QBOConfig struct {
	Env          string `yaml:"env"` // production or sandbox
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
	APIURL       string `yaml:"api_url"`
	TokenURL     string `yaml:"token_url"`
	AuthURL      string `yaml:"auth_url"`
	RevokeURL    string `yaml:"revoke_url"`
	RedirectURL  string `yaml:"redirect_url"`
	MinorVersion int    `yaml:"minor_version"`

	RequestsPerMinute int `yaml:"requests_per_minute"`
	BatchesPerMinute  int `yaml:"batches_per_minute"`
	Concurrency       int `yaml:"concurrency"`
	// Timeout bounds one QBO call, retries included (qbo.WithTimeout). A
	// create of a run that died is not taken for absent, nor sent again,
	// until this plus LandMargin after it was sent.
	Timeout time.Duration `yaml:"timeout"`
	// LandMargin is how long after velqbo gave up on a write QBO may still
	// commit it (reconcile.Reconciler.LandMargin); default one minute.
	LandMargin time.Duration `yaml:"land_margin"`
}

// VelocityConfig is the source: the HTTP API, or an NDJSON export file.
type VelocityConfig struct {
	URL   string `yaml:"url"`
	Token string `yaml:"token"`
	File  string `yaml:"file"`
}

// BigCommerceConfig is the BigCommerce source: the store's API path and
// the access token of a store-level API account.
type BigCommerceConfig struct {
	StoreHash string `yaml:"store_hash"`
	Token     string `yaml:"token"`
	// APIURL is BigCommerce's API gateway; /stores/{hash}/v2|v3/... is
	// appended (tests point it at bctest).
	APIURL string `yaml:"api_url"`
	// QuotaShare is the share of the store's rate-limit quota per window
	// velqbo may spend, in (0, 1]: the quota is shared by every app on the
	// store, so velqbo leaves the rest to them.
	QuotaShare float64 `yaml:"quota_share"`
}

// Sources of orders (VELQBO_SOURCE).
const (
	sourceVelocity    = "velocity"
	sourceBigCommerce = "bigcommerce"
)

// sourceName is how reasons name the configured source of orders.
func (c *Config) sourceName() string {
	if c.Source == sourceBigCommerce {
		return "BigCommerce"
	}
	return "Velocity"
}

// Intuit's documented production and sandbox API hosts (docs/qbo-notes.md §1.1).
const (
	qboProductionAPI = "https://quickbooks.api.intuit.com"
	qboSandboxAPI    = "https://sandbox-quickbooks.api.intuit.com"
)

// DefaultConfig returns the defaults of docs/cli.md "Configuration".
func DefaultConfig() Config {
	return Config{
		DB: "./velqbo.db",
		QBO: QBOConfig{
			Env:               "production",
			MinorVersion:      75,
			RequestsPerMinute: 500,
			BatchesPerMinute:  40,
			Concurrency:       10,
			Timeout:           qbo.DefaultTimeout,
			LandMargin:        reconcile.DefaultLandMargin,
		},
		Source:      sourceVelocity,
		BigCommerce: BigCommerceConfig{APIURL: bigcommerce.DefaultAPIURL, QuotaShare: bigcommerce.DefaultQuotaShare},
		Timezone:    "UTC",
		Schedule:    "0 2 * * *",
		Listen:      "127.0.0.1:8089",
		LogFormat:   "text",
		LogLevel:    "info",
		Console:     ConsoleConfig{IdleTimeout: 30 * time.Minute, SessionMaxAge: 12 * time.Hour},
	}
}

// errQuotaShare is why a VELQBO_BIGCOMMERCE_QUOTA_SHARE is refused: it is
// not in (0, 1].
var errQuotaShare = errors.New("must be more than 0 and at most 1 (a share of the store's quota, e.g. 0.5)")

// ConfigValidationError names the setting that is wrong and why. It maps to
// exit code 2.
type ConfigValidationError struct {
	Field string // the environment variable, flag or YAML key
	Value string // omitted for secrets
	Err   error
}

func (e *ConfigValidationError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("config: %s: %v", e.Field, e.Err)
	}
	return fmt.Sprintf("config: %s=%q: %v", e.Field, e.Value, e.Err)
}

func (e *ConfigValidationError) Unwrap() error { return e.Err }

// readConfigFile parses a YAML config file, expanding ${VAR} from getenv
// first so secrets can stay in the environment. A missing default file is
// not an error; a missing explicit one is.
func readConfigFile(path string, explicit bool, getenv func(string) string, c *Config) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return nil
	}
	if err != nil {
		return &ConfigValidationError{Field: "--config", Value: path, Err: err}
	}
	expanded := os.Expand(string(b), getenv)
	dec := yaml.NewDecoder(strings.NewReader(expanded))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) { // io.EOF: an empty file
		return &ConfigValidationError{Field: "--config", Value: path, Err: err}
	}
	c.ConfigFile = path
	return nil
}

// applyEnv overlays the VELQBO_* environment on c.
func applyEnv(c *Config, getenv func(string) string) error {
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	num := func(name string, dst *int) error {
		v := getenv(name)
		if v == "" {
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return &ConfigValidationError{Field: name, Value: v, Err: errors.New("not a whole number")}
		}
		*dst = n
		return nil
	}
	str("VELQBO_DB", &c.DB)
	str("VELQBO_QBO_ENV", &c.QBO.Env)
	str("VELQBO_QBO_CLIENT_ID", &c.QBO.ClientID)
	str("VELQBO_QBO_CLIENT_SECRET", &c.QBO.ClientSecret)
	str("VELQBO_QBO_API_URL", &c.QBO.APIURL)
	str("VELQBO_QBO_TOKEN_URL", &c.QBO.TokenURL)
	str("VELQBO_QBO_AUTH_URL", &c.QBO.AuthURL)
	str("VELQBO_QBO_REVOKE_URL", &c.QBO.RevokeURL)
	str("VELQBO_QBO_REDIRECT_URL", &c.QBO.RedirectURL)
	str("VELQBO_VELOCITY_URL", &c.Velocity.URL)
	str("VELQBO_VELOCITY_TOKEN", &c.Velocity.Token)
	str("VELQBO_VELOCITY_FILE", &c.Velocity.File)
	str("VELQBO_SOURCE", &c.Source)
	str("VELQBO_BIGCOMMERCE_STORE_HASH", &c.BigCommerce.StoreHash)
	str("VELQBO_BIGCOMMERCE_TOKEN", &c.BigCommerce.Token)
	str("VELQBO_BIGCOMMERCE_API_URL", &c.BigCommerce.APIURL)
	if v := getenv("VELQBO_BIGCOMMERCE_QUOTA_SHARE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return &ConfigValidationError{Field: "VELQBO_BIGCOMMERCE_QUOTA_SHARE", Value: v, Err: errors.New("not a number (e.g. 0.5)")}
		}
		c.BigCommerce.QuotaShare = f
	}
	str("VELQBO_SECRET_KEY", &c.SecretKey)
	str("VELQBO_TIMEZONE", &c.Timezone)
	str("VELQBO_SCHEDULE", &c.Schedule)
	str("VELQBO_LISTEN", &c.Listen)
	str("VELQBO_ALERT_WEBHOOK", &c.AlertWebhook)
	str("VELQBO_METRICS_TOKEN", &c.MetricsToken)
	for name, dst := range map[string]*bool{
		"VELQBO_CONSOLE_OFF":            &c.Console.Off,
		"VELQBO_CONSOLE_SECURE_COOKIES": &c.Console.SecureCookies,
	} {
		if v := getenv(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return &ConfigValidationError{Field: name, Value: v, Err: errors.New("must be true or false")}
			}
			*dst = b
		}
	}
	for name, dst := range map[string]*time.Duration{
		"VELQBO_QBO_TIMEOUT":     &c.QBO.Timeout,
		"VELQBO_QBO_LAND_MARGIN": &c.QBO.LandMargin,

		"VELQBO_CONSOLE_IDLE_TIMEOUT":    &c.Console.IdleTimeout,
		"VELQBO_CONSOLE_SESSION_MAX_AGE": &c.Console.SessionMaxAge,
	} {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return &ConfigValidationError{Field: name, Value: v, Err: errors.New("not a duration (e.g. 2m, 90s)")}
			}
			*dst = d
		}
	}
	for name, dst := range map[string]*int{
		"VELQBO_QBO_MINOR_VERSION":       &c.QBO.MinorVersion,
		"VELQBO_QBO_REQUESTS_PER_MINUTE": &c.QBO.RequestsPerMinute,
		"VELQBO_QBO_BATCHES_PER_MINUTE":  &c.QBO.BatchesPerMinute,
		"VELQBO_QBO_CONCURRENCY":         &c.QBO.Concurrency,
	} {
		if err := num(name, dst); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks the settings every command needs. Settings only some
// commands need (credentials, the secret key) are checked where they are used.
func (c *Config) Validate() error {
	switch c.QBO.Env {
	case "production", "sandbox":
	default:
		return &ConfigValidationError{Field: "VELQBO_QBO_ENV", Value: c.QBO.Env, Err: errors.New("must be production or sandbox")}
	}
	if c.DB == "" {
		return &ConfigValidationError{Field: "VELQBO_DB", Err: errors.New("must not be empty")}
	}
	switch c.Source {
	case sourceVelocity, "":
	case sourceBigCommerce:
		if c.Velocity.File != "" {
			return &ConfigValidationError{Field: "VELQBO_SOURCE", Value: c.Source, Err: errors.New("reads the BigCommerce API, and --velocity-file (VELQBO_VELOCITY_FILE) a Velocity export: set one of them")}
		}
	default:
		return &ConfigValidationError{Field: "VELQBO_SOURCE", Value: c.Source, Err: errors.New("must be velocity or bigcommerce")}
	}
	if q := c.BigCommerce.QuotaShare; !(q > 0 && q <= 1) {
		return &ConfigValidationError{Field: "VELQBO_BIGCOMMERCE_QUOTA_SHARE", Value: strconv.FormatFloat(q, 'g', -1, 64), Err: errQuotaShare}
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		return &ConfigValidationError{Field: "VELQBO_TIMEZONE", Value: c.Timezone, Err: errors.New("unknown time zone")}
	}
	if _, err := cron.ParseStandard(c.Schedule); err != nil {
		return &ConfigValidationError{Field: "VELQBO_SCHEDULE", Value: c.Schedule, Err: err}
	}
	if c.QBO.MinorVersion < 75 {
		// Intuit serves anything below 75 as 75 since 1 Aug 2025 (docs/qbo-notes.md §1.6).
		return &ConfigValidationError{Field: "VELQBO_QBO_MINOR_VERSION", Value: strconv.Itoa(c.QBO.MinorVersion), Err: errors.New("must be 75 or higher")}
	}
	for _, p := range []struct {
		name string
		v    int
	}{
		{"VELQBO_QBO_REQUESTS_PER_MINUTE", c.QBO.RequestsPerMinute},
		{"VELQBO_QBO_BATCHES_PER_MINUTE", c.QBO.BatchesPerMinute},
		{"VELQBO_QBO_CONCURRENCY", c.QBO.Concurrency},
	} {
		if p.v < 1 {
			return &ConfigValidationError{Field: p.name, Value: strconv.Itoa(p.v), Err: errors.New("must be at least 1")}
		}
	}
	if c.QBO.LandMargin < time.Second {
		return &ConfigValidationError{Field: "VELQBO_QBO_LAND_MARGIN", Value: c.QBO.LandMargin.String(), Err: errors.New("must be at least 1s")}
	}
	if c.QBO.Timeout < time.Second {
		return &ConfigValidationError{Field: "VELQBO_QBO_TIMEOUT", Value: c.QBO.Timeout.String(), Err: errors.New("must be at least 1s")}
	}
	if c.Console.IdleTimeout < time.Minute {
		return &ConfigValidationError{Field: "VELQBO_CONSOLE_IDLE_TIMEOUT", Value: c.Console.IdleTimeout.String(), Err: errors.New("must be at least 1m")}
	}
	if c.Console.SessionMaxAge < c.Console.IdleTimeout {
		return &ConfigValidationError{Field: "VELQBO_CONSOLE_SESSION_MAX_AGE", Value: c.Console.SessionMaxAge.String(), Err: errors.New("must be at least the idle timeout")}
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return &ConfigValidationError{Field: "--log-format", Value: c.LogFormat, Err: errors.New("must be text or json")}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "warning", "error":
	default:
		return &ConfigValidationError{Field: "--log-level", Value: c.LogLevel, Err: errors.New("must be debug, info, warn or error")}
	}
	if c.SecretKey != "" {
		if _, err := c.Key(); err != nil {
			return err
		}
	}
	return nil
}

// APIBaseURL is the QBO API host for the configured environment, unless overridden.
func (c *Config) APIBaseURL() string {
	if c.QBO.APIURL != "" {
		return strings.TrimRight(c.QBO.APIURL, "/")
	}
	if c.QBO.Env == "sandbox" {
		return qboSandboxAPI
	}
	return qboProductionAPI
}

// Location is the business time zone; Validate has checked it.
func (c *Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Key decodes VELQBO_SECRET_KEY. It returns a *ConfigValidationError when the
// key is missing or is not 32 bytes of base64; the value is never echoed.
func (c *Config) Key() ([]byte, error) {
	if c.SecretKey == "" {
		return nil, &ConfigValidationError{Field: "VELQBO_SECRET_KEY", Err: errors.New("required to store or read QBO tokens: generate one with `openssl rand -base64 32`")}
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(c.SecretKey))
	if err != nil || len(k) != 32 {
		return nil, &ConfigValidationError{Field: "VELQBO_SECRET_KEY", Err: errors.New("must be 32 random bytes in base64 (`openssl rand -base64 32`)")}
	}
	return k, nil
}

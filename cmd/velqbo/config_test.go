package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// envFunc turns a map into a Getenv.
func envFunc(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

func TestMain_LoadConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "velqbo.yaml")
	if err := os.WriteFile(file, []byte("db: from-file.db\ntimezone: America/Chicago\nqbo:\n  client_secret: ${MY_SECRET}\n  concurrency: 4\nvelocity:\n  url: https://file.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, c Config)
	}{
		{
			name: "Defaults",
			args: []string{"version"},
			check: func(t *testing.T, c Config) {
				if got, want := c.DB, "./velqbo.db"; got != want {
					t.Errorf("DB: got %q; want %q", got, want)
				}
				if got, want := c.QBO.RequestsPerMinute, 500; got != want {
					t.Errorf("RequestsPerMinute: got %d; want %d", got, want)
				}
				if got, want := c.QBO.Timeout, 5*time.Minute; got != want {
					t.Errorf("QBO Timeout: got %v; want %v", got, want)
				}
				if got, want := c.APIBaseURL(), qboProductionAPI; got != want {
					t.Errorf("APIBaseURL: got %q; want %q", got, want)
				}
			},
		},
		{
			name: "FileExpandsEnv",
			args: []string{"--config", file, "version"},
			env:  map[string]string{"MY_SECRET": "s3cret"},
			check: func(t *testing.T, c Config) {
				if got, want := c.QBO.ClientSecret, "s3cret"; got != want {
					t.Errorf("ClientSecret: got %q; want %q", got, want)
				}
				if got, want := c.DB, "from-file.db"; got != want {
					t.Errorf("DB: got %q; want %q", got, want)
				}
				if got, want := c.QBO.Concurrency, 4; got != want {
					t.Errorf("Concurrency: got %d; want %d", got, want)
				}
			},
		},
		{
			name: "EnvOverFile",
			args: []string{"version"},
			env: map[string]string{"VELQBO_CONFIG": file, "VELQBO_DB": "env.db", "VELQBO_QBO_CONCURRENCY": "2", "VELQBO_QBO_ENV": "sandbox",
				"VELQBO_QBO_TIMEOUT": "90s", "VELQBO_QBO_LAND_MARGIN": "3m"},
			check: func(t *testing.T, c Config) {
				if got, want := c.QBO.LandMargin, 3*time.Minute; got != want {
					t.Errorf("QBO LandMargin: got %v; want %v", got, want)
				}
				if got, want := c.QBO.Timeout, 90*time.Second; got != want {
					t.Errorf("QBO Timeout: got %v; want %v", got, want)
				}
				if got, want := c.DB, "env.db"; got != want {
					t.Errorf("DB: got %q; want %q", got, want)
				}
				if got, want := c.QBO.Concurrency, 2; got != want {
					t.Errorf("Concurrency: got %d; want %d", got, want)
				}
				if got, want := c.APIBaseURL(), qboSandboxAPI; got != want {
					t.Errorf("APIBaseURL: got %q; want %q", got, want)
				}
			},
		},
		{
			name: "FlagOverEnvAfterCommand",
			args: []string{"version", "--db", "flag.db"},
			env:  map[string]string{"VELQBO_CONFIG": file, "VELQBO_DB": "env.db"},
			check: func(t *testing.T, c Config) {
				if got, want := c.DB, "flag.db"; got != want {
					t.Errorf("DB: got %q; want %q", got, want)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: envFunc(tt.env)}
			if code := m.Run(t.Context(), tt.args); code != exitOK {
				t.Fatalf("exit code: got %d; want 0 (stderr %q)", code, stderr.String())
			}
			tt.check(t, m.Config)
		})
	}
}

func TestMain_Run_UsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want int
	}{
		{"NoCommand", nil, nil, exitUsage},
		{"UnknownCommand", []string{"frobnicate"}, nil, exitUsage},
		{"UnknownFlag", []string{"version", "--nope"}, nil, exitUsage},
		{"BadTimezone", []string{"version"}, map[string]string{"VELQBO_TIMEZONE": "Mars/Olympus"}, exitUsage},
		{"BadNumber", []string{"version"}, map[string]string{"VELQBO_QBO_CONCURRENCY": "ten"}, exitUsage},
		{"ZeroPacing", []string{"version"}, map[string]string{"VELQBO_QBO_REQUESTS_PER_MINUTE": "0"}, exitUsage},
		{"BadTimeout", []string{"version"}, map[string]string{"VELQBO_QBO_TIMEOUT": "two minutes"}, exitUsage},
		{"ShortTimeout", []string{"version"}, map[string]string{"VELQBO_QBO_TIMEOUT": "10ms"}, exitUsage},
		{"BadLandMargin", []string{"version"}, map[string]string{"VELQBO_QBO_LAND_MARGIN": "a bit"}, exitUsage},
		{"ShortLandMargin", []string{"version"}, map[string]string{"VELQBO_QBO_LAND_MARGIN": "10ms"}, exitUsage},
		{"BadEnv", []string{"version"}, map[string]string{"VELQBO_QBO_ENV": "staging"}, exitUsage},
		{"BadSchedule", []string{"version"}, map[string]string{"VELQBO_SCHEDULE": "every tuesday"}, exitUsage},
		{"ShortKey", []string{"version"}, map[string]string{"VELQBO_SECRET_KEY": "c2hvcnQ="}, exitUsage},
		{"MissingExplicitConfig", []string{"--config", "/nonexistent/velqbo.yaml", "version"}, nil, exitUsage},
		{"VersionArgs", []string{"version", "extra"}, nil, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: envFunc(tt.env)}
			if got := m.Run(t.Context(), tt.args); got != tt.want {
				t.Errorf("exit code: got %d; want %d (stderr %q)", got, tt.want, stderr.String())
			}
			if stderr.Len() == 0 {
				t.Errorf("stderr is empty; want a message saying what is wrong")
			}
		})
	}
}

func TestConfig_Key(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	c.SecretKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 bytes
	k, err := c.Key()
	if err != nil || len(k) != 32 {
		t.Fatalf("Key: got %d bytes, %v; want 32 bytes, nil", len(k), err)
	}
	c.SecretKey = "not base64!"
	_, err = c.Key()
	var ce *ConfigValidationError
	if !errors.As(err, &ce) {
		t.Fatalf("Key: got %v; want *ConfigValidationError", err)
	}
	if bytes.Contains([]byte(err.Error()), []byte("not base64!")) {
		t.Errorf("error %q echoes the secret", err)
	}
}

// TestMain_LoadConfig_QuotaShare: VELQBO_BIGCOMMERCE_QUOTA_SHARE (or
// bigcommerce.quota_share in the file) defaults to half the store's quota,
// the environment wins over the file, and a share outside (0, 1] is a
// usage error that names the setting.
func TestMain_LoadConfig_QuotaShare(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "velqbo.yaml")
	if err := os.WriteFile(file, []byte("bigcommerce:\n  quota_share: 0.8\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.yaml")
	if err := os.WriteFile(zero, []byte("bigcommerce:\n  quota_share: 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want float64 // when the config loads
		err  string  // in stderr, when it must not
	}{
		{name: "Default", want: 0.5},
		{name: "Env", env: map[string]string{"VELQBO_BIGCOMMERCE_QUOTA_SHARE": "0.25"}, want: 0.25},
		{name: "All", env: map[string]string{"VELQBO_BIGCOMMERCE_QUOTA_SHARE": "1"}, want: 1},
		{name: "File", env: map[string]string{"VELQBO_CONFIG": file}, want: 0.8},
		{name: "EnvOverFile", env: map[string]string{"VELQBO_CONFIG": file, "VELQBO_BIGCOMMERCE_QUOTA_SHARE": "0.3"}, want: 0.3},
		{name: "Zero", env: map[string]string{"VELQBO_BIGCOMMERCE_QUOTA_SHARE": "0"},
			err: `config: VELQBO_BIGCOMMERCE_QUOTA_SHARE="0": must be more than 0 and at most 1`},
		{name: "ZeroInFile", env: map[string]string{"VELQBO_CONFIG": zero},
			err: `config: VELQBO_BIGCOMMERCE_QUOTA_SHARE="0": must be more than 0 and at most 1`},
		{name: "MoreThanAll", env: map[string]string{"VELQBO_BIGCOMMERCE_QUOTA_SHARE": "1.5"},
			err: `config: VELQBO_BIGCOMMERCE_QUOTA_SHARE="1.5": must be more than 0 and at most 1`},
		{name: "Negative", env: map[string]string{"VELQBO_BIGCOMMERCE_QUOTA_SHARE": "-0.5"},
			err: `config: VELQBO_BIGCOMMERCE_QUOTA_SHARE="-0.5": must be more than 0 and at most 1`},
		{name: "NaN", env: map[string]string{"VELQBO_BIGCOMMERCE_QUOTA_SHARE": "NaN"},
			err: `config: VELQBO_BIGCOMMERCE_QUOTA_SHARE="NaN": must be more than 0 and at most 1`},
		{name: "NotANumber", env: map[string]string{"VELQBO_BIGCOMMERCE_QUOTA_SHARE": "half"},
			err: `config: VELQBO_BIGCOMMERCE_QUOTA_SHARE="half": not a number (e.g. 0.5)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: envFunc(tc.env)}
			code := m.Run(t.Context(), []string{"version"})
			if tc.err != "" {
				if code != exitUsage || !strings.Contains(stderr.String(), tc.err) {
					t.Errorf("exit code %d, stderr %q; want %d and %q", code, stderr.String(), exitUsage, tc.err)
				}
				return
			}
			if code != exitOK {
				t.Fatalf("exit code: got %d; want 0 (stderr %q)", code, stderr.String())
			}
			if got := m.Config.BigCommerce.QuotaShare; got != tc.want {
				t.Errorf("QuotaShare: got %v; want %v", got, tc.want)
			}
		})
	}
}

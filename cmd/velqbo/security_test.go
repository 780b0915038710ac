package main

// Security tests: secrets never reach the database file (or its WAL/SHM)
// in clear text, nor logs, nor error messages; the health listener is on
// loopback by default; TLS verification is never switched off outside the
// test fakes. The OAuth callback's state check is TestConnect_Browser
// ("WrongState") in main_test.go.

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/daemon"
	"github.com/velqbo/velqbo/schema"
)

// tokenTap sits in front of the fake's token endpoint and records every
// access and refresh token it hands out, so tests know what to look for.
type tokenTap struct {
	mu     sync.Mutex
	tokens []string
}

func (tt *tokenTap) add(s string) {
	if s == "" {
		return
	}
	tt.mu.Lock()
	tt.tokens = append(tt.tokens, s)
	tt.mu.Unlock()
}

func (tt *tokenTap) all() []string {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return append([]string(nil), tt.tokens...)
}

// tapTokens points the harness's token URL at a recording proxy.
func tapTokens(t *testing.T, h *harness) *tokenTap {
	t.Helper()
	tap := &tokenTap{}
	target, err := url.Parse(h.QBO.TokenURL())
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	rp.Transport = h.QBO.Client().Transport
	rp.ModifyResponse = func(resp *http.Response) error {
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		var v struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
		}
		if json.Unmarshal(b, &v) == nil {
			tap.add(v.AccessToken)
			tap.add(v.RefreshToken)
		}
		return nil
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	h.Env["VELQBO_QBO_TOKEN_URL"] = srv.URL + target.Path
	return tap
}

// secretForms returns s and the encodings a careless writer might use.
func secretForms(s string) []string {
	return []string{s, base64.StdEncoding.EncodeToString([]byte(s)), base64.RawURLEncoding.EncodeToString([]byte(s)), hex.EncodeToString([]byte(s))}
}

// assertNoSecrets fails if any secret (in any of its forms) is in data.
func assertNoSecrets(t *testing.T, where string, data []byte, secrets map[string]string) {
	t.Helper()
	for name, s := range secrets {
		if len(s) < 8 {
			t.Fatalf("secret %s %q is too short to search for", name, s)
		}
		for _, f := range secretForms(s) {
			if bytes.Contains(data, []byte(f)) {
				t.Errorf("%s holds the %s in clear text (or a plain encoding of it)", where, name)
				break
			}
		}
	}
}

// secLinkAll links every generated customer and product and maps every
// setting, so that a run creates documents.
func secLinkAll(t *testing.T, h *harness, extra ...string) {
	t.Helper()
	h.MustRun(exitOK, "", sandboxSettingsArgs(h.Seed, extra...)...)
	for i, c := range h.Data.Customers {
		h.MustRun(exitOK, "", "customers", "link", c.ID, h.QBO.AddCustomer("Sec Customer "+c.ID+string(rune('A'+i)), ""))
	}
	s := h.Seed
	items := []string{s.Products["SKU-1"], s.Products["SKU-2"], s.Products["SKU-3"]}
	for i, p := range h.Data.Products {
		// A QBO item is linked to one Velocity product at most.
		item := h.QBO.AddItem("Sec Item "+p.ID, "")
		if i < len(items) {
			item = items[i]
		}
		h.MustRun(exitOK, "", "products", "link", p.ID, item)
	}
}

// TestSecurity_NoSecretsAtRest connects and runs through Main, then reads
// the database file and any WAL/SHM beside it: no token, client secret,
// Velocity token or encryption key may be in them.
func TestSecurity_NoSecretsAtRest(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 12)
	tap := tapTokens(t, h)
	// A second connection holds the database open, as a running daemon
	// would, so that the WAL and shared-memory files outlive each command
	// and are checked too (the last connection to close removes them).
	holder, err := schema.Open(t.Context(), h.Env["VELQBO_DB"])
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	first := h.QBO.IssueRefreshToken()
	h.MustRun(exitOK, first+"\n", "connect", "--realm", h.QBO.Realm(), "--refresh-token-stdin")
	secLinkAll(t, h)
	h.QBO.ExpireAccessTokens() // one more refresh, one more rotated token
	r := h.Run("", "run", "--json")
	if r.Code != exitOK && r.Code != exitIncomplete {
		t.Fatalf("run: exit %d; stderr %s", r.Code, r.Stderr)
	}
	if len(h.QBO.Entities("SalesReceipt"))+len(h.QBO.Entities("Invoice")) == 0 {
		t.Fatalf("the run created no documents; want a real run to have happened")
	}
	tokens := tap.all()
	if len(tokens) < 4 {
		t.Fatalf("tapped %d tokens; want access and refresh tokens of at least two refreshes", len(tokens))
	}
	secrets := map[string]string{
		"first refresh token": first,
		"client secret":       h.Env["VELQBO_QBO_CLIENT_SECRET"],
		"Velocity token":      h.Env["VELQBO_VELOCITY_TOKEN"],
		"secret key":          h.Env["VELQBO_SECRET_KEY"],
	}
	for i, tok := range tokens {
		secrets["issued token "+string(rune('a'+i))] = tok
	}
	dir := filepath.Dir(h.Env["VELQBO_DB"])
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if !slices.ContainsFunc(files, func(f string) bool { return strings.HasSuffix(f, "-wal") }) {
		t.Errorf("no WAL file among %v; want it checked", files)
	}
	if err != nil {
		t.Fatal(err)
	}
	var checked []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		assertNoSecrets(t, filepath.Base(f), b, secrets)
		checked = append(checked, filepath.Base(f))
	}
	if len(checked) == 0 {
		t.Fatalf("no database files in %s", dir)
	}
	t.Logf("checked %v for %d secrets", checked, len(secrets))

	// The stored tokens still work: they are encrypted, not lost.
	h.QBO.ExpireAccessTokens()
	h.MustRun(exitOK, "", "settings")
}

// TestSecurity_NoSecretsInLogs drives connect, settings, run and status at
// debug level in both log formats: stdout and stderr never carry a token,
// the client secret or the Velocity token.
func TestSecurity_NoSecretsInLogs(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			h := MustRunMain(t, 12)
			tap := tapTokens(t, h)
			first := h.QBO.IssueRefreshToken()
			var out bytes.Buffer
			run := func(want []int, stdin string, args ...string) {
				t.Helper()
				r := h.Run(stdin, append([]string{"--log-level", "debug", "--log-format", format}, args...)...)
				out.WriteString(r.Stdout)
				out.WriteString(r.Stderr)
				for _, w := range want {
					if r.Code == w {
						return
					}
				}
				t.Fatalf("velqbo %v: exit %d; want one of %v\nstderr: %s", args, r.Code, want, r.Stderr)
			}
			run([]int{exitOK}, first+"\n", "connect", "--realm", h.QBO.Realm(), "--refresh-token-stdin")
			secLinkAll(t, h)
			run([]int{exitOK}, "", "settings")
			h.QBO.ExpireAccessTokens()
			run([]int{exitOK, exitIncomplete}, "", "run")
			run([]int{exitOK, exitIncomplete}, "", "plan", "--json")
			run([]int{exitOK, exitIncomplete}, "", "status")
			// A QBO that rejects the token: the error path must not quote it.
			h.QBO.RevokeAll()
			h.QBO.ExpireAccessTokens()
			run([]int{exitUnavailable}, "", "settings", "accounts")
			// A stray token on stdin is refused without being echoed.
			stray := "stray-token-" + strings.Repeat("z", 40)
			run([]int{exitUnavailable}, stray+"\n", "connect", "--realm", h.QBO.Realm(), "--refresh-token-stdin")

			if !strings.Contains(out.String(), "level=debug") && !strings.Contains(out.String(), `"level":"debug"`) {
				// Today these commands log nothing at debug level; the check
				// still covers info/warn/error lines and error messages.
				t.Logf("note: no debug-level log line was emitted")
			}
			secrets := map[string]string{
				"first refresh token": first,
				"stray token":         stray,
				"client secret":       h.Env["VELQBO_QBO_CLIENT_SECRET"],
				"Velocity token":      h.Env["VELQBO_VELOCITY_TOKEN"],
				"secret key":          h.Env["VELQBO_SECRET_KEY"],
			}
			for i, tok := range tap.all() {
				secrets["issued token "+string(rune('a'+i))] = tok
			}
			assertNoSecrets(t, "output of connect/settings/run/plan/status at debug level", out.Bytes(), secrets)
			t.Logf("checked %d bytes of %s output for %d secrets", out.Len(), format, len(secrets))
		})
	}
}

// TestSecurity_ListenerLoopbackByDefault: the health/metrics listener's
// default address, and the one a configuration without --listen or
// VELQBO_LISTEN ends up with, is on loopback.
func TestSecurity_ListenerLoopbackByDefault(t *testing.T) {
	t.Parallel()
	addr := DefaultConfig().Listen
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("DefaultConfig().Listen %q: %v", addr, err)
	}
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		t.Errorf("DefaultConfig().Listen = %q; want a loopback address", addr)
	}
	if !daemon.IsLoopback(addr) {
		t.Errorf("daemon.IsLoopback(%q) = false; want true", addr)
	}
	for _, a := range []string{"0.0.0.0:8089", ":8089", "[::]:8089", "192.168.1.5:8089"} {
		if daemon.IsLoopback(a) {
			t.Errorf("daemon.IsLoopback(%q) = true; want false (reachable from the network)", a)
		}
	}
	c := DefaultConfig()
	if err := applyEnv(&c, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if c.Listen != addr {
		t.Errorf("listen with an empty environment: %q; want the default %q", c.Listen, addr)
	}
}

// TestSecurity_TLSVerificationNeverDisabled walks the module's non-test Go
// files: InsecureSkipVerify may appear only in the test fakes.
func TestSecurity_TLSVerificationNeverDisabled(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from %s: %v", root, err)
	}
	allowed := []string{filepath.Join("qbo", "qbotest") + string(filepath.Separator), filepath.Join("velocity", "velocitytest") + string(filepath.Separator)}
	scanned := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if name := d.Name(); rel != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		for _, a := range allowed {
			if strings.HasPrefix(rel, a) {
				return nil
			}
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		scanned++
		if bytes.Contains(b, []byte("InsecureSkipVerify")) {
			t.Errorf("%s mentions InsecureSkipVerify: TLS verification must never be disabled outside the test fakes", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanned < 20 {
		t.Errorf("scanned %d files; want the whole module", scanned)
	}
}

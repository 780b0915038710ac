package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/velqbo/velqbo/qbo/qbotest"
	"github.com/velqbo/velqbo/reconcile/reconciletest"
	"github.com/velqbo/velqbo/schema"
	"github.com/velqbo/velqbo/velocity/velocitytest"
)

// testSecretKey is 32 bytes of base64, for tests only.
const testSecretKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// harness runs the binary's Main, as the shell would, against both fakes.
type harness struct {
	t    *testing.T
	QBO  *qbotest.Server
	Seed qbotest.Seeded
	Vel  *velocitytest.Server
	Data *velocitytest.Dataset
	Env  map[string]string
}

// MustRunMain starts the fakes (with a generated store of nOrders orders)
// and returns a harness whose environment points velqbo at them.
func MustRunMain(t *testing.T, nOrders int) *harness {
	t.Helper()
	h := &harness{t: t}
	h.QBO = qbotest.NewTestServer(t)
	h.Seed = h.QBO.SeedDefaults()
	h.Vel = velocitytest.NewTestServer(t)
	if nOrders > 0 {
		h.Data = velocitytest.Generate(1, velocitytest.GenOptions{Customers: 8, Products: 12, Orders: nOrders})
		if err := h.Vel.Load(h.Data); err != nil {
			t.Fatal(err)
		}
	}
	h.Env = map[string]string{
		"VELQBO_DB":                h.dbPath(),
		"VELQBO_SECRET_KEY":        testSecretKey,
		"VELQBO_QBO_CLIENT_ID":     qbotest.DefaultClientID,
		"VELQBO_QBO_CLIENT_SECRET": qbotest.DefaultClientSecret,
		"VELQBO_QBO_API_URL":       h.QBO.APIURL(),
		"VELQBO_QBO_TOKEN_URL":     h.QBO.TokenURL(),
		"VELQBO_QBO_AUTH_URL":      h.QBO.AuthURL(),
		"VELQBO_QBO_REVOKE_URL":    h.QBO.RevokeURL(),
		"VELQBO_VELOCITY_URL":      h.Vel.URL,
		"VELQBO_VELOCITY_TOKEN":    h.Vel.Token(),
	}
	return h
}

func (h *harness) dbPath() string { return filepath.Join(h.t.TempDir(), "velqbo.db") }

// result is one invocation's outcome.
type result struct {
	Code           int
	Stdout, Stderr string
}

// Run runs velqbo with args and stdin.
func (h *harness) Run(stdin string, args ...string) result {
	h.t.Helper()
	var out, errb bytes.Buffer
	m := &Main{
		Stdin:      strings.NewReader(stdin),
		Stdout:     &out,
		Stderr:     &errb,
		Getenv:     envFunc(h.Env),
		Now:        time.Now,
		IsTerminal: func() bool { return false },
	}
	code := m.Run(h.t.Context(), args)
	return result{Code: code, Stdout: out.String(), Stderr: errb.String()}
}

// MustRun runs velqbo and fails the test unless it exits with want.
func (h *harness) MustRun(want int, stdin string, args ...string) result {
	h.t.Helper()
	r := h.Run(stdin, args...)
	if r.Code != want {
		h.t.Fatalf("velqbo %s: exit code %d; want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.Code, want, r.Stdout, r.Stderr)
	}
	return r
}

// Connect imports a fresh refresh token issued by the fake.
func (h *harness) Connect() {
	h.t.Helper()
	h.MustRun(exitOK, h.QBO.IssueRefreshToken()+"\n", "connect", "--realm", h.QBO.Realm(), "--refresh-token-stdin")
}

func TestConnect_RefreshTokenStdin(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 0)
	rt := h.QBO.IssueRefreshToken()
	r := h.MustRun(exitOK, rt+"\n", "connect", "--realm", h.QBO.Realm(), "--refresh-token-stdin")
	if !strings.Contains(r.Stdout, "connected to QBO company "+h.QBO.Realm()) {
		t.Errorf("stdout: got %q; want it to name the realm", r.Stdout)
	}
	if strings.Contains(r.Stdout+r.Stderr, rt) {
		t.Errorf("the refresh token was printed")
	}
	// The imported token was rotated on the proving refresh: the original is
	// spent (the fake rotates on every use), so the stored one must be the new
	// one, or the next command could not refresh.
	h.MustRun(exitOK, "", "settings", "set", "deposit_account="+h.Seed.Accounts["Checking"])
	h.QBO.ExpireAccessTokens()
	r = h.MustRun(exitOK, "", "settings")
	if !strings.Contains(r.Stdout, "Checking") {
		t.Errorf("settings: got %q; want the QBO account name Checking", r.Stdout)
	}
}

func TestConnect_Refused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		stdin string
		args  []string
		env   map[string]string
		want  int
		msg   string
	}{
		{"UnknownToken", "not-a-token\n", []string{"connect", "--realm", "9130350000000000", "--refresh-token-stdin"}, nil, exitUnavailable, "reconnect with `velqbo connect`"},
		{"NoRealm", "x\n", []string{"connect", "--refresh-token-stdin"}, nil, exitUsage, "--realm"},
		{"EmptyStdin", "", []string{"connect", "--realm", "1", "--refresh-token-stdin"}, nil, exitUsage, "no refresh token"},
		{"NoKey", "x\n", []string{"connect", "--realm", "1", "--refresh-token-stdin"}, map[string]string{"VELQBO_SECRET_KEY": ""}, exitUsage, "VELQBO_SECRET_KEY"},
		{"NoClientID", "x\n", []string{"connect", "--realm", "1", "--refresh-token-stdin"}, map[string]string{"VELQBO_QBO_CLIENT_ID": ""}, exitUsage, "credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := MustRunMain(t, 0)
			for k, v := range tt.env {
				h.Env[k] = v
			}
			r := h.Run(tt.stdin, tt.args...)
			if r.Code != tt.want {
				t.Fatalf("exit code: got %d; want %d (stderr %q)", r.Code, tt.want, r.Stderr)
			}
			if !strings.Contains(r.Stderr, tt.msg) {
				t.Errorf("stderr: got %q; want it to contain %q", r.Stderr, tt.msg)
			}
		})
	}
}

func TestConnect_OtherRealmRefused(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 0)
	h.Connect()
	r := h.Run(h.QBO.IssueRefreshToken(), "connect", "--realm", "12345", "--refresh-token-stdin")
	if r.Code != exitUsage || !strings.Contains(r.Stderr, "belongs to QBO company") {
		t.Errorf("got exit %d, stderr %q; want 2 and a message about the other company", r.Code, r.Stderr)
	}
}

// A disconnect keeps the ledger, and so the company it belongs to.
func TestConnect_OtherRealmRefusedAfterDisconnect(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 0)
	h.Connect()
	h.MustRun(exitOK, "", "disconnect")
	r := h.Run(h.QBO.IssueRefreshToken(), "connect", "--realm", "12345", "--refresh-token-stdin")
	if r.Code != exitUsage || !strings.Contains(r.Stderr, "belongs to QBO company "+h.QBO.Realm()) {
		t.Errorf("got exit %d, stderr %q; want 2 and a message naming the ledger's company", r.Code, r.Stderr)
	}
}

func TestConnect_Browser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		deny    bool
		tamper  bool
		want    int
		message string
	}{
		{name: "OK", want: exitOK, message: "connected to QBO company"},
		{name: "Denied", deny: true, want: exitUnavailable, message: "did not grant access"},
		{name: "WrongState", tamper: true, want: exitUnavailable, message: "state mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The "browser" below only follows redirects: it cannot click
			// Connect on the consent page.
			opts := []qbotest.Option{qbotest.WithAutoConsent(true)}
			if tt.deny {
				opts = append(opts, qbotest.WithDenyAuthorize(true))
			}
			q := qbotest.NewTestServer(t, opts...)
			h := MustRunMain(t, 0)
			h.QBO = q
			h.Env["VELQBO_QBO_TOKEN_URL"] = q.TokenURL()
			h.Env["VELQBO_QBO_AUTH_URL"] = q.AuthURL()
			h.Env["VELQBO_QBO_API_URL"] = q.APIURL()
			h.Env["VELQBO_QBO_REDIRECT_URL"] = "http://127.0.0.1:0/callback"

			var out, errb bytes.Buffer
			m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: envFunc(h.Env), Now: time.Now}
			// The "browser": follows Intuit's redirect to the loopback callback.
			m.OpenBrowser = func(u string) error {
				go func() {
					if tt.tamper {
						u = strings.Replace(u, "state=", "state=evil", 1)
					}
					resp, err := http.Get(u)
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				}()
				return nil
			}
			code := m.Run(t.Context(), []string{"connect", "--timeout", "20s"})
			if code != tt.want {
				t.Fatalf("exit code: got %d; want %d (stderr %q)", code, tt.want, errb.String())
			}
			if got := out.String() + errb.String(); !strings.Contains(got, tt.message) {
				t.Errorf("output: got %q; want it to contain %q", got, tt.message)
			}
		})
	}
}

func TestSettings_Set(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 0)
	h.Connect()
	s := h.Seed
	tests := []struct {
		name string
		args []string
		want int
		msg  string
	}{
		{"Deposit", []string{"deposit_account=" + s.Accounts["Checking"]}, exitOK, "set deposit_account"},
		{"UndepositedFunds", []string{"deposit_account=" + s.Accounts["Undeposited Funds"]}, exitOK, "set deposit_account"},
		{"DepositNotBank", []string{"deposit_account=" + s.Accounts["Sales"]}, exitUsage, "must be a Bank or Other Current Asset"},
		{"UnknownAccount", []string{"refund_account=999999"}, exitUsage, "no such record"},
		{"Items", []string{"shipping_item=" + s.Items["Shipping"], "tax_item=" + s.Items["Sales Tax"]}, exitOK, "set tax_item"},
		{"PaymentMethod", []string{"payment_method.credit_card=" + s.PaymentMethods["Credit Card"]}, exitOK, "set payment_method.credit_card"},
		{"UnknownKey", []string{"colour=blue"}, exitUsage, "unknown setting"},
		{"BadDate", []string{"start_date=yesterday"}, exitUsage, "YYYY-MM-DD"},
		{"Date", []string{"start_date=2026-01-01"}, exitOK, "set start_date"},
		{"TaxableTaxCode", []string{"non_taxable_tax_code=" + s.TaxCodes["California"]}, exitUsage,
			`tax code "California" is taxable in QBO, so QBO would add its own tax to every line`},
		{"NonTaxableTaxCode", []string{"non_taxable_tax_code=" + s.TaxCodes["Exempt"]}, exitOK, "set non_taxable_tax_code"},
		{"NotKV", []string{"deposit_account"}, exitUsage, "KEY=VALUE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.Run("", append([]string{"settings", "set"}, tt.args...)...)
			if r.Code != tt.want {
				t.Fatalf("exit code: got %d; want %d (stdout %q, stderr %q)", r.Code, tt.want, r.Stdout, r.Stderr)
			}
			if got := r.Stdout + r.Stderr; !strings.Contains(got, tt.msg) {
				t.Errorf("output: got %q; want it to contain %q", got, tt.msg)
			}
		})
	}
	// A refused batch saves nothing, not even its valid pairs.
	h.MustRun(exitUsage, "", "settings", "set", "handling_item="+s.Items["Handling"], "refund_account=999999")
	r := h.MustRun(exitOK, "", "settings", "--json")
	var got struct {
		Settings []settingView `json:"settings"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil {
		t.Fatalf("settings --json: %v (%q)", err, r.Stdout)
	}
	for _, v := range got.Settings {
		if v.Key == "handling_item" {
			t.Errorf("handling_item was saved by a refused settings set")
		}
		if v.Key == "deposit_account" && (v.QBO == nil || v.QBO.Name != "Undeposited Funds") {
			t.Errorf("deposit_account: got %+v; want QBO name Undeposited Funds", v.QBO)
		}
	}
}

func TestSettings_NotConnected(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 0)
	r := h.MustRun(exitUnavailable, "", "settings", "set", "deposit_account=1")
	if !strings.Contains(r.Stderr, "velqbo connect") {
		t.Errorf("stderr: got %q; want it to say to run velqbo connect", r.Stderr)
	}
}

func TestSettings_AccountsAndItems(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 0)
	h.Connect()
	r := h.MustRun(exitOK, "", "settings", "accounts")
	for _, want := range []string{"Checking", "Bank", "Undeposited Funds"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("settings accounts: output lacks %q:\n%s", want, r.Stdout)
		}
	}
	r = h.MustRun(exitOK, "", "settings", "items", "--json")
	var got struct {
		Items []qboRow `json:"items"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Items) == 0 {
		t.Errorf("settings items --json: got no items; want the seeded ones")
	}
}

func TestLinks(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 5)
	h.Connect()
	cust := h.Data.Customers[0]
	qboCust := h.QBO.AddCustomer("Linked Co", "linked@example.com")

	r := h.MustRun(exitOK, "", "customers", "list", "--unlinked", "--json")
	var list struct {
		Customers []linkRow `json:"customers"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
		t.Fatal(err)
	}
	if got, want := len(list.Customers), len(h.Data.Customers); got != want {
		t.Errorf("unlinked customers: got %d; want %d", got, want)
	}

	h.MustRun(exitOK, "", "customers", "link", cust.ID, qboCust)
	r = h.MustRun(exitOK, "", "customers", "list", "--json")
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range list.Customers {
		if c.VelocityID == cust.ID {
			found = c.QBOID == qboCust && c.QBOName == "Linked Co"
		}
	}
	if !found {
		t.Errorf("customers list: %s not shown linked to %s (Linked Co)", cust.ID, qboCust)
	}
	h.MustRun(exitUsage, "", "customers", "link", cust.ID, "424242")
	h.MustRun(exitOK, "", "customers", "unlink", cust.ID)
	h.MustRun(exitUsage, "", "customers", "unlink", cust.ID)

	prod := h.Data.Products[0]
	h.MustRun(exitOK, "", "products", "link", prod.ID, h.Seed.Items["Shipping"])
	r = h.MustRun(exitOK, "", "products", "list", "--unlinked", "--json")
	var plist struct {
		Products []linkRow `json:"products"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &plist); err != nil {
		t.Fatal(err)
	}
	for _, p := range plist.Products {
		if p.VelocityID == prod.ID {
			t.Errorf("products list --unlinked shows the linked product %s", prod.ID)
		}
	}
	if got, want := len(plist.Products), len(h.Data.Products)-1; got != want {
		t.Errorf("unlinked products: got %d; want %d", got, want)
	}
	h.MustRun(exitUsage, "", "products", "frob")
}

func TestDisconnect(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 3)
	h.Connect()
	h.MustRun(exitOK, "", "settings", "set", "deposit_account="+h.Seed.Accounts["Checking"])
	cust := h.Data.Customers[0].ID
	h.MustRun(exitOK, "", "customers", "link", cust, h.QBO.AddCustomer("Kept Co", ""))
	r := h.MustRun(exitOK, "", "disconnect")
	if !strings.Contains(r.Stdout, "ledger and links are kept") {
		t.Errorf("disconnect: got %q", r.Stdout)
	}
	h.MustRun(exitUnavailable, "", "settings", "set", "deposit_account=1")
	// Settings survive a disconnect.
	r = h.MustRun(exitOK, "", "settings", "--json")
	if !strings.Contains(r.Stdout, "deposit_account") {
		t.Errorf("settings after disconnect: got %q; want deposit_account kept", r.Stdout)
	}
	// Links survive a disconnect too (listing them needs Velocity, not QBO).
	r = h.MustRun(exitOK, "", "customers", "list", "--json")
	var list struct {
		Customers []linkRow `json:"customers"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
		t.Fatal(err)
	}
	kept := false
	for _, c := range list.Customers {
		kept = kept || (c.VelocityID == cust && c.QBOName == "Kept Co")
	}
	if !kept {
		t.Errorf("customers list after disconnect: %s; want %s still linked to Kept Co", r.Stdout, cust)
	}
	h.MustRun(exitOK, "", "disconnect")
}

func TestStatus_Fresh(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 0)
	// No database yet: status creates none (TestReadOnly_NoDatabase).
	h.MustRun(exitUnavailable, "", "status")
	// A ledger without a connection (as after `disconnect`).
	h.emptyLedger()
	r := h.MustRun(exitOK, "", "status")
	if !strings.Contains(r.Stdout, "not connected") {
		t.Errorf("status: got %q; want 'not connected'", r.Stdout)
	}
	h.Connect()
	r = h.MustRun(exitOK, "", "status", "--json")
	var v statusView
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		t.Fatalf("status --json: %v (%q)", err, r.Stdout)
	}
	if !v.Connected || v.Token == nil || v.Token.Realm != h.QBO.Realm() {
		t.Fatalf("status token: got %+v; want connected to %s", v.Token, h.QBO.Realm())
	}
	if v.Token.RefreshRotatedAt == nil || v.Token.RefreshExpiresAt == nil || v.Token.DaysLeft == nil || *v.Token.DaysLeft < 90 {
		t.Errorf("status token health: got %+v; want rotation time, expiry and ~100 days left", v.Token)
	}
}

// storedRefreshToken reads the refresh token velqbo stored, as only a test
// with the key may.
func (h *harness) storedRefreshToken() string {
	h.t.Helper()
	key, err := schema.DecodeKey(testSecretKey)
	if err != nil {
		h.t.Fatal(err)
	}
	st, err := schema.Open(h.t.Context(), h.Env["VELQBO_DB"], schema.WithTokenKey(key))
	if err != nil {
		h.t.Fatal(err)
	}
	defer st.Close()
	tok, err := st.LoadToken(h.t.Context(), h.QBO.Realm())
	if err != nil {
		h.t.Fatal(err)
	}
	return tok.RefreshToken
}

// refreshAtFake tries a refresh token at the fake Intuit token endpoint.
func (h *harness) refreshAtFake(rt string) int {
	h.t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	req, _ := http.NewRequest(http.MethodPost, h.QBO.TokenURL(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(qbotest.DefaultClientID, qbotest.DefaultClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestDisconnect_RevokesAtIntuit(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 0)
	h.Connect()
	rt := h.storedRefreshToken()
	h.MustRun(exitOK, "", "disconnect")
	if got := h.refreshAtFake(rt); got != http.StatusBadRequest {
		t.Errorf("refresh with the disconnected token: got HTTP %d; want 400 (revoked at Intuit)", got)
	}
	r := h.MustRun(exitOK, "", "status", "--json")
	if strings.Contains(r.Stdout, `"connected": true`) {
		t.Errorf("status after disconnect: %s; want not connected", r.Stdout)
	}
}

func TestSettings_FlagsInactive(t *testing.T) {
	t.Parallel()
	h := MustRunMain(t, 0)
	h.Connect()
	item := h.Seed.Items["Shipping"]
	h.MustRun(exitOK, "", "settings", "set", "shipping_item="+item)
	if err := h.QBO.PersonEdit("Item", item, func(m map[string]any) { m["Active"] = false }); err != nil {
		t.Fatal(err)
	}
	r := h.MustRun(exitOK, "", "settings", "--json")
	var got struct {
		Settings []settingView `json:"settings"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil {
		t.Fatal(err)
	}
	for _, v := range got.Settings {
		if v.Key == "shipping_item" {
			if !strings.Contains(v.Problem, "inactive") {
				t.Errorf("shipping_item problem: got %q; want it flagged inactive", v.Problem)
			}
			return
		}
	}
	t.Errorf("shipping_item missing from settings: %s", r.Stdout)
}

// sandboxSettingsArgs is `settings set` with the sandbox's whole mapping,
// plus extra KEY=VALUE pairs.
func sandboxSettingsArgs(s qbotest.Seeded, extra ...string) []string {
	args := []string{"settings", "set"}
	for k, v := range reconciletest.Settings(s) {
		args = append(args, k+"="+v)
	}
	return append(args, extra...)
}

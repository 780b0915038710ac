package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/velqbo/velqbo/qbo/qbotest"
)

// consentURL follows the console's "Log in to QuickBooks" as c: the 302 to
// Intuit's consent page, whose state and redirect_uri it returns with the
// URL.
func consentURL(t *testing.T, c *consoleClient) *url.URL {
	t.Helper()
	r := c.get(t, "/integrations/connect").wantCode(t, http.StatusFound)
	u, err := url.Parse(r.Location())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := u.Scheme+"://"+u.Host+u.Path, c.h.qbo.AuthURL(); got != want {
		t.Fatalf("connect: redirected to %s; want Intuit's consent page %s", got, want)
	}
	var cookie string
	for _, ck := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(ck, "velqbo_oauth_state=") {
			cookie = ck
		}
	}
	for _, want := range []string{"HttpOnly", "SameSite=Lax", "Path=/integrations/callback"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("state cookie: got %q; want it %s", cookie, want)
		}
	}
	return u
}

// consent answers qbotest's consent page with decision ("connect" or
// "cancel") as the user's browser would, and returns the console callback
// path (with its query) Intuit redirects to.
func consent(t *testing.T, h *consoleHarness, auth *url.URL, decision string) string {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(auth.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("consent page: status %d; want 200", resp.StatusCode)
	}
	form := auth.Query()
	form.Set("decision", decision)
	resp, err = hc.PostForm(h.qbo.AuthURL(), form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("consent %s: status %d to %q; want 302 to the callback", decision, resp.StatusCode, resp.Header.Get("Location"))
	}
	if got, want := back.Scheme+"://"+back.Host+back.Path, h.srv.URL+"/integrations/callback"; got != want {
		t.Fatalf("consent: Intuit redirected to %s; want the console's callback %s", got, want)
	}
	return back.RequestURI()
}

func (h *consoleHarness) tokenRealms(t *testing.T) []string {
	t.Helper()
	infos, err := h.store.Tokens(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var realms []string
	for _, i := range infos {
		realms = append(realms, i.Realm)
	}
	return realms
}

func TestConsoleIntegrations_Protected(t *testing.T) {
	t.Parallel()
	h := newConsole(t, withOrders(0))
	for _, path := range []string{"/integrations", "/integrations/connect", "/integrations/disconnect"} {
		h.checkProtected(t, http.MethodGet, path, nil, false)
	}
	h.checkProtected(t, http.MethodPost, "/integrations/disconnect", url.Values{"forget": {"true"}}, true)
	viewer := h.login(t, "viewer")
	for _, path := range []string{"/integrations/connect", "/integrations/disconnect"} {
		if r := viewer.get(t, path); r.Code != http.StatusForbidden {
			t.Errorf("GET %s as viewer: status %d; want 403", path, r.Code)
		}
	}
	r := viewer.get(t, "/integrations").wantCode(t, http.StatusOK)
	for _, id := range []string{`id="connect-qbo"`, `id="reconnect-qbo"`, `id="disconnect-qbo"`} {
		if strings.Contains(r.Body, id) {
			t.Errorf("viewer's Integrations page: got %s; want no state-changing control", id)
		}
	}
	if got := h.tokenRealms(t); len(got) != 1 {
		t.Errorf("after refused requests: got tokens of %v; want the one connection kept", got)
	}
	if got := h.refreshAtFake(h.storedRefreshToken()); got != http.StatusOK {
		t.Errorf("after refused requests: refresh at Intuit got HTTP %d; want 200 (not revoked)", got)
	}
}

func TestConsoleIntegrations_Page(t *testing.T) {
	t.Parallel()
	h := newConsole(t, withOrders(0))
	if err := h.qbo.PersonEdit("CompanyInfo", "1", func(m map[string]any) { m["CompanyName"] = "<script>alert(1)</script> Books" }); err != nil {
		t.Fatal(err)
	}
	r := h.login(t, "admin").get(t, "/integrations").wantCode(t, http.StatusOK)
	for _, want := range []string{"Connected", "&lt;script&gt;alert(1)&lt;/script&gt; Books", h.qbo.Realm(), "days left", `id="disconnect-qbo"`} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("Integrations page: want %q in\n%s", want, r.Body)
		}
	}
	if strings.Contains(r.Body, "<script>alert(1)") {
		t.Errorf("Integrations page: the company name is not escaped")
	}

	t.Run("Rejected", func(t *testing.T) {
		h := newConsole(t, withOrders(0))
		h.qbo.RevokeAll()
		h.qbo.ExpireAccessTokens()
		h.clock.Advance(2 * 3600e9) // the stored access token has run out
		r := h.login(t, "admin").get(t, "/integrations").wantCode(t, http.StatusOK)
		for _, want := range []string{"rejected by QuickBooks", "reconnect", `id="reconnect-qbo"`} {
			if !strings.Contains(r.Body, want) {
				t.Errorf("Integrations page with a revoked token: want %q in\n%s", want, r.Body)
			}
		}
	})
}

func TestConsoleIntegrations_Connect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		decision string
		// tamper changes the callback as an attacker's link would.
		tamper       func(path string) string
		otherBrowser bool
		ledgerRealm  string
		wantCode     int
		wantBody     string
		wantRealms   int
	}{
		{name: "Connect", decision: "connect", wantCode: http.StatusOK, wantBody: "Connected to QuickBooks company", wantRealms: 1},
		{name: "Cancel", decision: "cancel", wantCode: http.StatusOK, wantBody: "did not grant access (access_denied)"},
		{name: "StateMismatch", decision: "connect", tamper: func(p string) string { return strings.Replace(p, "state=", "state=evil", 1) },
			wantCode: http.StatusBadRequest, wantBody: "state mismatch"},
		{name: "OtherBrowser", decision: "connect", otherBrowser: true, wantCode: http.StatusBadRequest, wantBody: "state mismatch"},
		{name: "OtherCompany", decision: "connect", ledgerRealm: "12345", wantCode: http.StatusBadGateway, wantBody: "belongs to QBO company 12345"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newConsole(t, withOrders(0), notConnected())
			if tt.ledgerRealm != "" {
				if err := h.store.SetSetting(t.Context(), settingRealm, tt.ledgerRealm); err != nil {
					t.Fatal(err)
				}
			}
			admin := h.login(t, "admin")
			page := admin.get(t, "/integrations").wantCode(t, http.StatusOK)
			if !strings.Contains(page.Body, `id="connect-qbo"`) {
				t.Fatalf("Integrations page not connected: no Log in to QuickBooks in\n%s", page.Body)
			}
			auth := consentURL(t, admin)
			if got, want := auth.Query().Get("redirect_uri"), h.srv.URL+"/integrations/callback"; got != want {
				t.Errorf("redirect_uri: got %q; want %q", got, want)
			}
			cb := consent(t, h, auth, tt.decision)
			if tt.tamper != nil {
				cb = tt.tamper(cb)
			}
			browser := admin
			if tt.otherBrowser {
				browser = h.anonymous(t)
			}
			r := browser.get(t, cb)
			if r.Code != tt.wantCode || !strings.Contains(r.Body, tt.wantBody) {
				t.Fatalf("callback: got %d; want %d with %q in\n%s", r.Code, tt.wantCode, tt.wantBody, r.Body)
			}
			if got := h.tokenRealms(t); len(got) != tt.wantRealms {
				t.Fatalf("tokens after the callback: got %v; want %d connection(s)", got, tt.wantRealms)
			}
			if tt.wantRealms == 0 {
				return
			}
			if got, _ := h.store.GetSetting(t.Context(), settingRealm); got != h.qbo.Realm() {
				t.Errorf("the ledger's company: got %q; want %q", got, h.qbo.Realm())
			}
			// The stored token works at Intuit: the page reads the company.
			page = admin.get(t, "/integrations").wantCode(t, http.StatusOK)
			if !strings.Contains(page.Body, "Velqbo Test Company") {
				t.Errorf("Integrations page after connecting: want the company's name in\n%s", page.Body)
			}
			// The state is single-use: replaying the callback is refused.
			if r := admin.get(t, cb); r.Code != http.StatusBadRequest {
				t.Errorf("replayed callback: got %d; want 400", r.Code)
			}
		})
	}
}

func TestConsoleIntegrations_RedirectURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		configured string
		want       string // "" means the console's own address
	}{
		{"Unset", "", ""},
		{"CLILoopback", "http://localhost:8090/callback", ""}, // the CLI's callback is not the console's
		{"BehindProxy", "https://books.example.com/integrations/callback", "https://books.example.com/integrations/callback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newConsole(t, withOrders(0), notConnected())
			h.main.Config.QBO.RedirectURL = tt.configured
			want := tt.want
			if want == "" {
				want = h.srv.URL + "/integrations/callback"
			}
			auth := consentURL(t, h.login(t, "admin"))
			if got := auth.Query().Get("redirect_uri"); got != want {
				t.Errorf("redirect_uri: got %q; want %q", got, want)
			}
		})
	}
}

func TestConsoleIntegrations_Disconnect(t *testing.T) {
	t.Parallel()
	h := newConsole(t, withOrders(0))
	rt := h.storedRefreshToken()
	admin := h.login(t, "admin")
	confirm := admin.get(t, "/integrations/disconnect").wantCode(t, http.StatusOK)
	for _, want := range []string{"Velqbo Test Company", `id="confirm-disconnect"`, `name="csrf_token"`} {
		if !strings.Contains(confirm.Body, want) {
			t.Errorf("confirm page: want %q in\n%s", want, confirm.Body)
		}
	}
	if got := h.tokenRealms(t); len(got) != 1 {
		t.Fatalf("the confirm page changed the connection: got tokens of %v", got)
	}
	r := admin.post(t, "/integrations/disconnect", url.Values{}).wantCode(t, http.StatusSeeOther)
	if r.Location() != "/integrations" {
		t.Errorf("after disconnect: redirected to %q; want /integrations", r.Location())
	}
	if got := h.tokenRealms(t); len(got) != 0 {
		t.Errorf("tokens after disconnect: got %v; want none", got)
	}
	if got := h.refreshAtFake(rt); got != http.StatusBadRequest {
		t.Errorf("refresh with the disconnected token: got HTTP %d; want 400 (revoked at Intuit)", got)
	}
	page := admin.get(t, "/integrations").wantCode(t, http.StatusOK)
	for _, want := range []string{"Disconnected from QuickBooks company " + h.qbo.Realm(), "Not connected", `id="connect-qbo"`,
		`<code id="qbo-ledger-realm">` + h.qbo.Realm() + `</code>`} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("Integrations page after disconnect: want %q in\n%s", want, page.Body)
		}
	}
	if got, _ := h.store.GetSetting(t.Context(), settingRealm); got != h.qbo.Realm() {
		t.Errorf("the ledger's company after disconnect: got %q; want it kept (%s)", got, h.qbo.Realm())
	}

	t.Run("IntuitDown", func(t *testing.T) {
		h := newConsole(t, withOrders(0))
		h.qbo.Inject(qbotest.Injection{Match: func(c *qbotest.Call) bool { return c.Operation == "revoke" }, Status: http.StatusServiceUnavailable})
		admin := h.login(t, "admin")
		r := admin.post(t, "/integrations/disconnect", url.Values{}).wantCode(t, http.StatusBadGateway)
		if !strings.Contains(r.Body, "revoke the token") {
			t.Errorf("disconnect with Intuit down: want the revoke error in\n%s", r.Body)
		}
		if got := h.tokenRealms(t); len(got) != 1 {
			t.Errorf("tokens after a failed revoke: got %v; want kept", got)
		}
		admin.post(t, "/integrations/disconnect", url.Values{"forget": {"true"}}).wantCode(t, http.StatusSeeOther)
		if got := h.tokenRealms(t); len(got) != 0 {
			t.Errorf("tokens after forget: got %v; want none", got)
		}
	})
}

func TestConsoleIntegrations_NoAppCredentials(t *testing.T) {
	t.Parallel()
	h := newConsole(t, withOrders(0), notConnected())
	h.main.Config.QBO.ClientSecret = ""
	r := h.login(t, "admin").get(t, "/integrations/connect")
	if r.Code != http.StatusServiceUnavailable || !strings.Contains(r.Body, "VELQBO_QBO_CLIENT_ID/VELQBO_QBO_CLIENT_SECRET") {
		t.Errorf("connect without the app's credentials: got %d; want 503 naming the settings in\n%s", r.Code, r.Body)
	}
	for _, ck := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(ck, "velqbo_oauth_state=") {
			t.Errorf("connect without the app's credentials: got a state cookie %q; want none", ck)
		}
	}
}

package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/sandbox"
)

func TestConsoleHome(t *testing.T) {
	t.Parallel()
	t.Run("fresh ledger", func(t *testing.T) {
		t.Parallel()
		h := newConsole(t, withOrders(0), notConnected())
		h.checkProtected(t, http.MethodGet, "/", nil, false)
		body := h.login(t, "viewer").get(t, "/").wantCode(t, http.StatusOK).Body
		for _, want := range []string{
			`id="empty-company"`, `href="/integrations"`,
			`id="empty-runs"`, `<code>deposit_account</code>`, `href="/settings"`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("got a dashboard without %q:\n%s", want, body)
			}
		}
	})
	t.Run("after a run", func(t *testing.T) {
		t.Parallel()
		h := newConsole(t, prepared())
		unlinked := (&sandbox.Sandbox{Data: h.data}).BlockingProduct()
		h.MustRun(exitOK, "", "products", "unlink", unlinked)
		for _, e := range h.qbo.Entities("CompanyInfo") {
			if err := h.qbo.PersonEdit("CompanyInfo", e.ID, func(m map[string]any) { m["CompanyName"] = `<script>alert("co")</script> Books` }); err != nil {
				t.Fatal(err)
			}
		}
		h.Run("", "run")
		body := h.login(t, "viewer").get(t, "/").wantCode(t, http.StatusOK).Body
		if strings.Contains(body, `<script>alert("co")`) {
			t.Errorf("got the company name unescaped:\n%s", body)
		}
		for _, want := range []string{
			`&lt;script&gt;alert(&#34;co&#34;)&lt;/script&gt; Books`,
			`id="recent-runs"`, `href="/problems"`, "blocked",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("got a dashboard without %q:\n%s", want, body)
			}
		}
		for _, unwanted := range []string{`id="empty-company"`, `id="empty-runs"`, `id="next-settings"`} {
			if strings.Contains(body, unwanted) {
				t.Errorf("got a dashboard with %q after a run:\n%s", unwanted, body)
			}
		}
	})
}

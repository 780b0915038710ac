package main

// The console in a real browser: headless Chromium drives the console on the
// sandbox the way a bookkeeper does (issue 12's scenarios). One Chromium
// serves every subtest; each subtest has its own tab and cookies.

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestConsoleBrowser(t *testing.T) {
	b := startTestBrowser(t)

	t.Run("harness", func(t *testing.T) { testBrowserHarness(t, b) })
}

// testBrowserHarness checks the harness itself on a plain page: a form
// filled and submitted through the browser arrives as typed, and the
// accessibility checks see a missing label, poor contrast, a missing focus
// ring and a page too wide (so a clean console page means something).
func testBrowserHarness(t *testing.T, b *testBrowser) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><html lang="en"><title>form</title>
<form method="post" action="/done">
<label for="name">Name</label> <input id="name" name="name">
<label for="acct">Account</label> <select id="acct" name="acct"><option value="">choose…</option><option value="35">Checking (Bank)</option><option value="86">Discounts (Income)</option></select>
<button id="save" type="submit">Save</button>
</form></html>`)
	})
	mux.HandleFunc("POST /done", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><html lang="en"><title>done</title><p id="got">%s</p></html>`,
			html.EscapeString(r.PostFormValue("name")+"|"+r.PostFormValue("acct")))
	})
	mux.HandleFunc("GET /bad", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><html lang="en"><title>bad</title>
<style>a:focus { outline: none; } .faint { color: #bbb; }</style>
<input id="nolabel"> <p class="faint">faint text</p> <a id="link" href="/">home</a>
<div style="width: 2000px">wide</div></html>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	tb := b.newTab(t, srv.URL)
	tb.open("/")
	if got := tb.a11yProblems(); len(got) != 0 {
		t.Errorf("a11yProblems on a clean page = %q; want none", got)
	}
	if got := tb.focusProblems(5); len(got) != 0 {
		t.Errorf("focusProblems on a clean page = %q; want none", got)
	}
	tb.fill("#name", `Ada <Lovelace> & Co`)
	tb.choose("#acct", "Discounts")
	tb.submit("#save")
	if got, want := tb.text("#got"), "Ada <Lovelace> & Co|86"; got != want {
		t.Errorf("submitted form: got %q; want %q", got, want)
	}
	if got, want := tb.location(), "/done"; got != want {
		t.Errorf("location after submit: got %q; want %q", got, want)
	}

	tb.open("/bad")
	got := tb.a11yProblems()
	var kinds []string
	for _, p := range got {
		kinds = append(kinds, strings.SplitN(p, ":", 2)[0])
	}
	want := []string{"form control without a label", "contrast 1.92", "page is 2008 px wide in a 1280 px viewport (widest"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("a11yProblems on a bad page (-want +got):\n%s\nall: %q", diff, got)
	}
	if got := tb.focusProblems(3); len(got) != 1 || !strings.Contains(got[0], "a#link") {
		t.Errorf("focusProblems on a bad page = %q; want one, for a#link", got)
	}
}

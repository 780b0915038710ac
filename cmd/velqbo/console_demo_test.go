package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestConsoleDemoServe runs `velqbo demo --serve` and logs in with the
// one-time link it prints, which works once only.
func TestConsoleDemoServe(t *testing.T) {
	t.Parallel()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(t.Context())
	m := &Main{Stdout: pw, Stderr: io.Discard, Getenv: envFunc(nil), Now: time.Now, IsTerminal: func() bool { return false }}
	done := make(chan int, 1)
	go func() {
		code := m.Run(ctx, []string{"demo", "--orders", "5", "--serve"})
		pw.Close()
		done <- code
	}()
	t.Cleanup(func() {
		cancel()
		go io.Copy(io.Discard, pr)
		if code := <-done; code != exitOK {
			t.Errorf("demo --serve: exit %d; want 0", code)
		}
	})

	var base, link string
	sc := bufio.NewScanner(pr)
	for sc.Scan() && link == "" {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "console: "); ok {
			base = v
		}
		if m := regexp.MustCompile(`^one-time login .*: (http://127\.0\.0\.1:\d+/login/once\?token=\S+)$`).FindStringSubmatch(line); m != nil {
			link = m[1]
		}
	}
	if base == "" || link == "" {
		t.Fatalf("demo --serve printed no console line or no one-time login (base %q, link %q)", base, link)
	}
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/$`).MatchString(base) {
		t.Errorf("got console URL %q; want http://127.0.0.1:PORT/", base)
	}
	go io.Copy(io.Discard, pr)

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) (int, string) {
		t.Helper()
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(link); code != http.StatusOK || !strings.Contains(body, `id="login-once"`) {
		t.Fatalf("GET the one-time link: %d; want 200 and a Log in button\n%s", code, body)
	}
	u, _ := url.Parse(link)
	token := u.Query().Get("token")
	use := func() int {
		t.Helper()
		resp, err := c.PostForm(strings.TrimSuffix(base, "/")+"/login/once", url.Values{"token": {token}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := use(); code != http.StatusSeeOther {
		t.Fatalf("using the one-time link: %d; want 303", code)
	}
	if code, body := get(base); code != http.StatusOK || !strings.Contains(body, "demo") {
		t.Errorf("GET / after the one-time login: %d; want 200 as demo\n%s", code, body)
	}
	if code := use(); code != http.StatusUnauthorized {
		t.Errorf("using the one-time link twice: %d; want 401", code)
	}
}

func TestConsoleDemoServeRefusesNetwork(t *testing.T) {
	t.Parallel()
	var errb strings.Builder
	m := &Main{Stdout: io.Discard, Stderr: &errb, Getenv: envFunc(nil), Now: time.Now, IsTerminal: func() bool { return false }}
	if code := m.Run(t.Context(), []string{"demo", "--orders", "5", "--serve", "--listen", "0.0.0.0:0"}); code != exitUsage {
		t.Errorf("demo --serve --listen 0.0.0.0:0: exit %d; want %d", code, exitUsage)
	}
	if !strings.Contains(errb.String(), "not a loopback address") {
		t.Errorf("got stderr %q; want it to say the address is not loopback", errb.String())
	}
}

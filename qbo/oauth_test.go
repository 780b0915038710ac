package qbo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestTokenSource_ConcurrentRefresh: N goroutines need a token at once; the
// token endpoint sees exactly one refresh and everyone gets its result.
func TestTokenSource_ConcurrentRefresh(t *testing.T) {
	tsrv := &tokenServer{delay: make(chan struct{})}
	mux := http.NewServeMux()
	mux.Handle(testTokenURL, tsrv)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	clk := newFakeClock()
	var saves int
	ts := newTestTokenSource(t, srv.URL, &oauth2.Token{AccessToken: "old", RefreshToken: "refresh-0", Expiry: clk.Now().Add(-time.Minute)},
		func(context.Context, *oauth2.Token) error { saves++; return nil }, clk)

	const n = 20
	var wg sync.WaitGroup
	got := make([]string, n)
	for i := range n {
		wg.Go(func() {
			tok, err := ts.Token()
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = tok.AccessToken
		})
	}
	close(tsrv.delay) // let the (single) refresh finish
	wg.Wait()
	if tsrv.calls != 1 || saves != 1 {
		t.Errorf("got %d refreshes %d saves; want 1 and 1", tsrv.calls, saves)
	}
	for i, a := range got {
		if a != "access-1" {
			t.Errorf("goroutine %d: got %q; want access-1", i, a)
		}
	}
	if len(tsrv.lastRT) != 1 || tsrv.lastRT[0] != "refresh-0" {
		t.Errorf("refresh tokens sent: got %v; want [refresh-0]", tsrv.lastRT)
	}
}

// TestTokenSource_SaveFailure: a token that could not be saved is not used,
// and the next attempt refreshes again with the still-stored refresh token.
func TestTokenSource_SaveFailure(t *testing.T) {
	tsrv := &tokenServer{}
	mux := http.NewServeMux()
	mux.Handle(testTokenURL, tsrv)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	clk := newFakeClock()
	fail := true
	var saved []*oauth2.Token
	ts := newTestTokenSource(t, srv.URL, &oauth2.Token{RefreshToken: "refresh-0"},
		func(_ context.Context, tok *oauth2.Token) error {
			if fail {
				return errors.New("disk full")
			}
			saved = append(saved, tok)
			return nil
		}, clk)
	if _, err := ts.Token(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("got %v; want save error", err)
	}
	fail = false
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "access-2" || len(saved) != 1 || saved[0].RefreshToken != "refresh-2" {
		t.Errorf("got %q, saved %v; want access-2 with refresh-2 saved", tok.AccessToken, saved)
	}
	if want := []string{"refresh-0", "refresh-0"}; strings.Join(tsrv.lastRT, ",") != strings.Join(want, ",") {
		t.Errorf("refresh tokens sent: got %v; want %v", tsrv.lastRT, want)
	}
	// Next refresh uses the rotated token.
	if _, err := ts.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if last := tsrv.lastRT[len(tsrv.lastRT)-1]; last != "refresh-2" {
		t.Errorf("after rotation sent %q; want refresh-2", last)
	}
}

func TestTokenSource_InvalidateAndErrors(t *testing.T) {
	tsrv := &tokenServer{rejectRT: "refresh-1"}
	mux := http.NewServeMux()
	mux.Handle(testTokenURL, tsrv)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	clk := newFakeClock()
	ts := newTestTokenSource(t, srv.URL, &oauth2.Token{AccessToken: "a0", RefreshToken: "refresh-0", Expiry: clk.Now().Add(time.Hour)}, nil, clk)
	if tok, _ := ts.Token(); tok.AccessToken != "a0" {
		t.Fatalf("valid token: got %q; want a0 without refresh", tok.AccessToken)
	}
	ts.Invalidate()
	tok, err := ts.Token()
	if err != nil || tok.AccessToken != "access-1" {
		t.Fatalf("after Invalidate: got %v, %v; want access-1", tok, err)
	}
	ts.Invalidate() // within MinInvalidateInterval: ignored
	if tok, _ := ts.Token(); tok.AccessToken != "access-1" {
		t.Errorf("burst Invalidate: got %q; want access-1 (no second refresh)", tok.AccessToken)
	}
	clk.Sleep(t.Context(), time.Minute)
	ts.Invalidate()
	_, err = ts.Token() // refresh-1 is rejected by the server
	if !errors.Is(err, ErrTokenRejected) {
		t.Errorf("got %v; want ErrTokenRejected", err)
	}
	if strings.Contains(err.Error(), "refresh-1") || strings.Contains(err.Error(), "access-1") {
		t.Errorf("error leaks a token: %v", err)
	}
}

func TestAuthCodeFlow(t *testing.T) {
	var form url.Values
	// Intuit's fixtures start with a UTF-8 BOM, which JSON decoders reject.
	tokenResp := bytes.TrimPrefix(refFile(t, "intuit-oauth", "success_token_response.json"), []byte("\ufeff"))
	mux := http.NewServeMux()
	mux.HandleFunc(testTokenURL, func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		form = r.PostForm
		if u, p, ok := r.BasicAuth(); !ok || u != "client-id" || p != "client-secret" {
			t.Errorf("basic auth: got %q %q %v", u, p, ok)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(tokenResp)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	conf := NewOAuthConfig("client-id", "client-secret", "https://app.example/cb")
	conf.Endpoint.TokenURL = srv.URL + testTokenURL

	u, _ := url.Parse(AuthCodeURL(conf, "st4te"))
	if got := u.Scheme + "://" + u.Host + u.Path; got != "https://appcenter.intuit.com/connect/oauth2" {
		t.Errorf("auth url: got %s", got)
	}
	if q := u.Query(); q.Get("scope") != ScopeAccounting || q.Get("state") != "st4te" || q.Get("response_type") != "code" {
		t.Errorf("auth url query: got %v", q)
	}
	cb, err := ParseCallback(url.Values{"code": {"c0de"}, "state": {"st4te"}, "realmId": {"123"}})
	if err != nil || cb.RealmID != "123" || cb.Code != "c0de" {
		t.Fatalf("ParseCallback: got %+v, %v", cb, err)
	}
	if _, err := ParseCallback(url.Values{"error": {"access_denied"}}); err == nil {
		t.Error("ParseCallback(error): got nil; want error")
	}
	tok, err := Exchange(t.Context(), conf, srv.Client(), cb.Code)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || RefreshTokenExpiry(tok, time.Unix(0, 0)).IsZero() {
		t.Errorf("token incomplete: refresh expiry %v", RefreshTokenExpiry(tok, time.Unix(0, 0)))
	}
	if form.Get("grant_type") != "authorization_code" || form.Get("code") != "c0de" {
		t.Errorf("exchange form: got %v", form)
	}
}

func TestRevoke(t *testing.T) {
	var got map[string]string
	status := http.StatusOK
	mux := http.NewServeMux()
	mux.HandleFunc("/revoke", func(w http.ResponseWriter, r *http.Request) {
		if u, _, ok := r.BasicAuth(); !ok || u != "id" {
			t.Errorf("basic auth missing")
		}
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &got)
		w.WriteHeader(status)
		io.WriteString(w, `{"error":"invalid_request"}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	if err := Revoke(t.Context(), srv.Client(), srv.URL+"/revoke", "id", "secret", "refresh-xyz"); err != nil {
		t.Fatal(err)
	}
	if got["token"] != "refresh-xyz" {
		t.Errorf("body token: got %q; want refresh-xyz", got["token"])
	}
	status = http.StatusBadRequest
	err := Revoke(t.Context(), srv.Client(), srv.URL+"/revoke", "id", "secret", "refresh-xyz")
	if err == nil || strings.Contains(err.Error(), "refresh-xyz") || strings.Contains(err.Error(), "secret") {
		t.Errorf("got %v; want error without token or secret", err)
	}
}

package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/schema"
)

// settingRealm remembers which QBO company the ledger belongs to. Keys
// starting with "_" are internal and not shown by `velqbo settings`.
const settingRealm = "_realm"

// defaultRedirectURL is the callback of the browser flow. Intuit only
// redirects to URLs registered for the app, so the port is fixed by default
// (register http://localhost:8090/callback in the developer portal) and
// configurable with VELQBO_QBO_REDIRECT_URL.
const defaultRedirectURL = "http://localhost:8090/callback"

func connectCommand() command {
	var realm string
	var fromStdin bool
	var timeout time.Duration
	return command{
		name: "connect",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&realm, "realm", "", "QBO company (realm) id, with --refresh-token-stdin")
			fs.BoolVar(&fromStdin, "refresh-token-stdin", false, "read a refresh token from standard input (e.g. from Intuit's OAuth playground)")
			fs.DurationVar(&timeout, "timeout", 5*time.Minute, "how long to wait for the browser consent")
		},
		run: func(ctx context.Context, m *Main, args []string) error {
			if len(args) > 0 {
				return usageErrorf("connect takes no arguments")
			}
			if _, err := m.Config.Key(); err != nil {
				return err
			}
			if fromStdin {
				if realm == "" {
					return usageErrorf("connect --refresh-token-stdin needs --realm ID")
				}
				return m.connectWithRefreshToken(ctx, realm)
			}
			if realm != "" {
				return usageErrorf("--realm goes with --refresh-token-stdin; the browser flow learns the realm from Intuit")
			}
			return m.connectInBrowser(ctx, timeout)
		},
	}
}

// connectWithRefreshToken imports a refresh token and proves it by
// refreshing once; the rotated token is what gets stored.
func (m *Main) connectWithRefreshToken(ctx context.Context, realm string) error {
	b, err := io.ReadAll(io.LimitReader(m.Stdin, 64<<10))
	if err != nil {
		return usageErrorf("read refresh token from standard input: %v", err)
	}
	rt := strings.TrimSpace(string(b))
	if rt == "" {
		return usageErrorf("no refresh token on standard input")
	}
	conn, err := m.storeConnection(ctx, realm, &oauth2.Token{RefreshToken: rt})
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, conn)
	return nil
}

// connection is a QBO company velqbo has just been connected to.
type connection struct {
	Realm string
	// RefreshExpiresAt is when the stored refresh token ends unless a
	// refresh renews it; zero when Intuit did not say.
	RefreshExpiresAt time.Time
}

// String is what `velqbo connect` prints.
func (c connection) String() string {
	info := fmt.Sprintf("connected to QBO company %s", c.Realm)
	if !c.RefreshExpiresAt.IsZero() {
		info += fmt.Sprintf("; the refresh token is valid until %s", c.RefreshExpiresAt.Format(time.DateOnly))
	}
	return info
}

// storeConnection checks the realm against the ledger (checkRealm), and
// stores tok: a token without an access token is refreshed once, which
// proves it and saves the rotated pair through the token source. The CLI
// and the console's OAuth callback both end here. Errors: checkRealm's
// usage error, the store's, or qboError's for a refresh Intuit refused.
func (m *Main) storeConnection(ctx context.Context, realm string, tok *oauth2.Token) (connection, error) {
	st, err := m.createStore(ctx)
	if err != nil {
		return connection{}, err
	}
	defer st.Close()
	if err := checkRealm(ctx, st, realm); err != nil {
		return connection{}, err
	}
	conn, err := m.newQBOConn(realm, tok, st)
	if err != nil {
		return connection{}, err
	}
	if tok.AccessToken == "" {
		if _, err := conn.TS.Refresh(ctx); err != nil {
			return connection{}, qboError(fmt.Errorf("refresh token for realm %s: %w", realm, err))
		}
	} else if err := m.saveToken(st, realm, "")(ctx, tok); err != nil {
		return connection{}, err
	}
	if err := st.SetSetting(ctx, settingRealm, realm); err != nil {
		return connection{}, err
	}
	c := connection{Realm: realm}
	if t, err := st.LoadToken(ctx, realm); err == nil {
		c.RefreshExpiresAt = t.RefreshExpiresAt
	}
	return c, nil
}

// completeConnect finishes the authorization-code flow once the callback's
// state has been checked by the caller: it exchanges cb.Code at Intuit's
// token endpoint (with the redirect URL the consent was asked for, which
// Intuit compares) and stores the connection. Errors are unavailable() for
// a callback without realmId, qboError's for a refused exchange, or
// storeConnection's.
func (m *Main) completeConnect(ctx context.Context, redirectURL string, cb qbo.Callback) (connection, error) {
	if cb.RealmID == "" {
		return connection{}, unavailable(errors.New("the OAuth callback carried no realmId: was the accounting scope granted?"))
	}
	conf, err := m.oauthConfig(redirectURL)
	if err != nil {
		return connection{}, err
	}
	tok, err := qbo.Exchange(ctx, conf, &http.Client{Timeout: 60 * time.Second}, cb.Code)
	if err != nil {
		return connection{}, qboError(fmt.Errorf("exchange the authorization code: %w", err))
	}
	return m.storeConnection(ctx, cb.RealmID, tok)
}

// checkRealm refuses to connect the ledger of one company to another: every
// recorded document id and requestid belongs to the first.
func checkRealm(ctx context.Context, st *schema.Store, realm string) error {
	prev, err := st.GetSetting(ctx, settingRealm)
	if errors.Is(err, schema.ErrNotFound) || prev == "" || prev == realm {
		return nil
	}
	if err != nil {
		return err
	}
	return usageErrorf("this database belongs to QBO company %s; connecting company %s would mix two companies' books: use another --db", prev, realm)
}

// connectInBrowser runs the authorization-code flow with a loopback
// callback server.
func (m *Main) connectInBrowser(ctx context.Context, timeout time.Duration) error {
	redirect := m.Config.QBO.RedirectURL
	if redirect == "" {
		redirect = defaultRedirectURL
	}
	ru, err := url.Parse(redirect)
	if err != nil || ru.Host == "" {
		return &ConfigValidationError{Field: "VELQBO_QBO_REDIRECT_URL", Value: redirect, Err: errors.New("not an absolute URL")}
	}
	host := ru.Hostname()
	if host != "localhost" && host != "127.0.0.1" && host != "::1" {
		return &ConfigValidationError{Field: "VELQBO_QBO_REDIRECT_URL", Value: redirect, Err: errors.New("the callback must be on this machine (localhost)")}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", ru.Port()))
	if err != nil {
		return unavailable(fmt.Errorf("listen for the OAuth callback on %s: %w", redirect, err))
	}
	if ru.Port() == "0" || ru.Port() == "" {
		ru.Host = net.JoinHostPort(host, fmt.Sprint(ln.Addr().(*net.TCPAddr).Port))
	}
	conf, err := m.oauthConfig(ru.String())
	if err != nil {
		ln.Close()
		return err
	}
	state, err := randomState()
	if err != nil {
		ln.Close()
		return err
	}

	type result struct {
		cb  qbo.Callback
		err error
	}
	done := make(chan result, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != ru.Path {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		// The state check is the CSRF defence: a callback that did not
		// start from this process's URL is refused.
		if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
			http.Error(w, "velqbo: this callback does not match the login that velqbo started (state mismatch). Start again with `velqbo connect`.", http.StatusBadRequest)
			select {
			case done <- result{err: errors.New("OAuth callback refused: state mismatch (possible CSRF); nothing was stored")}:
			default:
			}
			return
		}
		if e := q.Get("error"); e != "" {
			io.WriteString(w, "velqbo: QuickBooks did not grant access. You can close this window.\n")
			select {
			case done <- result{err: fmt.Errorf("QuickBooks did not grant access (%s)", e)}:
			default:
			}
			return
		}
		cb, err := qbo.ParseCallback(q)
		if err != nil {
			http.Error(w, "velqbo: "+err.Error(), http.StatusBadRequest)
			select {
			case done <- result{err: err}:
			default:
			}
			return
		}
		io.WriteString(w, "velqbo is connected to QuickBooks. You can close this window.\n")
		select {
		case done <- result{cb: cb}:
		default:
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()

	authURL := qbo.AuthCodeURL(conf, state)
	fmt.Fprintf(m.Stderr, "Open this URL in a browser to connect velqbo to QuickBooks:\n\n  %s\n\nWaiting for the callback on %s ...\n", authURL, ru.String())
	if m.OpenBrowser != nil {
		if err := m.OpenBrowser(authURL); err != nil {
			m.Log.WithError(err).Debug("could not open a browser")
		}
	}

	var res result
	select {
	case res = <-done:
	case <-time.After(timeout):
		return unavailable(fmt.Errorf("no OAuth callback within %s", timeout))
	case <-ctx.Done():
		return ctx.Err()
	}
	if res.err != nil {
		return unavailable(res.err)
	}
	conn, err := m.completeConnect(ctx, ru.String(), res.cb)
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, conn)
	return nil
}

// randomState is an OAuth state: unguessable, so a callback carrying it can
// only come from a consent this process (or console session) asked for.
func randomState() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// openBrowser opens url with the desktop's opener, where there is one.
func openBrowser(u string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", u)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		if _, err := exec.LookPath("xdg-open"); err != nil {
			return err
		}
		cmd = exec.Command("xdg-open", u)
	}
	return cmd.Start()
}

func disconnectCommand() command {
	var forget bool
	return command{
		name: "disconnect",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&forget, "forget", false, "forget the tokens even if Intuit cannot be reached to revoke them")
		},
		run: func(ctx context.Context, m *Main, args []string) error {
			if len(args) > 0 {
				return usageErrorf("disconnect takes no arguments")
			}
			gone, err := m.disconnectQBO(ctx, forget)
			if len(gone) == 0 && err == nil {
				fmt.Fprintln(m.Stdout, "not connected; nothing to do")
				return nil
			}
			for _, d := range gone {
				fmt.Fprintln(m.Stdout, d)
			}
			return err
		},
	}
}

// disconnected is one company whose tokens velqbo has forgotten.
type disconnected struct {
	Realm string
	// RevokeErr is why Intuit did not revoke the token, when forgotten
	// anyway; nil when revoked.
	RevokeErr error
}

// String is what `velqbo disconnect` prints.
func (d disconnected) String() string {
	if d.RevokeErr != nil {
		return fmt.Sprintf("forgot the tokens of QBO company %s (not revoked: %v)", d.Realm, d.RevokeErr)
	}
	return fmt.Sprintf("disconnected from QBO company %s; the ledger and links are kept", d.Realm)
}

// disconnectQBO revokes the refresh token of every connected company at
// Intuit and then forgets it; the ledger, links and settings are kept (and
// so is the ledger's company: checkRealm still refuses another). A token
// Intuit cannot revoke is kept, and the error returned, unless forget is
// set: a token forgotten but not revoked stays valid at Intuit until it
// expires. It returns the companies done before any error; errors are
// unavailable() for a revoke that failed, or the store's.
func (m *Main) disconnectQBO(ctx context.Context, forget bool) ([]disconnected, error) {
	st, err := m.openStore(ctx)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	infos, err := st.Tokens(ctx)
	if err != nil {
		return nil, err
	}
	var done []disconnected
	for _, info := range infos {
		tok, err := st.LoadToken(ctx, info.Realm)
		if err != nil {
			return done, unavailable(err)
		}
		c := m.Config.QBO
		err = qbo.Revoke(ctx, &http.Client{Timeout: 60 * time.Second}, m.revokeURL(), c.ClientID, c.ClientSecret, tok.RefreshToken)
		if err != nil && !forget {
			return done, unavailable(fmt.Errorf("revoke the token of company %s: %w (use --forget to forget it anyway)", info.Realm, err))
		}
		if err := st.DeleteToken(ctx, info.Realm); err != nil {
			return done, err
		}
		done = append(done, disconnected{Realm: info.Realm, RevokeErr: err})
	}
	return done, nil
}

package main

import (
	"context"
	"errors"
	"net/url"

	"github.com/velqbo/velqbo/cmd/velqbo/internal/tokenhealth"
	"github.com/velqbo/velqbo/cmd/velqbo/internal/web"
	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/schema"
)

// QBOStatus reads the connection as `velqbo status` does: the stored
// token's health (asked of Intuit once the access token has run out), and
// the company's name live from QBO.
func (b *consoleBackend) QBOStatus(ctx context.Context) (web.QBOStatus, error) {
	m := b.m
	v := web.QBOStatus{Sandbox: m.Config.QBO.Env == "sandbox"}
	prev, err := b.st.GetSetting(ctx, settingRealm)
	if err != nil && !errors.Is(err, schema.ErrNotFound) {
		return v, err
	}
	v.LedgerRealm = prev
	infos, err := b.st.Tokens(ctx)
	if err != nil || len(infos) == 0 {
		return v, err
	}
	v.Realm = infos[0].Realm
	v.Health = m.checkTokenHealth(ctx, b.st, tokenhealth.Of(infos[0], m.Now()))
	if v.Health.Rejected {
		v.CompanyErr = v.Health.Warning
		return v, nil
	}
	conn, err := m.connectQBO(ctx, b.st)
	if err == nil {
		v.Company, _, err = conn.Client.CompanyInfo(ctx)
	}
	if err != nil {
		v.Company, v.CompanyErr = nil, qboError(err).Error()
	}
	return v, nil
}

// QBORedirectURL is the redirect URL of the console's consent: the
// configured VELQBO_QBO_REDIRECT_URL when it points at the console's
// callback path (a console behind a proxy, whose public address the request
// does not tell), else the callback under the address the browser used.
// Intuit only redirects to URLs registered for the app.
func (b *consoleBackend) QBORedirectURL(consoleBase string) string {
	if u, err := url.Parse(b.m.Config.QBO.RedirectURL); err == nil && u.Host != "" && u.Path == web.CallbackPath {
		return u.String()
	}
	return consoleBase + web.CallbackPath
}

// QBOAuthURL is Intuit's consent URL for the app, as `velqbo connect`
// builds it.
func (b *consoleBackend) QBOAuthURL(redirectURL, state string) (string, error) {
	conf, err := b.m.oauthConfig(redirectURL)
	if err != nil {
		return "", err
	}
	return qbo.AuthCodeURL(conf, state), nil
}

// CompleteQBOConnect exchanges the code and stores the connection as
// `velqbo connect` does (completeConnect).
func (b *consoleBackend) CompleteQBOConnect(ctx context.Context, redirectURL string, cb qbo.Callback) (web.QBOConnected, error) {
	c, err := b.m.completeConnect(ctx, redirectURL, cb)
	if err != nil {
		return web.QBOConnected{}, err
	}
	return web.QBOConnected{Realm: c.Realm, RefreshExpiresAt: c.RefreshExpiresAt}, nil
}

// DisconnectQBO revokes and forgets the tokens as `velqbo disconnect` does.
func (b *consoleBackend) DisconnectQBO(ctx context.Context, forget bool) ([]web.QBODisconnected, error) {
	gone, err := b.m.disconnectQBO(ctx, forget)
	out := make([]web.QBODisconnected, len(gone))
	for i, d := range gone {
		out[i] = web.QBODisconnected{Realm: d.Realm, RevokeErr: d.RevokeErr}
	}
	return out, err
}

// Package tokenhealth says how long the stored QBO refresh token has left
// and when to warn about it, for `velqbo status`, the daemon's /healthz,
// its metrics and its alerts.
package tokenhealth

import (
	"fmt"
	"strings"
	"time"

	"github.com/velqbo/velqbo/qbo"
	"github.com/velqbo/velqbo/schema"
)

// WarnDays is when status and /healthz start warning about a refresh
// token's end.
const WarnDays = 14

// RejectedText is what velqbo says when Intuit refuses the stored refresh
// token (OAuth invalid_grant): only a new consent helps. A database restored
// from a backup lands here too: it holds the refresh token of the day of the
// backup, which Intuit has replaced since.
const RejectedText = "QuickBooks rejected the stored refresh token (it expired, was revoked, or was replaced by a newer one, as after restoring a backup): reconnect with `velqbo connect`"

// RunError is a recorded run's error as status and /healthz show it: a
// refresh token Intuit refused reads as RejectedText, not as the chain of
// wrapped errors (with the raw OAuth invalid_grant) the engine recorded.
func RunError(recorded string) string {
	if strings.Contains(recorded, qbo.ErrTokenRejected.Error()) {
		return RejectedText
	}
	return recorded
}

// Health is a stored token's health, as `velqbo status --json` and
// /healthz print it.
type Health struct {
	Realm            string     `json:"realm"`
	RefreshRotatedAt *time.Time `json:"refresh_rotated_at,omitempty"`
	RefreshExpiresAt *time.Time `json:"refresh_expires_at,omitempty"`
	HardExpiresAt    *time.Time `json:"hard_expires_at,omitempty"`
	AccessExpiresAt  *time.Time `json:"access_expires_at,omitempty"`
	// DaysLeft is the refresh token's remaining life in whole days.
	DaysLeft *int   `json:"refresh_days_left,omitempty"`
	Warning  string `json:"warning,omitempty"`
	// Rejected is set when Intuit refused the refresh token when asked
	// (`velqbo status` asks once the stored access token has run out):
	// the dates above no longer matter, only a reconnect helps.
	Rejected bool `json:"rejected,omitempty"`
}

// Of is info's health at now: its times, the days left until End, and a
// warning when it has expired or has fewer than WarnDays left.
func Of(info schema.TokenInfo, now time.Time) *Health {
	h := &Health{Realm: info.Realm, RefreshRotatedAt: ptime(info.RefreshRotatedAt), RefreshExpiresAt: ptime(info.RefreshExpiresAt), HardExpiresAt: ptime(info.HardExpiresAt), AccessExpiresAt: ptime(info.AccessExpiresAt)}
	if end := End(info); !end.IsZero() {
		days := int(end.Sub(now).Hours() / 24)
		h.DaysLeft = &days
		switch {
		case !end.After(now):
			h.Warning = "the refresh token has expired: run `velqbo connect`"
		case days < WarnDays:
			h.Warning = fmt.Sprintf("the refresh token expires in %d days unless a run refreshes it; if it is the hard limit, run `velqbo connect`", days)
		}
	}
	return h
}

// End is when the refresh token stops working: the earlier of the
// rolling expiry and the hard limit; zero when neither is known.
func End(info schema.TokenInfo) time.Time {
	end := info.RefreshExpiresAt
	if !info.HardExpiresAt.IsZero() && (end.IsZero() || info.HardExpiresAt.Before(end)) {
		end = info.HardExpiresAt
	}
	return end
}

func ptime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Package tokenhealth says how long the stored QBO refresh token has left
// and when to warn about it, for `velqbo status`, the daemon's /healthz,
// its metrics and its alerts.
package tokenhealth

import (
	"fmt"
	"time"

	"github.com/velqbo/velqbo/schema"
)

// WarnDays is when status and /healthz start warning about a refresh
// token's end.
const WarnDays = 14

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

package web

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func TestFormatMoney(t *testing.T) {
	t.Parallel()
	d := decimal.RequireFromString
	nilDec := (*decimal.Decimal)(nil)
	tests := []struct {
		amount   any
		currency string
		want     string
	}{
		{d("0"), "USD", "0.00 USD"},
		{d("1234.5"), "USD", "1,234.50 USD"},
		{d("-1234567.891"), "CAD", "-1,234,567.89 CAD"},
		{d("999.999"), "USD", "1,000.00 USD"},
		{d("12.3"), "", "12.30"},
		{nilDec, "USD", "—"},
		{decimal.NullDecimal{}, "USD", "—"},
	}
	for _, tt := range tests {
		if got := formatMoney(tt.amount, tt.currency); got != tt.want {
			t.Errorf("formatMoney(%v, %q) = %q; want %q", tt.amount, tt.currency, got, tt.want)
		}
	}
}

func TestFormatTimeInBusinessZone(t *testing.T) {
	t.Parallel()
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	s := &Server{c: Config{Location: chicago}}
	at := time.Date(2026, 3, 1, 3, 30, 0, 0, time.UTC)
	tests := []struct {
		t      any
		layout string
		want   string
	}{
		{at, "2 Jan 2006", "28 Feb 2026"},
		{at, "2 Jan 2006 15:04 MST", "28 Feb 2026 21:30 CST"},
		{&at, "2 Jan 2006", "28 Feb 2026"},
		{time.Time{}, "2 Jan 2006", "—"},
		{(*time.Time)(nil), "2 Jan 2006", "—"},
	}
	for _, tt := range tests {
		if got := s.formatTime(tt.t, tt.layout); got != tt.want {
			t.Errorf("formatTime(%v, %q) = %q; want %q", tt.t, tt.layout, got, tt.want)
		}
	}
}

func TestQBOURL(t *testing.T) {
	t.Parallel()
	s := &Server{c: Config{QBOAppURL: QBOAppSandbox}}
	tests := []struct{ kind, id, want string }{
		{"Invoice", "145", QBOAppSandbox + "invoice?txnId=145"},
		{"SalesReceipt", "7", QBOAppSandbox + "salesreceipt?txnId=7"},
		{"Customer", "58", QBOAppSandbox + "customerdetail?nameId=58"},
		{"Invoice", "1&x=2", QBOAppSandbox + "invoice?txnId=1%26x%3D2"},
		{"Unknown", "1", QBOAppSandbox + "homepage"},
		{"Invoice", "", QBOAppSandbox + "homepage"},
	}
	for _, tt := range tests {
		if got := string(s.qboURL(tt.kind, tt.id)); got != tt.want {
			t.Errorf("qboURL(%q, %q) = %q; want %q", tt.kind, tt.id, got, tt.want)
		}
	}
}

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	h, err := HashPassword("a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPassword("a long enough password")
	if h == h2 {
		t.Errorf("got the same hash twice; want a random salt each time")
	}
	tests := []struct {
		hash, password string
		want           bool
		wantErr        bool
	}{
		{h, "a long enough password", true, false},
		{h, "a long enough passworD", false, false},
		{h, "", false, false},
		{"$2a$10$bcrypt", "x", false, true},
		{"$argon2id$v=19$m=0,t=0,p=0$AAAA$AAAA", "x", false, true},
	}
	for _, tt := range tests {
		got, err := VerifyPassword(tt.hash, tt.password)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("VerifyPassword(%q, %q) = %v, %v; want %v, error %v", tt.hash, tt.password, got, err, tt.want, tt.wantErr)
		}
	}
	if _, err := HashPassword("short"); err == nil {
		t.Errorf("HashPassword(short) gave no error; want one naming %d characters", MinPasswordLength)
	}
}

package daemon

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestMetricsAuth(t *testing.T) {
	t.Parallel()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("metrics")) })
	tests := []struct {
		name     string
		token    string
		loopback bool
		auth     string
		want     int
	}{
		{"loopback, no token configured", "", true, "", http.StatusOK},
		{"network, no token configured", "", false, "", http.StatusForbidden},
		{"network, no token configured, one sent", "", false, "Bearer x", http.StatusForbidden},
		{"token, right", "s3cret-token", false, "Bearer s3cret-token", http.StatusOK},
		{"token, right, loopback", "s3cret-token", true, "Bearer s3cret-token", http.StatusOK},
		{"token, missing", "s3cret-token", true, "", http.StatusUnauthorized},
		{"token, wrong", "s3cret-token", false, "Bearer s3cret-tokeN", http.StatusUnauthorized},
		{"token, not bearer", "s3cret-token", false, "Basic s3cret-token", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/metrics", nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			metricsAuth(tt.token, tt.loopback, ok).ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("got status %d; want %d", rec.Code, tt.want)
			}
		})
	}
}

package main

import (
	"net/http"
	"strings"
	"testing"
)

func TestConsoleDaemonServesConsole(t *testing.T) {
	t.Parallel()
	h := newDaemonHarness(t, 12)
	h.prepare(nil)
	rig := startDaemon(t, h, defaultDaemonOptions())
	tests := []struct {
		path     string
		wantCode int
		wantBody string
	}{
		{"/healthz", http.StatusOK, `"status"`},
		{"/metrics", http.StatusOK, "velqbo_"},
		{"/login", http.StatusOK, `id="password"`},
		{"/static/console.css", http.StatusOK, "--accent"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			code, body := rig.get(tt.path)
			if code != tt.wantCode || !strings.Contains(body, tt.wantBody) {
				t.Errorf("got %d %.200q; want %d with %q", code, body, tt.wantCode, tt.wantBody)
			}
		})
	}
	// The console's pages need a login (the test client follows the
	// redirect to the login page).
	if code, body := rig.get("/customers"); code != http.StatusOK || !strings.Contains(body, `action="/login"`) {
		t.Errorf("got %d %.200q for /customers logged out; want the login page", code, body)
	}
}

func TestConsoleDaemonNetworkNeedsUser(t *testing.T) {
	t.Parallel()
	h := newDaemonHarness(t, 12)
	h.prepare(nil)
	h.Env["VELQBO_LISTEN"] = "0.0.0.0:0"
	m := h.newMain(&syncBuffer{})
	_, err := m.newDaemon(t.Context(), defaultDaemonOptions())
	if err == nil || !strings.Contains(err.Error(), "velqbo users add NAME --role admin") {
		t.Fatalf("got %v; want the refusal naming `velqbo users add`", err)
	}

	h.MustRun(exitOK, consolePassword+"\n", "users", "add", "alice", "--role", "admin")
	h.Env["VELQBO_LISTEN"] = "0.0.0.0:0"
	rig := startDaemon(t, h, defaultDaemonOptions())
	if code, _ := rig.get("/metrics"); code != http.StatusForbidden {
		t.Errorf("got /metrics %d on a network listener without VELQBO_METRICS_TOKEN; want 403", code)
	}
}

func TestConsoleDaemonConsoleOff(t *testing.T) {
	t.Parallel()
	h := newDaemonHarness(t, 12)
	h.prepare(nil)
	h.Env["VELQBO_CONSOLE_OFF"] = "true"
	rig := startDaemon(t, h, defaultDaemonOptions())
	if code, _ := rig.get("/login"); code != http.StatusNotFound {
		t.Errorf("got /login %d with the console off; want 404", code)
	}
	if code, _ := rig.get("/healthz"); code != http.StatusOK {
		t.Errorf("got /healthz %d with the console off; want 200", code)
	}
}

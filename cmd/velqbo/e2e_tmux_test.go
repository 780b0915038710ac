//go:build unix

package main

// The progress bar on a real terminal: `velqbo demo` runs in a tmux pane
// with a tight pacing budget, and the pane shows the bar saying that it
// waits for QBO's per-minute limit, with the time left.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestE2E_TmuxPacedBar(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and drives tmux; skipped with -short")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	dir := t.TempDir()
	bin := buildVelqbo(t, dir)
	sock := filepath.Join(dir, "tmux.sock")
	script := filepath.Join(dir, "demo.sh")
	// A budget of 30 requests and 2 batches a minute: the demo's first run
	// waits for the window within seconds.
	body := fmt.Sprintf("#!/bin/sh\ncd %q\nexport VELQBO_QBO_REQUESTS_PER_MINUTE=30 VELQBO_QBO_BATCHES_PER_MINUTE=2\nexec %q demo --orders 300\n", dir, bin)
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	tmux := func(args ...string) (string, error) {
		out, err := exec.Command("tmux", append([]string{"-S", sock}, args...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := tmux("new-session", "-d", "-s", "velqbo", "-x", "150", "-y", "30", script); err != nil {
		t.Skipf("tmux cannot start a session here: %v: %s", err, out)
	}
	t.Cleanup(func() { tmux("kill-server") })

	const want = "waiting for QBO's per-minute limit, resuming in "
	deadline := time.Now().Add(90 * time.Second)
	var pane string
	for time.Now().Before(deadline) {
		out, err := tmux("capture-pane", "-p", "-t", "velqbo")
		if err != nil {
			t.Fatalf("capture-pane: %v: %s\nlast pane:\n%s", err, out, pane)
		}
		pane = out
		if strings.Contains(pane, want) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("pane:\n%s", pane)
	var bar string
	for _, l := range strings.Split(pane, "\n") {
		if strings.Contains(l, want) {
			bar = l
		}
	}
	if bar == "" {
		t.Fatalf("the pane never showed %q", want)
	}
	for _, s := range []string{"|", "/", " left"} {
		if !strings.Contains(bar, s) {
			t.Errorf("bar %q: want %q in it (the bar, the count, the time left)", bar, s)
		}
	}
	// The countdown reads "N s" under a minute and "N min" from 59.5 s on,
	// which a loaded machine reaches before the pane is captured.
	if rest := bar[strings.Index(bar, want)+len(want):]; !strings.HasPrefix(strings.TrimLeft(rest, "0123456789"), " s") &&
		!strings.HasPrefix(strings.TrimLeft(rest, "0123456789"), " min") {
		t.Errorf("bar %q: want a countdown (N s or N min) after %q", bar, want)
	}
	if strings.Count(pane, want) != 1 {
		t.Errorf("the pane shows the waiting bar on %d lines; want 1 (the bar owns its line)", strings.Count(pane, want))
	}
}

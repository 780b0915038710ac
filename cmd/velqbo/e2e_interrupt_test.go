//go:build unix

package main

// Ctrl-C and SIGTERM on a manual run, through the built binary: the first
// signal stops the run the way the daemon stops (no new write, the writes
// in flight recorded, the run recorded interrupted), a second one cuts it
// off; either way nothing is lost and the next runs finish the books with
// no duplicate.

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/velqbo/velqbo/qbo/qbotest"
)

func TestE2E_InterruptManualRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and signals it; skipped with -short")
	}
	t.Parallel()
	bin := buildVelqbo(t, t.TempDir())
	tests := []struct {
		name string
		sig  syscall.Signal
		// cutOff: the write that triggers the signal is held, and a
		// second signal cuts the run off.
		cutOff bool
	}{
		{name: "CtrlC", sig: syscall.SIGINT},
		{name: "SIGTERM", sig: syscall.SIGTERM},
		{name: "CtrlCTwice", sig: syscall.SIGINT, cutOff: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, e2eOptions{})
			want := e2eScenario(e.Vel, 40)
			env := map[string]string{"VELQBO_QBO_CONCURRENCY": "3", "VELQBO_QBO_TIMEOUT": killTimeout.String(), "VELQBO_QBO_LAND_MARGIN": killTimeout.String()}
			for k, v := range e.Env {
				env[k] = v
			}
			dir := t.TempDir()

			var (
				mu      sync.Mutex
				proc    *os.Process
				nWrites atomic.Int64
			)
			hold := make(chan struct{})
			signalled := make(chan struct{})
			trigger := qbotest.Injection{Times: 1, Match: func(c *qbotest.Call) bool {
				if !isWrite(*c) || nWrites.Add(1) != 3 {
					return false
				}
				mu.Lock()
				defer mu.Unlock()
				proc.Signal(tt.sig)
				close(signalled)
				return tt.cutOff
			}}
			if tt.cutOff {
				trigger.Hold = hold
			}
			e.QBO.Inject(trigger)
			// Every write takes a while, so some are in flight at the signal.
			e.QBO.Inject(qbotest.Injection{Match: isWritePtr, Latency: 50 * time.Millisecond})

			mu.Lock()
			r := startRun(t, bin, dir, env)
			proc = r.cmd.Process
			mu.Unlock()
			if tt.cutOff {
				select {
				case <-signalled:
				case <-time.After(20 * time.Second):
					t.Fatal("the run sent no third write")
				}
				time.Sleep(200 * time.Millisecond) // the first signal is handled
				proc.Signal(tt.sig)
			}
			if r.wait(t) {
				t.Fatal("run killed")
			}
			stderr := r.stderr.String()
			if c := r.exitCode(); c != exitIncomplete {
				t.Fatalf("interrupted run: exit %d; want %d\nstderr: %s", c, exitIncomplete, stderr)
			}
			for _, s := range []string{"stopping: letting ", " writes in flight finish; press Ctrl-C again to cut off"} {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr: want %q\n%s", s, stderr)
				}
			}
			sum := decodeSummary(t, r.stdout.String())
			if tt.cutOff {
				if !strings.Contains(stderr, "velqbo: interrupted and cut off: the next run looks up in QBO the writes that were cut off") {
					t.Errorf("stderr: want the cut-off message\n%s", stderr)
				}
			} else {
				if !strings.Contains(stderr, "velqbo: interrupted: every write that was sent is recorded; the next run does the rest") {
					t.Errorf("stderr: want the interrupted message\n%s", stderr)
				}
				// Nothing failed: the writes in flight finished and were
				// recorded, nothing else started.
				if sum.Counts.Failed != 0 || sum.Counts.Created == 0 {
					t.Errorf("interrupted run: counts %+v; want some created and none failed", sum.Counts)
				}
				for _, l := range strings.Split(stderr, "\n") {
					if strings.Contains(l, "level=warning") && !strings.Contains(l, "run interrupted; the next run does the rest") {
						t.Errorf("stderr: unexpected warning %s", l)
					}
				}
			}
			if st := lastRunStatus(t, bin, dir, env); st.Status != "interrupted" {
				t.Errorf("status: last run %+v; want interrupted", st)
			}
			t.Logf("interrupted after %d writes: %s; %s", nWrites.Load(), docCounts(e.QBO), strings.TrimSpace(lastLine(stderr)))

			close(hold)
			settleBinary(t, bin, dir, env)
			mark := e.mark()
			r = startRun(t, bin, dir, env)
			if r.wait(t) || r.exitCode() != exitOK {
				t.Fatalf("final run: exit %d\nstderr: %s", r.exitCode(), r.stderr.String())
			}
			if w := e.writesSince(mark); len(w) != 0 {
				t.Errorf("final run: %d writes; want none", len(w))
			}
			checkBooks(t, e.QBO, want)
		})
	}
}

type runStatus struct {
	Status string `json:"status"`
	Error  string `json:"error"`
}

// lastRunStatus is the newest run of `velqbo status --json`.
func lastRunStatus(t *testing.T, bin, dir string, env map[string]string) runStatus {
	t.Helper()
	cmd := exec.Command(bin, "status", "--json")
	cmd.Dir = dir
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.Output()
	if err != nil && cmd.ProcessState.ExitCode() > exitIncomplete {
		t.Fatalf("status: %v\n%s", err, out)
	}
	var st struct{ Runs []runStatus }
	if err := json.Unmarshal(out, &st); err != nil || len(st.Runs) == 0 {
		t.Fatalf("status --json: %v; runs %+v\n%s", err, st.Runs, out)
	}
	return st.Runs[0]
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestE2E_SecondSignalEndsAnyCommand: a command that does not heed its
// context (connect reading a refresh token from a standard input that
// never closes) still ends on the second Ctrl-C, with exit 130.
func TestE2E_SecondSignalEndsAnyCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and signals it; skipped with -short")
	}
	t.Parallel()
	bin := buildVelqbo(t, t.TempDir())
	e := newE2E(t, e2eOptions{})
	cmd := exec.Command(bin, "connect", "--realm", "1", "--refresh-token-stdin")
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"TMPDIR=" + os.TempDir(), "VELQBO_DB=" + filepath.Join(cmd.Dir, "velqbo.db")}
	for k, v := range e.Env {
		if k != "VELQBO_DB" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	stdin, err := cmd.StdinPipe() // held open: the read never ends
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		t.Fatalf("connect ended before any signal (%v): %s; want it waiting on standard input", err, stderr.String())
	case <-time.After(500 * time.Millisecond):
	}
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-done:
		// Fine too: the first signal was enough.
		return
	case <-time.After(300 * time.Millisecond):
	}
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Errorf("after the second Ctrl-C: got %v; want exit 130", err)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("connect still running 10 s after the second Ctrl-C; stderr: %s", stderr.String())
	}
}

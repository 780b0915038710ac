//go:build unix

package main

// kill -9 acceptance test of issue 3: the real binary, killed at many
// points of a run and run again, never leaves a second QBO document.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/velqbo/velqbo/qbo/qbotest"
)

// buildVelqbo builds the binary into dir.
func buildVelqbo(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "velqbo")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// killRun is one subprocess run of `velqbo run --json`.
type killRun struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan struct{}
	err            error
}

func startRun(t *testing.T, bin, dir string, env map[string]string) *killRun {
	t.Helper()
	r := &killRun{done: make(chan struct{})}
	r.cmd = exec.Command(bin, "run", "--json")
	r.cmd.Dir = dir // no ./velqbo.yaml is picked up
	r.cmd.Env = []string{"TMPDIR=" + os.TempDir()}
	for k, v := range env {
		r.cmd.Env = append(r.cmd.Env, k+"="+v)
	}
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.err = r.cmd.Wait(); close(r.done) }()
	return r
}

// wait waits for the process (bounded: a stuck run fails the test) and
// reports whether SIGKILL ended it.
func (r *killRun) wait(t *testing.T) (killed bool) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		r.cmd.Process.Kill()
		<-r.done
		t.Fatalf("velqbo run did not finish within 30s\nstderr: %s", r.stderr.String())
	}
	var ee *exec.ExitError
	if errors.As(r.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true
		}
	}
	return false
}

func (r *killRun) exitCode() int { return r.cmd.ProcessState.ExitCode() }

// TestE2E_KillNine kills `velqbo run` with SIGKILL at several points —
// right after QBO committed a write (the answer never read), while a write
// is in flight (never executed), and at wall-clock instants (anywhere,
// ledger transactions included) — then runs it to completion: every
// expected document exists exactly once, to the cent.
func TestE2E_KillNine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it; skipped with -short")
	}
	t.Parallel()
	bin := buildVelqbo(t, t.TempDir())

	type point struct {
		write int           // kill when the run's n-th write arrives at QBO,
		after time.Duration // or this long after it arrived (real time)
	}
	tests := []struct {
		name string
		// source is VELQBO_SOURCE: "" for the Velocity contract.
		source string
		// hold: the killing write is held (never executed) instead of
		// committed.
		hold   bool
		points []point
	}{
		{name: "AfterCommit", points: []point{{write: 1}, {write: 2}, {write: 3}, {write: 5}, {write: 8}}},
		{name: "InFlight", hold: true, points: []point{{write: 1}, {write: 2}, {write: 4}, {write: 6}}},
		{name: "Timer", points: []point{{write: 1, after: 10 * time.Millisecond}, {write: 1, after: 40 * time.Millisecond},
			{write: 2, after: 20 * time.Millisecond}, {write: 3, after: 50 * time.Millisecond}, {write: 1, after: 90 * time.Millisecond}}},
		// The same with a BigCommerce store, at fewer points: what differs
		// is the source, not how a write is made safe.
		{name: "BigCommerce/AfterCommit", source: sourceBigCommerce, points: []point{{write: 1}, {write: 2}, {write: 3}}},
		{name: "BigCommerce/InFlight", source: sourceBigCommerce, hold: true, points: []point{{write: 1}, {write: 2}}},
		{name: "BigCommerce/Timer", source: sourceBigCommerce, points: []point{{write: 1, after: 10 * time.Millisecond},
			{write: 1, after: 40 * time.Millisecond}, {write: 2, after: 20 * time.Millisecond}, {write: 1, after: 90 * time.Millisecond}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var (
				e    *e2e
				want []bookDoc
			)
			if tt.source == sourceBigCommerce {
				b := newBCE2E(t)
				e, want = b.e2e, bcScenario(t, b, 20)
			} else {
				e = newE2E(t, e2eOptions{})
				want = e2eScenario(e.Vel, 40)
			}
			env := map[string]string{"VELQBO_QBO_CONCURRENCY": "3", "VELQBO_QBO_TIMEOUT": killTimeout.String(), "VELQBO_QBO_LAND_MARGIN": killTimeout.String()}
			for k, v := range e.Env {
				env[k] = v
			}
			dir := t.TempDir()

			var (
				mu      sync.Mutex
				proc    *os.Process
				at      point
				killed  string
				timer   *time.Timer
				nWrites atomic.Int64
			)
			never := make(chan struct{}) // holds the killing write until its client is gone
			kill := qbotest.Injection{Match: func(c *qbotest.Call) bool {
				if !isWrite(*c) {
					return false
				}
				n := int(nWrites.Add(1))
				mu.Lock()
				defer mu.Unlock()
				if n != at.write || proc == nil {
					return false
				}
				what := fmt.Sprintf("write %d (%s %s)", n, c.Operation, cmpOr(c.Entity, "batch"))
				if at.after > 0 {
					p := proc
					timer = time.AfterFunc(at.after, func() {
						mu.Lock()
						defer mu.Unlock()
						p.Kill()
						killed = fmt.Sprintf("%v after %s, %d writes in", at.after, what, nWrites.Load())
					})
					return false
				}
				proc.Kill() // SIGKILL
				killed = what
				return tt.hold
			}}
			if tt.hold {
				kill.Hold = never
			}
			e.QBO.Inject(kill)
			// Every write takes a little while, so a run is caught mid-way.
			e.QBO.Inject(qbotest.Injection{Match: isWritePtr, Latency: 25 * time.Millisecond})

			for i, p := range tt.points {
				nWrites.Store(0)
				before := len(e.QBO.Requests())
				r := startRun(t, bin, dir, env)
				mu.Lock()
				proc, at, killed = r.cmd.Process, p, ""
				mu.Unlock()
				wasKilled := r.wait(t)
				mu.Lock()
				proc, at = nil, point{}
				if timer != nil {
					timer.Stop()
					timer = nil
				}
				where := killed
				mu.Unlock()
				if !wasKilled {
					// The run finished before the kill point: a later point
					// has nothing left to interrupt.
					t.Logf("run %d: finished (exit %d) before the kill point %+v", i+1, r.exitCode(), p)
					if c := r.exitCode(); c != exitOK && c != exitIncomplete {
						t.Fatalf("run %d: exit %d\nstderr: %s", i+1, c, r.stderr.String())
					}
					continue
				}
				t.Logf("run %d: SIGKILL at %s; %d QBO requests in this run; %s", i+1, where, len(e.QBO.Requests())-before, docCounts(e.QBO))
			}

			// Run to completion (twice: the first may only settle what was
			// left unknown), then once more to see that nothing is left.
			e.QBO.ClearInjections()
			close(never)
			settleBinary(t, bin, dir, env)
			mark := e.mark()
			r := startRun(t, bin, dir, env)
			if r.wait(t) || r.exitCode() != exitOK {
				t.Fatalf("final run: exit %d\nstderr: %s", r.exitCode(), r.stderr.String())
			}
			sum := decodeSummary(t, r.stdout.String())
			if w := e.writesSince(mark); len(w) != 0 || len(sum.Items) != 0 {
				t.Errorf("final run: %d writes, items %+v; want none", len(w), sum.Items)
			}
			t.Logf("books: %s", docCounts(e.QBO))
			checkBooks(t, e.QBO, want)
		})
	}
}

// killTimeout is the QBO client's timeout (VELQBO_QBO_TIMEOUT) and the
// land margin (VELQBO_QBO_LAND_MARGIN) of the binary in the kill tests: a
// create of a killed run is trusted absent, or sent again, only twice this
// after it was sent (the timeout plus the margin). It is short so that the
// tests wait seconds, not minutes, and long enough for any call to the
// local fake QBO.
const killTimeout = 2 * time.Second

// settleBinary runs `velqbo run` to completion: until it exits 0, within 3
// runs that are not waiting. A run that leaves creates waiting (they may
// still reach QBO) is followed by one after their window; that wait is
// real time, as the binary reads the wall clock.
func settleBinary(t *testing.T, bin, dir string, env map[string]string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for i := 0; ; i++ {
		r := startRun(t, bin, dir, env)
		if r.wait(t) {
			t.Fatal("completion run killed")
		}
		if r.exitCode() == exitOK {
			return
		}
		if r.exitCode() == exitIncomplete && time.Now().Before(deadline) {
			if sum := decodeSummary(t, r.stdout.String()); sum.Counts.Waiting > 0 {
				t.Logf("completion run %d: %d creates waiting; running again after their window", i+1, sum.Counts.Waiting)
				time.Sleep(2 * killTimeout)
				i--
				continue
			}
		}
		if i == 2 {
			t.Fatalf("completion run %d: exit %d\nstdout: %s\nstderr: %s", i+1, r.exitCode(), r.stdout.String(), r.stderr.String())
		}
		t.Logf("completion run %d: exit %d", i+1, r.exitCode())
	}
}

// docCounts summarises QBO's documents for the log.
func docCounts(q *qbotest.Server) string {
	var parts []string
	for _, typ := range bookTypes {
		parts = append(parts, fmt.Sprintf("%s %d", typ, len(q.Entities(typ))))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

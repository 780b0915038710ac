//go:build unix

package main

import (
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/velqbo/velqbo/qbo/qbotest"
)

// TestE2E_KillInFlight is issue 10's killed-with-writes-in-flight-and-
// restarted-at-once: QBO takes a second per write and commits every write
// it received even when its client died meanwhile; the real binary is
// killed with SIGKILL while its writes are in flight and restarted at
// once, again and again, as systemd's Restart= or an impatient operator
// would. A restarted run must not send a create again while the first
// send can still land. Once the late writes landed and the runs settled,
// QBO holds every expected document exactly once: no duplicate, nothing
// missing.
func TestE2E_KillInFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it; skipped with -short")
	}
	t.Parallel()
	const (
		maxKills = 12
		latency  = time.Second // each write, on the wall clock
	)
	bin := buildVelqbo(t, t.TempDir())
	e := newE2E(t, e2eOptions{qbo: []qbotest.Option{qbotest.WithoutLimits()}})
	// Enough orders that a phase is several batch requests of 30, so that
	// runs reach their kill points (writes 1 to 3) while writes remain.
	want := e2eScenario(e.Vel, 120)
	env := map[string]string{"VELQBO_QBO_CONCURRENCY": "3", "VELQBO_QBO_TIMEOUT": killTimeout.String(), "VELQBO_QBO_LAND_MARGIN": killTimeout.String()}
	for k, v := range e.Env {
		env[k] = v
	}
	dir := t.TempDir()

	var (
		mu     sync.Mutex
		proc   *os.Process
		killAt int // kill when the run's killAt-th write arrives
		writes int
		where  string
	)
	e.QBO.Inject(qbotest.Injection{Latency: latency, CommitLate: true, Match: func(c *qbotest.Call) bool {
		if !isWrite(*c) {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		writes++
		if proc != nil && writes == killAt {
			proc.Kill() // SIGKILL, with this write (and maybe others) in flight
			proc = nil
			where = fmt.Sprintf("write %d (%s %s)", writes, c.Operation, cmpOr(c.Entity, "batch"))
		}
		return true
	}})

	deadline := time.Now().Add(40 * time.Second)
	kills, waited := 0, 0
	for i := 0; i < 3*maxKills && kills < maxKills && time.Now().Before(deadline); i++ {
		r := startRun(t, bin, dir, env)
		mu.Lock()
		proc, killAt, writes, where = r.cmd.Process, 1+i%3, 0, ""
		mu.Unlock()
		wasKilled := r.wait(t)
		mu.Lock()
		proc = nil
		at := where
		mu.Unlock()
		if wasKilled {
			kills++
			t.Logf("run %d: SIGKILL at %s; %d writes not landed yet; %s", i+1, at, e.QBO.LateWrites(), docCounts(e.QBO))
			continue // restarted at once
		}
		code := r.exitCode()
		if code != exitOK && code != exitIncomplete {
			t.Fatalf("run %d: exit %d\nstderr: %s", i+1, code, r.stderr.String())
		}
		sum := decodeSummary(t, r.stdout.String())
		waited += sum.Counts.Waiting
		t.Logf("run %d: exit %d before the kill point, counts %+v", i+1, code, sum.Counts)
		if code == exitOK {
			break
		}
		if sum.Counts.Waiting > 0 {
			// Only waiting is left to do until the window of the creates
			// in flight has passed; the next run (looks them up and) sends
			// what depends on them, and is killed in its turn.
			time.Sleep(2 * killTimeout) // the binary's wall clock; real time by design
		}
	}
	if kills < 3 || waited == 0 {
		t.Errorf("%d runs killed with writes in flight, %d creates left waiting by restarted runs; want at least 3 and some",
			kills, waited)
	}

	// Every write QBO received lands within its latency; then the runs
	// settle (after the in-flight window where creates wait).
	e.QBO.ClearInjections()
	for end := time.Now().Add(10 * latency); e.QBO.LateWrites() > 0; {
		if time.Now().After(end) {
			t.Fatalf("%d late writes never landed", e.QBO.LateWrites())
		}
		time.Sleep(50 * time.Millisecond) // the fake's own timers land them; real time by design
	}
	settleBinary(t, bin, dir, env)
	mark := e.mark()
	r := startRun(t, bin, dir, env)
	if r.wait(t) || r.exitCode() != exitOK {
		t.Fatalf("final run: exit %d\nstderr: %s", r.exitCode(), r.stderr.String())
	}
	if sum := decodeSummary(t, r.stdout.String()); len(e.writesSince(mark)) != 0 || len(sum.Items) != 0 {
		t.Errorf("final run: %d writes, items %+v; want none", len(e.writesSince(mark)), sum.Items)
	}
	late := 0
	for _, c := range e.QBO.Requests() {
		if !c.CommittedAt.IsZero() {
			late++
		}
	}
	t.Logf("%d kills, %d creates waited, %d writes committed late; books: %s", kills, waited, late, docCounts(e.QBO))
	checkBooks(t, e.QBO, want)
}

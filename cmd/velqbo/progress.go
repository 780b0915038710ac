package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/velqbo/velqbo/qbo"
)

// progressReporter shows how far a run is. On a terminal it draws a bar on
// stderr that owns its line: log lines (and notices such as the stopping
// message) are written above it, it says so while the QBO client waits
// for QBO's per-minute window, and its estimate of the time left uses the
// documents a minute that the pacing allows, not the rate of the last
// burst (which is all a bar of its own would know). Elsewhere it logs a
// line at each tenth of the work and one when a pacing wait begins.
type progressReporter struct {
	m      *Main
	now    func() time.Time
	w      io.Writer
	term   bool
	pacing qbo.Pacing
	logOut io.Writer // the logger's output before the bar took it

	mu          sync.Mutex
	bar         *progressbar.ProgressBar
	done, total int
	first       time.Time // the first document's report
	// resume is when the earliest known pacing wait ends; a time in the
	// past means no request waits.
	resume            time.Time
	requests, batches int // requests sent (of them batches)
	lastLog           int
	lastDraw          time.Time
	tick              chan struct{} // closed by finish: stops the redraws
}

// progressRedraw is how often the bar is redrawn at most, and while
// nothing happens (the countdown of a pacing wait).
const progressRedraw = time.Second

// paceNotable is the shortest pacing wait that is shown: shorter ones are
// how a paced run always goes.
const paceNotable = 2 * time.Second

func (m *Main) progress() *progressReporter {
	d := qbo.DefaultPacing()
	c := m.Config.QBO
	if c.RequestsPerMinute > 0 {
		d.RequestsPerMinute = c.RequestsPerMinute
	}
	if c.BatchesPerMinute > 0 {
		d.BatchRequestsPerMinute = c.BatchesPerMinute
	}
	p := &progressReporter{m: m, now: m.Now, w: m.Stderr, pacing: d, lastLog: -1}
	p.term = m.IsTerminal != nil && m.IsTerminal()
	if p.term && m.Log != nil {
		p.logOut = m.Log.Out
		m.Log.SetOutput(logAboveBar{p})
	}
	return p
}

// update is reconcile's Options.Progress.
func (p *progressReporter) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if total <= 0 {
		return
	}
	p.done, p.total = done, total
	now := p.now()
	if p.first.IsZero() {
		p.first = now
	}
	if p.term {
		if p.bar == nil {
			p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(p.w), progressbar.OptionShowCount(),
				progressbar.OptionSetWidth(30), progressbar.OptionSetPredictTime(false), progressbar.OptionSetElapsedTime(false),
				progressbar.OptionShowDescriptionAtLineEnd(), progressbar.OptionThrottle(0), progressbar.OptionClearOnFinish())
			p.tick = make(chan struct{})
			go p.ticker(p.tick)
		}
		if done < total && now.Sub(p.lastDraw) < progressRedraw/10 {
			return
		}
		p.draw(now)
		return
	}
	if tenth := done * 10 / total; tenth > p.lastLog {
		p.lastLog = tenth
		f := map[string]any{"done": done, "total": total}
		if eta, ok := p.eta(now); ok {
			f["eta"] = roughDuration(eta)
		}
		p.m.Log.WithFields(f).Info("progress")
	}
}

// paced is the QBO client's pace hook (qbo.WithPaceHook).
func (p *progressReporter) paced(e qbo.PaceEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.Wait == 0 {
		p.requests++
		if e.Batch {
			p.batches++
		}
		return
	}
	if e.Wait < paceNotable {
		return
	}
	now := e.Until.Add(-e.Wait)
	if !p.resume.After(now) {
		p.resume = e.Until
		if !p.term && p.m.Log != nil {
			p.m.Log.WithField("resume_in", roughDuration(e.Wait)).Info("waiting for QBO's per-minute limit")
		}
	} else if e.Until.Before(p.resume) {
		p.resume = e.Until
	}
	if p.bar != nil {
		p.draw(p.now())
	}
}

// ticker redraws the bar while nothing else does, so the countdown of a
// pacing wait moves.
func (p *progressReporter) ticker(stop <-chan struct{}) {
	t := time.NewTicker(progressRedraw)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			p.redraw()
		}
	}
}

// redraw draws the bar again at the clock's now.
func (p *progressReporter) redraw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.draw(p.now())
	}
}

// draw renders the bar at now. p.mu is held.
func (p *progressReporter) draw(now time.Time) {
	p.lastDraw = now
	p.bar.ChangeMax(p.total)
	p.bar.Describe(p.describe(now))
	p.bar.Set(p.done)
}

// describe is the text after the bar: what velqbo does and the time left.
func (p *progressReporter) describe(now time.Time) string {
	s := "sending to QBO"
	if w := p.resume.Sub(now); w >= time.Second {
		s = fmt.Sprintf("waiting for QBO's per-minute limit, resuming in %s", roughDuration(w))
	}
	if eta, ok := p.eta(now); ok {
		s += fmt.Sprintf("; about %s left", roughDuration(eta))
	}
	return s
}

// eta estimates the time the documents left take: at the documents a
// minute the pacing allows (the requests a minute QBO takes, or fewer when
// the batch requests' budget runs out first, times the documents a request
// has carried so far), or at the rate seen since the first document when
// that is slower and a full pacing window has passed. The rate of the
// last few seconds says nothing: a paced run sends a minute's budget in a
// burst and then waits.
func (p *progressReporter) eta(now time.Time) (time.Duration, bool) {
	if p.done == 0 || p.first.IsZero() {
		return 0, false
	}
	var rate float64 // documents a minute
	if p.requests > 0 {
		reqs := float64(p.pacing.RequestsPerMinute)
		if p.batches > 0 {
			reqs = min(reqs, float64(p.pacing.BatchRequestsPerMinute)*float64(p.requests)/float64(p.batches))
		}
		rate = reqs * float64(p.done) / float64(p.requests)
	}
	if el := now.Sub(p.first); el >= time.Minute || (rate == 0 && el >= 5*time.Second) {
		if seen := float64(p.done) / el.Minutes(); rate == 0 || seen < rate {
			rate = seen
		}
	}
	if rate <= 0 {
		return 0, false
	}
	return time.Duration(float64(p.total-p.done) / rate * float64(time.Minute)), true
}

// notice writes one line for the operator on stderr, above the bar.
func (p *progressReporter) notice(msg string) {
	logAboveBar{p}.Write([]byte(msg + "\n"))
}

// finish removes the bar and gives the logger its output back.
func (p *progressReporter) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		close(p.tick)
		p.bar.Finish()
		p.bar = nil
	}
	if p.logOut != nil {
		p.m.Log.SetOutput(p.logOut)
		p.logOut = nil
	}
}

// logAboveBar writes above the bar: it clears the bar's line, writes, and
// draws the bar again below.
type logAboveBar struct{ p *progressReporter }

func (l logAboveBar) Write(b []byte) (int, error) {
	p := l.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar == nil {
		return p.w.Write(b)
	}
	p.bar.Clear()
	n, err := p.w.Write(b)
	p.draw(p.now())
	return n, err
}

// roughDuration says d the way a person would: "42 s", "4 min 10 s",
// "2 h 05 min"; seconds are rounded up, so a wait never reads "0 s".
func roughDuration(d time.Duration) string {
	s := int((d + time.Second - 1) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", s)
	case s < 3600:
		if s%60 == 0 {
			return fmt.Sprintf("%d min", s/60)
		}
		return fmt.Sprintf("%d min %d s", s/60, s%60)
	}
	return fmt.Sprintf("%d h %02d min", s/3600, s/60%60)
}

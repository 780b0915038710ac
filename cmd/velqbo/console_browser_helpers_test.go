package main

// The harness of the console's real-browser tests: one headless Chromium per
// test binary, driven with chromedp over its DevTools pipe. Each test gets
// its own tab in its own browser context (its own cookies), and every step
// has a timeout and waits on the DOM, never on a sleep.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

const (
	// browserStartTimeout bounds Chromium's start and a new tab's opening:
	// a cold start on a loaded 2-core machine takes a few seconds.
	browserStartTimeout = 60 * time.Second
	// browserStepTimeout bounds every step of a scenario (a navigation, a
	// click and the page it loads, a wait for an element).
	browserStepTimeout = 30 * time.Second
)

// chromiumPath is $VELQBO_CHROMIUM, else the first of chromium,
// chromium-browser and google-chrome on PATH; "" when there is none.
func chromiumPath() string {
	if p := os.Getenv("VELQBO_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// requireChromium returns the browser to run. Without one the test is
// skipped, except under CI=true, where it fails: CI must not pass with the
// browser tests silently skipped.
func requireChromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("drives a real browser in real time; skipped with -short")
	}
	p := chromiumPath()
	if p == "" {
		msg := "no Chromium found (set VELQBO_CHROMIUM, or install chromium, chromium-browser or google-chrome on PATH)"
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s; CI=true, so the console's browser tests must run", msg)
		}
		t.Skipf("%s: the console's browser tests are skipped", msg)
	}
	return p
}

// testBrowser is one running Chromium.
type testBrowser struct {
	ctx context.Context // the browser's root context; tabs are its children
}

// startTestBrowser launches Chromium for t and its subtests (one browser
// process per test, reused by its subtests; it ends with t). The flags are
// what a closed, shared CI machine needs: headless, no sandbox (CI runs as
// root), no GPU, and nothing that reaches the network on its own
// (background networking, component updates, sync, first-run pages), so
// the browser only ever talks to the loopback console.
func startTestBrowser(t *testing.T) *testBrowser {
	t.Helper()
	path := requireChromium(t)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("user-data-dir", t.TempDir()),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	stop := func() {
		cancel()
		cancelAlloc() // waits for the process to end, before TempDir's removal
	}
	t.Cleanup(stop)
	// The first Do binds the browser's life to the context it gets, so it
	// gets ctx itself and the timeout is a watchdog around it.
	if err := withinTimeout(browserStartTimeout, stop, func() error { return chromedp.Do(ctx) }); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return &testBrowser{ctx: ctx}
}

// withinTimeout runs f and returns its error, or, when f has not returned
// after d, calls abort (which must make f return) and reports the timeout.
func withinTimeout(d time.Duration, abort func(), f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		abort()
		<-done
		return fmt.Errorf("no answer within %s", d)
	}
}

// tab is one browser tab on the console at base.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string // the console's root URL, without a trailing slash
}

// newTab opens a tab in a fresh browser context (no cookies from other
// tests) with a 1280×800 viewport; it is closed when t ends.
func (b *testBrowser) newTab(t *testing.T, base string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := withinTimeout(browserStartTimeout, cancel, func() error { return chromedp.Do(ctx) }); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	tb := &tab{t: t, ctx: ctx, base: strings.TrimSuffix(base, "/")}
	tb.do("set the viewport", chromedp.EmulateViewport(1280, 800))
	return tb
}

// do runs the steps within browserStepTimeout; on failure the test stops
// with what the page showed.
func (tb *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, browserStepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.fatal(what, err)
	}
}

// runIn runs one action that returns a value within browserStepTimeout.
func runIn[T any](tb *tab, what string, a chromedp.Action[T]) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, browserStepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		tb.fatal(what, err)
	}
	return v
}

// fatal stops the test, logging the page's address and text so a failure
// on CI says what the browser saw.
func (tb *tab) fatal(what string, err error) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if len(text) > 4000 {
		text = text[:4000] + "…"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w (step timeout %s)", err, browserStepTimeout)
	}
	tb.t.Fatalf("%s: %v\nat %s the page shows:\n%s", what, err, loc, text)
}

// url resolves a console path (or returns an absolute URL unchanged).
func (tb *tab) url(path string) string {
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return path
	}
	return tb.base + path
}

// open loads path and requires a 200 answer (after redirects).
func (tb *tab) open(path string) {
	tb.t.Helper()
	resp := runIn(tb, "open "+path, chromedp.NavigateResponse(tb.url(path)))
	if resp == nil || resp.Status != 200 {
		tb.fatal("open "+path, fmt.Errorf("status %v; want 200", respStatus(resp)))
	}
}

// submit clicks sel (a submit button or a link) and waits for the page it
// loads, which must answer 200 (after redirects).
func (tb *tab) submit(sel string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, browserStepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		tb.fatal("click "+sel+" and wait for the page", err)
	}
	if resp == nil || resp.Status != 200 {
		tb.fatal("click "+sel, fmt.Errorf("status %v; want 200", respStatus(resp)))
	}
}

func respStatus(r *network.Response) any {
	if r == nil {
		return "none"
	}
	return r.Status
}

// location is the tab's current URL, as a path with its query when it is
// on the console.
func (tb *tab) location() string {
	tb.t.Helper()
	loc := runIn(tb, "read the location", chromedp.Location())
	return strings.TrimPrefix(loc, tb.base)
}

// fill replaces the text of the field sel with v, typing it as a user does
// (so input events fire).
func (tb *tab) fill(sel, v string) {
	tb.t.Helper()
	tb.do("fill "+sel, chromedp.Clear(chromedp.CSS(sel), chromedp.NodeVisible), chromedp.SendKeys(chromedp.CSS(sel), v, chromedp.NodeVisible))
}

// choose selects, in the dropdown sel, the option whose text contains label
// (the way a user picks by name) and fires the change event; the test stops
// when no option matches, listing the options the dropdown has.
func (tb *tab) choose(sel, label string) {
	tb.t.Helper()
	tb.do("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	res := tb.eval("choose "+label+" in "+sel, `(sel, label) => {
		const s = document.querySelector(sel);
		if (!s || !s.options) return "no dropdown " + sel;
		const all = Array.from(s.options);
		const o = all.find(o => o.text.includes(label));
		if (!o) return "no option with " + JSON.stringify(label) + "; options: " + all.map(o => JSON.stringify(o.text.trim())).join(", ");
		s.value = o.value;
		s.dispatchEvent(new Event("input", {bubbles: true}));
		s.dispatchEvent(new Event("change", {bubbles: true}));
		return "";
	}`, sel, label)
	if res != "" {
		tb.fatal("choose "+label+" in "+sel, errors.New(res))
	}
}

// eval calls the JavaScript function fn with args (JSON-encoded) in the page
// and returns its result as a string.
func (tb *tab) eval(what, fn string, args ...any) string {
	tb.t.Helper()
	return evalAs[string](tb, what, fn, args...)
}

// evalAs calls the JavaScript function fn with args and decodes its result.
func evalAs[T any](tb *tab, what, fn string, args ...any) T {
	tb.t.Helper()
	enc := make([]string, len(args))
	for i, a := range args {
		b, err := json.Marshal(a)
		if err != nil {
			tb.t.Fatalf("%s: encode %v: %v", what, a, err)
		}
		enc[i] = string(b)
	}
	return runIn(tb, what, chromedp.Evaluate[T](fmt.Sprintf("(%s)(%s)", fn, strings.Join(enc, ","))))
}

// text is the visible text of the first element sel matches, waiting for it.
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return runIn(tb, "read "+sel, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
}

// has reports whether an element matches sel now (no wait).
func (tb *tab) has(sel string) bool {
	tb.t.Helper()
	return evalAs[bool](tb, "look for "+sel, `sel => document.querySelector(sel) !== null`, sel)
}

// waitText waits until the element sel contains want (for partial updates
// that change a page without loading another).
func (tb *tab) waitText(sel, want string) {
	tb.t.Helper()
	tb.do(fmt.Sprintf("wait for %q in %s", want, sel), chromedp.Poll[chromedp.Void](
		fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e !== null && e.innerText.includes(%q); })()`, sel, want),
		chromedp.WithPollingInterval(100*time.Millisecond)))
}

// bodyText is the page's visible text.
func (tb *tab) bodyText() string {
	tb.t.Helper()
	return runIn(tb, "read the page", chromedp.Evaluate[string](`document.body.innerText`))
}

// wantText fails the test unless the page's visible text has every string.
func (tb *tab) wantText(want ...string) {
	tb.t.Helper()
	body := tb.bodyText()
	for _, w := range want {
		if !strings.Contains(body, w) {
			tb.t.Errorf("at %s the page does not show %q; it shows:\n%s", tb.location(), w, body)
		}
	}
}

// screenshot saves a PNG of the viewport to dir/name, optimised, and
// fails the test when it is 300 KB or more.
func (tb *tab) screenshot(dir, name string) {
	tb.t.Helper()
	raw := runIn(tb, "screenshot "+name, chromedp.CaptureScreenshot())
	small, err := optimisePNG(raw)
	if err != nil {
		tb.t.Fatalf("screenshot %s: %v", name, err)
	}
	if len(small) >= 300<<10 {
		tb.t.Errorf("screenshot %s is %d KB; want < 300 KB", name, len(small)>>10)
	}
	if err := os.WriteFile(filepath.Join(dir, name), small, 0o644); err != nil {
		tb.t.Fatal(err)
	}
	tb.t.Logf("%s: %d KB", name, len(small)>>10)
}

// a11yProblems checks the page as loaded: every form control has a label
// (a <label>, aria-label or aria-labelledby), every button and link has a
// name, ids are unique, text meets WCAG AA contrast against its background
// (4.5:1, 3:1 for large text), and nothing is wider than the viewport.
func (tb *tab) a11yProblems() []string {
	tb.t.Helper()
	return evalAs[[]string](tb, "check accessibility", a11yScript)
}

const a11yScript = `() => {
	const problems = [];
	// A closed <details> keeps a layout box for its content (Chrome hides it
	// with content-visibility), so the content counts as not shown.
	const folded = e => { const d = e.closest("details:not([open])"); return d !== null && !e.closest("summary"); };
	const visible = e => { const r = e.getBoundingClientRect(); const cs = getComputedStyle(e); return r.width > 0 && r.height > 0 && cs.visibility !== "hidden" && cs.display !== "none" && !folded(e); };
	const describe = e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.name ? "[name=" + e.name + "]" : "") + (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\s+/).join(".") : "");
	const named = e => (e.getAttribute("aria-label") || "").trim() !== "" || (e.getAttribute("aria-labelledby") || "").trim() !== "";
	for (const e of document.querySelectorAll("input, select, textarea")) {
		const type = (e.getAttribute("type") || "").toLowerCase();
		if (["hidden", "submit", "button", "reset", "image"].includes(type)) continue;
		const labelled = (e.labels && Array.from(e.labels).some(l => l.innerText.trim() !== "")) || named(e);
		if (!labelled) problems.push("form control without a label: " + describe(e));
	}
	for (const e of document.querySelectorAll("button, a[href], input[type=submit], input[type=button]")) {
		if (!visible(e)) continue;
		const name = (e.innerText || e.value || "").trim() !== "" || named(e) || (e.getAttribute("title") || "").trim() !== "" || e.querySelector("img[alt]:not([alt=''])") !== null;
		if (!name) problems.push("button or link without a name: " + describe(e));
	}
	const ids = new Map();
	for (const e of document.querySelectorAll("[id]")) ids.set(e.id, (ids.get(e.id) || 0) + 1);
	for (const [id, n] of ids) if (n > 1) problems.push("id used " + n + " times: " + id);
	const rgba = s => { const m = s.match(/rgba?\(([^)]+)\)/); if (!m) return null; const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
	const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
	const over = (top, bottom) => { const a = top[3]; return [top[0] * a + bottom[0] * (1 - a), top[1] * a + bottom[1] * (1 - a), top[2] * a + bottom[2] * (1 - a), 1]; };
	const background = e => {
		const layers = [];
		for (let n = e; n && n.nodeType === 1; n = n.parentElement) {
			const cs = getComputedStyle(n);
			if (cs.backgroundImage && cs.backgroundImage !== "none") return null;
			const c = rgba(cs.backgroundColor);
			if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
		}
		let bg = [255, 255, 255, 1];
		for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
		return bg;
	};
	const seen = new Set();
	const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	for (let n = walker.nextNode(); n; n = walker.nextNode()) {
		if (n.textContent.trim() === "") continue;
		const e = n.parentElement;
		if (!e || seen.has(e) || !visible(e)) continue;
		seen.add(e);
		const cs = getComputedStyle(e);
		if (parseFloat(cs.opacity) === 0) continue;
		let fg = rgba(cs.color); const bg = background(e);
		if (!fg || !bg) continue;
		if (fg[3] < 1) fg = over(fg, bg);
		const l1 = lum(fg), l2 = lum(bg);
		const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
		const size = parseFloat(cs.fontSize), bold = parseInt(cs.fontWeight, 10) >= 700;
		const need = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
		if (ratio < need) problems.push("contrast " + ratio.toFixed(2) + ":1 (needs " + need + ":1) for " + JSON.stringify(n.textContent.trim().slice(0, 40)) + " in " + describe(e) + " (" + cs.color + " on rgb(" + bg.slice(0, 3).map(Math.round).join(", ") + "))");
	}
	const width = document.documentElement.clientWidth;
	if (document.documentElement.scrollWidth > width + 1) {
		const wide = Array.from(document.body.querySelectorAll("*")).filter(e => e.getBoundingClientRect().right > width + 1 && visible(e)).slice(0, 3).map(describe);
		problems.push("page is " + document.documentElement.scrollWidth + " px wide in a " + width + " px viewport (widest: " + wide.join(", ") + ")");
	}
	return problems;
}`

// focusProblems presses Tab up to n times from the top of the page and
// reports each focused element that shows no focus indicator (no outline
// and no box shadow while focused).
func (tb *tab) focusProblems(n int) []string {
	tb.t.Helper()
	tb.eval("blur", `() => { if (document.activeElement) document.activeElement.blur(); window.scrollTo(0, 0); return ""; }`)
	var problems []string
	for i := 0; i < n; i++ {
		tb.do("press Tab", chromedp.KeyEvent(kb.Tab))
		p := tb.eval("look at the focused element", `() => {
			const e = document.activeElement;
			if (!e || e === document.body) return "-";
			const cs = getComputedStyle(e);
			const ring = (cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) > 0) || (cs.boxShadow && cs.boxShadow !== "none");
			if (ring) return "";
			return "no visible focus on " + e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + " " + JSON.stringify((e.innerText || e.value || e.name || "").trim().slice(0, 30));
		}`)
		if p == "-" {
			break
		}
		if p != "" {
			problems = append(problems, p)
		}
	}
	return problems
}

// optimisePNG re-encodes a screenshot as small as the standard library
// can: paletted when it has at most 256 colours (lossless), best
// compression always.
func optimisePNG(in []byte) ([]byte, error) {
	img, err := png.Decode(bytes.NewReader(in))
	if err != nil {
		return nil, err
	}
	var out image.Image = img
	if p := toPaletted(img); p != nil {
		out = p
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, out); err != nil {
		return nil, err
	}
	if buf.Len() >= len(in) {
		return in, nil
	}
	return buf.Bytes(), nil
}

// toPaletted returns img as a paletted image, or nil when it has more than
// 256 colours.
func toPaletted(img image.Image) *image.Paletted {
	b := img.Bounds()
	index := map[color.RGBA]uint8{}
	p := image.NewPaletted(b, nil)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			i, ok := index[c]
			if !ok {
				if len(p.Palette) == 256 {
					return nil
				}
				i = uint8(len(p.Palette))
				index[c] = i
				p.Palette = append(p.Palette, c)
			}
			p.Pix[p.PixOffset(x, y)] = i
		}
	}
	return p
}

package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDemo runs the README's first command: the first run sends documents,
// the second sends none, the blocked order is explained and then sent.
func TestDemo(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb, Getenv: envFunc(nil), Now: time.Now, IsTerminal: func() bool { return false }}
	if code := m.Run(t.Context(), []string{"demo", "--orders", "40"}); code != exitOK {
		t.Fatalf("demo: exit %d; want 0\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
	}
	s := out.String()
	counts := regexp.MustCompile(`created (\d+), updated (\d+), voided (\d+), unchanged (\d+), blocked (\d+), failed (\d+)`).FindAllStringSubmatch(s, -1)
	if len(counts) < 2 {
		t.Fatalf("demo printed %d run summaries; want at least 2:\n%s", len(counts), s)
	}
	if counts[0][1] == "0" {
		t.Errorf("first run: created %s; want documents created", counts[0][1])
	}
	if got := counts[1][1] + counts[1][2] + counts[1][3]; got != "000" {
		t.Errorf("second run: created/updated/voided %s/%s/%s; want nothing sent again", counts[1][1], counts[1][2], counts[1][3])
	}
	for _, c := range counts {
		if c[6] != "0" {
			t.Errorf("a demo run failed %s items:\n%s", c[6], s)
		}
	}
	if !strings.Contains(s, "is not linked to a QBO item") || !strings.Contains(s, "To point velqbo at a real QBO company") {
		t.Errorf("demo output lacks the blocked-order explanation or the next steps:\n%s", s)
	}
	if strings.Contains(errb.String(), "level=error") {
		t.Errorf("demo logged errors:\n%s", errb.String())
	}
}

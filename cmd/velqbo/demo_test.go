package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDemo runs the README's first command, on each source: the first run
// sends documents, the second sends none, and the blocked orders are
// explained (the unlinked product's order is then sent).
func TestDemo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		// explained are reasons the output must show for blocked orders.
		explained []string
	}{
		{name: "velocity", explained: []string{"is not linked to a QBO item"}},
		{name: "bigcommerce", args: []string{"--source", "bigcommerce"},
			explained: []string{"marked Partially Refunded in BigCommerce but has no refund record (a refund made outside BigCommerce)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			m := &Main{Stdout: &out, Stderr: &errb, Getenv: envFunc(nil), Now: time.Now, IsTerminal: func() bool { return false }}
			if code := m.Run(t.Context(), append([]string{"demo", "--orders", "40"}, tt.args...)); code != exitOK {
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
			for _, r := range tt.explained {
				if !regexp.MustCompile(`blocked order \S+: .*` + regexp.QuoteMeta(r)).MatchString(s) {
					t.Errorf("demo output lacks a blocked order explained by %q:\n%s", r, s)
				}
			}
			if !strings.Contains(s, "To point velqbo at a real QBO company") {
				t.Errorf("demo output lacks the next steps:\n%s", s)
			}
			if strings.Contains(errb.String(), "level=error") {
				t.Errorf("demo logged errors:\n%s", errb.String())
			}
		})
	}
}

func TestDemoBadSource(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb, Getenv: envFunc(nil), Now: time.Now, IsTerminal: func() bool { return false }}
	if code := m.Run(t.Context(), []string{"demo", "--source", "shopify"}); code != exitUsage {
		t.Errorf("demo --source shopify: got exit %d; want %d", code, exitUsage)
	}
}

package main

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// readEnvFile parses an EnvironmentFile: VAR=value lines, # comments.
// commented holds the lines "#VELQBO_...=value": a setting shown with its
// default or an example, not set.
func readEnvFile(t *testing.T, path string) (set, commented map[string]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	set, commented = map[string]string{}, map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		dst := set
		if c, ok := strings.CutPrefix(line, "#VELQBO_"); ok {
			line, dst = "VELQBO_"+c, commented
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.ContainsAny(v, " \t\"'") {
			t.Fatalf("%s: %q is not VAR=value without spaces or quotes", path, line)
		}
		dst[k] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return set, commented
}

// TestDeployEnvTemplate: deploy/velqbo.env names every variable the
// configuration reads (but VELQBO_CONFIG, which the unit sets and an
// EnvironmentFile line would override), set or commented out with its
// default, leaves the secrets empty, and is a valid configuration as it
// stands and with every commented setting uncommented.
func TestDeployEnvTemplate(t *testing.T) {
	t.Parallel()
	set, commented := readEnvFile(t, "../../deploy/velqbo.env")
	all := map[string]string{}
	var names []string
	for _, m := range []map[string]string{set, commented} {
		for k, v := range m {
			if _, dup := all[k]; dup {
				t.Errorf("%s is in deploy/velqbo.env twice", k)
			}
			all[k] = v
			names = append(names, k)
		}
	}
	var read []string
	for _, env := range []map[string]string{set, all} {
		read = nil
		spy := func(k string) string {
			read = append(read, k)
			return env[k]
		}
		c := DefaultConfig()
		if err := applyEnv(&c, spy); err != nil {
			t.Fatalf("the template as configuration: %v", err)
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("the template as configuration: %v", err)
		}
	}
	slices.Sort(read)
	read = slices.Compact(read)
	slices.Sort(names)
	if diff := cmp.Diff(read, names); diff != "" {
		t.Errorf("variables read by the configuration (-) and named by deploy/velqbo.env (+):\n%s", diff)
	}
	if _, ok := all["VELQBO_CONFIG"]; ok {
		t.Errorf("deploy/velqbo.env names VELQBO_CONFIG; a line would override the unit's")
	}
	for _, k := range []string{"VELQBO_SECRET_KEY", "VELQBO_QBO_CLIENT_SECRET", "VELQBO_VELOCITY_TOKEN", "VELQBO_ALERT_WEBHOOK", "VELQBO_QBO_CLIENT_ID"} {
		if v, ok := set[k]; !ok || v != "" {
			t.Errorf("%s: got %q (set %v); want it set and empty, to be filled in", k, v, ok)
		}
	}
}

// TestDeployInstallSteps: the runbook is installed where the unit's
// Documentation= points (by the unit's header, the README and the
// Dockerfile), and in both install procedures the daemon is enabled only
// after connect, the settings and plan.
func TestDeployInstallSteps(t *testing.T) {
	t.Parallel()
	read := func(path string) string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	unit, readme, dockerfile := read("../../deploy/velqbo.service"), read("../../README.md"), read("../../Dockerfile")
	_, after, ok := strings.Cut(unit, "\nDocumentation=file://")
	if !ok {
		t.Fatal("velqbo.service has no Documentation=file://")
	}
	doc, _, _ := strings.Cut(after, "\n")
	install := "docs/runbook.md " + doc
	for name, text := range map[string]string{"velqbo.service": unit, "README.md": readme, "Dockerfile": dockerfile} {
		if !strings.Contains(text, install) {
			t.Errorf("%s does not install the runbook where Documentation= points (%q)", name, install)
		}
	}
	for name, text := range map[string]string{"velqbo.service": unit, "README.md": readme} {
		enable := strings.Index(text, "systemctl enable --now")
		if enable < 0 {
			t.Errorf("%s: no `systemctl enable --now`", name)
			continue
		}
		for _, step := range []string{"velqbo-admin connect", "velqbo-admin settings set", "velqbo-admin plan", "ssh -L 8090:localhost:8090"} {
			if i := strings.Index(text, step); i < 0 || i > enable {
				t.Errorf("%s: %q at %d; want it before `systemctl enable --now` (%d)", name, step, i, enable)
			}
		}
	}
}

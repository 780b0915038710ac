package daemon

import (
	"bufio"
	"bytes"
	"os"
	"slices"
	"testing"
)

// codeFlags returns the VmFlags of each read-only mapping of the test
// binary, from /proc/self/smaps.
func codeFlags(t *testing.T) [][]string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	var flags [][]string
	inCode := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		switch {
		case len(f) >= 5 && bytes.Contains(f[0], []byte("-")) && !bytes.HasSuffix(f[0], []byte(":")):
			perms := string(f[1])
			inCode = len(f) >= 6 && string(f[5]) == exe && (perms == "r-xp" || perms == "r--p")
		case inCode && len(f) > 0 && string(f[0]) == "VmFlags:":
			var fl []string
			for _, x := range f[1:] {
				fl = append(fl, string(x))
			}
			flags = append(flags, fl)
		}
	}
	if len(flags) == 0 {
		t.Skip("no read-only mapping of the executable found")
	}
	return flags
}

// TestReleaseCode: after a run the binary's code mappings are advised
// random (no fault-around while idle), and a run starting gives them
// normal read-ahead back. The kernel shows the advice as VmFlags "rr".
func TestReleaseCode(t *testing.T) {
	for _, step := range []struct {
		name   string
		do     func()
		wantRR bool
	}{
		{"after ReleaseMemory", ReleaseMemory, true},
		{"after PrepareRun", PrepareRun, false},
		{"after a second ReleaseMemory", ReleaseMemory, true},
		{"after a second PrepareRun", PrepareRun, false},
	} {
		t.Run(step.name, func(t *testing.T) {
			step.do()
			for i, fl := range codeFlags(t) {
				if got := slices.Contains(fl, "rr"); got != step.wantRR {
					t.Errorf("mapping %d: got random-read advice %v (VmFlags %v); want %v", i, got, fl, step.wantRR)
				}
			}
		})
	}
}

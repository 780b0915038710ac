package daemon

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// madvPageout is Linux's MADV_PAGEOUT (5.4+), which syscall does not name.
const madvPageout = 21

// releaseCode asks the kernel to drop this process's resident pages of its
// own executable's read-only mappings (code and read-only data). Why: a run
// touches most of the binary (SQLite, the QBO client, templates), and the
// kernel's fault-around maps neighbouring pages too, so an idle daemon kept
// ~20 MiB of code resident that it would not run again until the next run.
// The pages are clean and file-backed: they stay in the page cache, and the
// next run faults back in what it uses. Writable mappings are never touched.
//
// MADV_RANDOM first: it turns off fault-around for the mappings, so what
// the idle daemon runs (a lease renewal every 30 s, a scrape) faults in its
// own pages, not 64 KiB around each: that brought 3 to 7 MiB of code back
// between runs. resumeCode undoes it when a run starts, so the run's faults
// read ahead again (page by page, a binary evicted from the page cache
// would be read in thousands of small reads).
//
// Errors (an older kernel's EINVAL, an unreadable /proc) are ignored: this
// only lowers RSS.
func releaseCode() {
	adviseCode(syscall.MADV_RANDOM, madvPageout)
}

// resumeCode gives the executable's read-only mappings the kernel's normal
// fault-around and read-ahead back (see releaseCode).
func resumeCode() {
	adviseCode(syscall.MADV_NORMAL)
}

// adviseCode gives each piece of advice, in order, on every read-only
// mapping of this process's executable.
func adviseCode(advice ...int) {
	exe, err := os.Executable()
	if err != nil {
		return
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return
	}
	sc := bufio.NewScanner(bytes.NewReader(maps))
	for sc.Scan() {
		// start-end perms offset dev inode path
		f := bytes.Fields(sc.Bytes())
		if len(f) < 6 || string(f[5]) != exe {
			continue
		}
		if perms := string(f[1]); perms != "r-xp" && perms != "r--p" {
			continue
		}
		lo, hi, ok := bytes.Cut(f[0], []byte("-"))
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(string(lo), 16, 64)
		end, err2 := strconv.ParseUint(string(hi), 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		for _, a := range advice {
			// The raw call: the range is not Go memory, so no slice over it.
			syscall.Syscall(syscall.SYS_MADVISE, uintptr(start), uintptr(end-start), uintptr(a))
		}
	}
}

package main

import (
	"os"

	"golang.org/x/term"
)

// isTerminal reports whether f is a terminal. A character device is not
// enough: /dev/null is one too, and a progress bar drawn into it would
// replace the log lines a redirected run should write.
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

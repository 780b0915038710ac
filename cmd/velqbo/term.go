package main

import "os"

// isTerminal reports whether f is a character device (a terminal), without
// pulling in a terminal library for one check.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	return fi.Mode()&os.ModeCharDevice != 0
}

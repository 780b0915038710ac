//go:build !linux

package daemon

// releaseCode is Linux-only (MADV_PAGEOUT); elsewhere the kernel decides.
func releaseCode() {}

// resumeCode is Linux-only, as releaseCode is.
func resumeCode() {}

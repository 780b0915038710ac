//go:build !linux

package daemon

// releaseCode is Linux-only (MADV_PAGEOUT); elsewhere the kernel decides.
func releaseCode() {}

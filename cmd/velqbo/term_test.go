package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestIsTerminal_NotATerminal(t *testing.T) {
	regular, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer regular.Close()
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	for _, tc := range []struct {
		name string
		f    *os.File
	}{
		{"DevNull", devNull}, // a character device, but no terminal
		{"RegularFile", regular},
		{"Pipe", pw},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := isTerminal(tc.f); got {
				t.Errorf("isTerminal(%s): got true; want false", tc.name)
			}
		})
	}
}

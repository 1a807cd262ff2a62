package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestTableWidthOnlyForTerminals: a file or a buffer is never cut.
func TestTableWidthOnlyForTerminals(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if w := terminalWidth(f); w != 0 {
		t.Errorf("a file has width %d", w)
	}
	if w := terminalWidth(&bytes.Buffer{}); w != 0 {
		t.Errorf("a buffer has width %d", w)
	}
}

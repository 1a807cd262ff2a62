package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/store"
)

// TestDiskFull runs analyze --db on a small tmpfs that is full: the exit
// status is exitWrite (not the usage code), and the database keeps what
// the earlier run committed. It needs root to mount the tmpfs.
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	// Full at once (the open fails), and room for the run to begin and
	// fail at a checkpoint.
	for _, free := range []int64{0, 48 << 10, 160 << 10} {
		t.Run(fmt.Sprintf("%dKiB free", free>>10), func(t *testing.T) { testDiskFull(t, free) })
	}
}

func testDiskFull(t *testing.T, free int64) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=8m"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	db := filepath.Join(dir, "specter.db")
	if _, errs, code := run(t, "analyze", "--db", db, demo); code != exitOK {
		t.Fatalf("first run: exit %d: %s", code, errs)
	}
	before := mustRun(t, "endpoints", "--db", db, "--json")

	// Fill the file system, but for free bytes.
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	room := int64(st.Bavail)*st.Bsize - free
	chunk := bytes.Repeat([]byte{1}, 4<<10)
	for n := int64(0); n < room; n += int64(len(chunk)) {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	f.Close()

	// The same traffic again: the services' state grows and is rewritten.
	_, errs, code := run(t, "analyze", "--db", db, "--checkpoint-every", "500", demo)
	t.Logf("stderr: %s", errs)
	if code != exitWrite || !strings.Contains(errs, "writing failed") || !strings.Contains(errs, db) {
		t.Fatalf("exit %d on a full disk, want %d; stderr: %s", code, exitWrite, errs)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatalf("open after the disk filled: %v", err)
	}
	if got, err := s.IntegrityCheck(context.Background()); err != nil || got != "ok" {
		t.Errorf("integrity_check: %q, %v", got, err)
	}
	runs, err := s.Runs(context.Background())
	s.Close()
	if err != nil || len(runs) == 0 || runs[0].Status != store.StatusComplete {
		t.Errorf("runs after the disk filled: %+v, %v", runs, err)
	}
	if len(runs) > 1 && runs[1].Status == store.StatusComplete {
		t.Errorf("the run that hit the full disk is recorded complete: %+v", runs[1])
	}
	// The failed run may have committed checkpoints before the disk
	// filled: what the first run stored stays, counts only grow.
	var b, a []infer.EndpointSummary
	if err := json.Unmarshal([]byte(before), &b); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(mustRun(t, "endpoints", "--db", db, "--json")), &a); err != nil {
		t.Fatal(err)
	}
	type key struct{ svc, method, tmpl string }
	have := map[key]uint64{}
	for _, e := range a {
		have[key{e.Service, e.Method, e.Template}] = e.Count
	}
	for _, e := range b {
		if n := have[key{e.Service, e.Method, e.Template}]; n < e.Count {
			t.Errorf("endpoint %s %s: %d requests before the failed run, %d after", e.Method, e.Template, e.Count, n)
		}
	}
}

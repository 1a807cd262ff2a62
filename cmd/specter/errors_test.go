package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestInputErrorDetails: every verb that reads captures names the bad file
// and offset on stderr (not only a count), and a missing input is an error
// before anything is printed on stdout.
func TestInputErrorDetails(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(bad, []byte("hello, not a capture\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "nope.pcap")
	spec := "../../testdata/shop-declared.yaml"
	for _, verb := range [][]string{
		{"analyze"}, {"endpoints"}, {"show", "GET", "/api/v1/products"}, {"export"}, {"exchanges"}, {"diff", "--spec", spec},
	} {
		t.Run(verb[0]+" bad", func(t *testing.T) {
			out, errs, code := run(t, append(append([]string{}, verb...), demo, bad)...)
			if code != exitPartial {
				t.Errorf("exit %d, want %d; stderr %s", code, exitPartial, errs)
			}
			if !strings.Contains(errs, "notes.txt: offset 0") {
				t.Errorf("stderr does not name the file and offset:\n%s", errs)
			}
			if strings.Contains(out, "notes.txt") {
				t.Errorf("input error on stdout:\n%s", out)
			}
		})
		t.Run(verb[0]+" missing", func(t *testing.T) {
			out, errs, code := run(t, append(append([]string{}, verb...), missing)...)
			if code != exitFatal || !strings.Contains(errs, "nope.pcap") {
				t.Errorf("exit %d, stderr %q; want %d naming nope.pcap", code, errs, exitFatal)
			}
			if out != "" {
				t.Errorf("stdout for a missing input:\n%s", out)
			}
		})
	}
}

// TestUsageErrors: negative bounds and a bad --config are usage errors
// (exit 2) in every verb that has the flag, even where the value would not
// be used, and config errors speak of lines and keys, not Go types.
func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	badConfig := filepath.Join(dir, "specter.yaml")
	if err := os.WriteFile(badConfig, []byte("services:\n  host: api.example.com\nlimits:\n  max_endpoints: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		hint []string
	}{
		{[]string{"analyze", "--workers", "-1", demo}, []string{"--workers -1"}},
		{[]string{"analyze", "--max-body", "-5", demo}, []string{"--max-body -5"}},
		{[]string{"exchanges", "--max-conns", "-1", demo}, []string{"--max-conns -1"}},
		{[]string{"endpoints", "--workers", "-2", demo}, []string{"--workers -2"}},
		{[]string{"analyze", "--config", badConfig, demo}, []string{"specter.yaml", "line 2", `"services"`, "line 4", `"limits.max_endpoints"`}},
		{[]string{"endpoints", "--config", badConfig, demo}, []string{"line 2"}},
		{[]string{"merge", "--config", badConfig, filepath.Join(dir, "o.db"), filepath.Join(dir, "i.db")}, []string{"line 2"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args[:2], " "), func(t *testing.T) {
			out, errs, code := run(t, tc.args...)
			if code != exitFatal {
				t.Errorf("exit %d, want %d; stderr %s", code, exitFatal, errs)
			}
			if out != "" {
				t.Errorf("stdout: %s", out)
			}
			for _, h := range tc.hint {
				if !strings.Contains(errs, h) {
					t.Errorf("stderr %q does not say %q", errs, h)
				}
			}
			if strings.Contains(errs, "infer.") || strings.Contains(errs, "interface {}") {
				t.Errorf("stderr names Go types: %s", errs)
			}
		})
	}
}

// TestInterrupt: SIGINT in the middle of an ingest from a pipe ends the
// run, keeps what was read (committed to the database) and exits 130.
func TestInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildSpecter(t)
	data, err := os.ReadFile(demo)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "i.db")
	cmd := exec.Command(bin, "analyze", "--db", db, "-")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The whole capture, but the pipe stays open: the run can only end
	// by the signal.
	if _, err := stdin.Write(data); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	stdin.Close()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("wait: %v, want exit status 130; stderr %s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "interrupted by SIGINT") {
		t.Errorf("stderr: %s", stderr.String())
	}
	out, err := exec.Command(bin, "endpoints", "--db", db, "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var eps []json.RawMessage
	if err := json.Unmarshal(out, &eps); err != nil || len(eps) == 0 {
		t.Fatalf("after the interrupt the database holds %d endpoints (%v)", len(eps), err)
	}
}

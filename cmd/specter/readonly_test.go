package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadOnlyDatabase: a database in a directory nobody may write, itself
// mode 0444, is read by every reading verb, merge creates nothing beside
// it, and prune and runs refuse a missing database instead of creating
// one. As root, permissions do not bind, so the binary runs as nobody.
func TestReadOnlyDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	base, err := os.MkdirTemp("", "specter-ro-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = filepath.Walk(base, func(p string, _ os.FileInfo, _ error) error { return os.Chmod(p, 0o755) })
		os.RemoveAll(base)
	})
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		cred = &syscall.Credential{Uid: 65534, Gid: 65534}
	}
	bin := filepath.Join(base, "specter")
	copyTo(t, buildSpecter(t), bin, 0o755)
	spec := filepath.Join(base, "declared.yaml")
	copyTo(t, "../../testdata/shop-declared.yaml", spec, 0o644)

	roDir := filepath.Join(base, "ro")
	if err := os.Mkdir(roDir, 0o755); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(roDir, "inv.db")
	if _, errs, code := run(t, "analyze", "--db", db, demo); code != exitOK {
		t.Fatalf("analyze: exit %d: %s", code, errs)
	}
	if err := os.Chmod(db, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(roDir, 0o555); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(base, "work")
	if err := os.Mkdir(work, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(work, 0o777); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(work, "missing.db")

	for _, tc := range []struct {
		name string
		args []string
		fail string // "" for success, else a hint the error must give
	}{
		{"endpoints", []string{"endpoints", "--db", db}, ""},
		{"show", []string{"show", "--db", db, "GET", "/api/v1/products"}, ""},
		{"export", []string{"export", "--db", db}, ""},
		{"runs", []string{"runs", "--db", db}, ""},
		{"diff", []string{"diff", "--db", db, "--spec", spec}, ""},
		{"merge", []string{"merge", filepath.Join(work, "all.db"), db}, ""},
		{"prune missing", []string{"prune", "--db", missing, "--older-than", "1d"}, "missing.db"},
		{"runs missing", []string{"runs", "--db", missing}, "missing.db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin, tc.args...)
			cmd.Dir = work
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if tc.fail == "" {
				if err != nil {
					t.Fatalf("%v: %v\nstderr: %s", tc.args, err, stderr.String())
				}
				if len(out) == 0 && tc.name != "merge" {
					t.Errorf("%v printed nothing", tc.args)
				}
			} else if err == nil || !strings.Contains(stderr.String(), tc.fail) {
				t.Errorf("%v: %v, stderr %q, want a failure naming %q", tc.args, err, stderr.String(), tc.fail)
			}
			ents, _ := os.ReadDir(roDir)
			if len(ents) != 1 {
				var names []string
				for _, e := range ents {
					names = append(names, e.Name())
				}
				t.Errorf("beside the read-only database: %v", names)
			}
			if _, err := os.Stat(missing); err == nil {
				t.Errorf("%s was created", missing)
			}
		})
	}
}

// TestReadOnlyMount: a database on a read-only mount (root in a mount
// namespace of its own) is read by the reading verbs.
func TestReadOnlyMount(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to bind-mount read-only")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare (util-linux) not installed")
	}
	bin := buildSpecter(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "inv.db")
	if _, errs, code := run(t, "analyze", "--db", db, demo); code != exitOK {
		t.Fatalf("analyze: exit %d: %s", code, errs)
	}
	for _, verb := range []string{"endpoints", "runs", "export"} {
		script := `mount --bind -o ro "$1" "$1" && mount -o remount,bind,ro "$1" && ! touch "$1/probe" 2>/dev/null && exec "$2" "$3" --db "$1/inv.db"`
		out, err := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", dir, bin, verb).CombinedOutput()
		if err != nil {
			t.Errorf("%s on a read-only mount: %v\n%s", verb, err, out)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d files beside the database", len(ents))
	}
}

// copyTo copies the file src to dst with mode.
func copyTo(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, mode); err != nil {
		t.Fatal(err)
	}
}

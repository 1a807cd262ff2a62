// Package corpus locates the shared, public test material that sits beside
// the checkout (../shared), for tests and benchmarks. It never copies it.
package corpus

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Root returns the shared material's directory: $SPECTER_SHARED if set, else
// ../shared beside the module root. It returns "" when neither exists.
func Root() string {
	if d := os.Getenv("SPECTER_SHARED"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			shared := filepath.Join(dir, "..", "shared")
			if st, err := os.Stat(shared); err == nil && st.IsDir() {
				return shared
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Dir returns the path of sub (e.g. "corpus/pcaps") inside the shared
// material, or skips the test when it is absent.
func Dir(tb testing.TB, sub string) string {
	tb.Helper()
	root := Root()
	if root == "" {
		tb.Skip("shared corpus not found beside the checkout (../shared); set SPECTER_SHARED to point at it")
	}
	p := filepath.Join(root, sub)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("shared corpus has no %s: %v", sub, err)
	}
	return p
}

// NodeModules returns the node_modules directory of the npm tools cache
// ($SPECBENCH_CACHE/npm, default ~/.cache/specbench/npm; filled by
// ../shared/bench/setup.sh and make test-deps), or skips the test when node
// is not installed or pkg is not in the cache (hint says how to get it).
func NodeModules(tb testing.TB, pkg, hint string) string {
	tb.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		tb.Skip("node not installed")
	}
	cache := os.Getenv("SPECBENCH_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "specbench")
	}
	dir := filepath.Join(cache, "npm", "node_modules")
	if _, err := os.Stat(filepath.Join(dir, pkg)); err != nil {
		tb.Skipf("npm package %s missing: %s", pkg, hint)
	}
	return dir
}

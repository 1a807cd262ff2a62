// Package corpus locates the shared, public test material that sits beside
// the checkout (../shared), for tests and benchmarks. It never copies it.
package corpus

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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

// HTTP2Row is one cleartext capture of corpus/h2-tls/counts-http2.tsv with
// tshark 4.0.17's counts.
type HTTP2Row struct {
	File                              string // relative to the h2-tls directory
	Frames, HeadersFrames             int
	Requests, Responses, GRPCMessages int
}

// HTTP2Counts returns the h2-tls directory and the rows of its
// counts-http2.tsv for cleartext captures (those tshark read without a
// TLS key log), or skips the test when the corpus is absent.
func HTTP2Counts(tb testing.TB) (dir string, rows []HTTP2Row) {
	tb.Helper()
	dir = Dir(tb, "corpus/h2-tls")
	tsv, err := os.ReadFile(filepath.Join(dir, "counts-http2.tsv"))
	if err != nil {
		tb.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSpace(string(tsv)), "\n") {
		cols := strings.Split(line, "\t")
		if i == 0 || len(cols) < 8 {
			continue // the header
		}
		if strings.Contains(cols[7], "keylog") || strings.HasPrefix(cols[0], "ja4/") {
			continue // TLS: not cleartext HTTP/2
		}
		num := func(i int) int { n, _ := strconv.Atoi(cols[i]); return n }
		rows = append(rows, HTTP2Row{cols[0], num(2), num(3), num(4), num(5), num(6)})
	}
	return dir, rows
}

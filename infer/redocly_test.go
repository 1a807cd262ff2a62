package infer

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestRedoclyLint runs `redocly lint` on the exported documents when the
// Redocly CLI is installed (on PATH, or in the bench's npm cache); it never
// installs anything and skips otherwise.
func TestRedoclyLint(t *testing.T) {
	bin, err := exec.LookPath("redocly")
	if err != nil {
		home, _ := os.UserHomeDir()
		cand := filepath.Join(home, ".cache", "specbench", "npm", "node_modules", ".bin", "redocly")
		if _, err := os.Stat(cand); err != nil {
			t.Skip("redocly CLI (npm @redocly/cli) not installed")
		}
		bin = cand
	}
	m := NewModel(Config{})
	observeAll(m, shopTraffic())
	for _, v := range []string{"3.0", "3.1"} {
		doc, err := m.OpenAPIAll(ExportOptions{Version: v, Examples: true})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "openapi-"+v+".yaml")
		if err := os.WriteFile(p, render(t, doc, "yaml"), 0o644); err != nil {
			t.Fatal(err)
		}
		// Errors fail the run; warnings (no license, no tags) do not.
		out, err := exec.Command(bin, "lint", "--format=stylish", p).CombinedOutput()
		if err != nil {
			t.Errorf("redocly lint %s: %v\n%s", v, err, out)
		}
	}
}

package schema

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGolden infers schemas from generated document sets and compares them
// with testdata/*.golden.json (regenerate with -update after a deliberate
// change, and review the diff).
func TestGolden(t *testing.T) {
	tight := Options{MaxDepth: 2, MaxProperties: 4, MaxEnum: 3, MaxEnumLen: 8, MinEnumSamples: 2, EnumRatio: 2,
		MaxArrayItems: 2, RequiredRatio: 0.9, RequiredMinSamples: 2, MaxNodes: 1 << 20}
	for _, tc := range []struct {
		name string
		opts Options
		seed uint64
	}{
		{"default", DefaultOptions(), 7},
		{"tight", tight, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := &Node{}
			for _, d := range genDocs(tc.seed, 300) {
				if err := n.ObserveJSON([]byte(d), tc.opts); err != nil {
					t.Fatal(err)
				}
			}
			got, err := json.MarshalIndent(map[string]any{"schema": n.Schema(tc.opts), "node": n}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tc.name+".golden.json")
			if *update {
				if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
				t.Errorf("%s differs from the inferred schema; rerun with -update and review the diff", path)
			}
		})
	}
}

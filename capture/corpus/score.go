package corpus

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
)

// Score is the part of the shared benchmark scorer's report
// (specbench-score --json) that the tests read.
type Score struct {
	Endpoints struct {
		TP, FP, FN int
		F1         float64 `json:"f1"`
	} `json:"endpoints"`
	OverMerged int `json:"over_merged_inferred"`
	ParamTypes struct {
		Compared int     `json:"compared"`
		Accuracy float64 `json:"accuracy"`
	} `json:"path_param_types"`
	RespSpec struct {
		Recall float64 `json:"recall"`
	} `json:"response_props_vs_spec"`
	Missed []struct {
		Method, Path string
	} `json:"missed_truth"`
	Spurious []struct {
		Method, Path string
	} `json:"unmatched_inferred"`
	OverList []string `json:"over_merged_list"`
}

// Scorer builds the shared benchmark's scorer (bench/score) into a
// temporary directory and returns its path, or skips the test.
func Scorer(tb testing.TB) string {
	tb.Helper()
	src := Dir(tb, "bench/score")
	goBin, err := exec.LookPath("go")
	if err != nil {
		tb.Skip("go tool not found")
	}
	bin := filepath.Join(tb.TempDir(), "specbench-score")
	cmd := exec.Command(goBin, "build", "-o", bin, ".")
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Skipf("cannot build the scorer: %v\n%s", err, out)
	}
	return bin
}

// ScoreSpec scores an inferred OpenAPI document against a truth.json with
// the scorer bin (see Scorer).
func ScoreSpec(tb testing.TB, bin, truth, inferred string) Score {
	tb.Helper()
	out, err := exec.Command(bin, "--json", truth, inferred).Output()
	if err != nil {
		tb.Fatalf("scorer on %s: %v", inferred, err)
	}
	var r Score
	if err := json.Unmarshal(out, &r); err != nil {
		tb.Fatalf("scorer output: %v", err)
	}
	return r
}

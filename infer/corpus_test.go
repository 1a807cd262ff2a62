package infer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/specter-dev/specter/capture/corpus"
	"github.com/specter-dev/specter/infer/harload"
)

// scoreReport is the part of specbench-score --json this test reads.
type scoreReport struct {
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

// buildScorer builds the shared benchmark scorer into a temporary
// directory, or skips.
func buildScorer(t *testing.T) string {
	t.Helper()
	src := corpus.Dir(t, "bench/score")
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	bin := filepath.Join(t.TempDir(), "specbench-score")
	cmd := exec.Command(goBin, "build", "-o", bin, ".")
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot build the scorer: %v\n%s", err, out)
	}
	return bin
}

func score(t *testing.T, bin, truth, inferred string) scoreReport {
	t.Helper()
	out, err := exec.Command(bin, "--json", truth, inferred).Output()
	if err != nil {
		t.Fatalf("scorer on %s: %v", inferred, err)
	}
	var r scoreReport
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("scorer output: %v", err)
	}
	return r
}

// TestCorpusScores runs every traffic set of the shared corpus through a
// Model (from its HAR), exports OpenAPI and scores it against the set's
// ground truth with the benchmark's scorer: endpoint F1 >= 0.95, path
// parameter type accuracy >= 0.9, no over-merged template.
func TestCorpusScores(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus scoring is slow")
	}
	dir := corpus.Dir(t, "corpus/traffic")
	bin := buildScorer(t)
	sets, err := filepath.Glob(filepath.Join(dir, "*", "truth.json"))
	if err != nil || len(sets) == 0 {
		t.Skip("no traffic sets")
	}
	var table strings.Builder
	fmt.Fprintf(&table, "%-20s %6s %6s %6s %5s %8s %6s %6s\n", "set", "F1", "prec", "recall", "over", "ptypes", "n", "resp")
	tmp := t.TempDir()
	for _, truth := range sets {
		set := filepath.Base(filepath.Dir(truth))
		xs, err := harload.ReadFile(filepath.Join(filepath.Dir(truth), "traffic.har"))
		if err != nil {
			t.Fatal(err)
		}
		m := NewModel(Config{})
		for _, x := range xs {
			m.Observe(x)
		}
		doc, err := m.OpenAPIAll(ExportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := doc.Validate(context.Background()); err != nil {
			t.Errorf("%s: exported document does not validate: %v", set, err)
		}
		var buf bytes.Buffer
		if err := Write(&buf, doc, "yaml"); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(tmp, set+".yaml")
		if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		r := score(t, bin, truth, out)
		prec := float64(r.Endpoints.TP) / float64(max(1, r.Endpoints.TP+r.Endpoints.FP))
		rec := float64(r.Endpoints.TP) / float64(max(1, r.Endpoints.TP+r.Endpoints.FN))
		fmt.Fprintf(&table, "%-20s %6.3f %6.3f %6.3f %5d %8.3f %6d %6.3f\n", set, r.Endpoints.F1, prec, rec, r.OverMerged, r.ParamTypes.Accuracy, r.ParamTypes.Compared, r.RespSpec.Recall)
		if r.Endpoints.F1 < 0.95 {
			t.Errorf("%s: endpoint F1 %.3f < 0.95; missed %v; spurious %v", set, r.Endpoints.F1, r.Missed, r.Spurious)
		}
		if r.ParamTypes.Compared > 0 && r.ParamTypes.Accuracy < 0.9 {
			t.Errorf("%s: path parameter type accuracy %.3f < 0.9", set, r.ParamTypes.Accuracy)
		}
		if r.OverMerged != 0 {
			t.Errorf("%s: %d over-merged templates: %v", set, r.OverMerged, r.OverList)
		}
	}
	t.Log("\n" + table.String())
}

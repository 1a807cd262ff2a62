package infer

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/specter-dev/specter/capture/corpus"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/har"
)

// corpusGap is a set's measured score where it is below the corpus
// targets: the test checks the set does not get worse than this, so that
// progress is tracked without turning CI red. Tighten the entries as
// classes of failures are fixed; delete an entry when the set passes.
type corpusGap struct {
	F1     float64 // endpoint F1 measured
	Over   int     // over-merged templates measured
	PTypes float64 // path parameter type accuracy measured
}

// knownGaps are the sets below the targets, as last measured with
// go test ./infer -run TestCorpusScores -v.
var knownGaps = map[string]corpusGap{
	"brex":      {F1: 0.895, Over: 0, PTypes: 0.955},
	"gitea":     {F1: 0.934, Over: 0, PTypes: 0.982},
	"jellyfin":  {F1: 0.958, Over: 0, PTypes: 0.990},
	"twitter":   {F1: 0.959, Over: 0, PTypes: 0.955},
	"wikimedia": {F1: 0.659, Over: 0, PTypes: 1},
}

// corpusSets returns the traffic sets of the shared corpus (traffic and
// traffic-wide) as set name -> directory, or skips.
func corpusSets(t *testing.T) map[string]string {
	t.Helper()
	sets := map[string]string{}
	for _, sub := range []string{"corpus/traffic", "corpus/traffic-wide"} {
		root := corpus.Root()
		if root == "" {
			t.Skip("shared corpus not found beside the checkout (../shared)")
		}
		truths, _ := filepath.Glob(filepath.Join(root, sub, "*", "truth.json"))
		for _, truth := range truths {
			dir := filepath.Dir(truth)
			sets[filepath.Base(dir)] = dir
		}
	}
	if len(sets) == 0 {
		t.Skip("no traffic sets in the shared corpus")
	}
	return sets
}

// loadSet reads a set's HAR (plain or gzip-compressed).
func loadSet(t *testing.T, dir string) []*reassembly.Exchange {
	t.Helper()
	for _, name := range []string{"traffic.har", "traffic.har.gz"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		xs, err := har.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return xs
	}
	t.Fatalf("%s: no traffic.har or traffic.har.gz", dir)
	return nil
}

// TestCorpusScores runs every traffic set of the shared corpus (traffic
// and traffic-wide) through a Model (from its HAR), exports OpenAPI and
// scores it against the set's ground truth with the benchmark's scorer:
// endpoint F1 >= 0.95, path parameter type accuracy >= 0.9, no
// over-merged template; sets in knownGaps must not score worse than
// recorded there.
func TestCorpusScores(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus scoring is slow")
	}
	sets := corpusSets(t)
	bin := corpus.Scorer(t)
	var table strings.Builder
	fmt.Fprintf(&table, "%-20s %6s %6s %6s %5s %8s %6s %6s\n", "set", "F1", "prec", "recall", "over", "ptypes", "n", "resp")
	tmp := t.TempDir()
	if d := os.Getenv("SPECTER_CORPUS_OUT"); d != "" {
		tmp = d // keep the exported documents, for scoring them by hand
	}
	for _, set := range sortedKeys(sets) {
		dir := sets[set]
		truth := filepath.Join(dir, "truth.json")
		xs := loadSet(t, dir)
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
		r := corpus.ScoreSpec(t, bin, truth, out)
		prec := float64(r.Endpoints.TP) / float64(max(1, r.Endpoints.TP+r.Endpoints.FP))
		rec := float64(r.Endpoints.TP) / float64(max(1, r.Endpoints.TP+r.Endpoints.FN))
		fmt.Fprintf(&table, "%-20s %6.3f %6.3f %6.3f %5d %8.3f %6d %6.3f\n", set, r.Endpoints.F1, prec, rec, r.OverMerged, r.ParamTypes.Accuracy, r.ParamTypes.Compared, r.RespSpec.Recall)
		if slices.Contains(strings.Split(os.Getenv("SPECTER_CORPUS_DETAIL"), ","), set) {
			// For working on a set: what it missed and invented.
			t.Logf("%s: missed %v\nspurious %v", set, r.Missed, r.Spurious)
		}
		// The floor: the targets, or the recorded gap (a small slack for
		// float formatting of the recorded figures).
		minF1, maxOver, minPT := 0.95, 0, 0.9
		if g, ok := knownGaps[set]; ok {
			minF1, maxOver, minPT = min(minF1, g.F1-0.0005), g.Over, min(minPT, g.PTypes-0.0005)
		}
		if r.Endpoints.F1 < minF1 {
			t.Errorf("%s: endpoint F1 %.3f < %.3f; missed %v; spurious %v", set, r.Endpoints.F1, minF1, r.Missed, r.Spurious)
		}
		if r.ParamTypes.Compared > 0 && r.ParamTypes.Accuracy < minPT {
			t.Errorf("%s: path parameter type accuracy %.3f < %.3f", set, r.ParamTypes.Accuracy, minPT)
		}
		if r.OverMerged > maxOver {
			t.Errorf("%s: %d over-merged templates (at most %d): %v", set, r.OverMerged, maxOver, r.OverList)
		}
		if g, ok := knownGaps[set]; ok && (r.Endpoints.F1 > g.F1+0.0005 || r.OverMerged < g.Over || r.ParamTypes.Accuracy > g.PTypes+0.0005) {
			t.Logf("%s: better than its known gap (F1 %.3f, over %d, ptypes %.3f): tighten knownGaps", set, r.Endpoints.F1, r.OverMerged, r.ParamTypes.Accuracy)
		}
	}
	t.Log("\n" + table.String())
}

// templatesOf lists a model's operations as "service method template".
func templatesOf(m *Model) []string {
	var out []string
	for _, e := range m.Endpoints() {
		out = append(out, e.Service+" "+e.Method+" "+e.Template)
	}
	return out
}

// TestCorpusOrderIndependence: over every corpus set, the same multiset
// of exchanges gives the same templates in any order (shuffled with
// several seeds) and split across two models merged A then B (through
// JSON, as the store keeps them).
func TestCorpusOrderIndependence(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus runs are slow")
	}
	sets := corpusSets(t)
	for _, set := range sortedKeys(sets) {
		xs := loadSet(t, sets[set])
		whole := NewModel(Config{})
		observeAll(whole, xs)
		want := templatesOf(whole)
		for seed := uint64(1); seed <= 3; seed++ {
			ys := append([]*reassembly.Exchange(nil), xs...)
			rand.New(rand.NewPCG(seed, 0)).Shuffle(len(ys), func(i, j int) { ys[i], ys[j] = ys[j], ys[i] })
			shuffled := NewModel(Config{})
			observeAll(shuffled, ys)
			if got := templatesOf(shuffled); !slices.Equal(got, want) {
				t.Errorf("%s: seed %d: shuffled order gives other templates:\n%s", set, seed, listDiff(want, got))
			}
			merged, _ := mergedHalves(t, Config{}, ys[:len(ys)/3], ys[len(ys)/3:])
			if got := templatesOf(merged); !slices.Equal(got, want) {
				t.Errorf("%s: seed %d: A then B merged gives other templates:\n%s", set, seed, listDiff(want, got))
			}
		}
	}
}

// listDiff shows the lines only in want (-) or only in got (+).
func listDiff(want, got []string) string {
	in := func(s []string) map[string]bool {
		m := map[string]bool{}
		for _, v := range s {
			m[v] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var b strings.Builder
	for _, v := range want {
		if !g[v] {
			b.WriteString("- " + v + "\n")
		}
	}
	for _, v := range got {
		if !w[v] {
			b.WriteString("+ " + v + "\n")
		}
	}
	return b.String()
}

package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/specter-dev/specter/infer/diff"
)

func finding(fp string, kind diff.Kind, count uint64, first time.Time) diff.Finding {
	return diff.Finding{Kind: kind, Fingerprint: fp, Service: "api", Method: "GET", Path: "/x", Count: count, FirstSeen: first, LastSeen: first.Add(time.Minute)}
}

// Findings accumulate across runs by fingerprint; a run's checkpoints
// replace its own rows (its findings are cumulative), and merging a
// database carries them over.
func TestFindingsAccumulate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, filepath.Join(dir, "a.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	run := func(fs ...[]diff.Finding) {
		in, err := db.BeginRun(ctx, RunInfo{Inputs: []string{"x"}}, IngestOptions{Every: 1 << 30, Interval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			in.SetFindings(f)
			if err := in.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := in.Finish(ctx, RunTotals{Complete: true}); err != nil {
			t.Fatal(err)
		}
	}
	// The first run checkpoints twice, with cumulative findings.
	run([]diff.Finding{finding("a", diff.KindNoncompliantRequest, 2, t0)},
		[]diff.Finding{finding("a", diff.KindNoncompliantRequest, 5, t0), finding("b", diff.KindAuthMismatch, 1, t0)})
	run([]diff.Finding{finding("a", diff.KindNoncompliantRequest, 3, t0.Add(-time.Hour))})
	got, err := db.Findings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d findings: %+v", len(got), got)
	}
	byFP := map[string]diff.Finding{}
	for _, f := range got {
		byFP[f.Fingerprint] = f
	}
	if a := byFP["a"]; a.Count != 8 || !a.FirstSeen.Equal(t0.Add(-time.Hour)) {
		t.Errorf("a: count %d first %v", a.Count, a.FirstSeen)
	}
	if b := byFP["b"]; b.Count != 1 {
		t.Errorf("b: count %d", b.Count)
	}

	out, err := Open(ctx, filepath.Join(dir, "out.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	for i := 0; i < 2; i++ {
		if err := out.MergeFrom(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	merged, err := out.Findings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(merged) != 2 || merged[0].Count+merged[1].Count != 18 {
		t.Errorf("after merging twice: %+v", merged)
	}
}

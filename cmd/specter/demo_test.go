package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/specter-dev/specter/infer/diff"
)

// TestDemoShowsEverything: the sample capture `make demo` analyzes spans
// hours of traffic, and the demo's diff (analyze --db, then diff --db
// against the declared spec) has a finding of every kind, so that the demo
// shows what each looks like.
func TestDemoShowsEverything(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	if _, errs, code := run(t, "analyze", "--db", db, "--spec", "../../testdata/shop-declared.yaml", demo); code != exitOK {
		t.Fatalf("analyze: exit %d: %s", code, errs)
	}
	out, errs, code := run(t, "diff", "--db", db, "--spec", "../../testdata/shop-declared.yaml", "--format", "json")
	if code != exitOK {
		t.Fatalf("diff: exit %d: %s", code, errs)
	}
	var rep struct {
		Findings []struct {
			Kind diff.Kind `json:"kind"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	seen := map[diff.Kind]int{}
	for _, f := range rep.Findings {
		seen[f.Kind]++
	}
	for _, k := range diff.Kinds() {
		if seen[k] == 0 {
			t.Errorf("no %s finding in the demo (have %v)", k, seen)
		}
	}
	out, errs, code = run(t, "endpoints", "--json", demo)
	if code != exitOK {
		t.Fatalf("endpoints: exit %d: %s", code, errs)
	}
	var eps []struct {
		FirstSeen time.Time `json:"first_seen"`
		LastSeen  time.Time `json:"last_seen"`
	}
	if err := json.Unmarshal([]byte(out), &eps); err != nil || len(eps) == 0 {
		t.Fatalf("endpoints: %v", err)
	}
	first, last := eps[0].FirstSeen, eps[0].LastSeen
	for _, e := range eps {
		if e.FirstSeen.Before(first) {
			first = e.FirstSeen
		}
		if e.LastSeen.After(last) {
			last = e.LastSeen
		}
	}
	if last.Sub(first) < time.Hour {
		t.Errorf("the demo spans %v of traffic, want hours", last.Sub(first))
	}
}

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/specter-dev/specter/capture/corpus"
	"github.com/specter-dev/specter/infer/diff"
)

// benchTools returns the shadow bench scripts, or skips when node or the
// bench's npm packages (../shared/bench/setup.sh) are missing.
func benchTools(t *testing.T) (makeDeclared, score string) {
	t.Helper()
	corpus.NodeModules(t, "js-yaml", "run ../shared/bench/setup.sh")
	bench := corpus.Dir(t, "bench/shadow")
	return filepath.Join(bench, "make-declared.js"), filepath.Join(bench, "score-findings.js")
}

// declared runs make-declared.js for a traffic set into a temp dir.
func declared(t *testing.T, set, makeDeclared string) string {
	t.Helper()
	out := t.TempDir()
	cmd := exec.Command("node", makeDeclared, "--truth", "truth.json", "--out", out, "--seed", "1")
	cmd.Dir = set // truth.json names the specs relative to the set
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make-declared: %v\n%s", err, b)
	}
	return out
}

type kindScore struct {
	Expected       int      `json:"expected"`
	Findings       int      `json:"findings"`
	Precision      float64  `json:"precision"`
	Recall         float64  `json:"recall"`
	Missed         []string `json:"missed"`
	FalsePositives []string `json:"false_positives"`
}

var paramName = regexp.MustCompile(`\{[^}]*\}`)

// TestDiffCorpus is the acceptance test: for each traffic set,
// specter diff against the declared spec make-declared.js derives must find
// exactly the expected shadow and zombie operations, every deliberate
// violation with the right kind and rule, and no noncompliant request on
// requests the server accepted.
func TestDiffCorpus(t *testing.T) {
	makeDeclared, score := benchTools(t)
	root := corpus.Dir(t, "corpus/traffic")
	sets, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sets {
		set := filepath.Join(root, s.Name())
		if _, err := os.Stat(filepath.Join(set, "truth.json")); err != nil {
			continue
		}
		t.Run(s.Name(), func(t *testing.T) {
			dir := declared(t, set, makeDeclared)
			var specArgs []string
			matches, _ := filepath.Glob(filepath.Join(dir, "declared-*"))
			for _, m := range matches {
				specArgs = append(specArgs, "--spec", m)
			}
			args := append([]string{"diff", "--format", "json"}, specArgs...)
			out, errs, code := run(t, append(args, filepath.Join(set, "traffic.pcap"))...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errs)
			}
			findings := filepath.Join(dir, "findings.json")
			if err := os.WriteFile(findings, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			b, err := exec.Command("node", score, filepath.Join(dir, "expected.json"), findings, "--json").Output()
			if err != nil {
				t.Fatalf("score-findings: %v", err)
			}
			var rep struct {
				Kinds map[string]kindScore `json:"kinds"`
			}
			if err := json.Unmarshal(b, &rep); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"shadow", "zombie", "noncompliant_request", "unused"} {
				r := rep.Kinds[k]
				t.Logf("%-21s expected %3d findings %3d precision %.3f recall %.3f", k, r.Expected, r.Findings, r.Precision, r.Recall)
			}
			for _, k := range []string{"shadow", "zombie"} {
				r := rep.Kinds[k]
				if r.Expected == 0 && r.Findings == 0 {
					continue
				}
				if r.Precision != 1 || r.Recall != 1 {
					t.Errorf("%s: precision %.3f recall %.3f; missed %v; false positives %v", k, r.Precision, r.Recall, r.Missed, r.FalsePositives)
				}
			}
			nc := rep.Kinds["noncompliant_request"]
			if nc.Expected > 0 && nc.Recall != 1 {
				t.Errorf("deliberate violations missed: %v", nc.Missed)
			}
			var rp diff.Report
			if err := json.Unmarshal([]byte(out), &rp); err != nil {
				t.Fatal(err)
			}
			checkViolationKinds(t, filepath.Join(dir, "expected.json"), rp.Findings)
			// Noncompliant requests beyond the deliberate ones must be
			// requests the server rejected too (patterns the generator
			// could not satisfy): conforming requests give no finding.
			fp := map[string]bool{}
			for _, f := range nc.FalsePositives {
				fp[f] = true
			}
			for _, f := range rp.Findings {
				if f.Kind != diff.KindNoncompliantRequest || !fp[f.Host+" "+f.Method+" "+f.Path] {
					continue
				}
				if f.Example == nil || f.Example.Status < 400 {
					t.Errorf("noncompliant request on a request the server accepted: %s %s %s (%s)", f.Method, f.Path, f.Rule, f.Reason)
				}
			}
		})
	}
}

// checkViolationKinds checks that each deliberate violation is found on
// its operation with the rule of its kind.
func checkViolationKinds(t *testing.T, expectedFile string, fs []diff.Finding) {
	t.Helper()
	b, err := os.ReadFile(expectedFile)
	if err != nil {
		t.Fatal(err)
	}
	var exp struct {
		Noncompliant []struct {
			Host, Method, Path string
			Kinds              []string
		} `json:"noncompliant_request"`
	}
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	norm := func(p string) string { return paramName.ReplaceAllString(p, "{}") }
	for _, e := range exp.Noncompliant {
		for _, kind := range e.Kinds {
			ok := false
			for _, f := range fs {
				if f.Kind != diff.KindNoncompliantRequest || f.Method != e.Method || norm(f.Path) != norm(e.Path) || f.Host != e.Host {
					continue
				}
				switch kind {
				case "unknown_query_param":
					ok = ok || f.Rule == "query:undeclared"
				case "query_wrong_type":
					ok = ok || strings.HasPrefix(f.Rule, "query.")
				case "missing_required_body_field":
					ok = ok || strings.HasPrefix(f.Rule, "body") && strings.HasSuffix(f.Rule, ":required")
				default:
					ok = true // a kind this test does not know: found at all is enough
				}
			}
			if !ok {
				t.Errorf("violation %s on %s %s not found with its rule", kind, e.Method, e.Path)
			}
		}
	}
}

func TestDiffFlags(t *testing.T) {
	set := filepath.Join(corpus.Dir(t, "corpus/traffic"), "swagger-petstore3")
	pcap := filepath.Join(set, "traffic.pcap")
	// The served spec (all operations): no shadow, so --fail-on shadow passes.
	served := filepath.Join(set, "served-petstore3.swagger.test.json")
	spec := "--spec-host=petstore3.swagger.test=" + served
	if _, errs, code := run(t, "diff", spec, "--fail-on", "shadow", pcap); code != exitOK {
		t.Fatalf("served spec: exit %d: %s", code, errs)
	}
	// A spec without /pet paths: shadow findings, exit 3.
	dir := t.TempDir()
	var doc map[string]any
	b, err := os.ReadFile(served)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	paths := doc["paths"].(map[string]any)
	for p := range paths {
		if strings.Contains(p, "/pet") {
			delete(paths, p)
		}
	}
	b, _ = json.Marshal(doc)
	cut := filepath.Join(dir, "cut.json")
	if err := os.WriteFile(cut, b, 0o644); err != nil {
		t.Fatal(err)
	}
	spec = "--spec-host=petstore3.swagger.test=" + cut
	out, errs, code := run(t, "diff", spec, "--format", "json", "--fail-on", "zombie,shadow", pcap)
	if code != exitFindings || !strings.Contains(out, `"kind": "shadow"`) {
		t.Fatalf("exit %d (want %d): %s", code, exitFindings, errs)
	}
	base := filepath.Join(dir, "baseline.json")
	if err := os.WriteFile(base, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code = run(t, "diff", spec, "--format", "json", "--baseline", base, "--fail-on", "shadow", pcap)
	if code != exitOK || strings.Contains(out, `"kind"`) {
		t.Fatalf("with baseline: exit %d, %s\n%s", code, errs, out)
	}
	for _, bad := range [][]string{
		{"diff", spec, "--fail-on", "nosuchkind", pcap},
		{"diff", spec, "--format", "xml", pcap},
		{"diff", "--spec", filepath.Join(dir, "missing.yaml"), pcap},
	} {
		if _, _, code := run(t, bad...); code != exitFatal {
			t.Errorf("%v: exit %d, want %d", bad, code, exitFatal)
		}
	}
	// analyze --spec prints the findings summary after its own.
	out, _, code = run(t, "analyze", spec, pcap)
	if code != exitOK || !strings.Contains(out, "findings: shadow") || !strings.Contains(out, "SHADOW (") {
		t.Fatalf("analyze --spec: exit %d\n%s", code, out)
	}
}

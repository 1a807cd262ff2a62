package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFormatFlags: every verb with a table has --format table|json, --json
// as its alias, and -o; a bad format is a usage error.
func TestFormatFlags(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "f.db")
	if _, errs, code := run(t, "analyze", "--db", db, demo); code != exitOK {
		t.Fatalf("analyze: %d %s", code, errs)
	}
	for _, args := range [][]string{
		{"analyze", demo},
		{"endpoints", "--db", db},
		{"show", "--db", db, "GET", "/api/v1/products"},
		{"runs", "--db", db},
		{"prune", "--db", db, "--older-than", "3650d"},
	} {
		t.Run(args[0], func(t *testing.T) {
			with := func(extra ...string) string {
				t.Helper()
				out, errs, code := run(t, append(append([]string{}, args...), extra...)...)
				if code != exitOK {
					t.Fatalf("%v: exit %d: %s", extra, code, errs)
				}
				return out
			}
			js := with("--format", "json")
			if !json.Valid([]byte(js)) {
				t.Fatalf("--format json is not JSON:\n%s", js)
			}
			// analyze's output has its run time: compared as JSON only.
			timed := args[0] == "analyze"
			if alias := with("--json"); !json.Valid([]byte(alias)) || !timed && alias != js {
				t.Errorf("--json differs from --format json")
			}
			if table := with("--format", "table"); json.Valid([]byte(table)) || !timed && table != with() {
				t.Errorf("--format table is not the default table:\n%s", table)
			}
			file := filepath.Join(dir, args[0]+".json")
			if out := with("--format", "json", "-o", file); out != "" {
				t.Errorf("-o also wrote to stdout: %s", out)
			}
			if b, err := os.ReadFile(file); err != nil || !json.Valid(b) {
				t.Errorf("-o file: %v, %q", err, b)
			}
			if _, errs, code := run(t, append(append([]string{}, args...), "--format", "xml")...); code != exitFatal || !strings.Contains(errs, `"xml"`) {
				t.Errorf("--format xml: exit %d, %s", code, errs)
			}
		})
	}
}

// TestVersion: a version verb and --version, and no -v.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, _, code := run(t, args...)
		if code != exitOK || out != "specter "+version+"\n" {
			t.Errorf("%v: exit %d, %q", args, code, out)
		}
	}
	if _, _, code := run(t, "-v"); code != exitFatal {
		t.Errorf("-v: exit %d", code)
	}
}

// TestPriorNotSpec: on the inferring verbs a spec's templates come with
// --prior; --spec (which means "check against") is refused there with a
// pointer to --prior.
func TestPriorNotSpec(t *testing.T) {
	spec := "../../testdata/shop-declared.yaml"
	for _, verb := range []string{"endpoints", "export"} {
		_, errs, code := run(t, verb, "--spec", spec, demo)
		if code != exitFatal || !strings.Contains(errs, "--prior "+spec) {
			t.Errorf("%s --spec: exit %d, %s", verb, code, errs)
		}
		if _, errs, code := run(t, verb, "--prior", spec, demo); code != exitOK {
			t.Errorf("%s --prior: exit %d, %s", verb, code, errs)
		}
	}
}

// TestAnalyzeFilter: a filter expression after the files (or with -r)
// keeps only the packets it matches, as tcpdump -r does.
func TestAnalyzeFilter(t *testing.T) {
	summaryOf := func(args ...string) summary {
		t.Helper()
		out, errs, code := run(t, append([]string{"analyze", "--json"}, args...)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		var s summary
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	all := summaryOf(demo)
	if all.Reassembly.Exchanges == 0 {
		t.Fatal("no exchanges in the demo")
	}
	// The demo's server port, from its exchanges.
	out, _, _ := run(t, "exchanges", demo)
	var x struct {
		Server string `json:"server"`
	}
	if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &x); err != nil || x.Server == "" {
		t.Fatalf("no server address in %q: %v", out[:min(len(out), 200)], err)
	}
	port := x.Server[strings.LastIndex(x.Server, ":")+1:]
	for _, tc := range []struct {
		args      []string
		exchanges uint64
		filtered  uint64
	}{
		{[]string{demo, "tcp", "port", port}, all.Reassembly.Exchanges, 0},
		{[]string{"-r", demo, "tcp", "port", port}, all.Reassembly.Exchanges, 0},
		{[]string{demo, "not", "tcp", "port", port}, 0, all.Packets},
		{[]string{"-r", demo, "udp"}, 0, all.Packets},
	} {
		s := summaryOf(tc.args...)
		if s.Reassembly.Exchanges != tc.exchanges || s.Filtered != tc.filtered || s.Packets != all.Packets {
			t.Errorf("%v: %d exchanges, %d of %d packets filtered; want %d exchanges, %d filtered", tc.args,
				s.Reassembly.Exchanges, s.Filtered, s.Packets, tc.exchanges, tc.filtered)
		}
	}
	for _, tc := range []struct {
		args []string
		hint string
	}{
		{[]string{demo, "nope.pcap"}, "nope.pcap: no such file"},
		{[]string{demo, "tcp", "prot", "80"}, `filter "tcp prot 80"`},
		{[]string{"-r", demo, "tcp", "prot"}, `filter "tcp prot"`},
		{[]string{}, "no input"},
	} {
		if _, errs, code := run(t, append([]string{"analyze"}, tc.args...)...); code != exitFatal || !strings.Contains(errs, tc.hint) {
			t.Errorf("%v: exit %d, %q; want %d naming %q", tc.args, code, errs, exitFatal, tc.hint)
		}
	}
}

// TestDiffHost: --host keeps one service's findings; a service that is not
// in the traffic is an error naming it and the services seen.
func TestDiffHost(t *testing.T) {
	spec := "../../testdata/shop-declared.yaml"
	all, _, _ := run(t, "diff", "--spec", spec, "--format", "json", demo)
	one, _, _ := run(t, "diff", "--spec", spec, "--format", "json", "--host", "shop.example.test", demo)
	none, errs, code := run(t, "diff", "--spec", spec, "--format", "json", "--host", "other.example.test", demo)
	if code != exitPartial || none != "" || !strings.Contains(errs, `"other.example.test"`) || !strings.Contains(errs, "shop.example.test") {
		t.Errorf("--host other.example.test: exit %d, stdout %q, stderr %q", code, none, errs)
	}
	count := func(s string) int {
		var r struct {
			Findings []json.RawMessage `json:"findings"`
		}
		if err := json.Unmarshal([]byte(s), &r); err != nil {
			t.Fatalf("%v: %s", err, s)
		}
		return len(r.Findings)
	}
	if n := count(all); n == 0 || count(one) != n {
		t.Errorf("findings: all %d, shop %d", n, count(one))
	}
}

// TestMergeOutputFlag: merge -o OUT IN... is merge OUT IN....
func TestMergeOutputFlag(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.db")
	if _, errs, code := run(t, "analyze", "--db", in, demo); code != exitOK {
		t.Fatalf("analyze: %d %s", code, errs)
	}
	a, b := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	if _, errs, code := run(t, "merge", a, in); code != exitOK {
		t.Fatalf("merge: %d %s", code, errs)
	}
	if _, errs, code := run(t, "merge", "-o", b, in); code != exitOK {
		t.Fatalf("merge -o: %d %s", code, errs)
	}
	ea, _, _ := run(t, "endpoints", "--db", a, "--json")
	eb, _, _ := run(t, "endpoints", "--db", b, "--json")
	if ea != eb || len(ea) < 10 {
		t.Errorf("merge -o gives another inventory:\n%s\n%s", ea, eb)
	}
	if _, _, code := run(t, "merge", "-o", b); code != exitFatal {
		t.Errorf("merge -o without inputs: exit %d", code)
	}
}

// TestUnknownHost: a --host no service has is an error, not an empty list.
func TestUnknownHost(t *testing.T) {
	for _, verb := range []string{"endpoints", "export"} {
		out, errs, code := run(t, verb, "--host", "no-such.example.test", demo)
		if code == exitOK || !strings.Contains(errs, `"no-such.example.test"`) || strings.Contains(out, "[]") {
			t.Errorf("%s --host unknown: exit %d, stdout %q, stderr %q", verb, code, out, errs)
		}
	}
	if _, errs, code := run(t, "endpoints", "--host", "shop.example.test", demo); code != exitOK {
		t.Errorf("endpoints --host shop.example.test: exit %d: %s", code, errs)
	}
}

package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// The query:undeclared finding names every undeclared parameter seen over
// all requests, not the first of one request, in the JSON and the table.
func TestUndeclaredParamsAllNamed(t *testing.T) {
	many := make([]string, 0, maxParams+6)
	for i := range maxParams + 6 {
		many = append(many, fmt.Sprintf("p%03d=1", i))
	}
	tests := []struct {
		name    string
		queries []string
		want    []string // params, sorted
		cut     bool
	}{
		{"one", []string{"limit=1&debug=1"}, []string{"debug"}, false},
		{"several in one request", []string{"zeta=1&limit=2&alpha=3&mid=4"}, []string{"alpha", "mid", "zeta"}, false},
		{"across requests", []string{"limit=1&b=1", "a=2", "b=3&c=4", "limit=5"}, []string{"a", "b", "c"}, false},
		{"repeated and escaped", []string{"x%20y=1&x%20y=2&q+r=3"}, []string{"q r", "x y"}, false},
		{"past the bound", []string{strings.Join(many, "&")}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewChecker([]*Spec{mustSpec(t, "pets.yaml")}, Options{})
			for i, q := range tt.queries {
				c.Check(exch(i, "pets.test", "GET", "/api/v3/pets?"+q, bearer, "", 200, "application/json", "[]"))
			}
			var f *Finding
			fs := c.Findings()
			for i := range fs {
				if fs[i].Rule == "query:undeclared" {
					f = &fs[i]
				}
			}
			if f == nil {
				t.Fatalf("no query:undeclared finding in %v", summarize(fs))
			}
			if f.Count != uint64(len(tt.queries)-strings.Count(strings.Join(tt.queries, " "), "limit=5")) {
				t.Errorf("count = %d", f.Count)
			}
			if tt.cut {
				if len(f.Params) != maxParams || !f.ParamsCut || !strings.Contains(f.Reason, "and more") {
					t.Fatalf("%d params, cut %v, reason %q", len(f.Params), f.ParamsCut, f.Reason)
				}
				return
			}
			if strings.Join(f.Params, ",") != strings.Join(tt.want, ",") || f.ParamsCut {
				t.Errorf("params = %q, want %q", f.Params, tt.want)
			}
			var table, js bytes.Buffer
			if err := Write(&table, fs, "table", ""); err != nil {
				t.Fatal(err)
			}
			if err := Write(&js, fs, "json", ""); err != nil {
				t.Fatal(err)
			}
			var rep Report
			if err := json.Unmarshal(js.Bytes(), &rep); err != nil {
				t.Fatal(err)
			}
			for _, p := range tt.want {
				if !strings.Contains(f.Reason, fmt.Sprintf("%q", p)) {
					t.Errorf("reason %q does not name %q", f.Reason, p)
				}
				if !strings.Contains(table.String(), fmt.Sprintf("%q", p)) {
					t.Errorf("table does not name %q:\n%s", p, table.String())
				}
			}
		})
	}
}

// A long list of names is not cut in the table.
func TestUndeclaredParamsTableUncut(t *testing.T) {
	var q []string
	for i := range 30 {
		q = append(q, fmt.Sprintf("parameter_number_%02d=1", i))
	}
	c := NewChecker([]*Spec{mustSpec(t, "pets.yaml")}, Options{})
	c.Check(exch(0, "pets.test", "GET", "/api/v3/pets?"+strings.Join(q, "&"), bearer, "", 200, "application/json", "[]"))
	var table, md bytes.Buffer
	_ = Write(&table, c.Findings(), "table", "")
	_ = Write(&md, c.Findings(), "markdown", "")
	for _, out := range []string{table.String(), md.String()} {
		if !strings.Contains(out, `"parameter_number_00"`) || !strings.Contains(out, `"parameter_number_29"`) {
			t.Errorf("names cut:\n%s", out)
		}
	}
}

// Merging findings of two runs unites their parameter names.
func TestMergeParams(t *testing.T) {
	a := *newFinding(KindNoncompliantRequest, "query:undeclared", "s", "GET", "/x")
	b := a
	a.addParams([]string{"b", "a"}, false)
	b.addParams([]string{"c", "a"}, false)
	a.Count, b.Count = 1, 2
	m := Merge([]Finding{a}, []Finding{b})
	if len(m) != 1 || strings.Join(m[0].Params, ",") != "a,b,c" || m[0].Count != 3 || !strings.Contains(m[0].Reason, `"c"`) {
		t.Fatalf("merged %+v", m)
	}
	if strings.Join(a.Params, ",") != "a,b" {
		t.Errorf("Merge modified its input: %v", a.Params)
	}
}

// A baseline's suppressed count is in the table, markdown, JSON and SARIF;
// every finding row has its severity.
func TestBaselineAndSeverityShown(t *testing.T) {
	fs := petFindings(t)
	rep := Report{Findings: Suppress(fs, fs[:4]), Baseline: &Baseline{File: "known.json", Suppressed: 4}}
	for _, format := range Formats() {
		var b bytes.Buffer
		if err := WriteReport(&b, rep, format, "t"); err != nil {
			t.Fatal(err)
		}
		want := "4 findings suppressed by the baseline known.json"
		if format == "json" {
			want = `"suppressed": 4`
		}
		if !strings.Contains(b.String(), want) {
			t.Errorf("%s lacks %q:\n%s", format, want, b.String())
		}
	}
	var b bytes.Buffer
	_ = WriteReport(&b, Report{Baseline: &Baseline{File: "k.json", Suppressed: 1}}, "table", "")
	if got := b.String(); got != "no findings (1 finding suppressed by the baseline k.json)\n" {
		t.Errorf("empty table = %q", got)
	}
	var table bytes.Buffer
	_ = Write(&table, fs, "table", "")
	for _, f := range fs {
		row := false
		for _, l := range strings.Split(table.String(), "\n") {
			fields := strings.Fields(l)
			if len(fields) > 3 && fields[0] == string(f.Severity) && fields[2] == f.Method && fields[3] == f.Path {
				row = true
			}
		}
		if !row || f.Severity != severityOf(f.Kind) {
			t.Errorf("no table row with severity %s for %s %s", f.Severity, f.Method, f.Path)
		}
	}
}

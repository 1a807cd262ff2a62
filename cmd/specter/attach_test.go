package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/diff"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/message"
	"github.com/specter-dev/specter/store"
)

// unattachedSpec writes a spec whose only server names a host the demo
// capture (shop.example.test) does not have.
func unattachedSpec(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "elsewhere.yaml")
	doc := "openapi: 3.0.3\ninfo: {title: t, version: '1'}\nservers: [{url: 'https://api.example.com/v1'}]\npaths:\n  /a:\n    get:\n      responses:\n        '200': {description: ok}\n"
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A spec attached to no service of the traffic checked nothing: diff and
// analyze fail naming it (unless --allow-unattached) and report it in
// JSON and SARIF.
func TestUnattachedSpec(t *testing.T) {
	dir := t.TempDir()
	spec := unattachedSpec(t, dir)
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(empty, "notes.yaml"), []byte("a: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	declared := "../../testdata/shop-declared.yaml"
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr []string // substrings
		stdout []string
	}{
		{"diff unattached", []string{"diff", "--spec", spec, demo}, exitFatal,
			[]string{spec, "https://api.example.com/v1", "attached to no service", "shop.example.test"}, []string{"ANOMALY"}},
		{"diff allowed", []string{"diff", "--allow-unattached", "--spec", spec, demo}, exitOK,
			[]string{spec + " (servers https://api.example.com/v1) attached to no service", "no spec is attached to files.example.test, shop.example.test"}, nil},
		{"diff json", []string{"diff", "--allow-unattached", "--format", "json", "--spec", spec, demo}, exitOK,
			nil, []string{`"spec": "` + spec + `"`, `"services": []`, `"unchecked_services"`}},
		{"diff sarif", []string{"diff", "--allow-unattached", "--format", "sarif", "--spec", spec, demo}, exitOK,
			nil, []string{`"spec-unattached"`, `"toolConfigurationNotifications"`}},
		{"diff attached and unattached", []string{"diff", "--spec", declared, "--spec", spec, demo}, exitFatal,
			[]string{"shop-declared.yaml (servers http://shop.example.test) attached to shop.example.test", "1 spec(s) attached to no service"}, []string{"SHADOW"}},
		{"diff spec-host unseen", []string{"diff", "--spec-host", "nowhere.test=" + declared, demo}, exitFatal,
			[]string{"--spec-host nowhere.test", "attached to no service"}, nil},
		{"diff attached", []string{"diff", "--spec", declared, demo}, exitOK,
			[]string{"attached to shop.example.test"}, nil},
		{"diff empty directory", []string{"diff", "--spec", empty, demo}, exitFatal,
			[]string{empty, "no OpenAPI 3 or Swagger 2.0 document"}, nil},
		{"analyze unattached", []string{"analyze", "--spec", spec, demo}, exitFatal,
			[]string{spec, "attached to no service"}, nil},
		{"analyze json", []string{"analyze", "--json", "--allow-unattached", "--spec", spec, demo}, exitOK,
			nil, []string{`"specs"`, `"services": []`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := run(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstderr: %s", code, tt.code, errs)
			}
			for _, s := range tt.stderr {
				if !strings.Contains(errs, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errs)
				}
			}
			for _, s := range tt.stdout {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
		})
	}
}

// capture --spec: the live sink reports the attachments at Finish.
func TestSinkAttachments(t *testing.T) {
	spec := unattachedSpec(t, t.TempDir())
	var ctr counters
	v, err := openSink(context.Background(), sinkOptions{inf: &inferFlags{}, sf: &specFlags{specs: []string{spec}},
		keepModel: true, flushEvery: time.Hour, ctr: &ctr, stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		v.Emit(sinkExchange(i, ""))
	}
	if _, err := v.Finish(context.Background(), store.RunTotals{Complete: true}); err != nil {
		t.Fatal(err)
	}
	as, unchecked := v.Attachments()
	if len(as) != 1 || as[0].Attached() || strings.Join(unchecked, ",") != "api.test" {
		t.Fatalf("attachments %+v, unchecked %v", as, unchecked)
	}
	sf := &specFlags{}
	var b strings.Builder
	if err := sf.attachments(&b, as, unchecked); err == nil || !strings.Contains(err.Error(), spec) || !strings.Contains(err.Error(), "api.test") {
		t.Fatalf("err = %v", err)
	}
	sf.allowUnattached = true
	if err := sf.attachments(&b, as, unchecked); err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(captureSummary{Specs: as})
	var back struct{ Specs []diff.Attachment }
	if err := json.Unmarshal(js, &back); err != nil || len(back.Specs) != 1 {
		t.Fatalf("capture --json specs: %s", js)
	}
}

// diffJSON runs diff --format json, which must exit 0, and decodes its report.
func diffJSON(t *testing.T, args ...string) diff.Report {
	t.Helper()
	out, errs, code := run(t, append([]string{"diff", "--format", "json"}, args...)...)
	if code != exitOK {
		t.Fatalf("diff: exit %d: %s", code, errs)
	}
	var rep diff.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return rep
}

// analyze --json --spec carries the findings the table shows, in the
// structure of diff --format json.
func TestAnalyzeJSONFindings(t *testing.T) {
	declared := "../../testdata/shop-declared.yaml"
	want := diffJSON(t, "--spec", declared, demo)
	out, errs, code := run(t, "analyze", "--json", "--spec", declared, demo)
	if code != exitOK {
		t.Fatalf("analyze: exit %d: %s", code, errs)
	}
	var got struct {
		Exchanges any `json:"reassembly"`
		diff.Report
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(want.Findings) == 0 || got.Exchanges == nil {
		t.Fatalf("diff found nothing or the summary is missing:\n%s", out)
	}
	if len(got.Findings) != len(want.Findings) {
		t.Fatalf("analyze --json has %d findings, diff %d:\n%s", len(got.Findings), len(want.Findings), out)
	}
	for i := range want.Findings {
		if got.Findings[i].Fingerprint != want.Findings[i].Fingerprint || got.Findings[i].Count != want.Findings[i].Count {
			t.Errorf("finding %d: %+v, diff has %+v", i, got.Findings[i], want.Findings[i])
		}
	}
	if len(got.Specs) != 1 || !got.Specs[0].Attached() {
		t.Errorf("specs = %+v", got.Specs)
	}
	// Without --spec, no findings key at all.
	out, _, _ = run(t, "analyze", "--json", demo)
	if strings.Contains(out, `"findings"`) {
		t.Errorf("analyze --json without --spec has findings:\n%s", out)
	}
}

// diff --baseline says how many findings it suppressed.
func TestDiffBaselineCount(t *testing.T) {
	declared := "../../testdata/shop-declared.yaml"
	rep := diffJSON(t, "--spec", declared, demo)
	if len(rep.Findings) < 3 {
		t.Fatalf("%d findings", len(rep.Findings))
	}
	b, _ := json.Marshal(diff.Report{Findings: rep.Findings[:2]})
	base := filepath.Join(t.TempDir(), "known.json")
	if err := os.WriteFile(base, b, 0o644); err != nil {
		t.Fatal(err)
	}
	want := "2 findings suppressed by the baseline " + base
	out, errs, code := run(t, "diff", "--spec", declared, "--baseline", base, demo)
	if code != exitOK || !strings.Contains(out, want) || !strings.Contains(errs, want) {
		t.Errorf("table: exit %d\n%s\n%s", code, out, errs)
	}
	out, _, _ = run(t, "diff", "--spec", declared, "--baseline", base, "--format", "json", demo)
	var got diff.Report
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Baseline == nil || got.Baseline.Suppressed != 2 || len(got.Findings) != len(rep.Findings)-2 {
		t.Errorf("json: %v %+v", err, got.Baseline)
	}
}

// diff --db over an inventory whose template merges declared static routes
// (/api/ipam/{x}/{id}/, forced by the recorded config) reports as shadow
// only the concrete paths no operation declares, and names them.
func TestDiffDBOvermergedTemplate(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "s.db")
	cfg := infer.Config{Services: []infer.ServiceConfig{{Host: "nb.test", Templates: []string{"/api/ipam/{x}/{id}/"}}}}
	ctx := context.Background()
	db, err := store.Open(ctx, dbPath, store.Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	in, err := db.BeginRun(ctx, store.RunInfo{Interface: "test"}, store.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	i := 0
	for _, w := range []string{"prefixes", "vlans", "secrets"} {
		for id := 1; id <= 3; id++ {
			p := fmt.Sprintf("/api/ipam/%s/%d/", w, id)
			when := t0.Add(time.Duration(i) * time.Second)
			i++
			in.Observe(&reassembly.Exchange{
				Request:  &message.Request{Method: "GET", Target: p, Path: p, Proto: "HTTP/1.1", Authority: "nb.test", Header: http.Header{}, Start: when, End: when},
				Response: &message.Response{Proto: "HTTP/1.1", StatusCode: 200, Header: http.Header{}, Start: when, End: when},
			})
		}
	}
	if err := in.Finish(ctx, store.RunTotals{Complete: true}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	spec := filepath.Join(dir, "ipam.yaml")
	doc := "openapi: 3.0.3\ninfo: {title: ipam, version: '1'}\nservers: [{url: 'http://nb.test'}]\npaths:\n" +
		"  /api/ipam/prefixes/{id}/:\n    get:\n      responses: {'200': {description: ok}}\n" +
		"  /api/ipam/vlans/{id}/:\n    get:\n      responses: {'200': {description: ok}}\n"
	if err := os.WriteFile(spec, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := diffJSON(t, "--db", dbPath, "--spec", spec)
	var got []string
	for _, f := range rep.Findings {
		got = append(got, fmt.Sprintf("%s %s %s %d %v", f.Kind, f.Method, f.Path, f.Count, f.Paths))
	}
	want := "shadow GET /api/ipam/{x}/{id}/ 3 [/api/ipam/secrets/1/ /api/ipam/secrets/2/ /api/ipam/secrets/3/]"
	if strings.Join(got, "\n") != want {
		t.Fatalf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}

package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/specter-dev/specter/infer"
)

func TestExplain(t *testing.T) {
	eps, errs, code := run(t, "endpoints", "--json", demo)
	if code != exitOK {
		t.Fatalf("endpoints: exit %d: %s", code, errs)
	}
	var sums []infer.EndpointSummary
	if err := json.Unmarshal([]byte(eps), &sums); err != nil {
		t.Fatalf("endpoints JSON: %v", err)
	}
	// A concrete path of the capture under a parameter template, from
	// the exchanges themselves.
	xs, _, _ := run(t, "exchanges", demo)
	var path string
	for _, l := range strings.Split(xs, "\n") {
		var x struct {
			Request struct{ Method, Path string }
		}
		if json.Unmarshal([]byte(l), &x) == nil && x.Request.Method == "GET" && strings.Count(x.Request.Path, "/") == 4 &&
			strings.HasPrefix(x.Request.Path, "/api/v1/users/") && !strings.HasSuffix(x.Request.Path, "/me") {
			path, _, _ = strings.Cut(x.Request.Path, "?")
			break
		}
	}
	if path == "" {
		t.Fatal("no GET /api/v1/users/ID request in the demo capture")
	}
	out, errs, code := run(t, "explain", "--json", "GET", path, demo)
	if code != exitOK {
		t.Fatalf("explain: exit %d: %s", code, errs)
	}
	var got []infer.PathExplanation
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("explain JSON: %v\n%s", err, out)
	}
	if len(got) != 1 || got[0].Template != "/api/v1/users/{userId}" || len(got[0].Segments) != 4 {
		t.Fatalf("explain %s = %+v", path, got)
	}
	if s := got[0].Segments[3]; !s.Param || s.Rule == "" || s.Siblings < 2 {
		t.Errorf("last segment %+v", s)
	}
	// From a database, the same answer.
	db := filepath.Join(t.TempDir(), "s.db")
	if _, errs, code := run(t, "analyze", "--db", db, demo); code != exitOK {
		t.Fatalf("analyze --db: exit %d: %s", code, errs)
	}
	if fromDB, errs, code := run(t, "explain", "--db", db, "--json", "GET", path); code != exitOK || fromDB != out {
		t.Errorf("explain --db: exit %d (%s):\n%s\nwant\n%s", code, errs, fromDB, out)
	}
	text, _, code := run(t, "explain", "GET", "/api/v1/users/me", demo)
	if code != exitOK || !strings.Contains(text, "-> /api/v1/users/me") || !strings.Contains(text, "route-word") {
		t.Errorf("exit %d, text:\n%s", code, text)
	}
	for _, tc := range []struct {
		args []string
		code int
		hint string
	}{
		{[]string{"explain", "GET", "/never/seen", demo}, exitPartial, "no service observed"},
		{[]string{"explain", "GET", "/api/v1/users/{id}", demo}, exitFatal, "concrete path"},
		{[]string{"explain", "GET", "users", demo}, exitFatal, "must start with /"},
		{[]string{"explain", "GET", "/x"}, exitFatal, "capture files"},
		{[]string{"explain", "--db", db, "GET", "/x", demo}, exitFatal, "with --db"},
	} {
		out, errs, code := run(t, tc.args...)
		if code != tc.code || !strings.Contains(out+errs, tc.hint) {
			t.Errorf("%v: exit %d (want %d), output %q, want it to mention %q", tc.args, code, tc.code, out+errs, tc.hint)
		}
	}
}

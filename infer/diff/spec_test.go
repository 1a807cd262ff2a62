package diff

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadSpec(t *testing.T) {
	tests := []struct {
		file     string
		hosts    []string
		bases    []string
		ops      int
		wantErr  string // substring; the file name is always checked
		notSpec  bool
		lineOf   [2]string // method, path
		wantLine int
	}{
		{file: "pets.yaml", hosts: []string{"pets.test"}, bases: []string{"/api/v3"}, ops: 7, lineOf: [2]string{"GET", "/pets"}, wantLine: 9},
		{file: "store.swagger2.yaml", hosts: []string{"store.test"}, bases: []string{"/v1"}, ops: 2, lineOf: [2]string{"POST", "/orders"}, wantLine: 15},
		{file: "users.oas31.json", hosts: []string{"users.test"}, bases: []string{"/v1", "/v2"}, ops: 1, lineOf: [2]string{"GET", "/users/{id}"}, wantLine: 7},
		{file: "broken.yaml.txt", wantErr: "line 4"},
		{file: "common.yaml", notSpec: true},
		{file: "missing.yaml", wantErr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", tt.file)
			s, err := LoadSpec(path)
			if tt.notSpec {
				if !errors.Is(err, ErrNotSpec) {
					t.Fatalf("err = %v, want ErrNotSpec", err)
				}
				return
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.file) {
					t.Fatalf("err = %v, want one naming %s and %q", err, tt.file, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(s.Hosts, ",") != strings.Join(tt.hosts, ",") {
				t.Errorf("hosts = %v, want %v", s.Hosts, tt.hosts)
			}
			if strings.Join(s.Bases, ",") != strings.Join(tt.bases, ",") {
				t.Errorf("bases = %v, want %v", s.Bases, tt.bases)
			}
			n := 0
			for _, p := range s.Doc.Paths.InMatchingOrder() {
				n += len(s.Doc.Paths.Value(p).Operations())
			}
			if n != tt.ops {
				t.Errorf("operations = %d, want %d", n, tt.ops)
			}
			if got := s.Line(tt.lineOf[0], tt.lineOf[1]); got != tt.wantLine {
				t.Errorf("Line(%s %s) = %d, want %d", tt.lineOf[0], tt.lineOf[1], got, tt.wantLine)
			}
		})
	}
}

func TestLoadSpecsDirectory(t *testing.T) {
	specs, err := LoadSpecs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, s := range specs {
		files = append(files, filepath.Base(s.File))
	}
	// common.yaml (a $ref target, not a spec) and broken.yaml.txt are
	// skipped; multi.yaml is two specs (path-level servers).
	if got, want := strings.Join(files, ","), "multi.yaml,multi.yaml,pets.yaml,store.swagger2.yaml,users.oas31.json"; got != want {
		t.Fatalf("loaded %s, want %s", got, want)
	}
	// The $ref across files is resolved.
	pet := specs[2].Doc.Paths.Value("/pets").Post.RequestBody.Value.Content.Get("application/json").Schema.Value
	if pet == nil || len(pet.Required) != 1 || pet.Required[0] != "name" {
		t.Fatalf("Pet schema not resolved: %+v", pet)
	}
}

func TestParseSpecHost(t *testing.T) {
	tests := []struct{ in, host, file string }{
		{"API.test:80=a.yaml", "api.test", "a.yaml"},
		{"h:8080=dir/b.json", "h:8080", "dir/b.json"},
		{"noequals", "", ""},
		{"=a.yaml", "", ""},
	}
	for _, tt := range tests {
		h, f, err := ParseSpecHost(tt.in)
		if (err != nil) != (tt.host == "") || h != tt.host || f != tt.file {
			t.Errorf("ParseSpecHost(%q) = %q, %q, %v", tt.in, h, f, err)
		}
	}
}

func TestLoadSpecRemoteRefRefused(t *testing.T) {
	p := filepath.Join(t.TempDir(), "remote.yaml")
	doc := "openapi: 3.0.3\ninfo: {title: r, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        '200': {$ref: 'http://127.0.0.1:1/x.yaml#/r'}\n"
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSpec(p); err == nil || !strings.Contains(err.Error(), "local files") {
		t.Fatalf("err = %v, want a refusal of the remote $ref", err)
	}
}

// Path-level servers (several services in one document, as specter export
// writes) attach each path to its own service.
func TestSplitPathServers(t *testing.T) {
	s, err := LoadSpec(filepath.Join("testdata", "multi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	views := s.Split()
	if len(views) != 2 {
		t.Fatalf("%d views, want 2", len(views))
	}
	c := NewChecker(views, Options{})
	c.Check(exch(0, "a.test", "GET", "/api/orders/1", "", "", 200, "", ""))
	c.Check(exch(1, "b.test", "GET", "/v2/items", "", "", 200, "", ""))
	c.Check(exch(2, "b.test", "GET", "/api/orders/1", "", "", 200, "", ""))
	got := summarize(c.Findings())
	want := []string{"shadow undeclared-path GET /api/orders/{} 1"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(pets(t).Split()) != 1 {
		t.Error("a spec without path-level servers was split")
	}
}

func pets(t *testing.T) *Spec { return mustSpec(t, "pets.yaml") }

// Swagger 2.0 YAML may key responses by unquoted status codes, which YAML
// reads as integers: the conversion to JSON must take them as strings.
func TestLoadSwagger2NonStringKeys(t *testing.T) {
	head := "swagger: '2.0'\ninfo: {title: t, version: '1'}\nhost: s.test\nbasePath: /v1\npaths:\n  /items/{id}:\n    get:\n      parameters:\n        - {name: id, in: path, required: true, type: integer}\n      responses:\n"
	tests := []struct {
		name, responses string
		codes           []string
	}{
		{"unquoted", "        200: {description: ok}\n        404: {description: missing}\n", []string{"200", "404"}},
		{"quoted", "        '200': {description: ok}\n", []string{"200"}},
		{"mixed with default", "        200: {description: ok}\n        default: {description: error}\n", []string{"200", "default"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "s.swagger2.yaml")
			if err := os.WriteFile(p, []byte(head+tt.responses), 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := LoadSpec(p)
			if err != nil {
				t.Fatal(err)
			}
			op := s.Doc.Paths.Value("/items/{id}").Get
			for _, c := range tt.codes {
				if op.Responses.Value(c) == nil {
					t.Errorf("response %s missing (have %v)", c, op.Responses.Map())
				}
			}
			if got := strings.Join(s.Hosts, ","); got != "s.test" {
				t.Errorf("hosts = %s", got)
			}
		})
	}
}

// Every public spec of the shared corpus loads; all failures are listed.
func TestLoadSharedCorpusSpecs(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "corpus", "specs")
	files, err := SpecFiles(dir)
	if err != nil {
		t.Skipf("shared spec corpus absent (%v)", err)
	}
	var failed []string
	n := 0
	for _, f := range files {
		s, err := LoadSpec(f)
		if errors.Is(err, ErrNotSpec) {
			continue
		}
		if err != nil {
			failed = append(failed, err.Error())
			continue
		}
		if len(s.Paths()) == 0 {
			failed = append(failed, f+": no paths loaded")
		}
		n++
	}
	if len(failed) > 0 {
		t.Fatalf("%d of %d specs failed to load:\n%s", len(failed), len(failed)+n, strings.Join(failed, "\n"))
	}
	if n == 0 {
		t.Skip("no specs in the shared corpus")
	}
	t.Logf("%d specs loaded", n)
}

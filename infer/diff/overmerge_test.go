package diff

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/template"
)

// ipamSpec declares two static routes under /api/ipam, one deprecated.
func ipamSpec(t *testing.T) *Spec {
	t.Helper()
	doc := `openapi: 3.0.3
info: {title: ipam, version: '1'}
servers: [{url: 'http://nb.test'}]
paths:
  /api/ipam/prefixes/{id}/:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses: {'200': {description: ok}}
  /api/ipam/vlans/{id}/:
    get:
      deprecated: true
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses: {'200': {description: ok}}
  /api/ipam/vrfs/{id}/:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses: {'200': {description: ok}}
`
	p := filepath.Join(t.TempDir(), "ipam.yaml")
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSpec(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// An inferred template that merges declared static routes
// (/api/ipam/{x}/{id}/ over /api/ipam/prefixes/{id}/ and
// /api/ipam/vlans/{id}/) is not shadow as a whole: each concrete path
// observed under it is matched, and only those no operation declares are
// shadow, named in the finding.
func TestInventoryOvermergedTemplate(t *testing.T) {
	forced := infer.Config{Services: []infer.ServiceConfig{{Host: "nb.test", Templates: []string{"/api/ipam/{x}/{id}/"}}}}
	tests := []struct {
		name   string
		cfg    infer.Config
		routes []string // route words under /api/ipam, each called with 3 ids
		want   []string // findings: kind rule method path count [paths]
	}{
		{"declared routes only", forced, []string{"prefixes", "vlans"}, []string{
			"unused no-traffic GET /api/ipam/vrfs/{id}/ 0 []",
			"zombie deprecated GET /api/ipam/vlans/{id}/ 3 []",
		}},
		{"one undeclared route among them", forced, []string{"prefixes", "vlans", "secrets"}, []string{
			"shadow undeclared-path GET /api/ipam/{x}/{id}/ 3 [/api/ipam/secrets/1/ /api/ipam/secrets/2/ /api/ipam/secrets/3/]",
			"unused no-traffic GET /api/ipam/vrfs/{id}/ 0 []",
			"zombie deprecated GET /api/ipam/vlans/{id}/ 3 []",
		}},
		{"undeclared only", forced, []string{"secrets", "tokens"}, []string{
			"shadow undeclared-path GET /api/ipam/{x}/{id}/ 6 [/api/ipam/secrets/1/ /api/ipam/secrets/2/ /api/ipam/secrets/3/ /api/ipam/tokens/1/ /api/ipam/tokens/2/ /api/ipam/tokens/3/]",
			"unused no-traffic GET /api/ipam/prefixes/{id}/ 0 []",
			"unused no-traffic GET /api/ipam/vrfs/{id}/ 0 []",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := infer.NewModel(tt.cfg)
			i := 0
			for _, w := range tt.routes {
				for id := 1; id <= 3; id++ {
					m.Observe(exch(i, "nb.test", "GET", fmt.Sprintf("/api/ipam/%s/%d/", w, id), "", "", 200, "", ""))
					i++
				}
			}
			var tmpls []string
			for _, e := range m.Endpoints() {
				tmpls = append(tmpls, e.Template)
			}
			if strings.Join(tmpls, " ") != "/api/ipam/{x}/{id}/" {
				t.Fatalf("the model did not over-merge: %v", tmpls)
			}
			var got []string
			for _, f := range Inventory(m, []*Spec{ipamSpec(t)}) {
				got = append(got, fmt.Sprintf("%s %s %s %s %d %v", f.Kind, f.Rule, f.Method, f.Path, f.Count, f.Paths))
			}
			sort.Strings(got)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// Past the trie's limits values fold by shape: a folded route word is a
// parameter, so the paths under it stay shadow (nothing is known to match),
// while the routes kept apart match.
func TestInventoryFoldedPaths(t *testing.T) {
	cfg := infer.Config{Limits: infer.Limits{Trie: template.Limits{MaxChildren: 1}}}
	m := infer.NewModel(cfg)
	i := 0
	for _, w := range []string{"prefixes", "vrfs", "secrets", "tokens"} {
		for id := 1; id <= 3; id++ {
			m.Observe(exch(i, "nb.test", "GET", fmt.Sprintf("/api/ipam/%s/%d/", w, id), "", "", 200, "", ""))
			i++
		}
	}
	var shadowCount uint64
	for _, f := range Inventory(m, []*Spec{ipamSpec(t)}) {
		if f.Kind == KindShadow {
			shadowCount += f.Count
			for _, p := range f.Paths {
				if strings.Contains(p, "/prefixes/") || strings.Contains(p, "/vrfs/") {
					t.Errorf("declared path %s reported shadow", p)
				}
			}
		}
		if f.Kind == KindUnused && (f.Path == "/api/ipam/prefixes/{id}/" || f.Path == "/api/ipam/vrfs/{id}/") {
			t.Errorf("called operation reported unused: %s", f.Path)
		}
	}
	if shadowCount != 6 {
		t.Errorf("shadow exchanges %d, want 6 (secrets and tokens)", shadowCount)
	}
}

// The concrete paths are named in the table and in SARIF.
func TestPathsShown(t *testing.T) {
	f := *newFinding(KindShadow, RuleUndeclaredPath, "nb.test", "GET", "/api/ipam/{x}/{id}/")
	f.Reason = "no declared spec for this service has the path"
	for i := range maxNamedPaths + 2 {
		f.addPath(fmt.Sprintf("/api/ipam/secrets/%02d/", i))
	}
	for _, format := range []string{"table", "markdown", "sarif"} {
		var b strings.Builder
		if err := Write(&b, []Finding{f}, format, ""); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "/api/ipam/secrets/00/") || !strings.Contains(b.String(), "/api/ipam/secrets/15/") || !strings.Contains(b.String(), "and 2 more") {
			t.Errorf("%s does not name the paths:\n%s", format, b.String())
		}
	}
}

// Live, requests routed to declared paths without their method and
// templated over the paths' static segments are shadow methods of each
// declared path, not one shadow endpoint under the merged template.
func TestCheckerOvermergedMethods(t *testing.T) {
	forced := infer.Config{Services: []infer.ServiceConfig{{Host: "nb.test", Templates: []string{"/api/ipam/{x}/{id}/"}}}}
	c := NewChecker([]*Spec{ipamSpec(t)}, Options{Model: forced})
	i := 0
	for _, w := range []string{"prefixes", "vlans", "vlans"} {
		i++
		c.Check(exch(i, "nb.test", "DELETE", fmt.Sprintf("/api/ipam/%s/%d/", w, i), "", "", 204, "", ""))
	}
	c.Check(exch(9, "nb.test", "DELETE", "/api/ipam/secrets/1/", "", "", 204, "", ""))
	var got []string
	for _, f := range c.Findings() {
		if f.Kind == KindShadow {
			got = append(got, fmt.Sprintf("%s %s %s %d %v %v", f.Rule, f.Method, f.Path, f.Count, f.Paths, f.Example != nil))
		}
	}
	want := []string{
		"undeclared-method DELETE /api/ipam/prefixes/{id}/ 1 [] true",
		"undeclared-method DELETE /api/ipam/vlans/{id}/ 2 [] true",
		"undeclared-path DELETE /api/ipam/{x}/{id}/ 1 [] true", // the shadow model has the forced template too
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("shadow findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

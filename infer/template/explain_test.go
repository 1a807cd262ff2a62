package template

import (
	"strings"
	"testing"
)

func TestExplain(t *testing.T) {
	ids := seq("GET /users/%s", "1", "42", "977", "13")
	tests := []struct {
		name  string
		in    []string
		opts  Options
		path  string
		tmpl  string
		rules []string // per segment
	}{
		{"id shape", ids, Options{}, "/users/42", "/users/{userId}", []string{RuleWord, RuleShape}},
		{"me beside ids", cat([]string{"GET /users/me x5"}, ids), Options{}, "/users/me", "/users/me", []string{RuleWord, RuleWord}},
		{"configured static", ids, Options{Static: []string{"977"}}, "/users/977", "/users/977", []string{RuleWord, RuleConfigured}},
		{"prior", ids, Options{Priors: []string{"/users/{id}"}}, "/users/13", "/users/{id}", []string{RulePrior, RulePrior}},
		{"not observed", ids, Options{}, "/orders/7", "", []string{RuleUnobserved, RuleUnobserved}},
		{"version prefix", []string{"GET /v1/teams", "GET /v1/teams/tm_Ab12Cd34Ef"}, Options{}, "/v1/teams/tm_Ab12Cd34Ef",
			"/v1/teams/{teamId}", []string{RuleVersion, RuleWord, RuleShape}},
		{"lone name stays static", []string{"GET /auth/token_from_oauth1 x2", "GET /auth/login"}, Options{}, "/auth/token_from_oauth1",
			"/auth/token_from_oauth1", []string{RuleWord, RuleLoneName}},
		{"numbered names", seq("GET /clusters/%s/nodes", "c1", "c2", "c7", "c10"), Options{}, "/clusters/c2/nodes",
			"/clusters/{clusterName}/nodes", []string{RuleWord, RuleNumbered, RuleWord}},
		{"verb suffix", seq("POST /keys/%s", "key_Q7w2Er9TyU:disable", "key_8sJd2KqLmN:disable"), Options{}, "/keys/key_Q7w2Er9TyU:disable",
			"/keys/{keyId}:disable", []string{RuleWord, RuleShape}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, ex := build(t, tc.in).Explain(tc.opts, tc.path)
			if tmpl != tc.tmpl {
				t.Errorf("template %q, want %q", tmpl, tc.tmpl)
			}
			if len(ex) != len(tc.rules) {
				t.Fatalf("%d explanations, want %d: %+v", len(ex), len(tc.rules), ex)
			}
			for i, e := range ex {
				if e.Rule != tc.rules[i] || e.Why == "" {
					t.Errorf("segment %d (%q): rule %q (%q), want %q", i, e.Value, e.Rule, e.Why, tc.rules[i])
				}
				if tc.tmpl != "" && tc.rules[i] != RulePrior && e.Param != strings.HasPrefix(e.Segment, "{") {
					t.Errorf("segment %d: param %v but segment %q", i, e.Param, e.Segment)
				}
			}
		})
	}
}

// TestExplainAgrees: for every path of every decision case, Explain gives
// the template Endpoints gives that path, segment by segment.
func TestExplainAgrees(t *testing.T) {
	for _, tc := range endpointCases {
		tr := build(t, tc.in)
		eps := tr.Endpoints(tc.opts)
		for _, l := range expand(tc.in) {
			method, path, _ := strings.Cut(l, " ")
			tmpl, ex := tr.Explain(tc.opts, path)
			found := false
			for _, e := range eps {
				if e.Path == tmpl && len(e.Ops[method]) > 0 {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: %s %s explained as %q, which Endpoints does not give it", tc.name, method, path, tmpl)
			}
			if got := len(ex); got != len(SplitPath(path)) {
				t.Errorf("%s: %s: %d explanations for %d segments", tc.name, path, got, len(SplitPath(path)))
			}
			for i, e := range ex {
				if e.Rule == "" || e.Why == "" {
					t.Errorf("%s: %s: segment %d has no rule: %+v", tc.name, path, i, e)
				}
			}
		}
	}
}

func BenchmarkExplain(b *testing.B) {
	lines := cat(seq("GET /users/%s/repos", "alice42", "bob_x7", "carol-99", "dave2024", "erin77"),
		seq("GET /users/%s", "1", "42", "977", "13", "5120", "88"), []string{"GET /users/me x5"})
	tr := build(b, lines)
	b.ReportAllocs()
	for b.Loop() {
		tr.Explain(Options{}, "/users/alice42/repos")
	}
}

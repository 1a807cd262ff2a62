package template

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzTemplate inserts arbitrary paths (separated by newlines, each
// optionally prefixed by a method and a space) and checks that templating
// never panics, is deterministic, does not depend on insertion order, and
// survives a JSON round trip and a merge.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{
		"GET /users/me\nGET /users/42\nGET /users/43",
		"/a/b/c\n/a/b/d\n/a/x/c",
		"GET /2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef.json",
		"GET /c/dev-1/12.json\nGET /c/meta-2/13.json",
		"/\n//\n/a//b/\n/%7Bx%7D/{y}",
		"PUT /admin/backups/ops-959.md\nPUT /admin/backups/x-1.json",
		"/1/metadata/auto/a-1.txt\n/1/search/auto/b-2.txt\n/1/search/sandbox/c-3.md",
		"POST /keys/key_Q7w2Er9TyU:disable\nGET /keys/key_8sJd2KqLmN\nGET /a/ann%40example.com\nGET /c/c1/n\nGET /c/c2/n\nGET /c/c10/n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		lines := strings.Split(in, "\n")
		if len(lines) > 200 {
			lines = lines[:200]
		}
		ins := func(tr *Trie, ls []string) {
			for _, l := range ls {
				m, p, ok := strings.Cut(l, " ")
				if !ok {
					m, p = "GET", l
				}
				// Methods are the caller's keys; infer sanitizes them.
				m = strings.ToValidUTF8(m, "?")
				n := tr.Insert(SplitPath(p))
				if n.Ops == nil {
					n.Ops = map[string]int{}
				}
				if _, ok := n.Ops[m]; !ok {
					n.Ops[m] = len(n.Ops)
				}
			}
		}
		lim := Limits{MaxChildren: 4, MaxNodes: 300, MaxDepth: 6, MaxSegment: 40}
		a := NewTrie(lim)
		ins(a, lines)
		got := describe(a.Endpoints(Options{}))
		if again := describe(a.Endpoints(Options{})); strings.Join(got, "\n") != strings.Join(again, "\n") {
			t.Fatalf("not deterministic:\n%v\n%v", got, again)
		}
		for _, e := range a.Endpoints(Options{Priors: []string{"/{a}/{b}", "/x"}, Static: []string{"me"}}) {
			if !strings.HasPrefix(e.Path, "/") {
				t.Fatalf("template %q does not start with /", e.Path)
			}
		}
		// Explain agrees with Endpoints on every observed path.
		paths := map[string]bool{}
		for _, e := range a.Endpoints(Options{}) {
			paths[e.Path] = true
		}
		for _, l := range lines {
			_, p, ok := strings.Cut(l, " ")
			if !ok {
				p = l
			}
			tmpl, ex := a.Explain(Options{}, p)
			if tmpl == "" || len(ex) == 0 {
				t.Fatalf("Explain(%q) = %q, %v for an observed path", p, tmpl, ex)
			}
			if !paths[tmpl] {
				t.Fatalf("Explain(%q) = %q, not one of the endpoints %v", p, tmpl, got)
			}
		}
		// JSON round trip keeps the decisions.
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		var c Trie
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		if rt := describe(c.Endpoints(Options{})); strings.Join(got, "\n") != strings.Join(rt, "\n") {
			t.Fatalf("JSON round trip changed templates:\n%v\n%v", got, rt)
		}
		// Without hitting limits, insertion order and merging do not matter.
		if a.Stats.Folded == 0 && a.Stats.DeepPaths == 0 && a.Stats.Nodes < lim.MaxNodes {
			rev := make([]string, len(lines))
			for i, l := range lines {
				rev[len(lines)-1-i] = l
			}
			r := NewTrie(lim)
			ins(r, rev)
			// The other order may hit the limits where this one did not
			// (a variable value arriving after MaxChildren words).
			if got2 := describe(r.Endpoints(Options{})); r.Stats.Folded == 0 && strings.Join(got, "\n") != strings.Join(got2, "\n") {
				t.Fatalf("depends on insertion order:\n%v\n%v", got, got2)
			}
			h1, h2 := NewTrie(lim), NewTrie(lim)
			ins(h1, lines[:len(lines)/2])
			ins(h2, lines[len(lines)/2:])
			h1.Merge(h2, func(method string, dst, src int) (int, bool) {
				if dst < 0 {
					return src, true
				}
				return dst, true
			})
			if got3 := describe(h1.Endpoints(Options{})); h1.Stats.Folded == 0 && strings.Join(got, "\n") != strings.Join(got3, "\n") {
				t.Fatalf("merge differs:\n%v\n%v", got, got3)
			}
		}
	})
}

// FuzzSplitVerb: the stem and verb always rebuild the segment; a verb is
// ':' and letters after a value-shaped stem.
func FuzzSplitVerb(f *testing.F) {
	for _, s := range []string{"key_8sJd2KqLmN:disable", "42:cancel", "a:b", ":x", "nginx:latest", "1:2:go"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		stem, verb := SplitVerb(s)
		if stem+verb != s {
			t.Fatalf("SplitVerb(%q) = %q + %q", s, stem, verb)
		}
		if verb != "" && (verb[0] != ':' || !Classify(stem).Variable()) {
			t.Fatalf("SplitVerb(%q): verb %q after stem %q (%v)", s, verb, stem, Classify(stem))
		}
	})
}

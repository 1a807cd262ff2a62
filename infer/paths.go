package infer

import (
	"sort"
	"strings"
	"time"

	"github.com/specter-dev/specter/infer/template"
)

// EndpointKey names one operation of Endpoints: service, method and
// template.
type EndpointKey struct {
	Service, Method, Template string
}

// ObservedPath is one concrete request path the trie kept under an
// endpoint, with the exchanges of that path.
type ObservedPath struct {
	// Path is the request path as observed. A segment the trie folded past
	// its limits (Limits.Trie) kept only its shape and is rendered as a
	// parameter, "{integer}" or "{uuid}.json" ("{*}" past the shapes);
	// Folded says so.
	Path      string
	Folded    bool
	Count     uint64
	FirstSeen time.Time
	LastSeen  time.Time
}

// ObservedPaths returns, for every operation of Endpoints, the concrete
// paths observed under its template, sorted. They are the evidence behind
// a template: a consumer that must not trust the merge (a template
// covering several declared static routes) can look at each path. Their
// number is bounded by the trie's limits.
func (m *Model) ObservedPaths() map[EndpointKey][]ObservedPath {
	out := map[EndpointKey][]ObservedPath{}
	for _, name := range m.Services() {
		svc := m.ByName[name]
		if svc.Trie == nil {
			continue
		}
		byID := map[int]ObservedPath{}
		walkPaths(svc.Trie.Root, nil, false, 0, func(segs []string, folded bool, n *template.Node) {
			p := "/" + strings.Join(segs, "/")
			for _, id := range n.Ops {
				if id >= 0 && id < len(svc.Ops) {
					op := svc.Ops[id]
					byID[id] = ObservedPath{Path: p, Folded: folded, Count: op.Count, FirstSeen: op.FirstSeen, LastSeen: op.LastSeen}
				}
			}
		})
		for _, ep := range m.endpoints(svc) {
			for meth, ids := range ep.tmpl.Ops {
				k := EndpointKey{name, meth, ep.tmpl.Path}
				for _, id := range ids {
					if p, ok := byID[id]; ok {
						out[k] = append(out[k], p)
					}
				}
				sort.Slice(out[k], func(i, j int) bool { return out[k][i].Path < out[k][j].Path })
			}
		}
	}
	return out
}

// walkPaths calls fn for every node of the trie with its path from the
// root. The trie's depth is bounded by Limits.MaxDepth (and a guard here).
func walkPaths(n *template.Node, segs []string, folded bool, depth int, fn func([]string, bool, *template.Node)) {
	if n == nil || depth > 256 {
		return
	}
	if len(n.Ops) > 0 {
		fn(segs, folded, n)
	}
	for s, c := range n.Children {
		walkPaths(c, append(segs[:len(segs):len(segs)], s), folded, depth+1, fn)
	}
	for k, c := range n.Overflow {
		walkPaths(c, append(segs[:len(segs):len(segs)], foldedSegment(k)), true, depth+1, fn)
	}
}

// foldedSegment renders an overflow key ("integer", "uuid.json", "*") as
// a parameter segment.
func foldedSegment(key string) string {
	shape, ext, _ := strings.Cut(key, ".")
	if ext != "" {
		ext = "." + ext
	}
	return "{" + shape + "}" + ext
}

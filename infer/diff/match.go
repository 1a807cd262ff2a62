package diff

import (
	"net/url"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// The matcher is a small segment trie rather than kin-openapi's
// routers/gorillamux: that router matches the scheme and host of the
// servers (we attach specs to services by Host header or --spec-host, and
// the wire carries no scheme), cannot tell "no such path" from "path
// without this method" once several specs share a service, and compiles a
// regular expression per route. The trie does what a real router does —
// a static segment wins over a parameter, parameters are tried in order of
// their literal text, with backtracking — and returns the declared template.

// node is one segment position of a spec's paths.
type node struct {
	static map[string]*node
	params []*paramEdge
	// path is the declared path (as written under paths) ending here,
	// names its parameters in order: edges are shared by paths whose
	// parameters are named differently (/a/{id}, /a/{aid}/b).
	path  string
	names []string
	item  *openapi3.PathItem
	// fulls caches base+path and its segments per base path.
	fulls map[string]fullPath
}

type fullPath struct {
	tmpl string
	segs []string
}

// full returns base+path, computed once per base.
func (n *node) full(base string) string { return n.fullPath(base).tmpl }

func (n *node) fullPath(base string) fullPath {
	if f, ok := n.fulls[base]; ok {
		return f
	}
	t := joinBase(base, n.path)
	f := fullPath{t, splitPath(t)}
	if n.fulls == nil {
		n.fulls = map[string]fullPath{}
	}
	if len(n.fulls) < 16 {
		n.fulls[base] = f
	}
	return f
}

// paramEdge is a segment with parameters: literal pieces around names,
// such as "{id}" or "{name}.json".
type paramEdge struct {
	lits  []string // len(names)+1 literal pieces
	names []string
	next  *node
}

// newTrie indexes paths of doc (all when paths is nil).
func newTrie(doc *openapi3.T, paths []string) *node {
	root := &node{}
	if doc == nil || doc.Paths == nil {
		return root
	}
	if paths == nil {
		paths = doc.Paths.InMatchingOrder()
	}
	for _, p := range paths {
		item := doc.Paths.Value(p)
		if item == nil {
			continue
		}
		n := root
		for _, seg := range splitPath(p) {
			n = n.child(seg)
		}
		if n.item == nil {
			n.path, n.item = p, item
			for _, seg := range splitPath(p) {
				if strings.Contains(seg, "{") {
					n.names = append(n.names, parseParamSeg(seg).names...)
				}
			}
		}
	}
	root.sort()
	return root
}

func (n *node) child(seg string) *node {
	if !strings.Contains(seg, "{") {
		if n.static == nil {
			n.static = map[string]*node{}
		}
		c := n.static[seg]
		if c == nil {
			c = &node{}
			n.static[seg] = c
		}
		return c
	}
	e := parseParamSeg(seg)
	for _, p := range n.params {
		if equalStrings(p.lits, e.lits) {
			return p.next
		}
	}
	e.next = &node{}
	n.params = append(n.params, e)
	return e.next
}

// sort orders parameter edges so the most literal text is tried first
// ("{id}.json" before "{id}").
func (n *node) sort() {
	sort.SliceStable(n.params, func(i, j int) bool {
		return litLen(n.params[i].lits) > litLen(n.params[j].lits)
	})
	for _, c := range n.static {
		c.sort()
	}
	for _, p := range n.params {
		p.next.sort()
	}
}

func litLen(l []string) int {
	n := 0
	for _, s := range l {
		n += len(s)
	}
	return n
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func parseParamSeg(seg string) *paramEdge {
	e := &paramEdge{}
	rest := seg
	for {
		i := strings.IndexByte(rest, '{')
		j := strings.IndexByte(rest, '}')
		if i < 0 || j < i {
			e.lits = append(e.lits, rest)
			return e
		}
		e.lits = append(e.lits, rest[:i])
		e.names = append(e.names, rest[i+1:j])
		rest = rest[j+1:]
	}
}

// match binds a concrete segment to the edge's parameters, appending their
// values to vals when it is not nil.
func (e *paramEdge) match(seg string, vals *[]string) bool {
	if !strings.HasPrefix(seg, e.lits[0]) {
		return false
	}
	rest := seg[len(e.lits[0]):]
	for i := range e.names {
		lit := e.lits[i+1]
		var val string
		if i == len(e.names)-1 {
			if !strings.HasSuffix(rest, lit) || len(rest) <= len(lit) {
				return false
			}
			val, rest = rest[:len(rest)-len(lit)], ""
		} else {
			if lit == "" {
				return false // two adjacent parameters: ambiguous, never matches
			}
			k := strings.Index(rest[min(1, len(rest)):], lit)
			if k < 0 {
				return false
			}
			k++
			val, rest = rest[:k], rest[k+len(lit):]
		}
		if val == "" || strings.Contains(val, "/") {
			return false
		}
		if vals != nil {
			if u, err := url.PathUnescape(val); err == nil {
				val = u
			}
			*vals = append(*vals, val)
		}
	}
	return true
}

// splitPath splits "/a/b/" into ["a", "b"]: a trailing slash is ignored
// and "/" has no segments.
func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// lookup finds the declared path matching segs, preferring static segments,
// and appends the path parameters' values to vals (in path order).
func (n *node) lookup(segs []string, vals *[]string) *node {
	if len(segs) == 0 {
		if n.item != nil {
			return n
		}
		return nil
	}
	if c := n.static[segs[0]]; c != nil {
		if r := c.lookup(segs[1:], vals); r != nil {
			return r
		}
	}
	for _, e := range n.params {
		mark := len(*vals)
		if !e.match(segs[0], vals) {
			*vals = (*vals)[:mark]
			continue
		}
		if r := e.next.lookup(segs[1:], vals); r != nil {
			return r
		}
		*vals = (*vals)[:mark]
	}
	return nil
}

// Route is a request path matched to a spec.
type Route struct {
	Spec *Spec
	// Base is the server base path that was stripped.
	Base string
	// Path is the declared path (without base); Template is Base+Path.
	Path, Template string
	Item           *openapi3.PathItem
	// Op is nil when the path is declared but not the method.
	Op     *openapi3.Operation
	Method string
	Params map[string]string

	segs []string // the request path's segments
	n    *node    // the declared path's trie node
}

// Match finds the declared operation for method and path (the raw request
// path, base path included) among specs, which are all attached to the
// request's service. It returns nil when no spec declares the path; a Route
// with a nil Op when the path is declared without this method.
func Match(specs []*Spec, method, path string) *Route {
	return matchInto(specs, method, path, &matchBuf{})
}

// matchBuf holds what matching needs, reused across calls by a Checker so
// that routing allocates only the path parameters' map.
type matchBuf struct {
	segs, vals       []string
	route, pathRoute Route
}

// matchInto is Match with the result in buf (valid until its next use).
func matchInto(specs []*Spec, method, path string, buf *matchBuf) *Route {
	var pathOnly *Route
	buf.segs = splitInto(buf.segs[:0], path)
	segs := buf.segs
	for _, s := range specs {
		for _, b := range s.Bases {
			bsegs := s.baseSegs(b)
			if len(bsegs) > len(segs) || !equalStrings(bsegs, segs[:len(bsegs)]) {
				continue
			}
			buf.vals = buf.vals[:0]
			n := s.trie.lookup(segs[len(bsegs):], &buf.vals)
			if n == nil {
				continue
			}
			op := n.item.GetOperation(method)
			if op == nil && pathOnly != nil {
				continue
			}
			var params map[string]string
			if len(buf.vals) > 0 {
				params = make(map[string]string, len(buf.vals))
				for i, v := range buf.vals {
					if i < len(n.names) {
						params[n.names[i]] = v
					}
				}
			}
			r := &buf.route
			if op == nil {
				r = &buf.pathRoute
			}
			*r = Route{Spec: s, Base: b, Path: n.path, Template: n.full(b), Item: n.item, Method: method, Params: params, Op: op, segs: segs, n: n}
			if op != nil {
				return r
			}
			pathOnly = r
		}
	}
	return pathOnly
}

// splitInto is splitPath appending to dst.
func splitInto(dst []string, p string) []string {
	p = strings.Trim(p, "/")
	for p != "" {
		i := strings.IndexByte(p, '/')
		if i < 0 {
			return append(dst, p)
		}
		dst = append(dst, p[:i])
		p = p[i+1:]
	}
	return dst
}

// matchTemplate matches an inferred template ("/pet/{id}") against specs:
// an inferred parameter matches only a declared parameter, a literal
// matches a literal or a parameter.
//
// With strict, a literal matches only a literal: the traffic under it was
// not a variable, so a declared parameter there is another path.
func matchTemplate(specs []*Spec, method, tmpl string, strict bool) *Route {
	var pathOnly *Route
	segs := splitPath(tmpl)
	for _, s := range specs {
		for _, b := range s.Bases {
			bsegs := splitPath(b)
			if len(bsegs) > len(segs) || !equalStrings(bsegs, segs[:len(bsegs)]) {
				continue
			}
			n := s.trie.lookupTemplate(segs[len(bsegs):], strict)
			if n == nil {
				continue
			}
			r := &Route{Spec: s, Base: b, Path: n.path, Template: joinBase(b, n.path), Item: n.item, Method: method}
			if op := n.item.GetOperation(method); op != nil {
				r.Op = op
				return r
			}
			if pathOnly == nil {
				pathOnly = r
			}
		}
	}
	return pathOnly
}

func (n *node) lookupTemplate(segs []string, strict bool) *node {
	if len(segs) == 0 {
		if n.item != nil {
			return n
		}
		return nil
	}
	seg := segs[0]
	if !strings.Contains(seg, "{") {
		return templateLiteral(n, segs, strict)
	}
	// An inferred parameter covers any value: only a declared parameter
	// edge with the same literal pieces (usually just "{x}") covers it.
	in := parseParamSeg(seg)
	for _, e := range n.params {
		if equalStrings(e.lits, in.lits) {
			if r := e.next.lookupTemplate(segs[1:], strict); r != nil {
				return r
			}
		}
	}
	return nil
}

// templateLiteral continues a template lookup at a literal segment,
// trying the static child first, then parameter edges.
func templateLiteral(parent *node, segs []string, strict bool) *node {
	if c := parent.static[segs[0]]; c != nil {
		if r := c.lookupTemplate(segs[1:], strict); r != nil {
			return r
		}
	}
	if strict {
		return nil
	}
	for _, e := range parent.params {
		if e.match(segs[0], nil) {
			if r := e.next.lookupTemplate(segs[1:], strict); r != nil {
				return r
			}
		}
	}
	return nil
}

func joinBase(base, p string) string {
	if base == "" {
		return p
	}
	if p == "" {
		return base
	}
	return base + p
}

package template

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Options steer the decisions.
type Options struct {
	// Priors are declared templates ("/users/{id}", "/c/{slug}/{id}.json")
	// that win where observed paths match them: a path matching a prior is
	// reported under the prior's template. Literal segments beat
	// parameters when two priors match.
	Priors []string
	// Static lists segment values that are never parameters ("me", "self").
	Static []string
}

// Param is a path parameter of a template.
type Param struct {
	Name   string   `json:"name"`
	Type   string   `json:"type"`             // integer or string
	Format string   `json:"format,omitempty"` // int64, uuid, date, date-time, email
	Enum   []string `json:"enum,omitempty"`   // a few word values that recur
	// Values counts the distinct values seen (folded ones count once).
	Values int `json:"values"`
	// Examples holds up to three observed values, sorted.
	Examples []string `json:"examples,omitempty"`
}

// Segment is one segment of a template: a literal, or a parameter with an
// optional literal suffix (".json").
type Segment struct {
	Literal string `json:"literal,omitempty"`
	Param   *Param `json:"param,omitempty"`
	Suffix  string `json:"suffix,omitempty"`
}

// Endpoint is one template with the operations (per method, the caller's
// op ids) observed under it.
type Endpoint struct {
	Path     string           `json:"path"`
	Segments []Segment        `json:"segments"`
	Ops      map[string][]int `json:"ops"`
	Count    uint64           `json:"count"`
	// Prior is true when the template came from Options.Priors.
	Prior bool `json:"prior,omitempty"`
	// MethodParams holds, per method, the path parameters (in path order)
	// typed from the values seen for that method only; the parameters in
	// Segments are typed from all of them.
	MethodParams map[string][]Param `json:"method_params,omitempty"`
}

// Endpoints decides the templates of the trie and returns them sorted by
// path. It does not modify the trie.
func (t *Trie) Endpoints(opts Options) []Endpoint {
	if t == nil || t.Root == nil {
		return nil
	}
	w := t.decideAll(opts, nil)
	if h := w.hints(); h != nil {
		w = t.decideAll(opts, h) // see hint.go
	}
	sort.Slice(w.out, func(i, j int) bool { return w.out[i].Path < w.out[j].Path })
	return w.out
}

// decideAll runs one pass of the decisions over the trie.
func (t *Trie) decideAll(opts Options, hint map[string]map[string]bool) *walker {
	w := &walker{static: map[string]bool{}, claimed: map[*Node]bool{}, byKey: map[string]int{}, lin: map[*Node][]uint16{}, hint: hint}
	for _, s := range opts.Static {
		w.static[s] = true
	}
	w.priors(t.Root, opts.Priors)
	w.fileRoute = fileRoutes(t.Root)
	w.run(t.Root)
	return w
}

// paramHints returns the hints of a first pass (see hint.go), for
// Explain to decide as Endpoints does.
func (t *Trie) paramHints(opts Options) map[string]map[string]bool {
	return t.decideAll(opts, nil).hints()
}

type walker struct {
	static  map[string]bool
	claimed map[*Node]bool // nodes whose ops a prior took
	out     []Endpoint
	byKey   map[string]int // normalized path -> index in out
	// lin holds, per node reached, the shapes (bit sets) of the values
	// taken at each parameter position on the way: parameter types are
	// decided per operation from the values that led to it.
	lin map[*Node][]uint16
	// pev holds what each parameter took at its position (see noteParam).
	pev map[*Param]*paramEvidence
	// coll holds, per route word, the words below it that are one
	// parameter wherever it occurs (see collectionWords).
	coll map[string]map[string]bool
	// collVal holds the words of all of coll: values wherever they follow
	// their route word, so subtrees holding different ones route alike.
	collVal map[string]bool
	// places, when set, collects the places that may hold value sets;
	// valueSet holds the words of the sets found (see valueSets).
	places   *[]setPlace
	valueSet map[string]bool
	// alikeSeen, when set, collects the words alikeWords made values;
	// alikeVal holds those of the first walk: values wherever they
	// occur, so that subtrees holding different ones route alike.
	alikeSeen, alikeVal map[string]bool
	// keysAt holds, per trie node of a route word between a set of
	// self-recurrent words and their recurrence (/from/{lang}/to/{lang}),
	// the words to decide as values below it (see selfRecurrent).
	keysAt map[*Node]map[string]bool
	// fileRoute holds the route words whose values are file names across
	// the tree (see fileRoutes).
	fileRoute map[string]bool
	// hint holds, in a second pass, the values decided after each route
	// word in the first; valsAfter and staticAfter are the first pass's
	// record (see hint.go).
	hint, valsAfter, staticAfter map[string]map[string]bool

	// Explain only (nil otherwise): the reasons noted per candidate, the
	// explained path's nodes with their depth, what was found per
	// segment, the path's final node and the prior that claimed it.
	why           map[*cand]reason
	trace         map[*Node]int
	expl          []Explanation
	segs          []Segment
	traceFinal    *Node
	priorTemplate string
}

// emit adds ops under a template, merging with an endpoint of the same
// shape (same path with parameter names ignored).
func (w *walker) emit(segs []Segment, nodes []*Node, prior bool) {
	ops := map[string][]int{}
	var count uint64
	for _, n := range nodes {
		if w.claimed[n] && !prior {
			continue
		}
		for m, id := range n.Ops {
			ops[m] = append(ops[m], id)
		}
		if len(n.Ops) > 0 {
			count += n.Count - childCount(n)
		}
	}
	if len(ops) == 0 {
		return
	}
	key := normKey(segs)
	if i, ok := w.byKey[key]; ok {
		e := &w.out[i]
		for m, ids := range ops {
			e.Ops[m] = append(e.Ops[m], ids...)
		}
		e.Count += count
		for m := range e.Ops {
			sort.Ints(e.Ops[m])
			e.Ops[m] = dedupInts(e.Ops[m])
		}
		return
	}
	for m := range ops {
		sort.Ints(ops[m])
		ops[m] = dedupInts(ops[m])
	}
	cp := append([]Segment(nil), segs...)
	w.byKey[key] = len(w.out)
	w.out = append(w.out, Endpoint{Path: render(cp), Segments: cp, Ops: ops, Count: count, Prior: prior, MethodParams: w.methodParams(cp, nodes, prior)})
}

// shapeVote maps a shape set to the shape it votes for (numShapes: mixed).
func shapeVote(b uint16) int {
	for s := Shape(0); s < numShapes; s++ {
		if b == 1<<s {
			return int(s)
		}
	}
	return int(numShapes)
}

// typeOfVotes types a parameter from per-value shape votes. A typed shape
// wins with most votes: clients reuse values across operations (an
// item id where a file id goes), so a few odd values do not make a uuid
// parameter a plain string. A typed shape wins with 2/3 of the votes.
func typeOfVotes(v votes) (typ, format string) {
	total := 0
	for _, n := range v {
		total += n
	}
	for _, s := range []Shape{ShapeInteger, ShapeUUID, ShapeDate, ShapeDateTime, ShapeEmail} {
		if total > 0 && v[s]*3 >= total*2 {
			return typeOf(1 << s)
		}
	}
	return "string", ""
}

// typeOf returns the type and format shared by all shapes in the set.
func typeOf(shapes uint16) (typ, format string) {
	switch shapes {
	case 1 << ShapeInteger:
		return "integer", "int64"
	case 1 << ShapeUUID:
		return "string", "uuid"
	case 1 << ShapeDate:
		return "string", "date"
	case 1 << ShapeDateTime:
		return "string", "date-time"
	case 1 << ShapeEmail:
		return "string", "email"
	}
	return "string", ""
}

func childCount(n *Node) uint64 {
	return min(n.Count, childSum(n, func(c *Node) uint64 { return c.Count }))
}

func dedupInts(a []int) []int {
	out := a[:0]
	for i, v := range a {
		if i == 0 || v != a[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func normKey(segs []Segment) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		if s.Param != nil {
			b.WriteString(s.Literal)
			b.WriteString("{}")
			b.WriteString(s.Suffix)
		} else {
			b.WriteString(s.Literal)
		}
	}
	return b.String()
}

// render writes a template path; literal braces are percent-encoded so they
// cannot be read as parameters.
func render(segs []Segment) string {
	if len(segs) == 0 {
		return "/"
	}
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		if s.Param != nil {
			b.WriteString(escapeBraces(s.Literal) + "{" + s.Param.Name + "}" + escapeBraces(s.Suffix))
		} else {
			b.WriteString(escapeBraces(s.Literal))
		}
	}
	return b.String()
}

func escapeBraces(s string) string {
	if !strings.ContainsAny(s, "{}") {
		return s
	}
	return strings.NewReplacer("{", "%7B", "}", "%7D").Replace(s)
}

// ---------- priors ----------

type priorSeg struct {
	literal        string
	param          bool
	name           string
	prefix, suffix string
}

func parsePrior(p string) []priorSeg {
	var out []priorSeg
	for _, s := range SplitPath(p) {
		i := strings.IndexByte(s, '{')
		j := strings.LastIndexByte(s, '}')
		if i >= 0 && j > i {
			out = append(out, priorSeg{param: true, name: s[i+1 : j], prefix: s[:i], suffix: s[j+1:]})
		} else {
			out = append(out, priorSeg{literal: s})
		}
	}
	return out
}

func (p priorSeg) matches(v string) bool {
	if !p.param {
		return p.literal == v
	}
	return len(v) > len(p.prefix)+len(p.suffix) && strings.HasPrefix(v, p.prefix) && strings.HasSuffix(v, p.suffix)
}

// priors claims the trie nodes matched by each prior template, most literal
// templates first so that /users/me beats /users/{id}.
func (w *walker) priors(root *Node, priors []string) {
	type pr struct {
		segs     []priorSeg
		literals int
		raw      string
	}
	var ps []pr
	for _, p := range priors {
		segs := parsePrior(p)
		lit := 0
		for _, s := range segs {
			if !s.param {
				lit++
			}
		}
		ps = append(ps, pr{segs, lit, p})
	}
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].literals != ps[j].literals {
			return ps[i].literals > ps[j].literals
		}
		return ps[i].raw < ps[j].raw
	})
	for _, p := range ps {
		var matched []*Node
		var collect func(n *Node, i int)
		collect = func(n *Node, i int) {
			if i == len(p.segs) {
				if len(n.Ops) > 0 && !w.claimed[n] {
					matched = append(matched, n)
				}
				return
			}
			s := p.segs[i]
			if !s.param {
				if c, ok := n.Children[s.literal]; ok {
					collect(c, i+1)
				}
				return
			}
			for _, k := range sortedKeys(n.Children) {
				if s.matches(k) {
					collect(n.Children[k], i+1)
				}
			}
			if s.prefix == "" {
				for _, k := range sortedKeys(n.Overflow) {
					if strings.HasSuffix(k, s.suffix) {
						collect(n.Overflow[k], i+1)
					}
				}
			}
		}
		collect(root, 0)
		if len(matched) == 0 {
			continue
		}
		segs := make([]Segment, len(p.segs))
		for i, s := range p.segs {
			if s.param {
				segs[i] = Segment{Literal: s.prefix, Param: &Param{Name: s.name, Type: "string"}, Suffix: s.suffix}
			} else {
				segs[i] = Segment{Literal: s.literal}
			}
		}
		w.emit(segs, matched, true)
		for _, n := range matched {
			w.claimed[n] = true
			if n == w.traceFinal && w.priorTemplate == "" {
				w.priorTemplate = p.raw
			}
		}
	}
}

// ---------- inference ----------

// cand is one distinct child value at a (virtual) trie position.
type cand struct {
	key, stem, ext string
	shape          Shape
	nodes          []*Node
	parents        []*Node // parents[i] is the parent of nodes[i]
	count          uint64
	overflow       bool
	shapes         uint16 // overflow: shapes folded in
	file           bool   // a file name: the extension belongs to the value
	pre            string // a literal prefix before the value (see dottedPrefixes)
}

func (w *walker) methods(nodes []*Node) map[string]bool {
	m := map[string]bool{}
	for _, n := range nodes {
		if w.claimed[n] {
			continue
		}
		for k := range n.Ops {
			m[k] = true
		}
	}
	return m
}

// children returns the union of the children of nodes, sorted by key, with
// the overflow nodes last.
func children(nodes []*Node) []*cand {
	byKey := map[string]*cand{}
	ovs := map[string]*cand{}
	for _, n := range nodes {
		for k, c := range n.Children {
			cd := byKey[k]
			if cd == nil {
				cd = &cand{key: k}
				byKey[k] = cd
			}
			cd.nodes = append(cd.nodes, c)
			cd.parents = append(cd.parents, n)
			cd.count += c.Count
		}
		for k, o := range n.Overflow {
			cd := ovs[k]
			if cd == nil {
				cd = &cand{key: "\x00" + k, overflow: true, shape: ShapeToken, shapes: 1<<numShapes - 1}
				name, ext, _ := strings.Cut(k, ".")
				if ext != "" {
					cd.ext = "." + ext
				}
				for s := Shape(0); s < numShapes; s++ {
					if s.String() == name {
						cd.shape, cd.shapes = s, 1<<s
					}
				}
				ovs[k] = cd
			}
			cd.nodes = append(cd.nodes, o)
			cd.parents = append(cd.parents, n)
			cd.count += o.Count
		}
	}
	out := make([]*cand, 0, len(byKey)+1)
	for _, k := range sortedKeys(byKey) {
		c := byKey[k]
		c.stem, c.ext = SplitExt(k)
		if c.ext == "" {
			c.stem, c.ext = SplitVerb(k)
		}
		c.shape = Classify(c.stem)
		if c.ext != "" && c.shape == ShapeVersion {
			// "1.0" style splits never happen (ext starts with a letter), but
			// "v1.json" is a version with an extension: keep it whole.
			c.stem, c.ext, c.shape = k, "", Classify(k)
		}
		out = append(out, c)
	}
	for _, k := range sortedKeys(ovs) {
		out = append(out, ovs[k])
	}
	return out
}

// group is a set of candidates decided to be one parameter.
type group struct {
	ext     string
	members []*cand
	file    bool   // file names: the parameter swallows the extension
	twins   bool   // twin words (see twinWords)
	rare    bool   // a population of rare words (see rareRoutedWords): names, not an enum
	chain   bool   // words followed by one recurrent enum (see enumChain)
	pre     string // the literal prefix of the members (see dottedPrefixes)
	// self holds, for words that recur below themselves (see
	// selfRecurrent), the set to decide as values right below.
	self map[string]bool
}

// walk decides the children of the virtual node made of nodes (the union of
// trie nodes that earlier decisions merged) and recurses.
func (w *walker) walk(nodes []*Node, prefix []Segment, depth int, enumKeys map[string]bool) {
	w.emit(prefix, nodes, false)
	if depth >= 64 {
		return
	}
	cands := children(nodes)
	if len(cands) == 0 {
		return
	}
	statics, groups := w.decide(cands, depth, enumKeys, lastLiteral(prefix))

	// Recurrent word sets among the static children's children (see
	// recurrentWords) become enum parameters one level down.
	enums := w.recurrentWords(statics)
	var chainKeys map[string]bool
	if len(groups) == 0 {
		if chain := w.enumChain(statics, enums); chain != nil {
			g := &group{members: chain, chain: true}
			for _, c := range chain {
				w.note(c, RuleEnumChain, "one of the words here that are all followed by the same recurrent word set")
			}
			chainKeys = map[string]bool{}
			in := map[*cand]bool{}
			for _, c := range chain {
				in[c] = true
				for k := range enums[c.key] {
					chainKeys[k] = true
				}
			}
			groups = append(groups, g)
			kept := statics[:0:0]
			for _, c := range statics {
				if !in[c] {
					kept = append(kept, c)
				}
			}
			statics = kept
		}
	}
	if len(groups) == 0 {
		if alike := w.alikeWords(statics); alike != nil {
			in := map[*cand]bool{}
			for _, c := range alike {
				in[c] = true
				if w.alikeSeen != nil {
					w.alikeSeen[c.key] = true
				}
				w.note(c, RuleAlike, "one of the words here that are each followed by the same further words, with the same methods and depth below: values routing alike")
			}
			groups = append(groups, &group{members: alike})
			statics = slices.DeleteFunc(statics, func(c *cand) bool { return in[c] })
		}
	}
	if len(groups) == 0 {
		if self, set := w.selfRecurrent(statics); self != nil {
			in := map[*cand]bool{}
			for _, c := range self {
				in[c] = true
				w.note(c, RuleSelfSet, "one of the words here that recur below each other, one or two levels down: values of one set")
			}
			g := &group{members: self}
			if w.selfDirect(self, set) {
				g.self = set
			}
			groups = append(groups, g)
			statics = slices.DeleteFunc(statics, func(c *cand) bool { return in[c] })
		}
	}
	// Only the words that stay literal after the chain rules are the
	// first pass's statics (hint.go).
	w.noteStatics(lastLiteral(prefix), statics)
	w.notePlace(statics, prefix)
	prev := lastLiteral(prefix)
	for _, c := range statics {
		for i, n := range c.nodes {
			w.lin[n] = w.lin[c.parents[i]]
		}
		seg := Segment{Literal: c.key}
		w.explainCand(c, depth, seg, len(cands), 0)
		keys := enums[c.key]
		if keys == nil {
			keys = w.coll[c.key]
		}
		if keys == nil {
			keys = w.keysAt[c.nodes[0]]
		}
		w.walk(c.nodes, append(prefix, seg), depth+1, keys)
	}
	for _, g := range groups {
		var merged []*Node
		for _, m := range g.members {
			mask := m.shapes
			switch {
			case m.overflow:
			case g.file:
				mask = 1 << ShapeName
			default:
				mask = lineageMask(m.stem, Classify(m.stem))
			}
			for i, n := range m.nodes {
				pl := w.lin[m.parents[i]]
				w.lin[n] = append(pl[:len(pl):len(pl)], mask)
			}
			merged = append(merged, m.nodes...)
		}
		name := prev
		if g.pre != "" {
			name = strings.TrimSuffix(g.pre, ".") // stream.{streamName}
		}
		p := makeParam(g, name, prefix)
		w.noteParam(p, g)
		w.noteValues(prev, g)
		seg := Segment{Param: p, Literal: g.pre}
		if !g.file {
			seg.Suffix = g.ext
		}
		for _, m := range g.members {
			w.explainCand(m, depth, seg, len(cands), len(g.members))
		}
		var keys map[string]bool
		if g.chain {
			keys = chainKeys
		}
		if g.self != nil {
			keys = g.self
		}
		w.walk(merged, append(prefix, seg), depth+1, keys)
	}
}

// enumChain returns the static words that are values of an enum
// themselves because what follows each of them is one recurrent enum
// (see recurrentWords): /{project}/{user|bot|anonymous}/{content|all}/...
// where every editor type is followed by the same page types. Words
// whose children are the same value set are interchangeable, which
// routes are not (/me/albums/contains and /me/shows/contains share a
// route word, not a value set). At least three words, none an endpoint,
// and nearly all the words at the position.
func (w *walker) enumChain(statics []*cand, enums map[string]map[string]bool) []*cand {
	var words, chain []*cand
	for _, c := range statics {
		if c.overflow || c.ext != "" || c.shape != ShapeWord || w.static[c.key] {
			continue
		}
		words = append(words, c)
		if enums[c.key] == nil || len(w.methods(c.nodes)) > 0 {
			continue
		}
		// What follows must be the enum, nearly all of it: a few values
		// recurring among many (the same project under two reports) are
		// no value set.
		if below := children(c.nodes); len(enums[c.key])*5 >= len(below)*4 {
			chain = append(chain, c)
		}
	}
	if len(chain) < 3 || len(chain)*5 < len(words)*4 || len(words) != len(statics) {
		return nil
	}
	// Interchangeable values lead to the same operations: the same
	// methods below each (/metadata GET beside /search POST are routes).
	var ms string
	for i, c := range chain {
		m := strings.Join(sortedKeys(subtreeMethods(c.nodes, 8)), ",")
		if i > 0 && m != ms {
			return nil
		}
		ms = m
	}
	return chain
}

// maxEnumTail is the deepest a recurrent word's requests mostly end
// below it for the word to be an enum value (see recurrentWords).
const maxEnumTail = 3

// maxEndDepth bounds the depths endDepths counts; deeper ends count at
// the last one.
const maxEndDepth = 16

// endDepths adds to out, per depth below nodes (d levels down), the
// requests that ended there.
func endDepths(nodes []*Node, d int, out *[maxEndDepth]uint64) {
	for _, n := range nodes {
		endDepthsAt(n, d, out)
	}
}

func endDepthsAt(n *Node, d int, out *[maxEndDepth]uint64) {
	if len(n.Ops) > 0 {
		out[min(d, maxEndDepth-1)] += n.Count - childCount(n)
	}
	for _, c := range n.Children {
		endDepthsAt(c, d+1, out)
	}
	for _, c := range n.Overflow {
		endDepthsAt(c, d+1, out)
	}
}

// subtreeMethods returns the methods of the operations at or below
// nodes, to depth levels.
func subtreeMethods(nodes []*Node, depth int) map[string]bool {
	out := map[string]bool{}
	var visit func(n *Node, d int)
	visit = func(n *Node, d int) {
		for m := range n.Ops {
			out[m] = true
		}
		if d == 0 {
			return
		}
		for _, c := range n.Children {
			visit(c, d-1)
		}
		for _, c := range n.Overflow {
			visit(c, d-1)
		}
	}
	for _, n := range nodes {
		visit(n, depth)
	}
	return out
}

// isFileExt reports whether a candidate's suffix is a file extension
// (".json"), not a custom-method verb (":cancel").
func isFileExt(ext string) bool { return strings.HasPrefix(ext, ".") }

func lastLiteral(prefix []Segment) string {
	if len(prefix) == 0 {
		return ""
	}
	s := prefix[len(prefix)-1]
	if s.Param != nil {
		return ""
	}
	return s.Literal
}

// decide splits candidates into static children and parameter groups.
func (w *walker) decide(cands []*cand, depth int, enumKeys map[string]bool, parent string) (statics []*cand, groups []*group) {
	// A lone version-like value near the root (/1/..., /2.0/..., /2010-04-01/...)
	// with a real subtree under it is a constant prefix, not a parameter.
	if len(cands) == 1 && !cands[0].overflow && depth <= 2 {
		c := cands[0]
		if kids := len(children(c.nodes)); isVersionish(c) && (kids >= 2 || kids == 1 && c.shape != ShapeInteger) {
			w.note(c, RuleVersion, "the only value at a position near the root, version-like, with a subtree: a constant prefix")
			return cands, nil
		}
	}

	// File names: when variable values carry different extensions, the
	// extension is part of the value (/backups/{filename}).
	exts := map[string]bool{}
	// Custom-method verbs (":disable") are routes after a value, never
	// file extensions.
	for _, c := range cands {
		if isFileExt(c.ext) && c.shape.Variable() {
			exts[c.ext] = true
		}
	}
	fileMode := len(exts) >= 2 || len(exts) == 1 && w.fileRoute[parent]
	if fileMode {
		for _, c := range cands {
			if isFileExt(c.ext) {
				c.file = true
			}
		}
	}

	dottedPrefixes(cands)
	byExt := map[string][]*cand{}
	for _, c := range cands {
		e := c.ext
		if c.file {
			e = ""
		}
		byExt[groupKey(c, e)] = append(byExt[groupKey(c, e)], c)
	}
	inGroup := map[*cand]bool{}
	for _, key := range sortedKeys(byExt) {
		members := byExt[key]
		pre, e := splitGroupKey(key)
		var strong, weak, words []*cand
		for _, c := range members {
			switch {
			case w.static[c.key] || w.static[c.stem]:
				w.note(c, RuleConfigured, "configured as a static value")
			case c.shape == ShapeEmpty:
				w.note(c, RuleEmpty, "the empty segment of a trailing slash")
			case enumKeys[c.key]:
				strong = append(strong, c) // decided one level up
				if enumKeys[selfMark] {
					w.note(c, RuleSelfSet, "one of a word set that also precedes this position, recurring below its own members: values taken twice")
				} else if w.coll[parent][c.key] {
					w.note(c, RuleCollection, "one of the words that follow "+parent+" wherever it occurs in the tree, some with values below: a collection's values")
				} else {
					w.note(c, RuleRecurrent, "one of a word set that recurs under several sibling routes with values below")
				}
			case c.overflow:
				strong = append(strong, c)
				w.note(c, RuleFolded, "folded past the trie's limits: too many distinct values for a route")
			case c.shape.Strong():
				strong = append(strong, c)
				w.note(c, RuleShape, "a value shaped like "+c.shape.String()+" is a parameter even when seen once")
			case c.shape == ShapeName:
				weak = append(weak, c)
				w.note(c, RuleName, "a name (letters with digits) with name siblings")
			default:
				words = append(words, c)
				w.note(c, RuleWord, "a word stays static unless evidence across its siblings makes it a value")
			}
		}
		words, weak = numberedFamilies(words, weak)
		if set := w.setMembers(words, len(members)); set != nil {
			in := map[*cand]bool{}
			for _, c := range set {
				in[c] = true
				switch {
				case w.valueSet[c.key]:
					w.note(c, RuleValueSet, "one of a word set that recurs, each followed by values, under several different routes: a parameter's values")
				case !w.alikeVal[c.key]:
					w.note(c, RuleJoined, "a word followed by values beside words known as values elsewhere in the tree, routing like them")
				default:
					w.note(c, RuleAlike, "one of the words that route alike (followed by the same further words, with the same methods and depth below) where the whole tree's evidence is gathered, here with values below")
				}
			}
			strong = append(strong, set...)
			words = slices.DeleteFunc(words, func(c *cand) bool { return in[c] })
		}
		words, weak = w.routeVariants(words, weak)
		words, strong = w.collectionPeers(words, strong, enumKeys, parent)
		for _, c := range weak {
			if c.shape == ShapeWord {
				w.note(c, RuleNumbered, "one of three or more numbered names made of the same letters")
			}
		}
		if len(strong) == 0 && len(weak) == 0 {
			pop := w.rareRoutedWords(words, len(cands))
			if len(pop) == 0 {
				pop = w.hinted(words, parent)
			}
			if len(pop) > 0 {
				pop = w.peerWords(words, pop)
				g := &group{ext: e, members: pop, rare: true, pre: pre}
				for _, m := range pop {
					inGroup[m] = true
				}
				groups = append(groups, g)
			}
			continue
		}
		g := &group{ext: e, file: fileMode && e == "" && pre == "", pre: pre}
		g.members = append(g.members, strong...)
		g.members = append(g.members, weak...)
		// Folded names and words count as names here.
		ids, names := 0, len(weak)
		for _, c := range strong {
			if c.overflow && !c.shape.Strong() {
				names++
			} else {
				ids++
			}
		}
		// Several names among the ids: the position takes names (account
		// slugs beside account ids), so rare words may join; with ids
		// alone, words stay routes (/users/me beside /users/{userId}).
		nameLike := (names >= ids || names >= 3) && len(enumKeys) == 0
		if nameLike && len(words) > 0 {
			// Mean requests per value, over values kept one by one (an
			// overflow node holds many).
			var total, kept uint64
			var gnodes []*Node
			for _, m := range g.members {
				if !m.overflow {
					total += m.count
					kept++
				}
				gnodes = append(gnodes, m.nodes...)
			}
			mean := float64(total) / float64(max(kept, 1))
			var joined []*cand
			for _, c := range words {
				if c.count > 3 && float64(c.count) > 5*mean && c.count*5 > total && !valuesBelow(c) {
					if w.why != nil {
						w.note(c, RuleWord, fmt.Sprintf("recurs far more than a value does (%d requests, %.1f per value beside it): a route word", c.count, mean))
					}
					continue
				}
				// A word followed by values, where each combination below is
				// seen about once, is compared one level down only.
				// (Deeper agreement implies the shallow one: the cheap
				// full check runs first.)
				if !w.compatible(c.nodes, gnodes, 4, true) && !(valuesBelow(c) && w.compatible(c.nodes, gnodes, 1, true)) {
					w.note(c, RuleWord, "its methods or subtree route unlike the values beside it")
					continue
				}
				joined = append(joined, c)
			}
			if w.rareRunWith(g.members, words, len(members)) {
				joined = words
			}
			// Many rare compound words that are nearly all the position
			// join by numbers alone, as in rareRoutedWords: their
			// subtrees are too sparse to compare.
			var rare []*cand
			for _, c := range words {
				if !c.overflow && c.count <= 2 && isCompound(c.stem) {
					rare = append(rare, c)
				}
			}
			if len(rare) >= manyRare && (len(rare)+len(g.members))*5 >= len(cands)*4 {
				for _, c := range rare {
					if w.why != nil {
						w.note(c, RuleManyRare, fmt.Sprintf("one of %d rare compound words beside names, nearly all of the position's %d values", len(rare), len(cands)))
					}
				}
				in := map[*cand]bool{}
				for _, c := range append(joined, rare...) {
					in[c] = true
				}
				joined = joined[:0]
				for _, c := range words {
					if in[c] {
						joined = append(joined, c)
					}
				}
			}
			// Words join a group of names only as a population: several of
			// them, and one-token words (login, logout, search) only when
			// rare and many, since they are what route names look like.
			var pop []*cand
			for _, c := range joined {
				if !isCompound(c.stem) && c.count > 2 {
					continue
				}
				pop = append(pop, c)
			}
			simple := 0
			for _, c := range pop {
				if !isCompound(c.stem) {
					simple++
				}
			}
			if simple > 0 && simple < 8 {
				var comp []*cand
				for _, c := range pop {
					if isCompound(c.stem) {
						comp = append(comp, c)
					}
				}
				pop = comp
			}
			// Files (several extensions among the values) are values
			// whatever their stem looks like.
			if g.file {
				pop = joined
			}
			need := 3
			switch {
			case g.file || len(g.members) >= 3 || confident(weak):
				need = 1
			case len(g.members) >= 1:
				need = 2
			}
			if len(pop) >= need {
				g.members = append(g.members, pop...)
				for _, c := range pop {
					w.note(c, RuleJoined, "a rare word routing like the names and ids beside it, one of a population of them")
				}
			}
		}
		// Short random keys (x7Qp, jiKF) read as words but for their case:
		// several of them, each seen at most twice and routing like the
		// ids beside them, are ids too. Real route words beside ids are
		// written in one case or camel humps (me, byName, iPhone).
		if len(strong) > 0 && !nameLike && len(words) > 0 {
			var gnodes []*Node
			for _, m := range g.members {
				gnodes = append(gnodes, m.nodes...)
			}
			var keys []*cand
			for _, c := range words {
				if !c.overflow && c.count <= 2 && c.ext == "" && oddKey(c.stem) && w.compatible(c.nodes, gnodes, 4, true) {
					keys = append(keys, c)
				}
			}
			if keysJoin(keys, ids) {
				g.members = append(g.members, keys...)
				for _, c := range keys {
					w.note(c, RuleJoined, "a short key spelled as no route word is (random case, a digit first or inside), rare and routing like the ids beside it")
				}
			}
		}
		// A name-like value alone is weak evidence (token_from_oauth1, cli-4):
		// it needs a sibling name or two rare look-alike words, unless it
		// is a confident name (ken584).
		if len(strong) == 0 && !confident(weak) && (len(g.members) < 2 || len(weak) == 1 && len(g.members) < 3) {
			for _, m := range g.members {
				w.note(m, RuleLoneName, "a name-like value without enough name siblings is weak evidence")
			}
			continue
		}
		for _, m := range g.members {
			inGroup[m] = true
		}
		groups = append(groups, g)
	}
	// Twin words: several words that each route through the same word to
	// values (/namespaces/default/pods/{pod}, /namespaces/kube-system/pods/...)
	// are values of one parameter themselves.
	// Only inside a collection: right below a route word, not below the
	// root or a version prefix, where twins are routes (/1/metadata/auto,
	// /1/search/auto: see recurrentWords).
	var free []*cand
	for _, c := range cands {
		if Classify(parent) != ShapeWord || parent == "" {
			break
		}
		if !inGroup[c] && c.ext == "" && !c.overflow && c.shape == ShapeWord && !w.static[c.key] && !enumKeys[c.key] {
			free = append(free, c)
		}
	}
	twins := w.twinWords(free)
	for _, c := range twins {
		w.note(c, RuleTwins, "one of the words here that all route through the same word to values")
	}
	if len(twins) > 0 {
		var g *group
		for _, gg := range groups {
			if gg.ext == "" && !gg.file {
				g = gg
			}
		}
		if g == nil {
			g = &group{twins: true}
			groups = append(groups, g)
		}
		for _, c := range twins {
			g.members = append(g.members, c)
			inGroup[c] = true
		}
	}
	for _, c := range cands {
		if !inGroup[c] {
			statics = append(statics, c)
		}
	}
	return statics, groups
}

// numberedFamilies moves to names the words that are one family of
// numbered names: at least three values made of the same letters and
// different numbers (c1, c2, c9 beside c10; vol1, vol2, vol3). Alone,
// c1 reads like a word with a digit (s3, oauth2); a run of them is how
// people number instances. Two (ipv4, ipv6) are not enough.
func numberedFamilies(words, weak []*cand) (keptWords, names []*cand) {
	any := false
	for _, c := range words {
		if _, ok := numberedPrefix(c.stem); ok && c.shape == ShapeWord {
			any = true
			break
		}
	}
	if !any {
		return words, weak // the common case, without a map
	}
	fam := map[string]int{}
	for _, cs := range [][]*cand{words, weak} {
		for _, c := range cs {
			if p, ok := numberedPrefix(c.stem); ok && (c.shape == ShapeWord || c.shape == ShapeName) {
				fam[p]++
			}
		}
	}
	names = weak
	for _, c := range words {
		// Versions (v1, v2, v13) are numbered too, but prefixes.
		if p, ok := numberedPrefix(c.stem); ok && c.shape == ShapeWord && fam[p] >= 3 {
			names = append(names, c)
			continue
		}
		keptWords = append(keptWords, c)
	}
	return keptWords, names
}

// numberedPrefix returns the lower-cased letters of a value made of
// letters then digits (c10 -> "c", Vol2 -> "vol").
func numberedPrefix(s string) (string, bool) {
	i := 0
	for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z') {
		i++
	}
	if i == 0 || i == len(s) || i > 8 {
		return "", false
	}
	for j := i; j < len(s); j++ {
		if s[j] < '0' || s[j] > '9' {
			return "", false
		}
	}
	return strings.ToLower(s[:i]), true
}

// rareRoutedWords returns the compound words of cs that are values of one
// parameter by population alone, with no id-shaped sibling: at least two
// of them, each seen at most twice (a route is hit again and again, a
// value once per lookup), each with a subtree below it that routes like
// the others' (the same methods, the same route words then values).
// Leaves and frequent words are left to the other rules: two rare leaf
// routes (/phone/blocked_list, /phone/calling_plans) look alike too. They
// must also be most of the values at the position.
func (w *walker) rareRoutedWords(cs []*cand, siblings int) []*cand {
	var pop []*cand
	for _, c := range cs {
		if c.overflow || c.count > 2 || !isCompound(c.stem) || w.static[c.key] {
			continue
		}
		pop = append(pop, c)
	}
	if leaves := w.rareLeafWords(pop, siblings-prefixRoutes(w, cs)); leaves != nil {
		for _, c := range leaves {
			w.note(c, RuleRareLeaves, "one of the position's leaf words, each requested once with the same methods: lookups by name")
		}
		return leaves
	}
	// The words must lead to a route word they share (resource/{id}/sub):
	// /domains/{a|b}/records. Words followed directly by values are routes
	// taking a parameter (/topics/private-messages/{username}).
	shared := map[string]int{}
	for _, c := range pop {
		for _, gc := range children(c.nodes) {
			if !gc.overflow && gc.shape == ShapeWord {
				shared[gc.key]++
			}
		}
	}
	kept := make([]*cand, 0, len(pop))
	for _, c := range pop {
		for _, gc := range children(c.nodes) {
			if !gc.overflow && gc.shape == ShapeWord && shared[gc.key] >= 2 {
				kept = append(kept, c)
				break
			}
		}
	}
	// Many of them, nearly all the position: cardinality against volume
	// is evidence enough (a route is hit again and again; here nearly
	// every request brings a new word), and their subtrees are too sparse
	// to compare one by one (each combination below seen once); the few
	// leading to a route of their own (ml-lab/hooks) are values as well,
	// and so are they when followed straight by values (/{start}/{end}).
	if len(pop) >= manyRare && len(pop)*5 >= siblings*4 || w.rareValueRun(pop, siblings) {
		kept = pop
	}
	pop = kept
	if len(pop) < 2 {
		return nil
	}
	if len(pop) >= manyRare && len(pop)*5 >= siblings*4 {
		for _, c := range pop {
			if w.why != nil {
				w.note(c, RuleManyRare, fmt.Sprintf("one of %d rare compound words, nearly all of the position's %d values", len(pop), siblings))
			}
		}
		return pop
	}
	var out []*cand
	for i, c := range pop {
		var others []*Node
		for j, o := range pop {
			if j != i {
				others = append(others, o.nodes...)
			}
		}
		if w.compatible(c.nodes, others, 2, true) || w.compatible(others, c.nodes, 2, true) {
			out = append(out, c)
		}
	}
	// Most of the position: a collection of values, not a rare route or
	// two among frequent ones (/topics/private-messages beside /topics/latest).
	if len(out) < 2 || len(out)*2 <= siblings {
		return nil
	}
	for _, c := range out {
		w.note(c, RuleRareWords, "one of the rare compound words here leading to shared route words, routing alike")
	}
	return out
}

// valuesBelow reports whether what follows a word is itself a set of
// values: at least two, most of them variable-shaped or rare compound
// words. A word requested far more than the values beside it is then a
// popular value (the owner of most repositories a client touches:
// /repos/{owner}/{repo}), not a route like /users/me, which routes words.
func valuesBelow(c *cand) bool {
	below := children(c.nodes)
	n := 0
	for _, b := range below {
		if b.overflow || b.shape.Variable() || b.shape == ShapeWord && b.count <= 2 && isCompound(b.stem) {
			n++
		}
	}
	return n >= 2 && n*2 > len(below)
}

// peerWords adds to a population of rare words (pop, decided values)
// the other compound words of cs that route like them and are not
// requested far more than they are: a value looked up three times is
// still a value.
func (w *walker) peerWords(cs, pop []*cand) []*cand {
	in := map[*cand]bool{}
	var total uint64
	var nodes []*Node
	for _, c := range pop {
		in[c] = true
		total += c.count
		nodes = append(nodes, c.nodes...)
	}
	mean := float64(total) / float64(len(pop))
	out := pop
	for _, c := range cs {
		if in[c] || c.overflow || !isCompound(c.stem) || w.static[c.key] || float64(c.count) > 5*mean {
			continue
		}
		if len(children(c.nodes)) > 0 && w.compatible(c.nodes, nodes, 2, true) {
			w.note(c, RuleRareWords, "a compound word requested about as often as the rare values beside it, routing like them")
			out = append(out, c)
			in[c] = true
		}
	}
	// Values of one parameter are followed by the same route words,
	// each seen for only some of them in sparse traffic: a word whose
	// route words are at least half the population's, with its methods,
	// is one of them, and brings its own route words in. The population
	// only grows, so the result does not depend on the order of cs.
	routes := map[string]bool{}
	methods := map[string]bool{}
	for _, c := range out {
		for _, k := range children(c.nodes) {
			routes[k.key] = true
		}
		for m := range subtreeMethods(c.nodes, 4) {
			methods[m] = true
		}
	}
	for grew := true; grew; {
		grew = false
		for _, c := range cs {
			if in[c] || c.overflow || !isCompound(c.stem) || w.static[c.key] || float64(c.count) > 5*mean || len(w.methods(c.nodes)) > 0 {
				continue
			}
			below := children(c.nodes)
			shared := 0
			for _, k := range below {
				if routes[k.key] && k.shape == ShapeWord {
					shared++
				}
			}
			same := true
			for m := range subtreeMethods(c.nodes, 4) {
				same = same && methods[m]
			}
			if len(below) == 0 || shared*2 < len(below) || !same {
				continue
			}
			w.note(c, RuleRareWords, "a compound word followed by the route words of the rare values beside it")
			out = append(out, c)
			in[c] = true
			for _, k := range below {
				routes[k.key] = true
			}
			grew = true
		}
	}
	return out
}

// manyRare is the size of a population of rare words that makes a
// parameter by numbers alone (see rareRoutedWords).
const manyRare = 6

// rareLeafWords returns pop when it is a population of leaf values: at
// least four words, each requested once, ending there with the same
// methods, and nothing else at the position. Every request bringing a
// new word is how lookups by name look (/search/{query}); leaf routes
// are few, hit again and again, and differ in methods.
func (w *walker) rareLeafWords(pop []*cand, siblings int) []*cand {
	if len(pop) < 4 || len(pop) != siblings {
		return nil
	}
	var ms string
	for i, c := range pop {
		if c.count != 1 {
			return nil
		}
		for _, n := range c.nodes {
			if len(n.Children) > 0 || len(n.Overflow) > 0 {
				return nil
			}
		}
		m := strings.Join(sortedKeys(w.methods(c.nodes)), ",")
		if m == "" || i > 0 && m != ms {
			return nil
		}
		ms = m
	}
	return pop
}

// twinWords returns the words of cs that route through one common word to
// a position holding values, when at least three do and they are at least
// 4/5 of cs.
func (w *walker) twinWords(cs []*cand) []*cand {
	if len(cs) < 3 {
		return nil
	}
	mid := map[string][]*cand{}
	for _, c := range cs {
		for _, gc := range children(c.nodes) {
			if gc.overflow || gc.shape != ShapeWord || w.static[gc.key] {
				continue
			}
			below := children(gc.nodes)
			nvar := 0
			for _, b := range below {
				if b.overflow || b.shape.Variable() || b.shape == ShapeWord && b.count <= 2 && isCompound(b.stem) {
					nvar++
				}
			}
			if nvar >= 1 && nvar*2 >= len(below) {
				mid[gc.key] = append(mid[gc.key], c)
			}
		}
	}
	best := ""
	for _, k := range sortedKeys(mid) {
		if len(mid[k]) > len(mid[best]) {
			best = k
		}
	}
	// The twins must be (nearly) all the words here: a collection of
	// values (/namespaces/*), not routes of which some share a sub-route
	// (/1/metadata/auto/..., /1/search/auto/... beside /1/delta).
	if len(mid[best]) < 3 || len(mid[best])*5 < len(cs)*4 {
		return nil
	}
	return mid[best]
}

// confident reports whether some name is a generated-looking one: at
// least three letters and a run of two or more digits (ken584, ops-959,
// mallorysybil87), which route words rarely are.
func confident(names []*cand) bool {
	for _, c := range names {
		letters, run, maxRun := 0, 0, 0
		for i := 0; i < len(c.stem); i++ {
			switch b := c.stem[i]; {
			case b >= '0' && b <= '9':
				run++
				maxRun = max(maxRun, run)
			case b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z':
				letters++
				run = 0
			default:
				run = 0
			}
		}
		if letters >= 3 && maxRun >= 2 {
			return true
		}
	}
	return false
}

// isCompound reports whether a word is made of several parts
// (heidi-edge, sdk_docs, fooBar).
func isCompound(s string) bool {
	if strings.ContainsAny(s, "-_.") {
		return true
	}
	for i := 1; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' && s[i-1] >= 'a' && s[i-1] <= 'z' {
			return true
		}
	}
	return false
}

// minRandomKeys is how many random-case keys must sit beside ids to join
// them (see randomCase).
const minRandomKeys = 3

// randomCase reports whether s is a short letters-and-digits token whose
// case changes the way keys do and words do not: an upper-case letter
// after a lower-case one and not starting a lower-case hump (jiKF, tsI),
// or a lower-case letter after two upper-case ones (5JDl). Words in
// camel case (byName, iPhone) and acronyms (HTTP, OAuth) do not.
func randomCase(s string) bool {
	if len(s) < 3 || len(s) > 8 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	lower := func(b byte) bool { return b >= 'a' && b <= 'z' }
	upper := func(b byte) bool { return b >= 'A' && b <= 'Z' }
	for i := 1; i < len(s); i++ {
		if upper(s[i]) && lower(s[i-1]) && (i+1 == len(s) || !lower(s[i+1])) {
			return true
		}
		if lower(s[i]) && i >= 2 && upper(s[i-1]) && upper(s[i-2]) && i+1 == len(s) {
			return true
		}
	}
	return false
}

func isVersionish(c *cand) bool {
	switch c.shape {
	case ShapeVersion, ShapeDate:
		return true
	case ShapeInteger:
		return len(c.key) <= 2
	}
	return false
}

// compatible reports whether the subtree of a word candidate (w) looks like
// the subtree of a group (g): the methods that end at w also end in g, and,
// recursively to depth, each child of w is a child of g, or a variable value
// where g has variable values too. /users/me (GET) beside /users/{name}/repos
// (no GET) stays static; so does /webhooks/feed/:token beside
// /{username}/feeds/{id}.
//
// At the top the methods must be a subset (POST /user/createWithList is
// not a user); deeper down, where single requests decide, it is enough
// that both ends are endpoints.
func (w *walker) compatible(wn, gn []*Node, depth int, top bool) bool {
	gm := w.methods(gn)
	for m := range w.methods(wn) {
		if !gm[m] && (top || len(gm) == 0) {
			return false
		}
	}
	if depth == 0 {
		return true
	}
	gc := children(gn)
	if len(gc) == 0 {
		for _, n := range wn {
			if len(n.Children) > 0 || len(n.Overflow) > 0 {
				return false
			}
		}
		return true
	}
	byKey := make(map[string]*cand, len(gc))
	var varNodes []*Node
	rareWords := 0
	for _, c := range gc {
		byKey[c.key] = c
		switch {
		case c.overflow || c.shape.Variable():
			varNodes = append(varNodes, c.nodes...)
		case w.knownValue(c.key):
			// A collection's value (see collectionWords).
			varNodes = append(varNodes, c.nodes...)
		case c.shape == ShapeWord && c.count <= 2:
			rareWords++
		}
	}
	// Many rare word values below g: a population of name-like values, so
	// an unknown word below w may be one of them.
	wordPop := rareWords >= 3 || rareWords >= 1 && len(varNodes) >= 2
	if wordPop {
		for _, c := range gc {
			if c.shape == ShapeWord && c.count <= 2 {
				varNodes = append(varNodes, c.nodes...)
			}
		}
	}
	for _, c := range children(wn) {
		gcand, ok := byKey[c.key]
		// A rare word is a value where g has values: any rare word among a
		// population of words, a compound one (heidi-docs) beside names.
		rare := c.shape == ShapeWord && c.count <= 2
		valueLike := c.overflow || c.shape.Variable() || rare && (wordPop || isCompound(c.stem) && len(varNodes) > 0) || w.knownValue(c.key)
		if ok && w.compatible(c.nodes, gcand.nodes, depth-1, false) {
			continue // a route word of g, or a value g saw too
		}
		if !valueLike || len(varNodes) == 0 {
			return false
		}
		if !w.compatible(c.nodes, varNodes, depth-1, false) {
			return false
		}
	}
	return true
}

// recurrentWords finds word values that recur as the children of several
// sibling static nodes, each time with nothing but variable values below
// them: /1/metadata/{auto|dropbox|sandbox}/{path},
// /1/search/{auto|dropbox|sandbox}/{path}. The same small set of words in
// the same structural role under several routes is an enum parameter.
// It returns, per sibling key, the words to treat as a parameter there.
func (w *walker) recurrentWords(statics []*cand) map[string]map[string]bool {
	per := map[string][]string{}
	seen := map[string]int{}
	found := map[string][]*Node{} // the nodes of each word kept
	for _, s := range statics {
		for _, gc := range children(s.nodes) {
			if gc.overflow || gc.shape != ShapeWord || w.static[gc.key] || len(w.methods(gc.nodes)) > 0 {
				continue
			}
			below := children(gc.nodes)
			if len(below) == 0 {
				continue
			}
			// Nothing but values below: mostly variable-shaped, or file
			// names of several extensions.
			nvar := 0
			exts := map[string]bool{}
			for _, b := range below {
				if b.overflow || b.shape.Variable() || b.shape == ShapeWord && b.count <= 2 && isCompound(b.stem) {
					nvar++
				}
				if b.ext != "" {
					exts[b.ext] = true
				}
				if len(w.methods(b.nodes)) == 0 && len(b.nodes) > 0 && b.shape == ShapeWord && b.count > 2 {
					nvar = -len(below) // a frequent route word below: not a value set
					break
				}
			}
			if nvar <= 0 || nvar*2 < len(below) && len(exts) < 2 {
				continue
			}
			per[s.key] = append(per[s.key], gc.key)
			seen[gc.key]++
			found[gc.key] = append(found[gc.key], gc.nodes...)
		}
	}
	recurrent := map[string]bool{}
	for k, n := range seen {
		if n >= 2 {
			recurrent[k] = true
		}
	}
	// Values of one parameter lead to paths of the same lengths; routes
	// that recur (aggregate, top-by-edits under two reports) lead to
	// paths of their own lengths.
	// The depth where most requests end is compared, so that a stray
	// request (a client's mistake) does not decide.
	// Two words recurring (register, unregister under several routes)
	// are as often a pair of routes as an enum, and merging routes makes
	// false findings: an enum shows at least three values.
	if len(recurrent) < 3 {
		return nil
	}
	mode := -1
	for i, k := range sortedKeys(recurrent) {
		var depths [maxEndDepth]uint64
		endDepths(found[k], 0, &depths)
		m := 0
		for d, n := range depths {
			if n > depths[m] {
				m = d
			}
		}
		if i > 0 && m != mode {
			return nil
		}
		mode = m
	}
	// An enum value is followed by the rest of a resource's path; words
	// that head long chains of further positions (top-by-edits/{project}/
	// {type}/{year}/{month}/{day}) are reports, routes of their own.
	if mode > maxEnumTail {
		return nil
	}
	// A parameter takes several values under a route: a route holding
	// only one of the recurrent words names a shared resource there
	// (/mail/users/{id}, /calls/users/{id}), not an enum value.
	out := map[string]map[string]bool{}
	for s, ks := range per {
		vals := map[string]bool{}
		for _, k := range ks {
			if recurrent[k] {
				vals[k] = true
			}
		}
		if len(vals) >= 2 {
			out[s] = vals
		}
	}
	if len(out) < 2 {
		return nil
	}
	return out
}

// makeParam names and types a group.
func makeParam(g *group, prev string, prefix []Segment) *Param {
	var shapes uint16
	words := 0
	var vals []string
	for _, m := range g.members {
		if m.overflow {
			shapes |= m.shapes
			continue
		}
		v := m.stem
		if g.file {
			v = m.key
		}
		sh := Classify(v)
		if g.file {
			sh = ShapeName
		}
		shapes |= 1 << sh
		if sh == ShapeWord {
			words++
		}
		vals = append(vals, v)
	}
	p := &Param{Type: "string", Values: len(vals)}
	for _, m := range g.members {
		if m.overflow {
			p.Values++
		}
	}
	only := func(s Shape) bool { return shapes == 1<<s }
	p.Type, p.Format = typeOf(shapes)
	sort.Strings(vals)
	if len(vals) > 3 {
		p.Examples = append([]string(nil), vals[:3]...)
	} else {
		p.Examples = append([]string(nil), vals...)
	}
	if words == len(vals) && words > 0 && len(vals) <= 16 && shapes == 1<<ShapeWord && !hasOverflow(g) && !g.rare {
		p.Enum = append([]string(nil), vals...)
	}

	// Versions, numbers and dates say nothing about what follows them.
	if sh := Classify(prev); sh == ShapeVersion || sh == ShapeInteger || sh == ShapeDate {
		prev = ""
	}
	base := identWords(singular(prev))
	var name string
	idLike := shapes&(1<<ShapeInteger|1<<ShapeUUID|1<<ShapeHex|1<<ShapeToken|1<<ShapePrefixed) != 0 &&
		shapes&(1<<ShapeName|1<<ShapeWord) == 0
	switch {
	case g.file:
		name = "filename"
	case only(ShapeDate) || only(ShapeDateTime):
		name = "date"
	case only(ShapeEmail):
		name = "email"
	case g.twins && base != "":
		name = base
	case p.Enum != nil:
		name = join(base, "type")
	case idLike:
		name = join(base, "id")
	case base == "user" || base == "u":
		name = "username"
	default:
		name = join(base, "name")
	}
	used := map[string]bool{}
	for _, s := range prefix {
		if s.Param != nil {
			used[s.Param.Name] = true
		}
	}
	p.Name = name
	for i := 2; used[p.Name]; i++ {
		p.Name = name + strconv.Itoa(i)
	}
	return p
}

func hasOverflow(g *group) bool {
	for _, m := range g.members {
		if m.overflow {
			return true
		}
	}
	return false
}

// join makes a lowerCamel identifier: join("user", "id") = "userId";
// join("", "id") = "id".
func join(base, suffix string) string {
	if base == "" {
		return suffix
	}
	return base + strings.ToUpper(suffix[:1]) + suffix[1:]
}

// identWords turns "user-badges" or "user_badges" into "userBadges"; it
// keeps only ASCII letters and digits and never starts with a digit.
func identWords(s string) string {
	var b strings.Builder
	up := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' && b.Len() > 0:
			if up && b.Len() > 0 && c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			if b.Len() == 0 && c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
			up = false
		default:
			up = true
		}
	}
	if b.Len() > 32 {
		return b.String()[:32]
	}
	return b.String()
}

// singular makes an English plural singular in the common regular ways;
// unknown forms are returned unchanged.
func singular(s string) string {
	ls := strings.ToLower(s)
	switch {
	case strings.HasSuffix(ls, "ies") && len(s) > 4:
		return s[:len(s)-3] + "y"
	case strings.HasSuffix(ls, "sses"), strings.HasSuffix(ls, "shes"), strings.HasSuffix(ls, "ches"), strings.HasSuffix(ls, "xes"):
		return s[:len(s)-2]
	case strings.HasSuffix(ls, "ss"), strings.HasSuffix(ls, "us"), strings.HasSuffix(ls, "is"):
		return s
	case strings.HasSuffix(ls, "s") && len(s) > 3:
		return s[:len(s)-1]
	}
	return s
}

package template

import (
	"maps"
	"slices"
	"sort"
	"strings"
)

// Chains of few-valued parameters
// (/reports/{project}/{editorType}/{pageType}/{granularity}/{start}/{end}):
// each position takes a handful of words, every one of them requested
// often, so no rule based on rarity or shape applies, and every
// combination would stay a literal template of its own. Two pieces of
// evidence, both across the tree rather than per segment, make them
// parameters:
//
//   - Alike siblings (alikeWords): words at one position that are each
//     followed only by further words, the same ones under each of them,
//     with the same methods below and requests ending at the same depth,
//     are interchangeable: values of one parameter. Routes lead to
//     subtrees of their own; a value leads to the same subtree as its
//     siblings. Several words of the next position recurring under
//     several of them are required, so that two static collections that
//     share one sub-route (/issues/comments, /pulls/comments) stay apart.
//   - Recurrent value sets (valueSets): a set of words, each followed
//     only by values, that recurs as nearly all of its position under
//     prefixes of several different routes (/new/{project}/{daily|monthly}/...,
//     /aggregate/{project}/{type}/{daily|monthly}/...) is a parameter's
//     value set wherever it recurs. Under one route only, such a set is
//     as often two collections (/namespaces/{ns}/{pods|services}/{name}),
//     so the routes are counted, not the places.

// Bounds of the evidence.
const (
	// minAlike is how many sibling words must route alike.
	minAlike = 3
	// minNextWords is how many words of the next position must recur
	// below alike siblings.
	minNextWords = 2
	// minSetRoutes is how many different routes a value set must recur
	// under (see valueSets).
	minSetRoutes = 3
	// maxSetWords bounds the words of a value set: an enum is small.
	maxSetWords = 16
	// maxSetPlaces bounds the places recorded for value sets in one
	// walk, so that the second walk's pre-pass stays bounded.
	maxSetPlaces = 1 << 14
)

// alikeWords returns the static words of one position that are values
// of one parameter because they route alike (see the comment above): at
// least minAlike words, nearly all the position, none an endpoint, each
// followed only by non-leaf words recurring under two of them or more,
// minNextWords such words in all, the same methods below each and
// requests ending mostly at the same depth.
func (w *walker) alikeWords(statics []*cand) []*cand {
	if len(statics) < minAlike {
		return nil
	}
	next := make(map[*cand][]*cand, len(statics))
	recur := map[string]int{}
	for _, c := range statics {
		if c.overflow || c.ext != "" || c.shape != ShapeWord || w.static[c.key] {
			return nil // every static must be a plain word: routes beside them are evidence against
		}
		if len(w.methods(c.nodes)) > 0 {
			continue
		}
		kids := children(c.nodes)
		ok := len(kids) > 0
		for _, k := range kids {
			if k.overflow || k.ext != "" || k.shape != ShapeWord || w.static[k.key] || len(w.methods(k.nodes)) > 0 || !hasBelow(k.nodes) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		next[c] = kids
		for _, k := range kids {
			recur[k.key]++
		}
	}
	var alike []*cand
	shared := map[string]bool{}
	for _, c := range statics {
		kids, ok := next[c]
		if !ok {
			continue
		}
		// In sparse traffic a value is seen with only some of the next
		// words, and one of them may be seen under it alone: most of
		// what follows must recur.
		n := 0
		for _, k := range kids {
			if recur[k.key] >= 2 {
				n++
			}
		}
		if n == 0 || n*2 < len(kids) {
			continue
		}
		alike = append(alike, c)
		for _, k := range kids {
			if recur[k.key] >= 2 {
				shared[k.key] = true
			}
		}
	}
	if len(alike) < minAlike || len(shared) < minNextWords || len(alike)*5 < len(statics)*4 {
		return nil
	}
	if !sameRoutes(alike) {
		return nil
	}
	return alike
}

// sameRoutes reports whether the candidates lead to the same
// operations: the same methods below each, and requests ending mostly
// at the same depth below each.
func sameRoutes(cs []*cand) bool {
	var ms string
	mode := -1
	for i, c := range cs {
		m := strings.Join(sortedKeys(subtreeMethods(c.nodes, 8)), ",")
		var depths [maxEndDepth]uint64
		endDepths(c.nodes, 0, &depths)
		d := 0
		for j, n := range depths {
			if n > depths[d] {
				d = j
			}
		}
		if i > 0 && (m != ms || d != mode) {
			return false
		}
		ms, mode = m, d
	}
	return true
}

// knownValue reports whether a word is a value wherever it occurs: a
// collection's (see collectionWords), one of alike siblings or of a
// recurrent value set found by the first walk.
func (w *walker) knownValue(k string) bool {
	return w.collVal[k] || w.alikeVal[k] || w.valueSet[k]
}

// hasBelow reports whether some node has a child.
func hasBelow(nodes []*Node) bool {
	for _, n := range nodes {
		if len(n.Children) > 0 || len(n.Overflow) > 0 {
			return true
		}
	}
	return false
}

// valuesOnly reports whether the candidate's children are values:
// mostly variable-shaped, folded, rare compound words or words of a
// known value set, and no route word requested often.
func (w *walker) valuesOnly(c *cand) bool {
	below := children(c.nodes)
	n := 0
	for _, b := range below {
		switch {
		case b.overflow || b.shape.Variable() || b.shape == ShapeWord && b.count <= 2 && isCompound(b.stem) || w.knownValue(b.key):
			n++
		case b.shape == ShapeWord && !isCompound(b.stem) && b.count > 2:
			return false
		}
	}
	return n > 0 && n*2 > len(below)
}

// setPlace is one place where a candidate value set was seen: its words
// and the route it sits under.
type setPlace struct {
	words []string
	route string
}

// notePlace records the static words of a position that may be a value
// set (see valueSets): two or more plain words, nearly all the
// position, none an endpoint, each followed only by values.
func (w *walker) notePlace(statics []*cand, prefix []Segment) {
	if w.places == nil || len(statics) < 2 || len(*w.places) >= maxSetPlaces {
		return
	}
	var words []string
	for _, c := range statics {
		if c.overflow || c.ext != "" || c.shape != ShapeWord || w.static[c.key] || len(w.methods(c.nodes)) > 0 || !w.valuesOnly(c) {
			continue
		}
		words = append(words, c.key)
	}
	if len(words) < 2 || len(words) > maxSetWords || len(words)*5 < len(statics)*4 {
		return
	}
	*w.places = append(*w.places, setPlace{words: words, route: setRoute(prefix)})
}

// setRoute names the route a place sits under: the prefix up to its
// last parameter, or, with no parameter, the prefix without its last
// segment. Places that differ only in a sibling word (/namespaces/default,
// /namespaces/staging) are under one route.
func setRoute(prefix []Segment) string {
	last := -1
	for i, s := range prefix {
		if s.Param != nil {
			last = i
		}
	}
	if last < 0 {
		last = len(prefix) - 1
	}
	if last < 0 {
		return ""
	}
	return normKey(prefix[:last])
}

// valueSets returns the words that belong to a value set: a word seen
// in recorded places under at least minSetRoutes routes, together with
// another such word each time.
func valueSets(places []setPlace) map[string]bool {
	routes := map[string]map[string]bool{}
	for _, p := range places {
		for _, k := range p.words {
			if routes[k] == nil {
				routes[k] = map[string]bool{}
			}
			routes[k][p.route] = true
		}
	}
	often := func(k string) bool { return len(routes[k]) >= minSetRoutes }
	// A word counts a route only with a companion that recurs too: one
	// recurring word per route is a shared resource (/mail/users,
	// /calls/users), not a value set.
	counted := map[string]map[string]bool{}
	for _, p := range places {
		n := 0
		for _, k := range p.words {
			if often(k) {
				n++
			}
		}
		if n < 2 {
			continue
		}
		for _, k := range p.words {
			if often(k) {
				if counted[k] == nil {
					counted[k] = map[string]bool{}
				}
				counted[k][p.route] = true
			}
		}
	}
	var out map[string]bool
	for _, k := range sortedKeys(counted) {
		if len(counted[k]) >= minSetRoutes {
			if out == nil {
				out = map[string]bool{}
			}
			out[k] = true
		}
	}
	return out
}

// setMembers returns the words among cands that are values of a known
// value set here, or values elsewhere because they routed alike: two or
// more of them, each followed only by values, nearly all the position's
// words. Other plain words followed by values beside them, with the
// same methods and depth below, join them (a value the set's other
// places never saw), as long as the known ones are at least half.
func (w *walker) setMembers(words []*cand, siblings int) []*cand {
	if len(w.valueSet) == 0 && len(w.alikeVal) == 0 || len(words) < 2 {
		return nil
	}
	var out []*cand
	known := 0
	for _, c := range words {
		if c.overflow || c.ext != "" || c.shape != ShapeWord || len(w.methods(c.nodes)) > 0 || !w.valuesOnly(c) {
			continue
		}
		if w.valueSet[c.key] || w.alikeVal[c.key] {
			known++
		}
		out = append(out, c)
	}
	if known < 2 || known*2 < len(out) || len(out)*5 < siblings*4 || !sameRoutes(out) {
		return nil
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

// run decides the templates. The first walk records the places that
// may hold value sets (see valueSets) and the words alikeWords made
// values; when it found any, the walk is done again with that evidence,
// so that every place decides with the whole tree's, whatever was
// walked first.
func (w *walker) run(root *Node) {
	w.coll, w.collVal = w.collectionWords(root)
	// The endpoints of priors are emitted already: kept for the second
	// walk as they were (its emits merge into them in place).
	nPrior := len(w.out)
	saved := make([]Endpoint, nPrior)
	for i, e := range w.out {
		saved[i] = e
		saved[i].Ops = make(map[string][]int, len(e.Ops))
		for m, ids := range e.Ops {
			saved[i].Ops[m] = slices.Clone(ids)
		}
	}
	savedKeys := maps.Clone(w.byKey)
	var places []setPlace
	w.places, w.alikeSeen = &places, map[string]bool{}
	w.walk([]*Node{root}, nil, 0, nil)
	vs, alike := valueSets(places), w.alikeSeen
	w.places, w.alikeSeen = nil, nil
	if vs == nil && len(alike) == 0 {
		return
	}
	w.valueSet = vs
	if len(alike) > 0 {
		w.alikeVal = alike
	}
	w.out = append(w.out[:0], saved...)
	w.byKey = savedKeys
	clear(w.lin)
	// The second walk records its own first-pass evidence (hint.go).
	w.valsAfter, w.staticAfter = nil, nil
	if w.why != nil {
		clear(w.why)
		clear(w.expl)
		clear(w.segs)
	}
	w.walk([]*Node{root}, nil, 0, nil)
}

// Self-recurrent words: a set of words that reappears below its own
// members, right below or through one route word
// (/pair/{de|en|fr}/{de|en|fr}, /from/{de|en|fr}/to/{de|en|fr}), is a set
// of values taken twice: routes do not recur below themselves.

// selfMark marks a set of self-recurrent words passed down as the
// values of a position, so that Explain names the rule; no candidate
// has this key (overflow keys are a NUL and a shape name).
const selfMark = "\x00self"

// minSelfWords is how many words must recur below each other.
const minSelfWords = 3

// selfRecurrent returns the static words of a position that recur below
// each other (see above) and the set of them: at least minSelfWords
// words each followed, one or two levels down, by others of the set,
// minSelfWords of them in all, nearly all the position, with the same
// methods below each. It records, for a route word in between, that the
// set is decided as values below it.
func (w *walker) selfRecurrent(statics []*cand) ([]*cand, map[string]bool) {
	if len(statics) < minSelfWords {
		return nil, nil
	}
	words := map[string]bool{}
	for _, c := range statics {
		if c.overflow || c.ext != "" || c.shape != ShapeWord || w.static[c.key] {
			return nil, nil
		}
		words[c.key] = true
	}
	var self []*cand
	found := map[string]bool{}
	via := map[*cand][]*cand{} // the route words in between, per member
	for _, c := range statics {
		hit := false
		for _, k := range children(c.nodes) {
			if words[k.key] {
				hit = true
				found[k.key] = true
				continue
			}
			if k.overflow || k.shape != ShapeWord {
				continue
			}
			below := false
			for _, kk := range children(k.nodes) {
				if words[kk.key] {
					below = true
					found[kk.key] = true
				}
			}
			if below {
				hit = true
				via[c] = append(via[c], k)
			}
		}
		if hit {
			self = append(self, c)
		}
	}
	if len(self) < minSelfWords || len(found) < minSelfWords || len(self)*5 < len(statics)*4 {
		return nil, nil
	}
	var ms string
	for i, c := range self {
		m := strings.Join(sortedKeys(subtreeMethods(c.nodes, 8)), ",")
		if i > 0 && m != ms {
			return nil, nil
		}
		ms = m
	}
	set := map[string]bool{selfMark: true}
	for _, c := range self {
		set[c.key] = true
	}
	for _, c := range self {
		for _, k := range via[c] {
			for _, n := range k.nodes {
				if w.keysAt == nil {
					w.keysAt = map[*Node]map[string]bool{}
				}
				w.keysAt[n] = set
			}
		}
	}
	return self, set
}

// selfDirect reports whether the set recurs right below its members,
// so that the position below them takes its values.
func (w *walker) selfDirect(self []*cand, set map[string]bool) bool {
	n := 0
	for _, c := range self {
		for _, k := range children(c.nodes) {
			if set[k.key] {
				n++
				break
			}
		}
	}
	return n*2 > len(self)
}

// minValueRun is how many rare words followed by values make a
// parameter with no route word below them (see rareValueRun).
const minValueRun = 4

// rareValueRun reports whether pop, rare compound words (see
// rareRoutedWords), are values followed by further values
// (/{year}/{month}/{day} of free-form values): at least minValueRun
// of them, every value at the position, each followed only by values,
// with the same methods and depth below. A route taking a parameter
// (/topics/private-messages/{username}) sits beside routes that do not.
func (w *walker) rareValueRun(pop []*cand, siblings int) bool {
	if len(pop) < minValueRun || len(pop) != siblings {
		return false
	}
	for _, c := range pop {
		if len(w.methods(c.nodes)) > 0 || !w.valuesOnly(c) {
			return false
		}
	}
	return sameRoutes(pop)
}

// rareRunWith reports whether names and words together are a run of
// rare values followed by values (see rareValueRun): every value at
// the position, each seen at most twice, the words compound.
func (w *walker) rareRunWith(names, words []*cand, siblings int) bool {
	if len(words) == 0 {
		return false
	}
	for _, c := range names {
		if c.overflow || c.count > 2 {
			return false
		}
	}
	for _, c := range words {
		if c.overflow || c.count > 2 || !isCompound(c.stem) {
			return false
		}
	}
	return w.rareValueRun(append(slices.Clone(names), words...), siblings)
}

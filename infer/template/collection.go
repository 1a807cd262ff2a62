package template

// Collection words: a route word that recurs at several places of the
// service tree (/items/{id}/images/..., /users/{id}/images/...,
// /genres/{name}/images/...) and is followed, in each place, by words of
// one set (primary, thumb, banner...) is a collection addressed by a
// value: the words are an enum parameter there. Each place holds only
// the values its clients asked for, so the set shows only across the
// tree, never under one parent (see recurrentWords for sibling routes).

// Bounds of the evidence.
const (
	// minCollContexts is how many places must each hold at least two of
	// the recurring words: a route word reused twice (/users/{id}/settings,
	// /orgs/{id}/settings) is as often a shared set of routes.
	minCollContexts = 3
	// minCollWords is how many words must recur under the route word in
	// two places or more.
	minCollWords = 4
	// maxCollVisit bounds the nodes collectionWords visits, so that the
	// pre-pass costs no more than one walk of a bounded trie.
	maxCollVisit = 1 << 20
)

// collectionWords returns, per route word, the words below it that are
// values of one parameter wherever it occurs (see the comment above),
// and the union of those words.
func (w *walker) collectionWords(root *Node) (map[string]map[string]bool, map[string]bool) {
	// occ[route][context][word]: the words seen below the route word in
	// each context (the nearest route literal above the route's parent).
	occ := map[string]map[string]map[string]bool{}
	nodes := map[string]map[string][]*Node{} // route -> word -> nodes
	visited := 0
	// lit is the nearest literal at or above a node that is not a value:
	// /items/123 and /genres/some-name (one of many) are values of items
	// and genres. A route word's context is its parent's lit.
	var visit func(n *Node, key string, isValue bool, parentLit string)
	visit = func(n *Node, key string, isValue bool, parentLit string) {
		visited++
		if visited > maxCollVisit {
			return
		}
		lit := key
		if isValue {
			lit = parentLit
		}
		if !isValue && key != "" && Classify(key) == ShapeWord && !w.static[key] {
			// Map order is fine: the result is sets and counts.
			for k, c := range n.Children {
				if !w.collValue(k, c) {
					continue
				}
				if occ[key] == nil {
					occ[key] = map[string]map[string]bool{}
					nodes[key] = map[string][]*Node{}
				}
				if occ[key][parentLit] == nil {
					occ[key][parentLit] = map[string]bool{}
				}
				occ[key][parentLit][k] = true
				nodes[key][k] = append(nodes[key][k], c)
			}
		}
		values := isValueLevel(n)
		for k, c := range n.Children {
			// Leaves hold no route word's values: most nodes of a
			// flooded trie are leaves, so they cost no Classify here.
			if len(c.Children) > 0 {
				visit(c, k, values || Classify(k).Variable(), lit)
			}
		}
	}
	visit(root, "", false, "")
	out := map[string]map[string]bool{}
	for route, byCtx := range occ {
		seen := map[string]int{}
		for _, ws := range byCtx {
			for k := range ws {
				seen[k]++
			}
		}
		rec := map[string]bool{}
		for k, n := range seen {
			if n >= 2 {
				rec[k] = true
			}
		}
		if len(rec) < minCollWords {
			continue
		}
		// Leaf words after a route word are as often actions
		// (/servers/{id}/actions/{reboot|resize|...}) as values: values
		// show when some of them address items in turn
		// (/images/primary/0), in some place.
		addressing := 0
		for k := range rec {
			for _, n := range nodes[route][k] {
				if len(n.Children) > 0 || len(n.Overflow) > 0 {
					addressing++
					break
				}
			}
		}
		if addressing*2 < len(rec) {
			continue
		}
		places := 0
		for _, ws := range byCtx {
			n := 0
			for k := range ws {
				if rec[k] {
					n++
				}
			}
			if n >= 2 {
				places++
			}
		}
		if places < minCollContexts {
			continue
		}
		// Values are followed by the rest of a resource's path, short:
		// words heading long chains are routes of their own.
		ok := true
		for k := range rec {
			var depths [maxEndDepth]uint64
			endDepths(nodes[route][k], 0, &depths)
			m := 0
			for d, n := range depths {
				if n > depths[m] {
					m = d
				}
			}
			if m > 1 {
				ok = false
				break
			}
		}
		if ok {
			out[route] = rec
		}
	}
	var all map[string]bool
	for _, rec := range out {
		if all == nil {
			all = map[string]bool{}
		}
		for k := range rec {
			all[k] = true
		}
	}
	return out, all
}

// isValueLevel reports whether n's children look like values of one
// parameter: mostly variable-shaped, or several and mostly rare
// compound words or names (/genres/some-genre), which is how values
// look in sparse traffic.
func isValueLevel(n *Node) bool {
	if len(n.Overflow) > 0 {
		return true
	}
	nvar, rare := 0, 0
	for k, c := range n.Children {
		sh := Classify(k)
		if sh.Variable() {
			nvar++
		}
		if c.Count <= 2 && (sh.Variable() || isCompound(k)) {
			rare++
		}
	}
	return nvar > 0 && nvar*2 >= len(n.Children) || len(n.Children) >= 3 && rare*2 > len(n.Children)
}

// collValue reports whether a word below a route word may be a value of
// a collection: a plain word, with nothing but values (or nothing) below.
func (w *walker) collValue(k string, n *Node) bool {
	stem, ext := SplitExt(k)
	if ext != "" || Classify(stem) != ShapeWord || w.static[k] {
		return false
	}
	if len(n.Overflow) > 0 {
		return true
	}
	for ck := range n.Children {
		if !Classify(ck).Variable() {
			return false
		}
	}
	return true
}

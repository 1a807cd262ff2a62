package template

// Collection peers. A collection's values (see collectionWords) are the
// words that recur after its route word in several places; each place
// also holds words its clients asked for there only (/items/{id}/images/
// logo beside thumb and primary seen elsewhere too). Beside at least two
// of the recurring values, a word that routes like them is one more
// value: nothing but values below it, and the same methods, or, for a
// leaf, leaves beside it.

// minCollPeers is how many of a collection's recurring values a place
// must hold for other words there to join them.
const minCollPeers = 2

// collectionPeers moves from words to strong the words that are values of
// the collection parent heads (enumKeys are its values).
func (w *walker) collectionPeers(words, strong []*cand, enumKeys map[string]bool, parent string) (keptWords, strongOut []*cand) {
	coll := w.coll[parent]
	if coll == nil || len(words) == 0 {
		return words, strong
	}
	var gnodes []*Node
	members, leaves := 0, 0
	for _, c := range strong {
		if !enumKeys[c.key] || !coll[c.key] {
			continue
		}
		members++
		gnodes = append(gnodes, c.nodes...)
		if !hasChildren(c.nodes) {
			leaves++
		}
	}
	if members < minCollPeers {
		return words, strong
	}
	for _, c := range words {
		if w.collPeer(c, gnodes, leaves*2 >= members) {
			w.note(c, RuleCollection, "a word routing like the values of the collection "+parent+" beside it (which follow "+parent+" across the tree)")
			strong = append(strong, c)
			continue
		}
		keptWords = append(keptWords, c)
	}
	return keptWords, strong
}

// collPeer reports whether word c routes like the collection values
// whose nodes are gnodes; leafy says most of them are leaves here.
func (w *walker) collPeer(c *cand, gnodes []*Node, leafy bool) bool {
	if c.overflow || c.ext != "" || c.shape != ShapeWord || w.static[c.key] {
		return false
	}
	for _, n := range c.nodes {
		if !w.collValue(c.key, n) {
			return false
		}
	}
	// The same operations below: methods the values never took make
	// another resource.
	gm := subtreeMethods(gnodes, 2)
	for m := range subtreeMethods(c.nodes, 2) {
		if !gm[m] {
			return false
		}
	}
	if hasChildren(c.nodes) {
		return w.compatible(c.nodes, gnodes, 2, true)
	}
	return leafy && w.compatible(c.nodes, gnodes, 0, true)
}

func hasChildren(nodes []*Node) bool {
	for _, n := range nodes {
		if len(n.Children) > 0 || len(n.Overflow) > 0 {
			return true
		}
	}
	return false
}

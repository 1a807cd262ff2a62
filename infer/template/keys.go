package template

// Short keys beside ids. Generated keys of a few characters (jiKF, 5sz,
// i2QVe) read as words to Classify, which needs length or a run of digits
// to call a value a name. Beside ids, rare ones that route like the ids
// are ids too when their spelling is one no route word has: random case
// (see randomCase), or a digit leading or inside the letters. Words that
// end in a number (utf8, ipv4, oauth2, HTTP2) are how route names carry
// digits, and stay words.

// loneKeyIDs is how many ids must sit beside a single random-case key for
// it to join them alone: one odd key among few ids may be a route
// (/things/iOS); among many, it is one more id.
const loneKeyIDs = 8

// oddKey reports whether s is a short key spelled as no route word is:
// random case, or 3 to 8 letters and digits with a digit first or
// between letters (5sz, i2qve).
func oddKey(s string) bool {
	if randomCase(s) {
		return true
	}
	if len(s) < 3 || len(s) > 8 {
		return false
	}
	letters, inner := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letters++
		case c >= '0' && c <= '9':
			if i == 0 || letters > 0 && i+1 < len(s) && !isDigits(s[i+1:i+2]) {
				inner = true
			}
		default:
			return false
		}
	}
	return letters > 0 && inner && Classify(s) == ShapeWord
}

// keysJoin reports whether the odd keys found beside ids join them:
// several, or a single random-case one beside many ids.
func keysJoin(keys []*cand, ids int) bool {
	if len(keys) >= minRandomKeys {
		return true
	}
	return len(keys) == 1 && ids >= loneKeyIDs && randomCase(keys[0].stem)
}

// prefixRoutes counts the words of cs that only lead further (children
// and no operation of their own, /search/name/... beside /search/{query}):
// they are another kind of sibling than lookups by name, so they do not
// count against a population of leaf values (see rareLeafWords).
func prefixRoutes(w *walker, cs []*cand) int {
	n := 0
	for _, c := range cs {
		if !c.overflow && c.count > 2 && hasChildren(c.nodes) && len(w.methods(c.nodes)) == 0 {
			n++
		}
	}
	return n
}

package template

import "strings"

// Route variants. A name made of a word and a number whose word is a
// route beside it (sample10 beside sample, both followed by stream) is a
// variant of that route, as v2 is of an API: people number routes too.
// Values look like that only by chance, and a chance match beside a
// population of values (three or more numbered names of the same
// letters: see numberedFamilies) is left to the names.

// routeVariants moves back to words the names of weak whose letters are
// the key of a word of words and whose subtree shares a route word with
// it.
func (w *walker) routeVariants(words, weak []*cand) (keptWords, names []*cand) {
	if len(words) == 0 || len(weak) == 0 {
		return words, weak
	}
	byKey := map[string]*cand{}
	for _, c := range words {
		if c.shape == ShapeWord && !c.overflow {
			byKey[strings.ToLower(c.key)] = c
		}
	}
	fam := map[string]int{}
	for _, c := range weak {
		if p, ok := numberedPrefix(c.stem); ok {
			fam[p]++
		}
	}
	keptWords = words
	for _, c := range weak {
		p, ok := numberedPrefix(c.stem)
		if r := byKey[p]; ok && r != nil && fam[p] < 3 && c.ext == "" && sharesRoute(c, r) {
			w.note(c, RuleVariant, "a numbered variant of the route "+r.key+" beside it, followed by the same route word")
			keptWords = append(keptWords, c)
			continue
		}
		names = append(names, c)
	}
	return keptWords, names
}

// sharesRoute reports whether a and b are followed by a common word.
func sharesRoute(a, b *cand) bool {
	below := map[string]bool{}
	for _, n := range b.nodes {
		for k := range n.Children {
			if Classify(k) == ShapeWord {
				below[k] = true
			}
		}
	}
	for _, n := range a.nodes {
		for k := range n.Children {
			if below[k] {
				return true
			}
		}
	}
	return false
}

// RuleVariant is the rule Explain reports for a route variant.
const RuleVariant = "route-variant" // sample10 beside the route sample

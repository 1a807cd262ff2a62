package template

import "strings"

// Rules name the decisions Explain reports.
const (
	RuleWord       = "route-word"   // a word kept static
	RuleConfigured = "configured"   // Options.Static
	RuleEmpty      = "empty"        // the empty segment of a trailing slash
	RuleVersion    = "version"      // a lone version-like prefix
	RuleShape      = "id-shape"     // a strong shape: integer, uuid, hex, date, token...
	RuleFolded     = "folded"       // past the trie's limits
	RuleName       = "name-shape"   // names with siblings
	RuleLoneName   = "lone-name"    // a name without enough siblings: static
	RuleNumbered   = "numbered"     // c1, c2, c10
	RuleJoined     = "joined"       // words joining a group of names or ids
	RuleRareWords  = "rare-words"   // rare compound words leading to shared routes
	RuleManyRare   = "many-rare"    // a large population of rare words
	RuleRareLeaves = "rare-leaves"  // rare leaf words: lookups by name
	RuleTwins      = "twin-words"   // words routing through one word to values
	RuleRecurrent  = "recurrent"    // a word set recurring under sibling routes
	RuleEnumChain  = "enum-chain"   // words all followed by one recurrent enum
	RuleCollection = "collection"   // words following one route word across the tree
	RuleAlike      = "alike"        // sibling words followed by the same further words
	RuleValueSet   = "value-set"    // a word set recurring under several routes
	RuleSelfSet    = "self-set"     // words recurring below each other
	RulePrior      = "prior"        // a declared template (Options.Priors)
	RuleUnobserved = "not-observed" // the path is not in the trie
)

// Explanation says why one segment of a path became a literal or a
// parameter of its template.
type Explanation struct {
	// Value is the segment as observed (cut and folded as the trie keeps it).
	Value string `json:"value"`
	// Segment is the template's segment: the literal, or {name} with its
	// suffix.
	Segment string `json:"segment"`
	Param   bool   `json:"param"`
	// Shape is what the value looks like on its own (Classify).
	Shape string `json:"shape"`
	// Count is the requests that went through this value at this position.
	Count uint64 `json:"count"`
	// Siblings is the distinct values seen at the position (the union of
	// the nodes earlier decisions merged); an overflow node counts once.
	Siblings int `json:"siblings"`
	// Values is, for a parameter, the distinct values it took there.
	Values int `json:"values,omitempty"`
	// Rule is the rule that decided (Rule* constants) and Why its
	// evidence in words.
	Rule string `json:"rule"`
	Why  string `json:"why"`
}

// reason is a rule noted for a candidate while deciding.
type reason struct{ rule, why string }

// note records why a candidate went where it did; a no-op unless
// Explain asked for it, so deciding stays as cheap as before. A later
// note for the same candidate wins: it is the decision that held.
func (w *walker) note(c *cand, rule, why string) {
	if w.why == nil {
		return
	}
	w.why[c] = reason{rule, why}
}

// explainCand records c's explanation when it holds the explained
// path's node at this depth.
func (w *walker) explainCand(c *cand, depth int, seg Segment, siblings, values int) {
	if w.trace == nil {
		return
	}
	for _, n := range c.nodes {
		if d, ok := w.trace[n]; !ok || d != depth {
			continue
		}
		d := depth
		r := w.why[c]
		if seg.Param != nil && r.rule == RuleWord {
			// Taken in by a group rule that did not note this value.
			r = reason{RuleJoined, "merged with the values beside it"}
		}
		if r.rule == "" {
			r = reason{RuleWord, "a word stays static unless evidence across its siblings makes it a value"}
		}
		e := Explanation{Value: c.key, Param: seg.Param != nil, Shape: c.shape.String(), Count: c.count, Siblings: siblings, Rule: r.rule, Why: r.why}
		if c.overflow {
			e.Value = "(folded " + strings.TrimPrefix(c.key, "\x00") + ")"
		}
		if seg.Param != nil {
			e.Segment = seg.Literal + "{" + seg.Param.Name + "}" + seg.Suffix
			e.Values = values
		} else {
			e.Segment = seg.Literal
		}
		w.expl[d] = e
		w.segs[d] = seg
		return
	}
}

// Explain decides the templates of the trie as Endpoints does and says,
// for each segment of the concrete path, why it is a literal or a
// parameter. It returns the path's template ("" when the path was never
// observed) and one explanation per segment. It does not modify the trie.
func (t *Trie) Explain(opts Options, path string) (string, []Explanation) {
	if t == nil || t.Root == nil {
		return "", nil
	}
	chain, keys := t.lookup(SplitPath(path))
	if chain == nil {
		out := make([]Explanation, len(keys))
		for i, k := range keys {
			out[i] = Explanation{Value: k, Shape: Classify(k).String(), Rule: RuleUnobserved, Why: "no observed request had this path"}
		}
		return "", out
	}
	w := walker{static: map[string]bool{}, claimed: map[*Node]bool{}, byKey: map[string]int{}, lin: map[*Node][]uint16{},
		why: map[*cand]reason{}, trace: map[*Node]int{}, expl: make([]Explanation, len(chain)), segs: make([]Segment, len(chain))}
	for i, n := range chain {
		w.trace[n] = i
	}
	for _, s := range opts.Static {
		w.static[s] = true
	}
	final := chain[len(chain)-1]
	w.traceFinal = final
	w.priors(t.Root, opts.Priors)
	if w.priorTemplate != "" {
		out := make([]Explanation, len(keys))
		for i, k := range keys {
			out[i] = Explanation{Value: k, Shape: Classify(k).String(), Rule: RulePrior, Why: "the path matches the declared template " + w.priorTemplate}
		}
		return w.priorTemplate, out
	}
	w.fileRoute = fileRoutes(t.Root)
	w.hint = t.paramHints(opts)
	w.run(t.Root)
	tmpl := render(w.segs)
	if i, ok := w.byKey[normKey(w.segs)]; ok {
		tmpl = w.out[i].Path // the name the emitted endpoint kept
	}
	if len(keys) == 1 && keys[0] == "" {
		tmpl = "/"
	}
	return tmpl, w.expl
}

// lookup returns the trie nodes of segs (normalized as Insert does), one
// per segment, or nil and the normalized segments when the path is not
// in the trie.
func (t *Trie) lookup(segs []string) ([]*Node, []string) {
	l := t.Limits.withDefaults()
	if len(segs) > l.MaxDepth {
		last := strings.Join(segs[l.MaxDepth-1:], "/")
		segs = append(segs[:l.MaxDepth-1:l.MaxDepth-1], last)
	}
	keys := make([]string, len(segs))
	chain := make([]*Node, 0, len(segs))
	n := t.Root
	for i, s := range segs {
		if len(s) > l.MaxSegment {
			s = s[:l.MaxSegment]
		}
		s = validUTF8(s)
		keys[i] = s
		if n == nil {
			continue
		}
		c, ok := n.Children[s]
		if !ok {
			if c, ok = n.Overflow[overflowKey(s)]; !ok {
				c, ok = n.Overflow["*"]
			}
		}
		if !ok {
			n = nil
			continue
		}
		chain = append(chain, c)
		n = c
	}
	if n == nil {
		return nil, keys
	}
	return chain, keys
}

package template

// Values shared across places. A route word names one kind of thing
// wherever it occurs: when the words after it in one place were decided
// to be values of a parameter (/monitoring/metrics/{metric}/breakdown),
// the same words after it in another place are values too, though they
// are too few or too often requested there to show it
// (/realtime/metrics/exits-before-video-start/breakdown). The decisions
// of a first pass over the tree are the evidence; a second pass, run
// only when some place holds two or more such words still literal, takes
// them as values. Both passes are deterministic, so the result is.

// minHinted is how many words valued elsewhere a position must hold.
const minHinted = 2

// noteValues records, in the first pass, the values a parameter took
// after the route word prev.
func (w *walker) noteValues(prev string, g *group) {
	if prev == "" || w.hint != nil {
		return
	}
	for _, m := range g.members {
		if m.overflow || m.shape != ShapeWord {
			continue
		}
		addPair(&w.valsAfter, prev, m.key)
	}
}

// noteStatics records, in the first pass, the words kept literal after
// the route word prev.
func (w *walker) noteStatics(prev string, statics []*cand) {
	if prev == "" || w.hint != nil || len(statics) < minHinted {
		return
	}
	for _, c := range statics {
		if c.overflow || c.shape != ShapeWord {
			continue
		}
		addPair(&w.staticAfter, prev, c.key)
	}
}

// addPair records key under route in *m, making the maps as needed.
func addPair(m *map[string]map[string]bool, route, key string) {
	if *m == nil {
		*m = map[string]map[string]bool{}
	}
	if (*m)[route] == nil {
		(*m)[route] = map[string]bool{}
	}
	(*m)[route][key] = true
}

// hints returns, after a first pass, the values per route word a second
// pass should take, or nil when no place would change.
func (w *walker) hints() map[string]map[string]bool {
	for r, ks := range w.staticAfter {
		n := 0
		for k := range ks {
			if w.valsAfter[r][k] {
				n++
			}
		}
		if n >= minHinted {
			return w.valsAfter
		}
	}
	return nil
}

// hinted returns the words of cs that were values after parent in the
// first pass, when there are at least minHinted and they are most of
// the words at the position.
func (w *walker) hinted(cs []*cand, parent string) []*cand {
	vals := w.hint[parent]
	if vals == nil {
		return nil
	}
	var out []*cand
	for _, c := range cs {
		if vals[c.key] && !c.overflow && !w.static[c.key] {
			out = append(out, c)
		}
	}
	if len(out) < minHinted || len(out)*2 <= len(cs) {
		return nil
	}
	for _, c := range out {
		w.note(c, RuleShared, "a word that is a value after "+parent+" elsewhere in the tree")
	}
	return out
}

// RuleShared is the rule Explain reports for a value shared across places.
const RuleShared = "shared-values" // values after the same route word elsewhere

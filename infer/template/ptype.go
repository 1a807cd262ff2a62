package template

// Parameter types. A parameter is typed per operation from the values
// that led to its requests (the lineage, see walker.lin), but one
// operation often saw a single value, and a stray one (an id of another
// resource sent by mistake) then decides alone. So a small sample backs
// off to the endpoint's other methods, then to everything the parameter
// took at its position. And digits are not always integers: an API that
// writes ids as digit strings (snowflakes: 0526801988993506683, 08569979)
// shows it by values no integer is written as.

// digitBit marks, in a lineage shape set, a value of digits that is not
// an integer's canonical form (see digitString).
const digitBit uint16 = 1 << numShapes

// votes counts requests per shape vote (shapeVote).
type votes [numShapes + 1]int

func (v votes) total() int {
	t := 0
	for _, n := range v {
		t += n
	}
	return t
}

// RejectedStatus reports whether a response status says the request
// was refused for what it carried (400 Bad Request, 404 Not Found, 422
// Unprocessable): the path's values may be wrong ones, sent by mistake
// or on purpose, so they type a parameter only when nothing else does.
func RejectedStatus(code int) bool { return code == 400 || code == 404 || code == 422 }

// paramEvidence is what a parameter took at its position, over all the
// endpoints below it.
type paramEvidence struct {
	accepted, rejected votes
	// digits counts the distinct values made of digits only, and
	// digitStrings those of them written as no integer is.
	digits, digitStrings int
}

// methodParams types the parameters of segs per method from the lineage
// of the nodes where that method was seen.
func (w *walker) methodParams(segs []Segment, nodes []*Node, prior bool) map[string][]Param {
	var params []*Param
	for _, s := range segs {
		if s.Param != nil {
			params = append(params, s.Param)
		}
	}
	if len(params) == 0 || prior {
		return nil
	}
	// Votes per method and position, by shape: one per request that ended
	// at a node (a value combination), accepted and rejected apart.
	type tally struct{ accepted, rejected []votes }
	byMethod := map[string]*tally{}
	for _, n := range nodes {
		lin := w.lin[n]
		if len(lin) != len(params) {
			continue
		}
		ended := n.Count - childCount(n)
		rej := min(ended, n.Rejected-min(n.Rejected, childSum(n, func(c *Node) uint64 { return c.Rejected })))
		acc := ended - rej
		if ended == 0 {
			acc = 1
		}
		for m := range n.Ops {
			t := byMethod[m]
			if t == nil {
				t = &tally{make([]votes, len(params)), make([]votes, len(params))}
				byMethod[m] = t
			}
			for i, b := range lin {
				t.accepted[i][shapeVote(b)] += int(acc)
				t.rejected[i][shapeVote(b)] += int(rej)
			}
		}
	}
	out := map[string][]Param{}
	for m, t := range byMethod {
		ps := make([]Param, len(params))
		for i, p := range params {
			ps[i] = *p
			ps[i].Type, ps[i].Format = w.typeParam(p, t.accepted[i], t.rejected[i])
		}
		out[m] = ps
	}
	return out
}

// childSum sums f over n's children and overflow nodes.
func childSum(n *Node, f func(*Node) uint64) uint64 {
	var c uint64
	for _, ch := range n.Children {
		c += f(ch)
	}
	for _, o := range n.Overflow {
		c += f(o)
	}
	return c
}

// digitString reports whether s is digits written as no integer is: a
// leading zero (0042) or more digits than a JSON number holds exactly.
// Integer ids are never written so; ids of digits that are strings
// (snowflakes, account numbers) are, a tenth of them or more.
func digitString(s string) bool {
	return len(s) >= 2 && isDigits(s) && (s[0] == '0' || len(s) > maxIntDigits)
}

// lineageMask is the shape set one value adds to the lineage.
func lineageMask(stem string, sh Shape) uint16 {
	m := uint16(1) << sh
	if digitString(stem) {
		m |= digitBit
	}
	return m
}

// noteParam records the evidence of a group's values for p.
func (w *walker) noteParam(p *Param, g *group) {
	ev := &paramEvidence{}
	for _, m := range g.members {
		mask := m.shapes
		if !m.overflow {
			mask = lineageMask(m.stem, Classify(m.stem))
			if isDigits(m.stem) {
				ev.digits++
				if mask&digitBit != 0 {
					ev.digitStrings++
				}
			}
		}
		var rej uint64
		for _, n := range m.nodes {
			rej += n.Rejected
		}
		rej = min(rej, m.count)
		ev.accepted[shapeVote(mask)] += int(m.count - rej)
		ev.rejected[shapeVote(mask)] += int(rej)
	}
	if w.pev == nil {
		w.pev = map[*Param]*paramEvidence{}
	}
	w.pev[p] = ev
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// typeParam types p for one method from the values of that method's
// requests the server accepted; with none, from the values the
// parameter took at its position that were accepted, and only then from
// the rejected ones. Digits some of which are written as no integer is
// are a string.
func (w *walker) typeParam(p *Param, accepted, rejected votes) (typ, format string) {
	ev := w.pev[p]
	v := accepted
	switch {
	case v.total() > 0:
	case ev != nil && ev.accepted.total() > 0:
		v = ev.accepted
	default:
		v = rejected
	}
	typ, format = typeOfVotes(v)
	if typ == "integer" && ev != nil && ev.digitStrings > 0 && ev.digitStrings*10 >= ev.digits {
		return "string", ""
	}
	return typ, format
}

package template

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Limits bound a Trie. Zero fields take the defaults of DefaultLimits.
type Limits struct {
	// MaxChildren caps the distinct variable-looking values kept per trie
	// position (word-looking values get twice as many). Values past it are
	// folded into the node's Overflow children by shape (their
	// subtrees merged there) and counted in Folded: the position is then
	// certainly a parameter.
	MaxChildren int `json:"max_children,omitempty" yaml:"max_children"`
	// MaxNodes caps the nodes of one trie. Past it new values fold into
	// Overflow children as above, whatever the per-node count.
	MaxNodes int `json:"max_nodes,omitempty" yaml:"max_nodes"`
	// MaxDepth caps the segments of a path; deeper paths are cut, the rest
	// of the path folded into the last kept segment, and counted.
	MaxDepth int `json:"max_depth,omitempty" yaml:"max_depth"`
	// MaxSegment caps the bytes of one segment kept as a key; longer ones are
	// cut (they are ids: the shape survives the cut).
	MaxSegment int `json:"max_segment,omitempty" yaml:"max_segment"`
}

// DefaultLimits returns the limits used when a field is zero.
func DefaultLimits() Limits {
	return Limits{MaxChildren: 128, MaxNodes: 20000, MaxDepth: 24, MaxSegment: 128}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxChildren <= 0 {
		l.MaxChildren = d.MaxChildren
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = d.MaxNodes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxSegment <= 0 {
		l.MaxSegment = d.MaxSegment
	}
	return l
}

// Node is one position of the path trie. It is plain data: the trie
// marshals to JSON and back without loss, and merging two tries gives the
// trie of the union of their paths (up to the limits).
type Node struct {
	// Count is how many observed paths went through this node.
	Count uint64 `json:"n"`
	// Ops maps a method to the caller's operation id for paths that end
	// here.
	Ops map[string]int `json:"ops,omitempty"`
	// Children holds the distinct values seen at the next position.
	Children map[string]*Node `json:"c,omitempty"`
	// Overflow takes the values (and subtrees) beyond the limits, one
	// node per value shape and extension ("uuid", "integer.json"; past
	// maxOverflow keys, "*"), so that folded values keep their type.
	Overflow map[string]*Node `json:"o,omitempty"`
	// Folded counts the paths routed to Overflow.
	Folded uint64 `json:"folded,omitempty"`
	// Rejected counts, of Count, the requests the server rejected (see
	// InsertRejected): their values are weak evidence of a parameter's
	// type.
	Rejected uint64 `json:"rej,omitempty"`
}

// Stats counts what the limits dropped or folded, for reporting.
type Stats struct {
	Nodes     int    `json:"nodes"`
	Folded    uint64 `json:"folded,omitempty"`     // values routed into overflow nodes
	DeepPaths uint64 `json:"deep_paths,omitempty"` // paths cut at MaxDepth
}

// Trie is the path trie of one service.
type Trie struct {
	Root   *Node  `json:"root"`
	Limits Limits `json:"limits"`
	Stats  Stats  `json:"stats"`
}

// NewTrie returns an empty trie with the given limits (zero fields default).
func NewTrie(l Limits) *Trie {
	return &Trie{Root: &Node{}, Limits: l.withDefaults(), Stats: Stats{Nodes: 1}}
}

// SplitPath splits a request path into segments, dropping the query and
// the leading slash. "/" is one empty segment; "/a/" is "a" and "".
func SplitPath(p string) []string {
	return AppendSplitPath(nil, p)
}

// AppendSplitPath is SplitPath appending the segments to dst.
func AppendSplitPath(dst []string, p string) []string {
	for i := 0; i < len(p); i++ { // strings.IndexAny(p, "?#"), cheaper for short paths
		if p[i] == '?' || p[i] == '#' {
			p = p[:i]
			break
		}
	}
	p = strings.TrimPrefix(p, "/")
	for {
		i := strings.IndexByte(p, '/')
		if i < 0 {
			return append(dst, p)
		}
		dst = append(dst, p[:i])
		p = p[i+1:]
	}
}

// Insert records one path ending with method and returns the node it ends
// at. The caller attaches its operation id to node.Ops.
func (t *Trie) Insert(segs []string) *Node { return t.InsertRejected(segs, false) }

// InsertRejected is Insert for a request the server answered or not as
// one with a bad value (400, 404, 422: see RejectedStatus): rejected ones
// are counted in the nodes' Rejected too.
func (t *Trie) InsertRejected(segs []string, rejected bool) *Node {
	var rej uint64
	if rejected {
		rej = 1
	}
	if t.Root == nil {
		t.Root = &Node{}
		t.Limits = t.Limits.withDefaults()
	}
	if len(segs) > t.Limits.MaxDepth {
		t.Stats.DeepPaths++
		last := strings.Join(segs[t.Limits.MaxDepth-1:], "/")
		segs = append(segs[:t.Limits.MaxDepth-1:t.Limits.MaxDepth-1], last)
	}
	n := t.Root
	n.Count++
	n.Rejected += rej
	for _, s := range segs {
		if len(s) > t.Limits.MaxSegment {
			s = s[:t.Limits.MaxSegment]
		}
		s = validUTF8(s)
		c, folded := t.child(n, s)
		if folded {
			n.Folded++
			t.Stats.Folded++
		}
		n = c
		n.Count++
		n.Rejected += rej
	}
	return n
}

// child returns n's child for value s, creating it within the limits, or
// the overflow node (and true) when the limits are hit.
func (t *Trie) child(n *Node, s string) (*Node, bool) {
	if c, ok := n.Children[s]; ok {
		return c, false
	}
	// Word-like values (route names) get twice the room before folding:
	// folding a static route would hide it.
	limit := t.Limits.MaxChildren
	if stem, _ := SplitExt(s); !Classify(stem).Variable() {
		limit *= 2
	}
	if len(n.Children) >= limit || t.Stats.Nodes >= t.Limits.MaxNodes {
		return t.overflow(n, overflowKey(s)), true
	}
	if n.Children == nil {
		n.Children = make(map[string]*Node)
	}
	c := &Node{}
	n.Children[s] = c
	t.Stats.Nodes++
	return c, false
}

// validUTF8 percent-encodes the bytes of s that are not valid UTF-8, so
// that keys survive JSON (which would replace them) and name the bytes
// the way a URL would.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			fmt.Fprintf(&b, "%%%02X", s[i])
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// maxOverflow caps the overflow keys per node.
const maxOverflow = 16

// overflowKey is the overflow key of a value: its shape and extension.
func overflowKey(s string) string {
	stem, ext := SplitExt(s)
	return Classify(stem).String() + ext
}

func (t *Trie) overflow(n *Node, key string) *Node {
	if o := n.Overflow[key]; o != nil {
		return o
	}
	if len(n.Overflow) >= maxOverflow {
		key = "*"
		if o := n.Overflow[key]; o != nil {
			return o
		}
	}
	if n.Overflow == nil {
		n.Overflow = map[string]*Node{}
	}
	o := &Node{}
	n.Overflow[key] = o
	t.Stats.Nodes++
	return o
}

// OpMerger merges the caller's operation srcID (from the source trie) into
// dstID, or into a new operation when dstID < 0; it returns the id kept, or
// false when the operation was not kept (a caller's limit).
type OpMerger func(method string, dstID, srcID int) (int, bool)

// Merge adds the paths of o to t, within t's limits. ops reconciles the
// operation ids attached to nodes.
func (t *Trie) Merge(o *Trie, ops OpMerger) {
	if o == nil || o.Root == nil {
		return
	}
	if t.Root == nil {
		t.Root = &Node{}
		t.Limits = t.Limits.withDefaults()
	}
	t.Stats.DeepPaths += o.Stats.DeepPaths
	t.mergeNode(t.Root, o.Root, ops)
}

func (t *Trie) mergeNode(d, s *Node, ops OpMerger) {
	d.Count += s.Count
	d.Rejected += s.Rejected
	d.Folded += s.Folded
	t.Stats.Folded += s.Folded
	for _, m := range sortedKeys(s.Ops) {
		dst, ok := d.Ops[m]
		if !ok {
			dst = -1
		}
		if d.Ops == nil {
			d.Ops = make(map[string]int)
		}
		if id, ok := ops(m, dst, s.Ops[m]); ok {
			d.Ops[m] = id
		}
	}
	for _, k := range sortedKeys(s.Children) {
		sc := s.Children[k]
		dc, folded := t.child(d, k)
		if folded {
			d.Folded += sc.Count
			t.Stats.Folded += sc.Count
		}
		t.mergeNode(dc, sc, ops)
	}
	for _, k := range sortedKeys(s.Overflow) {
		t.mergeNode(t.overflow(d, k), s.Overflow[k], ops)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

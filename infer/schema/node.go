// Package schema infers JSON schemas (as OpenAPI 3 schemas) from observed
// values: JSON bodies, form and multipart bodies, and parameter strings.
//
// A Node accumulates what was seen at one position of a document (the root,
// a property, the items of an array). It is plain data, safe to serialize
// with encoding/json, and mergeable: observing A then B into one Node gives
// the same Node as observing A and B into two Nodes and merging them. Every
// collection in a Node is bounded by Options, and the bounds are applied in
// a way that does not depend on the order of observations, so the same
// observations in any order give the same schema.
//
// Observing is meant to keep up with capture rates: ObserveJSON validates a
// body and then walks its bytes once, without building a tree or decoding
// into interface values, and allocates only for names and enum values it has
// not seen before. Callers that see many bodies per operation should still
// sample them: Options.Sample gives a deterministic rule (the first
// MaxSamples bodies, then one in SampleEvery), which keeps rare optional
// properties visible while bounding the work per operation.
//
// Truncated bodies (cut at a capture cap) are not valid JSON; ObserveJSON
// rejects them and records nothing, so callers should skip them rather than
// learn a schema from half a document.
package schema

import (
	"math"
	"slices"

	"github.com/specter-dev/specter/infer/sensitive"
)

// Options bound what a Node keeps and tune what Schema concludes. Start from
// DefaultOptions; the zero value keeps nothing.
type Options struct {
	// MaxDepth is the deepest nesting described; objects and arrays below it
	// are counted as such but their contents are not (Node.Truncated).
	MaxDepth int
	// MaxProperties caps the properties kept per object position. When more
	// names are seen, the lexicographically smallest MaxProperties are kept
	// and occurrences of the others are counted in Node.PropsDropped; the
	// schema then allows additional properties.
	MaxProperties int
	// MaxEnum caps the distinct string values remembered per position; past
	// it the position is marked EnumOverflow and forgets them.
	MaxEnum int
	// MaxEnumLen is the longest string (in bytes) that may be an enum value;
	// a longer value, or one that is empty or contains white space, marks
	// the position EnumOverflow.
	MaxEnumLen int
	// MinEnumSamples is how many strings a position must have seen before
	// Schema reports an enum, and EnumRatio how many samples per distinct
	// value it needs (a field with 3 values over 9 samples is an enum, one
	// with 3 values over 3 samples is not).
	MinEnumSamples int
	EnumRatio      int
	// MaxArrayItems caps the elements observed per array; the rest are
	// validated and counted (Node.ItemsSkipped), not described.
	MaxArrayItems int
	// MaxSamples and SampleEvery are sampling guidance for callers (see
	// Sample): observe the first MaxSamples bodies of an operation, then one
	// in SampleEvery.
	MaxSamples  int64
	SampleEvery int64
	// MaxPartBytes caps the bytes read from one multipart field value, and
	// MaxParts the parts read from one multipart body.
	MaxPartBytes int
	MaxParts     int
	// RequiredRatio is the share of an object's samples a property must be
	// present in to be required, and RequiredMinSamples the samples the
	// object needs before anything is required (one sample says nothing
	// about optionality).
	RequiredRatio      float64
	RequiredMinSamples int64
	// MapMinKeys is the number of distinct property names from which an
	// object position may be rendered as a map with dynamic keys (see
	// Schema); 0 turns map detection off.
	MapMinKeys int
	// MaxNodes caps the Nodes below the one observations are applied to (a
	// safety net against hostile documents that invent names at every
	// level). Past it no new property or items Node is created; what would
	// have gone there is counted in PropsDropped or ItemsSkipped. Unlike
	// the other bounds, which Nodes survive once it is hit depends on the
	// order of observations; legitimate schemas stay far below it.
	MaxNodes int
}

// DefaultOptions returns the bounds Specter uses.
func DefaultOptions() Options {
	return Options{
		MaxDepth:           16,
		MaxProperties:      256,
		MaxEnum:            16,
		MaxEnumLen:         32,
		MinEnumSamples:     10,
		EnumRatio:          3,
		MaxArrayItems:      32,
		MaxSamples:         100,
		SampleEvery:        10,
		MaxPartBytes:       4 << 10,
		MaxParts:           256,
		RequiredRatio:      0.95,
		RequiredMinSamples: 2,
		MaxNodes:           16384,
		MapMinKeys:         16,
	}
}

// Sample reports whether the body numbered seen (0-based, per operation)
// should be observed: the first MaxSamples all are, then one in SampleEvery.
// It is deterministic, so that reruns over the same capture infer the same
// schemas.
func (o Options) Sample(seen int64) bool {
	if seen < o.MaxSamples {
		return true
	}
	if o.SampleEvery <= 1 {
		return o.SampleEvery == 1
	}
	return (seen-o.MaxSamples)%o.SampleEvery == 0
}

// Node accumulates the values seen at one schema position. Counts are of
// values (samples), not of documents: the items of an array count each
// element observed. Observing and merging modify a Node and need exclusive
// access; Schema only reads it.
type Node struct {
	// Count is the number of values seen here, null included.
	Count int64 `json:"count"`
	// Per-type counts. Int counts integral numbers that fit int64 (Int64
	// those of them beyond int32); Number counts the other numbers.
	Null   int64 `json:"null,omitempty"`
	Bool   int64 `json:"bool,omitempty"`
	Int    int64 `json:"int,omitempty"`
	Int64  int64 `json:"int64,omitempty"`
	Number int64 `json:"number,omitempty"`
	String int64 `json:"string,omitempty"`
	Object int64 `json:"object,omitempty"`
	Array  int64 `json:"array,omitempty"`
	// Formats counts the strings by format (see Format); strings without a
	// format are not counted.
	Formats map[string]int64 `json:"formats,omitempty"`
	// Enum is the sorted set of distinct strings seen, while they are few,
	// short and not sensitive; EnumOverflow says they were not.
	Enum         []string `json:"enum,omitempty"`
	EnumOverflow bool     `json:"enum_overflow,omitempty"`
	// Sensitive is the union of the sensitive-data kinds seen in the
	// strings here (and the name rules for this property's name).
	Sensitive sensitive.Tag `json:"sensitive,omitempty"`
	// Props are the properties of the objects seen here; PropsDropped counts
	// occurrences of properties not kept (over MaxProperties).
	Props        map[string]*Node `json:"props,omitempty"`
	PropsDropped int64            `json:"props_dropped,omitempty"`
	// Items accumulates the elements of the arrays seen here; ItemsSkipped
	// counts elements past MaxArrayItems, not observed.
	Items        *Node `json:"items,omitempty"`
	ItemsSkipped int64 `json:"items_skipped,omitempty"`
	// Truncated counts objects and arrays below MaxDepth whose contents were
	// not described.
	Truncated int64 `json:"truncated,omitempty"`
	// Size is the number of Nodes below this one, kept up to date on the
	// Node that observations and merges are applied to (not on its
	// children), for the MaxNodes bound.
	Size int64 `json:"size,omitempty"`

	// enumOwn says every value in Enum was checked by observeText in this
	// process (no format, not sensitive by value, no random token), so that
	// seeing one again needs no such check. Enum values decoded or merged
	// from elsewhere may come from other rules: they clear it.
	enumOwn bool
	// rule is the sensitive-data name rule of the name this Node's values
	// are always observed under by ObserveJSON (its property name, or for
	// items the array's), once ruleKnown.
	rule      sensitive.NameRule
	ruleKnown bool

	// names caches the sorted keys of Props for objects at their
	// MaxProperties bound (nil otherwise); it is derived data, rebuilt
	// whenever its length disagrees with Props.
	names []string
}

// budget is what remains of MaxNodes during one observation or merge.
// Deeper Nodes may use a smaller share of it, so that a deep subtree with
// invented names cannot starve the shallow properties that matter most:
// a Node at depth d (the root's properties are at depth 1) may be created
// while fewer than MaxNodes*(MaxDepth+2-d)/(MaxDepth+1) exist.
type budget struct {
	left     int64
	max      int64
	maxDepth int64
}

func (n *Node) budget(opts Options) budget {
	return budget{left: int64(opts.MaxNodes) - n.Size, max: int64(opts.MaxNodes), maxDepth: int64(max(opts.MaxDepth, 0))}
}

// settle records the Nodes created and freed under b in n.Size.
func (n *Node) settle(b *budget, opts Options) {
	n.Size = int64(opts.MaxNodes) - b.left
}

// take uses one Node of the budget for a Node at depth, if allowed.
func (b *budget) take(depth int) bool {
	if !b.can(depth) {
		return false
	}
	b.left--
	return true
}

// can reports whether a Node at depth may be created.
func (b *budget) can(depth int) bool {
	if b.left <= 0 {
		return false
	}
	if d := int64(depth); d > 1 {
		share := b.max
		if d <= b.maxDepth+1 && b.max < 1<<40 {
			share = b.max * (b.maxDepth + 2 - d) / (b.maxDepth + 1)
		}
		if b.max-b.left >= share {
			return false
		}
	}
	return true
}

// countNodes returns the number of Nodes in the tree rooted at n.
func countNodes(n *Node) int64 {
	c := int64(1)
	for _, p := range n.Props {
		c += countNodes(p)
	}
	if n.Items != nil {
		c += countNodes(n.Items)
	}
	return c
}

// items returns n.Items, creating it at depth if the budget allows (else
// nil).
func (n *Node) items(depth int, b *budget) *Node {
	if n.Items == nil {
		if !b.take(depth) {
			return nil
		}
		n.Items = &Node{}
	}
	return n.Items
}

// Merge adds the observations of o to n, with the bounds of DefaultOptions;
// see MergeWith.
func (n *Node) Merge(o *Node) { n.MergeWith(o, DefaultOptions()) }

// MergeWith adds the observations of o to n, applying opts' bounds, so that
// the result equals observing everything o saw into n. o is not modified
// and shares nothing with n afterwards.
func (n *Node) MergeWith(o *Node, opts Options) {
	bv := n.budget(opts)
	b := &bv
	n.merge(o, 0, opts, b)
	n.settle(b, opts)
}

func (n *Node) merge(o *Node, depth int, opts Options, b *budget) {
	if o == nil {
		return
	}
	n.Count += o.Count
	n.Null += o.Null
	n.Bool += o.Bool
	n.Int += o.Int
	n.Int64 += o.Int64
	n.Number += o.Number
	n.String += o.String
	n.Object += o.Object
	n.Array += o.Array
	for f, c := range o.Formats {
		if n.Formats == nil {
			n.Formats = make(map[string]int64, len(o.Formats))
		}
		n.Formats[f] += c
	}
	n.Sensitive |= o.Sensitive
	if o.EnumOverflow {
		n.overflowEnum()
	} else {
		if len(o.Enum) > 0 && !o.enumOwn {
			n.enumOwn = false
		}
		for _, v := range o.Enum {
			n.addEnum(v, opts)
		}
	}
	n.PropsDropped += o.PropsDropped
	for _, k := range sortedKeys(o.Props) {
		child := n.prop(k, depth+1, opts, b)
		if child == nil {
			n.PropsDropped += o.Props[k].Count
			continue
		}
		child.merge(o.Props[k], depth+1, opts, b)
	}
	if o.Items != nil {
		if items := n.items(depth+1, b); items != nil {
			items.merge(o.Items, depth+1, opts, b)
		} else {
			n.ItemsSkipped += o.Items.Count
		}
	}
	n.ItemsSkipped += o.ItemsSkipped
	n.Truncated += o.Truncated
}

// Clone returns a deep copy of n.
func (n *Node) Clone() *Node {
	c := &Node{}
	// n already holds its bounds; unlimited ones copy it as it is.
	c.MergeWith(n, Options{MaxProperties: math.MaxInt, MaxEnum: math.MaxInt, MaxEnumLen: math.MaxInt, MaxNodes: math.MaxInt})
	c.Size = n.Size
	return c
}

func sortedKeys(m map[string]*Node) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// prop returns the child for property k, creating it if the bound allows:
// the kept names are always the smallest MaxProperties names seen, so a
// larger name is refused (nil) when full, and a smaller one evicts the
// largest kept name, whose occurrences move to PropsDropped.
//
// A name that is itself sensitive (an e-mail address or a token used as a
// key) is kept as its marker (sensitive.RedactName): the Node is stored.
func (n *Node) prop(k string, depth int, opts Options, b *budget) *Node {
	if c, ok := n.Props[k]; ok {
		return c
	}
	if m, ok := sensitive.RedactName(k); ok {
		k = m
		if c, ok := n.Props[k]; ok {
			return c
		}
	}
	return n.addProp(k, depth, opts, b)
}

// propBytes is prop for a name held as bytes; it allocates only for a new
// property that is kept. keyed reports that the child is held under k
// itself (not under k's marker, which several names share).
func (n *Node) propBytes(k []byte, depth int, opts Options, b *budget) (c *Node, keyed bool) {
	if c, ok := n.Props[string(k)]; ok {
		return c, true
	}
	if _, ok := sensitive.RedactName(k); ok {
		return n.prop(string(k), depth, opts, b), false // rare: no need to save the conversion
	}
	if opts.MaxProperties <= 0 {
		return nil, false
	}
	full := len(n.Props) >= opts.MaxProperties
	if (full && compareStringBytes(n.largest(), k) < 0) || (!full && !b.can(depth)) {
		return nil, false // refused before converting the name
	}
	return n.addProp(string(k), depth, opts, b), true
}

// largest returns the greatest property name, keeping n.names (the sorted
// names) once the object has hit its bound, so that refusing or evicting a
// name does not scan the map each time.
func (n *Node) largest() string {
	if len(n.names) != len(n.Props) {
		n.names = sortedKeys(n.Props) // rebuilt when stale (new Node, decoded, edited)
	}
	if len(n.names) == 0 {
		return ""
	}
	return n.names[len(n.names)-1]
}

// addProp creates property k (a Node at depth) within the bounds.
func (n *Node) addProp(k string, depth int, opts Options, b *budget) *Node {
	if opts.MaxProperties <= 0 {
		return nil
	}
	full := len(n.Props) >= opts.MaxProperties
	if full {
		largest := n.largest()
		if k > largest {
			return nil
		}
		n.PropsDropped += n.Props[largest].Count
		b.left += countNodes(n.Props[largest])
		delete(n.Props, largest)
		n.names = n.names[:len(n.names)-1]
	}
	if !b.take(depth) {
		if full {
			n.names = nil // one name fewer than before: rebuild when needed
		}
		return nil
	}
	if n.Props == nil {
		n.Props = make(map[string]*Node)
	}
	c := &Node{}
	n.Props[k] = c
	if n.names != nil {
		i, _ := slices.BinarySearch(n.names, k)
		n.names = slices.Insert(n.names, i, k)
	}
	return c
}

// compareStringBytes is strings.Compare(e, string(t)) without converting t.
func compareStringBytes(e string, t []byte) int {
	for i := 0; i < len(e) && i < len(t); i++ {
		if e[i] != t[i] {
			if e[i] < t[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(e) < len(t):
		return -1
	case len(e) > len(t):
		return 1
	}
	return 0
}

// enumCandidate reports whether v can be an enum value: a non-empty word
// (no white space or control characters). Prose repeated across samples is
// test data, not an enumeration.
func enumCandidate[T text](v T) bool {
	if len(v) == 0 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] == 0x7f {
			return false
		}
	}
	return true
}

func (n *Node) overflowEnum() {
	n.EnumOverflow = true
	n.Enum = nil
}

// addEnum records v in the enum set, keeping it sorted; the set overflows
// (for good) when it would exceed MaxEnum or v is too long.
func (n *Node) addEnum(v string, opts Options) {
	if n.EnumOverflow {
		return
	}
	i, found := slices.BinarySearch(n.Enum, v)
	if found {
		return
	}
	if len(v) > opts.MaxEnumLen || len(n.Enum) >= opts.MaxEnum || !enumCandidate(v) {
		n.overflowEnum()
		return
	}
	n.Enum = slices.Insert(n.Enum, i, v)
}

// addEnumBytes is addEnum for a value held as bytes; it allocates only when
// the value is new.
func (n *Node) addEnumBytes(v []byte, opts Options) {
	if n.EnumOverflow {
		return
	}
	i, found := slices.BinarySearchFunc(n.Enum, v, compareStringBytes)
	if found {
		return
	}
	if len(v) > opts.MaxEnumLen || len(n.Enum) >= opts.MaxEnum || !enumCandidate(v) {
		n.overflowEnum()
		return
	}
	n.Enum = slices.Insert(n.Enum, i, string(v))
}

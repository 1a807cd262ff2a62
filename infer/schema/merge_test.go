package schema

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// genJSON writes a random JSON value drawn from small vocabularies, so that
// documents share keys and values (and hit enum and property bounds).
func genJSON(r *rand.Rand, b *strings.Builder, depth int) {
	keys := []string{"id", "name", "email", "tags", "a", "b", "c", "d", "e", "when", "nested", "z\\u00e9"}
	strs := []string{"on", "off", "idle", "x", "alice@example.com", "2024-01-02", "2024-01-02T03:04:05Z",
		"8c7b1a52-6f37-4c38-9d6a-0e1f2a3b4c5d", "https://example.com/", "10.0.0.1", "a much longer string value that is no enum",
		"4111 1111 1111 1111", "esc\\n\\\"aped\\\""}
	k := r.IntN(10)
	if depth > 3 && k >= 7 {
		k = r.IntN(7)
	}
	switch k {
	case 0:
		b.WriteString("null")
	case 1:
		b.WriteString([]string{"true", "false"}[r.IntN(2)])
	case 2:
		fmt.Fprintf(b, "%d", r.Int64N(1<<40)-1<<39)
	case 3:
		fmt.Fprintf(b, "%d", r.IntN(100))
	case 4:
		fmt.Fprintf(b, "%g", r.Float64()*1000)
	case 5, 6:
		fmt.Fprintf(b, `"%s"`, strs[r.IntN(len(strs))])
	case 7, 8:
		b.WriteByte('{')
		n := r.IntN(6)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(b, `"%s":`, keys[r.IntN(len(keys))])
			genJSON(r, b, depth+1)
		}
		b.WriteByte('}')
	case 9:
		b.WriteByte('[')
		n := r.IntN(5)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			genJSON(r, b, depth+1)
		}
		b.WriteByte(']')
	}
}

func genDocs(seed uint64, n int) []string {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	docs := make([]string, n)
	for i := range docs {
		var b strings.Builder
		genJSON(r, &b, 0)
		docs[i] = b.String()
	}
	return docs
}

// TestMergeProperty: observing A then B equals observing A and B apart and
// merging, and any order of observations gives the same Node, with bounds
// hit and not.
func TestMergeProperty(t *testing.T) {
	tight := Options{MaxDepth: 3, MaxProperties: 3, MaxEnum: 3, MaxEnumLen: 8, MaxArrayItems: 2, MaxNodes: 1 << 20}
	for _, tc := range []struct {
		name string
		opts Options
	}{{"default", DefaultOptions()}, {"tight bounds", tight}} {
		t.Run(tc.name, func(t *testing.T) {
			for seed := uint64(1); seed <= 200; seed++ {
				docs := genDocs(seed, 1+int(seed%13))
				for _, d := range docs {
					if !json.Valid([]byte(d)) {
						t.Fatalf("generator produced invalid JSON %q", d)
					}
				}
				all := observeAll(t, tc.opts, docs...)
				split := int(seed) % len(docs)
				a := observeAll(t, tc.opts, docs[:split]...)
				b := observeAll(t, tc.opts, docs[split:]...)
				a.MergeWith(b, tc.opts)
				if dump(all) != dump(a) {
					t.Fatalf("seed %d: merge differs from sequential:\n%s\n%s", seed, dump(all), dump(a))
				}
				// Reverse order, one Node per document, merged.
				rev := &Node{}
				for i := len(docs) - 1; i >= 0; i-- {
					rev.MergeWith(observeAll(t, tc.opts, docs[i]), tc.opts)
				}
				if dump(all) != dump(rev) {
					t.Fatalf("seed %d: order changes the Node:\n%s\n%s", seed, dump(all), dump(rev))
				}
				if s1, s2 := schemaJSON(t, all, tc.opts), schemaJSON(t, rev, tc.opts); s1 != s2 {
					t.Fatalf("seed %d: schemas differ:\n%s\n%s", seed, s1, s2)
				}
				checkBounds(t, all, tc.opts, 0)
				if err := all.Schema(tc.opts).Validate(t.Context()); err != nil {
					t.Fatalf("seed %d: invalid OpenAPI schema: %v", seed, err)
				}
				if got := countNodes(all) - 1; got != all.Size || countNodes(rev)-1 != rev.Size {
					t.Fatalf("seed %d: Size %d/%d, counted %d", seed, all.Size, rev.Size, got)
				}
			}
		})
	}
}

// checkBounds fails when a Node holds more than opts allow.
func checkBounds(t testing.TB, n *Node, opts Options, depth int) {
	t.Helper()
	if len(n.Props) > opts.MaxProperties || len(n.Enum) > opts.MaxEnum || (n.EnumOverflow && n.Enum != nil) {
		t.Fatalf("bounds exceeded at depth %d: %d props, %d enum", depth, len(n.Props), len(n.Enum))
	}
	if depth > opts.MaxDepth {
		t.Fatalf("described depth %d beyond MaxDepth %d", depth, opts.MaxDepth)
	}
	for _, v := range n.Enum {
		if len(v) > opts.MaxEnumLen {
			t.Fatalf("enum value %q longer than %d", v, opts.MaxEnumLen)
		}
	}
	for _, c := range n.Props {
		checkBounds(t, c, opts, depth+1)
	}
	if n.Items != nil {
		checkBounds(t, n.Items, opts, depth+1)
	}
}

func TestMergeNilAndEmpty(t *testing.T) {
	n := observeAll(t, DefaultOptions(), `{"a":1}`)
	want := dump(n)
	n.Merge(nil)
	n.Merge(&Node{})
	if got := dump(n); got != want {
		t.Errorf("merging nothing changed the Node: %s -> %s", want, got)
	}
	var zero Node
	zero.Merge(n)
	if got := dump(&zero); got != want {
		t.Errorf("merge into empty: %s, want %s", got, want)
	}
	// o is not aliased: changing n afterwards leaves o alone.
	zero.Props["a"].Count = 99
	if n.Props["a"].Count != 1 {
		t.Error("Merge aliased the merged Node's children")
	}
}

// TestNodeBudget: documents inventing names at every level stay within
// MaxNodes, the shallow properties survive the deep junk, and Size counts
// the Nodes exactly.
func TestNodeBudget(t *testing.T) {
	opts := DefaultOptions()
	opts.MaxNodes = 200
	n := &Node{}
	for i := 0; i < 50; i++ {
		var b strings.Builder
		b.WriteString(`{"a_junk":{`)
		for j := 0; j < 40; j++ {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"k%d_%d":{"x%d":{"y%d":1}}`, i, j, i, j)
		}
		fmt.Fprintf(&b, `},"z_top%d":1,"z_top":true}`, i%3)
		if err := n.ObserveJSON([]byte(b.String()), opts); err != nil {
			t.Fatal(err)
		}
		if got := countNodes(n) - 1; got != n.Size || got > int64(opts.MaxNodes) {
			t.Fatalf("doc %d: Size %d, counted %d, max %d", i, n.Size, got, opts.MaxNodes)
		}
	}
	for _, k := range []string{"z_top", "z_top0", "z_top1", "z_top2"} {
		if n.Props[k] == nil {
			t.Errorf("shallow property %q lost to the deep junk", k)
		}
	}
	if n.Props["a_junk"].PropsDropped == 0 {
		t.Error("no drops counted")
	}
	// Merging respects the budget too.
	m := &Node{}
	m.MergeWith(n, opts)
	m.MergeWith(observeAll(t, opts, `{"new1":{"new2":{"new3":1}}}`), opts)
	if got := countNodes(m) - 1; got != m.Size || got > int64(opts.MaxNodes) {
		t.Fatalf("merged: Size %d, counted %d", m.Size, got)
	}
}

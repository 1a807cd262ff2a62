package template

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// buildRejected makes a trie from lines "METHOD /path [xN]", where a
// path ending in " !" was rejected by the server (see InsertRejected).
func buildRejected(t testing.TB, lines []string) *Trie {
	t.Helper()
	tr := NewTrie(Limits{})
	id := 0
	for _, l := range lines {
		l, rej := strings.CutSuffix(l, " !")
		for _, one := range expand([]string{l}) {
			method, path, _ := strings.Cut(one, " ")
			node := tr.InsertRejected(SplitPath(path), rej)
			if node.Ops == nil {
				node.Ops = map[string]int{}
			}
			if _, ok := node.Ops[method]; !ok {
				node.Ops[method] = id
				id++
			}
		}
	}
	return tr
}

// digitIDs returns n ids of digits the way an API writing them as strings
// sends them: lengths 1 to 19, leading zeros as they fall.
func digitIDs(r *rand.Rand, n int) []string {
	var out []string
	for range n {
		l := 1 + r.IntN(19)
		b := make([]byte, l)
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		out = append(out, string(b))
	}
	return out
}

// intIDs returns n integer ids, log-uniform up to 10^7.
func intIDs(r *rand.Rand, n int) []string {
	var out []string
	for range n {
		d := 1 + r.IntN(7)
		v := 1 + r.IntN(9)
		for range d - 1 {
			v = v*10 + r.IntN(10)
		}
		out = append(out, fmt.Sprint(v))
	}
	return out
}

func TestParamTypes(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	uuids := func(n int) []string {
		var out []string
		for range n {
			out = append(out, fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), r.IntN(1<<12), r.Int64N(1<<48)))
		}
		return out
	}
	cases := []struct {
		name string
		in   []string
		want []string
	}{
		{
			name: "digit ids with leading zeros or past 2^53 are strings, every method of the position",
			in: cat(
				seq("GET /lists/%s", digitIDs(r, 30)...),
				seq("PUT /lists/%s", "258", "681163105"),
			),
			want: []string{"GET /lists/{listId:string}", "PUT /lists/{listId:string}"},
		},
		{
			name: "integer ids stay integers",
			in: cat(
				seq("GET /lists/%s", intIDs(r, 30)...),
				seq("PUT /lists/%s", "258", "681163105"),
			),
			want: []string{"GET /lists/{listId:integer/int64}", "PUT /lists/{listId:integer/int64}"},
		},
		{
			name: "one zero-padded value among many integers is not a string id",
			in: cat(
				seq("GET /lists/%s", intIDs(r, 30)...),
				[]string{"GET /lists/007"},
			),
			want: []string{"GET /lists/{listId:integer/int64}"},
		},
		{
			name: "a method seen only with a rejected stray value takes the position's accepted type",
			in: cat(
				seq("GET /users/%s", uuids(8)...),
				seq("GET /users/%s/views !", "not_IKQg6L5PXdEKNBXSqXB9sl"),
				seq("GET /users/%s/items", uuids(3)...),
			),
			want: []string{"GET /users/{userId:string/uuid}", "GET /users/{userId:string/uuid}/items", "GET /users/{userId:string/uuid}/views"},
		},
		{
			name: "an accepted odd value is the method's own evidence",
			in: cat(
				seq("GET /users/%s", uuids(8)...),
				seq("GET /users/%s/views", "not_IKQg6L5PXdEKNBXSqXB9sl"),
			),
			want: []string{"GET /users/{userId:string/uuid}", "GET /users/{userId:string}/views"},
		},
		{
			name: "rejected values alone still type the parameter",
			in:   seq("GET /users/%s !", uuids(3)...),
			want: []string{"GET /users/{userId:string/uuid}"},
		},
		{
			name: "a method with accepted values ignores its rejected ones",
			in: cat(
				seq("GET /orders/%s", intIDs(r, 3)...),
				seq("GET /orders/%s !", "ord_8sJd2KqLmNpQ", "ord_Zx81kQpLmNa2", "ord_Q1w2e3r4t5y6"),
			),
			want: []string{"GET /orders/{orderId:integer/int64}"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := describe(buildRejected(t, c.in).Endpoints(Options{}))
			if !slices.Equal(got, c.want) {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

// TestRejectedMerges: the rejected counts survive JSON and merging, so
// a trie built in two runs types as one built at once.
func TestRejectedMerges(t *testing.T) {
	in := []string{"GET /users/6b1d0c1e-8f3a-4c2b-9d4e-0a1b2c3d4e5f", "GET /users/0b1d0c1e-8f3a-4c2b-9d4e-0a1b2c3d4e5f/views !", "GET /users/1b1d0c1e-8f3a-4c2b-9d4e-0a1b2c3d4e5f"}
	whole := buildRejected(t, in)
	a, b := buildRejected(t, in[:1]), buildRejected(t, in[1:])
	data, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var b2 Trie
	if err := json.Unmarshal(data, &b2); err != nil {
		t.Fatal(err)
	}
	a.Merge(&b2, func(_ string, dst, src int) (int, bool) {
		if dst >= 0 {
			return dst, true
		}
		return src + 100, true
	})
	if a.Root.Rejected != 1 || whole.Root.Rejected != 1 {
		t.Fatalf("root rejected: merged %d, whole %d; want 1", a.Root.Rejected, whole.Root.Rejected)
	}
	if got, want := describe(a.Endpoints(Options{})), describe(whole.Endpoints(Options{})); !slices.Equal(got, want) {
		t.Errorf("merged %q, whole %q", got, want)
	}
}

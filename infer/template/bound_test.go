package template

import (
	"fmt"
	"testing"
)

// TestBoundedFlood: a flood of distinct ids keeps the trie within its node
// limit, counts what it folded, and still templates correctly.
func TestBoundedFlood(t *testing.T) {
	lim := Limits{MaxChildren: 64, MaxNodes: 2000}
	tr := NewTrie(lim)
	words := []string{"orders", "notes", "files"}
	for i := range 50000 {
		p := fmt.Sprintf("/users/%d/%s/%08x1", i*7919, words[i%3], i*104729)
		n := tr.Insert(SplitPath(p))
		if n.Ops == nil {
			n.Ops = map[string]int{"GET": 0}
		}
	}
	tr.Insert(SplitPath("/users/me")).Ops = map[string]int{"GET": 1}
	if tr.Stats.Nodes > lim.MaxNodes+3*maxOverflow {
		t.Errorf("nodes = %d, limit %d", tr.Stats.Nodes, lim.MaxNodes)
	}
	if tr.Stats.Folded == 0 {
		t.Error("nothing folded")
	}
	got := describe(tr.Endpoints(Options{}))
	want := []string{
		"GET /users/me",
		"GET /users/{userId:integer/int64}/files/{fileId:string}",
		"GET /users/{userId:integer/int64}/notes/{noteId:string}",
		"GET /users/{userId:integer/int64}/orders/{orderId:string}",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

// BenchmarkEndpointsFlooded: deciding templates on a trie at its limits,
// with many word and name values at the same positions.
func BenchmarkEndpointsFlooded(b *testing.B) {
	tr := NewTrie(Limits{})
	for i := range 20000 {
		p := fmt.Sprintf("/api/u%d-x%d/word-%c%c/sub%d/leaf-%d", i%300, i%7, 'a'+i%26, 'a'+i/26%26, i%5, i%11)
		n := tr.Insert(SplitPath(p))
		if n.Ops == nil {
			n.Ops = map[string]int{"GET": 0}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		tr.Endpoints(Options{})
	}
	b.ReportMetric(float64(tr.Stats.Nodes)*float64(b.N)/b.Elapsed().Seconds(), "nodes/s")
}

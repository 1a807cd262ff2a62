package template

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/specter-dev/specter/capture/corpus"
	"github.com/specter-dev/specter/infer/harload"
)

func TestDbg2(t *testing.T) {
	set := os.Getenv("DBG2")
	if set == "" {
		t.Skip()
	}
	dir := corpus.Dir(t, "corpus/traffic")
	xs, _ := harload.ReadFile(filepath.Join(dir, set, "traffic.har"))
	tr := NewTrie(Limits{})
	for i, x := range xs {
		n := tr.Insert(SplitPath(x.Request.Path))
		if n.Ops == nil {
			n.Ops = map[string]int{}
		}
		n.Ops[x.Request.Method] = i
	}
	n := tr.Root
	for _, s := range filepath.SplitList(os.Getenv("DBGPATH")) {
		n = n.Children[s]
	}
	w := walker{static: map[string]bool{}, claimed: map[*Node]bool{}, byKey: map[string]int{}}
	cands := children([]*Node{n})
	var gnodes []*Node
	var total uint64
	for _, c := range cands {
		if c.shape.Variable() {
			gnodes = append(gnodes, c.nodes...)
			total += c.count
		}
	}
	fmt.Println("total", total)
	for _, c := range cands {
		if c.shape == ShapeWord {
			fmt.Println(c.key, c.count, w.compatible(c.nodes, gnodes, 4, true))
			if c.key == os.Getenv("DBGW") {
				dbgDump(c.nodes[0], "  ")
			}
		}
	}
}

func dbgDump(n *Node, ind string) {
	for _, k := range sortedKeys(n.Children) {
		fmt.Println(ind, k, n.Children[k].Count, n.Children[k].Ops)
		dbgDump(n.Children[k], ind+"  ")
	}
}

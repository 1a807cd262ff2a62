package template

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/specter-dev/specter/capture/corpus"
	"github.com/specter-dev/specter/infer/harload"
)

func TestDevCorpus(t *testing.T) {
	if os.Getenv("DEV") == "" {
		t.Skip()
	}
	dir := corpus.Dir(t, "corpus/traffic")
	sets, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, s := range sets {
		xs, err := harload.ReadFile(filepath.Join(s, "traffic.har"))
		if err != nil {
			t.Fatal(err)
		}
		tr := NewTrie(Limits{})
		id := 0
		ids := map[string]int{}
		for _, x := range xs {
			n := tr.Insert(SplitPath(x.Request.Path))
			if n.Ops == nil {
				n.Ops = map[string]int{}
			}
			if _, ok := n.Ops[x.Request.Method]; !ok {
				n.Ops[x.Request.Method] = id
				ids[x.Request.Method+" "+x.Request.Path] = id
				id++
			}
		}
		eps := tr.Endpoints(Options{})
		got := map[string]bool{}
		for _, e := range eps {
			for m := range e.Ops {
				got[m+" "+norm(e.Path)] = true
			}
		}
		var truth struct {
			Operations []struct{ Method, Template string }
		}
		b, _ := os.ReadFile(filepath.Join(s, "truth.json"))
		json.Unmarshal(b, &truth)
		want := map[string]bool{}
		for _, o := range truth.Operations {
			want[strings.ToUpper(o.Method)+" "+norm(o.Template)] = true
		}
		var fp, fn []string
		for k := range got {
			if !want[k] {
				fp = append(fp, k)
			}
		}
		for k := range want {
			if !got[k] {
				fn = append(fn, k)
			}
		}
		sort.Strings(fp)
		sort.Strings(fn)
		tp := len(want) - len(fn)
		fmt.Printf("== %s tp=%d fp=%d fn=%d\n", filepath.Base(s), tp, len(fp), len(fn))
		for _, k := range fp {
			fmt.Println("  FP", k)
		}
		for _, k := range fn {
			fmt.Println("  FN", k)
		}
	}
}

func norm(p string) string {
	segs := strings.Split(strings.TrimRight(p, "/"), "/")
	for i, s := range segs {
		if a := strings.IndexByte(s, '{'); a >= 0 {
			b := strings.LastIndexByte(s, '}')
			segs[i] = s[:a] + "{}" + s[b+1:]
		}
	}
	return strings.Join(segs, "/")
}

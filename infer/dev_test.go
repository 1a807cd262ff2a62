package infer

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/specter-dev/specter/capture/corpus"
	"github.com/specter-dev/specter/infer/harload"
)

var (
	devSet  = flag.String("set", "", "dev: export this corpus set to /tmp/devinfer")
	devKids = flag.Int("kids", 0, "dev: MaxChildren")
	devFrac = flag.Int("frac", 100, "dev: percent of exchanges")
)

func TestDevExport(t *testing.T) {
	if *devSet == "" {
		t.Skip()
	}
	dir := corpus.Dir(t, "corpus/traffic")
	xs, err := harload.ReadFile(filepath.Join(dir, *devSet, "traffic.har"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{}
	cfg.Limits.Trie.MaxChildren = *devKids
	m := NewModel(cfg)
	xs = xs[:len(xs)**devFrac/100]
	for _, x := range xs {
		m.Observe(x)
	}
	doc, err := m.OpenAPIAll(ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Create("/tmp/devinfer/" + *devSet + ".yaml")
	defer f.Close()
	Write(f, doc, "yaml")
}

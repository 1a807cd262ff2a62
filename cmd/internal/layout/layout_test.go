package layout

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/specter-dev/specter"

// layers declares the order, lowest first: a package may import packages of
// its own layer or of a lower one. A package belongs to the layer of the
// longest prefix naming it (a directory and everything below it).
var layers = [][]string{
	{"capture", "bpf"},
	// The protocol-neutral HTTP message, below the parsers that make it.
	{"reassembly/message"},
	{"reassembly"},
	{"infer"},
	{"store"},
	{"cmd/internal/pipeline"},
	{"cmd"},
}

// layerOf returns the layer of the module's package path (relative to the
// module), or -1 when no layer declares it.
func layerOf(rel string) int {
	best, bestLen := -1, -1
	for i, l := range layers {
		for _, p := range l {
			if (rel == p || strings.HasPrefix(rel, p+"/")) && len(p) > bestLen {
				best, bestLen = i, len(p)
			}
		}
	}
	return best
}

// violations returns, sorted, one line per import of graph (package →
// imports, full paths) that runs up the layers or involves a package of the
// module no layer declares. Imports outside the module are ignored.
func violations(graph map[string][]string) []string {
	var out []string
	rel := func(p string) (string, bool) {
		if p == module {
			return "", true
		}
		r, ok := strings.CutPrefix(p, module+"/")
		return r, ok
	}
	for pkg, imports := range graph {
		from, ok := rel(pkg)
		if !ok {
			continue
		}
		lf := layerOf(from)
		if lf < 0 {
			out = append(out, fmt.Sprintf("%s: in no layer (declare it in layers)", from))
			continue
		}
		for _, imp := range imports {
			to, ok := rel(imp)
			if !ok {
				continue
			}
			lt := layerOf(to)
			switch {
			case lt < 0:
				out = append(out, fmt.Sprintf("%s → %s: %s is in no layer", from, to, to))
			case lt > lf:
				out = append(out, fmt.Sprintf("%s → %s: runs back up (layer %v imports layer %v)", from, to, layers[lf], layers[lt]))
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestViolations(t *testing.T) {
	m := func(p string) string { return module + "/" + p }
	tests := []struct {
		name  string
		graph map[string][]string
		want  int
	}{
		{"down and sideways", map[string][]string{
			m("store"):                 {m("infer"), m("reassembly"), m("capture"), "fmt"},
			m("capture/live"):          {m("capture"), m("bpf"), "github.com/gopacket/gopacket"},
			m("cmd/specter"):           {m("cmd/internal/pipeline"), m("store/report"), m("bpf")},
			m("cmd/internal/pipeline"): {m("capture/live"), m("store")},
		}, 0},
		{"live pump into reassembly", map[string][]string{
			m("capture/live"): {m("capture"), m("reassembly")},
		}, 1},
		{"bpf into reassembly", map[string][]string{m("bpf"): {m("reassembly")}}, 1},
		{"message into a parser", map[string][]string{m("reassembly/message"): {m("reassembly/http1")}}, 1},
		{"parser into message", map[string][]string{m("reassembly/http1"): {m("reassembly/message")}}, 0},
		{"infer into store", map[string][]string{m("infer/diff"): {m("store")}}, 1},
		{"store into the pipeline", map[string][]string{m("store"): {m("cmd/internal/pipeline")}}, 1},
		{"pipeline into a command", map[string][]string{m("cmd/internal/pipeline"): {m("cmd/specter")}}, 1},
		{"undeclared importer", map[string][]string{m("util"): {m("capture")}}, 1},
		{"undeclared import", map[string][]string{m("store"): {m("common")}}, 1},
		{"outside the module", map[string][]string{"example.com/x": {m("cmd/specter")}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := violations(tt.graph); len(got) != tt.want {
				t.Errorf("violations = %q, want %d", got, tt.want)
			}
		})
	}
}

// listed is what `go list -json` says of a package.
type listed struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Error        *struct{ Err string }
}

// TestLayout fails on an import, test imports included, that runs back up
// the layers.
func TestLayout(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH:", err)
	}
	cmd := exec.Command(goTool, "list", "-e", "-json", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	graph := map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		if p.Error != nil {
			t.Errorf("%s: %s", p.ImportPath, p.Error.Err)
		}
		imports := slices.Concat(p.Imports, p.TestImports, p.XTestImports)
		slices.Sort(imports)
		graph[p.ImportPath] = slices.Compact(imports)
	}
	if len(graph) < 10 {
		t.Fatalf("go list found %d packages: not the module", len(graph))
	}
	for _, v := range violations(graph) {
		t.Error(v)
	}
}

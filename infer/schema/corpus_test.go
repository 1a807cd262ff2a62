package schema

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/specter-dev/specter/capture/corpus"
)

// har is the part of HAR 1.2 the corpus test reads.
type har struct {
	Log struct {
		Entries []struct {
			Request struct {
				Method string `json:"method"`
				URL    string `json:"url"`
			} `json:"request"`
			Response struct {
				Status  int `json:"status"`
				Content struct {
					Text string `json:"text"`
				} `json:"content"`
			} `json:"response"`
		} `json:"entries"`
	} `json:"log"`
}

type truth struct {
	Operations []struct {
		Host      string `json:"host"`
		Method    string `json:"method"`
		Template  string `json:"template"`
		Responses map[string]struct {
			ObservedProps []string `json:"observed_props"`
		} `json:"responses"`
	} `json:"operations"`
}

var paramRE = regexp.MustCompile(`\\\{[^}]*\\\}`)

// TestCorpusTopLevelProps infers response schemas from the bodies in each
// traffic set's HAR and compares the top-level property names (of the
// object, or of the items of a top-level array) with the ground truth's
// observed_props.
func TestCorpusTopLevelProps(t *testing.T) {
	dir := corpus.Dir(t, "corpus/traffic")
	sets, _ := filepath.Glob(filepath.Join(dir, "*", "truth.json"))
	if len(sets) == 0 {
		t.Skip("no traffic sets")
	}
	opts := DefaultOptions()
	opts.MaxProperties = 4096
	for _, tp := range sets {
		set := filepath.Dir(tp)
		t.Run(filepath.Base(set), func(t *testing.T) {
			var tr truth
			var h har
			readJSON(t, tp, &tr)
			readJSON(t, filepath.Join(set, "traffic.har"), &h)
			type key struct{ method, template, status string }
			type op struct {
				method, host, template string
				re                     *regexp.Regexp
				literal                int
			}
			var ops []op
			for _, o := range tr.Operations {
				ops = append(ops, op{o.Method, o.Host, o.Template,
					regexp.MustCompile("^" + paramRE.ReplaceAllString(regexp.QuoteMeta(o.Template), "[^/]+") + "$"),
					len(regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(o.Template, ""))})
			}
			nodes := map[key]*Node{}
			bodies, bytes := 0, 0
			for _, e := range h.Log.Entries {
				rest := strings.TrimPrefix(strings.TrimPrefix(e.Request.URL, "http://"), "https://")
				host, path, _ := strings.Cut(rest, "/")
				host, _, _ = strings.Cut(host, ":")
				path, _, _ = strings.Cut("/"+path, "?")
				// The most specific template (most literal characters) wins.
				best := -1
				for i, o := range ops {
					if o.method == e.Request.Method && o.host == host && o.re.MatchString(path) &&
						(best < 0 || o.literal > ops[best].literal || (o.literal == ops[best].literal && o.template > ops[best].template)) {
						best = i
					}
				}
				if best < 0 {
					continue
				}
				k := key{e.Request.Method, ops[best].template, strconv.Itoa(e.Response.Status)}
				if nodes[k] == nil {
					nodes[k] = &Node{}
				}
				if txt := e.Response.Content.Text; txt != "" {
					if err := nodes[k].ObserveJSON([]byte(txt), opts); err == nil {
						bodies++
						bytes += len(txt)
					}
				}
			}
			checked := 0
			for _, o := range tr.Operations {
				for status, r := range o.Responses {
					n := nodes[key{o.Method, o.Template, status}]
					var got []string
					if n != nil {
						got = topLevel(n)
						if err := n.Schema(opts).Validate(t.Context()); err != nil {
							t.Errorf("%s %s %s: invalid OpenAPI schema: %v", o.Method, o.Template, status, err)
						}
					}
					want := slices.Clone(r.ObservedProps)
					slices.Sort(want)
					if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
						t.Errorf("%s %s %s: props %v, want %v", o.Method, o.Template, status, got, want)
					}
					checked++
				}
			}
			t.Logf("%d responses checked, %d JSON bodies (%d bytes)", checked, bodies, bytes)
		})
	}
}

func topLevel(n *Node) []string {
	keys := sortedKeys(n.Props)
	if n.Items != nil {
		keys = append(keys, sortedKeys(n.Items.Props)...)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("%s: %v", path, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

package main

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/template"
)

// TestVerbTablesDisplayWidth: explain and show print through the display
// width table: a column after CJK and combining cells starts at the same
// display column on every row, and a hostile value's terminal escapes are
// shown escaped, not sent to the terminal.
func TestVerbTablesDisplayWidth(t *testing.T) {
	for _, tc := range []struct {
		name   string
		print  func(*bytes.Buffer) error
		anchor []string // the cells of one column, a row each, that must start together
	}{
		{"explain", func(b *bytes.Buffer) error {
			return printExplanations(b, "GET", []infer.PathExplanation{{
				Service: "shop.test", Path: "/商品/e\u0301\u0301/1", Template: "/商品/{x}/{id}", Methods: []string{"GET"},
				Segments: []template.Explanation{
					{Value: "商品", Segment: "商品", Shape: "word", Count: 2},
					{Value: "e\u0301\u0301", Segment: "{x}", Shape: "word", Count: 2},
					{Value: "1", Segment: "{id}", Shape: "int", Count: 2},
				},
			}})
		}, []string{"SEGMENT", "商品  word", "{x}", "{id}"}},
		{"show", func(b *bytes.Buffer) error {
			return printDetail(b, endpointDetail{Endpoint: infer.EndpointSummary{Service: "evil\x1b[31m.test", Method: "GET", Template: "/商品"}})
		}, []string{"evil", "GET /商品"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.print(&b); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if !utf8.ValidString(out) || strings.Contains(out, "\x1b") {
				t.Errorf("escape or bad UTF-8 in output:\n%q", out)
			}
			starts := map[int]bool{}
			for _, cell := range tc.anchor {
				for _, l := range strings.Split(out, "\n") {
					if i := strings.Index(l, cell); i > 0 && strings.HasSuffix(l[:i], "  ") {
						starts[runewidth.StringWidth(l[:i])] = true
						break
					}
				}
			}
			if len(starts) != 1 {
				t.Errorf("column starts %v for %q:\n%s", starts, tc.anchor, out)
			}
		})
	}
}

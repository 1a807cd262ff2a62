package diff

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"
)

// TestTableDisplayWidth: the findings table aligns its columns by display
// width (CJK characters two columns, combining marks none), and fitted to
// a narrow width it cuts cells between characters, never inside a UTF-8
// sequence. Reasons longer than the cut are cut between characters too.
func TestTableDisplayWidth(t *testing.T) {
	long := strings.Repeat("説明", 80) // 160 wide, 480 bytes: a byte cut lands inside a character
	fs := []Finding{
		{Kind: KindShadow, Rule: RuleUndeclaredPath, Severity: SeverityHigh, Service: "shop.example.test", Method: "GET", Path: "/api/商品/{id}", Count: 3, Reason: long},
		{Kind: KindShadow, Rule: RuleUndeclaredPath, Severity: SeverityHigh, Service: "e\u0301.example.test", Method: "POST", Path: "/a\u0301b\u0301c\u0301", Count: 1, Reason: "x"},
	}
	Sort(fs)
	for _, tc := range []struct {
		name  string
		width int
	}{{"no limit", 0}, {"wide", 200}, {"narrow", 70}, {"very narrow", 40}} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteReportWidth(&b, Report{Findings: fs}, "table", "", tc.width); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			var rows []string
			for _, l := range lines {
				if !utf8.ValidString(l) {
					t.Errorf("line is not valid UTF-8: %q", l)
				}
				if w := runewidth.StringWidth(l); tc.width >= 7*8 && w > tc.width {
					t.Errorf("line is %d wide, width %d: %q", w, tc.width, l)
				}
				if strings.HasPrefix(l, "  ") {
					rows = append(rows, l)
				}
			}
			if len(rows) != 3 {
				t.Fatalf("%d rows:\n%s", len(rows), b.String())
			}
			// Every column starts at the same display column on each row:
			// the METHOD cell, found by its text, starts where the header's
			// does.
			col := func(l, cell string) int {
				i := strings.Index(l, cell)
				if i < 0 {
					t.Fatalf("no %q in %q", cell, l)
				}
				return runewidth.StringWidth(l[:i])
			}
			head := col(rows[0], "METHOD")
			for _, r := range rows[1:] {
				m := "GET"
				if strings.Contains(r, "POST") {
					m = "POST"
				}
				if got := col(r, " "+m+" ") + 1; got != head {
					t.Errorf("METHOD at %d, header at %d:\n%s", got, head, strings.Join(rows, "\n"))
				}
			}
		})
	}
}

package table

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"
)

// TestTable: columns align by display width, rows are cut to the width
// between characters (never inside a UTF-8 sequence), nothing is cut
// without a width, and control characters are escaped.
func TestTable(t *testing.T) {
	rows := [][]string{
		{"SERVICE", "METHOD", "TEMPLATE", "AUTH"},
		{"shop.example.test", "GET", "/api/v1/商品/{id}/説明", "bearer"},
		{"ü.example.test", "POST", "/a/\u0301combining/" + strings.Repeat("é", 30), "-"},
		{"evil\x1b[31m.test", "GET", "/x\x00y\xff", "basic (2xx without credentials!)"},
	}
	render := func(width int) []string {
		var buf bytes.Buffer
		tb := New(&buf, width)
		for _, r := range rows {
			fmt.Fprintln(tb, strings.Join(r, "\t"))
		}
		if err := tb.Flush(); err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	}
	for _, width := range []int{0, 120, 60, 40, 30} { // 30: every column at minColumn
		lines := render(width)
		if len(lines) != len(rows) {
			t.Fatalf("width %d: %d lines", width, len(lines))
		}
		// The column starts, by display width, are the same on every line.
		starts := func(l string) []int {
			var s []int
			col, prevSpace, spaces := 0, true, 0
			for _, r := range l {
				if r == ' ' {
					spaces++
				} else {
					if prevSpace && (col == 0 || spaces >= tableGap) {
						s = append(s, col)
					}
					spaces = 0
				}
				prevSpace = r == ' '
				col += runewidth.RuneWidth(r)
			}
			return s
		}
		for i, l := range lines {
			if !utf8.ValidString(l) {
				t.Errorf("width %d: line %d is not valid UTF-8: %q", width, i, l)
			}
			if strings.ContainsAny(l, "\x1b\x00") {
				t.Errorf("width %d: line %d carries control characters: %q", width, i, l)
			}
			if w := runewidth.StringWidth(l); width > 0 && w > width {
				t.Errorf("width %d: line %d is %d wide: %q", width, i, w, l)
			}
			if fmt.Sprint(starts(l)[:1]) != "[0]" {
				t.Errorf("line %q", l)
			}
		}
		if got, want := starts(lines[1])[1], starts(lines[0])[1]; got != want {
			t.Errorf("width %d: second column at %d, header at %d:\n%s", width, got, want, strings.Join(lines, "\n"))
		}
		cut := strings.Contains(strings.Join(lines, "\n"), "…")
		if cut != (width > 0 && width < 100) {
			t.Errorf("width %d: cut %v:\n%s", width, cut, strings.Join(lines, "\n"))
		}
	}
	if l := render(0)[3]; !strings.Contains(l, `\x1b[31m`) || !strings.Contains(l, `\x00`) || !strings.Contains(l, "\uFFFD") {
		t.Errorf("control characters or bad UTF-8 not shown escaped: %q", l)
	}
}

// FuzzTable: whatever the cells, each line is valid UTF-8, free of
// control characters, and fits the width whenever the columns can.
func FuzzTable(f *testing.F) {
	f.Add("a\tb", "商品\t\x1b[31m", 20)
	f.Add("\xff\xfe\tx", "é\u0301\tz", 13)
	f.Fuzz(func(t *testing.T, r1, r2 string, width int) {
		width = width % 200
		var buf bytes.Buffer
		tb := New(&buf, width)
		fmt.Fprintf(tb, "%s\n%s\n", strings.ReplaceAll(r1, "\n", " "), strings.ReplaceAll(r2, "\n", " "))
		if err := tb.Flush(); err != nil {
			t.Fatal(err)
		}
		cols := max(strings.Count(r1, "\t"), strings.Count(r2, "\t")) + 1
		for _, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
			if !utf8.ValidString(l) || strings.IndexFunc(l, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
				t.Fatalf("line %q", l)
			}
			if w := runewidth.StringWidth(l); width >= cols*(minColumn+tableGap) && w > width {
				t.Fatalf("line %q is %d wide, width %d", l, w, width)
			}
		}
	})
}

package main

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"

	"github.com/mattn/go-runewidth"
	xterm "golang.org/x/term"
)

// tableGap is the spaces between columns.
const tableGap = 2

// minColumn is the narrowest a column is cut to when the table does not
// fit the terminal.
const minColumn = 6

// table is a drop-in for text/tabwriter for the verbs' wide tables: it
// takes tab-separated cells and newline-ended rows, and on Flush aligns
// them by display width (a CJK character takes two columns, a combining
// mark none). When its writer is a terminal, the widest columns are cut,
// with "…", until each row fits the terminal's width; cells are cut
// between characters, never inside a UTF-8 sequence. Into a file or a
// pipe nothing is cut. Control characters (a hostile path could carry
// terminal escapes) are shown escaped.
type table struct {
	w     io.Writer
	width int // columns available, 0 for no limit
	buf   bytes.Buffer
}

// newTable returns a table writing to w, fitted to w's width when it is a
// terminal.
func newTable(w io.Writer) *table {
	return &table{w: w, width: terminalWidth(w)}
}

// terminalWidth returns the columns of the terminal w is, or 0.
func terminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok || !xterm.IsTerminal(int(f.Fd())) {
		return 0
	}
	cols, _, err := xterm.GetSize(int(f.Fd()))
	if err != nil || cols <= 0 {
		return 0
	}
	return cols
}

func (t *table) Write(p []byte) (int, error) { return t.buf.Write(p) }

// Flush writes the table.
func (t *table) Flush() error {
	text := strings.TrimSuffix(t.buf.String(), "\n")
	t.buf.Reset()
	if text == "" {
		return nil
	}
	var rows [][]string
	var widths []int
	for _, line := range strings.Split(text, "\n") {
		cells := strings.Split(line, "\t")
		for i, c := range cells {
			cells[i] = printable(c)
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], runewidth.StringWidth(cells[i]))
		}
		rows = append(rows, cells)
	}
	fit(widths, t.width)
	var out strings.Builder
	for _, cells := range rows {
		var line strings.Builder
		for i, c := range cells {
			if runewidth.StringWidth(c) > widths[i] {
				c = runewidth.Truncate(c, widths[i], "…")
			}
			line.WriteString(c)
			if i < len(cells)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-runewidth.StringWidth(c)+tableGap))
			}
		}
		out.WriteString(strings.TrimRight(line.String(), " "))
		out.WriteByte('\n')
	}
	_, err := io.WriteString(t.w, out.String())
	return err
}

// fit narrows the widest columns, one column at a time, until the row
// fits width (0: no limit) or every column is at minColumn.
func fit(widths []int, width int) {
	if width <= 0 {
		return
	}
	total := func() int {
		n := tableGap * (len(widths) - 1)
		for _, w := range widths {
			n += w
		}
		return n
	}
	for over := total() - width; over > 0; over-- {
		widest := 0
		for i, w := range widths {
			if w > widths[widest] {
				widest = i
			}
		}
		if widths[widest] <= minColumn {
			return
		}
		widths[widest]--
	}
}

// printable replaces invalid UTF-8 with U+FFFD and escapes control
// characters, so that a cell is exactly what its width says.
func printable(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			b.WriteString(strings.Trim(strconv.QuoteRune(r), "'"))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Package table aligns tab-separated rows by display width, for the
// command line's tables: a drop-in for text/tabwriter that knows a CJK
// character takes two columns and a combining mark none, fits a width by
// cutting the widest columns between characters (never inside a UTF-8
// sequence), and shows control characters escaped.
package table

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/mattn/go-runewidth"
)

// tableGap is the spaces between columns.
const tableGap = 2

// minColumn is the narrowest a column is cut to when the table does not
// fit the terminal.
const minColumn = 6

// Writer is a drop-in for text/tabwriter for the verbs' wide tables: it
// takes tab-separated cells and newline-ended rows, and on Flush aligns
// them by display width (a CJK character takes two columns, a combining
// mark none). With a width, the widest columns are cut, with "…", until
// each row fits it; cells are cut between characters, never inside a UTF-8
// sequence. A row of one cell (a section title, a blank line) takes no
// part in the column widths and ends the block of rows aligned together,
// as in text/tabwriter; it is cut to the width. Control
// characters (a hostile path could carry terminal escapes) are shown
// escaped.
type Writer struct {
	w     io.Writer
	width int // columns available, 0 for no limit
	buf   bytes.Buffer
}

// New returns a Writer writing to w, fitted to width columns (0: nothing
// is cut).
func New(w io.Writer, width int) *Writer {
	return &Writer{w: w, width: width}
}

// Write buffers p until Flush.
func (t *Writer) Write(p []byte) (int, error) { return t.buf.Write(p) }

// Flush writes the buffered rows, aligned, and empties the buffer.
func (t *Writer) Flush() error {
	text := strings.TrimSuffix(t.buf.String(), "\n")
	t.buf.Reset()
	if text == "" {
		return nil
	}
	var out strings.Builder
	var block [][]string
	for _, line := range strings.Split(text, "\n") {
		cells := strings.Split(line, "\t")
		for i, c := range cells {
			cells[i] = printable(c)
		}
		if len(cells) > 1 {
			block = append(block, cells)
			continue
		}
		// A title ends the block of rows aligned together, as in
		// text/tabwriter.
		t.writeBlock(&out, block)
		block = block[:0]
		c := cells[0]
		if t.width > 0 && runewidth.StringWidth(c) > t.width {
			c = runewidth.Truncate(c, t.width, "…")
		}
		out.WriteString(strings.TrimRight(c, " "))
		out.WriteByte('\n')
	}
	t.writeBlock(&out, block)
	_, err := io.WriteString(t.w, out.String())
	return err
}

// writeBlock writes rows aligned by their columns' display widths, fitted
// to the width.
func (t *Writer) writeBlock(out *strings.Builder, rows [][]string) {
	var widths []int
	for _, cells := range rows {
		for i, c := range cells {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], runewidth.StringWidth(c))
		}
	}
	fit(widths, t.width)
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

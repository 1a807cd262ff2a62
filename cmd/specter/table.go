package main

import (
	"io"
	"os"

	xterm "golang.org/x/term"

	"github.com/specter-dev/specter/infer/table"
)

// newTable returns a table writing to w, fitted to w's width when it is a
// terminal; into a file or a pipe nothing is cut.
func newTable(w io.Writer) *table.Writer {
	return table.New(w, terminalWidth(w))
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

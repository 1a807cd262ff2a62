package main

import (
	"io"
	"os"

	"github.com/spf13/cobra"
)

// ioStreams are the standard streams a verb's run function reads and
// writes, so that it runs without cobra (in tests) as it does under it.
type ioStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// streamsOf returns cmd's streams: its standard output is the -o file of
// the verbs that register one (registerOutput sets it before RunE).
func streamsOf(cmd *cobra.Command) ioStreams {
	return ioStreams{In: cmd.InOrStdin(), Out: cmd.OutOrStdout(), ErrOut: cmd.ErrOrStderr()}
}

// errTerminal returns the standard error as a file when it is a terminal
// (the progress and status lines are drawn there), else nil.
func (s ioStreams) errTerminal() *os.File {
	if f, ok := s.ErrOut.(*os.File); ok && isTerminal(f) {
		return f
	}
	return nil
}

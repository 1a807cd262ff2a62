package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// signalCause is the cause a context is cancelled with when a signal
// (SIGINT, SIGTERM) asks the process to stop: the command then flushes
// what it has, and the process exits 128+signal, as shells expect.
type signalCause struct{ sig syscall.Signal }

func (s signalCause) Error() string { return "interrupted by " + unix.SignalName(s.sig) }

// signalContext returns a context cancelled, with a signalCause, by the
// first SIGINT or SIGTERM. A second one ends the process at once, for a
// flush that takes too long.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			sig, _ := s.(syscall.Signal)
			cancel(signalCause{sig})
		case <-done:
			return
		}
		select {
		case s := <-ch:
			sig, _ := s.(syscall.Signal)
			os.Exit(128 + int(sig))
		case <-done:
		}
	}()
	return ctx, func() { signal.Stop(ch); close(done); cancel(nil) }
}

// untilSignal annotates the verbs that run until a signal stops them
// (capture): for them SIGINT or SIGTERM is the normal end, exit status 0,
// as service managers expect of a clean stop.
const untilSignal = "specter-until-signal"

// interrupted returns the signal that cancelled ctx, if one did.
func interrupted(ctx context.Context) (syscall.Signal, bool) {
	var sc signalCause
	if errors.As(context.Cause(ctx), &sc) {
		return sc.sig, true
	}
	return 0, false
}

// preRun chains fn before the command's PreRunE: flag checks that must
// hold whatever the command then uses.
func preRun(cmd *cobra.Command, fn func() error) {
	prev := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		if prev != nil {
			if err := prev(c, args); err != nil {
				return err
			}
		}
		return fn()
	}
}

// checkInputs refuses named inputs that do not exist before anything is
// read, so that a typo is an error, not an empty result.
func checkInputs(paths []string) error {
	for _, p := range paths {
		if p == "-" {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			return usageError("%v", err)
		}
	}
	return nil
}

// reportInputErrors writes each input error of a run (file, offset, what
// was wrong) to w, the standard error of the command.
func reportInputErrors(w io.Writer, sum summary) {
	for _, e := range sum.Errors {
		fmt.Fprintf(w, "error: %s\n", e)
	}
}

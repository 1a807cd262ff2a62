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

	"github.com/specter-dev/specter/store"
)

// usageError is a usage error (exit 2): a bad flag, argument or input
// name, refused before anything is read.
func usageError(format string, a ...any) error {
	return &exitError{code: exitFatal, err: fmt.Errorf(format, a...)}
}

// fatalError is an error after which nothing could be done (exit 2): a
// database that cannot be opened, a report that cannot be written.
func fatalError(err error) error { return &exitError{code: exitFatal, err: err} }

// partialError is an error in some inputs, the results being those of the
// others (exit 1).
func partialError(err error) error { return &exitError{code: exitPartial, err: err} }

// findingsError reports findings of a --fail-on kind (exit 3).
func findingsError(err error) error { return &exitError{code: exitFindings, err: err} }

// exitStatus classifies how the command ran ended, and is the one place
// that does: it returns the exit code and what to say on stderr ("" for
// nothing). In order: a signal that stopped a verb not meant to run until
// one (128+N: the command has flushed what it read, the status tells the
// shell the run did not go to its end); success; a write failure (disk or
// quota full, I/O error: exit 4, whatever else went wrong, since results
// are missing where they were asked to go); the code an exitError carries;
// any other error, which is fatal.
func exitStatus(ctx context.Context, ran *cobra.Command, err error) (int, string) {
	if sig, ok := interrupted(ctx); ok && (ran == nil || ran.Annotations[untilSignal] == "") {
		return 128 + int(sig), signalCause{sig}.Error()
	}
	if err == nil {
		return exitOK, ""
	}
	if store.IsWriteFailure(err) {
		return exitWrite, fmt.Sprintf("writing failed (disk full or I/O error), what was committed before is kept: %v", err)
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err == nil {
			return ee.code, ""
		}
		return ee.code, ee.err.Error()
	}
	return exitFatal, err.Error()
}

// outcome maps a run's result to the error execute turns into an exit code:
// fatal errors exit 2, input errors with results exit 1. Packets of a link
// type the decoder cannot read do not count as read.
func outcome(sum summary, err error) error {
	read := sum.Packets - sum.Decode.UnsupportedLink
	if err != nil {
		if read == 0 {
			return fatalError(err)
		}
		return partialError(err)
	}
	if len(sum.Errors) > 0 {
		if read == 0 {
			return fatalError(fmt.Errorf("no packets could be read: %s", sum.Errors[0]))
		}
		return partialError(fmt.Errorf("%d input error(s); results are partial", len(sum.Errors)))
	}
	return nil
}

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

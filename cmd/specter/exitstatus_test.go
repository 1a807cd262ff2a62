package main

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/spf13/cobra"
)

// TestExitStatus checks the one classification of a verb's end into an
// exit code and its message, in its order of precedence.
func TestExitStatus(t *testing.T) {
	sigCtx, cancel := context.WithCancelCause(context.Background())
	cancel(signalCause{syscall.SIGINT})
	capture := &cobra.Command{Annotations: map[string]string{untilSignal: "yes"}}
	for _, tc := range []struct {
		name     string
		ctx      context.Context
		ran      *cobra.Command
		err      error
		wantCode int
		wantMsg  string
	}{
		{name: "success", err: nil, wantCode: exitOK},
		{name: "usage", err: usageError("--workers %d: must not be negative", -1), wantCode: exitFatal, wantMsg: "--workers -1: must not be negative"},
		{name: "fatal", err: fatalError(errors.New("no capture files")), wantCode: exitFatal, wantMsg: "no capture files"},
		{name: "partial", err: partialError(errors.New("2 input error(s)")), wantCode: exitPartial, wantMsg: "2 input error(s)"},
		{name: "findings", err: findingsError(errors.New("3 finding(s)")), wantCode: exitFindings, wantMsg: "3 finding(s)"},
		{name: "silent code", err: &exitError{code: exitPartial}, wantCode: exitPartial},
		{name: "plain error is fatal", err: errors.New("boom"), wantCode: exitFatal, wantMsg: "boom"},
		{name: "disk full wins over fatal", err: fatalError(fmt.Errorf("checkpoint: %w", syscall.ENOSPC)), wantCode: exitWrite,
			wantMsg: "writing failed (disk full or I/O error), what was committed before is kept: checkpoint: no space left on device"},
		{name: "disk full wins over partial", err: partialError(fmt.Errorf("x: %w", syscall.EIO)), wantCode: exitWrite,
			wantMsg: "writing failed (disk full or I/O error), what was committed before is kept: x: input/output error"},
		{name: "signal wins", ctx: sigCtx, err: partialError(errors.New("interrupted")), wantCode: 128 + int(syscall.SIGINT), wantMsg: "interrupted by SIGINT"},
		{name: "signal without error", ctx: sigCtx, wantCode: 130, wantMsg: "interrupted by SIGINT"},
		{name: "signal ends a capture", ctx: sigCtx, ran: capture, wantCode: exitOK},
		{name: "capture error after a signal", ctx: sigCtx, ran: capture, err: fatalError(errors.New("db")), wantCode: exitFatal, wantMsg: "db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := tc.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			code, msg := exitStatus(ctx, tc.ran, tc.err)
			if code != tc.wantCode || msg != tc.wantMsg {
				t.Errorf("exitStatus = %d, %q; want %d, %q", code, msg, tc.wantCode, tc.wantMsg)
			}
		})
	}
}

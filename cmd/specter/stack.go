package main

import (
	"context"
	"fmt"

	"github.com/specter-dev/specter/capture/live"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/store"
)

// inputOptions are the resolved inputs of a verb that reads capture files:
// the paths, analyze's BPF filter, and the reassembly options (bounds,
// decoding; the place for anything else reassembly is given, such as TLS
// keys).
type inputOptions struct {
	Paths      []string
	Filter     *live.FrameFilter
	Reassembly reassembly.Config
}

// filesResult is what a run over capture files through the sink stack did.
type filesResult struct {
	Sink    *sinkStack // finished: its model, checker and run are to read
	Summary summary
	// RunErr is the source's error (nothing found to read, an interrupt):
	// the results are what was read before it.
	RunErr error
	// Counters are the run's, as the source and the sinks left them.
	Counters *counters
}

// consumeFiles opens the sink stack of so, runs the inputs through it (a
// progress line on a terminal's standard error, each input error
// reported there), and finishes it: with --db the run is recorded with the
// counters' totals. The error is the stack's (it could not be opened, or
// its results not written), not the inputs'. The counters are so.ctr
// (new ones when nil).
func consumeFiles(ctx context.Context, ios ioStreams, in inputOptions, so sinkOptions) (filesResult, error) {
	if so.ctr == nil {
		so.ctr = new(counters)
	}
	ctr := so.ctr
	if so.stderr == nil {
		so.stderr = ios.ErrOut
	}
	v, err := openSink(ctx, so)
	if err != nil {
		return filesResult{}, err
	}
	sum, runErr := runWithProgress(ctx, ios, in, v.Emit, ctr)
	res := filesResult{Sink: v, Summary: sum, RunErr: runErr, Counters: ctr}
	v.tlsServices = sum.TLSServices
	// An interrupt cancelled ctx; what was read is still written.
	if _, err := v.Finish(context.WithoutCancel(ctx), fileTotals(sum, runErr, ctr)); err != nil {
		return res, fatalError(err)
	}
	return res, nil
}

// fileTotals are a run's totals for the store: complete only when every
// input was read.
func fileTotals(sum summary, runErr error, ctr *counters) store.RunTotals {
	t := store.RunTotals{
		Packets:  ctr.Packets.Load(),
		Bytes:    ctr.Bytes.Load(),
		Drops:    ctr.Drops(),
		Errors:   uint64(len(sum.Errors)),
		Complete: runErr == nil && len(sum.Errors) == 0,
	}
	switch {
	case runErr != nil:
		t.Error = runErr.Error()
	case len(sum.Errors) > 0:
		t.Error = fmt.Sprintf("%d input error(s), first: %s", len(sum.Errors), sum.Errors[0])
	}
	return t
}

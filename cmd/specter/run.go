package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/specter-dev/specter/capture"
	"github.com/specter-dev/specter/cmd/internal/pipeline"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/tlsdecrypt"
)

// summary is what one run over capture files did; `specter analyze` prints it.
type summary struct {
	Files      []string          `json:"files"`
	Packets    uint64            `json:"packets"`
	Bytes      uint64            `json:"bytes"`
	Decode     decodeSummary     `json:"decode"`
	Reassembly reassembly.Stats  `json:"reassembly"`
	Errors     []string          `json:"errors,omitempty"`
	Filter     string            `json:"filter,omitempty"`   // the BPF filter expression, if any
	Filtered   uint64            `json:"filtered,omitempty"` // packets it rejected (counted in packets)
	Seconds    float64           `json:"seconds"`
	MBPerSec   float64           `json:"mb_per_sec"`
	Extra      map[string]uint64 `json:"extra,omitempty"`
	// KeyLog counts the TLS secrets read (--keylog, pcapng blocks);
	// TLSServices is what TLS handshakes told, by server name.
	KeyLog      tlsdecrypt.KeyLogStats  `json:"keylog"`
	TLSServices []reassembly.TLSService `json:"tls_services,omitempty"`
}

type decodeSummary struct {
	TCP              uint64 `json:"tcp"`
	NonTCP           uint64 `json:"non_tcp"`
	Errors           uint64 `json:"errors"`
	Fragments        uint64 `json:"ip_fragments"`
	Reassembled      uint64 `json:"ip_reassembled"`
	FragmentsDropped uint64 `json:"ip_fragments_dropped"`
	// Corrupt records the readers skipped, and the bytes skipped with them.
	CorruptRecords uint64 `json:"corrupt_records"`
	SkippedBytes   uint64 `json:"skipped_bytes"`
	// Frames of a link type the decoder cannot read (among Errors).
	UnsupportedLink uint64 `json:"unsupported_link"`
}

// progress is read by the progress line while a run goes on.
type progress = pipeline.Progress

// runWithProgress runs the inputs, calling emit for each exchange, with a
// progress line on the standard error when it is a terminal, and writes
// each input error there. A named input that does not exist is an error
// before anything is read.
func runWithProgress(ctx context.Context, ios ioStreams, in inputOptions, emit func(*reassembly.Exchange), ctr *counters) (summary, error) {
	if err := checkInputs(in.Paths); err != nil {
		return summary{}, err
	}
	prog := new(progress)
	stop := make(chan struct{})
	done := make(chan struct{})
	if f := ios.errTerminal(); f != nil {
		go func() { progressLine(f, prog, stop); close(done) }()
	} else {
		close(done)
	}
	sum, err := runFiles(ctx, in, ios.In, emit, prog, ctr)
	close(stop)
	<-done
	reportInputErrors(ios.ErrOut, sum)
	return sum, err
}

// runFiles reads every capture of in, in order, through the decoder and
// the reassembly pipeline, calling emit for each exchange and keeping ctr
// current. Errors in one file are recorded and the run goes on with the
// next: what was decoded up to the error still counts. The error returned
// is fatal (nothing could be read at all) or the context's.
func runFiles(ctx context.Context, in inputOptions, stdin io.Reader, emit func(*reassembly.Exchange), prog *progress, ctr *counters) (summary, error) {
	var sum summary
	files, err := capture.Expand(in.Paths)
	if err != nil {
		return sum, err
	}
	if len(files) == 0 {
		return sum, errors.New("no capture files found in the given paths")
	}
	sum.Files = files
	filter := in.Filter
	if filter != nil {
		sum.Filter = filter.String()
	}
	// Ends the goroutines of an interruptible stdin when the run does.
	readCtx, stopRead := context.WithCancel(ctx)
	defer stopRead()
	start := time.Now()
	cfg := in.Reassembly
	if cfg.TLS == nil {
		cfg.TLS = decryptorFrom(ctx) // nil without --keylog: Files makes one for the pcapng keys
	}
	src := &pipeline.Files{Paths: files, Stdin: interruptible(readCtx, stdin), Config: cfg, Emit: emit, Progress: prog, Filter: filter}
	sum.Reassembly, err = src.Run(ctx, ctr)
	fs := src.Stats()
	sum.Packets, sum.Bytes, sum.Errors, sum.Filtered = fs.Packets, fs.Bytes, fs.Errors, fs.Filtered
	sum.KeyLog, sum.TLSServices = fs.KeyLog, fs.TLSServices
	ds := fs.Decode
	sum.Decode.CorruptRecords, sum.Decode.SkippedBytes = fs.CorruptRecords, fs.SkippedBytes
	sum.Decode.TCP, sum.Decode.NonTCP, sum.Decode.Errors, sum.Decode.UnsupportedLink = ds.TCP, ds.NonTCP, ds.Errors, ds.UnsupportedLink
	sum.Decode.Fragments, sum.Decode.Reassembled, sum.Decode.FragmentsDropped = ds.Fragments, ds.Reassembled, ds.FragmentsDropped
	sum.Seconds = time.Since(start).Seconds()
	if sum.Seconds > 0 {
		sum.MBPerSec = float64(sum.Bytes) / 1e6 / sum.Seconds
	}
	return sum, err
}

// progressLine prints a one-line, refreshed status on w (a terminal) until
// stop is closed.
func progressLine(w io.Writer, prog *progress, stop <-chan struct{}) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	start := time.Now()
	for {
		select {
		case <-stop:
			fmt.Fprint(w, "\r\033[K")
			return
		case <-t.C:
		}
		name := ""
		if p := prog.File.Load(); p != nil {
			name = *p
		}
		read := prog.DoneBytes.Load() + prog.FileBytes.Load()
		secs := time.Since(start).Seconds()
		pct := ""
		if size := prog.FileSize.Load(); size > 0 {
			pct = fmt.Sprintf(" %3.0f%%", 100*float64(prog.FileBytes.Load())/float64(size))
		}
		var ex uint64
		if p := prog.Pipeline.Load(); p != nil {
			ex = p.Stats().Exchanges
		}
		fmt.Fprintf(w, "\r\033[K%s%s  %s  %.0f MB/s  %d exchanges", name, pct, humanBytes(read), float64(read)/1e6/secs, ex)
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func isTerminal(f *os.File) bool { return term(f) }

// interruptible returns a reader of r whose Read returns when ctx is done,
// even while r blocks (a pipe whose writer keeps it open). The copying
// goroutine may stay blocked in r's Read until the process exits.
func interruptible(ctx context.Context, r io.Reader) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		_, err := io.Copy(pw, r)
		pw.CloseWithError(err)
	}()
	go func() {
		<-ctx.Done()
		pr.CloseWithError(ctx.Err())
	}()
	return pr
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/specter-dev/specter/capture"
	"github.com/specter-dev/specter/capture/live"
	"github.com/specter-dev/specter/reassembly"
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
type progress struct {
	file      atomic.Pointer[string]
	fileBytes atomic.Int64 // bytes of the current file read so far
	fileSize  atomic.Int64 // its size, 0 when unknown (stdin, pipes)
	doneBytes atomic.Int64 // bytes of the files already finished
	pipeline  atomic.Pointer[reassembly.Pipeline]
	// packets and bytes read so far, over all files, for checkpoints.
	packets, bytes atomic.Uint64
}

// runFiles reads every capture in paths, in order, through the decoder and
// the reassembly pipeline, calling emit for each exchange. Errors in one
// file are recorded and the run goes on with the next: what was decoded up
// to the error still counts. The error returned is fatal (nothing could be
// read at all) or the context's.
func runFiles(ctx context.Context, paths []string, stdin io.Reader, cfg reassembly.Config, emit func(*reassembly.Exchange), prog *progress) (summary, error) {
	var sum summary
	files, err := capture.Expand(paths)
	if err != nil {
		return sum, err
	}
	if len(files) == 0 {
		return sum, errors.New("no capture files found in the given paths")
	}
	sum.Files = files
	filter, _ := ctx.Value(frameFilterKey{}).(*live.FrameFilter)
	filterErrs := map[string]bool{} // one report per link type the filter cannot compile for
	if filter != nil {
		sum.Filter = filter.String()
	}
	// Ends the goroutines of an interruptible stdin when the run does.
	readCtx, stopRead := context.WithCancel(ctx)
	defer stopRead()
	start := time.Now()
	dec := capture.NewDecoder(capture.DecoderOptions{})
	pipe := reassembly.New(cfg, emit)
	if prog != nil {
		prog.pipeline.Store(pipe)
	}
	var pkt capture.Packet
	var ctxErr error
	for _, name := range files {
		if ctxErr = ctx.Err(); ctxErr != nil {
			break
		}
		if prog != nil {
			n := name
			prog.file.Store(&n)
		}
		var r *capture.Reader
		var err error
		if name == "-" {
			r, err = capture.OpenReader(interruptible(readCtx, stdin), "stdin")
		} else {
			r, err = capture.Open(name)
		}
		if err != nil {
			sum.Errors = append(sum.Errors, err.Error())
			continue
		}
		if prog != nil {
			prog.fileSize.Store(r.Size())
		}
		// Frames of link types the decoder cannot read, per link type,
		// reported once per file rather than silently undecoded.
		var unsupported map[layers.LinkType]uint64
		for i := 0; ; i++ {
			if i&1023 == 0 {
				if ctxErr = ctx.Err(); ctxErr != nil {
					break
				}
				if prog != nil {
					prog.fileBytes.Store(r.BytesRead())
					prog.packets.Store(sum.Packets)
					prog.bytes.Store(sum.Bytes)
				}
			}
			f, err := r.Next()
			if err != nil {
				if ctxErr = ctx.Err(); ctxErr != nil {
					break // the read was cut by the interrupt, not bad input
				}
				if err != io.EOF {
					sum.Errors = append(sum.Errors, err.Error())
				}
				break
			}
			sum.Packets++
			sum.Bytes += uint64(len(f.Data))
			if filter != nil {
				ok, err := filter.Match(f)
				if err != nil && !filterErrs[err.Error()] {
					// Bounded: the filter compiles for a bounded number of
					// link types, each error is kept once.
					filterErrs[err.Error()] = true
					sum.Errors = append(sum.Errors, fmt.Sprintf("%s: offset %d: %v", name, f.Offset, err))
				}
				if !ok {
					sum.Filtered++
					continue
				}
			}
			ok, err := dec.Decode(f, &pkt)
			if err != nil && errors.Is(err, capture.ErrUnsupportedLink) {
				if unsupported == nil {
					unsupported = make(map[layers.LinkType]uint64)
				}
				unsupported[f.LinkType]++
			}
			if err != nil || !ok {
				continue
			}
			pipe.Add(&pkt)
		}
		if prog != nil {
			prog.doneBytes.Add(r.BytesRead())
			prog.fileBytes.Store(0)
			prog.packets.Store(sum.Packets)
			prog.bytes.Store(sum.Bytes)
		}
		for _, lt := range slices.Sorted(maps.Keys(unsupported)) {
			sum.Errors = append(sum.Errors, fmt.Sprintf("%s: link type %d (%s) is not supported: %d frames not decoded", r.Name(), uint32(lt), lt, unsupported[lt]))
		}
		rs := r.Stats()
		sum.Decode.CorruptRecords += rs.CorruptRecords
		sum.Decode.SkippedBytes += rs.SkippedBytes
		r.Close()
		if ctxErr != nil {
			break
		}
	}
	// Whatever happened, what is buffered is flushed: an interrupted run
	// still reports every exchange it saw.
	sum.Reassembly = pipe.Close()
	ds := dec.Stats()
	sum.Decode.TCP, sum.Decode.NonTCP, sum.Decode.Errors, sum.Decode.UnsupportedLink = ds.TCP, ds.NonTCP, ds.Errors, ds.UnsupportedLink
	sum.Decode.Fragments, sum.Decode.Reassembled, sum.Decode.FragmentsDropped = ds.Fragments, ds.Reassembled, ds.FragmentsDropped
	sum.Seconds = time.Since(start).Seconds()
	if sum.Seconds > 0 {
		sum.MBPerSec = float64(sum.Bytes) / 1e6 / sum.Seconds
	}
	if ctxErr != nil {
		return sum, fmt.Errorf("interrupted: %w", ctxErr)
	}
	return sum, nil
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
		if p := prog.file.Load(); p != nil {
			name = *p
		}
		read := prog.doneBytes.Load() + prog.fileBytes.Load()
		secs := time.Since(start).Seconds()
		pct := ""
		if size := prog.fileSize.Load(); size > 0 {
			pct = fmt.Sprintf(" %3.0f%%", 100*float64(prog.fileBytes.Load())/float64(size))
		}
		var ex uint64
		if p := prog.pipeline.Load(); p != nil {
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

// frameFilterKey keys the BPF filter of a run (analyze's expression) in the
// command's context, so that the verbs without one pass nothing.
type frameFilterKey struct{}

// withFrameFilter returns ctx carrying f for runFiles.
func withFrameFilter(ctx context.Context, f *live.FrameFilter) context.Context {
	return context.WithValue(ctx, frameFilterKey{}, f)
}

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

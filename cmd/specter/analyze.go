package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/specter-dev/specter/cmd/internal/pipeline"
	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/diff"
	"github.com/specter-dev/specter/infer/redact"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/har"
	"github.com/specter-dev/specter/store"
)

// analyzeOptions are analyze's resolved flags.
type analyzeOptions struct {
	Inputs     inputOptions
	Infer      inferFlags
	Specs      specFlags
	specs      []*diff.Spec // Specs loaded
	DBPath     string
	Checkpoint checkpointFlags
	Publish    publishFlags
	JSON       bool
	Endpoints  bool
	// Protos are the declared gRPC API (--proto), protos loaded.
	Protos protoFlags
	protos *protoregistry.Files
}

func newAnalyzeCmd() *cobra.Command {
	opts := &analyzeOptions{}
	var pf pipelineFlags
	var rFiles []string
	cmd := &cobra.Command{
		Use:   "analyze [flags] FILE|DIR|- ... [FILTER EXPRESSION]",
		Short: "Analyze capture files and summarize the HTTP traffic in them",
		Long: `Analyze reads pcap and pcapng files (gzip-compressed or not, detected by
content), whole directories of them, or standard input ("-"), reassembles
every TCP connection and parses the HTTP/1.x exchanges in it.

With --db PATH (specter.db by convention) it also infers the API and adds it
to the inventory in that SQLite database (created with mode 0600 when
missing), as one recorded run: what is learned is committed every
--checkpoint-every exchanges or --checkpoint-interval and at the end, so an
interrupted run keeps what it read (the run is then marked incomplete).
Analyzing A then B into one database gives the same inventory as analyzing
A and B together. The database remembers the --config of the last run that
gave one; later runs and readers without --config use it. Without --db nothing is kept; --endpoints prints the
endpoints inferred in memory (or, with --db, the whole stored inventory).

A filter expression after the files (pcap-filter(7), as tcpdump -r takes
it) keeps only the packets it matches; with -r FILE every argument is the
expression.

Exit status: 0 on success, 1 when some input was bad (a corrupt record, a
link type that cannot be decoded) but results were produced, 2 on usage
errors or when nothing could be read, 4 when writing failed (disk full,
I/O error; what --db had committed before is kept), 128+N when signal N
(Ctrl-C: 130) ended the run (what was read is kept).`,
		Example: `  specter analyze capture.pcap
  specter analyze capture.pcap tcp port 8080
  specter analyze -r capture.pcap 'host 10.0.0.5 and tcp port 443 or tcp port 80'
  specter analyze --db specter.db monday.pcap && specter analyze --db specter.db tuesday.pcap
  specter analyze --json captures/ > summary.json
  tcpdump -i eth0 -w - | specter analyze -`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.resolve(args, rFiles, &pf); err != nil {
				return err
			}
			return runAnalyze(cmd.Context(), streamsOf(cmd), opts)
		},
	}
	pf.register(cmd)
	registerKeylog(cmd)
	registerOutput(cmd, &opts.JSON)
	cmd.Flags().BoolVar(&opts.Endpoints, "endpoints", false, "also print the endpoints (inferred in memory, or the stored inventory with --db); with --json under \"endpoints\"")
	registerDB(cmd, &opts.DBPath, "add what is learned to the inventory in this database")
	cmd.Flags().StringArrayVarP(&rFiles, "read", "r", nil, "read this capture file (repeatable); the arguments are then the filter expression, as with tcpdump -r")
	opts.Infer.registerConfig(cmd)
	opts.Specs.register(cmd)
	opts.Protos.register(cmd, "declared gRPC API, a FileDescriptorSet (repeatable): the gRPC methods of the traffic (or, with --db, of the inventory) are checked against it, as diff --proto does")
	opts.Checkpoint.register(cmd)
	opts.Publish.register(cmd)
	return cmd
}

// resolve fills the options from the arguments and flags: the inputs and
// the filter expression, the specs. Its errors are usage errors.
func (o *analyzeOptions) resolve(args, rFiles []string, pf *pipelineFlags) error {
	files, filter, err := splitFilter(args, rFiles)
	if err != nil {
		return err
	}
	o.Inputs = inputOptions{Paths: files, Filter: filter, Reassembly: pf.config()}
	if err := checkInputs(files); err != nil {
		return err
	}
	if o.specs, err = o.Specs.loadAny(); err != nil {
		return err
	}
	if o.protos, err = o.Protos.load(); err != nil {
		return err
	}
	if o.Publish.url != "" && o.DBPath == "" && o.Endpoints {
		return usageError("--publish without --db keeps no inventory to list: drop --endpoints or add --db")
	}
	return nil
}

// runAnalyze reads the inputs into the sink stack (the database with
// --db, an inventory in memory for --endpoints, the checker with --spec)
// and prints the summary.
func runAnalyze(ctx context.Context, ios ioStreams, opts *analyzeOptions) error {
	finishPub, err := opts.Publish.start(ios.ErrOut, &opts.DBPath)
	if err != nil {
		return err
	}
	opts.Checkpoint.publish = opts.Publish.checkpoint
	// --spec here checks the traffic; it is no prior for the inventory,
	// which must keep what the traffic shows (a /users/me that the spec's
	// /users/{userId} would swallow is a finding, not a match).
	res, err := consumeFiles(ctx, ios, opts.Inputs, sinkOptions{
		inf: &opts.Infer, sf: &opts.Specs, specs: opts.specs, dbPath: opts.DBPath,
		run:             store.RunInfo{Inputs: opts.Inputs.Paths, Version: version},
		checkpointEvery: opts.Checkpoint.every, checkpointInterval: opts.Checkpoint.interval,
		publish: opts.Checkpoint.publish, keepModel: opts.Endpoints || opts.protos != nil,
		// Without a spec the wire anomalies are still recorded, for diff --db.
		alwaysCheck: opts.DBPath != "",
	})
	if err = finishPub(err); err != nil {
		return err
	}
	var eps *[]infer.EndpointSummary
	if opts.Endpoints {
		if eps, err = analyzedEndpoints(ctx, opts.DBPath, res.Sink.Model()); err != nil {
			return err
		}
	}
	var rep *diff.Report
	var attachErr error
	if opts.Specs.any() {
		r := res.Sink.Checker().Report()
		rep = &r
		attachErr = opts.Specs.attachments(ios.ErrOut, r.Specs, r.Unchecked)
	}
	if opts.protos != nil {
		if rep, err = withGRPCFindings(ctx, rep, res.Sink.Model(), opts.DBPath, opts.protos); err != nil {
			return err
		}
	}
	if err := printAnalyze(ios.Out, opts.JSON, res.Summary, eps, rep); err != nil {
		return err
	}
	if err := outcome(res.Summary, res.RunErr); err != nil {
		return err
	}
	return attachErr
}

// analyzedEndpoints are analyze --endpoints': the model's, or the stored
// inventory with --db.
func analyzedEndpoints(ctx context.Context, dbPath string, m *infer.Model) (*[]infer.EndpointSummary, error) {
	if m == nil {
		eps, err := storedEndpoints(ctx, dbPath, "")
		return &eps, err
	}
	eps := m.Endpoints()
	if eps == nil {
		eps = []infer.EndpointSummary{}
	}
	return &eps, nil
}

// printAnalyze prints the summary, the endpoints (when not nil) and the
// findings report (when not nil), as a table or JSON.
func printAnalyze(out io.Writer, asJSON bool, sum summary, eps *[]infer.EndpointSummary, rep *diff.Report) error {
	switch {
	case asJSON:
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		v := analyzeJSON{summary: sum, Endpoints: eps}
		if rep != nil {
			if rep.Findings == nil {
				rep.Findings = []diff.Finding{}
			}
			v.Report = rep
		}
		return enc.Encode(v)
	case sum.Packets == 0 && len(sum.Errors) > 0:
		// Nothing was read: the errors (on stderr) are the whole answer,
		// not a table of zeros.
	default:
		printSummary(out, sum)
		if eps != nil {
			fmt.Fprintln(out)
			printEndpoints(out, *eps)
		}
		if rep != nil {
			printFindingsSummary(out, rep.Findings)
		}
	}
	return nil
}

// analyzeJSON is what analyze --json prints: the summary, with
// --endpoints the endpoints, and with --spec the findings and the specs'
// attachments.
type analyzeJSON struct {
	summary
	Endpoints *[]infer.EndpointSummary `json:"endpoints,omitempty"`
	// The findings report, as diff --format json writes it: findings,
	// specs and unchecked_services.
	*diff.Report
}

func printSummary(w io.Writer, s summary) {
	tw := newTable(w)
	r := s.Reassembly
	row := func(k string, v any) { fmt.Fprintf(tw, "%s\t%v\n", k, v) }
	row("files", len(s.Files))
	row("packets", s.Packets)
	row("bytes", fmt.Sprintf("%d (%s)", s.Bytes, humanBytes(int64(s.Bytes))))
	row("tcp segments", s.Decode.TCP)
	row("non-tcp packets", s.Decode.NonTCP)
	row("undecodable packets", s.Decode.Errors)
	if s.Decode.CorruptRecords > 0 {
		row("corrupt records skipped", fmt.Sprintf("%d (%s)", s.Decode.CorruptRecords, humanBytes(int64(s.Decode.SkippedBytes))))
	}
	row("connections", r.Connections)
	row("  http/1", r.ConnsHTTP1)
	row("  http/2", r.ConnsHTTP2)
	row("  tls", r.ConnsTLS)
	tlsRows(row, r)
	row("  upgraded/tunnelled", r.ConnsTunnel)
	row("  other", r.ConnsOther)
	row("exchanges", r.Exchanges)
	row("  unmatched requests", r.UnmatchedRequests)
	row("  unmatched responses", r.UnmatchedResponses)
	row("interim (1xx) responses", r.Interim)
	row("parse errors", r.ParseErrors)
	row("gaps (lost segments)", fmt.Sprintf("%d (%d bytes)", r.Gaps, r.GapBytes))
	row("drops by bound", fmt.Sprintf("%d connections evicted, %d shed for memory, %d gaps forced, %d pipelined requests, %d ip fragments",
		r.EvictedConns, r.Shed, r.GapsByBound, r.PendingOverflow, s.Decode.FragmentsDropped))
	// Bodies are decoded only when read: bombs and decode errors are
	// those of the bodies decoded.
	row("bodies truncated/bombs cut/decode errors", fmt.Sprintf("%d/%d/%d (%d bodies decoded)", r.Truncated, r.BombsCut, r.DecodeErrors, r.Decoded))
	row("half-open flows (forgotten by bound)", fmt.Sprintf("%d (%d)", r.HalfOpen, r.HalfOpenEvicted))
	row("bad framing/CL+TE/unpaired after", fmt.Sprintf("%d/%d/%d", r.BadFraming, r.SmugglingShape, r.Unpaired))
	row("exchanges with anomalies", r.Anomalous)
	row("heads too big/too many fields/long lines", fmt.Sprintf("%d/%d/%d", r.HeadersTooLarge, r.TooManyFields, r.LongStartLines))
	row("long chunk lines/capped codings/zstd windows", fmt.Sprintf("%d/%d/%d", r.ChunkLinesTooLong, r.CodingsCapped, r.WindowTooLarge))
	row("streams not http/1 at 64 KiB/1xx dropped", fmt.Sprintf("%d/%d", r.ProbeLimit, r.InterimDropped))
	if r.ConnsHTTP2 > 0 {
		row("http/2 streams/desyncs/resets", fmt.Sprintf("%d/%d/%d", r.H2Streams, r.H2Desyncs, r.H2Resets))
		row("http/2 unknown hpack fields/unnamed requests", fmt.Sprintf("%d/%d", r.H2UnknownFields, r.H2Unnamed))
		row("http/2 streams evicted/blocks/frames too big", fmt.Sprintf("%d/%d/%d", r.H2StreamsEvicted, r.H2BlocksTooLarge, r.H2FramesTooLarge))
	}
	if s.Filter != "" {
		row("filtered out", fmt.Sprintf("%d packets (filter %q)", s.Filtered, s.Filter))
	}
	row("time", fmt.Sprintf("%.2fs (%.0f MB/s)", s.Seconds, s.MBPerSec))
	if len(s.Errors) > 0 {
		row("input errors", fmt.Sprintf("%d (on standard error)", len(s.Errors)))
	}
	tw.Flush()
}

// exchangesOptions are exchanges' resolved flags.
type exchangesOptions struct {
	Inputs inputOptions
	Format string // jsonl or har
	Output string // "" or "-": standard output
	Raw    bool
}

func newExchangesCmd() *cobra.Command {
	opts := &exchangesOptions{}
	var pf pipelineFlags
	cmd := &cobra.Command{
		Use:   "exchanges [flags] FILE|DIR|- ...",
		Short: "Write every HTTP exchange in the captures as JSON lines or HAR",
		Long: `Exchanges writes each HTTP request with its response, in capture order, as
one JSON object per line (jsonl) or as an HTTP Archive (har, HAR 1.2).
Bodies are kept up to --max-body bytes, decoded from gzip, deflate, br and
zstd; a body cut at the cap is flagged truncated.

Secrets are redacted as the inventory redacts them: credentials in headers
(Authorization keeps its scheme, cookies their names), secret-shaped path
segments, sensitive query values and body values become "<redacted...>"
markers (a redacted JSON body loses its insignificant white space). --raw
writes the traffic as captured, credentials included. An output file is
created with mode 0600.`,
		Example: `  specter exchanges capture.pcap | jq .request.path
  specter exchanges --format har -o out.har capture.pcapng`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Inputs = inputOptions{Paths: args, Reassembly: pf.config()}
			return runExchanges(cmd.Context(), streamsOf(cmd), opts)
		},
	}
	pf.register(cmd)
	registerKeylog(cmd)
	cmd.Flags().StringVar(&opts.Format, "format", "jsonl", "output format: jsonl or har")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "write to this file instead of standard output")
	cmd.Flags().BoolVar(&opts.Raw, "raw", false, "do not redact: write credentials and sensitive values as captured")
	return cmd
}

// runExchanges writes the exchanges of the inputs.
func runExchanges(ctx context.Context, ios ioStreams, opts *exchangesOptions) error {
	w, closeOut, err := outputFile(ios.Out, opts.Output)
	if err != nil {
		return err
	}
	defer closeOut()
	if opts.Raw {
		fmt.Fprintln(ios.ErrOut, "specter: warning: --raw: the output holds credentials and personal data in clear")
	}
	ew, err := newExchangeWriter(w, opts.Format, !opts.Raw)
	if err != nil {
		return err
	}
	res, err := consumeFiles(ctx, ios, opts.Inputs, sinkOptions{inf: &inferFlags{}, sf: &specFlags{}, writers: []pipeline.Sink{ew}})
	if err != nil {
		return err
	}
	return outcome(res.Summary, res.RunErr)
}

// exchangeWriter is the sink writing exchanges as JSON lines or HAR,
// redacted unless raw. Its first error stops the writing; Close returns it.
type exchangeWriter struct {
	write  func(*reassembly.Exchange) error
	close  func() error
	redact bool
	err    error
}

// newExchangeWriter returns a writer of format (jsonl or har) to w.
func newExchangeWriter(w io.Writer, format string, redacted bool) (*exchangeWriter, error) {
	ew := &exchangeWriter{redact: redacted}
	switch format {
	case "jsonl":
		bw := bufio.NewWriterSize(w, 64<<10)
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		ew.write = func(x *reassembly.Exchange) error { return enc.Encode(x) }
		ew.close = bw.Flush
	case "har":
		hw, err := har.NewWriter(w, "specter", version)
		if err != nil {
			return nil, err
		}
		ew.write, ew.close = hw.Write, hw.Close
	default:
		return nil, usageError("unknown --format %q (want jsonl or har)", format)
	}
	return ew, nil
}

// Observe writes x.
func (ew *exchangeWriter) Observe(x *reassembly.Exchange) {
	if ew.err != nil {
		return
	}
	if ew.redact {
		x = redact.Exchange(x)
	}
	ew.err = ew.write(x)
}

// Flush does nothing: the output is flushed once, by Close.
func (ew *exchangeWriter) Flush() error { return nil }

// Close ends the output and returns the first error of the writing.
func (ew *exchangeWriter) Close() error {
	if e := ew.close(); ew.err == nil {
		ew.err = e
	}
	if ew.err != nil {
		return fmt.Errorf("writing exchanges: %w", ew.err)
	}
	return nil
}

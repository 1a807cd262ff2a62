package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/diff"
	"github.com/specter-dev/specter/infer/redact"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/har"
)

// runWithProgress runs the pipeline, with a progress line on stderr when it
// is a terminal, and writes each input error to stderr. A named input that
// does not exist is an error before anything is read.
func runWithProgress(cmd *cobra.Command, paths []string, cfg reassembly.Config, emit func(*reassembly.Exchange)) (summary, error) {
	return runWithProgressOf(cmd, paths, cfg, emit, new(progress))
}

// runWithProgressOf is runWithProgress reporting into prog, which the
// caller may read as the run goes.
func runWithProgressOf(cmd *cobra.Command, paths []string, cfg reassembly.Config, emit func(*reassembly.Exchange), prog *progress) (summary, error) {
	if err := checkInputs(paths); err != nil {
		return summary{}, err
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	if f, ok := cmd.ErrOrStderr().(*os.File); ok && isTerminal(f) {
		go func() { progressLine(f, prog, stop); close(done) }()
	} else {
		close(done)
	}
	sum, err := runFiles(cmd.Context(), paths, cmd.InOrStdin(), cfg, emit, prog)
	close(stop)
	<-done
	reportInputErrors(cmd.ErrOrStderr(), sum)
	return sum, err
}

// outcome maps a run's result to the error execute turns into an exit code:
// fatal errors exit 2, input errors with results exit 1. Packets of a link
// type the decoder cannot read do not count as read.
func outcome(sum summary, err error) error {
	read := sum.Packets - sum.Decode.UnsupportedLink
	if err != nil {
		if read == 0 {
			return &exitError{code: exitFatal, err: err}
		}
		return &exitError{code: exitPartial, err: err}
	}
	if len(sum.Errors) > 0 {
		if read == 0 {
			return &exitError{code: exitFatal, err: fmt.Errorf("no packets could be read: %s", sum.Errors[0])}
		}
		return &exitError{code: exitPartial, err: fmt.Errorf("%d input error(s); results are partial", len(sum.Errors))}
	}
	return nil
}

func newAnalyzeCmd() *cobra.Command {
	var pf pipelineFlags
	var inf inferFlags
	var sf specFlags
	var ck checkpointFlags
	var pub publishFlags
	var asJSON, endpoints bool
	var dbPath string
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
			files, filter, err := splitFilter(args, rFiles)
			if err != nil {
				return err
			}
			args = files
			if filter != nil {
				cmd.SetContext(withFrameFilter(cmd.Context(), filter))
			}
			// --spec here checks the traffic; it is no prior for the
			// inventory, which must keep what the traffic shows (a
			// /users/me that the spec's /users/{userId} would swallow is
			// a finding, not a match).
			if err := checkInputs(args); err != nil {
				return err
			}
			chk, err := sf.checker()
			if err != nil {
				return err
			}
			if pub.url != "" && dbPath == "" && endpoints {
				return usageError("--publish without --db keeps no inventory to list: drop --endpoints or add --db")
			}
			finishPub, err := pub.start(cmd, &dbPath)
			if err != nil {
				return err
			}
			ck.publish = pub.checkpoint
			var sum summary
			var m *infer.Model
			switch {
			case dbPath != "":
				var ferr error
				rec := chk
				if rec == nil {
					// Without a spec the wire anomalies are still
					// recorded, for diff --db.
					rec = newAsyncChecker(diff.NewChecker(nil, checkerOptions()))
				}
				sum, err, ferr = analyzeIntoDB(cmd, args, &pf, &inf, &ck, dbPath, rec)
				ferr = finishPub(ferr)
				if ferr != nil {
					return ferr
				}
			case endpoints:
				if m, err = inf.model(); err != nil {
					return err
				}
				sum, err = runWithProgress(cmd, args, pf.config(), withChecker(m.Observe, chk))
			default:
				sum, err = runWithProgress(cmd, args, pf.config(), withChecker(func(*reassembly.Exchange) {}, chk))
			}
			var eps []infer.EndpointSummary
			switch {
			case m != nil:
				if eps = m.Endpoints(); eps == nil {
					eps = []infer.EndpointSummary{}
				}
			case endpoints:
				stored, lerr := storedEndpoints(cmd, dbPath, "")
				if lerr != nil {
					return lerr
				}
				eps = stored
			}
			var rep *diff.Report
			var attachErr error
			if chk != nil {
				r := chk.Report()
				rep = &r
				attachErr = sf.attachments(cmd.ErrOrStderr(), r.Specs, r.Unchecked)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				v := analyzeJSON{summary: sum}
				if endpoints {
					v.Endpoints = &eps
				}
				if rep != nil {
					if rep.Findings == nil {
						rep.Findings = []diff.Finding{}
					}
					v.Report = rep
				}
				if e := enc.Encode(v); e != nil {
					return e
				}
			} else if sum.Packets == 0 && len(sum.Errors) > 0 {
				// Nothing was read: the errors (on stderr) are the
				// whole answer, not a table of zeros.
			} else {
				printSummary(out, sum)
				if endpoints {
					fmt.Fprintln(out)
					printEndpoints(out, eps)
				}
				if rep != nil {
					printFindingsSummary(out, rep.Findings)
				}
			}
			if err := outcome(sum, err); err != nil {
				return err
			}
			return attachErr
		},
	}
	pf.register(cmd)
	registerOutput(cmd, &asJSON)
	cmd.Flags().BoolVar(&endpoints, "endpoints", false, "also print the endpoints (inferred in memory, or the stored inventory with --db); with --json under \"endpoints\"")
	registerDB(cmd, &dbPath, "add what is learned to the inventory in this database")
	cmd.Flags().StringArrayVarP(&rFiles, "read", "r", nil, "read this capture file (repeatable); the arguments are then the filter expression, as with tcpdump -r")
	inf.registerConfig(cmd)
	sf.register(cmd)
	ck.register(cmd)
	pub.register(cmd)
	return cmd
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
	row("  http/2 (not parsed)", r.ConnsHTTP2)
	row("  tls (not parsed)", r.ConnsTLS)
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
	if s.Filter != "" {
		row("filtered out", fmt.Sprintf("%d packets (filter %q)", s.Filtered, s.Filter))
	}
	row("time", fmt.Sprintf("%.2fs (%.0f MB/s)", s.Seconds, s.MBPerSec))
	if len(s.Errors) > 0 {
		row("input errors", fmt.Sprintf("%d (on standard error)", len(s.Errors)))
	}
	tw.Flush()
}

func newExchangesCmd() *cobra.Command {
	var pf pipelineFlags
	var format, output string
	var raw bool
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
			w, closeOut, err := outputFile(cmd.OutOrStdout(), output)
			if err != nil {
				return err
			}
			defer closeOut()
			if raw {
				fmt.Fprintln(cmd.ErrOrStderr(), "specter: warning: --raw: the output holds credentials and personal data in clear")
			}
			var emit func(*reassembly.Exchange)
			var finish func() error
			var writeErr error
			switch format {
			case "jsonl":
				bw := bufio.NewWriterSize(w, 64<<10)
				enc := json.NewEncoder(bw)
				enc.SetEscapeHTML(false)
				emit = func(x *reassembly.Exchange) {
					if writeErr == nil {
						writeErr = enc.Encode(x)
					}
				}
				finish = bw.Flush
			case "har":
				hw, err := har.NewWriter(w, "specter", version)
				if err != nil {
					return err
				}
				emit = func(x *reassembly.Exchange) {
					if writeErr == nil {
						writeErr = hw.Write(x)
					}
				}
				finish = hw.Close
			default:
				return usageError("unknown --format %q (want jsonl or har)", format)
			}
			if !raw {
				write := emit
				emit = func(x *reassembly.Exchange) { write(redact.Exchange(x)) }
			}
			sum, err := runWithProgress(cmd, args, pf.config(), emit)
			if e := finish(); writeErr == nil {
				writeErr = e
			}
			if writeErr != nil {
				return &exitError{code: exitFatal, err: fmt.Errorf("writing exchanges: %w", writeErr)}
			}
			return outcome(sum, err)
		},
	}
	pf.register(cmd)
	cmd.Flags().StringVar(&format, "format", "jsonl", "output format: jsonl or har")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of standard output")
	cmd.Flags().BoolVar(&raw, "raw", false, "do not redact: write credentials and sensitive values as captured")
	return cmd
}

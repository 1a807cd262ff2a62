package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/specter-dev/specter/bpf"
	"github.com/specter-dev/specter/capture/live"
	"github.com/specter-dev/specter/cmd/internal/pipeline"
	"github.com/specter-dev/specter/infer/diff"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/store"
)

// captureFlags are the options of `specter capture`.
type captureFlags struct {
	ifaces     []string
	ringMB     int
	workers    int
	fanout     int
	promisc    bool
	dedup      bool
	ebpf       bool
	check      bool
	pid        int
	cgroup     string
	comm       string
	noTLS      bool
	dbPath     string
	events     string
	metrics    string
	flushEvery time.Duration
	duration   time.Duration
	maxPackets uint64
	asJSON     bool
	pub        publishFlags
}

// counters are what a running capture reports (see pipeline.Counters).
type counters = pipeline.Counters

// captureSummary is what `specter capture` prints when it ends.
type captureSummary struct {
	Source      string   `json:"source"` // "live" or "ebpf"
	Interfaces  []string `json:"interfaces,omitempty"`
	Seconds     float64  `json:"seconds"`
	Packets     uint64   `json:"packets"` // frames (live) or records (ebpf)
	Bytes       uint64   `json:"bytes"`
	KernelDrops uint64   `json:"kernel_drops"` // ring full: frames (live) or records (ebpf) lost
	BoundDrops  uint64   `json:"bound_drops"`  // dropped by our own bounds
	// Duplicates counts frames dropped by --dedup (live), or connections
	// within this host read from the server's socket only (ebpf).
	Duplicates uint64 `json:"duplicates,omitempty"`
	Exchanges  uint64 `json:"exchanges"`
	Endpoints  uint64 `json:"endpoints"`
	Findings   uint64 `json:"findings"`
	// FindingsByKind breaks the findings down by kind (with --spec).
	FindingsByKind map[string]uint64 `json:"findings_by_kind,omitempty"`
	// Specs says which services each --spec was attached to (since the
	// last reload); Unchecked lists the services no spec is attached to.
	Specs      []diff.Attachment `json:"specs,omitempty"`
	Unchecked  []string          `json:"unchecked_services,omitempty"`
	Events     uint64            `json:"events,omitempty"`
	Run        int64             `json:"run,omitempty"` // the store's run id with --db
	Decode     *decodeSummary    `json:"decode,omitempty"`
	Reassembly reassembly.Stats  `json:"reassembly"`
	Errors     []string          `json:"errors,omitempty"`
	// TLSServices is what TLS handshakes told, by server name (live).
	TLSServices []reassembly.TLSService `json:"tls_services,omitempty"`
}

// captureOptions are capture's resolved flags and filter expression.
type captureOptions struct {
	captureFlags
	Filter     string // the tcpdump expression applied in the kernel (-i)
	Reassembly reassembly.Config
	Infer      inferFlags
	Specs      specFlags
}

func newCaptureCmd() *cobra.Command {
	opts := &captureOptions{}
	cf := &opts.captureFlags
	var pf pipelineFlags
	cmd := &cobra.Command{
		Use:   "capture (-i IFACE [-i IFACE...] | --ebpf) [flags] [FILTER...]",
		Short: "Capture live traffic (a mirror port, or this host's processes with eBPF) into the inventory",
		Long: `Capture listens until interrupted (or --duration, --max-packets) and feeds
what it sees through the same reassembly, inference and spec checks as
analyze.

With -i it reads interfaces through AF_PACKET rings (TPACKET_V3; several
-i for both directions of a link mirrored to two ports). The FILTER words
form a tcpdump expression applied in the kernel; VXLAN mirror traffic needs
"udp port 4789" to get through.

With --ebpf it traces this host's processes (all, or --pid, --cgroup,
--comm) at the socket layer, TLS plaintext of OpenSSL included, and
records which process served each endpoint. --ebpf --check reports what
the host supports and exits 0 when all of it is there, 1 otherwise.

With --db the inventory is written to the database every --flush-every
and when the capture ends, as one run. SIGINT or SIGTERM stops the capture:
what the rings hold is read, buffered exchanges are flushed, the inventory
is written, a summary printed, and the exit status is 0. SIGHUP reloads
--config and the --spec documents.

--events FILE|- writes JSON lines as things are first seen: findings
against the specs (a new fingerprint: a shadow endpoint, the first
noncompliance of a kind...) within a second, new endpoints and new kinds of
sensitive data at each flush.`,
		Example: `  specter capture -i eth1 --db specter.db tcp port 80 or tcp port 8080
  specter capture -i eth1 -i eth2 --dedup --spec api.yaml --events - udp port 4789
  specter capture --ebpf --comm nginx --db specter.db --metrics :9464
  specter capture --ebpf --check`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.resolve(args, &pf); err != nil {
				return err
			}
			return runCapture(cmd.Context(), streamsOf(cmd), opts)
		},
	}
	// Stopping by a signal is how a capture ends: exit status 0.
	cmd.Annotations = map[string]string{untilSignal: "yes"}
	f := cmd.Flags()
	f.StringArrayVarP(&cf.ifaces, "interface", "i", nil, "interface to capture on (repeatable)")
	f.IntVar(&cf.ringMB, "ring-mb", 0, "ring size in MiB: AF_PACKET ring per socket (0: 128), or the eBPF ring buffer with --ebpf (0: 8)")
	f.IntVar(&cf.workers, "fanout-workers", 1, "sockets per interface, sharing the load by flow hash (PACKET_FANOUT_HASH)")
	f.IntVar(&cf.fanout, "fanout-group", 0, "fanout group id (0: derived from the process id when --fanout-workers > 1)")
	f.BoolVar(&cf.promisc, "promisc", true, "put the interfaces in promiscuous mode")
	f.BoolVar(&cf.dedup, "dedup", false, "drop duplicate frames (SPAN duplicates, a frame mirrored to two interfaces)")
	f.BoolVar(&cf.ebpf, "ebpf", false, "trace this host's processes with eBPF instead of reading interfaces")
	f.BoolVar(&cf.check, "check", false, "with --ebpf: report what this host supports and exit")
	f.IntVar(&cf.pid, "pid", 0, "with --ebpf: trace only this process")
	f.StringVar(&cf.cgroup, "cgroup", "", "with --ebpf: trace only the processes of this cgroup v2 directory")
	f.StringVar(&cf.comm, "comm", "", "with --ebpf: trace only threads with this command name")
	f.BoolVar(&cf.noTLS, "no-tls", false, "with --ebpf: no uprobes on libssl (TLS stays encrypted)")
	registerDB(cmd, &cf.dbPath, "write the inventory to this database")
	f.StringVar(&cf.events, "events", "", "write JSON lines of new findings, endpoints and sensitive data to this file (- for standard output)")
	f.StringVar(&cf.metrics, "metrics", "", "serve Prometheus metrics on ADDR/metrics (a port alone binds 127.0.0.1)")
	f.DurationVar(&cf.flushEvery, "flush-every", 10*time.Second, "write the inventory (and look for new endpoints) this often")
	f.DurationVar(&cf.duration, "duration", 0, "stop after this long (0: until interrupted)")
	f.Uint64Var(&cf.maxPackets, "max-packets", 0, "stop after about this many packets or eBPF records (0: no limit)")
	registerOutput(cmd, &cf.asJSON)
	pf.register(cmd)
	registerKeylog(cmd)
	// As for analyze, --spec is what the traffic is checked against, not a
	// prior for the inventory (which must keep /users/me apart from the
	// declared /users/{userId} to report it).
	opts.Infer.registerConfig(cmd)
	opts.Specs.register(cmd)
	cf.pub.register(cmd)
	return cmd
}

// resolve checks the flags against each other (--ebpf --check takes no
// others). Its errors are usage errors.
func (o *captureOptions) resolve(args []string, pf *pipelineFlags) error {
	switch cf := &o.captureFlags; {
	case cf.ebpf && cf.check:
		return nil
	case cf.ebpf && len(cf.ifaces) > 0:
		return usageError("-i and --ebpf are exclusive")
	case !cf.ebpf && len(cf.ifaces) == 0:
		return usageError("capture needs -i IFACE or --ebpf")
	case cf.ebpf && len(args) > 0:
		return usageError("--ebpf takes no filter expression (use --pid, --cgroup, --comm)")
	case !cf.ebpf && (cf.pid != 0 || cf.cgroup != "" || cf.comm != ""):
		return usageError("--pid, --cgroup and --comm need --ebpf")
	case cf.ringMB < 0 || cf.ringMB > 4096:
		return usageError("--ring-mb must be within 0..4096")
	case cf.flushEvery <= 0:
		return usageError("--flush-every must be positive")
	}
	o.Filter = strings.Join(args, " ")
	o.Reassembly = pf.config()
	return nil
}

// runCapture reports what the host supports with --ebpf --check, else
// captures (publishing with --publish) until the capture ends.
func runCapture(ctx context.Context, ios ioStreams, opts *captureOptions) error {
	if opts.ebpf && opts.check {
		r := bpf.Check()
		fmt.Fprint(ios.Out, r.String())
		if r.Err() != nil {
			return partialError(nil) // the report says what is missing
		}
		return nil
	}
	if os.Getenv("GOGC") == "" {
		// A sensor's live heap is a few MB (the inventory and the
		// connections' state) beside 5 MB of dependencies' pointer tables
		// that every collection scans: at the default pace it collects
		// several times a second, about 1 µs of CPU per exchange on a busy
		// host. Under main's 256 MiB soft limit a lazier pace costs tens
		// of MB, no more.
		debug.SetGCPercent(800)
	}
	finishPub, err := opts.pub.start(ios.ErrOut, &opts.dbPath)
	if err != nil {
		return err
	}
	return finishPub(captureUntilEnd(ctx, ios, opts))
}

// captureUntilEnd runs a capture until it ends (a signal, --duration,
// --max-packets) and prints its summary.
func captureUntilEnd(ctx context.Context, ios ioStreams, opts *captureOptions) error {
	parent := ctx
	ctx, cancel := captureContext(parent, opts.duration)
	defer cancel()
	var ctr counters
	events, err := openEvents(opts.events, ios.Out)
	if err != nil {
		return err
	}
	defer events.Close()
	// The source first: without the privileges or the interface there is
	// nothing to record, not even a run.
	src, err := openCapture(ctx, opts)
	if err != nil {
		return fatalError(err)
	}
	stopMetrics, err := startMetrics(ios.ErrOut, &opts.captureFlags, &ctr, tlsCollectors(ctx)...)
	if err != nil {
		src.close()
		return err
	}
	defer stopMetrics()
	inv, err := openSink(parent, captureSinkOptions(&opts.captureFlags, &opts.Infer, &opts.Specs, events, &ctr, ios.ErrOut))
	if err != nil {
		src.close()
		return err
	}
	defer reloadOnHUP(ctx, inv)()
	statusDone := startStatus(ctx, ios.ErrOut, &ctr, opts.maxPackets, cancel)
	start := time.Now()
	sum, runErr := src.run(ctx, ios.ErrOut, inv, &ctr)
	cancel()
	<-statusDone
	sum.Seconds = time.Since(start).Seconds()
	if runErr != nil {
		sum.Errors = append(sum.Errors, runErr.Error())
	}
	// The final write must happen even though the signal cancelled ctx.
	inv.tlsServices = sum.TLSServices
	runID, ierr := inv.Finish(context.WithoutCancel(parent), runTotals(sum, runErr, &ctr))
	stopMetrics()
	attachErr := finishSummary(&sum, inv, runID, ierr, events, &ctr, &opts.Specs, ios.ErrOut)
	if err := writeCaptureSummary(ios, opts, sum); err != nil {
		return err
	}
	switch {
	case ierr != nil:
		return fatalError(ierr)
	case runErr != nil:
		return partialError(runErr)
	}
	return attachErr
}

// captureContext is the capture's context: cancelled when it is to stop.
func captureContext(parent context.Context, duration time.Duration) (context.Context, context.CancelFunc) {
	if duration > 0 {
		return context.WithTimeout(parent, duration)
	}
	return context.WithCancel(parent)
}

// captureSource is what a capture reads: interfaces (src) or the eBPF
// tracer (tr).
type captureSource struct {
	src  *live.Source
	tr   *bpf.Tracer
	opts *captureOptions
}

// openCapture opens the interfaces, or the tracer with --ebpf.
func openCapture(ctx context.Context, opts *captureOptions) (captureSource, error) {
	s := captureSource{opts: opts}
	var err error
	if cf := &opts.captureFlags; cf.ebpf {
		// The tracer would close itself when ctx ends, dropping what its
		// ring buffer holds: runEBPF closes it once that is read.
		s.tr, err = bpf.Open(context.WithoutCancel(ctx), bpf.Options{PID: uint32(cf.pid), Cgroup: cf.cgroup, Comm: cf.comm, NoTLS: cf.noTLS, RingSize: cf.ringMB << 20})
	} else {
		s.src, err = openLive(ctx, opts.Filter, cf)
	}
	return s, err
}

// run reads until ctx ends or the source fails, handing the exchanges to
// inv, and closes the source.
func (s captureSource) run(ctx context.Context, log io.Writer, inv *sinkStack, ctr *counters) (captureSummary, error) {
	if s.tr != nil {
		return runEBPF(ctx, log, s.tr, &s.opts.captureFlags, s.opts.Reassembly, inv, ctr)
	}
	return runLive(ctx, log, s.src, &s.opts.captureFlags, s.opts.Reassembly, inv, ctr)
}

// close closes a source that is not to run.
func (s captureSource) close() {
	if s.tr != nil {
		s.tr.Close()
	} else {
		s.src.Close()
	}
}

// startMetrics serves the counters with --metrics, and returns what stops
// it (it may be called more than once).
func startMetrics(stderr io.Writer, cf *captureFlags, ctr *counters, extra ...prometheus.Collector) (func(), error) {
	if cf.metrics == "" {
		return func() {}, nil
	}
	addr, stop, err := serveMetrics(cf.metrics, ctr, append(cf.pub.collectors(), extra...)...)
	if err != nil {
		return nil, usageError("--metrics %s: %v", cf.metrics, err)
	}
	fmt.Fprintf(stderr, "metrics on http://%s/metrics\n", addr)
	return stop, nil
}

// reloadOnHUP reloads inv's config and specs on each SIGHUP while ctx
// lasts, and returns what stops listening.
func reloadOnHUP(ctx context.Context, inv *sinkStack) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for {
			select {
			case <-hup:
				inv.Reload()
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() { signal.Stop(hup) }
}

// finishSummary completes a capture's summary with what the finished sink
// stack knows, and returns the specs' attachment error.
func finishSummary(sum *captureSummary, inv *sinkStack, runID int64, ierr error, events *eventLog, ctr *counters, sf *specFlags, stderr io.Writer) error {
	sum.Run = runID
	sum.Endpoints = ctr.Endpoints.Load()
	sum.Findings = ctr.Findings.Load()
	sum.FindingsByKind = inv.FindingsByKind()
	sum.Specs, sum.Unchecked = inv.Attachments()
	var attachErr error
	if sum.Specs != nil {
		attachErr = sf.attachments(stderr, sum.Specs, sum.Unchecked)
	}
	sum.Events = events.Count()
	if ierr != nil {
		sum.Errors = append(sum.Errors, ierr.Error())
	}
	return attachErr
}

// writeCaptureSummary prints the summary, on standard error when standard
// output carries the events (it stays JSON lines).
func writeCaptureSummary(ios ioStreams, opts *captureOptions, sum captureSummary) error {
	out := ios.Out
	if opts.events == "-" {
		out = ios.ErrOut
	}
	if opts.asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	printCaptureSummary(out, sum)
	return nil
}

// captureSinkOptions are the sink stack of a capture: the inventory in
// memory or (--db) in a run of the database named after its interfaces,
// flushed every --flush-every.
func captureSinkOptions(cf *captureFlags, inf *inferFlags, sf *specFlags, events *eventLog, ctr *counters, stderr io.Writer) sinkOptions {
	iface := strings.Join(cf.ifaces, ",")
	if cf.ebpf {
		iface = "ebpf"
	}
	return sinkOptions{
		inf: inf, sf: sf, dbPath: cf.dbPath, run: store.RunInfo{Interface: iface, Version: version},
		checkpointInterval: cf.flushEvery, keepModel: true,
		flushEvery: cf.flushEvery, events: events, ctr: ctr, stderr: stderr,
		publish: cf.pub.checkpoint,
	}
}

// runTotals turns a capture's summary into the store's run totals.
func runTotals(sum captureSummary, runErr error, ctr *counters) store.RunTotals {
	t := store.RunTotals{Packets: sum.Packets, Bytes: sum.Bytes, Drops: ctr.Drops(), Complete: runErr == nil}
	if runErr != nil {
		t.Error = runErr.Error()
	}
	return t
}

// openLive opens the interfaces.
func openLive(ctx context.Context, filter string, cf *captureFlags) (*live.Source, error) {
	src, err := live.Open(ctx, live.Options{
		Interfaces:  cf.ifaces,
		Filter:      filter,
		RingSizeMB:  cf.ringMB,
		Promisc:     cf.promisc,
		Workers:     cf.workers,
		FanoutGroup: cf.fanout,
		Dedup:       cf.dedup,
	})
	if err != nil && (errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES)) {
		return nil, fmt.Errorf("capturing on %s needs CAP_NET_RAW (run as root or grant it): %w", strings.Join(cf.ifaces, ", "), err)
	}
	return src, err
}

// runLive captures from src until ctx ends or the source fails.
func runLive(ctx context.Context, log io.Writer, src *live.Source, cf *captureFlags, cfg reassembly.Config, inv *sinkStack, ctr *counters) (captureSummary, error) {
	sum := captureSummary{Source: "live", Interfaces: cf.ifaces}
	fmt.Fprintf(log, "specter: capturing on %s\n", strings.Join(cf.ifaces, ", "))
	if cfg.TLS == nil {
		cfg.TLS = decryptorFrom(ctx)
	}
	ls := &pipeline.Live{Src: src, Config: cfg, Emit: inv.Emit, Tick: time.Second}
	var runErr error
	sum.Reassembly, runErr = ls.Run(ctx, ctr)
	sum.TLSServices = ls.TLSServices()
	st := src.Stats()
	ds := ls.DecodeStats()
	sum.Decode = &decodeSummary{TCP: ds.TCP, NonTCP: ds.NonTCP, Errors: ds.Errors, Fragments: ds.Fragments, Reassembled: ds.Reassembled, FragmentsDropped: ds.FragmentsDropped}
	sum.Packets, sum.Bytes, sum.KernelDrops = st.Packets, st.Bytes, st.KernelDrops
	sum.Duplicates = st.Duplicates
	sum.BoundDrops = ctr.BoundDrops.Load()
	sum.Exchanges = sum.Reassembly.Exchanges
	return sum, runErr
}

// ebpfSource is what runEBPF reads: a *bpf.Tracer, or a stand-in in the
// benchmarks.
type ebpfSource interface {
	pipeline.Tracer
	LibSSL() []string
}

// runEBPF reads tr until ctx ends or the tracer fails, and closes it.
func runEBPF(ctx context.Context, log io.Writer, tr ebpfSource, cf *captureFlags, cfg reassembly.Config, inv *sinkStack, ctr *counters) (captureSummary, error) {
	sum := captureSummary{Source: "ebpf"}
	tls := "libssl: " + strings.Join(tr.LibSSL(), ", ")
	if len(tr.LibSSL()) == 0 {
		tls = "no libssl probed"
	}
	fmt.Fprintf(log, "specter: tracing with eBPF (%s)\n", tls)
	// Without a process filter both ends of a connection within this host
	// are traced: the exchange is kept from the server's socket only.
	es := &pipeline.EBPF{Tracer: tr, Emit: inv.EmitBatch, Options: pipeline.EBPFOptions{
		Reassembly:  cfg,
		SkipClients: cf.pid == 0 && cf.cgroup == "" && cf.comm == "",
		Batch:       exchangeBatch,
	}}
	var readErr error
	sum.Reassembly, readErr = es.Run(ctx, ctr)
	st := tr.Stats()
	sum.Packets, sum.Bytes, sum.KernelDrops = st.Records, st.Bytes, st.Lost
	sum.BoundDrops = ctr.BoundDrops.Load()
	sum.Duplicates = es.Stats().ClientViews
	sum.Exchanges = sum.Reassembly.Exchanges
	return sum, readErr
}

// startStatus refreshes a one-line status on w while ctx lasts, when w is a
// terminal, and cancels the capture once maxPackets (when not 0) were
// counted. The returned channel is closed when it is done.
func startStatus(ctx context.Context, w io.Writer, ctr *counters, maxPackets uint64, cancel func()) <-chan struct{} {
	done := make(chan struct{})
	f, ok := w.(*os.File)
	term := ok && isTerminal(f)
	go func() {
		defer close(done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		n := 0
		for {
			select {
			case <-ctx.Done():
				if term {
					fmt.Fprint(f, "\r\033[K")
				}
				return
			case <-t.C:
			}
			if maxPackets > 0 && ctr.Packets.Load() >= maxPackets {
				cancel()
			}
			if n++; term && n%5 == 0 {
				fmt.Fprintf(f, "\r\033[K%d packets  %s  %d kernel drops  %d our drops  %d exchanges  %d endpoints  %d findings",
					ctr.Packets.Load(), humanBytes(int64(ctr.Bytes.Load())), ctr.KernelDrops.Load(), ctr.BoundDrops.Load(),
					ctr.Exchanges.Load(), ctr.Endpoints.Load(), ctr.Findings.Load())
			}
		}
	}()
	return done
}

func printCaptureSummary(w io.Writer, s captureSummary) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k string, v any) { fmt.Fprintf(tw, "%s\t%v\n", k, v) }
	row("source", s.Source)
	if len(s.Interfaces) > 0 {
		row("interfaces", strings.Join(s.Interfaces, ", "))
	}
	row("time", fmt.Sprintf("%.1fs", s.Seconds))
	if s.Source == "ebpf" {
		row("records", s.Packets)
	} else {
		row("packets", s.Packets)
	}
	row("bytes", fmt.Sprintf("%d (%s)", s.Bytes, humanBytes(int64(s.Bytes))))
	row("kernel drops", s.KernelDrops)
	row("drops by bound", s.BoundDrops)
	if s.Duplicates > 0 {
		row("duplicates dropped", s.Duplicates)
	}
	row("connections", s.Reassembly.Connections)
	row("exchanges", s.Exchanges)
	row("endpoints", s.Endpoints)
	f := fmt.Sprint(s.Findings)
	if len(s.FindingsByKind) > 0 {
		var parts []string
		for _, k := range diff.Kinds() {
			if n := s.FindingsByKind[string(k)]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", k, n))
			}
		}
		f += " (" + strings.Join(parts, ", ") + ")"
	}
	row("findings", f)
	if s.Events > 0 {
		row("events", s.Events)
	}
	if s.Run > 0 {
		row("run", s.Run)
	}
	tw.Flush()
	for _, e := range s.Errors {
		fmt.Fprintf(w, "error: %s\n", e)
	}
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/specter-dev/specter/cmd/internal/pipeline"
	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/diff"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/store"
)

const (
	// exchangeQueue bounds the exchanges waiting for the inventory (and
	// for the checker): when full, the pipeline waits, the capture's
	// rings fill and the kernel drops (counted) — memory stays bounded.
	exchangeQueue = 1024
	// exchangeBatch bounds the exchanges of one EmitBatch; the queue holds
	// exchangeQueue/exchangeBatch batches, so that no more than
	// exchangeQueue exchanges wait that way either.
	exchangeBatch = 128
	// maxAnnounced bounds the endpoints whose announcement (events) is
	// remembered; past it further new endpoints are not announced.
	maxAnnounced = 1 << 18
	// maxEventKeys bounds the finding fingerprints already announced; past
	// it new findings are not announced (counted in eventLog.Dropped).
	maxEventKeys = 1 << 18
	// findingsScan is how often the checker's findings are looked at for
	// new fingerprints, when exchanges were checked since the last look.
	findingsScan = time.Second
)

// sinkOptions configure the sink stack: the resolved options of every verb
// that consumes exchanges, whatever their source (files, -i, --ebpf).
type sinkOptions struct {
	inf    *inferFlags
	sf     *specFlags
	dbPath string
	// run describes the store's run with --db (inputs, or the interfaces).
	run store.RunInfo
	// checkpointEvery and checkpointInterval steer the store's commits
	// with --db (0: no count-based commits).
	checkpointEvery    int
	checkpointInterval time.Duration
	// keepModel keeps an in-memory inventory without --db.
	keepModel bool
	// alwaysCheck runs a checker without any spec too: the wire anomalies
	// become findings (analyze --db records them for diff --db).
	alwaysCheck bool
	// flushEvery is the period of the live flushes (checkpoint, endpoint
	// and sensitive-data events); 0 for a run over files, which flushes
	// once, at the end. It is also how often the checker's findings are
	// looked at for events.
	flushEvery time.Duration
	// specs are sf's, already loaded for the first checker (nil: load
	// them); a reload loads them again.
	specs []*diff.Spec
	// writers also receive every exchange (exchanges' JSONL or HAR); they
	// are closed by Finish.
	writers []pipeline.Sink
	events  *eventLog
	ctr     *counters
	stderr  io.Writer
	// publish, with --publish, sends each checkpoint's delta.
	publish func(context.Context, []byte) error
}

// sinkStack is the sink stack every consumer of exchanges goes through:
// inference (into the database with --db, in memory without), the
// writers, the spec checker, and the events. It runs on its own goroutine,
// which owns all of its state, so the periodic writes and reloads never
// race with the exchanges.
type sinkStack struct {
	opts sinkOptions
	// tlsServices, set before Finish, are stored with the run (--db).
	tlsServices []reassembly.TLSService
	ctx         context.Context // never cancelled: the last writes must happen
	ch          chan *reassembly.Exchange
	// batches carries EmitBatch's exchanges; spare the emptied slices
	// back to the emitter.
	batches chan []*reassembly.Exchange
	spare   chan []*reassembly.Exchange
	reload  chan struct{}
	done    chan struct{}
	once    sync.Once

	// Owned by the run goroutine.
	db    *store.DB
	in    *store.Ingest
	m     *infer.Model // without --db
	chk   *liveChecker
	seen  map[string]map[string]bool // endpoint -> sensitive kinds announced
	base  store.RunTotals            // what runs finished at reloads recorded
	errs  []string
	runID int64
	// byKind is the final findings count per kind, set by Finish.
	byKind map[string]uint64
	// attach and unchecked are the final checker's spec attachments (since
	// the last reload), set by Finish.
	attach    []diff.Attachment
	unchecked []string
	// final is the last checker, closed by Finish.
	final *diff.Checker
}

// live reports whether the stack flushes periodically (a capture).
func (v *sinkStack) live() bool { return v.opts.flushEvery > 0 }

// Model returns the in-memory inventory (nil with --db or without
// keepModel); complete after Finish.
func (v *sinkStack) Model() *infer.Model { return v.m }

// Checker returns the last checker, nil without one; valid after Finish.
func (v *sinkStack) Checker() *diff.Checker { return v.final }

// FindingsByKind returns the findings per kind; valid after Finish.
func (v *sinkStack) FindingsByKind() map[string]uint64 { return v.byKind }

// Attachments returns which services each spec was attached to, and the
// services no spec is attached to; valid after Finish, nil without specs.
func (v *sinkStack) Attachments() ([]diff.Attachment, []string) { return v.attach, v.unchecked }

// openSink loads the config and specs, opens the database and starts
// a run in it (with --db), and starts the inventory's goroutine.
func openSink(ctx context.Context, opts sinkOptions) (*sinkStack, error) {
	if opts.stderr == nil {
		opts.stderr = os.Stderr
	}
	if opts.ctr == nil {
		opts.ctr = new(counters)
	}
	v := &sinkStack{
		opts: opts, ctx: context.WithoutCancel(ctx),
		ch:      make(chan *reassembly.Exchange, exchangeQueue),
		batches: make(chan []*reassembly.Exchange, exchangeQueue/exchangeBatch),
		spare:   make(chan []*reassembly.Exchange, exchangeQueue/exchangeBatch+1),
		reload:  make(chan struct{}, 1), done: make(chan struct{}),
		seen: map[string]map[string]bool{},
	}
	cfg, err := opts.inf.inferConfig()
	if err != nil {
		return nil, err
	}
	chk, err := v.newChecker()
	if err != nil {
		return nil, err
	}
	if opts.dbPath != "" {
		if err := v.openRun(cfg); err != nil {
			chk.Close()
			return nil, err
		}
		if v.live() {
			v.announceStored()
		}
	} else if opts.keepModel {
		if v.m, err = opts.inf.model(); err != nil {
			chk.Close()
			return nil, err
		}
	}
	v.chk = chk
	go v.run()
	return v, nil
}

// announceStored records what the database already holds: it is not news.
func (v *sinkStack) announceStored() {
	if eps, err := v.db.Endpoints(v.ctx, ""); err == nil {
		v.announce(eps, false)
		v.opts.ctr.Endpoints.Store(uint64(len(eps)))
	}
}

// openRun opens the database with cfg and begins a run in it.
func (v *sinkStack) openRun(cfg infer.Config) error {
	priors, err := v.opts.inf.model()
	if err != nil {
		return err
	}
	db, err := store.Open(v.ctx, v.opts.dbPath, store.Options{Config: cfg})
	if err != nil {
		return fatalError(err)
	}
	in, err := db.BeginRun(v.ctx, v.opts.run,
		store.IngestOptions{Every: v.opts.checkpointEvery, Interval: v.opts.checkpointInterval, Priors: priors,
			Progress: func() (uint64, uint64) { t := v.sinceBase(); return t.Packets, t.Bytes },
			Publish:  v.opts.publish})
	if err != nil {
		db.Close()
		return fatalError(err)
	}
	v.db, v.in, v.runID = db, in, in.ID()
	return nil
}

// newChecker returns a checker for the declared specs, nil without any.
func (v *sinkStack) newChecker() (*liveChecker, error) {
	sf := v.opts.sf
	if len(sf.specs) == 0 && len(sf.specHosts) == 0 && !v.opts.alwaysCheck {
		return nil, nil
	}
	specs := v.opts.specs
	v.opts.specs = nil // a reload reads them again
	if specs == nil {
		var err error
		if specs, err = sf.load(); err != nil {
			return nil, err
		}
	}
	return newLiveChecker(diff.NewChecker(specs, checkerOptions()), v.opts.flushEvery, v.opts.events, v.opts.ctr, v.recycle), nil
}

// Emit hands an exchange over: the pipeline's callback. It blocks while
// the queue is full.
func (v *sinkStack) Emit(x *reassembly.Exchange) { v.ch <- x }

// EmitBatch hands exchanges over (at most exchangeBatch, for the bound on
// the queue) and returns an empty slice for the next batch. It blocks while
// the queue is full.
func (v *sinkStack) EmitBatch(xs []*reassembly.Exchange) []*reassembly.Exchange {
	v.batches <- xs
	select {
	case s := <-v.spare:
		return s
	default:
		return make([]*reassembly.Exchange, 0, exchangeBatch)
	}
}

// Reload asks for the config and specs to be read again (SIGHUP).
func (v *sinkStack) Reload() {
	select {
	case v.reload <- struct{}{}:
	default: // one is pending already
	}
}

func (v *sinkStack) run() {
	defer close(v.done)
	var tick <-chan time.Time // nil over files: one flush, at the end
	if v.live() {
		t := time.NewTicker(v.opts.flushEvery)
		defer t.Stop()
		tick = t.C
	}
	ch, batches := v.ch, v.batches
	for ch != nil || batches != nil {
		select {
		case x, ok := <-ch:
			if !ok {
				ch = nil
				continue
			}
			v.observe(x)
		case xs, ok := <-batches:
			if !ok {
				batches = nil
				continue
			}
			for _, x := range xs {
				v.learn(x)
			}
			if v.chk != nil {
				v.chk.CheckBatch(xs) // which recycles xs
			} else {
				v.recycle(xs)
			}
		case <-tick:
			v.flush()
		case <-v.reload:
			v.doReload()
		}
	}
}

// observe learns from x and checks it.
func (v *sinkStack) observe(x *reassembly.Exchange) {
	v.learn(x)
	if v.chk != nil {
		v.chk.Check(x)
	}
}

// learn adds x to the inventory and hands it to the writers.
func (v *sinkStack) learn(x *reassembly.Exchange) {
	if v.in != nil {
		v.in.Observe(x)
	} else if v.m != nil {
		v.m.Observe(x)
	}
	for _, w := range v.opts.writers {
		w.Observe(x)
	}
}

// recycle keeps a batch's slice for EmitBatch to return; any goroutine
// may call it.
func (v *sinkStack) recycle(xs []*reassembly.Exchange) {
	clear(xs)
	select {
	case v.spare <- xs[:0]:
	default:
	}
}

// flush writes what was learned to the database and announces the
// endpoints and sensitive data not seen before.
func (v *sinkStack) flush() {
	var eps []infer.EndpointSummary
	switch {
	case v.in != nil:
		if v.chk != nil {
			v.in.SetFindings(v.chk.snapshot())
		}
		if err := v.in.Checkpoint(v.ctx); err != nil {
			v.warn(err)
			return
		}
		var err error
		if eps, err = v.db.Endpoints(v.ctx, ""); err != nil {
			v.warn(err)
			return
		}
	case v.m != nil:
		eps = v.m.Endpoints()
	default:
		return // no inventory kept: nothing to announce
	}
	v.opts.ctr.Endpoints.Store(uint64(len(eps)))
	v.announce(eps, true)
}

func (v *sinkStack) warn(err error) {
	fmt.Fprintf(v.opts.stderr, "specter: %v\n", err)
	if len(v.errs) < 16 {
		v.errs = append(v.errs, err.Error())
	}
}

// announce records the endpoints and their sensitive kinds, writing events
// for those not seen before when emit is set.
func (v *sinkStack) announce(eps []infer.EndpointSummary, emit bool) {
	now := time.Now().UTC()
	for _, e := range eps {
		key := e.Service + " " + e.Method + " " + e.Template
		kinds, known := v.seen[key]
		if !known {
			if len(v.seen) >= maxAnnounced {
				continue
			}
			v.seen[key] = nil // a set only once it has sensitive kinds
			if emit {
				v.opts.events.Write(event{Time: now, Event: "endpoint", Service: e.Service, Method: e.Method,
					Path: e.Template, Sensitive: e.Sensitive, Processes: processNames(e.Processes)})
			}
		}
		var fresh []string
		for _, k := range e.Sensitive {
			if !kinds[k] {
				if kinds == nil {
					kinds = map[string]bool{}
					v.seen[key] = kinds
				}
				kinds[k] = true
				fresh = append(fresh, k)
			}
		}
		if emit && len(fresh) > 0 {
			v.opts.events.Write(event{Time: now, Event: "sensitive", Service: e.Service, Method: e.Method,
				Path: e.Template, Sensitive: fresh})
		}
	}
}

func processNames(ps []infer.ProcessSummary) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Comm)
	}
	return out
}

// doReload reads the config and specs again. The config belongs to the
// database, so with --db the run is finished and a new one begun; the
// checker is replaced (findings already announced are not again). On an
// error the old config and specs stay.
func (v *sinkStack) doReload() {
	cfg, err := v.opts.inf.inferConfig()
	if err == nil {
		_, err = v.opts.inf.model() // the specs load
	}
	var chk *liveChecker
	if err == nil {
		chk, err = v.newChecker()
	}
	if err != nil {
		v.warn(fmt.Errorf("reload: %w (keeping the previous config and specs)", err))
		return
	}
	if v.chk != nil {
		// The run ends here with the old checker's findings.
		v.chk.Close()
		if v.in != nil {
			v.in.SetFindings(v.chk.snapshot())
		}
	}
	if v.in != nil {
		t := v.sinceBase()
		t.Complete = true
		if err := v.in.Finish(v.ctx, t); err != nil {
			v.warn(err)
		}
		v.db.Close()
		v.base.Packets += t.Packets
		v.base.Bytes += t.Bytes
		v.base.Drops += t.Drops
		if err := v.openRun(cfg); err != nil {
			// Keep learning in memory; Finish reports the error.
			v.warn(fmt.Errorf("reload: %w", err))
			v.in, v.db = nil, nil
			v.m, _ = v.opts.inf.model()
		}
	} else if v.m != nil {
		m, err := v.opts.inf.model()
		if err != nil {
			v.warn(err)
			return
		}
		m.Merge(v.m)
		v.m = m
	}
	v.chk = chk
	fmt.Fprintln(v.opts.stderr, "specter: reloaded the config and specs")
}

// sinceBase is the counters' totals less what earlier runs recorded.
func (v *sinkStack) sinceBase() store.RunTotals {
	c := v.opts.ctr
	return store.RunTotals{
		Packets: c.Packets.Load() - v.base.Packets,
		Bytes:   c.Bytes.Load() - v.base.Bytes,
		Drops:   c.Drops() - v.base.Drops,
	}
}

// Finish waits for the queued exchanges, checks the last of them, writes
// the inventory and finishes the run with t (cumulative totals). It
// returns the run id (0 without --db). No Emit may follow.
func (v *sinkStack) Finish(ctx context.Context, t store.RunTotals) (int64, error) {
	v.once.Do(func() {
		close(v.ch)
		close(v.batches)
	})
	<-v.done
	var final []diff.Finding
	if v.chk != nil {
		v.chk.Close()
		v.byKind = v.chk.byKind
		final = v.chk.snapshot()
		// The checker's goroutine is done: its state is ours to read.
		v.final = v.chk.c
		v.attach = v.chk.c.Attachments()
		v.unchecked = v.chk.c.Unchecked()
		v.chk = nil
	}
	// A writer's failure does not keep the inventory from being written.
	errs := make([]error, 0, len(v.opts.writers)+1)
	for _, w := range v.opts.writers {
		errs = append(errs, w.Close())
	}
	var err error
	if v.in != nil {
		if final != nil {
			v.in.SetFindings(final)
		}
		t.Packets -= min(t.Packets, v.base.Packets)
		t.Bytes -= min(t.Bytes, v.base.Bytes)
		t.Drops -= min(t.Drops, v.base.Drops)
		if t.Complete && len(v.errs) > 0 {
			t.Complete, t.Error = false, strings.Join(v.errs, "; ")
		}
		err = v.in.Finish(ctx, t)
		if err == nil {
			err = v.db.AddTLSServices(ctx, v.tlsServices)
		}
		if err == nil && v.live() {
			v.flushStored(ctx)
		}
		v.db.Close()
	} else {
		if v.live() {
			v.flush()
		}
		if v.opts.dbPath != "" && len(v.errs) > 0 {
			err = fmt.Errorf("the database could not be written: %s", v.errs[0])
		}
	}
	return v.runID, errors.Join(append(errs, err)...)
}

// flushStored announces what the final checkpoint stored.
func (v *sinkStack) flushStored(ctx context.Context) {
	eps, err := v.db.Endpoints(ctx, "")
	if err != nil {
		v.warn(err)
		return
	}
	v.opts.ctr.Endpoints.Store(uint64(len(eps)))
	v.announce(eps, true)
}

// liveChecker runs a diff.Checker on its own goroutine and, once a second
// when it checked something, looks for findings with new fingerprints to
// announce.
type liveChecker struct {
	// byKind counts the findings per kind at the last look; read once
	// the checker is closed.
	byKind map[string]uint64
	c      *diff.Checker
	// last is the findings at the last look, for the store (which keeps
	// each run's cumulative findings).
	mu   sync.Mutex
	last []diff.Finding
	ch   chan *reassembly.Exchange
	// batches carries CheckBatch's exchanges; recycle takes the slices
	// back once checked.
	batches chan []*reassembly.Exchange
	recycle func([]*reassembly.Exchange)
	done    chan struct{}
	events  *eventLog
	ctr     *counters
	// scanning is whether the findings are looked at once a second, not
	// only at the end (a capture).
	scanning bool
}

// newLiveChecker starts c; with live set it looks at the findings every
// findingsScan, else once, when closed.
func newLiveChecker(c *diff.Checker, live time.Duration, events *eventLog, ctr *counters, recycle func([]*reassembly.Exchange)) *liveChecker {
	l := &liveChecker{c: c, ch: make(chan *reassembly.Exchange, exchangeQueue),
		batches: make(chan []*reassembly.Exchange, exchangeQueue/exchangeBatch), recycle: recycle,
		done: make(chan struct{}), events: events, ctr: ctr, scanning: live > 0}
	go l.run()
	return l
}

func (l *liveChecker) run() {
	defer close(l.done)
	var tick <-chan time.Time
	if l.scanning {
		t := time.NewTicker(findingsScan)
		defer t.Stop()
		tick = t.C
	}
	dirty := false
	ch, batches := l.ch, l.batches
	for {
		select {
		case x, ok := <-ch:
			if !ok {
				ch = nil
				break
			}
			l.c.Check(x)
			dirty = true
		case xs, ok := <-batches:
			if !ok {
				batches = nil
				break
			}
			for _, x := range xs {
				l.c.Check(x)
			}
			l.recycle(xs)
			dirty = true
		case <-tick:
			if dirty {
				l.scan()
				dirty = false
			}
		}
		if ch == nil && batches == nil {
			l.scan()
			return
		}
	}
}

func (l *liveChecker) scan() {
	fs := l.c.Findings()
	l.mu.Lock()
	l.last = fs
	l.mu.Unlock()
	l.ctr.Findings.Store(uint64(len(fs)))
	l.byKind = map[string]uint64{}
	for i := range fs {
		l.byKind[string(fs[i].Kind)]++
	}
	now := time.Now().UTC()
	for i := range fs {
		f := &fs[i]
		if f.Kind == diff.KindUnused {
			// An absence, not an event: traffic may still come.
			continue
		}
		l.events.Finding(event{Time: now, Event: "finding", Kind: string(f.Kind), Service: f.Service,
			Method: f.Method, Path: f.Path, Finding: f})
	}
}

// Check queues an exchange.
func (l *liveChecker) Check(x *reassembly.Exchange) { l.ch <- x }

// CheckBatch queues a batch of exchanges (at most exchangeBatch), which is
// the checker's until it recycles it.
func (l *liveChecker) CheckBatch(xs []*reassembly.Exchange) { l.batches <- xs }

// snapshot returns the findings at the last look; nil for a nil checker.
func (l *liveChecker) snapshot() []diff.Finding {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// Close checks what is queued, announces the last findings and stops. A
// nil checker (no specs) has nothing to do.
func (l *liveChecker) Close() {
	if l == nil {
		return
	}
	close(l.ch)
	close(l.batches)
	<-l.done
}

// event is one line of --events.
type event struct {
	Time time.Time `json:"time"`
	// Event is "finding" (a new fingerprint), "endpoint" (a new endpoint
	// in the inventory) or "sensitive" (kinds of sensitive data new to an
	// endpoint).
	Event     string        `json:"event"`
	Kind      string        `json:"kind,omitempty"` // the finding's kind
	Service   string        `json:"service"`
	Method    string        `json:"method"`
	Path      string        `json:"path"`
	Sensitive []string      `json:"sensitive,omitempty"`
	Processes []string      `json:"processes,omitempty"`
	Finding   *diff.Finding `json:"finding,omitempty"`
}

// eventLog writes events as JSON lines, each as soon as it happens. A nil
// eventLog drops them. It is safe for concurrent use.
type eventLog struct {
	mu      sync.Mutex
	w       io.Writer
	c       io.Closer
	keys    map[string]bool // finding fingerprints announced
	n       atomic.Uint64
	dropped uint64
	err     error
}

// openEvents opens --events: "" for none, "-" for stdout, else a file
// (appended to, created 0600).
func openEvents(path string, stdout io.Writer) (*eventLog, error) {
	switch path {
	case "":
		return nil, nil
	case "-":
		return &eventLog{w: stdout, keys: map[string]bool{}}, nil
	}
	f, err := createPrivate(path, os.O_APPEND)
	if err != nil {
		return nil, usageError("--events: %v", err)
	}
	return &eventLog{w: f, c: f, keys: map[string]bool{}}, nil
}

// Write writes one event.
func (l *eventLog) Write(e event) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.write(e)
}

func (l *eventLog) write(e event) {
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	b = append(b, '\n')
	if _, err := l.w.Write(b); err != nil && l.err == nil {
		l.err = err
	}
	l.n.Add(1)
}

// Finding writes a finding's event unless its fingerprint was announced.
func (l *eventLog) Finding(e event) {
	if l == nil || e.Finding == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fp := e.Finding.Fingerprint
	if l.keys[fp] {
		return
	}
	if len(l.keys) >= maxEventKeys {
		l.dropped++
		return
	}
	l.keys[fp] = true
	l.write(e)
}

// Count returns the events written.
func (l *eventLog) Count() uint64 {
	if l == nil {
		return 0
	}
	return l.n.Load()
}

// Close closes the file.
func (l *eventLog) Close() error {
	if l == nil || l.c == nil {
		return nil
	}
	return l.c.Close()
}

// serveMetrics serves the counters on addr/metrics in the Prometheus text
// format. An address without a host binds 127.0.0.1. It returns the bound
// address and a function stopping the server.
func serveMetrics(addr string, ctr *counters, extra ...prometheus.Collector) (string, func(), error) {
	reg := prometheus.NewRegistry()
	metric := func(name, help string, v *atomic.Uint64, gauge bool) error {
		f := func() float64 { return float64(v.Load()) }
		if gauge {
			return reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "specter", Subsystem: "capture", Name: name, Help: help}, f))
		}
		return reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "specter", Subsystem: "capture", Name: name + "_total", Help: help}, f))
	}
	for _, m := range []struct {
		name, help string
		v          *atomic.Uint64
		gauge      bool
	}{
		{"packets", "Frames (live) or eBPF records read.", &ctr.Packets, false},
		{"bytes", "Bytes of the frames or eBPF records read.", &ctr.Bytes, false},
		{"kernel_drops", "Frames or eBPF records the kernel dropped because a ring was full.", &ctr.KernelDrops, false},
		{"bound_drops", "Connections evicted or shed for memory, gaps forced, pipelined requests and fragments dropped by specter's own bounds.", &ctr.BoundDrops, false},
		{"exchanges", "HTTP exchanges reassembled.", &ctr.Exchanges, false},
		{"endpoints", "Endpoints in the inventory at the last flush.", &ctr.Endpoints, true},
		{"findings", "Distinct findings against the declared specs.", &ctr.Findings, true},
	} {
		if err := metric(m.name, m.help, m.v, m.gauge); err != nil {
			return "", nil, err
		}
	}
	for _, c := range extra {
		if err := reg.Register(c); err != nil {
			return "", nil, err
		}
	}
	return serveRegistry(addr, reg)
}

// sortedProcesses is used by tests and the endpoints table.
func sortedProcesses(ps []infer.ProcessSummary) string {
	names := processNames(ps)
	slices.Sort(names)
	return strings.Join(names, ",")
}

//go:build linux

package bpf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"
)

// Defaults for the Options bounds.
const (
	DefaultRingSize = 8 << 20
	DefaultMaxConns = 65536
)

// pollInterval is how often Read looks into the ring buffer when the kernel
// has not woken it: the most a record waits there when the traffic is low.
const pollInterval = 10 * time.Millisecond

// ErrClosed is returned by Read once the Tracer is closed.
var ErrClosed = errors.New("bpf: tracer closed")

// Options select what a Tracer captures. The filters combine (all must
// match) and are applied in the kernel.
type Options struct {
	// PID traces only this process (thread group id); 0 traces all.
	PID uint32
	// Cgroup traces only processes in the cgroup v2 directory at this path
	// (e.g. /sys/fs/cgroup/system.slice/nginx.service); "" traces all.
	Cgroup string
	// Comm traces only threads with this command name (as in
	// /proc/PID/comm, at most 15 bytes); "" traces all.
	Comm string
	// NoTLS leaves libssl alone: no uprobes, TLS sockets show as raw
	// (encrypted) data.
	NoTLS bool
	// LibSSL lists libssl files to probe, besides those found in the memory
	// maps of the traced processes (all processes, or PID) and the usual
	// system paths.
	LibSSL []string
	// RingSize is the ring buffer size in bytes, rounded up to a power of two
	// of at least one page; 0 means DefaultRingSize.
	RingSize int
	// MaxConns bounds the (pid, fd) tracking map; 0 means DefaultMaxConns.
	MaxConns int
	// BothSides reports both ends of connections between two local
	// processes (connected to a loopback address, or to the socket's own
	// address) when every process is traced. By default only the end that
	// accepted the connection is reported: the connecting end would repeat
	// each exchange. Connections already open when the Tracer started, whose
	// ends are unknown, are reported from both.
	BothSides bool
	// TraceSelf also traces the calling process, excluded by default so a
	// tracer writing to a socket does not capture itself.
	TraceSelf bool
}

// Stats count what a Tracer has read.
type Stats struct {
	// Records is the number of records read from the ring buffer.
	Records uint64
	// Lost is the number of records the kernel dropped because the ring
	// buffer was full.
	Lost uint64
	// Bytes is the number of data bytes read (after the MaxChunk cap).
	Bytes uint64
	// Truncated counts data chunks cut at MaxChunk (or whose bytes could not
	// be copied).
	Truncated uint64
	// Malformed counts records that did not decode (skipped).
	Malformed uint64
}

// Tracer is an attached eBPF program set. Read must be called from one
// goroutine at a time; Stats and Close from any.
type Tracer struct {
	objs   specterObjects
	links  []link.Link
	progs  []namedProg // attached, for ProgramStats
	rd     *ringbuf.Reader
	boot   time.Time
	libssl []string
	stop   func() bool

	rec       ringbuf.Record
	comms     commCache // used by ReadBatch only
	batch     Batch     // Read's, chunks from next on not returned yet
	next      int
	records   atomic.Uint64
	bytes     atomic.Uint64
	truncated atomic.Uint64
	malformed atomic.Uint64

	mu       sync.RWMutex // guards the maps against Close during Stats
	closed   bool
	lost     uint64 // last Lost read from the kernel, kept past Close
	closeErr error
}

// Open checks the host (see Check), loads the programs with the filters of
// opts, attaches them and returns the Tracer. Cancelling ctx closes it.
func Open(ctx context.Context, opts Options) (*Tracer, error) {
	if err := Check().Err(); err != nil {
		return nil, err
	}
	spec, err := loadSpecter()
	if err != nil {
		return nil, fmt.Errorf("bpf: loading the embedded object: %w", err)
	}
	ring := opts.RingSize
	if ring <= 0 {
		ring = DefaultRingSize
	}
	spec.Maps["events"].MaxEntries = ringSize(ring, os.Getpagesize())
	if opts.MaxConns > 0 {
		spec.Maps["conns"].MaxEntries = uint32(min(opts.MaxConns, 1<<24))
	}
	if err := spec.Variables["wakeup_bytes"].Set(uint64(spec.Maps["events"].MaxEntries / 8)); err != nil {
		return nil, fmt.Errorf("bpf: setting wakeup_bytes: %w", err)
	}
	if err := setFilters(spec, opts); err != nil {
		return nil, err
	}
	t := &Tracer{boot: bootTime(), comms: make(commCache)}
	if err := spec.LoadAndAssign(&t.objs, nil); err != nil {
		var verr *ebpf.VerifierError
		if errors.As(err, &verr) {
			return nil, fmt.Errorf("bpf: the kernel's verifier rejected the program: %w (last lines: %s)", err, strings.Join(tail(verr.Log, 5), " | "))
		}
		return nil, fmt.Errorf("bpf: loading programs and maps: %w", err)
	}
	if err := t.attach(opts); err != nil {
		t.Close()
		return nil, err
	}
	t.rd, err = ringbuf.NewReader(t.objs.Events)
	if err != nil {
		t.Close()
		return nil, fmt.Errorf("bpf: ring buffer reader: %w", err)
	}
	t.mu.Lock() // Close may run at once, if ctx is done already
	t.stop = context.AfterFunc(ctx, func() { t.Close() })
	t.mu.Unlock()
	return t, nil
}

func tail(lines []string, n int) []string {
	if len(lines) > n {
		return lines[len(lines)-n:]
	}
	return lines
}

// ringSize rounds n up to a power of two multiple of the page size, as
// BPF_MAP_TYPE_RINGBUF requires.
func ringSize(n, page int) uint32 {
	size := page
	for size < n && size < 1<<30 {
		size <<= 1
	}
	return uint32(size)
}

func setFilters(spec *ebpf.CollectionSpec, opts Options) error {
	set := func(name string, v any) error {
		if err := spec.Variables[name].Set(v); err != nil {
			return fmt.Errorf("bpf: setting filter %s: %w", name, err)
		}
		return nil
	}
	if err := set("filter_pid", opts.PID); err != nil {
		return err
	}
	// With every process traced, both ends of a connection between two of
	// them are seen: the kernel reports the accepting side only.
	all := opts.PID == 0 && opts.Cgroup == "" && opts.Comm == ""
	if err := set("local_dedupe", boolByte(all && !opts.BothSides)); err != nil {
		return err
	}
	if err := set("trace_tls", boolByte(!opts.NoTLS)); err != nil {
		return err
	}
	if !opts.TraceSelf && opts.PID != uint32(os.Getpid()) {
		if err := set("ignore_pid", uint32(os.Getpid())); err != nil {
			return err
		}
	}
	if opts.Cgroup != "" {
		var st unix.Stat_t
		if err := unix.Stat(opts.Cgroup, &st); err != nil {
			return fmt.Errorf("bpf: cgroup filter %s: %w", opts.Cgroup, err)
		}
		if err := set("filter_cgroup", st.Ino); err != nil {
			return err
		}
	}
	if opts.Comm != "" {
		if len(opts.Comm) > 15 {
			return fmt.Errorf("bpf: comm filter %q: longer than the kernel's 15 bytes", opts.Comm)
		}
		var comm [16]byte
		copy(comm[:], opts.Comm)
		if err := set("filter_comm", comm); err != nil {
			return err
		}
	}
	return nil
}

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// bootTime is the wall-clock time at which CLOCK_MONOTONIC (the clock of
// bpf_ktime_get_ns) was zero.
func bootTime() time.Time {
	var ts unix.Timespec
	now := time.Now()
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return now
	}
	return now.Add(-time.Duration(ts.Nano()))
}

func (t *Tracer) attach(opts Options) error {
	l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_exit", Program: t.objs.SysExitRaw})
	if err != nil {
		return fmt.Errorf("bpf: attaching raw tracepoint sys_exit: %w", err)
	}
	t.links = append(t.links, l)
	t.progs = append(t.progs, namedProg{"raw_tracepoint sys_exit", t.objs.SysExitRaw})
	if opts.NoTLS {
		return nil
	}
	for _, path := range findLibSSL(opts.PID, opts.LibSSL) {
		n, err := t.attachSSL(path, opts.PID)
		if err != nil {
			return err
		}
		if n > 0 {
			t.libssl = append(t.libssl, path)
		}
	}
	return nil
}

// attachSSL puts the uprobes on one libssl file and returns how many
// functions it found; functions the library lacks (SSL_read_ex before
// OpenSSL 1.1.1) are skipped.
func (t *Tracer) attachSSL(path string, pid uint32) (int, error) {
	ex, err := link.OpenExecutable(path)
	if err != nil {
		return 0, fmt.Errorf("bpf: opening %s for uprobes: %w", path, err)
	}
	o := &t.objs
	probes := []struct {
		sym        string
		enter, ret *ebpf.Program
	}{
		{"SSL_set_fd", o.SslSetFd, nil},
		{"SSL_read", o.UpSSL_read, o.UretSSL_read},
		{"SSL_write", o.UpSSL_write, o.UretSSL_write},
		{"SSL_read_ex", o.UpSSL_readEx, o.UretSSL_readEx},
		{"SSL_write_ex", o.UpSSL_writeEx, o.UretSSL_writeEx},
		{"SSL_do_handshake", o.UpSSL_doHandshake, o.UretSSL_doHandshake},
		{"SSL_connect", o.UpSSL_connect, o.UretSSL_connect},
		{"SSL_accept", o.UpSSL_accept, o.UretSSL_accept},
	}
	uo := &link.UprobeOptions{PID: int(pid)}
	found := 0
	for _, p := range probes {
		l, err := ex.Uprobe(p.sym, p.enter, uo)
		if errors.Is(err, link.ErrNoSymbol) {
			continue
		}
		if err != nil {
			return found, fmt.Errorf("bpf: uprobe on %s in %s: %w", p.sym, path, err)
		}
		t.links = append(t.links, l)
		t.progs = append(t.progs, namedProg{"uprobe " + p.sym, p.enter})
		found++
		if p.ret == nil {
			continue
		}
		l, err = ex.Uretprobe(p.sym, p.ret, uo)
		if err != nil {
			return found, fmt.Errorf("bpf: uretprobe on %s in %s: %w", p.sym, path, err)
		}
		t.links = append(t.links, l)
		t.progs = append(t.progs, namedProg{"uretprobe " + p.sym, p.ret})
	}
	return found, nil
}

type namedProg struct {
	name string
	prog *ebpf.Program
}

// ProgramStat is the kernel's accounting of one attached program.
type ProgramStat struct {
	// Name is the hook: "raw_tracepoint sys_exit", or "uprobe
	// SSL_read" (once per libssl file probed).
	Name    string
	Runs    uint64
	Runtime time.Duration
}

// ProgramStats returns how often each attached program ran and for how long.
// The kernel counts only while BPF statistics are enabled (sysctl
// kernel.bpf_stats_enabled=1, or ebpf.EnableStats); otherwise all are zero.
func (t *Tracer) ProgramStats() []ProgramStat {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.closed {
		return nil
	}
	out := make([]ProgramStat, 0, len(t.progs))
	for _, p := range t.progs {
		st := ProgramStat{Name: p.name}
		if ks, err := p.prog.Stats(); err == nil {
			st.Runs, st.Runtime = ks.RunCount, ks.Runtime
		}
		out = append(out, st)
	}
	return out
}

// LibSSL returns the libssl files the uprobes are attached to.
func (t *Tracer) LibSSL() []string { return t.libssl }

// Read blocks until the next record and returns it. It skips (and counts in
// Stats.Malformed) records that do not decode, and returns ErrClosed once
// the Tracer is closed. It reads the ring buffer a batch at a time (see
// ReadBatch), which Stats counts as read.
func (t *Tracer) Read() (Chunk, error) {
	for t.next >= len(t.batch.Chunks) {
		t.next = 0
		if err := t.ReadBatch(&t.batch); err != nil {
			return Chunk{}, err
		}
	}
	c := t.batch.Chunks[t.next]
	t.next++
	c.Data = bytes.Clone(c.Data) // the caller's
	return c, nil
}

// ReadBatch blocks until the next record, then reads into b (emptied
// first) the records the ring buffer holds, until it is empty or b is Full.
// It skips and counts records as Read does. When the Tracer is closed it
// returns what b holds, if anything, with a nil error, and ErrClosed at the
// next call.
//
// The poll deadline is set only when the ring is found empty, not for each
// record.
func (t *Tracer) ReadBatch(b *Batch) error {
	b.Reset()
	var nbytes, truncated uint64
	defer func() {
		t.records.Add(uint64(len(b.Chunks)))
		t.bytes.Add(nbytes)
		t.truncated.Add(truncated)
	}()
	for {
		if len(b.Chunks) == 0 {
			// The kernel wakes the reader only when the ring is 1/8
			// full; the deadline bounds how long fewer records wait.
			t.rd.SetDeadline(time.Now().Add(pollInterval))
		}
		if err := t.rd.ReadInto(&t.rec); err != nil {
			switch {
			case len(b.Chunks) > 0:
				// What was read goes first; a lasting error (closed)
				// comes back at the next call.
				return nil
			case errors.Is(err, os.ErrDeadlineExceeded):
				continue
			case errors.Is(err, os.ErrClosed):
				return ErrClosed
			}
			return fmt.Errorf("bpf: reading the ring buffer: %w", err)
		}
		if err := b.decode(t.rec.RawSample, t.boot, t.comms); err != nil {
			t.malformed.Add(1)
		} else {
			c := &b.Chunks[len(b.Chunks)-1]
			nbytes += uint64(len(c.Data))
			if c.Truncated {
				truncated++
			}
		}
		if t.rec.Remaining == 0 || b.Full() {
			if len(b.Chunks) > 0 {
				return nil
			}
		}
	}
}

// Stats returns the counters so far.
func (t *Tracer) Stats() Stats {
	s := Stats{
		Records:   t.records.Load(),
		Bytes:     t.bytes.Load(),
		Truncated: t.truncated.Load(),
		Malformed: t.malformed.Load(),
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	var perCPU []uint64
	if !t.closed && t.objs.Lost != nil && t.objs.Lost.Lookup(uint32(0), &perCPU) == nil {
		for _, n := range perCPU {
			s.Lost += n
		}
		t.lost = s.Lost
	}
	s.Lost = t.lost
	return s
}

// Close detaches the programs and frees the maps; a blocked Read returns
// ErrClosed. It is safe to call more than once.
func (t *Tracer) Close() error {
	t.Stats() // keep the final lost count
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return t.closeErr
	}
	t.closed = true
	{
		if t.stop != nil {
			t.stop()
		}
		var errs []error
		if t.rd != nil {
			errs = append(errs, t.rd.Close())
		}
		for _, l := range t.links {
			errs = append(errs, l.Close())
		}
		errs = append(errs, t.objs.Close())
		t.closeErr = errors.Join(errs...)
	}
	return t.closeErr
}

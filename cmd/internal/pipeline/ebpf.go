package pipeline

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/specter-dev/specter/bpf"
	"github.com/specter-dev/specter/reassembly"
)

// chunkBatches bounds the eBPF chunks read but not yet parsed: the reader
// fills batches of at most bpf.BatchChunks chunks and bpf.BatchBytes data
// bytes, and at most chunkBatches of them exist (under 1 MiB). When all
// are waiting to be parsed the reader waits, the kernel's ring buffer fills
// and the kernel drops records (counted as kernel drops).
const chunkBatches = 8

// tlsConn marks the stream of a connection's TLS plaintext: its encrypted
// bytes (the handshake seen before the tie to the SSL object) are a
// separate stream, so they cannot confuse the plaintext's parser.
const tlsConn = 1 << 63

// defaultEmitBatch is EBPFOptions.Batch's default.
const defaultEmitBatch = 128

// On shutdown the eBPF ring buffer is read until it has been quiet for
// ebpfQuiet (its reader polls every 10 ms), for at most ebpfDrain. The
// streams' idle connections are flushed every ebpfFlush; ebpfTick is the
// period of RunEBPF's clock (loss gaps, batches handed on, tick).
const (
	ebpfQuiet = 200 * time.Millisecond
	ebpfDrain = 2 * time.Second
	ebpfFlush = time.Second
	ebpfTick  = 100 * time.Millisecond
)

// Tracer is what RunEBPF reads: a *bpf.Tracer, or a stand-in in tests and
// benchmarks.
type Tracer interface {
	ReadBatch(*bpf.Batch) error
	Stats() bpf.Stats
	Close() error
}

// EBPFOptions configures EBPFStreams.
type EBPFOptions struct {
	// Reassembly configures the streams; MaxConnections also bounds the
	// connections whose side and loss gaps are tracked.
	Reassembly reassembly.Config
	// SkipClients leaves out the client's view of connections within
	// this host. Set it when every process is traced: both ends of such
	// a connection are then read, and the exchange is kept once, from the
	// server's socket.
	SkipClients bool
	// Local is this host's addresses (loopback is recognised by its
	// range anyway); nil means those of its interfaces (HostAddrs).
	Local map[netip.Addr]bool
	// Batch bounds the exchanges handed to emit at once (0: 128).
	Batch int
}

// EBPFStats are EBPFStreams' counters.
type EBPFStats struct {
	Streams reassembly.Stats
	// Untied counts TLS plaintext chunks of an SSL object never tied to
	// a socket, dropped: nothing to pair them with.
	Untied uint64
	// ClientViews counts connections within this host read from the
	// server's socket only (SkipClients).
	ClientViews uint64
}

// EBPFStreams turns eBPF chunks into stream input: it leaves out the
// client's view of connections within this host, ties TLS plaintext to its
// own stream, and gaps the connections active when the kernel lost records.
// The exchanges are handed on in batches: after each batch of chunks, at
// each Tick and at Close. It is not safe for concurrent use.
type EBPFStreams struct {
	sides     *sides
	streams   *reassembly.Streams
	lg        *lossGaps
	untied    uint64
	batch     int
	lastFlush time.Time
	// emit hands a batch over and returns an empty slice for the next.
	emit func([]*reassembly.Exchange) []*reassembly.Exchange
	out  []*reassembly.Exchange
}

// NewEBPFStreams returns an EBPFStreams handing its exchanges to emit.
func NewEBPFStreams(opts EBPFOptions, emit func([]*reassembly.Exchange) []*reassembly.Exchange) *EBPFStreams {
	local := opts.Local
	if local == nil {
		local = HostAddrs()
	}
	h := &EBPFStreams{sides: newSides(opts.Reassembly, opts.SkipClients, local), emit: emit, batch: opts.Batch}
	if h.batch <= 0 {
		h.batch = defaultEmitBatch
	}
	h.streams = reassembly.NewStreams(opts.Reassembly, h.collect)
	h.lg = newLossGaps(opts.Reassembly.MaxConnections, h.streams.Gap)
	return h
}

// collect takes an exchange from the streams; a full batch goes at once.
func (h *EBPFStreams) collect(x *reassembly.Exchange) {
	h.out = append(h.out, x)
	if len(h.out) >= h.batch {
		h.flush()
	}
}

// flush hands the exchanges collected on.
func (h *EBPFStreams) flush() {
	if len(h.out) > 0 {
		h.out = h.emit(h.out)
	}
}

// Batch takes a batch of chunks, in the order the kernel wrote them.
func (h *EBPFStreams) Batch(b *bpf.Batch) {
	for i := range b.Chunks {
		h.Chunk(&b.Chunks[i])
	}
	h.flush()
}

// Chunk takes one chunk; its exchanges are handed on when a batch is full
// or at the next Batch, Tick or Close.
func (h *EBPFStreams) Chunk(c *bpf.Chunk) {
	id := uint64(c.Conn)
	if c.TLS {
		if c.Conn == 0 {
			h.untied++
			return
		}
		id |= tlsConn
	}
	switch c.Kind {
	case bpf.KindData:
		if h.sides.skip(id, c.Dir == bpf.Egress, c.Remote, c.Time) {
			return
		}
		meta := reassembly.StreamMeta{Local: c.Local, Remote: c.Remote,
			Process: reassembly.Process{PID: c.PID, Comm: c.Comm, Cgroup: c.Cgroup}}
		dir := reassembly.Ingress
		if c.Dir == bpf.Egress {
			dir = reassembly.Egress
		}
		if len(c.Data) > 0 {
			h.streams.Data(id, meta, dir, c.Data, c.Time)
		}
		h.lg.data(id, meta)
		if c.Truncated && c.Len > len(c.Data) {
			h.streams.Gap(id, meta, dir, c.Len-len(c.Data), c.Time)
		}
	case bpf.KindClose:
		h.streams.Close(id, c.Time)
		h.streams.Close(id|tlsConn, c.Time)
		h.lg.close(id)
		h.lg.close(id | tlsConn)
		h.sides.close(id)
		h.sides.close(id | tlsConn)
	}
}

// Tick moves the clock to now, given the kernel's cumulative count of lost
// records: the connections active since the last Tick get gaps when it
// grew, idle connections are flushed (at most once a second), and the
// exchanges collected are handed on.
func (h *EBPFStreams) Tick(now time.Time, lost uint64) {
	h.lg.check(lost, now)
	if h.lastFlush.IsZero() {
		h.lastFlush = now
	} else if now.Sub(h.lastFlush) >= ebpfFlush {
		h.streams.Flush(now)
		h.sides.expire(now)
		h.lastFlush = now
	}
	h.flush()
}

// Close ends every stream (as Tick, lost gaps the active connections
// first) and hands the last exchanges on.
func (h *EBPFStreams) Close(now time.Time, lost uint64) {
	h.lg.check(lost, now)
	h.streams.CloseAll(now)
	h.flush()
}

// Stats returns the counters.
func (h *EBPFStreams) Stats() EBPFStats {
	return EBPFStats{Streams: h.streams.Stats(), Untied: h.untied, ClientViews: h.sides.dropped}
}

// RunEBPF reads tr into h until ctx ends or tr fails, then closes tr and h.
// A reader goroutine fills batches (at most chunkBatches of them, so a slow
// consumer makes the kernel drop, never memory grow) while this one parses
// them; tick runs on every clock period and once at the end, on this
// goroutine. When ctx ends what the ring buffer still holds is read, until
// it has been quiet for a moment (at most two seconds). It returns tr's
// read error, nil when tr was closed.
func RunEBPF(ctx context.Context, tr Tracer, h *EBPFStreams, tick func()) error {
	free := make(chan *bpf.Batch, chunkBatches)
	full := make(chan *bpf.Batch, chunkBatches)
	for range chunkBatches {
		free <- new(bpf.Batch)
	}
	var readErr error // written before full is closed
	go func() {
		defer close(full)
		for {
			b := <-free
			err := tr.ReadBatch(b)
			if len(b.Chunks) > 0 {
				full <- b
			} else {
				free <- b
			}
			if err != nil {
				if !errors.Is(err, bpf.ErrClosed) {
					readErr = err
				}
				return
			}
		}
	}()
	handle := func(b *bpf.Batch) {
		h.Batch(b)
		free <- b
	}
	t := time.NewTicker(ebpfTick)
	defer t.Stop()
	h.lastFlush = time.Now()
loop:
	for {
		select {
		case b, ok := <-full:
			if !ok {
				break loop
			}
			handle(b)
		case now := <-t.C:
			h.Tick(now, tr.Stats().Lost)
			tick()
		case <-ctx.Done():
			drain(full, handle)
			// Stop the kernel side, then parse what was already read.
			tr.Close()
			for b := range full {
				handle(b)
			}
			break loop
		}
	}
	tr.Close()
	h.Close(time.Now(), tr.Stats().Lost)
	tick()
	return readErr
}

// drain handles the batches of full until it has been quiet for ebpfQuiet,
// for at most ebpfDrain, or is closed.
func drain(full <-chan *bpf.Batch, handle func(*bpf.Batch)) {
	quiet := time.NewTimer(ebpfQuiet)
	defer quiet.Stop()
	limit := time.NewTimer(ebpfDrain)
	defer limit.Stop()
	for {
		select {
		case b, ok := <-full:
			if !ok {
				return
			}
			handle(b)
			quiet.Reset(ebpfQuiet)
		case <-quiet.C:
			return
		case <-limit.C:
			return
		}
	}
}

// sides drops the client's view of connections within this host. With
// every process traced, a request from one local process to another is
// read from both sockets; HTTP clients speak first, so the socket whose
// first bytes are written (egress) to a local address is the client's, and
// its chunks are left out: the exchange is kept once, from the process that
// served it. With a process filter the other end may not be traced, so
// nothing is left out. The verdicts are kept per connection, at most max of
// them (connections past it are all kept), and forgotten when the
// connection closes or stays idle for idle.
type sides struct {
	dedupe  bool
	max     int
	idle    time.Duration
	local   map[netip.Addr]bool // this host's addresses
	conns   map[uint64]*side    // updated in place: one lookup per chunk
	dropped uint64              // connections read from the server's socket only
}

type side struct {
	client bool
	last   time.Time
}

func newSides(cfg reassembly.Config, dedupe bool, local map[netip.Addr]bool) *sides {
	d := reassembly.DefaultConfig()
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = d.MaxConnections
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = d.IdleTimeout
	}
	return &sides{dedupe: dedupe, max: cfg.MaxConnections, idle: cfg.IdleTimeout, local: local, conns: map[uint64]*side{}}
}

// HostAddrs returns the addresses of this host's interfaces (none when
// they cannot be listed).
func HostAddrs() map[netip.Addr]bool {
	out := map[netip.Addr]bool{}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return out
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out[p.Addr().Unmap()] = true
		}
	}
	return out
}

// skip reports whether a data chunk of connection id, written (egress) or
// read by the process, is the client's view of a connection within this
// host.
func (s *sides) skip(id uint64, egress bool, remote netip.AddrPort, now time.Time) bool {
	if !s.dedupe {
		return false
	}
	if v := s.conns[id]; v != nil {
		v.last = now
		return v.client
	}
	if len(s.conns) >= s.max {
		return false
	}
	r := remote.Addr().Unmap()
	client := egress && (r.IsLoopback() || s.local[r])
	s.conns[id] = &side{client: client, last: now}
	if client {
		s.dropped++
	}
	return client
}

func (s *sides) close(id uint64) { delete(s.conns, id) }

// expire forgets the connections idle since before now-idle.
func (s *sides) expire(now time.Time) {
	for id, v := range s.conns {
		if now.Sub(v.last) > s.idle {
			delete(s.conns, id)
		}
	}
}

// lossGaps turns eBPF records lost by the kernel into stream gaps. The
// kernel does not say which connection a lost record belonged to, so when
// records were lost every connection that had data since the last check
// gets a gap of unknown length in both directions: its parsers
// resynchronize on the next message instead of gluing unrelated bytes
// together (a message in flight on an unaffected connection is then
// reported incomplete: overload costs exchanges, never wrong ones). The
// set is bounded like the streams (max connections); connections past it
// are not gapped.
type lossGaps struct {
	max    int
	active map[uint64]reassembly.StreamMeta
	lost   uint64
	gap    func(id uint64, meta reassembly.StreamMeta, dir reassembly.Direction, n int, ts time.Time)
}

func newLossGaps(max int, gap func(uint64, reassembly.StreamMeta, reassembly.Direction, int, time.Time)) *lossGaps {
	if max <= 0 {
		max = reassembly.DefaultConfig().MaxConnections
	}
	return &lossGaps{max: max, active: map[uint64]reassembly.StreamMeta{}, gap: gap}
}

// data notes that connection id had data.
func (l *lossGaps) data(id uint64, meta reassembly.StreamMeta) {
	if m, ok := l.active[id]; ok {
		if m != meta { // another process, or other addresses
			l.active[id] = meta
		}
	} else if len(l.active) < l.max {
		l.active[id] = meta
	}
}

// close forgets a closed connection.
func (l *lossGaps) close(id uint64) { delete(l.active, id) }

// check takes the kernel's cumulative lost count: when it grew, the
// connections active since the last check get their gaps. Either way a new
// period begins.
func (l *lossGaps) check(lost uint64, now time.Time) {
	if lost > l.lost {
		l.lost = lost
		for id, meta := range l.active {
			l.gap(id, meta, reassembly.Ingress, -1, now)
			l.gap(id, meta, reassembly.Egress, -1, now)
		}
	}
	clear(l.active)
}

package reassembly

import (
	"encoding/binary"
	"hash/fnv"
	"net/netip"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	gpreasm "github.com/gopacket/gopacket/reassembly"

	"github.com/specter-dev/specter/capture"
)

// Batching amortizes channel operations: the reader hands a worker up to
// batchSegments segments (or batchBytes of payload) at once.
const (
	batchSegments = 256
	batchBytes    = 256 << 10
	// batchesPerWorker bounds the segments in flight between the reader
	// and each worker; the reader blocks when a worker falls behind.
	batchesPerWorker = 8
)

// segment is a TCP segment copied out of the reader's buffers.
type segment struct {
	raw      []byte // TCP header and payload, in the batch's buffer
	tcp      layers.TCP
	netFlow  gopacket.Flow
	src, dst netip.Addr
	zone     capture.Zone
	ts       time.Time
}

type batch struct {
	segs []segment
	buf  []byte
	// flush asks the worker to run its timeouts at the pipeline clock once
	// the segments are in; final closes everything.
	flush, final bool
	clock        time.Time
}

// output is what a worker hands the merger after each batch.
type output struct {
	worker    int
	items     []item
	watermark time.Time // no later item from this worker is older
	final     bool
}

// item is an exchange on its way to the merger, or (x nil) the news that
// a connection ended, so that the merger can forget its number.
type item struct {
	x              *Exchange
	clock          time.Time
	client, server netip.AddrPort
	conn           uint64 // the worker-local connection id
	seq            uint32
}

// Pipeline reassembles TCP segments into HTTP exchanges on several workers
// and delivers the exchanges, in a deterministic order, to one callback.
//
// Add must be called from a single goroutine. The callback runs on the
// pipeline's own goroutine, one exchange at a time.
type Pipeline struct {
	cfg     Config
	workers []*worker
	outputs chan output
	emit    func(*Exchange)
	done    chan struct{}
	cur     []*batch
	clock   time.Time
	last    time.Time // clock at the last flush
	closed  bool
	wg      sync.WaitGroup
	// idle counts, per worker, the batches sent to others since its last
	// one: an idle worker is sent an empty batch now and then so that its
	// watermark advances and the merger need not hold exchanges back.
	idle []int
}

// New starts a pipeline that calls emit for every exchange.
func New(cfg Config, emit func(*Exchange)) *Pipeline {
	cfg.normalize()
	p := &Pipeline{
		cfg:     cfg,
		outputs: make(chan output, cfg.Workers*batchesPerWorker),
		emit:    emit,
		done:    make(chan struct{}),
		cur:     make([]*batch, cfg.Workers),
		idle:    make([]int, cfg.Workers),
	}
	for i := 0; i < cfg.Workers; i++ {
		w := newWorker(p, i)
		p.workers = append(p.workers, w)
		p.wg.Add(1)
		go w.run(&p.wg)
	}
	go p.merge()
	return p
}

// Add takes one decoded packet. It copies what it keeps, so pkt may be
// reused as soon as Add returns.
func (p *Pipeline) Add(pkt *capture.Packet) {
	if p.closed {
		return
	}
	if pkt.Timestamp.After(p.clock) {
		p.clock = pkt.Timestamp
	}
	idx := int(shardHash(pkt) % uint64(len(p.workers)))
	b := p.batch(idx)
	hdr, payload := pkt.TCP.Contents, pkt.TCP.Payload
	if len(b.buf)+len(hdr)+len(payload) > cap(b.buf) && len(b.segs) > 0 {
		p.send(idx)
		b = p.batch(idx)
	}
	// layers.TCP keeps slices into the frame it was decoded from, some of
	// them private (the ports TransportFlow reads), so the segment's bytes
	// are copied and decoded again by the worker, from its own copy.
	s := segment{src: pkt.Src, dst: pkt.Dst, zone: pkt.Zone, ts: pkt.Timestamp}
	s.netFlow = zonedFlow(pkt)
	start := len(b.buf)
	b.buf = append(b.buf, hdr...)
	b.buf = append(b.buf, payload...)
	s.raw = b.buf[start:len(b.buf):len(b.buf)]
	b.segs = append(b.segs, s)
	if len(b.segs) >= batchSegments {
		p.send(idx)
	}
	p.maybeFlush()
}

// Advance moves the pipeline's clock to now without a packet, so that idle
// connections time out during quiet periods of a live capture.
func (p *Pipeline) Advance(now time.Time) {
	if p.closed || !now.After(p.clock) {
		return
	}
	p.clock = now
	p.maybeFlush()
}

func (p *Pipeline) maybeFlush() {
	if p.last.IsZero() || p.clock.Before(p.last) {
		p.last = p.clock
		return
	}
	if p.clock.Sub(p.last) < p.cfg.FlushInterval {
		return
	}
	p.last = p.clock
	// Every worker flushes at the same clock, whatever the sharding, so the
	// output does not depend on the number of workers.
	for i := range p.workers {
		b := p.batch(i)
		b.flush = true
		p.send(i)
	}
}

func (p *Pipeline) batch(i int) *batch {
	if p.cur[i] == nil {
		p.cur[i] = p.workers[i].getBatch()
	}
	return p.cur[i]
}

func (p *Pipeline) send(i int) {
	b := p.cur[i]
	if b == nil {
		return
	}
	b.clock = p.clock
	p.cur[i] = nil
	p.workers[i].in <- b
	p.idle[i] = 0
	for j := range p.idle {
		if j == i {
			continue
		}
		p.idle[j]++
		if p.idle[j] > 2*batchesPerWorker {
			p.idle[j] = 0
			p.batch(j)
			p.send(j)
		}
	}
}

// Close flushes every connection, waits for the last exchange to be
// delivered and returns the final counters.
func (p *Pipeline) Close() Stats {
	if !p.closed {
		p.closed = true
		for i := range p.workers {
			b := p.batch(i)
			b.final = true
			p.send(i)
			close(p.workers[i].in)
		}
		p.wg.Wait()
		<-p.done
	}
	return p.Stats()
}

// Stats returns the counters so far. It is safe to call at any time, from
// any goroutine.
func (p *Pipeline) Stats() Stats {
	var s Stats
	var tables []*tlsTable
	for _, w := range p.workers {
		w.ctr.addTo(&s)
		tables = append(tables, &w.tls)
	}
	s.TLS = p.cfg.TLS.Stats()
	_, s.TLSServicesDropped = mergeTLS(tables)
	s.addDecoding(p.cfg.HTTP.Decoding.Stats())
	return s
}

// TLSServices returns the TLS services of the connections closed so far
// (all of them after Close), sorted by server name.
func (p *Pipeline) TLSServices() []TLSService {
	var tables []*tlsTable
	for _, w := range p.workers {
		tables = append(tables, &w.tls)
	}
	svc, _ := mergeTLS(tables)
	return svc
}

// shardHash is symmetric: both directions of a flow land on one worker.
func shardHash(pkt *capture.Packet) uint64 {
	h := pkt.NetFlow.FastHash()*31 + pkt.TCP.TransportFlow().FastHash()
	if z := pkt.Zone.FlowKey(); !z.IsZero() {
		h ^= (uint64(z.VLAN)<<48 | uint64(z.InnerVLAN)<<32 | uint64(z.TunnelID)) * 0x9e3779b97f4a7c15
		h ^= uint64(z.Tunnel) << 56
	}
	return h ^ h>>29
}

// zonedFlow returns the network flow reassembly keys on. gopacket keys
// connections on addresses and ports only; to keep the same 5-tuple in two
// VLANs or tunnels apart, the endpoints of a zoned packet are replaced by a
// 128-bit hash of address and zone. The real addresses travel separately.
func zonedFlow(pkt *capture.Packet) gopacket.Flow {
	z := pkt.Zone.FlowKey()
	if z.IsZero() {
		return pkt.NetFlow
	}
	var zb [12]byte
	binary.BigEndian.PutUint16(zb[0:], z.VLAN)
	binary.BigEndian.PutUint16(zb[2:], z.InnerVLAN)
	zb[4] = byte(z.Tunnel)
	binary.BigEndian.PutUint32(zb[5:], z.TunnelID)
	hash := func(a netip.Addr) []byte {
		h := fnv.New128a()
		b := a.As16()
		h.Write(b[:])
		h.Write(zb[:])
		return h.Sum(nil)
	}
	return gopacket.NewFlow(layers.EndpointIPv6, hash(pkt.Src), hash(pkt.Dst))
}

// merge delivers the workers' exchanges in order of the pipeline clock at
// which they completed, ties broken by flow, so that a capture always gives
// the same sequence of exchanges.
func (p *Pipeline) merge() {
	defer close(p.done)
	n := len(p.workers)
	marks := make([]time.Time, n)
	final := make([]bool, n)
	var h itemHeap
	remaining := n
	// Connections are numbered in the order their first exchange is
	// delivered, so that the numbers do not depend on the sharding.
	ids := map[uint64]uint64{}
	var nextID uint64
	deliver := func(it item) {
		if it.x == nil {
			delete(ids, it.conn)
			return
		}
		id, ok := ids[it.conn]
		if !ok {
			id = nextID
			nextID++
			ids[it.conn] = id
		}
		it.x.ConnID = id
		p.emit(it.x)
	}
	for remaining > 0 {
		o := <-p.outputs
		for _, it := range o.items {
			h.push(it)
		}
		if o.watermark.After(marks[o.worker]) {
			marks[o.worker] = o.watermark
		}
		if o.final {
			final[o.worker] = true
			remaining--
		}
		// Everything strictly older than every live worker's watermark is
		// complete: no worker can still produce an item sorting before it.
		var low time.Time
		first := true
		for i := range marks {
			if final[i] {
				continue
			}
			if first || marks[i].Before(low) {
				low, first = marks[i], false
			}
		}
		for h.Len() > 0 && (remaining == 0 || h[0].clock.Before(low)) {
			deliver(h.pop())
		}
	}
}

type itemHeap []item

func (h itemHeap) Len() int { return len(h) }
func (h itemHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if !a.clock.Equal(b.clock) {
		return a.clock.Before(b.clock)
	}
	if c := a.client.Compare(b.client); c != 0 {
		return c < 0
	}
	if c := a.server.Compare(b.server); c != 0 {
		return c < 0
	}
	if a.conn != b.conn {
		return a.conn < b.conn
	}
	if (a.x == nil) != (b.x == nil) {
		return b.x == nil // a connection's end after its exchanges
	}
	return a.seq < b.seq
}
func (h itemHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }

// push and pop are container/heap's Push and Pop, typed: an item boxed in
// an interface would cost an allocation per exchange.
func (h *itemHeap) push(it item) {
	*h = append(*h, it)
	s := *h
	for j := len(s) - 1; j > 0; {
		i := (j - 1) / 2
		if !s.Less(j, i) {
			break
		}
		s.Swap(i, j)
		j = i
	}
}

func (h *itemHeap) pop() item {
	s := *h
	n := len(s) - 1
	s.Swap(0, n)
	for i := 0; ; {
		j := 2*i + 1
		if j >= n {
			break
		}
		if j2 := j + 1; j2 < n && s.Less(j2, j) {
			j = j2
		}
		if !s.Less(j, i) {
			break
		}
		s.Swap(i, j)
		i = j
	}
	it := s[n]
	s[n] = item{}
	*h = s[:n]
	return it
}

// worker owns one gopacket assembler and the connections sharded to it.
type worker struct {
	p       *Pipeline
	idx     int
	in      chan *batch
	free    chan *batch
	asm     *gpreasm.Assembler
	clock   time.Time
	nextID  uint64
	items   []item
	fillBuf []byte
	fillTCP layers.TCP
	syns    halfOpen
	shard
}

// fill is a hole to fill in one direction of a connection; see half.hole.
type fill struct {
	c   *conn
	dir int
}

// maxFill bounds the hole a fill covers; larger holes wait for the gap
// timeout or the page bounds like any other.
const maxFill = 256 << 10

func newWorker(p *Pipeline, idx int) *worker {
	w := &worker{
		p:    p,
		idx:  idx,
		in:   make(chan *batch, batchesPerWorker),
		free: make(chan *batch, batchesPerWorker+2),
	}
	w.shard = shard{cfg: &p.cfg, maxConns: max(1, p.cfg.MaxConnections/p.cfg.Workers), out: w.collect,
		memBudget: max(1<<20, p.cfg.MaxBufferedBytes/int64(p.cfg.Workers))}
	w.syns.max = max(1, p.cfg.MaxHalfOpen/p.cfg.Workers)
	pool := gpreasm.NewStreamPool(w)
	w.asm = gpreasm.NewAssembler(pool)
	w.asm.MaxBufferedPagesPerConnection = p.cfg.MaxPagesPerConn
	w.asm.MaxBufferedPagesTotal = max(1, p.cfg.MaxPagesTotal/p.cfg.Workers)
	return w
}

func (w *worker) getBatch() *batch {
	select {
	case b := <-w.free:
		b.segs, b.buf = b.segs[:0], b.buf[:0]
		b.flush, b.final = false, false
		return b
	default:
		return &batch{segs: make([]segment, 0, batchSegments), buf: make([]byte, 0, batchBytes)}
	}
}

// New implements gopacket's reassembly.StreamFactory. The segment being
// assembled is passed down through the assembler context.
func (w *worker) New(netFlow, tcpFlow gopacket.Flow, tcp *layers.TCP, ac gpreasm.AssemblerContext) gpreasm.Stream {
	seg := ac.(*segContext).seg
	id := w.nextID*uint64(len(w.p.workers)) + uint64(w.idx)
	w.nextID++
	c := newConn(&w.shard, id, seg)
	w.open++
	c.lastSeen = seg.ts
	w.pushFront(c)
	return c
}

type segContext struct {
	ci  gopacket.CaptureInfo
	seg *segment
}

func (s *segContext) GetCaptureInfo() gopacket.CaptureInfo { return s.ci }

func (w *worker) run(wg *sync.WaitGroup) {
	defer wg.Done()
	var ctx segContext
	for b := range w.in {
		for i := range b.segs {
			s := &b.segs[i]
			if err := s.tcp.DecodeFromBytes(s.raw, gopacket.NilDecodeFeedback); err != nil {
				continue // the decoder already checked it; cannot happen
			}
			w.ctr.segments.Add(1)
			if len(s.tcp.Payload) == 0 && !s.tcp.SYN && !s.tcp.FIN && !s.tcp.RST && !w.ackMatters(s) {
				// A pure ACK tells reassembly nothing, unless it
				// acknowledges data behind a hole (see half.hole).
				if s.ts.After(w.clock) {
					w.clock = s.ts
				}
				continue
			}
			w.ctr.bytes.Add(uint64(len(s.tcp.Payload)))
			if s.ts.After(w.clock) {
				w.clock = s.ts
			}
			if held, evicted := w.syns.hold(s); held {
				w.halfOpenGone(evicted, true)
				continue
			}
			for i, segs := 0, w.syns.release(s); i < len(segs); i++ {
				h := &segs[i]
				if err := h.tcp.DecodeFromBytes(h.raw, gopacket.NilDecodeFeedback); err == nil {
					w.assemble(h, &ctx)
				}
			}
			w.assemble(s, &ctx)
		}
		if b.clock.After(w.clock) {
			w.clock = b.clock
		}
		if b.flush {
			w.flush()
		}
		if b.final {
			w.halfOpenGone(w.syns.expire(w.clock.Add(1)), false)
			w.flushing = true
			w.asm.FlushAll()
			w.flushing = false
			// Connections FlushAll could not close (none expected) still
			// owe their pending requests.
			for w.tail != nil {
				w.tail.finish()
			}
		}
		w.p.outputs <- output{worker: w.idx, items: w.items, watermark: w.clock, final: b.final}
		w.items = nil
		select {
		case w.free <- b:
		default:
		}
	}
}

// assemble hands one segment to the reassembler and enforces the bounds.
func (w *worker) assemble(s *segment, ctx *segContext) {
	ctx.ci = gopacket.CaptureInfo{Timestamp: s.ts, Length: len(s.tcp.Payload), CaptureLength: len(s.tcp.Payload)}
	ctx.seg = s
	w.asm.AssembleWithContext(s.netFlow, &s.tcp, ctx)
	if len(w.fills) > 0 {
		w.runFills(s.ts)
	}
	if w.open > w.maxConns {
		w.evict()
	}
	if w.mem > w.memBudget {
		w.shedMemory(s.ts)
	}
}

// halfOpenGone counts n half-open flows forgotten (by the budget when
// evicted): connections that carried nothing, as when they were tracked
// like the others.
func (w *worker) halfOpenGone(n int, evicted bool) {
	if n == 0 {
		return
	}
	w.ctr.connections.Add(uint64(n))
	w.ctr.empty.Add(uint64(n))
	w.ctr.halfOpen.Add(uint64(n))
	if evicted {
		w.ctr.halfOpenEvicted.Add(uint64(n))
	}
}

// holeKey names the direction of a connection that has a hole, as
// gopacket keys it.
type holeKey struct{ net, tp gopacket.Flow }

func (w *shard) holeOpened(c *conn, dir int) {
	if w.holes == nil {
		w.holes = map[holeKey]int{}
	}
	w.holes[holeKey{c.flows[dir], c.tps[dir]}]++
}

func (w *shard) holeClosed(c *conn, dir int) {
	k := holeKey{c.flows[dir], c.tps[dir]}
	if w.holes[k] <= 1 {
		delete(w.holes, k)
	} else {
		w.holes[k]--
	}
}

// ackMatters reports whether a pure ACK comes from the other side of a
// direction with a hole.
func (w *worker) ackMatters(s *segment) bool {
	if len(w.holes) == 0 {
		return false
	}
	return w.holes[holeKey{s.netFlow.Reverse(), s.tcp.TransportFlow().Reverse()}] > 0
}

func (w *shard) queueFill(c *conn, dir int) {
	w.fills = append(w.fills, fill{c, dir})
}

// runFills injects, for each queued hole, a segment of zeros exactly where
// the hole starts, marked so that the connection turns it into a gap
// instead of data. gopacket then delivers what waited behind the hole.
func (w *worker) runFills(ts time.Time) {
	fills := w.fills
	w.fills = w.fills[:0]
	for _, f := range fills {
		h := &f.c.half[f.dir]
		h.fillQueued = false
		if !h.hole || f.c.done {
			continue
		}
		size := h.holeStart.Difference(h.holeEnd)
		if size <= 0 || size > maxFill {
			continue
		}
		h.hole = false
		w.holeClosed(f.c, f.dir)
		const hdr = 20
		if cap(w.fillBuf) < hdr+size {
			w.fillBuf = make([]byte, hdr+size)
		}
		b := w.fillBuf[:hdr+size]
		clear(b)
		binary.BigEndian.PutUint16(b[0:], f.c.ports[f.dir][0])
		binary.BigEndian.PutUint16(b[2:], f.c.ports[f.dir][1])
		binary.BigEndian.PutUint32(b[4:], uint32(h.holeStart))
		b[12] = hdr / 4 << 4
		if err := w.fillTCP.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
			continue
		}
		ctx := segContext{ci: gopacket.CaptureInfo{Timestamp: ts, Length: size, CaptureLength: size, InterfaceIndex: fillMark}}
		w.asm.AssembleWithContext(f.c.flows[f.dir], &w.fillTCP, &ctx)
	}
}

func (w *worker) flush() {
	w.halfOpenGone(w.syns.expire(w.clock.Add(-w.cfg.IdleTimeout)), false)
	w.flushing = true
	w.asm.FlushWithOptions(gpreasm.FlushOptions{
		T:  w.clock.Add(-w.cfg.GapTimeout),
		TC: w.clock.Add(-w.cfg.IdleTimeout),
	})
	w.flushing = false
}

// evict closes the least recently active sixteenth of the connections, so
// that the cost of a flush pass is spread over many new connections.
func (w *worker) evict() {
	n := max(1, w.maxConns/16)
	c := w.tail
	for i := 1; i < n && c.prev != nil; i++ {
		c = c.prev
	}
	before := w.open
	w.flushing = true
	w.asm.FlushWithOptions(gpreasm.FlushOptions{T: c.lastSeen.Add(1), TC: c.lastSeen.Add(1)})
	w.flushing = false
	if w.open >= before {
		// Nothing older than that instant (timestamps out of order): close
		// the oldest directly; gopacket will start a new stream if the
		// connection speaks again.
		w.tail.finish()
	}
	w.ctr.evicted.Add(uint64(before - w.open))
}

// collect queues an exchange (or a connection's end, x nil) for the
// merger, stamped with the worker's clock.
func (w *worker) collect(c *conn, x *Exchange) {
	it := item{x: x, clock: w.clock, conn: c.id, seq: c.seq}
	if x != nil {
		it.client, it.server = x.Flow.Client, x.Flow.Server
	} else {
		it.client, it.server = c.addrs[0], c.addrs[1]
	}
	w.items = append(w.items, it)
}

// touch marks c as the most recently active connection.
func (w *shard) touch(c *conn, ts time.Time) {
	if ts.After(c.lastSeen) {
		c.lastSeen = ts
	}
	if w.head == c || c.done {
		return
	}
	w.unlink(c)
	w.pushFront(c)
}

func (w *shard) retire(c *conn) {
	w.unlink(c)
	w.open--
}

func (w *shard) pushFront(c *conn) {
	c.prev, c.next = nil, w.head
	if w.head != nil {
		w.head.prev = c
	}
	w.head = c
	if w.tail == nil {
		w.tail = c
	}
}

func (w *shard) unlink(c *conn) {
	if c.prev != nil {
		c.prev.next = c.next
	} else if w.head == c {
		w.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else if w.tail == c {
		w.tail = c.prev
	}
	c.prev, c.next = nil, nil
}

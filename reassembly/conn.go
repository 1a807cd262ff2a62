package reassembly

import (
	"net/netip"
	"slices"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	gpreasm "github.com/gopacket/gopacket/reassembly"

	"github.com/specter-dev/specter/capture"
	"github.com/specter-dev/specter/reassembly/http1"
	"github.com/specter-dev/specter/reassembly/message"
)

// conn is one TCP connection: gopacket's reassembler feeds it both
// directions in order, each into its own HTTP/1 parser, and conn pairs the
// requests one direction yields with the responses of the other.
type conn struct {
	w     *shard
	id    uint64
	zone  capture.Zone
	addrs [2]netip.AddrPort // source of each direction, as gopacket numbers them
	half  [2]half

	pending []*pendingRequest // FIFO of requests waiting for their response
	spare   *pendingRequest   // one answered, for the next request
	// interim holds 1xx statuses seen before their request was complete
	// (an Expect: 100-continue request is delivered after its body, which
	// the 100 precedes).
	interim []int
	// flows and tps are gopacket's keys for each direction (network and
	// transport), to inject fills and to know the ACKs that matter.
	flows [2]gopacket.Flow
	tps   [2]gopacket.Flow
	ports [2][2]uint16
	proto http1.Protocol
	// mem is what this connection holds (see shard.account);
	// pendingBytes the part of it in waiting requests.
	mem, pendingBytes int64
	hadData           bool
	sawSYN            bool
	seq               uint32 // exchanges emitted so far on this connection
	done              bool
	// eng, once set, takes every byte, gap and close of both directions
	// instead of the http1 parsers (see engine).
	eng engine

	// LRU links for MaxConnections eviction; lastSeen in capture time.
	prev, next *conn
	lastSeen   time.Time
}

// maxInterim caps the interim (1xx) statuses kept for one request; a
// server may send any number of them. Past it they are counted
// (Stats.InterimDropped), not kept.
const maxInterim = 8

type pendingRequest struct {
	req     *message.Request
	dir     int
	interim []int
}

// half is one direction of a connection. It is the parser's Handler.
type half struct {
	c      *conn
	dir    int
	parser *http1.Parser
	closed bool

	// A hole: data from holeStart up to holeEnd is missing while later data
	// waits out of order. When the other side acknowledges past the hole,
	// the data reached its receiver and the capture missed it: waiting for
	// a retransmission is pointless, so the hole is filled at once with a
	// marked segment that the parser sees as a gap.
	hole               bool
	holeStart, holeEnd gpreasm.Sequence
	fillQueued         bool
	fakeLeft           int // bytes of a fill still to turn into a gap
	// resynced is set by a gap: the next response may not answer the
	// oldest pending request (its own may be lost).
	resynced bool
	// lost is set once this direction delivered a message with invalid
	// framing (message.FlagBadFraming): what the parser finds after it is
	// not known to be the next message, so it is never paired by
	// position (RFC 9112 section 6.3: the connection cannot be trusted
	// past such a message).
	lost bool

	// head holds this direction's bytes so far while the connection's
	// protocol is undecided (see maxHead); headGap says bytes before it
	// were lost or dropped, headDone that the search is over.
	head              []byte
	headGap, headDone bool
	probed            int // bytes judged for HTTP/2 frames (see maxProbe)
}

func newConn(w *shard, id uint64, seg *segment) *conn {
	c := &conn{w: w, id: id, zone: seg.zone}
	c.addrs[0] = netip.AddrPortFrom(seg.src, uint16(seg.tcp.SrcPort))
	c.addrs[1] = netip.AddrPortFrom(seg.dst, uint16(seg.tcp.DstPort))
	c.flows[0], c.flows[1] = seg.netFlow, seg.netFlow.Reverse()
	c.tps[0] = seg.tcp.TransportFlow()
	c.tps[1] = c.tps[0].Reverse()
	c.ports[0] = [2]uint16{uint16(seg.tcp.SrcPort), uint16(seg.tcp.DstPort)}
	c.ports[1] = [2]uint16{uint16(seg.tcp.DstPort), uint16(seg.tcp.SrcPort)}
	for i := range c.half {
		h := &c.half[i]
		h.c, h.dir = c, i
		h.parser = http1.NewParser(&w.cfg.HTTP, h)
	}
	return c
}

// invalidSeq is gopacket's "no sequence yet".
const invalidSeq gpreasm.Sequence = -1

// fillMark tags the capture info of the segments we inject to fill holes.
const fillMark = -0x5bec

func dirIndex(d gpreasm.TCPFlowDirection) int {
	if d == gpreasm.TCPDirClientToServer {
		return 0
	}
	return 1
}

// Accept implements gopacket's reassembly.Stream. Every segment is taken,
// and a direction whose start (SYN) we never saw starts with the first
// segment we do see: captures begin in the middle of connections.
func (c *conn) Accept(tcp *layers.TCP, ci gopacket.CaptureInfo, dir gpreasm.TCPFlowDirection, nextSeq gpreasm.Sequence, start *bool, ac gpreasm.AssemblerContext) bool {
	d := dirIndex(dir)
	h := &c.half[d]
	if ci.InterfaceIndex == fillMark {
		// Our own fill: only where the hole still starts.
		if nextSeq != gpreasm.Sequence(tcp.Seq) || c.done {
			return false
		}
		h.fakeLeft += len(tcp.Payload)
		return true
	}
	if tcp.SYN {
		c.sawSYN = true
	} else if nextSeq == invalidSeq {
		*start = true
	}
	c.w.touch(c, ci.Timestamp)
	if nextSeq != invalidSeq && len(tcp.Payload) > 0 {
		seq := gpreasm.Sequence(tcp.Seq)
		switch {
		case nextSeq.Difference(seq) > 0: // data beyond a hole
			if !h.hole || h.holeStart != nextSeq || seq.Difference(h.holeEnd) > 0 {
				h.holeEnd = seq
			}
			if !h.hole {
				c.w.holeOpened(c, d)
			}
			h.hole, h.holeStart = true, nextSeq
		case h.hole && nextSeq != h.holeStart:
			h.hole, h.fillQueued = false, false
			c.w.holeClosed(c, d)
		}
	}
	if o := &c.half[1-d]; tcp.ACK && o.hole && !o.fillQueued && o.holeEnd.Difference(gpreasm.Sequence(tcp.Ack)) >= 0 {
		o.fillQueued = true
		c.w.queueFill(c, 1-d)
	}
	return true
}

// ReassembledSG implements gopacket's reassembly.Stream.
func (c *conn) ReassembledSG(sg gpreasm.ScatterGather, ac gpreasm.AssemblerContext) {
	d, _, end, skip := sg.Info()
	h := &c.half[dirIndex(d)]
	if h.closed {
		return
	}
	n, _ := sg.Lengths()
	var ts time.Time
	if n > 0 || skip > 0 || end {
		ts = sg.CaptureInfo(0).Timestamp
	}
	if skip > 0 {
		c.w.ctr.gaps.Add(1)
		c.w.ctr.gapBytes.Add(uint64(skip))
		if !c.w.flushing {
			c.w.ctr.gapsByBound.Add(1)
		}
		h.gap(skip, ts)
	}
	if n > 0 {
		data := sg.Fetch(n)
		if h.fakeLeft > 0 {
			k := min(h.fakeLeft, len(data))
			h.fakeLeft -= k
			data = data[k:]
			c.w.ctr.gaps.Add(1)
			c.w.ctr.gapBytes.Add(uint64(k))
			h.gap(k, ts)
		}
		if len(data) > 0 {
			c.hadData = true
			h.feed(data, ts)
		}
	}
	if end {
		h.close(ts)
	}
	c.w.account(c)
}

// ReassemblyComplete implements gopacket's reassembly.Stream. Both
// directions are done: finish what the parsers hold and report requests
// that never got their response.
func (c *conn) ReassemblyComplete(ac gpreasm.AssemblerContext) bool {
	c.finish()
	return true
}

func (c *conn) finish() {
	if c.done {
		return
	}
	c.done = true
	ts := c.lastSeen
	for i := range c.half {
		c.half[i].close(ts)
	}
	if c.eng != nil {
		c.eng.close(ts)
	}
	for _, p := range c.pending {
		c.emitUnmatchedRequest(p)
	}
	c.pending, c.pendingBytes = nil, 0
	c.w.mem -= c.mem
	c.mem = 0
	for d := range c.half {
		if c.half[d].hole {
			c.half[d].hole = false
			c.w.holeClosed(c, d)
		}
	}
	if c.seq > 0 {
		c.w.out(c, nil)
	}
	c.w.retire(c)
	if !c.hadData && !c.sawSYN {
		// A stray ACK, FIN or RST after its connection was closed: not a
		// connection of its own.
		return
	}
	c.w.ctr.connections.Add(1)
	switch {
	case c.proto == http1.ProtoHTTP1:
		c.w.ctr.http1.Add(1)
	case c.proto == http1.ProtoHTTP2:
		c.w.ctr.http2.Add(1)
	case c.proto == http1.ProtoTLS:
		c.w.ctr.tls.Add(1)
	case c.proto == http1.ProtoTunnel:
		c.w.ctr.tunnel.Add(1)
	case !c.hadData:
		c.w.ctr.empty.Add(1)
	default:
		c.w.ctr.other.Add(1)
	}
	for i := range c.half {
		st := c.half[i].parser.Stats()
		c.w.ctr.parseErrors.Add(uint64(st.ParseErrors))
		c.w.ctr.resyncs.Add(uint64(st.Resyncs))
		c.w.ctr.skippedBytes.Add(uint64(st.SkippedBytes))
		c.w.ctr.badFraming.Add(uint64(st.BadFraming))
		c.w.ctr.smugglingShape.Add(uint64(st.SmugglingShape))
		c.w.ctr.codingsCapped.Add(uint64(st.CodingsCapped))
		c.w.ctr.headersTooLarge.Add(uint64(st.HeadersTooLarge))
		c.w.ctr.tooManyFields.Add(uint64(st.TooManyFields))
		c.w.ctr.chunkLinesTooLong.Add(uint64(st.ChunkLinesTooLong))
		c.w.ctr.longStartLines.Add(uint64(st.LongStartLines))
		c.w.ctr.probeLimit.Add(uint64(st.ProbeLimit))
	}
}

func (h *half) close(ts time.Time) {
	if h.closed {
		return
	}
	h.closed = true
	h.head = nil
	if h.c.eng == nil {
		h.parser.Close(ts)
	}
}

// gap reports lost bytes of this direction to whoever parses it.
func (h *half) gap(lost int, ts time.Time) {
	if e := h.c.eng; e != nil {
		e.gap(h.dir, lost, ts)
		return
	}
	h.parser.Gap(lost, ts)
	h.resynced = true
	h.head, h.headGap = nil, true // what it held is not followed by the next bytes
}

// feed hands data of this direction to the engine, or to the http1 parser
// and then, if the parser or the bytes revealed one, to a new engine. An
// engine started while the parser took the Feed (an h2c upgrade's 101)
// gets what the parser did not consume.
func (h *half) feed(data []byte, ts time.Time) {
	c := h.c
	if c.eng != nil {
		c.eng.feed(h.dir, data, ts)
		return
	}
	from := h.parser.Offset()
	h.parser.Feed(data, ts)
	if c.eng != nil {
		if k := h.parser.Offset() - from; k >= 0 && k < int64(len(data)) {
			c.eng.feed(h.dir, data[k:], ts)
		}
		return
	}
	if !c.detect(h, data, ts) {
		h.keepHead(data)
	}
}

// framingLost reports whether either direction lost its framing (see
// half.lost).
func (c *conn) framingLost() bool { return c.half[0].lost || c.half[1].lost }

// Request implements http1.Handler.
func (h *half) Request(r *message.Request) {
	c := h.c
	c.w.ctr.requests.Add(1)
	if c.framingLost() {
		// Not the next request in order, or answered by nothing that
		// can be told apart: reported alone, never queued.
		c.emitUnpaired(&Exchange{Request: r, Flags: FlagUnmatchedRequest}, c.addrs[h.dir], c.addrs[1-h.dir])
		return
	}
	if r.Flags.Has(message.FlagBadFraming) {
		// Queued all the same: it holds its place, and the other side,
		// still in step, answers it in order.
		h.lost = true
	}
	if len(c.pending) >= c.w.cfg.MaxPending {
		c.w.ctr.pendingOverflow.Add(1)
		c.pendingBytes -= requestSize(c.pending[0].req)
		c.emitUnmatchedRequest(c.pending[0])
		c.dropPending(1)
	}
	p := c.spare
	if p != nil {
		c.spare = nil
		*p = pendingRequest{req: r, dir: h.dir, interim: c.interim}
	} else {
		p = &pendingRequest{req: r, dir: h.dir, interim: c.interim}
	}
	c.interim = nil
	c.pending = append(c.pending, p)
	c.pendingBytes += requestSize(r)
}

// Response implements http1.Handler. Responses answer requests in order
// (RFC 9112 pipelining), but a response cannot answer a request that ended
// after it began: such a request is not its own, which was lost. After a
// gap on the response side, the response answers the latest request that
// ended before it began, and older ones lost theirs.
func (h *half) Response(r *message.Response) {
	c := h.c
	if r.StatusCode >= 100 && r.StatusCode < 200 && r.StatusCode != 101 {
		c.w.ctr.interim.Add(1)
		list := &c.interim
		if len(c.pending) > 0 && !c.pending[0].req.End.After(r.Start) {
			list = &c.pending[0].interim
		}
		if len(*list) < maxInterim {
			*list = append(*list, r.StatusCode)
		} else {
			c.w.ctr.interimDropped.Add(1)
		}
		return
	}
	c.w.ctr.responses.Add(1)
	x := &Exchange{Response: r}
	client, server := c.addrs[1-h.dir], c.addrs[h.dir]
	if h.lost {
		x.Flags |= FlagUnmatchedResponse
		c.emitUnpaired(x, client, server)
		return
	}
	match := -1
	for i, p := range c.pending {
		if p.req.End.After(r.Start) {
			break
		}
		match = i
		if !h.resynced {
			break
		}
	}
	h.resynced = false
	if match >= 0 {
		for _, p := range c.pending[:match+1] {
			c.pendingBytes -= requestSize(p.req)
		}
		for _, p := range c.pending[:match] {
			c.emitUnmatchedRequest(p)
		}
		p := c.pending[match]
		c.dropPending(match + 1)
		x.Request, x.Interim = p.req, p.interim
		*p = pendingRequest{}
		c.spare = p
		if x.Request.Method == "CONNECT" && r.StatusCode/100 == 2 {
			c.tunnel()
		}
	} else if c.framingLost() {
		// Its request may well be one that was not queued.
		x.Flags |= FlagUnmatchedResponse
		c.emitUnpaired(x, client, server)
		return
	} else {
		x.Flags |= FlagUnmatchedResponse
		c.w.ctr.unmatchedResp.Add(1)
	}
	if r.StatusCode == 101 {
		if c.eng == nil && isH2CUpgrade(x.Request, r) { // h2c is cleartext only (RFC 9113, 3.1)
			// The request (when seen) becomes stream 1 of the HTTP/2
			// connection, emitted with its HTTP/2 response.
			c.tunnel()
			c.proto = http1.ProtoHTTP2
			up := &upgrade{dir: 1 - h.dir}
			if x.Request != nil {
				up.req = upgradeRequest(x.Request)
			} else {
				c.w.ctr.unmatchedResp.Add(^uint64(0)) // the HTTP/2 stream 1 says it again
			}
			c.startEngine(newH2Engine(c, up), r.End, false, nil, nil)
			return
		}
		c.tunnel()
	}
	c.emit(x, client, server)
	if r.Flags.Has(message.FlagBadFraming) {
		// This response was in its place; whatever follows may not be,
		// so the requests still waiting will not get theirs.
		h.lost = true
		for _, p := range c.pending {
			c.emitUnpaired(&Exchange{Request: p.req, Interim: p.interim, Flags: FlagUnmatchedRequest}, c.addrs[p.dir], c.addrs[1-p.dir])
		}
		clear(c.pending)
		c.pending, c.pendingBytes = c.pending[:0], 0
	}
}

// emitUnpaired emits a message left alone because its connection lost
// the framing of a direction (see half.lost).
func (c *conn) emitUnpaired(x *Exchange, client, server netip.AddrPort) {
	if x.Request != nil {
		c.w.ctr.unmatchedReq.Add(1)
	} else {
		c.w.ctr.unmatchedResp.Add(1)
	}
	c.w.ctr.unpaired.Add(1)
	x.Anomalies = append(x.Anomalies, AnomalyUnpairedAfterBadFraming)
	c.emit(x, client, server)
}

// dropPending removes the first n waiting requests, keeping the FIFO's
// array for the next ones.
func (c *conn) dropPending(n int) {
	k := copy(c.pending, c.pending[n:])
	clear(c.pending[k:])
	c.pending = c.pending[:k]
}

// PendingMethod implements http1.Handler.
func (h *half) PendingMethod() string {
	if p := h.c.pending; len(p) > 0 {
		return p[0].req.Method
	}
	return ""
}

// Protocol implements http1.Handler.
func (h *half) Protocol(p http1.Protocol) {
	c := h.c
	if c.eng != nil {
		return // the engine's protocol stands
	}
	// TLS and HTTP/2 are facts about the whole connection; HTTP/1 only
	// counts when nothing stronger was seen, a tunnel only after HTTP/1.
	switch p {
	case http1.ProtoHTTP2, http1.ProtoTLS:
		if c.proto != http1.ProtoTunnel {
			c.proto = p
		}
	case http1.ProtoHTTP1:
		if c.proto == http1.ProtoUnknown || c.proto == http1.ProtoOther {
			c.proto = p
		}
	case http1.ProtoTunnel:
		c.proto = p
	case http1.ProtoOther:
		if c.proto == http1.ProtoUnknown {
			c.proto = p
		}
	}
}

// requestSize estimates what a waiting request holds.
func requestSize(r *message.Request) int64 {
	return int64(len(r.Body.Raw())+len(r.Target)) + 512
}

// shed drops what the connection holds, for the memory budget: messages in
// progress are delivered as they are (flagged), waiting requests reported
// unmatched, and each direction resynchronizes on its next message.
func (c *conn) shed(ts time.Time) {
	c.w.ctr.shed.Add(1)
	if b, ok := c.eng.(budgeted); ok {
		// A gap would cost the engine its framing and HPACK tables.
		b.shed(ts)
	} else {
		for i := range c.half {
			if h := &c.half[i]; !h.closed {
				h.gap(-1, ts)
			}
		}
	}
	for _, p := range c.pending {
		c.emitUnmatchedRequest(p)
	}
	c.pending, c.pendingBytes = nil, 0
	c.w.account(c)
}

// tunnel stops HTTP parsing on both directions after an upgrade.
func (c *conn) tunnel() {
	if c.eng == nil {
		c.proto = http1.ProtoTunnel // inside TLS, the connection stays TLS
	}
	for i := range c.half {
		c.half[i].parser.Tunnel()
	}
}

func (c *conn) emitUnmatchedRequest(p *pendingRequest) {
	c.w.ctr.unmatchedReq.Add(1)
	x := &Exchange{Request: p.req, Interim: p.interim, Flags: FlagUnmatchedRequest}
	c.emit(x, c.addrs[p.dir], c.addrs[1-p.dir])
}

func (c *conn) emit(x *Exchange, client, server netip.AddrPort) {
	x.Flow = Flow{Client: client, Server: server, Zone: c.zone}
	x.ConnID = c.id
	if e, ok := c.eng.(*tlsEngine); ok {
		x.TLS = e.info()
	}
	var f message.Flags
	// The messages' own flags only: what decoding a body finds is known
	// when a sink reads it (Exchange.AllFlags), and counted then.
	if x.Request != nil {
		f |= x.Request.Flags
		x.Proto = x.Request.Proto
	}
	if x.Response != nil {
		f |= x.Response.Flags
		if x.Proto == "" {
			x.Proto = x.Response.Proto
		}
	}
	if f&(message.FlagGap|message.FlagIncomplete) != 0 {
		x.Flags |= FlagGap
	}
	if f&message.FlagBodyTruncated != 0 {
		x.Flags |= FlagTruncated
		c.w.ctr.truncated.Add(1)
	}
	if x.Request != nil && len(x.Request.Anomalies) > 0 || x.Response != nil && len(x.Response.Anomalies) > 0 {
		var a []string
		if x.Request != nil {
			a = x.Request.Anomalies
		}
		if x.Response != nil {
			a = slices.Concat(a, x.Response.Anomalies)
		}
		x.Anomalies = slices.Concat(a, x.Anomalies)
	}
	if len(x.Anomalies) > 0 {
		c.w.ctr.anomalous.Add(1)
	}
	c.w.ctr.exchanges.Add(1)
	c.w.out(c, x)
	c.seq++
}

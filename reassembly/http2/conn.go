package http2

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http2/hpack"
)

// Errors a Conn records (see Conn.Err), wrapped with the side and stream
// offset where they happened.
var (
	ErrFrame      = errors.New("malformed frame")
	ErrHeaderList = errors.New("header list exceeds MaxHeaderListBytes")
	ErrBlockSize  = errors.New("header block exceeds MaxHeaderBlock")
	ErrFrameSize  = errors.New("frame exceeds MaxFrame")
)

type role uint8

const (
	roleUnknown role = iota
	roleClient
	roleServer
)

type sideState uint8

const (
	stStart   sideState = iota // nothing seen: preface, or sync
	stSync                     // framing lost: searching for a frame header
	stHeader                   // collecting a 9-byte frame header
	stPayload                  // collecting a buffered (non-DATA) payload
	stDataPad                  // DATA: expecting the pad length byte
	stData                     // DATA: streaming the payload
	stSkip                     // discarding the rest of a frame
	stDone
)

// syncWindow bounds the bytes held while searching for a frame header.
const syncWindow = 64 << 10

// maxInformational bounds the 1xx statuses kept per response; more are
// ignored (a server may send any number).
const maxInformational = 8

// Conn parses one HTTP/2 connection. Feed each direction's bytes in capture
// order (interleaving the two as they were captured), report losses with
// Gap, and end with Close. A Conn is not safe for concurrent use.
type Conn struct {
	cfg     Config
	h       Handler
	sides   [2]side
	streams map[uint32]*stream
	// maxOpen[0] and [1] are the highest client-initiated (odd) and pushed
	// (even) stream ids seen opening: frames for lower ids not tracked are
	// for streams already delivered, not new ones.
	maxOpen     [2]uint32
	prefaceSeen bool
	stats       Stats
	lastErr     error
	// held counts the bytes the open streams keep (fields, bodies, gRPC
	// messages), for Buffered.
	held int
}

// NewConn returns a Conn delivering to h. cfg is copied; nil means
// DefaultConfig(), and zero or negative fields take their default.
func NewConn(cfg *Config, h Handler) *Conn {
	c := &Conn{h: h, streams: make(map[uint32]*stream)}
	c.cfg = DefaultConfig()
	if cfg != nil {
		c.cfg = cfg.withDefaults()
	}
	for i := range c.sides {
		s := &c.sides[i]
		s.c, s.idx = c, i
		s.maxFrame = defaultMaxFrameSize
		s.allowTable = 4096
	}
	return c
}

// Stats returns the counters so far.
func (c *Conn) Stats() Stats { return c.stats }

// ClientSide returns the direction (0 or 1) that the bytes showed to be
// the client's: 0 until they showed anything (see Feed).
func (c *Conn) ClientSide() int {
	if c.sides[0].roleOf() == roleClient {
		return 0
	}
	return 1
}

// Err returns the last error recorded (malformed frames, blocks over the
// bounds), nil if none. Errors never stop the Conn.
func (c *Conn) Err() error { return c.lastErr }

func (c *Conn) fail(s *side, err error) {
	c.lastErr = fmt.Errorf("http2: side %d, segment at stream offset %d: %w", s.idx, s.off, err)
}

// Feed parses the next bytes of direction side (0 or 1), captured at ts.
// Which side is the client is learnt from the bytes (preface, :method,
// :status, PUSH_PROMISE); until then side 0 is taken to be the client, so
// pass the TCP initiator as 0 when it is known. data is only used during
// the call.
func (c *Conn) Feed(side int, data []byte, ts time.Time) {
	s := &c.sides[side&1]
	s.atFeed = true
	s.off = s.next
	s.next += int64(len(data))
	s.feed(data, ts)
}

// Gap reports that lost bytes (negative: an unknown count) are missing
// from direction side before its next Feed. Inside a DATA payload whose
// remaining length covers the loss the frame survives and the message is
// flagged FlagGap; anywhere else framing is lost, the walker searches for
// the next frame header, and the HPACK table of that direction restarts
// empty (blocks may have been lost with the bytes).
func (c *Conn) Gap(side int, lost int, ts time.Time) {
	if lost == 0 {
		return
	}
	s := &c.sides[side&1]
	c.stats.Gaps++
	if lost > 0 {
		s.next += int64(lost)
	}
	if s.st == stData && lost > 0 && lost <= s.remain-s.pad {
		s.remain -= lost
		if m := s.dataMsg; m != nil {
			m.Flags |= FlagGap
			m.BodySize += int64(lost)
			m.grpc.gap()
		}
		if s.remain == 0 {
			s.endFrame(ts)
		}
		return
	}
	if m := s.dataMsg; m != nil && s.st == stData {
		m.Flags |= FlagGap
		m.grpc.gap()
	}
	s.desync()
}

// Close ends the connection: every stream still open is delivered, its
// unfinished messages flagged FlagIncomplete, in stream id order.
func (c *Conn) Close(ts time.Time) {
	for i := range c.sides {
		c.sides[i].st = stDone
	}
	c.Shed()
}

// Buffered returns about how many bytes the Conn holds: the fields,
// bodies and gRPC messages of its open streams, partial frames, header
// blocks and HPACK tables. A caller keeping a memory budget over many
// connections reads it after each Feed.
func (c *Conn) Buffered() int {
	n := c.held
	for i := range c.sides {
		s := &c.sides[i]
		n += cap(s.buf) + cap(s.blk.data) + cap(s.fields)*64
		if s.dec != nil {
			n += int(s.allowTable)
		}
		if s.w != nil {
			n += int(s.w.size)
		}
	}
	return n
}

// Shed delivers every open stream now, as Close does, without ending the
// connection: frames that come later for those streams are skipped (their
// ids are not above the highest opened), while framing and the HPACK
// tables carry on, so later streams decode as before. It is how a caller
// gives back what Buffered counts when over its memory budget.
func (c *Conn) Shed() {
	ids := make([]uint32, 0, len(c.streams))
	for id := range c.streams {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		c.finish(c.streams[id])
	}
}

// finish delivers a stream before its end, flagging what is unfinished.
func (c *Conn) finish(st *stream) {
	for _, m := range []*Message{st.x.Request, st.x.Response} {
		if m != nil && !m.ended {
			m.Flags |= FlagIncomplete
		}
	}
	c.deliver(st)
}

// UpgradeRequest is the HTTP/1.1 request of an h2c upgrade (RFC 7540
// §3.2): it becomes stream 1, answered over HTTP/2.
type UpgradeRequest struct {
	Method, Path, Authority string
	// Header holds the request's fields with their names as sent; they
	// are stored lower-cased, as HTTP/2 would carry them.
	Header []Field
	Body   []byte
	// Start and End are the capture times of the request.
	Start, End time.Time
}

// Upgrade hands over a connection whose HTTP/1.1 request (sent on
// direction client) asked for "Upgrade: h2c" and was answered 101: the
// request becomes stream 1, the next bytes of direction client are the
// preface and those of the other direction the server's first SETTINGS.
// Call it before feeding any HTTP/2 byte.
func (c *Conn) Upgrade(client int, r UpgradeRequest) {
	cs := &c.sides[client&1]
	cs.role = roleClient
	c.sides[(client+1)&1].role = roleServer
	st := c.stream(1, true)
	if st == nil {
		return
	}
	st.x.Upgraded = true
	m := &Message{Method: r.Method, Path: r.Path, Authority: r.Authority, Scheme: "http",
		Start: r.Start, End: r.End, headers: true, ended: true}
	for _, f := range r.Header {
		f.Name = strings.ToLower(f.Name)
		m.Header = append(m.Header, f)
	}
	m.Body = append([]byte(nil), r.Body[:min(len(r.Body), c.cfg.MaxBody)]...)
	m.BodySize = int64(len(r.Body))
	if len(r.Body) > c.cfg.MaxBody {
		m.Flags |= FlagBodyTruncated
	}
	st.x.Request = m
	c.hold(st, len(m.Body)+fieldsSize(m.Header))
}

// stream returns the stream id, creating it when open is set and the
// bound allows. It returns nil for a stream not tracked.
func (c *Conn) stream(id uint32, open bool) *stream {
	if st := c.streams[id]; st != nil {
		return st
	}
	if !open {
		return nil
	}
	if len(c.streams) >= c.cfg.MaxStreams {
		// Full: streams whose ends were lost (or never sent) must not
		// lock new ones out of a long-lived connection. The oldest (lowest
		// id) goes, delivered as incomplete.
		c.stats.StreamsEvicted++
		var low *stream
		for _, st := range c.streams {
			if low == nil || st.x.StreamID < low.x.StreamID {
				low = st
			}
		}
		c.finish(low)
	}
	st := &stream{x: Exchange{StreamID: id}}
	c.streams[id] = st
	if k := id & 1; id > c.maxOpen[k] {
		c.maxOpen[k] = id
	}
	return st
}

// streamFor returns the stream a DATA, RST_STREAM or header frame on id
// belongs to: tracked, or new when id is above every id seen opening (a
// stream that began before the capture or with this block).
func (c *Conn) streamFor(id uint32, headers bool) *stream {
	if st := c.streams[id]; st != nil {
		return st
	}
	if headers || id > c.maxOpen[id&1] {
		return c.stream(id, true)
	}
	return nil
}

type stream struct {
	x    Exchange
	held int // bytes its messages keep (see Conn.held)
}

// hold counts n more bytes kept by st.
func (c *Conn) hold(st *stream, n int) {
	st.held += n
	c.held += n
}

// fieldsSize is what fields keep, counted as SETTINGS_MAX_HEADER_LIST_SIZE
// counts them.
func fieldsSize(fields []Field) int {
	n := 0
	for _, f := range fields {
		n += len(f.Name) + len(f.Value) + 32
	}
	return n
}

// message returns the stream's message sent by side s, creating it.
func (st *stream) message(s *side) *Message {
	p := &st.x.Response
	if s.roleOf() == roleClient {
		p = &st.x.Request
	}
	if *p == nil {
		*p = &Message{}
	}
	return *p
}

// sentBy returns the stream's message sent by side s, nil if none yet.
func (st *stream) sentBy(s *side) *Message {
	if s.roleOf() == roleClient {
		return st.x.Request
	}
	return st.x.Response
}

// maybeDeliver delivers the stream once both messages ended.
func (c *Conn) maybeDeliver(st *stream) {
	rq, rs := st.x.Request, st.x.Response
	if rq != nil && rs != nil && rq.ended && rs.ended {
		c.deliver(st)
	}
}

func (c *Conn) deliver(st *stream) {
	delete(c.streams, st.x.StreamID)
	c.held -= st.held
	for i := range c.sides {
		// A DATA frame under way on the other side must not write into
		// a delivered message: the rest of it is skipped.
		if s := &c.sides[i]; s.dataSt == st {
			s.dataSt, s.dataMsg = nil, nil
		}
	}
	x := &st.x
	for _, m := range []*Message{x.Request, x.Response} {
		if m == nil {
			continue
		}
		if !m.headers && m.BodySize > 0 {
			m.Flags |= FlagMidStream // DATA without the headers before it
		}
		if m.Flags&FlagBodyTruncated != 0 {
			c.stats.Truncated++
		}
		x.Flags |= m.Flags
	}
	if x.Request == nil {
		x.Flags |= FlagMidStream
	}
	x.GRPC = grpcOf(x, c.cfg)
	c.stats.Exchanges++
	c.h.Exchange(x)
}

// side is the parser of one direction.
type side struct {
	c    *Conn
	idx  int
	role role
	st   sideState
	off  int64 // stream offset of the current Feed's first byte (for errors)
	next int64 // stream offset of the next Feed

	atFeed   bool   // the bytes being fed start a Feed
	clean    bool   // this direction began with the preface or a SETTINGS
	decided  bool   // the HPACK mode was chosen
	maxFrame uint32 // largest frame the peer allows (its SETTINGS_MAX_FRAME_SIZE)

	buf    []byte // partial preface, sync window, frame header or payload
	scan   int    // stSync: where the search resumes in buf
	feedAt int    // stSync: where the current Feed starts in buf

	hdr     frameHeader
	remain  int      // payload bytes left (stData, stSkip, stDataPad)
	pad     int      // stData: padding bytes at the end of the payload
	dataMsg *Message // stData: the message the DATA belongs to
	dataSt  *stream

	// HPACK: dec while its table is known, w (the recovering walker) once
	// it is not. allowTable is the peer's SETTINGS_HEADER_TABLE_SIZE.
	dec        *hpack.Decoder
	w          *walker
	allowTable uint32
	fields     []Field
	lastFields int
	listBytes  int
	listCut    bool

	blk struct {
		active    bool
		stream    uint32
		promised  uint32
		push      bool
		endStream bool
		lost      bool // over MaxHeaderBlock: collected no further
		data      []byte
	}
}

func (s *side) other() *side { return &s.c.sides[(s.idx+1)&1] }

// roleOf returns the side's role, side 0 being the client until the bytes
// say otherwise.
func (s *side) roleOf() role {
	if s.role != roleUnknown {
		return s.role
	}
	if o := s.other().role; o != roleUnknown {
		return roleClient + roleServer - o
	}
	if s.idx == 0 {
		return roleClient
	}
	return roleServer
}

func (s *side) setRole(r role) {
	if s.role == r {
		return
	}
	s.role = r
	s.other().role = roleClient + roleServer - r
}

func (s *side) feed(data []byte, ts time.Time) {
	for len(data) > 0 && s.st != stDone {
		var n int
		switch s.st {
		case stStart:
			n = s.start(data)
		case stSync:
			// The sync window owns what it holds: continue from it.
			s.feedAt = len(s.buf)
			s.buf = append(s.buf, data...)
			data = s.sync()
			s.atFeed = false
			continue
		case stHeader:
			n = s.header(data, ts)
		case stPayload:
			n = s.payload(data, ts)
		case stDataPad:
			s.pad = int(data[0])
			s.remain--
			n = 1
			if s.pad > s.remain {
				s.c.fail(s, fmt.Errorf("%w: DATA padding %d over payload %d", ErrFrame, s.pad, s.remain))
				s.st = stSkip
				s.pad = 0
			} else {
				s.st = stData
			}
		case stData:
			n = s.data(data, ts)
		case stSkip:
			n = min(s.remain, len(data))
			s.remain -= n
			if s.remain == 0 {
				s.endFrame(ts)
			}
		}
		s.atFeed = false
		data = data[n:]
		if (s.st == stData || s.st == stSkip) && s.remain == 0 {
			s.endFrame(ts) // nothing left of the frame but its end
		}
	}
}

// start checks the first bytes for the client preface.
func (s *side) start(data []byte) int {
	held := len(s.buf)
	n := min(len(Preface)-held, len(data))
	cand := append(s.buf, data[:n]...)
	if !strings.HasPrefix(Preface, string(cand)) {
		// Not the preface: search for frames from the first byte on,
		// the held prefix included; a frame at offset 0 is a clean start.
		s.buf = cand[:held]
		s.st = stSync
		s.clean = true
		return 0
	}
	s.buf = cand
	if len(cand) == len(Preface) {
		s.buf = s.buf[:0]
		s.setRole(roleClient)
		s.clean = true
		s.c.prefaceSeen = true
		s.st = stHeader
	}
	return n
}

// desync drops framing: the walker searches for a frame header, and the
// HPACK table restarts empty, since a header block may have been lost.
func (s *side) desync() {
	s.c.stats.Desyncs++
	s.st = stSync
	s.buf = s.buf[:0]
	s.scan = 0
	s.clean = false
	s.dataMsg, s.dataSt = nil, nil
	s.remain, s.pad = 0, 0
	if s.blk.active {
		s.blockLost()
	}
	s.tableLost()
	// Frames of any open stream may have been in the lost bytes.
	for _, st := range s.c.streams {
		if m := st.sentBy(s); m != nil {
			m.Flags |= FlagGap
			m.grpc.gap()
		} else {
			st.x.Flags |= FlagGap
		}
	}
}

// tableLost restarts this direction's HPACK state with the walker.
func (s *side) tableLost() {
	s.decided = true
	s.dec = nil
	if s.w == nil {
		s.w = newWalker(s.c.cfg.MaxTableSize)
	}
	s.w.reset()
}

// sync searches buf for a plausible frame header and returns the bytes
// from it on (to be parsed in sync), or nil while it needs more bytes.
func (s *side) sync() []byte {
	mf := max(s.maxFrame, defaultMaxFrameSize)
	b := s.buf
	i := s.scan
	for ; i+frameHeaderLen <= len(b); i++ {
		if !plausible(b[i:], mf) {
			continue
		}
		h := parseFrameHeader(b[i:])
		end := i + frameHeaderLen + int(h.length)
		switch {
		case end == len(b):
		case end+frameHeaderLen <= len(b):
			nh := parseFrameHeader(b[end:])
			cont := nh.typ == frameContinuation && nh.stream == h.stream &&
				(h.typ == frameHeaders || h.typ == framePushPromise) && h.flags&flagEndHeaders == 0
			if !cont && !plausible(b[end:], mf) {
				continue
			}
		case end > len(b) && (i == 0 || i == s.feedAt):
			// A frame that starts a segment and runs past it: senders
			// start frames on segment boundaries far more often than
			// chance would.
		default:
			s.scan = i
			s.trimSync()
			return nil
		}
		if i > 0 {
			s.clean = false
			s.c.stats.SkippedBytes += int64(i)
		}
		s.st = stHeader
		rest := b[i:]
		s.buf = nil // rest aliases the old window; start afresh
		s.scan = 0
		if !s.clean {
			s.tableLost()
		} else if h.typ != frameSettings || h.flags&flagAck != 0 {
			s.clean = false
		}
		return rest
	}
	s.scan = i
	s.trimSync()
	return nil
}

// trimSync bounds the sync window, counting what it drops.
func (s *side) trimSync() {
	if len(s.buf) <= syncWindow {
		return
	}
	drop := len(s.buf) - syncWindow
	if drop > s.scan {
		drop = s.scan
	}
	if drop == 0 {
		drop = len(s.buf) - syncWindow
	}
	s.c.stats.SkippedBytes += int64(drop)
	s.clean = false
	n := copy(s.buf, s.buf[drop:])
	s.buf = s.buf[:n]
	s.scan = max(0, s.scan-drop)
	s.feedAt = max(0, s.feedAt-drop)
}

func (s *side) header(data []byte, ts time.Time) int {
	var hb []byte
	n := 0
	if len(s.buf) == 0 && len(data) >= frameHeaderLen {
		hb, n = data[:frameHeaderLen], frameHeaderLen
	} else {
		n = min(frameHeaderLen-len(s.buf), len(data))
		s.buf = append(s.buf, data[:n]...)
		if len(s.buf) < frameHeaderLen {
			return n
		}
		hb = s.buf
	}
	s.hdr = parseFrameHeader(hb)
	s.buf = s.buf[:0]
	s.c.stats.Frames++
	s.c.stats.FrameTypes[min(int(s.hdr.typ), len(s.c.stats.FrameTypes)-1)]++
	h := s.hdr
	if s.blk.active && h.typ != frameContinuation {
		s.c.fail(s, fmt.Errorf("%w: %s frame inside a header block", ErrFrame, typeName(h.typ)))
		s.blockLost()
		s.tableLost()
	}
	s.remain = int(h.length)
	switch {
	case h.typ == frameData:
		s.dataSt = s.c.streamFor(h.stream, false)
		s.dataMsg = nil
		if s.dataSt != nil {
			s.dataMsg = s.dataSt.message(s)
			if s.dataMsg.Start.IsZero() {
				s.dataMsg.Start = ts
			}
			s.dataMsg.End = ts
			s.dataMsg.grpc.frameStart()
		}
		s.pad = 0
		if h.flags&flagPadded != 0 && s.remain > 0 {
			s.st = stDataPad
		} else {
			s.st = stData
		}
	case s.remain > s.c.cfg.MaxFrame:
		s.c.stats.FramesTooLarge++
		s.c.fail(s, fmt.Errorf("%w: %s frame of %d bytes", ErrFrameSize, typeName(h.typ), h.length))
		if h.typ == frameHeaders || h.typ == framePushPromise || h.typ == frameContinuation {
			if st := s.c.streamFor(h.stream, true); st != nil {
				st.message(s).Flags |= FlagHPACKError
			}
			s.blk.active = false
			s.tableLost()
		}
		s.st = stSkip
	default:
		s.st = stPayload
	}
	if s.remain == 0 {
		if s.st == stPayload {
			s.st = stHeader
			s.frame(nil, ts)
		} else {
			s.endFrame(ts)
		}
	}
	return n
}

func (s *side) payload(data []byte, ts time.Time) int {
	if len(s.buf) == 0 && len(data) >= s.remain {
		n := s.remain
		s.remain = 0
		s.st = stHeader
		s.frame(data[:n], ts)
		return n
	}
	n := min(s.remain, len(data))
	s.buf = append(s.buf, data[:n]...)
	s.remain -= n
	if s.remain == 0 {
		p := s.buf
		s.buf = s.buf[:0]
		s.st = stHeader
		s.frame(p, ts)
	}
	return n
}

func (s *side) data(data []byte, ts time.Time) int {
	body := s.remain - s.pad
	n := min(body, len(data))
	if n > 0 && s.dataMsg != nil {
		m := s.dataMsg
		before := len(m.Body) + m.grpc.kept
		m.BodySize += int64(n)
		if keep := s.c.cfg.MaxBody - len(m.Body); keep > 0 {
			m.Body = append(m.Body, data[:min(n, keep)]...)
		}
		if m.BodySize > int64(s.c.cfg.MaxBody) {
			m.Flags |= FlagBodyTruncated
		}
		m.grpc.feed(data[:n], s.c.cfg)
		s.c.hold(s.dataSt, len(m.Body)+m.grpc.kept-before)
	}
	if n == body {
		// The padding is skipped like any frame tail.
		n = min(s.remain, len(data))
	}
	s.remain -= n
	if s.remain == 0 {
		s.endFrame(ts)
	}
	return n
}

// endFrame finishes a DATA or skipped frame.
func (s *side) endFrame(ts time.Time) {
	s.st = stHeader
	if s.hdr.typ == frameData && s.dataSt != nil && s.hdr.flags&flagEndStream != 0 {
		m := s.dataMsg
		m.ended = true
		m.End = ts
		s.c.maybeDeliver(s.dataSt)
	}
	s.dataMsg, s.dataSt = nil, nil
}

// frame handles a complete buffered (non-DATA) frame.
func (s *side) frame(p []byte, ts time.Time) {
	h := s.hdr
	switch h.typ {
	case frameHeaders, framePushPromise:
		if h.flags&flagPadded != 0 {
			if len(p) == 0 || int(p[0]) > len(p)-1 {
				s.malformed(h, "padding over payload")
				return
			}
			p = p[1 : len(p)-int(p[0])]
		}
		var promised uint32
		if h.typ == frameHeaders && h.flags&flagPriority != 0 {
			if len(p) < 5 {
				s.malformed(h, "short priority")
				return
			}
			p = p[5:]
		}
		if h.typ == framePushPromise {
			if len(p) < 4 {
				s.malformed(h, "short promised stream id")
				return
			}
			promised = (uint32(p[0])<<24 | uint32(p[1])<<16 | uint32(p[2])<<8 | uint32(p[3])) & 0x7fffffff
			p = p[4:]
			s.setRole(roleServer)
		}
		s.blk.active, s.blk.lost = true, false
		s.blk.stream, s.blk.promised = h.stream, promised
		s.blk.push = h.typ == framePushPromise
		s.blk.endStream = h.typ == frameHeaders && h.flags&flagEndStream != 0
		s.blk.data = s.blk.data[:0]
		s.appendBlock(p, h, ts)
	case frameContinuation:
		if !s.blk.active || h.stream != s.blk.stream {
			s.malformed(h, "CONTINUATION without a header block")
			return
		}
		s.appendBlock(p, h, ts)
	case frameRSTStream:
		if len(p) == 4 {
			s.c.stats.Resets++
			if st := s.c.streamFor(h.stream, false); st != nil {
				st.x.Flags |= FlagReset
				st.x.ResetCode = uint32(p[0])<<24 | uint32(p[1])<<16 | uint32(p[2])<<8 | uint32(p[3])
				m := st.message(s)
				if m.Start.IsZero() {
					m.Start = ts
				}
				m.End = ts
				s.c.deliver(st)
			}
		}
	case frameSettings:
		if h.flags&flagAck != 0 || len(p)%6 != 0 {
			return
		}
		o := s.other()
		for ; len(p) >= 6; p = p[6:] {
			v := uint32(p[2])<<24 | uint32(p[3])<<16 | uint32(p[4])<<8 | uint32(p[5])
			switch uint16(p[0])<<8 | uint16(p[1]) {
			case 1: // SETTINGS_HEADER_TABLE_SIZE: bounds the peer's encoder
				o.allowTable = min(v, s.c.cfg.MaxTableSize)
				if o.dec != nil {
					o.dec.SetAllowedMaxDynamicTableSize(o.allowTable)
				}
			case 5: // SETTINGS_MAX_FRAME_SIZE: bounds the peer's frames
				if v >= defaultMaxFrameSize && v < 1<<24 {
					o.maxFrame = v
				}
			}
		}
	case frameGoAway:
		s.c.stats.GoAways++
	}
}

func (s *side) malformed(h frameHeader, what string) {
	s.c.fail(s, fmt.Errorf("%w: %s on stream %d: %s", ErrFrame, typeName(h.typ), h.stream, what))
	if h.typ == frameHeaders || h.typ == framePushPromise || h.typ == frameContinuation {
		s.blk.active = false
		s.tableLost()
	}
}

func (s *side) appendBlock(p []byte, h frameHeader, ts time.Time) {
	if !s.blk.lost {
		if len(s.blk.data)+len(p) > s.c.cfg.MaxHeaderBlock {
			s.c.stats.BlocksTooLarge++
			s.c.fail(s, fmt.Errorf("%w: stream %d", ErrBlockSize, h.stream))
			s.blk.lost = true
			s.blk.data = s.blk.data[:0]
		} else {
			s.blk.data = append(s.blk.data, p...)
		}
	}
	if h.flags&flagEndHeaders != 0 {
		s.blk.active = false
		s.endBlock(ts)
	}
}

// blockLost drops a header block that will not be completed.
func (s *side) blockLost() {
	s.blk.active = false
	s.c.stats.HPACKErrors++
	if st := s.c.streamFor(s.blk.stream, true); st != nil {
		st.message(s).Flags |= FlagHPACKError
	}
}

// endBlock decodes a complete header block and files it.
func (s *side) endBlock(ts time.Time) {
	var flags Flags
	var fields []Field
	if s.blk.lost {
		s.tableLost()
		flags |= FlagHPACKError
	} else {
		var err error
		fields, flags, err = s.decode(s.blk.data)
		if err != nil {
			s.c.fail(s, err)
		}
	}
	id := s.blk.stream
	if s.blk.push {
		// The promised request, "sent" by the client on the new stream.
		st := s.c.stream(s.blk.promised, true)
		if st == nil {
			return
		}
		st.x.Pushed = true
		m := &Message{Start: ts, End: ts, ended: true, Flags: flags}
		m.setHeader(fields)
		st.x.Request = m
		s.c.hold(st, fieldsSize(fields))
		return
	}
	// Learn the roles from the pseudo-header fields.
	for _, f := range fields {
		if f.NameUnknown {
			continue
		}
		if f.Name == ":method" {
			s.setRole(roleClient)
			break
		}
		if f.Name == ":status" {
			s.setRole(roleServer)
			break
		}
	}
	st := s.c.streamFor(id, true)
	if st == nil {
		return
	}
	m := st.message(s)
	if m.Start.IsZero() {
		m.Start = ts
	}
	m.End = ts
	m.Flags |= flags
	s.c.hold(st, fieldsSize(fields))
	switch {
	case !m.headers:
		if code := statusOf(fields); code >= 100 && code < 200 {
			if len(m.Informational) < maxInformational {
				m.Informational = append(m.Informational, code)
			}
			break
		}
		m.headers = true
		m.setHeader(fields)
		if m.BodySize > 0 {
			m.Flags |= FlagMidStream
		}
	default:
		m.Trailer = fields
	}
	if s.blk.endStream {
		m.ended = true
		s.c.maybeDeliver(st)
	}
}

// decode decodes one header block with hpack while the table is known and
// with the recovering walker otherwise or once hpack failed on it.
func (s *side) decode(block []byte) ([]Field, Flags, error) {
	if !s.decided {
		s.decided = true
		// The table is known only from the connection's start: this
		// direction began cleanly and the client preface was seen.
		if s.clean && s.c.prefaceSeen {
			s.dec = hpack.NewDecoder(4096, nil)
			s.dec.SetMaxStringLength(s.c.cfg.MaxHeaderBlock)
			s.dec.SetAllowedMaxDynamicTableSize(s.allowTable)
		} else {
			s.w = newWalker(s.c.cfg.MaxTableSize)
		}
	}
	// Blocks of one direction are alike: size the list like the last one.
	s.fields, s.listBytes, s.listCut = make([]Field, 0, max(8, s.lastFields)), 0, false
	var flags Flags
	if s.dec != nil {
		s.dec.SetEmitFunc(func(hf hpack.HeaderField) {
			s.emit(Field{Name: hf.Name, Value: hf.Value, Sensitive: hf.Sensitive})
		})
		_, err := s.dec.Write(block)
		if err == nil {
			err = s.dec.Close()
		}
		if err == nil {
			return s.done(flags)
		}
		// The decoder's table no longer matches the encoder's: from here
		// on the walker decodes this direction, starting from nothing.
		s.c.stats.HPACKErrors++
		s.tableLost()
		s.fields, s.listBytes, s.listCut = nil, 0, false
		defer func() {
			if flags&FlagHPACKError == 0 {
				s.c.stats.HPACKRecovered++
			}
		}()
	}
	unknown, err := s.w.decode(block, s.emit)
	if unknown > 0 {
		flags |= FlagUnknownFields
		s.c.stats.UnknownFields += int64(unknown)
	}
	if err != nil {
		s.c.stats.HPACKErrors++
		s.w.reset()
		flags |= FlagHPACKError
		f, fl, _ := s.done(flags)
		return f, fl, fmt.Errorf("header block on stream %d: %w", s.blk.stream, err)
	}
	return s.done(flags)
}

func (s *side) done(flags Flags) ([]Field, Flags, error) {
	if s.listCut {
		s.c.stats.ListsTooLarge++
		flags |= FlagHPACKError
		f := s.fields
		s.fields = nil
		return f, flags, fmt.Errorf("stream %d: %w", s.blk.stream, ErrHeaderList)
	}
	f := s.fields
	s.fields = nil
	s.lastFields = min(len(f), maxFieldsHint)
	return f, flags, nil
}

// maxFieldsHint bounds the preallocation of a header list.
const maxFieldsHint = 64

// emit keeps a decoded field within MaxHeaderListBytes; it returns false
// once the list is cut, which stops the walker (hpack's decoder keeps
// walking the block, bounded by its length, but nothing more is kept).
func (s *side) emit(f Field) bool {
	if s.listCut {
		return false
	}
	n := len(f.Name) + len(f.Value) + 32
	if s.listBytes+n > s.c.cfg.MaxHeaderListBytes {
		s.listCut = true
		return false
	}
	s.listBytes += n
	s.fields = append(s.fields, f)
	return true
}

// setHeader stores the first header block and its pseudo-header fields.
func (m *Message) setHeader(fields []Field) {
	m.headers = true
	m.Header = fields
	for _, f := range fields {
		if f.Unknown() {
			m.Flags |= FlagUnknownFields
			continue
		}
		switch f.Name {
		case ":method":
			m.Method = f.Value
		case ":scheme":
			m.Scheme = f.Value
		case ":authority":
			m.Authority = f.Value
		case ":path":
			m.Path = f.Value
		case ":status":
			m.Status, _ = strconv.Atoi(f.Value)
		}
	}
}

func statusOf(fields []Field) int {
	for _, f := range fields {
		if f.Name == ":status" && !f.ValueUnknown {
			n, _ := strconv.Atoi(f.Value)
			return n
		}
	}
	return 0
}

var typeNames = [...]string{"DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS",
	"PUSH_PROMISE", "PING", "GOAWAY", "WINDOW_UPDATE", "CONTINUATION"}

func typeName(t uint8) string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "type " + strconv.Itoa(int(t))
}

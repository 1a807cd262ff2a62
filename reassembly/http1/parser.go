package http1

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/specter-dev/specter/reassembly/message"
)

// Handler receives what a Parser finds. Its methods are called synchronously
// from Feed, Gap and Close; they must not call back into the Parser.
type Handler interface {
	// Request receives a complete (or flagged incomplete) request.
	Request(r *message.Request)
	// Response receives a complete response, interim 1xx ones included.
	Response(r *message.Response)
	// PendingMethod returns the method of the oldest request on this
	// connection still waiting for its final response ("" if none known).
	// The response parser calls it when a final response's headers are
	// complete, to frame HEAD and CONNECT responses (no body / tunnel).
	PendingMethod() string
	// Protocol is called once when the stream is recognized as something
	// other than HTTP/1 (ProtoHTTP2, ProtoTLS, ProtoTunnel after a 101 or a
	// CONNECT 2xx, ProtoOther) and once with ProtoHTTP1 on the first valid
	// message. After a non-HTTP/1 protocol the parser ignores the rest of
	// the stream.
	Protocol(p Protocol)
}

// Stats counts what a Parser did. All counters only grow.
type Stats struct {
	Requests, Responses int64 // messages delivered
	ParseErrors         int64 // malformed start lines, headers, lengths, chunks
	Resyncs             int64 // times the parser lost framing and searched for a new message
	SkippedBytes        int64 // bytes skipped while searching for a message start
	Gaps                int64 // Gap calls
	Truncated           int64 // messages flagged message.FlagBodyTruncated (cut on the wire; Config.Decoding counts what decoding cuts)
	Incomplete          int64 // messages flagged message.FlagIncomplete
	BadFraming          int64 // messages flagged message.FlagBadFraming (also counted in ParseErrors)
	SmugglingShape      int64 // messages with both Content-Length and Transfer-Encoding
	CodingsCapped       int64 // messages flagged message.FlagCodingsCapped (body left encoded)

	// Bounds hit, each also counted where its consequence is (ParseErrors,
	// Incomplete, ...). What decoding bodies finds (bombs, decode errors,
	// zstd windows too large) is counted by Config.Decoding as they are
	// read.
	HeadersTooLarge   int64 // header or trailer sections past MaxHeaderBytes
	TooManyFields     int64 // header or trailer sections past maxHeaderFields (trailer fields past it are dropped)
	ChunkLinesTooLong int64 // chunk-size lines past maxChunkLine
	LongStartLines    int64 // candidate start lines past maxCandidate, skipped while searching
	ProbeLimit        int64 // streams given up as not HTTP/1 after maxProbe bytes without a message
}

// Errors a Parser records (see Parser.Err). They are wrapped with the
// stream offset where they happened.
var (
	ErrStartLine        = errors.New("malformed start line")
	ErrHeaderLine       = errors.New("malformed header line")
	ErrHeaderTooLarge   = errors.New("header section exceeds MaxHeaderBytes")
	ErrTooManyHeaders   = errors.New("too many header fields")
	ErrContentLength    = errors.New("invalid or conflicting Content-Length")
	ErrTransferEncoding = errors.New("unsupported Transfer-Encoding")
	ErrChunk            = errors.New("malformed chunk")
)

// Limits that are not worth a Config field.
const (
	// maxHeaderFields caps the header (and trailer) fields of one message.
	maxHeaderFields = 256
	// maxProbe is how many bytes may be skipped at the start of a stream,
	// before any HTTP/1 message was found, before it is declared ProtoOther.
	maxProbe = 64 << 10
	// maxCandidate caps a start line found while resynchronizing; longer
	// candidates are skipped. It is also capped by MaxHeaderBytes.
	maxCandidate = 16 << 10
	// maxChunkLine caps a chunk-size line including extensions.
	maxChunkLine = 4 << 10
	// maxKeyCache caps the per-parser cache of canonical header names.
	maxKeyCache = 64
	// idleBuf is the largest buffer a parser keeps between messages.
	idleBuf = 4 << 10
)

type state uint8

const (
	stSync      state = iota // looking for a start line
	stHead                   // collecting the start line and header section
	stBody                   // length-delimited body, p.remain bytes to go
	stBodyClose              // close-delimited body
	stChunkSize              // expecting a chunk-size line
	stChunkData              // inside chunk data, p.remain bytes to go
	stChunkEnd               // expecting the CRLF after chunk data
	stTrailer                // collecting the trailer section
	stDone                   // stopped: not HTTP/1 any more, tunnel, or closed
)

type role uint8

const (
	roleUnknown role = iota
	roleRequest
	roleResponse
)

// Parser parses the HTTP/1 messages of one direction of a TCP stream, pushed
// to it in pieces. Whether the direction carries requests or responses is
// decided from the bytes. A Parser is not safe for concurrent use.
type Parser struct {
	cfg  Config
	h    Handler
	st   state
	role role

	sentHTTP1    bool // Protocol(ProtoHTTP1) was called
	msgInSync    bool // the message under way began where the previous one ended, or at the stream's start
	streamStart  bool // nothing consumed yet: check for TLS / HTTP/2
	lineStart    bool // stSync: the next byte starts a line
	expectMsg    bool // stSync: a message just ended, the next must start here
	syncCounted  bool // this sync episode was counted as a resync
	afterCONNECT bool
	atFeed       bool // the bytes being fed start a Feed // a CONNECT request was seen: non-HTTP bytes are the tunnel

	off   int64 // stream offset of the next byte to consume
	probe int64 // bytes skipped before the first HTTP/1 message

	// buf holds a partial start line (stSync), header section (stHead) or
	// trailer section (stTrailer); it never grows beyond MaxHeaderBytes.
	buf    []byte
	scan   int       // where the header-end search resumes in buf
	bufTS  time.Time // time of the Feed holding buf's first byte
	line   []byte    // partial chunk-size line, at most maxChunkLine
	sawCR  bool      // stChunkEnd: CR seen, LF expected
	keyMap map[string]string

	// The message being parsed.
	req      *message.Request
	resp     *message.Response
	start    time.Time
	flags    message.Flags
	body     []byte
	bodyHint int
	wire     int64
	remain   int64
	codings  []string // content and transfer codings to undo, in applied order
	// anomalies of the message being parsed; each message gets its own.
	anomalies []string
	bodyStop  bool // stop keeping body bytes (after a gap inside the body)
	tunnel    bool // enter tunnel mode after this message

	sl        startLine // start line validated by sync
	seen      uint8     // framing fields seen in the header (seenCL...)
	stats     Stats
	lastErr   error
	stopProto Protocol // why the parser stopped, if not closed
}

// NewParser returns a Parser delivering to h. A nil cfg means
// DefaultConfig(); non-positive limits are replaced by the defaults.
func NewParser(cfg *Config, h Handler) *Parser {
	c := DefaultConfig()
	if cfg != nil {
		d := c
		c = *cfg
		if c.MaxBody < 0 {
			c.MaxBody = 0
		}
		if c.MaxDecoded <= 0 {
			c.MaxDecoded = d.MaxDecoded
		}
		if c.MaxHeaderBytes <= 0 {
			c.MaxHeaderBytes = d.MaxHeaderBytes
		}
	}
	if c.Decoding == nil {
		c.Decoding = message.NewDecoding(c.MaxBody, c.MaxDecoded)
	}
	return &Parser{cfg: c, h: h, streamStart: true, lineStart: true}
}

// Buffered returns how many bytes the parser holds for the message in
// progress (header section, body so far, chunk-size line), so that its
// caller can keep a memory budget over many parsers.
func (p *Parser) Buffered() int { return cap(p.buf) + cap(p.body) + cap(p.line) }

// Stats returns the parser's counters. What decoding bodies finds is
// counted by Decoding, as they are read.
func (p *Parser) Stats() Stats { return p.stats }

// Decoding returns what makes the parser's bodies (Config.Decoding, or
// the parser's own).
func (p *Parser) Decoding() *message.Decoding { return p.cfg.Decoding }

// Err returns the last parse error, or nil. Errors do not stop the parser:
// it resynchronizes and counts them in Stats.
func (p *Parser) Err() error { return p.lastErr }

// Offset returns the stream offset of the next byte the parser will
// consume (bytes fed and lost so far, less any it has not taken). After a
// Feed during which it stopped (a 101, a CONNECT 2xx) the bytes past
// Offset were not HTTP/1 and are the next protocol's.
func (p *Parser) Offset() int64 { return p.off }

// Protocol returns what the stream has been recognized as so far.
func (p *Parser) Protocol() Protocol {
	switch {
	case p.st == stDone && p.stopProto != ProtoUnknown:
		return p.stopProto
	case p.sentHTTP1:
		return ProtoHTTP1
	}
	return ProtoUnknown
}

// Feed parses the next bytes of the stream, captured at ts, and delivers
// every message they complete. data is only used during the call; what is
// kept is copied.
func (p *Parser) Feed(data []byte, ts time.Time) {
	if p.st == stSync && len(p.buf) == 0 {
		// While searching, a Feed's first byte is a candidate message
		// start too: Feeds are TCP segments, and senders start messages
		// on segment boundaries far more often than by chance (after
		// SOCKS handshakes, bodies not ending in LF, lost segments).
		p.lineStart = true
	}
	p.atFeed = p.st == stSync
	p.feed(data, ts)
	p.atFeed = false
}

func (p *Parser) feed(data []byte, ts time.Time) {
	stalls := 0
	for len(data) > 0 && p.st != stDone {
		st, bl := p.st, len(p.buf)
		var n int
		switch p.st {
		case stSync:
			n = p.sync(data, ts)
		case stHead:
			n = p.head(data, ts)
		case stBody:
			n = p.bodyLength(data, ts)
		case stBodyClose:
			n = len(data)
			p.keep(data)
		case stChunkSize:
			n = p.chunkSize(data, ts)
		case stChunkData:
			n = p.chunkData(data)
		case stChunkEnd:
			n = p.chunkEnd(data, ts)
		case stTrailer:
			n = p.trailer(data, ts)
		}
		if n == 0 && p.st == st && len(p.buf) == bl {
			// Every state consumes or moves on within a few rounds; this
			// is a safety net so that a bug cannot loop forever.
			if stalls++; stalls > 4 {
				p.skip(int64(len(data)))
				n = len(data)
			}
		} else {
			stalls = 0
		}
		p.off += int64(n)
		data = data[n:]
	}
}

// Gap reports that lost bytes (a negative count: unknown) are missing
// before the next Feed. Inside a body whose remaining length is known and
// not overrun, and inside a close-delimited body, the message survives,
// flagged message.FlagGap; its kept body stops at the gap. Anywhere else the message
// under way, if its start line was seen, is delivered flagged
// message.FlagGap|message.FlagIncomplete and the parser resynchronizes on the next start
// line.
func (p *Parser) Gap(lost int, ts time.Time) {
	if p.st == stDone || lost == 0 {
		return // nothing lost
	}
	p.stats.Gaps++
	p.streamStart = false
	if lost > 0 {
		p.off += int64(lost)
	}
	switch p.st {
	case stSync:
		p.dropCandidate()
		p.lineStart = true
		p.expectMsg = false
		return
	case stBody:
		if lost >= 0 && int64(lost) <= p.remain {
			p.flags |= message.FlagGap
			p.bodyStop = true
			p.wire += int64(lost)
			p.remain -= int64(lost)
			if p.remain == 0 {
				p.finish(ts)
			}
			return
		}
	case stBodyClose:
		p.flags |= message.FlagGap
		p.bodyStop = true
		if lost > 0 {
			p.wire += int64(lost)
		}
		return
	case stHead:
		p.partialHead()
	}
	if p.req != nil || p.resp != nil {
		p.flags |= message.FlagGap | message.FlagIncomplete
		p.finish(ts)
	}
	p.enterSync()
}

// Close ends the stream: a close-delimited body is complete, any other
// partial message is delivered flagged message.FlagIncomplete.
func (p *Parser) Close(ts time.Time) {
	switch p.st {
	case stDone:
		return
	case stSync:
		p.dropCandidate()
	case stBodyClose:
		p.finish(ts)
	case stHead:
		p.partialHead()
		fallthrough
	default:
		if p.req != nil || p.resp != nil {
			p.flags |= message.FlagIncomplete
			p.finish(ts)
		}
	}
	p.stop(ProtoUnknown)
}

// Tunnel tells the parser that the other direction switched protocols (101
// or a 2xx to CONNECT): nothing after this is HTTP/1.
func (p *Parser) Tunnel() { p.stop(ProtoUnknown) }

// stop ends parsing for good, reporting proto unless it is ProtoUnknown.
func (p *Parser) stop(proto Protocol) {
	p.st = stDone
	p.buf, p.line, p.body, p.req, p.resp = nil, nil, nil, nil, nil
	p.keyMap = nil
	if proto != ProtoUnknown {
		p.stopProto = proto
		p.h.Protocol(proto)
	}
}

// fail records a parse error and starts resynchronizing.
func (p *Parser) fail(err error) {
	switch err {
	case ErrHeaderTooLarge:
		p.stats.HeadersTooLarge++
	case ErrTooManyHeaders:
		p.stats.TooManyFields++
	}
	p.stats.ParseErrors++
	p.lastErr = errAt(p.off, err)
	p.req, p.resp = nil, nil
	p.resetMessage()
	p.enterSync()
}

func (p *Parser) enterSync() {
	p.st = stSync
	p.buf = p.buf[:0]
	p.lineStart = true
	p.expectMsg = false
	p.syncCounted = true
	p.stats.Resyncs++
}

// skip counts n bytes skipped while searching for a message.
func (p *Parser) skip(n int64) {
	if n <= 0 {
		return
	}
	if !p.syncCounted {
		p.syncCounted = true
		p.stats.Resyncs++
	}
	p.stats.SkippedBytes += n
	if !p.sentHTTP1 {
		p.probe += n
		if p.probe >= maxProbe {
			p.stats.ProbeLimit++
			p.stop(ProtoOther)
		}
	}
}

func (p *Parser) dropCandidate() {
	if len(p.buf) > 0 {
		p.skip(int64(len(p.buf)))
		p.buf = p.buf[:0]
	}
}

// resetMessage clears the per-message state (not the delivered message).
func (p *Parser) resetMessage() {
	p.flags = 0
	p.body = nil
	p.bodyHint = 0
	p.wire = 0
	p.remain = 0
	clear(p.codings) // do not pin the last message's head
	p.codings = p.codings[:0]
	p.anomalies = nil
	p.bodyStop = false
	p.tunnel = false
	p.sawCR = false
	p.line = p.line[:0]
}

// keep accounts for body bytes and stores what fits under MaxBody.
func (p *Parser) keep(b []byte) {
	p.wire += int64(len(b))
	if p.bodyStop || len(b) == 0 {
		return
	}
	room := p.cfg.MaxBody - len(p.body)
	if len(b) > room {
		b = b[:room]
		p.flags |= message.FlagBodyTruncated
		p.bodyStop = true
	}
	if len(b) == 0 {
		return
	}
	if p.body == nil {
		n := p.bodyHint
		if n < len(b) {
			n = len(b)
		}
		if n > p.cfg.MaxBody {
			n = p.cfg.MaxBody
		}
		p.body = make([]byte, 0, n)
	}
	p.body = append(p.body, b...)
}

func (p *Parser) bodyLength(data []byte, ts time.Time) int {
	n := len(data)
	if int64(n) > p.remain {
		n = int(p.remain)
	}
	p.keep(data[:n])
	p.remain -= int64(n)
	if p.remain == 0 {
		p.finish(ts)
	}
	return n
}

func (p *Parser) chunkData(data []byte) int {
	n := len(data)
	if int64(n) > p.remain {
		n = int(p.remain)
	}
	p.keep(data[:n])
	p.remain -= int64(n)
	if p.remain == 0 {
		p.st = stChunkEnd
	}
	return n
}

func (p *Parser) chunkEnd(data []byte, ts time.Time) int {
	switch {
	case data[0] == '\n':
		p.sawCR = false
		p.st = stChunkSize
	case data[0] == '\r' && !p.sawCR:
		p.sawCR = true
	default:
		p.deliverBroken(ErrChunk, ts)
		return 0
	}
	return 1
}

func (p *Parser) chunkSize(data []byte, ts time.Time) int {
	i := bytes.IndexByte(data, '\n')
	if i < 0 {
		if len(p.line)+len(data) > maxChunkLine {
			p.stats.ChunkLinesTooLong++
			p.deliverBroken(ErrChunk, ts)
			return 0
		}
		p.line = append(p.line, data...)
		return len(data)
	}
	ln := data[:i]
	if len(p.line)+i > maxChunkLine {
		// Whether or not the line had to be gathered: the outcome must not
		// depend on how the stream was cut.
		p.stats.ChunkLinesTooLong++
		p.deliverBroken(ErrChunk, ts)
		return 0
	}
	if len(p.line) > 0 {
		p.line = append(p.line, ln...)
		ln = p.line
	}
	size, ok := parseChunkSize(ln)
	p.line = p.line[:0]
	if !ok {
		p.deliverBroken(ErrChunk, ts)
		return 0
	}
	if size == 0 {
		p.st = stTrailer
		// A virtual line end in front lets the header-end search find an
		// empty trailer section as "\n" + CRLF.
		p.buf = append(p.buf[:0], '\n')
		p.scan = 0
	} else {
		p.remain = size
		p.st = stChunkData
	}
	return i + 1
}

// deliverBroken handles a framing error inside a body (a malformed chunk,
// a trailer section too large): the message so far is delivered flagged
// message.FlagIncomplete and message.FlagBadFraming, since where its body ends, and so
// where the next message starts, is not known, and the parser
// resynchronizes.
func (p *Parser) deliverBroken(err error, ts time.Time) {
	p.flags |= message.FlagIncomplete | message.FlagBadFraming
	p.stats.BadFraming++
	if err == ErrHeaderTooLarge {
		p.stats.HeadersTooLarge++
		p.anomaly(AnomalyHeaderTooLarge)
	} else {
		p.anomaly(AnomalyMalformedChunk)
	}
	p.finish(ts)
	p.stats.ParseErrors++
	p.lastErr = errAt(p.off, err)
	p.enterSync()
}

func (p *Parser) trailer(data []byte, ts time.Time) int {
	old := len(p.buf)
	take := len(data)
	if room := p.cfg.MaxHeaderBytes + 1 - old; take > room {
		take = room
	}
	p.buf = append(p.buf, data[:take]...)
	end, scan := headerEnd(p.buf, p.scan)
	if end < 0 {
		p.scan = scan
		if len(p.buf) > p.cfg.MaxHeaderBytes {
			p.deliverBroken(ErrHeaderTooLarge, ts)
		}
		return take
	}
	n := end - old
	if end > 1 {
		// A bad trailer does not undo the message.
		tr := http.Header{}
		if err := p.parseFields(string(p.buf[1:end]), tr, nil, false); err == ErrTooManyHeaders {
			p.stats.TooManyFields++
		}
		p.setTrailer(tr)
	}
	p.buf = p.buf[:0]
	p.finish(ts)
	return n
}

// setTrailer records the trailer fields of the message being parsed, and
// merges them into its header, as net/http does for declared trailers:
// readers of Header see them without knowing where they came from.
func (p *Parser) setTrailer(tr http.Header) {
	if len(tr) == 0 {
		return
	}
	var hdr http.Header
	switch {
	case p.req != nil:
		p.req.Trailer, hdr = tr, p.req.Header
	case p.resp != nil:
		p.resp.Trailer, hdr = tr, p.resp.Header
	default:
		return
	}
	for k, vs := range tr {
		hdr[k] = append(hdr[k], vs...)
	}
}

// finish decodes and delivers the current message, then gets ready for the
// next one.
func (p *Parser) finish(ts time.Time) {
	req, resp := p.req, p.resp
	p.req, p.resp = nil, nil
	var b message.Body
	if raw := p.body; len(raw) > 0 {
		if p.cfg.Decode && len(p.codings) > 0 && !p.flags.Has(message.FlagCodingsCapped) {
			// Decoded when first read, if ever: the parser only keeps
			// the bytes and what to undo.
			b = p.cfg.Decoding.Body(raw, p.codings, p.flags)
		} else {
			b = message.NewBody(raw, 0)
		}
	}
	flags := p.flags
	if flags.Has(message.FlagBodyTruncated) {
		p.stats.Truncated++
	}
	if flags.Has(message.FlagIncomplete) {
		p.stats.Incomplete++
	}
	tunnel := p.tunnel
	switch {
	case req != nil:
		req.Body, req.WireSize, req.Flags, req.Start, req.End = b, p.wire, flags, p.start, ts
		req.Anomalies = p.anomalies
		p.stats.Requests++
		p.h.Request(req)
	case resp != nil:
		resp.Body, resp.WireSize, resp.Flags, resp.Start, resp.End = b, p.wire, flags, p.start, ts
		resp.Anomalies = p.anomalies
		p.stats.Responses++
		p.h.Response(resp)
	}
	p.resetMessage()
	if cap(p.buf) > idleBuf {
		// An idle connection keeps a small buffer, whatever the largest
		// header it ever saw.
		p.buf = nil
	}
	if tunnel {
		p.stop(ProtoTunnel)
		return
	}
	p.st = stSync
	p.lineStart = true
	p.expectMsg = true
	p.syncCounted = false
}

func errAt(off int64, err error) error {
	return fmt.Errorf("http1: stream offset %d: %w", off, err)
}

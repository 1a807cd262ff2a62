package reassembly

import (
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/specter-dev/specter/reassembly/http1"
	"github.com/specter-dev/specter/reassembly/http2"
	"github.com/specter-dev/specter/reassembly/message"
)

// h2Engine parses a connection recognized as HTTP/2 with package http2
// and emits each stream as an Exchange, through the same path as HTTP/1.
type h2Engine struct {
	c  *conn
	h2 *http2.Conn
	// dec undoes content codings with the HTTP/1 parser's bounds and
	// pools; it is never fed.
	dec *http1.Parser
	// keys caches canonical header names, as the http1 parser does.
	keys map[string]string
}

// maxH2Keys bounds h2Engine.keys.
const maxH2Keys = 64

// newH2Engine returns the engine of c. up, when not nil, is the HTTP/1.1
// request of an h2c upgrade, sent on direction dir: it becomes stream 1.
func newH2Engine(c *conn, up *upgrade) *h2Engine {
	e := &h2Engine{c: c, dec: http1.NewParser(&c.w.cfg.HTTP, nil)}
	e.h2 = http2.NewConn(&c.w.cfg.HTTP2, e)
	if up != nil {
		e.h2.Upgrade(up.dir, up.req)
	}
	return e
}

// upgrade is an h2c upgrade's request and the direction it was sent on.
type upgrade struct {
	dir int
	req http2.UpgradeRequest
}

func (e *h2Engine) feed(dir int, data []byte, ts time.Time) { e.h2.Feed(dir, data, ts) }
func (e *h2Engine) gap(dir int, lost int, ts time.Time)     { e.h2.Gap(dir, lost, ts) }

func (e *h2Engine) buffered() int  { return e.h2.Buffered() }
func (e *h2Engine) shed(time.Time) { e.h2.Shed() }

func (e *h2Engine) close(ts time.Time) {
	e.h2.Close(ts)
	st := e.h2.Stats()
	ctr := &e.c.w.ctr
	ctr.h2Frames.Add(uint64(st.Frames))
	ctr.h2Streams.Add(uint64(st.Exchanges))
	ctr.h2Desyncs.Add(uint64(st.Desyncs))
	ctr.skippedBytes.Add(uint64(st.SkippedBytes))
	ctr.h2HPACKErrors.Add(uint64(st.HPACKErrors))
	ctr.h2HPACKRecovered.Add(uint64(st.HPACKRecovered))
	ctr.h2UnknownFields.Add(uint64(st.UnknownFields))
	ctr.h2BlocksTooLarge.Add(uint64(st.BlocksTooLarge + st.ListsTooLarge))
	ctr.h2FramesTooLarge.Add(uint64(st.FramesTooLarge))
	ctr.h2StreamsEvicted.Add(uint64(st.StreamsEvicted))
	ctr.h2Resets.Add(uint64(st.Resets))
	ds := e.dec.Stats()
	ctr.codingsCapped.Add(uint64(ds.CodingsCapped))
}

// Exchange implements http2.Handler: it turns a stream into an Exchange.
// A request whose :method or :path is not known (an HPACK entry from
// before the capture, or headers not captured) is left out rather than
// given a made-up one: the exchange then has no Request and is flagged
// FlagUnmatchedResponse and, for unknown fields, FlagUnknownFields.
func (e *h2Engine) Exchange(s *http2.Exchange) {
	c := e.c
	x := &Exchange{StreamID: s.StreamID, GRPC: s.GRPC}
	if s.Flags.Has(http2.FlagUnknownFields) {
		x.Flags |= FlagUnknownFields
	}
	if s.Pushed {
		x.Flags |= FlagPushed
	}
	if rq := s.Request; rq != nil && rq.Method != "" && rq.Path != "" {
		x.Request = e.request(rq, !s.Upgraded)
		if !s.Upgraded {
			c.w.ctr.requests.Add(1)
		}
	} else if rq != nil && !(s.Upgraded && rq.Method == "") {
		c.w.ctr.h2Unnamed.Add(1)
	}
	if rs := s.Response; rs != nil && rs.Status != 0 {
		x.Response = e.response(rs)
		x.Interim = rs.Informational
		c.w.ctr.responses.Add(1)
	}
	if s.Upgraded {
		x.Interim = append([]int{http.StatusSwitchingProtocols}, x.Interim...)
	}
	switch {
	case x.Request == nil && x.Response == nil:
		return // nothing but control frames or unknown headers: counted in h2Unnamed
	case x.Request == nil:
		x.Flags |= FlagUnmatchedResponse
		c.w.ctr.unmatchedResp.Add(1)
	case x.Response == nil:
		x.Flags |= FlagUnmatchedRequest
		c.w.ctr.unmatchedReq.Add(1)
	}
	client := e.h2.ClientSide()
	c.emit(x, c.addrs[client], c.addrs[1-client])
}

// request converts m; decode is false for the HTTP/1.1 request of an h2c
// upgrade, whose body the http1 parser decoded already.
func (e *h2Engine) request(m *http2.Message, decode bool) *message.Request {
	r := &message.Request{
		Method: m.Method, Scheme: m.Scheme, Authority: m.Authority, Target: m.Path, Path: m.Path, Proto: "HTTP/2",
		WireSize: m.BodySize, Start: m.Start, End: m.End, Flags: fromH2Flags(m.Flags),
	}
	if i := strings.IndexByte(r.Path, '?'); i >= 0 {
		r.Path, r.RawQuery = r.Path[:i], r.Path[i+1:]
	}
	r.Header, r.Trailer, r.RawHeader = e.header(m)
	if r.Authority == "" {
		r.Authority = r.Header.Get("Host")
	}
	if decode {
		r.Body, r.Flags, r.Anomalies = e.dec.DecodeBody(r.Header, m.Body, r.Flags)
	} else if len(m.Body) > 0 {
		r.Body = message.NewBody(m.Body, 0)
	}
	return r
}

func (e *h2Engine) response(m *http2.Message) *message.Response {
	r := &message.Response{
		Proto: "HTTP/2", StatusCode: m.Status,
		WireSize: m.BodySize, Start: m.Start, End: m.End, Flags: fromH2Flags(m.Flags),
	}
	r.Header, r.Trailer, r.RawHeader = e.header(m)
	r.Body, r.Flags, r.Anomalies = e.dec.DecodeBody(r.Header, m.Body, r.Flags)
	return r
}

// header builds the Header of a message (its header fields, then its
// trailer fields merged in, as message.Request says), its Trailer, and
// the raw form of the header section in wire order. Pseudo-header fields
// are left out (they are the Request's and Response's own fields) and so
// are fields with an unknown name or value: a field is either known or
// absent.
func (e *h2Engine) header(m *http2.Message) (h, trailer http.Header, raw string) {
	h = make(http.Header, len(m.Header)+len(m.Trailer))
	var b strings.Builder
	for _, f := range m.Header {
		if f.Unknown() || f.Name == "" || f.Name[0] == ':' {
			continue
		}
		k := e.key(f.Name)
		h[k] = append(h[k], f.Value)
		b.WriteString(f.Name)
		b.WriteString(": ")
		b.WriteString(f.Value)
		b.WriteString("\r\n")
	}
	for _, f := range m.Trailer {
		if f.Unknown() || f.Name == "" || f.Name[0] == ':' {
			continue
		}
		if trailer == nil {
			trailer = make(http.Header, len(m.Trailer))
		}
		k := e.key(f.Name)
		trailer[k] = append(trailer[k], f.Value)
		h[k] = append(h[k], f.Value)
	}
	return h, trailer, b.String()
}

func (e *h2Engine) key(name string) string {
	if k, ok := e.keys[name]; ok {
		return k
	}
	k := textproto.CanonicalMIMEHeaderKey(name)
	if e.keys == nil {
		e.keys = make(map[string]string)
	}
	if len(e.keys) < maxH2Keys {
		e.keys[name] = k
	}
	return k
}

// fromH2Flags maps a message's http2 flags to the message ones the rest
// of the pipeline reads (a partial body is one of them either way).
func fromH2Flags(f http2.Flags) message.Flags {
	var g message.Flags
	if f.Has(http2.FlagBodyTruncated) {
		g |= message.FlagBodyTruncated
	}
	if f.Has(http2.FlagGap) {
		g |= message.FlagGap
	}
	if f&(http2.FlagIncomplete|http2.FlagReset|http2.FlagMidStream|http2.FlagHPACKError) != 0 {
		g |= message.FlagIncomplete
	}
	return g
}

// isH2CUpgrade reports whether a 101 answers an h2c upgrade (RFC 7540
// §3.2): the response switched to h2c and the request, when it was seen,
// asked for it.
func isH2CUpgrade(rq *message.Request, rs *message.Response) bool {
	return (rq == nil || hasToken(rq.Header.Values("Upgrade"), "h2c")) && hasToken(rs.Header.Values("Upgrade"), "h2c")
}

func hasToken(values []string, tok string) bool {
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), tok) {
				return true
			}
		}
	}
	return false
}

// upgradeRequest turns the HTTP/1.1 request of an h2c upgrade into stream
// 1's request.
func upgradeRequest(r *message.Request) http2.UpgradeRequest {
	u := http2.UpgradeRequest{Method: r.Method, Path: r.Target, Authority: r.Authority, Body: r.Body.Bytes(), Start: r.Start, End: r.End}
	for _, f := range r.Fields() {
		u.Header = append(u.Header, http2.Field{Name: f.Name, Value: f.Value})
	}
	return u
}

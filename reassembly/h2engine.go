package reassembly

import (
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/specter-dev/specter/reassembly/http1"
	"github.com/specter-dev/specter/reassembly/http2"
)

// h2Engine parses a connection recognized as HTTP/2 with package http2
// and emits each stream as an Exchange, through the same path as HTTP/1.
type h2Engine struct {
	c  *conn
	h2 *http2.Conn
	// keys caches canonical header names, as the http1 parser does.
	keys map[string]string
}

// maxH2Keys bounds h2Engine.keys.
const maxH2Keys = 64

// newH2Engine returns the engine of c. up, when not nil, is the HTTP/1.1
// request of an h2c upgrade, sent on direction dir: it becomes stream 1.
func newH2Engine(c *conn, up *upgrade) *h2Engine {
	e := &h2Engine{c: c}
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
	if rq := s.Request; rq != nil && rq.Method != "" && rq.Path != "" {
		x.Request = e.request(rq)
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

func (e *h2Engine) request(m *http2.Message) *http1.Request {
	r := &http1.Request{
		Method: m.Method, Target: m.Path, Path: m.Path, Proto: "HTTP/2",
		Host: m.Authority, Body: m.Body, WireSize: m.BodySize,
		Start: m.Start, End: m.End, Flags: h1Flags(m.Flags),
	}
	if i := strings.IndexByte(r.Path, '?'); i >= 0 {
		r.Path, r.RawQuery = r.Path[:i], r.Path[i+1:]
	}
	r.Header, r.RawHeader = e.header(m)
	if r.Host == "" {
		r.Host = r.Header.Get("Host")
	}
	return r
}

func (e *h2Engine) response(m *http2.Message) *http1.Response {
	r := &http1.Response{
		Proto: "HTTP/2", StatusCode: m.Status, Reason: http.StatusText(m.Status),
		Body: m.Body, WireSize: m.BodySize, Start: m.Start, End: m.End, Flags: h1Flags(m.Flags),
	}
	r.Header, r.RawHeader = e.header(m)
	return r
}

// header builds the http.Header of a message (its header then trailer
// fields, as the http1 parser merges a chunked body's trailers) and its
// raw form in wire order. Pseudo-header fields are left out (they are the
// Request's and Response's own fields) and so are fields with an unknown
// name or value: a field is either known or absent.
func (e *h2Engine) header(m *http2.Message) (http.Header, string) {
	h := make(http.Header, len(m.Header)+len(m.Trailer))
	var raw strings.Builder
	for _, fs := range [2][]http2.Field{m.Header, m.Trailer} {
		for _, f := range fs {
			if f.Unknown() || f.Name == "" || f.Name[0] == ':' {
				continue
			}
			h[e.key(f.Name)] = append(h[e.key(f.Name)], f.Value)
			raw.WriteString(f.Name)
			raw.WriteString(": ")
			raw.WriteString(f.Value)
			raw.WriteString("\r\n")
		}
	}
	return h, raw.String()
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

// h1Flags maps a message's http2 flags to the http1 ones the rest of the
// pipeline reads (a partial body is one of them either way).
func h1Flags(f http2.Flags) http1.Flags {
	var g http1.Flags
	if f.Has(http2.FlagBodyTruncated) {
		g |= http1.FlagBodyTruncated
	}
	if f.Has(http2.FlagGap) {
		g |= http1.FlagGap
	}
	if f&(http2.FlagIncomplete|http2.FlagReset|http2.FlagMidStream|http2.FlagHPACKError) != 0 {
		g |= http1.FlagIncomplete
	}
	return g
}

// isH2CUpgrade reports whether a 101 answers an h2c upgrade (RFC 7540
// §3.2): the response switched to h2c and the request, when it was seen,
// asked for it.
func isH2CUpgrade(rq *http1.Request, rs *http1.Response) bool {
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
func upgradeRequest(r *http1.Request) http2.UpgradeRequest {
	u := http2.UpgradeRequest{Method: r.Method, Path: r.Target, Authority: r.Host, Body: r.Body, Start: r.Start, End: r.End}
	for _, f := range http1.Fields(r.RawHeader, r.Header) {
		u.Header = append(u.Header, http2.Field{Name: f.Name, Value: f.Value})
	}
	return u
}

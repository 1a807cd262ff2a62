package reassembly_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	xhttp2 "golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/specter-dev/specter/reassembly"
)

// h2 builds the bytes of one direction of an HTTP/2 connection with
// x/net's Framer and HPACK encoder, so that the test's frames are those a
// real implementation would write.
type h2 struct {
	tb  testing.TB
	buf bytes.Buffer
	fr  *xhttp2.Framer
	hb  bytes.Buffer
	enc *hpack.Encoder
}

func newH2(tb testing.TB) *h2 {
	b := &h2{tb: tb}
	b.fr = xhttp2.NewFramer(&b.buf, nil)
	b.enc = hpack.NewEncoder(&b.hb)
	return b
}

// take returns the bytes written so far and starts afresh.
func (b *h2) take() string {
	s := b.buf.String()
	b.buf.Reset()
	return s
}

func (b *h2) preface() *h2 {
	b.buf.WriteString(xhttp2.ClientPreface)
	return b.settings()
}

func (b *h2) settings() *h2 {
	if err := b.fr.WriteSettings(xhttp2.Setting{ID: xhttp2.SettingMaxConcurrentStreams, Val: 100}); err != nil {
		b.tb.Fatal(err)
	}
	return b
}

// headers writes a HEADERS frame of fields (name, value pairs).
func (b *h2) headers(stream uint32, end bool, fields ...string) *h2 {
	b.hb.Reset()
	for i := 0; i+1 < len(fields); i += 2 {
		if err := b.enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]}); err != nil {
			b.tb.Fatal(err)
		}
	}
	if err := b.fr.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: stream, BlockFragment: b.hb.Bytes(), EndStream: end, EndHeaders: true}); err != nil {
		b.tb.Fatal(err)
	}
	return b
}

func (b *h2) data(stream uint32, end bool, p string) *h2 {
	if err := b.fr.WriteData(stream, end, []byte(p)); err != nil {
		b.tb.Fatal(err)
	}
	return b
}

// grpcMsg is a length-prefixed gRPC message (uncompressed).
func grpcMsg(p string) string {
	n := len(p)
	return string([]byte{0, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}) + p
}

func gzipped(t *testing.T, s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return b.String()
}

// h2Want is what a test expects of one exchange.
type h2Want struct {
	method, path string
	status       int
	stream       uint32
	body         string // of the response
	grpcMethod   string
	grpcStatus   int
	interim      []int
}

func h2Got(x *reassembly.Exchange) h2Want {
	var w h2Want
	w.stream, w.interim = x.StreamID, x.Interim
	if x.Request != nil {
		w.method, w.path = x.Request.Method, x.Request.Target
	}
	if x.Response != nil {
		w.status, w.body = x.Response.StatusCode, string(x.Response.Body.Bytes())
	}
	if x.GRPC != nil {
		w.grpcMethod, w.grpcStatus = x.GRPC.Method, x.GRPC.Status
	}
	return w
}

// HTTP/2 connections reach the pipeline's output whatever way they start:
// every byte that made the protocol known reaches the HTTP/2 parser, each
// stream is one exchange with its stream id, h2c upgrades give stream 1
// the HTTP/1.1 request, and captures that start mid-connection are
// recognized by their frame headers on any port.
func TestHTTP2Wired(t *testing.T) {
	get := []string{":method", "GET", ":scheme", "http", ":authority", "h", ":path", "/a?x=1"}
	ok := []string{":status", "200", "content-type", "text/plain"}
	tests := []struct {
		name string
		run  func(t *testing.T, c *tcpConv)
		want []h2Want
		// desyncs: the capture starts inside a frame, so framing is
		// searched for (counted in H2Desyncs).
		desyncs bool
	}{{
		name: "prior knowledge, one segment each",
		run: func(t *testing.T, c *tcpConv) {
			cl, sv := newH2(t), newH2(t)
			c.handshake(0)
			c.send(time.Millisecond, true, cl.preface().headers(1, true, get...).take())
			c.send(time.Millisecond, false, sv.settings().headers(1, false, ok...).data(1, true, "hello").take())
		},
		want: []h2Want{{method: "GET", path: "/a?x=1", status: 200, stream: 1, body: "hello", grpcStatus: 0}},
	}, {
		name: "preface split into tiny segments",
		run: func(t *testing.T, c *tcpConv) {
			cl, sv := newH2(t), newH2(t)
			c.handshake(0)
			all := cl.preface().headers(1, true, get...).take()
			for _, part := range []string{all[:2], all[2:5], all[5:17], all[17:]} {
				c.send(time.Millisecond, true, part)
			}
			c.send(time.Millisecond, false, sv.settings().headers(1, false, ok...).data(1, true, "hello").take())
		},
		want: []h2Want{{method: "GET", path: "/a?x=1", status: 200, stream: 1, body: "hello"}},
	}, {
		name: "first segment larger than the kept head (GRO on loopback)",
		run: func(t *testing.T, c *tcpConv) {
			cl, sv := newH2(t), newH2(t)
			c.handshake(0)
			c.send(time.Millisecond, true, cl.preface().headers(1, false, ":method", "POST", ":scheme", "http", ":authority", "h", ":path", "/upload").
				data(1, true, strings.Repeat("z", 9000)).take())
			c.send(time.Millisecond, false, sv.settings().headers(1, true, ":status", "201").take())
		},
		want: []h2Want{{method: "POST", path: "/upload", status: 201, stream: 1}},
	}, {
		name: "mid-connection, first segment larger than the kept head",
		run: func(t *testing.T, c *tcpConv) {
			cl, sv := newH2(t), newH2(t)
			c.send(0, true, cl.headers(5, false, ":method", "PUT", ":scheme", "http", ":authority", "h", ":path", "/blob").
				data(5, true, strings.Repeat("z", 9000)).take())
			c.send(time.Millisecond, false, sv.headers(5, true, ":status", "204").take())
		},
		want: []h2Want{{method: "PUT", path: "/blob", status: 204, stream: 5}},
	}, {
		name: "server push",
		run: func(t *testing.T, c *tcpConv) {
			cl, sv := newH2(t), newH2(t)
			c.handshake(0)
			c.send(time.Millisecond, true, cl.preface().headers(1, true, get...).take())
			sv.settings()
			sv.hb.Reset()
			for _, f := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", "h"}, {":path", "/style.css"}} {
				sv.enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
			}
			if err := sv.fr.WritePushPromise(xhttp2.PushPromiseParam{StreamID: 1, PromiseID: 2, BlockFragment: sv.hb.Bytes(), EndHeaders: true}); err != nil {
				t.Fatal(err)
			}
			c.send(time.Millisecond, false, sv.headers(1, false, ok...).data(1, true, "hello").headers(2, false, ":status", "200").data(2, true, "css").take())
		},
		want: []h2Want{{method: "GET", path: "/a?x=1", status: 200, stream: 1, body: "hello"}, {method: "GET", path: "/style.css", status: 200, stream: 2, body: "css"}},
	}, {
		name: "server speaks first",
		run: func(t *testing.T, c *tcpConv) {
			cl, sv := newH2(t), newH2(t)
			c.handshake(0)
			c.send(time.Millisecond, false, sv.settings().take())
			c.send(time.Millisecond, true, cl.preface().headers(1, true, get...).take())
			c.send(time.Millisecond, false, sv.headers(1, false, ok...).data(1, true, "hello").take())
		},
		want: []h2Want{{method: "GET", path: "/a?x=1", status: 200, stream: 1, body: "hello"}},
	}, {
		name: "h2c upgrade, HTTP/2 in the 101's segment",
		run: func(t *testing.T, c *tcpConv) {
			cl, sv := newH2(t), newH2(t)
			c.handshake(0)
			c.send(time.Millisecond, true, "GET /up HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n")
			c.send(time.Millisecond, false, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"+
				sv.settings().headers(1, false, ok...).data(1, true, "upgraded").take())
			c.send(time.Millisecond, true, cl.preface().headers(3, true, ":method", "GET", ":scheme", "http", ":authority", "h", ":path", "/next").take())
			c.send(time.Millisecond, false, sv.headers(3, true, ":status", "404").take())
		},
		want: []h2Want{
			{method: "GET", path: "/up", status: 200, stream: 1, body: "upgraded", interim: []int{101}},
			{method: "GET", path: "/next", status: 404, stream: 3},
		},
	}, {
		name: "h2c upgrade whose request was not captured",
		run: func(t *testing.T, c *tcpConv) {
			sv := newH2(t)
			c.send(0, false, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"+
				sv.settings().headers(1, false, ok...).data(1, true, "upgraded").take())
		},
		want: []h2Want{{status: 200, stream: 1, body: "upgraded", interim: []int{101}}},
	}, {
		name: "mid-connection, no preface, port 80",
		run: func(t *testing.T, c *tcpConv) {
			cl, sv := newH2(t), newH2(t)
			// No handshake: the capture starts with a request on stream 7.
			c.send(0, true, cl.headers(7, true, ":method", "POST", ":scheme", "http", ":authority", "h", ":path", "/items").take())
			c.send(time.Millisecond, false, sv.headers(7, false, ":status", "201").data(7, true, "{}").take())
		},
		want: []h2Want{{method: "POST", path: "/items", status: 201, stream: 7, body: "{}"}},
	}, {
		name: "gzip body decoded as HTTP/1's are",
		run: func(t *testing.T, c *tcpConv) {
			cl, sv := newH2(t), newH2(t)
			c.handshake(0)
			c.send(time.Millisecond, true, cl.preface().headers(1, true, get...).take())
			c.send(time.Millisecond, false, sv.settings().headers(1, false, ":status", "200", "content-encoding", "gzip").data(1, true, gzipped(t, `{"ok":true}`)).take())
		},
		want: []h2Want{{method: "GET", path: "/a?x=1", status: 200, stream: 1, body: `{"ok":true}`}},
	}, {
		name: "mid-connection, the capture starts inside a frame",
		run: func(t *testing.T, c *tcpConv) {
			cl, sv := newH2(t), newH2(t)
			first := cl.data(3, true, strings.Repeat("q", 3000)).take()
			// Both directions start with the tail of a DATA frame.
			c.send(0, true, first[1500:])
			c.send(time.Millisecond, false, sv.data(3, true, strings.Repeat("r", 3000)).take()[1400:])
			c.send(time.Millisecond, true, cl.headers(5, true, ":method", "GET", ":scheme", "http", ":authority", "h", ":path", "/after").take())
			c.send(time.Millisecond, false, sv.headers(5, true, ":status", "200").take())
		},
		want:    []h2Want{{method: "GET", path: "/after", status: 200, stream: 5}},
		desyncs: true,
	}, {
		name: "mid-connection gRPC",
		run: func(t *testing.T, c *tcpConv) {
			cl, sv := newH2(t), newH2(t)
			c.send(0, true, cl.headers(9, false, ":method", "POST", ":scheme", "http", ":authority", "h", ":path", "/pkg.Greeter/SayHello", "content-type", "application/grpc").
				data(9, true, grpcMsg("\x0a\x03bob")).take())
			c.send(time.Millisecond, false, sv.headers(9, false, ":status", "200", "content-type", "application/grpc").
				data(9, false, grpcMsg("\x0a\x09hello bob")).headers(9, true, "grpc-status", "0").take())
		},
		want: []h2Want{{method: "POST", path: "/pkg.Greeter/SayHello", status: 200, stream: 9, body: grpcMsg("\x0a\x09hello bob"), grpcMethod: "/pkg.Greeter/SayHello"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, out := newWire(t, reassembly.DefaultConfig())
			tt.run(t, w.conn(40000))
			st := w.p.Close()
			var got []h2Want
			for _, x := range *out {
				if x.Request != nil && x.Request.Proto != "HTTP/2" && x.StreamID != 1 {
					t.Errorf("request proto %q", x.Request.Proto)
				}
				if x.Flow.Server.Port() != 80 {
					t.Errorf("server %v, client %v: direction wrong", x.Flow.Server, x.Flow.Client)
				}
				if x.GRPC != nil && x.Response != nil && (x.Response.Trailer.Get("Grpc-Status") != "0" || x.Response.Header.Get("Grpc-Status") != "0") {
					t.Errorf("gRPC trailers %v, header %v: grpc-status must be in both (trailers merge into Header)", x.Response.Trailer, x.Response.Header)
				}
				if pushed := x.StreamID != 0 && x.StreamID%2 == 0; pushed != x.Flags.Has(reassembly.FlagPushed) {
					t.Errorf("stream %d flags %v", x.StreamID, x.Flags.Names())
				}
				got = append(got, h2Got(x))
			}
			slices.SortFunc(got, func(a, b h2Want) int { return int(a.stream) - int(b.stream) })
			if len(got) != len(tt.want) {
				t.Fatalf("got %d exchanges %+v, want %+v (stats %+v)", len(got), got, tt.want, st)
			}
			for i := range got {
				if !equalWant(got[i], tt.want[i]) {
					t.Errorf("exchange %d: got %+v, want %+v", i, got[i], tt.want[i])
				}
			}
			if st.ConnsHTTP2 != 1 || (st.H2Desyncs != 0) != tt.desyncs || st.ParseErrors != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func equalWant(a, b h2Want) bool {
	return a.method == b.method && a.path == b.path && a.status == b.status && a.stream == b.stream &&
		a.body == b.body && a.grpcMethod == b.grpcMethod && (a.grpcMethod == "" || a.grpcStatus == b.grpcStatus) &&
		slices.Equal(a.interim, b.interim)
}

// HTTP/2 connections count under MaxBufferedBytes like HTTP/1 ones: open
// streams with large bodies get shed (delivered flagged incomplete), and
// a shed connection keeps its framing and HPACK tables, so its later
// streams still decode.
func TestHTTP2MemoryBudget(t *testing.T) {
	cfg := reassembly.DefaultConfig()
	cfg.Workers = 1
	cfg.MaxBufferedBytes = 1 << 20
	w, out := newWire(t, cfg)
	body := strings.Repeat("y", 12000)
	const conns = 16
	var cs []*tcpConv
	var cls, svs []*h2
	for i := range conns {
		c := w.conn(uint16(41000 + i))
		cl, sv := newH2(t), newH2(t)
		c.handshake(0)
		c.send(time.Millisecond, true, cl.preface().headers(1, true, ":method", "GET", ":scheme", "http", ":authority", "h", ":path", "/big").take())
		c.send(time.Millisecond, false, sv.settings().headers(1, false, ":status", "200").take())
		// 20 × 12000 bytes, the stream left open.
		for range 20 {
			c.send(time.Millisecond, false, sv.data(1, false, body).take())
		}
		cs, cls, svs = append(cs, c), append(cls, cl), append(svs, sv)
	}
	for i, c := range cs {
		c.send(time.Millisecond, true, cls[i].headers(3, true, ":method", "GET", ":scheme", "http", ":authority", "h", ":path", "/big").take())
		c.send(time.Millisecond, false, svs[i].headers(3, true, ":status", "204").take())
	}
	st := w.p.Close()
	if st.Shed == 0 {
		t.Fatalf("no connection shed: %+v", st)
	}
	var big, later int
	for _, x := range *out {
		switch x.StreamID {
		case 1:
			big++
		case 3:
			if x.Request == nil || x.Request.Path != "/big" || x.Response == nil || x.Response.StatusCode != 204 {
				t.Errorf("stream 3 after shedding: %+v", x)
			}
			later++
		}
	}
	if big != conns || later != conns {
		t.Errorf("%d big and %d later streams, want %d each (stats %+v)", big, later, conns, st)
	}
}

// Hostile HTTP/2 through the pipeline costs bounded memory, is counted in
// Stats, and does not stop the connection: the stream after it decodes.
func TestHTTP2HostileCounted(t *testing.T) {
	next := []string{":method", "GET", ":scheme", "http", ":authority", "h", ":path", "/next"}
	tests := []struct {
		name    string
		attack  func(t *testing.T, cl *h2) string
		counter func(reassembly.Stats) uint64
	}{{
		name: "CONTINUATION flood",
		attack: func(t *testing.T, cl *h2) string {
			cl.hb.Reset()
			cl.enc.WriteField(hpack.HeaderField{Name: ":method", Value: "GET"})
			if err := cl.fr.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: cl.hb.Bytes()}); err != nil {
				t.Fatal(err)
			}
			junk := bytes.Repeat([]byte{0x40, 0x01, 'x', 0x01, 'y'}, 3000) // literal fields, 15 kB a frame
			for i := range 10 {
				if err := cl.fr.WriteContinuation(1, i == 9, junk); err != nil {
					t.Fatal(err)
				}
			}
			return cl.take()
		},
		counter: func(s reassembly.Stats) uint64 { return s.H2BlocksTooLarge },
	}, {
		name: "huge SETTINGS",
		attack: func(t *testing.T, cl *h2) string {
			if err := cl.fr.WriteRawFrame(xhttp2.FrameSettings, 0, 0, make([]byte, 6*20000)); err != nil {
				t.Fatal(err)
			}
			return cl.take()
		},
		counter: func(s reassembly.Stats) uint64 { return s.H2FramesTooLarge },
	}, {
		name: "HPACK bomb",
		attack: func(t *testing.T, cl *h2) string {
			// One 4 kB field, then a block that repeats it by index.
			kv := []string{":method", "GET", ":scheme", "http", ":authority", "h", ":path", "/bomb"}
			for range 200 {
				kv = append(kv, "x-bomb", strings.Repeat("b", 4000))
			}
			return cl.headers(1, true, kv...).take()
		},
		counter: func(s reassembly.Stats) uint64 { return s.H2BlocksTooLarge },
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, out := newWire(t, reassembly.DefaultConfig())
			c := w.conn(40000)
			cl, sv := newH2(t), newH2(t)
			c.handshake(0)
			c.send(time.Millisecond, true, cl.preface().take())
			c.send(time.Millisecond, false, sv.settings().take())
			attack := tt.attack(t, cl)
			for len(attack) > 0 { // in MSS-sized segments
				n := min(len(attack), 1448)
				c.send(time.Millisecond, true, attack[:n])
				attack = attack[n:]
			}
			c.send(time.Millisecond, true, cl.headers(3, true, next...).take())
			c.send(time.Millisecond, false, sv.headers(3, true, ":status", "200").take())
			st := w.p.Close()
			if tt.counter(st) == 0 {
				t.Errorf("bound not counted: %+v", st)
			}
			found := false
			for _, x := range *out {
				if x.StreamID == 3 && x.Request != nil && x.Request.Path == "/next" && x.Response != nil && x.Response.StatusCode == 200 {
					found = true
				}
				if x.Request != nil && len(x.Request.RawHeader) > 256<<10 {
					t.Errorf("stream %d kept %d bytes of header fields", x.StreamID, len(x.Request.RawHeader))
				}
			}
			if !found {
				t.Errorf("the stream after the attack was lost: %d exchanges, stats %+v", len(*out), st)
			}
		})
	}
}

// The HTTP/2 parser's counters reach reassembly's Stats: streams,
// evictions under HTTP2.MaxStreams, desyncs after lost bytes, and HPACK
// references to entries from before the capture (the request left out,
// never given a made-up path).
func TestHTTP2CountersReachStats(t *testing.T) {
	req := func(path string) []string {
		return []string{":method", "GET", ":scheme", "http", ":authority", "h", ":path", path}
	}
	tests := []struct {
		name  string
		cfg   func(*reassembly.Config)
		run   func(t *testing.T, c *tcpConv)
		check func(st reassembly.Stats, xs []*reassembly.Exchange) bool
	}{{
		name: "streams evicted",
		cfg:  func(c *reassembly.Config) { c.HTTP2.MaxStreams = 2 },
		run: func(t *testing.T, c *tcpConv) {
			cl := newH2(t)
			c.handshake(0)
			c.send(time.Millisecond, true, cl.preface().take())
			for id := uint32(1); id <= 9; id += 2 { // five requests, no answer
				c.send(time.Millisecond, true, cl.headers(id, true, req(fmt.Sprint("/s", id))...).take())
			}
		},
		check: func(st reassembly.Stats, xs []*reassembly.Exchange) bool {
			return st.H2StreamsEvicted == 3 && st.H2Streams == 5 && len(xs) == 5 && st.UnmatchedRequests == 5
		},
	}, {
		name: "desync after lost bytes",
		run: func(t *testing.T, c *tcpConv) {
			cl, sv := newH2(t), newH2(t)
			c.handshake(0)
			c.send(time.Millisecond, true, cl.preface().headers(1, true, req("/one")...).take())
			lost := sv.settings().headers(1, false, ":status", "200").data(1, false, strings.Repeat("x", 500)).take()
			c.sseq += uint32(len(lost)) // never captured
			c.send(time.Millisecond, false, sv.data(1, true, "end").headers(3, true, ":status", "204").take())
			c.send(time.Millisecond, true, cl.headers(3, true, req("/two")...).take())
		},
		check: func(st reassembly.Stats, xs []*reassembly.Exchange) bool { return st.H2Desyncs > 0 && st.Gaps > 0 },
	}, {
		name: "HPACK entries from before the capture",
		run: func(t *testing.T, c *tcpConv) {
			cl, sv := newH2(t), newH2(t)
			cl.headers(1, true, req("/indexed")...).take() // before the capture: fills the encoder's table
			c.send(0, true, cl.headers(3, true, req("/indexed")...).take())
			c.send(time.Millisecond, false, sv.headers(3, true, ":status", "200").take())
		},
		check: func(st reassembly.Stats, xs []*reassembly.Exchange) bool {
			if st.H2UnknownFields == 0 || st.H2Unnamed != 1 || len(xs) != 1 {
				return false
			}
			x := xs[0]
			return x.Request == nil && x.Response != nil && x.Flags.Has(reassembly.FlagUnknownFields|reassembly.FlagUnmatchedResponse)
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := reassembly.DefaultConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			w, out := newWire(t, cfg)
			tt.run(t, w.conn(40000))
			st := w.p.Close()
			if !tt.check(st, *out) {
				for _, x := range *out {
					t.Logf("exchange %+v", h2Got(x))
				}
				t.Errorf("stats %+v", st)
			}
		})
	}
}

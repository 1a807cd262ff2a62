package http2_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	xhttp2 "golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/specter-dev/specter/reassembly/http2"
)

// wire builds the two directions of a synthetic connection with
// x/net/http2's Framer and hpack's Encoder (one per direction, as real
// peers have).
type wire struct {
	t   testing.TB
	buf [2]bytes.Buffer
	fr  [2]*xhttp2.Framer
	enc [2]*hpack.Encoder
	hb  [2]bytes.Buffer
	log []event // segments in order: each write call is one segment
}

func newWire(t testing.TB, preface bool) *wire {
	w := &wire{t: t}
	for i := range 2 {
		w.fr[i] = xhttp2.NewFramer(&w.buf[i], nil)
		w.fr[i].AllowIllegalWrites = true
		w.enc[i] = hpack.NewEncoder(&w.hb[i])
	}
	if preface {
		w.buf[0].WriteString(http2.Preface)
		w.fr[0].WriteSettings()
		w.flush(0)
		w.fr[1].WriteSettings(xhttp2.Setting{ID: xhttp2.SettingMaxConcurrentStreams, Val: 100})
		w.flush(1)
	}
	return w
}

// flush ends the segment of direction d.
func (w *wire) flush(d int) {
	if w.buf[d].Len() == 0 {
		return
	}
	w.log = append(w.log, event{dir: d, data: bytes.Clone(w.buf[d].Bytes()), ts: time.Unix(int64(len(w.log)), 0)})
	w.buf[d].Reset()
}

// block encodes fields ("name: value" pairs) with direction d's encoder.
func (w *wire) block(d int, kv ...string) []byte {
	w.hb[d].Reset()
	for i := 0; i+1 < len(kv); i += 2 {
		w.enc[d].WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return bytes.Clone(w.hb[d].Bytes())
}

func (w *wire) headers(d int, stream uint32, end bool, kv ...string) {
	if err := w.fr[d].WriteHeaders(xhttp2.HeadersFrameParam{StreamID: stream, BlockFragment: w.block(d, kv...), EndHeaders: true, EndStream: end}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *wire) data(d int, stream uint32, end bool, p []byte) {
	if err := w.fr[d].WriteData(stream, end, p); err != nil {
		w.t.Fatal(err)
	}
}

func (w *wire) run(cfg *http2.Config) ([]*http2.Exchange, *http2.Conn) {
	w.flush(0)
	w.flush(1)
	return feedEvents(w.log, cfg)
}

func get(path string) []string {
	return []string{":method", "GET", ":scheme", "http", ":authority", "example.test", ":path", path, "user-agent", "test/1"}
}

func ok200(kv ...string) []string {
	return append([]string{":status", "200", "content-type", "application/json"}, kv...)
}

func TestConnFrames(t *testing.T) {
	tests := []struct {
		name  string
		build func(w *wire)
		check func(t *testing.T, xs []*http2.Exchange, st http2.Stats)
	}{
		{"interleaved streams, trailers, padding, priority", func(w *wire) {
			w.headers(0, 1, true, get("/a")...)
			w.fr[0].WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 3, BlockFragment: w.block(0, get("/b")...), EndHeaders: true, EndStream: true,
				PadLength: 7, Priority: xhttp2.PriorityParam{StreamDep: 1, Weight: 20}})
			w.fr[0].WritePriority(3, xhttp2.PriorityParam{StreamDep: 0, Weight: 3})
			w.flush(0)
			w.headers(1, 3, false, ok200()...)
			w.headers(1, 1, false, ok200()...)
			w.fr[1].WriteDataPadded(3, false, []byte(`{"b":`), []byte{0, 0, 0, 0})
			w.data(1, 1, false, []byte(`{"a":1}`))
			w.data(1, 3, false, []byte(`2}`))
			w.headers(1, 3, true, "x-checksum", "abc")
			w.data(1, 1, true, nil)
		}, func(t *testing.T, xs []*http2.Exchange, st http2.Stats) {
			if len(xs) != 2 {
				t.Fatalf("got %d exchanges", len(xs))
			}
			b, a := xs[0], xs[1] // stream 3 ends first
			if a.StreamID != 1 || a.Request.Path != "/a" || string(a.Response.Body) != `{"a":1}` || a.Flags != 0 {
				t.Errorf("stream 1: %+v %+v %#x", a.Request, a.Response, a.Flags)
			}
			if b.StreamID != 3 || b.Request.Path != "/b" || string(b.Response.Body) != `{"b":2}` || len(b.Response.Trailer) != 1 ||
				b.Response.Trailer[0] != (http2.Field{Name: "x-checksum", Value: "abc"}) {
				t.Errorf("stream 3: %+v %+v", b.Request, b.Response)
			}
			if a.Request.Header[0].Name != ":method" || a.Request.Header[4] != (http2.Field{Name: "user-agent", Value: "test/1"}) {
				t.Errorf("header order: %+v", a.Request.Header)
			}
		}},
		{"CONTINUATION", func(w *wire) {
			blk := w.block(0, append(get("/c"), "cookie", strings.Repeat("x", 300))...)
			w.fr[0].WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: blk[:10], EndStream: true})
			w.fr[0].WriteContinuation(1, false, blk[10:100])
			w.fr[0].WriteContinuation(1, true, blk[100:])
			w.headers(1, 1, true, ok200()...)
		}, func(t *testing.T, xs []*http2.Exchange, st http2.Stats) {
			if len(xs) != 1 || xs[0].Request.Path != "/c" || xs[0].Request.Get("cookie") != strings.Repeat("x", 300) || xs[0].Response.Status != 200 {
				t.Fatalf("got %+v", xs)
			}
		}},
		{"RST_STREAM", func(w *wire) {
			w.headers(0, 1, true, get("/slow")...)
			w.fr[0].WriteRSTStream(1, xhttp2.ErrCodeCancel)
		}, func(t *testing.T, xs []*http2.Exchange, st http2.Stats) {
			if len(xs) != 1 || !xs[0].Flags.Has(http2.FlagReset) || xs[0].ResetCode != uint32(xhttp2.ErrCodeCancel) || st.Resets != 1 {
				t.Fatalf("got %+v, stats %+v", xs, st)
			}
		}},
		{"server push", func(w *wire) {
			w.headers(0, 1, true, get("/")...)
			w.fr[1].WritePushPromise(xhttp2.PushPromiseParam{StreamID: 1, PromiseID: 2, BlockFragment: w.block(1, get("/style.css")...), EndHeaders: true})
			w.headers(1, 1, true, ok200()...)
			w.headers(1, 2, false, ok200()...)
			w.data(1, 2, true, []byte("body{}"))
			w.fr[1].WriteGoAway(1, xhttp2.ErrCodeNo, nil)
		}, func(t *testing.T, xs []*http2.Exchange, st http2.Stats) {
			if len(xs) != 2 || xs[1].StreamID != 2 || !xs[1].Pushed || xs[1].Request.Path != "/style.css" || string(xs[1].Response.Body) != "body{}" || st.GoAways != 1 {
				t.Fatalf("got %+v, stats %+v", xs, st)
			}
		}},
		{"body cap", func(w *wire) {
			w.headers(0, 1, false, append(get("/up"), ":method", "POST")...)
			for range 4 {
				w.data(0, 1, false, bytes.Repeat([]byte("a"), 1000))
			}
			w.data(0, 1, true, nil)
			w.headers(1, 1, true, ok200()...)
		}, func(t *testing.T, xs []*http2.Exchange, st http2.Stats) {
			r := xs[0].Request
			if len(r.Body) != 1500 || r.BodySize != 4000 || !r.Flags.Has(http2.FlagBodyTruncated) || st.Truncated != 1 {
				t.Fatalf("body %d size %d flags %#x stats %+v", len(r.Body), r.BodySize, r.Flags, st)
			}
		}},
		{"incomplete at close", func(w *wire) {
			w.headers(0, 1, false, get("/x")...)
			w.data(0, 1, false, []byte("part"))
		}, func(t *testing.T, xs []*http2.Exchange, st http2.Stats) {
			if len(xs) != 1 || !xs[0].Flags.Has(http2.FlagIncomplete) || xs[0].Response != nil {
				t.Fatalf("got %+v", xs)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWire(t, true)
			tc.build(w)
			cfg := http2.DefaultConfig()
			cfg.MaxBody = 1500
			xs, c := w.run(&cfg)
			tc.check(t, xs, c.Stats())
		})
	}
}

// TestZeroConfig: a zero Config takes the defaults instead of holding no
// stream (which evicted a stream that did not exist).
func TestZeroConfig(t *testing.T) {
	w := newWire(t, true)
	w.headers(0, 1, true, get("/z")...)
	w.headers(1, 1, true, ok200()...)
	xs, c := w.run(&http2.Config{})
	if len(xs) != 1 || xs[0].Request.Path != "/z" || c.Stats().StreamsEvicted != 0 {
		t.Fatalf("got %+v, stats %+v", xs, c.Stats())
	}
}

func TestGRPCDetection(t *testing.T) {
	msg := []byte{0, 0, 0, 0, 3, 0x08, 0x96, 0x01}
	tests := []struct {
		name string
		req  []string
		body []byte
		want bool
	}{
		{"content-type", []string{":method", "POST", ":path", "/a.B/C", "content-type", "application/grpc+proto"}, msg, true},
		{"no content-type, method path, framed DATA", []string{":method", "POST", ":path", "/a.B/C"}, msg, true},
		{"no content-type, framing does not end on a message", []string{":method", "POST", ":path", "/a.B/C"}, msg[:6], false},
		{"JSON to a method-shaped path", []string{":method", "POST", ":path", "/a.B/C", "content-type", "application/json"}, msg, false},
		{"no content-type, REST path", []string{":method", "POST", ":path", "/v1/items/3"}, msg, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWire(t, true)
			w.headers(0, 1, false, tc.req...)
			w.data(0, 1, true, tc.body)
			w.headers(1, 1, true, ":status", "200")
			xs, _ := w.run(nil)
			if got := xs[0].GRPC != nil; got != tc.want {
				t.Fatalf("gRPC %v, want %v", got, tc.want)
			}
		})
	}
}

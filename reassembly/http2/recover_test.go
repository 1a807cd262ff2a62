package http2_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	xhttp2 "golang.org/x/net/http2"

	"github.com/specter-dev/specter/reassembly/http2"
)

// TestMidConnectionNeverWrong starts the same generated connection at every
// client segment and checks that every field decoded from the cut agrees
// with the field decoded from the whole connection: unknown parts are
// allowed (entries from before the cut), wrong ones are not.
func TestMidConnectionNeverWrong(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 23))
	w := newWire(t, true)
	pool := []string{"x-api-key", "authorization", "x-request-id", "accept", "x-tenant", "cookie"}
	paths := []string{"/v1/items", "/v1/orders", "/v1/users/42", "/healthz", "/v2/search?q=a"}
	for i := range 60 {
		id := uint32(2*i + 1)
		kv := []string{":method", "POST", ":scheme", "http", ":authority", "api.test", ":path", paths[rng.IntN(len(paths))]}
		for _, n := range pool {
			if rng.IntN(2) == 0 {
				kv = append(kv, n, fmt.Sprintf("%s-%d", n, rng.IntN(4)))
			}
		}
		w.headers(0, id, true, kv...)
		w.flush(0)
		w.headers(1, id, true, ok200("x-served-by", fmt.Sprintf("node-%d", rng.IntN(3)))...)
		w.flush(1)
	}
	full, _ := feedEvents(w.log, nil)
	truth := map[uint32]*http2.Exchange{}
	for _, x := range full {
		truth[x.StreamID] = x
	}
	if len(truth) != 60 {
		t.Fatalf("full parse: %d exchanges", len(truth))
	}
	unknown, named := 0, 0
	for cut := 1; cut < len(w.log); cut++ {
		xs, _ := feedEvents(w.log[cut:], nil)
		for _, x := range xs {
			tx := truth[x.StreamID]
			if tx == nil {
				t.Fatalf("cut %d: stream %d not in the connection", cut, x.StreamID)
			}
			for _, pair := range [][2]*http2.Message{{x.Request, tx.Request}, {x.Response, tx.Response}} {
				got, want := pair[0], pair[1]
				if got == nil {
					continue
				}
				if len(got.Header) != len(want.Header) {
					t.Fatalf("cut %d stream %d: %d fields, want %d", cut, x.StreamID, len(got.Header), len(want.Header))
				}
				for i, f := range got.Header {
					wf := want.Header[i]
					if !f.NameUnknown && f.Name != wf.Name || !f.ValueUnknown && f.Value != wf.Value {
						t.Fatalf("cut %d stream %d field %d: got %+v, want %+v", cut, x.StreamID, i, f, wf)
					}
					if f.Unknown() {
						unknown++
						if !got.Flags.Has(http2.FlagUnknownFields) {
							t.Fatalf("cut %d stream %d: unknown field not flagged", cut, x.StreamID)
						}
					}
				}
				if got.Path != "" {
					named++
					if got.Path != want.Path {
						t.Fatalf("cut %d stream %d: path %q, want %q", cut, x.StreamID, got.Path, want.Path)
					}
				}
			}
		}
	}
	if unknown == 0 || named == 0 {
		t.Fatalf("unknown %d, named %d: the test did not exercise recovery", unknown, named)
	}
}

// TestHPACKRecovery: a block that hpack rejects (an index past its table)
// is re-decoded by the walker: the literal fields stand, the bad reference
// comes out unknown, and the counters say so.
func TestHPACKRecovery(t *testing.T) {
	w := newWire(t, true)
	// 0x83 :method POST, 0xbe index 62 (nothing in the table), then
	// :path as a literal without indexing (name index 4).
	blk := []byte{0x83, 0xbe, 0x04, 0x08}
	blk = append(blk, "/rpc/Do1"...)
	w.fr[0].WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: blk, EndHeaders: true, EndStream: true})
	w.headers(1, 1, true, ok200()...)
	xs, c := w.run(nil)
	st := c.Stats()
	if len(xs) != 1 || st.HPACKErrors != 1 || st.HPACKRecovered != 1 || st.UnknownFields != 1 {
		t.Fatalf("got %d exchanges, stats %+v", len(xs), st)
	}
	r := xs[0].Request
	if r.Method != "POST" || r.Path != "/rpc/Do1" || !r.Header[1].NameUnknown || !r.Header[1].ValueUnknown || !r.Flags.Has(http2.FlagUnknownFields) {
		t.Fatalf("request %+v", r)
	}
}

// TestResync: a capture that starts inside a frame, with junk before the
// first frame header, and a gap in the middle of the connection.
func TestResync(t *testing.T) {
	w := newWire(t, false)
	junk := bytes.Repeat([]byte{0xff, 0x00, 0x07}, 50)
	w.buf[0].Write(junk)
	w.headers(0, 101, true, get("/after-junk")...)
	w.flush(0)
	w.headers(1, 101, false, ok200()...)
	w.data(1, 101, false, bytes.Repeat([]byte("d"), 500))
	w.flush(1)
	w.data(1, 101, true, bytes.Repeat([]byte("e"), 100))
	w.flush(1)
	w.headers(0, 103, true, get("/after-gap")...)
	w.flush(0)
	w.headers(1, 103, true, ok200()...)
	w.flush(1)
	// Lose 200 bytes inside the DATA of stream 101 (the frame survives),
	// and then 10 bytes of the client's next segment (framing
	// is lost and found again on the next segment).
	ev := w.log
	var log []event
	for i, e := range ev {
		switch i {
		case 1:
			p := len(e.data) - 500 // the DATA payload
			log = append(log, event{dir: 1, data: e.data[:p+100], ts: e.ts}, event{dir: 1, lost: 200, ts: e.ts}, event{dir: 1, data: e.data[p+300:], ts: e.ts})
		case 3:
			log = append(log, event{dir: 0, data: e.data[:5], ts: e.ts}, event{dir: 0, lost: 10, ts: e.ts}, event{dir: 0, data: e.data[15:], ts: e.ts})
		default:
			log = append(log, e)
		}
	}
	xs, c := feedEvents(w.log, nil)
	if len(xs) != 2 || xs[0].Request.Path != "/after-junk" || c.Stats().SkippedBytes != int64(len(junk)) {
		t.Fatalf("junk: %d exchanges, stats %+v", len(xs), c.Stats())
	}
	var got []*http2.Exchange
	c = http2.NewConn(nil, http2.HandlerFunc(func(x *http2.Exchange) { got = append(got, x) }))
	for _, e := range log {
		if e.data == nil {
			c.Gap(e.dir, e.lost, e.ts)
		} else {
			c.Feed(e.dir, e.data, e.ts)
		}
	}
	c.Close(time.Time{})
	if len(got) < 1 || got[0].StreamID != 101 || !got[0].Response.Flags.Has(http2.FlagGap) || got[0].Response.BodySize != 600 {
		t.Fatalf("gap in DATA: %+v", got)
	}
	if c.Stats().Desyncs == 0 {
		t.Errorf("lost frame header: no desync counted, stats %+v", c.Stats())
	}
	// Stream 103's request head was lost with the gap; its response is
	// still delivered.
	if len(got) != 2 || got[1].StreamID != 103 || got[1].Response == nil || got[1].Response.Status != 200 {
		t.Fatalf("after the gap: %+v", got)
	}
}

// TestUpgrade: h2c via "Upgrade: h2c": the HTTP/1.1 request is stream 1.
func TestUpgrade(t *testing.T) {
	w := newWire(t, true)
	w.headers(1, 1, false, ok200()...)
	w.data(1, 1, true, []byte("hi"))
	w.flush(0)
	w.flush(1)
	var xs []*http2.Exchange
	c := http2.NewConn(nil, http2.HandlerFunc(func(x *http2.Exchange) { xs = append(xs, x) }))
	c.Upgrade(0, http2.UpgradeRequest{Method: "GET", Path: "/up", Authority: "h.test",
		Header: []http2.Field{{Name: "Upgrade", Value: "h2c"}, {Name: "HTTP2-Settings", Value: "AAMAAABkAARAAAAAAAIAAAAA"}}})
	for _, e := range w.log {
		c.Feed(e.dir, e.data, e.ts)
	}
	c.Close(time.Time{})
	if len(xs) != 1 || !xs[0].Upgraded || xs[0].Request.Path != "/up" || xs[0].Request.Header[1].Name != "http2-settings" ||
		string(xs[0].Response.Body) != "hi" || xs[0].Flags != 0 {
		t.Fatalf("got %+v", xs)
	}
}

// TestBounds: hostile inputs cost bounded memory and time, counted.
func TestBounds(t *testing.T) {
	cfg := http2.DefaultConfig()
	cfg.MaxHeaderBlock = 4 << 10
	cfg.MaxHeaderListBytes = 8 << 10
	cfg.MaxFrame = 4 << 10
	cfg.MaxStreams = 4
	tests := []struct {
		name  string
		build func(w *wire)
		check func(t *testing.T, xs []*http2.Exchange, st http2.Stats)
	}{
		{"CONTINUATION flood", func(w *wire) {
			w.fr[0].WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, BlockFragment: w.block(0, get("/")...)})
			for range 5000 {
				w.fr[0].WriteContinuation(1, false, bytes.Repeat([]byte{0x82}, 100))
			}
			w.fr[0].WriteContinuation(1, true, []byte{0x82})
			w.headers(0, 3, true, get("/next")...)
			w.headers(1, 3, true, ok200()...)
		}, func(t *testing.T, xs []*http2.Exchange, st http2.Stats) {
			// Stream 3 completes first; stream 1 is delivered at Close.
			if st.BlocksTooLarge != 1 || len(xs) != 2 || !xs[1].Flags.Has(http2.FlagHPACKError) || xs[0].Request.Path != "/next" {
				t.Fatalf("stats %+v, %d exchanges", st, len(xs))
			}
		}},
		{"huge SETTINGS", func(w *wire) {
			s := make([]xhttp2.Setting, 20000)
			for i := range s {
				s[i] = xhttp2.Setting{ID: xhttp2.SettingHeaderTableSize, Val: 1 << 30}
			}
			w.fr[0].WriteSettings(s...)
			w.headers(0, 1, true, get("/")...)
			w.headers(1, 1, true, ok200()...)
		}, func(t *testing.T, xs []*http2.Exchange, st http2.Stats) {
			if st.FramesTooLarge != 1 || len(xs) != 1 || xs[0].Flags != 0 {
				t.Fatalf("stats %+v, %+v", st, xs)
			}
		}},
		{"HPACK bomb", func(w *wire) {
			// One 3 kB entry, then a block of 3000 references to it (3000
			// bytes on the wire, 9 MB decoded).
			w.headers(0, 1, true, append(get("/"), "x-big", string(bytes.Repeat([]byte("b"), 3000)))...)
			w.fr[0].WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 3, BlockFragment: bytes.Repeat([]byte{0xbe}, 3000), EndHeaders: true, EndStream: true})
			w.headers(1, 1, true, ok200()...)
			w.headers(1, 3, true, ok200()...)
		}, func(t *testing.T, xs []*http2.Exchange, st http2.Stats) {
			if st.ListsTooLarge != 1 || len(xs) != 2 || !xs[1].Request.Flags.Has(http2.FlagHPACKError) || len(xs[1].Request.Header) > 3 {
				t.Fatalf("stats %+v, %d fields", st, len(xs[1].Request.Header))
			}
		}},
		{"too many streams", func(w *wire) {
			for i := range 10 {
				w.headers(0, uint32(2*i+1), false, get("/open")...)
			}
		}, func(t *testing.T, xs []*http2.Exchange, st http2.Stats) {
			// Each stream over the cap evicts the oldest, delivered
			// incomplete; the last four are delivered at Close.
			if st.StreamsEvicted != 6 || len(xs) != 10 || xs[0].StreamID != 1 || !xs[0].Flags.Has(http2.FlagIncomplete) {
				t.Fatalf("stats %+v, %d exchanges", st, len(xs))
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWire(t, true)
			tc.build(w)
			xs, c := w.run(&cfg)
			tc.check(t, xs, c.Stats())
		})
	}
}

package reassembly_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/specter-dev/specter/capture"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/http1"
)

// wire feeds hand-built TCP segments into a pipeline, in capture order.
type wire struct {
	tb  testing.TB
	p   *reassembly.Pipeline
	dec *capture.Decoder
	pkt capture.Packet
	ts  time.Time
}

func newWire(tb testing.TB, cfg reassembly.Config) (*wire, *[]*reassembly.Exchange) {
	var out []*reassembly.Exchange
	w := &wire{tb: tb, dec: capture.NewDecoder(capture.DecoderOptions{}), ts: time.Unix(1_700_000_000, 0)}
	w.p = reassembly.New(cfg, func(x *reassembly.Exchange) { out = append(out, x) })
	return w, &out
}

// add sends one frame, d after the previous one.
func (w *wire) add(d time.Duration, data []byte) {
	w.tb.Helper()
	w.ts = w.ts.Add(d)
	fr := capture.Frame{Data: data, LinkType: layers.LinkTypeEthernet}
	fr.Info.Timestamp = w.ts
	fr.Info.CaptureLength, fr.Info.Length = len(data), len(data)
	ok, err := w.dec.Decode(fr, &w.pkt)
	if !ok {
		w.tb.Fatalf("decode: %v", err)
	}
	w.p.Add(&w.pkt)
}

// tcpConv is one connection from 10.0.0.1:port to 10.0.0.2:80.
type tcpConv struct {
	w          *wire
	port       uint16
	cseq, sseq uint32
}

func (w *wire) conn(port uint16) *tcpConv {
	return &tcpConv{w: w, port: port, cseq: 1000, sseq: 5000}
}

// syn sends the client's SYN only.
func (c *tcpConv) syn(d time.Duration) {
	c.w.add(d, tcpFrame(c.w.tb, c.port, true, c.cseq, 0, "S", ""))
}

// handshake sends SYN, SYN-ACK and ACK.
func (c *tcpConv) handshake(d time.Duration) {
	c.syn(d)
	c.w.add(time.Millisecond, tcpFrame(c.w.tb, c.port, false, c.sseq, c.cseq+1, "SA", ""))
	c.cseq++
	c.sseq++
	c.w.add(time.Millisecond, tcpFrame(c.w.tb, c.port, true, c.cseq, c.sseq, "A", ""))
}

// send sends payload from the client (or the server), d after the last frame.
func (c *tcpConv) send(d time.Duration, fromClient bool, payload string) {
	if fromClient {
		c.w.add(d, tcpFrame(c.w.tb, c.port, true, c.cseq, c.sseq, "A", payload))
		c.cseq += uint32(len(payload))
	} else {
		c.w.add(d, tcpFrame(c.w.tb, c.port, false, c.sseq, c.cseq, "A", payload))
		c.sseq += uint32(len(payload))
	}
}

func (c *tcpConv) close(d time.Duration) {
	c.w.add(d, tcpFrame(c.w.tb, c.port, true, c.cseq, c.sseq, "FA", ""))
	c.w.add(time.Millisecond, tcpFrame(c.w.tb, c.port, false, c.sseq, c.cseq+1, "FA", ""))
}

// resp is a response that names the request it answers in X-Answer.
func resp(answers string, framing string, body string) string {
	return fmt.Sprintf("HTTP/1.1 200 OK\r\nX-Answer: %s\r\n%s\r\n%s", answers, framing, body)
}

func get(path string) string { return "GET " + path + " HTTP/1.1\r\nHost: h\r\n\r\n" }

// checkPairs fails on any exchange whose response answers another request
// than the one it is paired with.
func checkPairs(t *testing.T, xs []*reassembly.Exchange) {
	t.Helper()
	for _, x := range xs {
		if x.Request != nil && x.Response != nil {
			if got := x.Response.Header.Get("X-Answer"); got != x.Request.Path {
				t.Errorf("request %s paired with the response to %s (anomalies %v)", x.Request.Path, got, x.Anomalies)
			}
		}
	}
}

type pairing struct {
	req, answer string // "" when absent
	anomalies   []string
}

func pairings(xs []*reassembly.Exchange) []pairing {
	var out []pairing
	for _, x := range xs {
		var p pairing
		if x.Request != nil {
			p.req = x.Request.Path
		}
		if x.Response != nil {
			p.answer = x.Response.Header.Get("X-Answer")
		}
		p.anomalies = x.Anomalies
		out = append(out, p)
	}
	slices.SortStableFunc(out, func(a, b pairing) int { return strings.Compare(a.req+"|"+a.answer, b.req+"|"+b.answer) })
	return out
}

// A message with invalid framing in the middle of a pipelined connection:
// it is paired in its place and flagged, and nothing after it is paired by
// position (RFC 9112 section 6.3), so no request gets the next one's
// response.
func TestBadFramingNeverMispairs(t *testing.T) {
	const unpaired = reassembly.AnomalyUnpairedAfterBadFraming
	type test struct {
		name       string
		client     []string // segments, sent first
		server     []string // segments, sent after all of the client's
		want       []pairing
		badFraming uint64
	}
	var tests []test
	// The response to /r1 has bad framing; the server sends three
	// responses in separate segments or in one.
	for _, bad := range []struct{ name, framing, anomaly string }{
		{"10^18", "Content-Length: 1000000000000000000\r\n", http1.AnomalyInvalidContentLength},
		{"overflowing int64", "Content-Length: 18446744073709551617\r\n", http1.AnomalyInvalidContentLength},
		{"-1", "Content-Length: -1\r\n", http1.AnomalyInvalidContentLength},
		{"conflicting duplicates", "Content-Length: 4\r\nContent-Length: 40\r\n", http1.AnomalyConflictingContentLength},
		{"in a malformed field line", "Content Length: 4\r\n", http1.AnomalyMalformedHeader},
		{"replaced by a malformed chunked body", "Transfer-Encoding: chunked\r\n", http1.AnomalyMalformedChunk},
	} {
		server := []string{
			resp("/r0", "Content-Length: 2\r\n", "ok"),
			resp("/r1", bad.framing, "junk"),
			resp("/r2", "Content-Length: 2\r\n", "ok"),
		}
		want := []pairing{
			{"/r0", "/r0", nil},
			{"/r1", "/r1", []string{bad.anomaly}},
			{"/r2", "", []string{unpaired}},
			{"", "/r2", []string{unpaired}},
		}
		tests = append(tests,
			test{"response content-length " + bad.name, []string{get("/r0") + get("/r1") + get("/r2")}, server, want, 1},
			test{"response content-length " + bad.name + ", one segment", []string{get("/r0"), get("/r1"), get("/r2")},
				[]string{strings.Join(server, "")}, want, 1})
	}
	// The request /r1 has bad framing.
	for _, bad := range []struct {
		name, framing string
		anomalies     []string
	}{
		{"invalid content-length", "Content-Length: 1e3\r\n", []string{http1.AnomalyInvalidContentLength}},
		{"transfer-encoding not chunked final, with content-length", "Content-Length: 5\r\nTransfer-Encoding: chunked, x\r\n",
			[]string{http1.AnomalyContentLengthWithTransferEncoding, http1.AnomalyTransferEncodingNotChunked}},
		{"malformed field line", "Content-Length 3\r\n", []string{http1.AnomalyMalformedHeader}},
		{"too many fields", strings.Repeat("X-A: 1\r\n", 300), []string{http1.AnomalyTooManyFields}},
	} {
		tests = append(tests, test{
			name:   "request " + bad.name,
			client: []string{get("/r0") + "POST /r1 HTTP/1.1\r\nHost: h\r\n" + bad.framing + "\r\n" + get("/r2")},
			server: []string{
				resp("/r0", "Content-Length: 2\r\n", "ok"),
				resp("/r1", "Content-Length: 2\r\n", "no"),
				resp("/r2", "Content-Length: 2\r\n", "ok"),
			},
			want: []pairing{
				{"/r0", "/r0", nil},
				{"/r1", "/r1", bad.anomalies},
				{"/r2", "", []string{unpaired}},
				{"", "/r2", []string{unpaired}},
			},
			badFraming: 1,
		})
	}
	tests = append(tests, []test{
		{
			name: "content-length with chunked: chunked frames, pairing goes on",
			client: []string{
				"POST /r0 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n" +
					"3\r\nabc\r\n0\r\n\r\n" + get("/r1"),
			},
			server: []string{
				resp("/r0", "Content-Length: 2\r\n", "ok"),
				resp("/r1", "Content-Length: 2\r\n", "ok"),
			},
			want: []pairing{
				{"/r0", "/r0", []string{http1.AnomalyContentLengthWithTransferEncoding}},
				{"/r1", "/r1", nil},
			},
		},
	}...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := reassembly.DefaultConfig()
			cfg.Workers = 1
			w, out := newWire(t, cfg)
			c := w.conn(40000)
			c.handshake(0)
			for _, s := range tt.client {
				c.send(time.Millisecond, true, s)
			}
			for _, s := range tt.server {
				c.send(time.Millisecond, false, s)
			}
			c.close(time.Millisecond)
			st := w.p.Close()
			checkPairs(t, *out)
			if got := pairings(*out); !slices.EqualFunc(got, tt.want, func(a, b pairing) bool {
				return a.req == b.req && a.answer == b.answer && slices.Equal(a.anomalies, b.anomalies)
			}) {
				t.Errorf("exchanges:\n got %v\nwant %v", got, tt.want)
			}
			if st.BadFraming != tt.badFraming {
				t.Errorf("bad_framing = %d, want %d", st.BadFraming, tt.badFraming)
			}
			var unp uint64
			for _, p := range tt.want {
				if slices.Contains(p.anomalies, unpaired) {
					unp++
				}
			}
			if st.Unpaired != unp {
				t.Errorf("unpaired_after_bad_framing = %d, want %d", st.Unpaired, unp)
			}
		})
	}
}

// A SYN flood must not evict the connections that carry data: flows that
// only sent SYNs wait in a budget of their own (MaxHalfOpen).
func TestSYNFloodKeepsEstablished(t *testing.T) {
	const flood = 20000 // at 100k SYN/s: 0.2 s
	tests := []struct {
		name        string
		maxHalfOpen int
		// late: the slow exchange's handshake runs during the flood, so
		// that its SYN is forgotten before it carries data.
		late bool
	}{
		{"established before the flood", 1024, false},
		{"handshake during the flood, SYN forgotten", 1024, true},
		{"flood within the budget", 2 * flood, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := reassembly.DefaultConfig()
			cfg.Workers = 1
			cfg.MaxConnections = 64
			cfg.MaxHalfOpen = tt.maxHalfOpen
			w, out := newWire(t, cfg)
			slow := w.conn(40000)
			other := w.conn(40001)
			if !tt.late {
				slow.handshake(0)
				slow.send(time.Millisecond, true, get("/slow"))
			}
			for i := range flood {
				if tt.late && i == 10 {
					slow.syn(0)
				}
				if tt.late && i == flood/2 {
					slow.cseq++
					slow.w.add(0, tcpFrame(t, slow.port, false, slow.sseq, slow.cseq, "SA", ""))
					slow.sseq++
					slow.send(0, true, get("/slow"))
				}
				if i%1000 == 0 {
					// Exchanges that come and go during the flood.
					other.port++
					other.handshake(0)
					other.send(0, true, get("/quick"))
					other.send(time.Millisecond, false, resp("/quick", "Content-Length: 2\r\n", "ok"))
					other.close(0)
				}
				w.conn(uint16(1024 + i)).syn(10 * time.Microsecond)
			}
			slow.send(time.Millisecond, false, resp("/slow", "Content-Length: 2\r\n", "ok"))
			slow.close(time.Millisecond)
			st := w.p.Close()
			checkPairs(t, *out)
			paired, quick := 0, 0
			for _, x := range *out {
				switch {
				case x.Request == nil || x.Response == nil:
					t.Errorf("unpaired exchange %v (flags %v)", pairings([]*reassembly.Exchange{x}), x.Flags.Names())
				case x.Request.Path == "/slow":
					paired++
				default:
					quick++
				}
			}
			if paired != 1 || quick != flood/1000 {
				t.Errorf("got %d /slow and %d /quick exchanges, want 1 and %d", paired, quick, flood/1000)
			}
			// The SYNs of the exchanges that carry data come and go; the
			// slow one's first SYN is forgotten when late.
			wantEvicted := max(0, flood-tt.maxHalfOpen)
			if tt.late && wantEvicted > 0 {
				wantEvicted++
			}
			if st.EvictedConns != 0 || st.HalfOpenEvicted != uint64(wantEvicted) || st.HalfOpen < flood {
				t.Errorf("evicted %d, half-open %d (%d evicted), want 0, %d+ (%d)", st.EvictedConns, st.HalfOpen, st.HalfOpenEvicted, flood, wantEvicted)
			}
		})
	}
}

// The parser's bound counters, and the connection's own, reach Stats.
func TestBoundCountersReachStats(t *testing.T) {
	tests := []struct {
		name           string
		client, server string
		stat           func(reassembly.Stats) uint64
	}{
		{
			name:   "too many header fields",
			client: "GET / HTTP/1.1\r\n" + strings.Repeat("X-A: 1\r\n", 300) + "\r\n",
			stat:   func(s reassembly.Stats) uint64 { return s.TooManyFields },
		},
		{
			name:   "header section too large",
			client: "GET / HTTP/1.1\r\nX-A: " + strings.Repeat("a", 70<<10) + "\r\n\r\n",
			stat:   func(s reassembly.Stats) uint64 { return s.HeadersTooLarge },
		},
		{
			name:   "chunk-size line too long",
			client: get("/c"),
			server: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" + strings.Repeat("e", 5000) + "\r\nx\r\n0\r\n\r\n",
			stat:   func(s reassembly.Stats) uint64 { return s.ChunkLinesTooLong },
		},
		{
			name:   "not http/1 after 64 KiB",
			client: strings.Repeat("\x01", 70<<10),
			stat:   func(s reassembly.Stats) uint64 { return s.ProbeLimit },
		},
		{
			name:   "codings capped",
			client: get("/c"),
			server: "HTTP/1.1 200 OK\r\nContent-Encoding: " + strings.Repeat("br,", 40) + "br\r\nContent-Length: 1\r\n\r\nx",
			stat:   func(s reassembly.Stats) uint64 { return s.CodingsCapped },
		},
		{
			name:   "zstd window too large",
			client: get("/c"),
			server: "HTTP/1.1 200 OK\r\nContent-Encoding: zstd\r\nContent-Length: 10\r\n\r\n\x28\xb5\x2f\xfd\x00\x70\x09\x00\x00x",
			stat:   func(s reassembly.Stats) uint64 { return s.WindowTooLarge },
		},
		{
			name:   "interim responses past the cap",
			client: get("/c"),
			server: strings.Repeat("HTTP/1.1 102 Processing\r\n\r\n", 10) + resp("/c", "Content-Length: 0\r\n", ""),
			stat:   func(s reassembly.Stats) uint64 { return s.InterimDropped / 2 }, // 10 sent, 8 kept
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := reassembly.DefaultConfig()
			cfg.Workers = 1
			w, xs := newWire(t, cfg)
			c := w.conn(40000)
			c.handshake(0)
			for s := tt.client; s != ""; {
				k := min(len(s), 1400)
				c.send(time.Millisecond, true, s[:k])
				s = s[k:]
			}
			if tt.server != "" {
				c.send(time.Millisecond, false, tt.server)
			}
			c.close(time.Millisecond)
			w.p.Close()
			for _, x := range *xs {
				x.AllFlags() // a sink reads the bodies: what decoding finds is counted
			}
			if st := w.p.Stats(); tt.stat(st) != 1 {
				t.Errorf("counter = %d, want 1 (stats %+v)", tt.stat(st), st)
			}
		})
	}
}

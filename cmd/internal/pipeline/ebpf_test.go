package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/specter-dev/specter/bpf"
	"github.com/specter-dev/specter/reassembly"
)

var (
	srvAddr  = netip.MustParseAddrPort("10.0.0.1:8080")
	cliAddr  = netip.MustParseAddrPort("198.51.100.7:40000")
	loopSrv  = netip.MustParseAddrPort("127.0.0.1:8080")
	loopCli  = netip.MustParseAddrPort("127.0.0.1:40001")
	baseTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

// chunkOf is a data chunk of connection conn seen by the server's socket
// (local srvAddr): egress is the response side.
func chunkOf(conn bpf.ConnID, egress bool, data string, at int) bpf.Chunk {
	dir := bpf.Ingress
	if egress {
		dir = bpf.Egress
	}
	return bpf.Chunk{Kind: bpf.KindData, Conn: conn, PID: 42, Comm: "api", Dir: dir,
		Local: srvAddr, Remote: cliAddr, Time: baseTime.Add(time.Duration(at) * time.Millisecond),
		Data: []byte(data), Len: len(data)}
}

func closeOf(conn bpf.ConnID, at int) bpf.Chunk {
	return bpf.Chunk{Kind: bpf.KindClose, Conn: conn, Time: baseTime.Add(time.Duration(at) * time.Millisecond)}
}

func req(path string) string { return "GET " + path + " HTTP/1.1\r\nHost: api\r\n\r\n" }

func resp(body string) string {
	return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}

// collector gathers what EBPFStreams hands on, batch by batch.
type collector struct {
	batches [][]*reassembly.Exchange
	all     []*reassembly.Exchange
}

func (c *collector) emit(xs []*reassembly.Exchange) []*reassembly.Exchange {
	c.batches = append(c.batches, append([]*reassembly.Exchange(nil), xs...))
	c.all = append(c.all, xs...)
	return xs[:0]
}

// summary names each exchange "METHOD target status body|flags".
func (c *collector) summary() []string {
	var out []string
	for _, x := range c.all {
		s := "-"
		if x.Request != nil {
			s = x.Request.Method + " " + x.Request.Target
		}
		if x.Response != nil {
			s += fmt.Sprintf(" %d %s", x.Response.StatusCode, x.Response.Body.Bytes())
		} else {
			s += " -"
		}
		if x.Flags.Has(reassembly.FlagGap) {
			s += " gap"
		}
		out = append(out, s)
	}
	return out
}

func split(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

func TestEBPFStreams(t *testing.T) {
	var splitChunks []bpf.Chunk
	for i, p := range split(req("/split"), 5) {
		splitChunks = append(splitChunks, chunkOf(1, false, p, i))
	}
	for i, p := range split(resp("hello world"), 7) {
		splitChunks = append(splitChunks, chunkOf(1, true, p, 100+i))
	}
	truncated := chunkOf(1, true, resp("0123456789")[:len(resp("0123456789"))-5], 2)
	truncated.Len = len(resp("0123456789"))
	truncated.Truncated = true
	tests := []struct {
		name    string
		opts    EBPFOptions
		chunks  []bpf.Chunk
		want    []string
		untied  uint64
		clients uint64
	}{
		{"one exchange", EBPFOptions{}, []bpf.Chunk{
			chunkOf(1, false, req("/a"), 0), chunkOf(1, true, resp("A"), 1),
		}, []string{"GET /a 200 A"}, 0, 0},
		{"split over many chunks", EBPFOptions{}, splitChunks, []string{"GET /split 200 hello world"}, 0, 0},
		{"pipelined, in order", EBPFOptions{}, []bpf.Chunk{
			chunkOf(1, false, req("/1")+req("/2"), 0), chunkOf(1, true, resp("one"), 1), chunkOf(1, true, resp("two"), 2),
		}, []string{"GET /1 200 one", "GET /2 200 two"}, 0, 0},
		{"two connections interleaved", EBPFOptions{}, []bpf.Chunk{
			chunkOf(1, false, req("/x"), 0), chunkOf(2, false, req("/y"), 1),
			chunkOf(2, true, resp("Y"), 2), chunkOf(1, true, resp("X"), 3),
		}, []string{"GET /y 200 Y", "GET /x 200 X"}, 0, 0},
		{"a truncated chunk is a gap, not glued bytes", EBPFOptions{}, []bpf.Chunk{
			chunkOf(1, false, req("/t"), 0), truncated,
			chunkOf(1, false, req("/u"), 3), chunkOf(1, true, resp("U"), 4),
		}, []string{"GET /t 200 01234 gap", "GET /u 200 U"}, 0, 0},
		{"close ends a response read to the end", EBPFOptions{}, []bpf.Chunk{
			chunkOf(1, false, req("/c"), 0), chunkOf(1, true, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close", 1), closeOf(1, 2),
		}, []string{"GET /c 200 until close"}, 0, 0},
		{"TLS plaintext is its own stream", EBPFOptions{}, []bpf.Chunk{
			chunkOf(1, false, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 0),
			func() bpf.Chunk { c := chunkOf(1, false, req("/tls"), 1); c.TLS = true; return c }(),
			func() bpf.Chunk { c := chunkOf(1, true, resp("T"), 2); c.TLS = true; return c }(),
		}, []string{"GET /tls 200 T"}, 0, 0},
		{"TLS never tied to a socket is dropped and counted", EBPFOptions{}, []bpf.Chunk{
			func() bpf.Chunk { c := chunkOf(0, false, req("/untied"), 0); c.TLS = true; return c }(),
		}, nil, 1, 0},
		{"the client's view within the host is left out", EBPFOptions{SkipClients: true}, []bpf.Chunk{
			{Kind: bpf.KindData, Conn: 7, Dir: bpf.Egress, Local: loopCli, Remote: loopSrv, Data: []byte(req("/l")), Len: len(req("/l")), Time: baseTime},
			{Kind: bpf.KindData, Conn: 8, Dir: bpf.Ingress, Local: loopSrv, Remote: loopCli, Data: []byte(req("/l")), Len: len(req("/l")), Time: baseTime},
			{Kind: bpf.KindData, Conn: 8, Dir: bpf.Egress, Local: loopSrv, Remote: loopCli, Data: []byte(resp("L")), Len: len(resp("L")), Time: baseTime},
			{Kind: bpf.KindData, Conn: 7, Dir: bpf.Ingress, Local: loopCli, Remote: loopSrv, Data: []byte(resp("L")), Len: len(resp("L")), Time: baseTime},
		}, []string{"GET /l 200 L"}, 0, 1},
		{"both views kept with a process filter", EBPFOptions{}, []bpf.Chunk{
			{Kind: bpf.KindData, Conn: 7, Dir: bpf.Egress, Local: loopCli, Remote: loopSrv, Data: []byte(req("/l")), Len: len(req("/l")), Time: baseTime},
			{Kind: bpf.KindData, Conn: 8, Dir: bpf.Ingress, Local: loopSrv, Remote: loopCli, Data: []byte(req("/l")), Len: len(req("/l")), Time: baseTime},
			{Kind: bpf.KindData, Conn: 8, Dir: bpf.Egress, Local: loopSrv, Remote: loopCli, Data: []byte(resp("L")), Len: len(resp("L")), Time: baseTime},
			{Kind: bpf.KindData, Conn: 7, Dir: bpf.Ingress, Local: loopCli, Remote: loopSrv, Data: []byte(resp("L")), Len: len(resp("L")), Time: baseTime},
		}, []string{"GET /l 200 L", "GET /l 200 L"}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c collector
			tt.opts.Local = map[netip.Addr]bool{}
			h := NewEBPFStreams(tt.opts, c.emit)
			var b bpf.Batch
			b.Reset()
			for i := range tt.chunks {
				b.Add(&tt.chunks[i])
			}
			h.Batch(&b)
			h.Close(baseTime.Add(time.Second), 0)
			if got := c.summary(); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("exchanges:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			st := h.Stats()
			if st.Untied != tt.untied || st.ClientViews != tt.clients {
				t.Errorf("untied %d, client views %d; want %d, %d", st.Untied, st.ClientViews, tt.untied, tt.clients)
			}
			if st.Streams.Exchanges != uint64(len(c.all)) {
				t.Errorf("streams counted %d exchanges, %d handed on", st.Streams.Exchanges, len(c.all))
			}
		})
	}
}

// TestEBPFStreamsBounds: batches handed on never exceed Batch, and
// connections past MaxConnections evict the least recently active.
func TestEBPFStreamsBounds(t *testing.T) {
	var c collector
	cfg := reassembly.DefaultConfig()
	cfg.MaxConnections = 2
	h := NewEBPFStreams(EBPFOptions{Reassembly: cfg, Batch: 3, Local: map[netip.Addr]bool{}}, c.emit)
	var b bpf.Batch
	b.Reset()
	const conns = 5
	for i := range conns {
		r := req(fmt.Sprintf("/%d", i))
		c := chunkOf(bpf.ConnID(i+1), false, r, i)
		b.Add(&c)
	}
	for i := range conns {
		c := chunkOf(bpf.ConnID(i+1), true, resp("ok"), 10+i)
		b.Add(&c)
	}
	for i := range 10 { // pipelined on one connection: fills batches
		c := chunkOf(100, false, req(fmt.Sprintf("/p%d", i)), 20+2*i)
		b.Add(&c)
		c = chunkOf(100, true, resp("p"), 21+2*i)
		b.Add(&c)
	}
	h.Batch(&b)
	h.Close(baseTime.Add(time.Minute), 0)
	for i, xs := range c.batches {
		if len(xs) > 3 {
			t.Errorf("batch %d holds %d exchanges, bound 3", i, len(xs))
		}
	}
	st := h.Stats().Streams
	if st.EvictedConns < conns-2 {
		t.Errorf("%d connections evicted, want at least %d", st.EvictedConns, conns-2)
	}
	if st.Exchanges != uint64(len(c.all)) {
		t.Errorf("streams counted %d exchanges, %d handed on", st.Exchanges, len(c.all))
	}
	complete := 0
	for _, x := range c.all {
		if x.Request != nil && x.Response != nil && strings.HasPrefix(x.Request.Target, "/p") {
			complete++
		}
	}
	if complete != 10 {
		t.Errorf("%d of 10 pipelined exchanges complete", complete)
	}
}

// TestEBPFStreamsLoss: when the kernel lost records, a message in flight
// is cut by a gap instead of being glued to the bytes after the loss.
func TestEBPFStreamsLoss(t *testing.T) {
	for _, lost := range []uint64{0, 3} {
		t.Run(fmt.Sprintf("lost=%d", lost), func(t *testing.T) {
			var c collector
			h := NewEBPFStreams(EBPFOptions{Local: map[netip.Addr]bool{}}, c.emit)
			full := resp("0123456789")
			for _, ch := range []bpf.Chunk{chunkOf(1, false, req("/a"), 0), chunkOf(1, true, full[:len(full)-4], 1)} {
				h.Chunk(&ch)
			}
			h.Tick(baseTime.Add(10*time.Millisecond), lost)
			// The response's tail (lost=0) or the next exchange (lost>0:
			// the tail was in the lost records).
			tail := full[len(full)-4:]
			if lost > 0 {
				tail = ""
			}
			for _, ch := range []bpf.Chunk{chunkOf(1, true, tail, 20), chunkOf(1, false, req("/b"), 21), chunkOf(1, true, resp("B"), 22)} {
				if len(ch.Data) > 0 {
					h.Chunk(&ch)
				}
			}
			h.Close(baseTime.Add(time.Second), lost)
			got := strings.Join(c.summary(), "\n")
			want := "GET /a 200 0123456789\nGET /b 200 B"
			if lost > 0 {
				want = "GET /a 200 012345 gap\nGET /b 200 B"
			}
			if got != want {
				t.Errorf("exchanges:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// fakeTracer serves chunks in batches of at most per, then fails with err
// (or reports itself closed when err is nil, or waits for Close when block).
type fakeTracer struct {
	chunks []bpf.Chunk
	per    int
	err    error
	block  bool
	next   int
	closed chan struct{}
	once   atomic.Bool
	reads  atomic.Uint64
}

func newFakeTracer(chunks []bpf.Chunk, per int, err error, block bool) *fakeTracer {
	return &fakeTracer{chunks: chunks, per: per, err: err, block: block, closed: make(chan struct{})}
}

func (f *fakeTracer) ReadBatch(b *bpf.Batch) error {
	b.Reset()
	if f.next >= len(f.chunks) {
		if f.block {
			<-f.closed
			return bpf.ErrClosed
		}
		if f.err != nil {
			return f.err
		}
		return bpf.ErrClosed
	}
	for n := 0; n < f.per && f.next < len(f.chunks) && !b.Full(); n++ {
		b.Add(&f.chunks[f.next])
		f.next++
	}
	f.reads.Add(uint64(len(b.Chunks)))
	return nil
}

func (f *fakeTracer) Stats() bpf.Stats { return bpf.Stats{Records: f.reads.Load()} }

func (f *fakeTracer) Close() error {
	if f.once.CompareAndSwap(false, true) {
		close(f.closed)
	}
	return nil
}

func TestRunEBPF(t *testing.T) {
	var chunks []bpf.Chunk
	const n = 1000
	for i := range n {
		conn := bpf.ConnID(i%7 + 1)
		chunks = append(chunks, chunkOf(conn, false, req(fmt.Sprintf("/%d", i)), 2*i), chunkOf(conn, true, resp("x"), 2*i+1))
	}
	boom := errors.New("ring buffer broke")
	tests := []struct {
		name    string
		err     error
		block   bool
		wantErr error
	}{
		{"closed", nil, false, nil},
		{"read error", boom, false, boom},
		{"cancelled drains", nil, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c collector
			h := NewEBPFStreams(EBPFOptions{Local: map[netip.Addr]bool{}}, c.emit)
			tr := newFakeTracer(chunks, 37, tt.err, tt.block)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ticks := 0
			done := make(chan error, 1)
			go func() {
				done <- RunEBPF(ctx, tr, h, func() { ticks++ })
			}()
			if tt.block {
				for tr.reads.Load() < uint64(len(chunks)) {
					time.Sleep(time.Millisecond)
				}
				cancel()
			}
			err := <-done
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("RunEBPF = %v, want %v", err, tt.wantErr)
			}
			if !tr.once.Load() {
				t.Error("the tracer was not closed")
			}
			if ticks == 0 {
				t.Error("tick never ran (it must run at the end)")
			}
			if len(c.all) != n {
				t.Fatalf("%d exchanges, want %d", len(c.all), n)
			}
			for _, x := range c.all {
				if x.Request == nil || x.Response == nil {
					t.Fatalf("incomplete exchange %+v", x)
				}
			}
		})
	}
}
func TestLossGaps(t *testing.T) {
	type gapped struct {
		id  uint64
		dir reassembly.Direction
	}
	var got []gapped
	lg := newLossGaps(2, func(id uint64, _ reassembly.StreamMeta, dir reassembly.Direction, n int, _ time.Time) {
		if n != -1 {
			t.Errorf("gap of %d bytes, want unknown (-1)", n)
		}
		got = append(got, gapped{id, dir})
	})
	now := time.Now()
	steps := []struct {
		data   []uint64
		closed []uint64
		lost   uint64
		want   int // gaps
	}{
		{data: []uint64{1, 2}, lost: 0, want: 0},                    // nothing lost
		{data: []uint64{1, 2, 3}, lost: 5, want: 4},                 // 3 past the bound of 2
		{data: nil, lost: 9, want: 0},                               // lost, but nothing active since
		{data: []uint64{4}, closed: []uint64{4}, lost: 12, want: 0}, // closed before the check
		{data: []uint64{5}, lost: 12, want: 0},                      // no new loss
	}
	for i, s := range steps {
		got = nil
		for _, id := range s.data {
			lg.data(id, reassembly.StreamMeta{})
		}
		for _, id := range s.closed {
			lg.close(id)
		}
		lg.check(s.lost, now)
		if len(got) != s.want {
			t.Errorf("step %d: %d gaps %v, want %d", i, len(got), got, s.want)
		}
	}
}

func TestSides(t *testing.T) {
	now := time.Now()
	local := netip.MustParseAddrPort("127.0.0.1:8080")
	host := netip.MustParseAddr("192.0.2.10")
	remote := netip.MustParseAddrPort("198.51.100.7:443")
	cfg := reassembly.DefaultConfig()
	cfg.MaxConnections = 3
	cfg.IdleTimeout = time.Minute
	s := newSides(cfg, true, map[netip.Addr]bool{host: true})
	steps := []struct {
		id     uint64
		egress bool
		remote netip.AddrPort
		at     time.Duration
		want   bool
	}{
		{1, true, local, 0, true},                         // writes first to a local server: client's view
		{2, false, local, 0, false},                       // reads first: the server's view
		{1, false, local, 0, true},                        // the verdict sticks to the connection
		{3, true, remote, 0, false},                       // a call to another host: the only view
		{4, true, netip.AddrPortFrom(host, 80), 0, false}, // past the bound of 3: kept
	}
	for i, st := range steps {
		if got := s.skip(st.id, st.egress, st.remote, now.Add(st.at)); got != st.want {
			t.Errorf("step %d: skip = %v, want %v", i, got, st.want)
		}
	}
	s.close(3)
	if !s.skip(5, true, netip.AddrPortFrom(host, 80), now) {
		t.Error("a host address is local")
	}
	s.expire(now.Add(2 * time.Minute))
	if len(s.conns) != 0 || s.dropped != 2 {
		t.Errorf("after expiry: %d conns, %d dropped", len(s.conns), s.dropped)
	}
	off := newSides(cfg, false, nil)
	if off.skip(1, true, local, now) {
		t.Error("with a process filter nothing is skipped")
	}
}

// FuzzEBPFStreams feeds arbitrary chunk sequences: each record is a control
// byte (connection, direction, kind, TLS, truncation), a length byte and
// that many data bytes. Nothing panics, batches stay within their bound,
// and every exchange the streams count is handed on.
func FuzzEBPFStreams(f *testing.F) {
	f.Add([]byte("\x00\x1aGET / HTTP/1.1\r\nHost: a\r\n\r\n\x01\x26HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("\x10\x05GET /\x40\x00\x09\x10HTTP/1.1 200 OK\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var c collector
		cfg := reassembly.DefaultConfig()
		cfg.MaxConnections = 3
		h := NewEBPFStreams(EBPFOptions{Reassembly: cfg, SkipClients: len(in)%2 == 0, Local: map[netip.Addr]bool{}, Batch: 2}, c.emit)
		var lost uint64
		for i := 0; len(in) >= 2; i++ {
			ctl, n := in[0], int(in[1])
			in = in[2:]
			n = min(n, len(in))
			data := in[:n]
			in = in[n:]
			ch := chunkOf(bpf.ConnID(ctl&3), ctl&4 != 0, string(data), i)
			if ctl&8 != 0 {
				ch.Remote = loopCli
			}
			ch.TLS = ctl&16 != 0
			if ctl&32 != 0 {
				ch.Truncated, ch.Len = true, n+int(ctl)
			}
			if ctl&64 != 0 {
				ch = closeOf(ch.Conn, i)
			}
			h.Chunk(&ch)
			if ctl&128 != 0 {
				lost++
				h.Tick(baseTime.Add(time.Duration(i)*time.Second), lost)
			}
		}
		h.Close(baseTime.Add(time.Hour), lost)
		for _, xs := range c.batches {
			if len(xs) > 2 {
				t.Fatalf("a batch of %d, bound 2", len(xs))
			}
		}
		if st := h.Stats().Streams; st.Exchanges != uint64(len(c.all)) {
			t.Fatalf("streams counted %d exchanges, %d handed on", st.Exchanges, len(c.all))
		}
	})
}

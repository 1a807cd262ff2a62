package http2_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/specter-dev/specter/capture"
	"github.com/specter-dev/specter/reassembly/http2"
)

// The test-only flow assembler: the corpus files are small, so each TCP
// direction is put in sequence order in memory (retransmissions trimmed,
// holes reported as gaps), then the connection is replayed through a Conn
// in capture order. The product's reassembly (gopacket) is exercised by
// its own tests; this harness only needs correct byte streams.

type event struct {
	dir  int
	data []byte // nil: a gap of lost bytes
	lost int
	ts   time.Time
}

type flowKey struct{ a, b netip.AddrPort }

type direction struct {
	started bool
	next    uint32
	pending map[uint32]pendingSeg
}

type pendingSeg struct {
	data []byte
	ts   time.Time
}

type flow struct {
	first  netip.AddrPort // side 0: the SYN sender, else the first packet's source
	dirs   [2]direction
	events []event
	syn    bool
}

// maxPending bounds out-of-order segments held per direction before the
// hole in front of them is declared lost.
const maxPending = 16

func (d *direction) push(f *flow, dir int, seq uint32, data []byte, ts time.Time) {
	if d.pending == nil {
		d.pending = map[uint32]pendingSeg{}
	}
	d.pending[seq] = pendingSeg{append([]byte(nil), data...), ts}
	d.drain(f, dir, false)
}

func (d *direction) drain(f *flow, dir int, final bool) {
	for len(d.pending) > 0 {
		progressed := false
		for seq, p := range d.pending {
			diff := int32(seq - d.next)
			end := int32(seq + uint32(len(p.data)) - d.next)
			switch {
			case end <= 0: // retransmission of delivered bytes
				delete(d.pending, seq)
				progressed = true
			case diff <= 0:
				f.events = append(f.events, event{dir: dir, data: p.data[-diff:], ts: p.ts})
				d.next = seq + uint32(len(p.data))
				delete(d.pending, seq)
				progressed = true
			}
		}
		if progressed {
			continue
		}
		if !final && len(d.pending) < maxPending {
			return
		}
		// Declare the hole before the lowest pending segment lost.
		low := uint32(0)
		lowDiff := int32(1<<31 - 1)
		for seq := range d.pending {
			if df := int32(seq - d.next); df < lowDiff {
				low, lowDiff = seq, df
			}
		}
		f.events = append(f.events, event{dir: dir, lost: int(lowDiff), ts: d.pending[low].ts})
		d.next = low
	}
}

// readFlows reads a capture into per-connection event lists, in order of
// each connection's first packet.
func readFlows(t testing.TB, path string) []*flow {
	r, err := capture.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer r.Close()
	dec := capture.NewDecoder(capture.DecoderOptions{})
	flows := map[flowKey]*flow{}
	var order []*flow
	var p capture.Packet
	for {
		fr, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Logf("%s: %v (reading stops here)", path, err)
			break
		}
		ok, err := dec.Decode(fr, &p)
		if err != nil || !ok {
			continue
		}
		src := netip.AddrPortFrom(p.Src, uint16(p.TCP.SrcPort))
		dst := netip.AddrPortFrom(p.Dst, uint16(p.TCP.DstPort))
		k := flowKey{src, dst}
		if dst.Addr().Less(src.Addr()) || dst.Addr() == src.Addr() && dst.Port() < src.Port() {
			k = flowKey{dst, src}
		}
		f := flows[k]
		if f == nil || p.TCP.SYN && !p.TCP.ACK && f.syn {
			f = &flow{first: src, syn: p.TCP.SYN && !p.TCP.ACK}
			flows[k] = f
			order = append(order, f)
		}
		dir := 0
		if src != f.first {
			dir = 1
		}
		d := &f.dirs[dir]
		seq := p.TCP.Seq
		if !d.started {
			d.started = true
			d.next = seq
			if p.TCP.SYN {
				d.next = seq + 1
			}
		}
		if p.TCP.SYN {
			seq++
		}
		if len(p.TCP.Payload) > 0 {
			d.push(f, dir, seq, p.TCP.Payload, p.Timestamp)
		}
	}
	for _, f := range order {
		for i := range f.dirs {
			f.dirs[i].drain(f, i, true)
		}
	}
	return order
}

// replay decides whether a flow is HTTP/2 (by content: the preface or
// frame headers, or an HTTP/1.1 Upgrade: h2c answered 101) and feeds it to
// a Conn, returning the exchanges. ok is false for flows that are not
// HTTP/2.
func replay(t testing.TB, f *flow, cfg *http2.Config) (xs []*http2.Exchange, st http2.Stats, ok bool) {
	var head [2][]byte
	for _, e := range f.events {
		if e.data != nil && len(head[e.dir]) < 4096 {
			head[e.dir] = append(head[e.dir], e.data...)
		}
	}
	c := http2.NewConn(cfg, http2.HandlerFunc(func(x *http2.Exchange) { xs = append(xs, x) }))
	var skip [2]int // HTTP/1 bytes before HTTP/2 starts, per direction
	switch {
	case http2.Sniff(head[0]) || http2.Sniff(head[1]):
	case bytes.HasPrefix(head[1], []byte("HTTP/1.1 101")) || bytes.HasPrefix(head[0], []byte("HTTP/1.1 101")):
		srv := 1
		if bytes.HasPrefix(head[0], []byte("HTTP/1.1 101")) {
			srv = 0
		}
		end := bytes.Index(head[srv], []byte("\r\n\r\n"))
		if end < 0 {
			return nil, st, false
		}
		skip[srv] = end + 4
		cl := 1 - srv
		if req, n := upgradeRequest(head[cl]); req != nil {
			skip[cl] = n
			c.Upgrade(cl, *req)
		}
	default:
		return nil, st, false
	}
	for _, e := range f.events {
		if e.data == nil {
			c.Gap(e.dir, e.lost, e.ts)
			continue
		}
		d := e.data
		if n := min(skip[e.dir], len(d)); n > 0 {
			skip[e.dir] -= n
			d = d[n:]
		}
		if len(d) > 0 {
			c.Feed(e.dir, d, e.ts)
		}
	}
	c.Close(time.Time{})
	return xs, c.Stats(), true
}

// upgradeRequest parses the HTTP/1.1 request at the start of b if it asks
// for h2c, returning it and its length.
func upgradeRequest(b []byte) (*http2.UpgradeRequest, int) {
	br := bufio.NewReader(bytes.NewReader(b))
	req, err := http.ReadRequest(br)
	if err != nil || !strings.EqualFold(req.Header.Get("Upgrade"), "h2c") {
		return nil, 0
	}
	body, _ := io.ReadAll(req.Body)
	n := len(b) - br.Buffered()
	u := &http2.UpgradeRequest{Method: req.Method, Path: req.URL.RequestURI(), Authority: req.Host, Body: body}
	keys := make([]string, 0, len(req.Header))
	for k := range req.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range req.Header[k] {
			u.Header = append(u.Header, http2.Field{Name: k, Value: v})
		}
	}
	return u, n
}

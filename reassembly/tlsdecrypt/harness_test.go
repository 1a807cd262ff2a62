package tlsdecrypt_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/specter-dev/specter/capture"
	"github.com/specter-dev/specter/reassembly/http1"
	"github.com/specter-dev/specter/reassembly/message"
	"github.com/specter-dev/specter/reassembly/tlsdecrypt"
	"golang.org/x/net/http2/hpack"
)

// This file is a test-only harness: it reads a capture with the project's
// capture package, reassembles each TCP connection in order (small files
// only: out-of-order segments are held without bound), feeds a Conn per
// connection and counts the HTTP requests in the plaintext.

// flowKey names one direction of a TCP connection.
type flowKey struct {
	src, dst netip.AddrPort
}

// tcpDir reassembles one direction.
type tcpDir struct {
	started bool
	next    uint32
	ooo     map[uint32][]byte
}

// plainConn is one connection as the harness sees it.
type plainConn struct {
	client flowKey
	dirs   [2]tcpDir
	conn   *tlsdecrypt.Conn
	plain  [2]bytes.Buffer
	lost   [2]int
}

func (p *plainConn) Data(d tlsdecrypt.Dir, b []byte) { p.plain[d].Write(b) }
func (p *plainConn) Lost(d tlsdecrypt.Dir, n int)    { p.lost[d] += n }

// result is what a capture gave.
type result struct {
	stats     tlsdecrypt.Stats
	conns     []*plainConn
	requests  int
	plainSize int
	metas     []tlsdecrypt.Meta
}

// seqAfter reports whether a comes after b in sequence space.
func seqAfter(a, b uint32) bool { return int32(a-b) > 0 }

// deliver feeds an in-order run of d's bytes, then any held segments that
// it makes contiguous.
func (p *plainConn) segment(d tlsdecrypt.Dir, seq uint32, syn bool, payload []byte) {
	t := &p.dirs[d]
	if syn {
		t.started, t.next = true, seq+1
		return
	}
	if len(payload) == 0 {
		return
	}
	if !t.started {
		t.started, t.next = true, seq
	}
	if seqAfter(seq, t.next) {
		if t.ooo == nil {
			t.ooo = map[uint32][]byte{}
		}
		if old, ok := t.ooo[seq]; !ok || len(old) < len(payload) {
			t.ooo[seq] = append([]byte(nil), payload...)
		}
		return
	}
	p.push(d, seq, payload)
	for {
		progressed := false
		for s, b := range t.ooo {
			if !seqAfter(s, t.next) {
				delete(t.ooo, s)
				p.push(d, s, b)
				progressed = true
			}
		}
		if !progressed {
			return
		}
	}
}

// push feeds the part of payload (starting at seq, not after next) that
// is new.
func (p *plainConn) push(d tlsdecrypt.Dir, seq uint32, payload []byte) {
	t := &p.dirs[d]
	skip := int(t.next - seq)
	if skip >= len(payload) {
		return
	}
	payload = payload[skip:]
	t.next += uint32(len(payload))
	p.conn.Feed(d, payload)
}

// finish reports the holes left and closes the connection.
func (p *plainConn) finish() {
	for d := range p.dirs {
		t := &p.dirs[d]
		for len(t.ooo) > 0 {
			first := true
			var lo uint32
			for s := range t.ooo {
				if first || seqAfter(lo, s) {
					lo, first = s, false
				}
			}
			p.conn.Gap(tlsdecrypt.Dir(d), int(lo-t.next))
			t.next = lo
			p.segment(tlsdecrypt.Dir(d), lo, false, t.ooo[lo])
		}
	}
	p.conn.Close()
}

// runCapture decrypts every TCP connection of the capture at path with
// keys (adding the capture's Decryption Secrets Blocks to it).
func runCapture(t testing.TB, path string, keys *tlsdecrypt.KeyLog) result {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dec := tlsdecrypt.New(keys, tlsdecrypt.Config{})
	decoder := capture.NewDecoder(capture.DecoderOptions{})
	conns := map[flowKey]*plainConn{}
	var order, done []*plainConn
	var pkt capture.Packet
	for {
		f, err := r.Next()
		for _, s := range r.Secrets() {
			if s.Type == capture.SecretsTLSKeyLog {
				if err := keys.AddDSB(s.Data, fmt.Sprintf("%s: DSB at offset %d", path, s.Offset)); err != nil {
					t.Errorf("DSB: %v", err)
				}
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		ok, err := decoder.Decode(f, &pkt)
		if err != nil || !ok {
			continue
		}
		src := netip.AddrPortFrom(pkt.Src, uint16(pkt.TCP.SrcPort))
		dst := netip.AddrPortFrom(pkt.Dst, uint16(pkt.TCP.DstPort))
		k := flowKey{src, dst}
		rk := flowKey{dst, src}
		pc, d := conns[k], tlsdecrypt.FromClient
		if pc == nil {
			if pc = conns[rk]; pc != nil {
				d = tlsdecrypt.FromServer
			}
		}
		if pc != nil && pkt.TCP.SYN && !pkt.TCP.ACK {
			// A new connection on a reused 4-tuple.
			pc.finish()
			done = append(done, pc)
			delete(conns, k)
			delete(conns, rk)
			pc = nil
		}
		if pc != nil && pc.client != k {
			d = tlsdecrypt.FromServer
		}
		if pc == nil {
			client := k
			// Without a SYN, the side on the higher port is the client.
			if !(pkt.TCP.SYN && !pkt.TCP.ACK) && src.Port() < dst.Port() {
				client = rk
			}
			pc = &plainConn{client: client}
			pc.conn = dec.NewConn(pc)
			conns[k] = pc
			conns[rk] = pc
			order = append(order, pc)
			if client != k {
				d = tlsdecrypt.FromServer
			}
		}
		pc.segment(d, pkt.TCP.Seq, pkt.TCP.SYN, pkt.TCP.Payload)
	}
	var res result
	for _, pc := range order {
		if !slices.Contains(done, pc) {
			pc.finish()
		}
		res.conns = append(res.conns, pc)
		res.metas = append(res.metas, pc.conn.Meta())
		res.plainSize += pc.plain[0].Len() + pc.plain[1].Len()
		res.requests += countRequests(t, pc)
		if testing.Verbose() && pc.plain[0].Len() > 0 {
			t.Logf("conn %v: meta %+v client plaintext %q", pc.client, pc.conn.Meta(), pc.plain[0].Bytes()[:min(60, pc.plain[0].Len())])
		}
	}
	res.stats = dec.Stats()
	_ = time.Now
	return res
}

// h2Preface starts an HTTP/2 client stream.
const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// countRequests counts the HTTP/1 requests, or the HTTP/2 HEADERS frames
// with a :method, in the client's plaintext.
func countRequests(t testing.TB, pc *plainConn) int {
	b := pc.plain[tlsdecrypt.FromClient].Bytes()
	if pc.conn.Meta().ALPN == "h2" || bytes.HasPrefix(b, []byte(h2Preface)) {
		return countH2(t, bytes.TrimPrefix(b, []byte(h2Preface)))
	}
	h := &h1Count{}
	cfg := http1.DefaultConfig()
	p := http1.NewParser(&cfg, h)
	p.Feed(b, time.Time{})
	p.Close(time.Time{})
	return h.n
}

type h1Count struct{ n int }

func (h *h1Count) Request(*message.Request)   { h.n++ }
func (h *h1Count) Response(*message.Response) {}
func (h *h1Count) PendingMethod() string      { return "" }
func (h *h1Count) Protocol(http1.Protocol)    {}

// countH2 walks HTTP/2 frames, decoding header blocks (HEADERS and their
// CONTINUATIONs) in order to keep the HPACK table right, and counts the
// blocks with a :method.
func countH2(t testing.TB, b []byte) int {
	n := 0
	var block []byte
	dec := hpack.NewDecoder(4096, nil)
	for len(b) >= 9 {
		ln := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
		typ, flags := b[3], b[4]
		if len(b) < 9+ln {
			break
		}
		payload := b[9 : 9+ln]
		b = b[9+ln:]
		switch typ {
		case 1: // HEADERS
			if flags&0x8 != 0 && len(payload) > 0 { // PADDED
				pad := int(payload[0])
				payload = payload[1:]
				if pad > len(payload) {
					t.Errorf("h2: bad padding")
					return n
				}
				payload = payload[:len(payload)-pad]
			}
			if flags&0x20 != 0 && len(payload) >= 5 { // PRIORITY
				payload = payload[5:]
			}
			block = append(block[:0], payload...)
			if flags&0x4 == 0 {
				continue
			}
		case 9: // CONTINUATION
			block = append(block, payload...)
			if flags&0x4 == 0 {
				continue
			}
		default:
			continue
		}
		fields, err := dec.DecodeFull(block)
		if err != nil {
			t.Errorf("h2: hpack: %v", err)
			return n
		}
		for _, f := range fields {
			if f.Name == ":method" {
				n++
				break
			}
		}
	}
	return n
}

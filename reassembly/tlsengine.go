package reassembly

import (
	"bytes"
	"net/netip"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/specter-dev/specter/reassembly/http1"
	"github.com/specter-dev/specter/reassembly/tlsdecrypt"
)

// TLSInfo is what the handshake of the TLS connection an exchange
// travelled on told (see tlsdecrypt.Meta). It holds no key material.
type TLSInfo struct {
	SNI     string `json:"sni,omitempty"`
	ALPN    string `json:"alpn,omitempty"`
	Version uint16 `json:"version,omitempty"`
	Suite   uint16 `json:"suite,omitempty"`
}

// tlsJSON is an exchange's TLSInfo in its JSON form, names spelled out.
type tlsJSON struct {
	SNI     string `json:"sni,omitempty"`
	ALPN    string `json:"alpn,omitempty"`
	Version string `json:"version"`
	Suite   string `json:"suite"`
}

// tlsEngine takes a connection whose first bytes were a TLS record. It
// reads the handshake with the pipeline's Decryptor (Config.TLS) and, when
// the key log holds the connection's secrets, hands the plaintext to the
// connection's HTTP/1 parsers (their requests and responses pair as in
// clear) or, when ALPN selected h2, to an HTTP/2 engine. With or without
// keys, the connection's SNI, ALPN and version are counted in its
// shard's TLS services (see TLSService).
//
// What it holds beyond the parsers is tlsdecrypt's: a partial record per
// direction and the ciphertext waiting for keys, bounded by
// tlsdecrypt.Config.MaxPending and MaxPendingTotal.
type tlsEngine struct {
	c      *conn
	tc     *tlsdecrypt.Conn
	client int    // the conn direction the ClientHello came from
	inner  engine // set by the first plaintext
	ts     time.Time
}

func newTLSEngine(c *conn, cur *half, data []byte) *tlsEngine {
	e := &tlsEngine{c: c, client: tlsClientDir(c, cur, data)}
	e.tc = c.w.cfg.TLS.NewConn(e)
	return e
}

// tlsClientDir finds the client's direction from the heads kept so far
// (and data, the Feed of cur under way): a handshake record starting with
// a ClientHello, or a ServerHello in the other direction. Without either (a capture that began after the
// hellos) it is the direction gopacket numbered first, the SYN's when it
// was seen.
func tlsClientDir(c *conn, cur *half, data []byte) int {
	for i := range c.half {
		h := c.half[i].head
		if len(h) == 0 && cur == &c.half[i] {
			h = data
		}
		if len(h) >= 6 && h[0] == 22 {
			switch h[5] {
			case 1: // ClientHello
				return i
			case 2: // ServerHello
				return 1 - i
			}
		}
	}
	return 0
}

func (e *tlsEngine) dir(d int) tlsdecrypt.Dir {
	if d == e.client {
		return tlsdecrypt.FromClient
	}
	return tlsdecrypt.FromServer
}

func (e *tlsEngine) connDir(d tlsdecrypt.Dir) int {
	if d == tlsdecrypt.FromClient {
		return e.client
	}
	return 1 - e.client
}

func (e *tlsEngine) feed(dir int, data []byte, ts time.Time) {
	e.ts = ts
	e.tc.Feed(e.dir(dir), data)
}

func (e *tlsEngine) gap(dir int, lost int, ts time.Time) {
	e.ts = ts
	if lost < 0 {
		// An unknown amount: the record layer looks for its framing
		// again, and the plaintext has a hole of unknown size.
		e.tc.Gap(e.dir(dir), 0)
		if e.inner != nil {
			e.inner.gap(dir, -1, ts)
		}
		return
	}
	e.tc.Gap(e.dir(dir), lost)
}

func (e *tlsEngine) close(ts time.Time) {
	e.ts = ts
	e.tc.Close() // records waiting for keys are opened now, if they came
	if e.inner != nil {
		e.inner.close(ts)
	}
	e.c.w.tls.note(e.tc.Meta(), e.c.addrs[1-e.client], e.inner != nil)
}

// buffered is what the plaintext's engine holds beyond the HTTP/1
// parsers (counted as the halves'); tlsdecrypt's own buffers have their
// own bounds.
func (e *tlsEngine) buffered() int {
	if b, ok := e.inner.(budgeted); ok {
		return b.buffered()
	}
	return 0
}

// shed drops the plaintext's parse state, never the record layer's place:
// a gap would cost decryption its framing and sequence numbers.
func (e *tlsEngine) shed(ts time.Time) {
	switch in := e.inner.(type) {
	case budgeted:
		in.shed(ts)
	case *h1Engine:
		for i := range e.c.half {
			in.gap(i, -1, ts)
		}
	}
}

// Data implements tlsdecrypt.Handler.
func (e *tlsEngine) Data(d tlsdecrypt.Dir, p []byte) {
	if e.inner == nil {
		e.start(p)
	}
	e.inner.feed(e.connDir(d), p, e.ts)
}

// Lost implements tlsdecrypt.Handler.
func (e *tlsEngine) Lost(d tlsdecrypt.Dir, n int) {
	if e.inner != nil {
		e.inner.gap(e.connDir(d), n, e.ts)
	}
}

// h2Preface starts an HTTP/2 connection with prior knowledge.
var h2Preface = []byte("PRI * HTTP/2.0\r\n")

// start picks the engine of the plaintext: HTTP/2 when ALPN selected h2
// (or, without ALPN, the plaintext starts with the HTTP/2 preface), else
// HTTP/1 on fresh parsers.
func (e *tlsEngine) start(first []byte) {
	m := e.tc.Meta()
	if m.ALPN == "h2" || m.ALPN == "" && bytes.HasPrefix(first, h2Preface) {
		e.inner = newH2Engine(e.c, nil)
		e.c.w.ctr.tlsH2.Add(1)
		return
	}
	e.inner = newH1Engine(e.c)
	e.c.w.ctr.tlsH1.Add(1)
}

// info is the TLSInfo of the connection's exchanges.
func (e *tlsEngine) info() *TLSInfo {
	m := e.tc.Meta()
	return &TLSInfo{SNI: m.SNI, ALPN: m.ALPN, Version: m.Version, Suite: m.Suite}
}

// h1Engine parses decrypted bytes with new HTTP/1 parsers on the
// connection's halves, so that requests and responses pair as in clear.
type h1Engine struct{ c *conn }

func newH1Engine(c *conn) *h1Engine {
	for i := range c.half {
		h := &c.half[i]
		h.parser = http1.NewParser(&c.w.cfg.HTTP, h)
	}
	return &h1Engine{c: c}
}

func (e *h1Engine) feed(dir int, data []byte, ts time.Time) { e.c.half[dir].parser.Feed(data, ts) }

func (e *h1Engine) gap(dir int, lost int, ts time.Time) {
	h := &e.c.half[dir]
	h.parser.Gap(lost, ts)
	h.resynced = true
}

func (e *h1Engine) close(ts time.Time) {
	for i := range e.c.half {
		e.c.half[i].parser.Close(ts)
	}
}

// TLSService is what the TLS connections to one server name (SNI, or the
// server's address when the client sent none) told, with or without keys.
type TLSService struct {
	SNI    string         `json:"sni,omitempty"`
	Server netip.AddrPort `json:"server"` // the first server address seen for the name
	// ALPN lists the protocols the server selected (ALPN is known without
	// keys up to TLS 1.2 only), Versions the versions negotiated; at most
	// 8 of each.
	ALPN     []string `json:"alpn,omitempty"`
	Versions []uint16 `json:"versions,omitempty"`
	Conns    uint64   `json:"conns"`
	// Decrypted counts the connections whose plaintext was parsed.
	Decrypted uint64 `json:"decrypted"`
}

// maxTLSServices bounds a shard's TLS services table; connections to
// names past it are counted in Stats.TLSServicesDropped.
const maxTLSServices = 4096

// maxTLSValues bounds TLSService.ALPN and Versions.
const maxTLSValues = 8

type tlsKey struct {
	sni    string
	server netip.AddrPort // only when sni is empty
}

// tlsTable is a shard's TLS services. It is locked: the pipeline reads it
// while workers write.
type tlsTable struct {
	mu      sync.Mutex
	m       map[tlsKey]*TLSService
	dropped uint64
}

func (t *tlsTable) note(m tlsdecrypt.Meta, server netip.AddrPort, decrypted bool) {
	if m.Version == 0 && m.SNI == "" {
		return // no hello seen: nothing to tell of the service
	}
	k := tlsKey{sni: m.SNI}
	if k.sni == "" {
		k.server = server
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.m[k]
	if s == nil {
		if len(t.m) >= maxTLSServices {
			t.dropped++
			return
		}
		if t.m == nil {
			t.m = map[tlsKey]*TLSService{}
		}
		s = &TLSService{SNI: m.SNI, Server: server}
		t.m[k] = s
	}
	s.Conns++
	if decrypted {
		s.Decrypted++
	}
	var alpn []string
	if m.ALPN != "" {
		alpn = []string{m.ALPN}
	}
	s.add(alpn, []uint16{m.Version})
}

// add notes protocols and versions not listed yet, up to maxTLSValues.
func (s *TLSService) add(alpn []string, versions []uint16) {
	for _, p := range alpn {
		if len(s.ALPN) < maxTLSValues && !slices.Contains(s.ALPN, p) {
			s.ALPN = append(s.ALPN, p)
		}
	}
	for _, v := range versions {
		if v != 0 && len(s.Versions) < maxTLSValues && !slices.Contains(s.Versions, v) {
			s.Versions = append(s.Versions, v)
		}
	}
}

// mergeTLS adds the services of tables into one list, sorted by name then
// server address.
func mergeTLS(tables []*tlsTable) ([]TLSService, uint64) {
	all := map[tlsKey]*TLSService{}
	var dropped uint64
	for _, t := range tables {
		t.mu.Lock()
		dropped += t.dropped
		for k, s := range t.m {
			a := all[k]
			if a == nil {
				c := *s
				c.ALPN, c.Versions = append([]string(nil), s.ALPN...), append([]uint16(nil), s.Versions...)
				all[k] = &c
				continue
			}
			a.Conns += s.Conns
			a.Decrypted += s.Decrypted
			a.add(s.ALPN, s.Versions)
		}
		t.mu.Unlock()
	}
	out := make([]TLSService, 0, len(all))
	for _, s := range all {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].SNI != out[j].SNI {
			return out[i].SNI < out[j].SNI
		}
		return out[i].Server.String() < out[j].Server.String()
	})
	return out, dropped
}

package reassembly

import (
	"time"

	"github.com/specter-dev/specter/reassembly/http1"
	"github.com/specter-dev/specter/reassembly/http2"
)

// engine takes over the bytes of a connection once its protocol is known
// (HTTP/2 by preface/SETTINGS or after an h2c Upgrade; TLS by its record header).
type engine interface {
	feed(dir int, data []byte, ts time.Time)
	gap(dir int, lost int, ts time.Time)
	close(ts time.Time)
}

// maxHead caps the first bytes of each direction that a connection keeps
// until its protocol is known, so that an engine started late still gets
// every byte, and so that a capture starting mid-connection can be
// recognized as HTTP/2 by its frame headers (http2.Sniff). Past it, or
// once the connection is known to carry HTTP/1, the head is dropped; an
// engine started after that gets the bytes it missed as a gap.
const maxHead = 4 << 10

// keepHead records data, fed to direction h before any engine, while the
// connection's protocol is undecided.
func (h *half) keepHead(data []byte) {
	if h.headDone {
		return
	}
	if h.c.proto == http1.ProtoHTTP1 || h.c.proto == http1.ProtoTunnel || len(h.head)+len(data) > maxHead {
		h.head, h.headDone, h.headGap = nil, true, true
		return
	}
	h.head = append(h.head, data...)
}

// startEngine hands the connection to e: the http1 parsers stop and, when
// heads is set, each direction's bytes so far (its head) are fed to e,
// after a gap when some were not kept. From now on conn forwards
// everything to e. Without heads (an h2c upgrade) e starts with the bytes
// after those the parsers took.
func (c *conn) startEngine(e engine, ts time.Time, heads bool) {
	c.eng = e
	for i := range c.half {
		h := &c.half[i]
		h.parser.Tunnel()
		if heads {
			if h.headGap {
				e.gap(i, -1, ts)
			}
			if len(h.head) > 0 {
				e.feed(i, h.head, ts)
			}
		}
		h.head, h.headDone = nil, true
	}
}

// detect looks, after a Feed to direction h's parser, for a protocol an
// engine parses: the parser saw the HTTP/2 preface or a SETTINGS frame at
// the stream's start, or the direction's first bytes are a chain of
// HTTP/2 frame headers (a capture that began mid-connection).
func (c *conn) detect(h *half, ts time.Time) {
	if c.eng != nil || h.headDone {
		return
	}
	if h.parser.Protocol() == http1.ProtoHTTP2 || c.proto != http1.ProtoHTTP1 && http2.Sniff(h.head) {
		c.proto = http1.ProtoHTTP2
		c.startEngine(newH2Engine(c, nil), ts, true)
		return
	}
	if h.parser.Protocol() == http1.ProtoTLS {
		c.proto = http1.ProtoTLS
		c.startEngine(newTLSEngine(c), ts, true)
	}
}

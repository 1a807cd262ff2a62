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

// budgeted is an engine that holds memory worth counting under
// Config.MaxBufferedBytes: buffered says about how much, shed gives it
// back (delivering what it holds as incomplete) without losing its place
// in the streams.
type budgeted interface {
	buffered() int
	shed(ts time.Time)
}

// maxHead caps the first bytes of each direction that a connection keeps
// until its protocol is known, so that an engine started by the other
// direction still gets every byte (a server's SETTINGS sent before the
// client's preface), and so that a capture starting mid-connection can be
// recognized as HTTP/2 by its frame headers (http2.Sniff needs one header
// and a little more). Past it, or once the connection is known to carry
// HTTP/1, the head is dropped; an engine started after that gets the
// bytes it missed as a gap. It is counted under MaxBufferedBytes: 1 KiB a
// direction keeps 16384 undecided connections within 32 MiB.
const maxHead = 1 << 10

// maxProbe bounds the bytes of a direction searched for HTTP/2 frame
// headers before its protocol is known, as http1 bounds its search for a
// message: past it the connection is not taken for HTTP/2 by its frames.
const maxProbe = 64 << 10

// keepHead records data, fed to direction h before any engine, while the
// connection's protocol is undecided. A Feed is judged (detect) before it
// is kept, so a segment longer than maxHead still counts; past maxHead the
// head starts afresh at the next Feed, flagged as missing what came
// before.
func (h *half) keepHead(data []byte) {
	if h.headDone {
		return
	}
	h.probed += len(data)
	switch {
	case h.c.proto == http1.ProtoHTTP1 || h.c.proto == http1.ProtoTunnel || h.probed > maxProbe:
		h.head, h.headDone, h.headGap = nil, true, true
	case len(h.head)+len(data) > maxHead:
		h.head, h.headGap = nil, true
	default:
		h.head = append(h.head, data...)
	}
}

// startEngine hands the connection to e: the http1 parsers stop and, when
// heads is set, each direction's bytes so far (its head) are fed to e,
// after a gap when some were not kept, then data, the bytes of cur's Feed
// under way, if any. From now on conn forwards everything to e. Without
// heads (an h2c upgrade) e starts with the bytes after those the parsers
// took.
func (c *conn) startEngine(e engine, ts time.Time, heads bool, cur *half, data []byte) {
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
			if h == cur && len(data) > 0 {
				e.feed(i, data, ts)
			}
		}
		h.head, h.headDone = nil, true
	}
}

// detect looks, after a Feed of data to direction h's parser, for a
// protocol an engine parses: the parser saw the HTTP/2 preface or a
// SETTINGS frame at the stream's start, or the direction's first bytes are
// a chain of HTTP/2 frame headers (a capture that began mid-connection).
// It reports whether it started an engine (which then got data).
func (c *conn) detect(h *half, data []byte, ts time.Time) bool {
	if c.eng != nil || h.headDone {
		return false
	}
	if h.parser.Protocol() == http1.ProtoHTTP2 || c.proto != http1.ProtoHTTP1 && sniff(h.head, data) {
		c.proto = http1.ProtoHTTP2
		c.startEngine(newH2Engine(c, nil), ts, true, h, data)
		return true
	}
	if h.parser.Protocol() == http1.ProtoTLS {
		c.proto = http1.ProtoTLS
		c.startEngine(newTLSEngine(c, h, data), ts, true, h, data)
		return true
	}
	return false
}

// sniff runs http2.Sniff on head followed by data and, when the head did
// not start on a frame, on data alone: senders start frames on segment
// boundaries far more often than chance would, so a capture that began in
// the middle of a frame is recognized at the next segment that starts one.
func sniff(head, data []byte) bool {
	if len(head) == 0 {
		return http2.Sniff(data)
	}
	return http2.Sniff(append(head[:len(head):len(head)], data...)) || http2.Sniff(data)
}

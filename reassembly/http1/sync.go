package http1

import (
	"bytes"
	"time"

	"github.com/specter-dev/specter/reassembly/message"
)

type verdict uint8

const (
	vReject   verdict = iota // not a message start
	vNeedMore                // cannot tell yet
	vAccept                  // a valid start line of the parser's role
	vTLS                     // a TLS record header at stream start
	vHTTP2                   // an HTTP/2 preface or SETTINGS frame at stream start
)

const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// sync looks for the start of a message: a request or status line (as the
// role allows) at the start of a line, validated whole before the parser
// commits to it. Only line starts are examined, found with bytes.IndexByte,
// and most are rejected from their first bytes, so this is O(n).
func (p *Parser) sync(data []byte, ts time.Time) int {
	if len(p.buf) > 0 {
		return p.syncPending(data, ts)
	}
	i := 0
	for i < len(data) {
		if !p.lineStart {
			j := bytes.IndexByte(data[i:], '\n')
			end := len(data)
			if j >= 0 {
				end = i + j + 1
			}
			if k := p.midLine(data[i:end], data[i:]); k >= 0 {
				p.skip(int64(k))
				p.startMessage(ts)
				return i + k
			}
			if j < 0 {
				p.skip(int64(len(data) - i))
				return len(data)
			}
			p.skip(int64(j + 1))
			i += j + 1
			p.lineStart = true
			continue
		}
		c := data[i:]
		if p.expectMsg && (c[0] == '\r' || c[0] == '\n') {
			// Empty lines between messages are tolerated (RFC 9112 2.2).
			i++
			continue
		}
		v := p.candidate(c, 0)
		switch v {
		case vAccept:
			p.startMessage(ts)
			return i
		case vNeedMore:
			if len(c) <= p.maxCandidate() {
				p.buf = append(p.buf[:0], c...)
				p.bufTS = ts
				return len(data)
			}
			p.stats.LongStartLines++
		case vTLS:
			p.stop(ProtoTLS)
			return len(data)
		case vHTTP2:
			p.stop(ProtoHTTP2)
			return len(data)
		}
		if p.rejected() {
			return len(data)
		}
		p.lineStart = false
	}
	return len(data)
}

// midLine finds a message start that does not begin a line: a response
// or request glued to the bytes before it, as after a body that does not
// end in a newline whose start was lost, or after a SOCKS reply. line is
// the rest of the current line, rest everything from there on. Only a
// start line complete within rest counts. It returns the offset of the
// start, or -1.
func (p *Parser) midLine(line, rest []byte) int {
	if p.role == roleUnknown {
		// Until the stream has shown which way it goes, a request line
		// quoted in a body must not decide it: line starts only.
		return -1
	}
	for from := 1; from < len(line); {
		k := bytes.Index(line[from:], []byte("HTTP/1."))
		if k < 0 {
			return -1
		}
		k += from
		from = k + 1
		start := k // a status line starts at HTTP/1.
		if p.role != roleResponse && k > 0 && line[k-1] == ' ' {
			// A request line ends with " HTTP/1.x": back up over the target
			// and the method.
			t := bytes.LastIndexByte(line[:k-1], ' ')
			if t <= 0 {
				continue
			}
			m := t
			for m > 0 && message.IsTokenChar(line[m-1]) && t-m < maxMethod {
				m--
			}
			start = m + knownMethodSuffix(line[m:t])
			if start == t {
				continue
			}
		} else if p.role == roleRequest {
			continue
		}
		if start == 0 || !bytes.Contains(rest[start:], []byte{'\n'}) {
			continue
		}
		if p.candidate(rest[start:], 0) == vAccept {
			return start
		}
	}
	return -1
}

// knownMethodSuffix returns where a well-known method starts at the end of
// tok, or 0: a method glued to the bytes before it ("}GET" is found by
// the token rules, "xGET" only thanks to this).
func knownMethodSuffix(tok []byte) int {
	for _, m := range [...]string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"} {
		if len(tok) > len(m) && string(tok[len(tok)-len(m):]) == m {
			return len(tok) - len(m)
		}
	}
	return 0
}

// rejected handles a candidate that is not a message start; it reports
// whether the parser stopped.
func (p *Parser) rejected() bool {
	p.streamStart = false
	if p.expectMsg {
		p.expectMsg = false
		if p.afterCONNECT {
			// The client sends the tunnelled protocol right after its
			// CONNECT, possibly before we saw the server's 2xx.
			p.stop(ProtoTunnel)
			return true
		}
		p.stats.ParseErrors++
		p.lastErr = errAt(p.off, ErrStartLine)
		p.syncCounted = false // the skip that follows counts the resync
	}
	return false
}

// syncPending continues a candidate start line that began in an earlier
// Feed and is held in p.buf.
func (p *Parser) syncPending(data []byte, ts time.Time) int {
	old := len(p.buf)
	take := len(data)
	if room := p.maxCandidate() + 1 - old; take > room {
		take = room
	}
	p.buf = append(p.buf, data[:take]...)
	// The held bytes have no LF (or they would have been judged already):
	// search only the new ones, so that a long line arriving a byte at a
	// time costs O(n), not O(n^2).
	v := p.candidate(p.buf, max(old-1, 0))
	if v == vNeedMore && len(p.buf) > p.maxCandidate() {
		p.stats.LongStartLines++
		v = vReject
	}
	switch v {
	case vNeedMore:
		return take
	case vAccept:
		// The head state takes it from here, with the start of the
		// message already in p.buf.
		p.buf = p.buf[:old]
		p.startMessage(p.bufTS)
		return 0
	case vTLS:
		p.stop(ProtoTLS)
		return take
	case vHTTP2:
		p.stop(ProtoHTTP2)
		return take
	}
	// Rescan what was held, from its first byte on (not a line start any
	// more), then go on with data.
	held := append([]byte(nil), p.buf[:old]...)
	p.buf = p.buf[:0]
	if p.rejected() {
		return take
	}
	p.lineStart = false
	atFeed := p.atFeed
	p.feed(held, p.bufTS)
	p.off -= int64(len(held)) // feed counted them; they were counted before
	if atFeed && p.st == stSync && len(p.buf) == 0 {
		p.lineStart = true // data starts a Feed: a candidate too
	}
	return 0
}

func (p *Parser) maxCandidate() int {
	if p.cfg.MaxHeaderBytes < maxCandidate {
		return p.cfg.MaxHeaderBytes
	}
	return maxCandidate
}

// startMessage commits to a message whose start line begins at the next
// byte (or in p.buf).
func (p *Parser) startMessage(ts time.Time) {
	p.msgInSync = p.expectMsg || p.streamStart
	p.st = stHead
	p.streamStart = false
	p.expectMsg = false
	p.start = ts
	p.scan = 0
}

// candidate judges whether c starts with a message start line. The line's
// LF is searched for from offset lf on.
func (p *Parser) candidate(c []byte, lf int) verdict {
	if p.streamStart {
		if v := detectOther(c); v != vReject {
			return v
		}
	}
	var ok, more bool
	if p.role != roleResponse {
		ok, more = requestPrefix(c)
	}
	if !ok && !more && p.role != roleRequest {
		ok, more = statusPrefix(c)
	}
	if !ok {
		if more {
			return vNeedMore
		}
		return vReject
	}
	k := bytes.IndexByte(c[lf:], '\n')
	if k < 0 {
		return vNeedMore
	}
	k += lf
	ln := trimCR(c[:k])
	if p.role != roleResponse {
		if m, t, ok := parseRequestLine(ln); ok {
			p.sl = startLine{kind: roleRequest, m: m, t: t}
			return vAccept
		}
	}
	if p.role != roleRequest {
		if code, ok := parseStatusLine(ln); ok {
			p.sl = startLine{kind: roleResponse, code: code}
			return vAccept
		}
	}
	return vReject
}

// detectOther recognizes TLS and HTTP/2 at the very start of a stream.
func detectOther(c []byte) verdict {
	switch c[0] {
	case 0x14, 0x15, 0x16, 0x17: // TLS content types
		if len(c) < 3 {
			return vNeedMore
		}
		if c[1] == 0x03 && c[2] <= 0x04 {
			return vTLS
		}
	case 'P':
		n := min(len(c), len(h2Preface))
		if string(c[:n]) == h2Preface[:n] {
			if n < 16 { // "PRI * HTTP/2.0\r\n" settles it
				return vNeedMore
			}
			return vHTTP2
		}
	case 0x00:
		// An HTTP/2 frame header: 24-bit length, type, flags, stream id.
		// The server's preface is a SETTINGS frame (type 4) on stream 0,
		// its payload a multiple of 6 bytes (0 for an ACK).
		if len(c) < 9 {
			return vNeedMore
		}
		length := int(c[1])<<8 | int(c[2])
		if c[3] == 0x4 && c[4]&^1 == 0 && c[5]&0x7f == 0 && c[6] == 0 && c[7] == 0 && c[8] == 0 &&
			length%6 == 0 && (c[4] == 0 || length == 0) {
			return vHTTP2
		}
	}
	return vReject
}

// requestPrefix reports whether c can start a request line: a method token
// followed by a space. more: c is a proper prefix of one.
func requestPrefix(c []byte) (ok, more bool) {
	for i, b := range c {
		if b == ' ' {
			return i > 0, false
		}
		if !message.IsTokenChar(b) || i >= maxMethod {
			return false, false
		}
	}
	return false, true
}

// statusPrefix reports whether c can start a status line.
func statusPrefix(c []byte) (ok, more bool) {
	const pfx = "HTTP/1."
	n := min(len(c), len(pfx))
	if string(c[:n]) != pfx[:n] {
		return false, false
	}
	return n == len(pfx), n < len(pfx)
}

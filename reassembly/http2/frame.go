package http2

import "bytes"

// Preface is the client connection preface (RFC 9113 §3.4).
const Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

const frameHeaderLen = 9

// Frame types (RFC 9113 §6).
const (
	frameData         = 0x0
	frameHeaders      = 0x1
	framePriority     = 0x2
	frameRSTStream    = 0x3
	frameSettings     = 0x4
	framePushPromise  = 0x5
	framePing         = 0x6
	frameGoAway       = 0x7
	frameWindowUpdate = 0x8
	frameContinuation = 0x9
)

// Frame flags.
const (
	flagEndStream  = 0x1
	flagAck        = 0x1
	flagEndHeaders = 0x4
	flagPadded     = 0x8
	flagPriority   = 0x20
)

// defaultMaxFrameSize is SETTINGS_MAX_FRAME_SIZE's initial value; larger
// frames are legal only after a SETTINGS raised it.
const defaultMaxFrameSize = 1 << 14

type frameHeader struct {
	length uint32
	typ    uint8
	flags  uint8
	stream uint32
}

func parseFrameHeader(b []byte) frameHeader {
	return frameHeader{
		length: uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]),
		typ:    b[3],
		flags:  b[4],
		stream: (uint32(b[5])<<24 | uint32(b[6])<<16 | uint32(b[7])<<8 | uint32(b[8])) & 0x7fffffff,
	}
}

// allowedFlags are the flags each known type defines; a frame header with
// others set is implausible while resynchronizing (senders set none).
var allowedFlags = [...]uint8{
	frameData:         flagEndStream | flagPadded,
	frameHeaders:      flagEndStream | flagEndHeaders | flagPadded | flagPriority,
	framePriority:     0,
	frameRSTStream:    0,
	frameSettings:     flagAck,
	framePushPromise:  flagEndHeaders | flagPadded,
	framePing:         flagAck,
	frameGoAway:       0,
	frameWindowUpdate: 0,
	frameContinuation: flagEndHeaders,
}

// plausible reports whether b (at least 9 bytes) looks like the header of a
// frame a real sender would send first after a point where framing was
// lost. It is strict: an unknown type, undefined flags, the reserved bit,
// a length no type allows or the wrong stream-id zero-ness all reject.
// CONTINUATION is rejected: it cannot start anything.
func plausible(b []byte, maxFrame uint32) bool {
	if b[5]&0x80 != 0 {
		return false
	}
	h := parseFrameHeader(b)
	if h.typ >= frameContinuation || h.flags&^allowedFlags[h.typ] != 0 || h.length > maxFrame {
		return false
	}
	zero := h.stream == 0
	switch h.typ {
	case frameSettings:
		return zero && h.length%6 == 0 && (h.flags&flagAck == 0 || h.length == 0)
	case framePing:
		return zero && h.length == 8
	case frameGoAway:
		return zero && h.length >= 8
	case frameWindowUpdate:
		return h.length == 4 // on stream 0 or a stream
	case frameRSTStream:
		return !zero && h.length == 4
	case framePriority:
		return !zero && h.length == 5
	case frameHeaders:
		return !zero && h.length > 0
	case framePushPromise:
		return !zero && h.length >= 4
	default: // DATA
		return !zero
	}
}

// Sniff reports whether b, the first bytes of one direction of a TCP
// connection, look like HTTP/2: the client preface (or a prefix of it, when
// b is shorter), or a chain of plausible frame headers that ends exactly at
// the end of b or at a frame it does not hold whole. The port plays no role.
// It is for connections captured mid-way; it looks at no more than a few
// frames.
func Sniff(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	if n := min(len(b), len(Preface)); bytes.Equal(b[:n], []byte(Preface[:n])) {
		return n >= 4 // "PRI " at least
	}
	frames := 0
	for len(b) >= frameHeaderLen && frames < 8 {
		if frames == 0 && !plausible(b, defaultMaxFrameSize) {
			return false
		}
		h := parseFrameHeader(b)
		if frames > 0 && h.typ != frameContinuation && !plausible(b, defaultMaxFrameSize) {
			return false
		}
		frames++
		n := frameHeaderLen + int(h.length)
		if n > len(b) {
			return true
		}
		b = b[n:]
	}
	return frames > 0 && len(b) == 0 || frames >= 8
}

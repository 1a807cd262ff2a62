// Package http1 parses HTTP/1.0 and HTTP/1.1 messages incrementally from one
// direction of a reassembled TCP stream, the way a passive observer sees them:
// bytes arrive in pieces, some may be lost, the capture may start in the
// middle of a message, and nothing may block or panic whatever the bytes are.
//
// A Parser is a state machine driven by Feed, Gap and Close; it never reads
// or blocks, and it delivers messages to a Handler as they complete. Whether
// a direction carries requests or responses is decided from the bytes.
// Heads are parsed in place when a Feed holds them whole and gathered in a
// bounded buffer otherwise; bodies are copied once, up to Config.MaxBody.
// When framing is lost (a parse error, a gap it cannot account for, a
// capture starting mid-message) the parser resynchronizes: it examines only
// line starts and Feed starts, rejects most from their first bytes, and
// commits to a candidate only once its whole start line is valid. A
// message whose own framing is invalid (Content-Length, Transfer-Encoding,
// header section, chunks) is still delivered, as far as it can be, flagged
// message.FlagBadFraming with its Anomalies: a caller that pairs messages by
// position must know that what the parser finds after it may not be the
// next message.
// Messages are delivered as package message's Request and Response, which
// hold HTTP semantics only; what is HTTP/1 framing (chunked coding,
// Content-Length, the Anomaly strings) is this package's.
// Content codings are undone by package message when a body is first read,
// under Config.MaxDecoded (see message.Decoding).
package http1

import "github.com/specter-dev/specter/reassembly/message"

// Anomalies name what was wrong with a message's framing or codings, in
// the Anomalies of message.Request and message.Response. They are stable strings, meant
// to be reported (and matched) as they are.
const (
	// AnomalyInvalidContentLength: a Content-Length that is not a decimal
	// number (negative, empty, not digits) or too large to be real (more
	// than 18 digits). Framing error (message.FlagBadFraming).
	AnomalyInvalidContentLength = "invalid-content-length"
	// AnomalyConflictingContentLength: Content-Length fields or list
	// elements with different values. Framing error.
	AnomalyConflictingContentLength = "conflicting-content-length"
	// AnomalyContentLengthWithTransferEncoding: both Content-Length and
	// Transfer-Encoding, the request smuggling shape. Transfer-Encoding
	// frames the message (RFC 9112 section 6.3 rule 3); it is not a framing
	// error by itself.
	AnomalyContentLengthWithTransferEncoding = "content-length-with-transfer-encoding"
	// AnomalyTransferEncodingNotChunked: a request whose Transfer-Encoding
	// does not end in chunked (or repeats it). Framing error. (A response
	// like that runs to the close, as RFC 9112 says, and is not flagged.)
	AnomalyTransferEncodingNotChunked = "transfer-encoding-not-chunked-final"
	// AnomalyTransferEncodingHTTP10: Transfer-Encoding in an HTTP/1.0
	// message, whose framing RFC 9112 section 6.1 says to treat as faulty.
	// Framing error.
	AnomalyTransferEncodingHTTP10 = "transfer-encoding-in-http/1.0"
	// AnomalyMalformedHeader: a header section with an invalid field line
	// or control bytes, in a message that began where the previous one
	// ended. Framing error: whatever framed its body is not known.
	AnomalyMalformedHeader = "malformed-header-section"
	// AnomalyTooManyFields: a header section of more than 256 fields.
	// Framing error.
	AnomalyTooManyFields = "too-many-header-fields"
	// AnomalyHeaderTooLarge: a header section past MaxHeaderBytes. Framing
	// error.
	AnomalyHeaderTooLarge = "header-section-too-large"
	// AnomalyMalformedChunk: a chunked body with an invalid chunk-size
	// line, one past 4 KiB or chunk data not followed by CRLF. Framing
	// error: the message is delivered as far as it went (message.FlagIncomplete).
	AnomalyMalformedChunk = "malformed-chunk"
	// AnomalyTooManyCodings: more than MaxCodings codings (message.FlagCodingsCapped).
	AnomalyTooManyCodings = "too-many-codings"
)

// Protocol is what a stream turned out to carry.
type Protocol uint8

// Protocols a stream can be recognized as.
const (
	ProtoUnknown Protocol = iota // nothing recognizable yet
	ProtoHTTP1
	ProtoHTTP2  // connection preface or an HTTP/2 SETTINGS frame first
	ProtoTLS    // a TLS record header first
	ProtoTunnel // after a 101 Switching Protocols or a CONNECT 2xx: not HTTP any more
	ProtoOther  // bytes that are none of the above
)

var protoNames = [...]string{"unknown", "http/1", "http/2", "tls", "tunnel", "other"}

func (p Protocol) String() string {
	if int(p) < len(protoNames) {
		return protoNames[p]
	}
	return "invalid"
}

// Config bounds what the parser keeps. The zero value is not useful; start
// from DefaultConfig().
type Config struct {
	// MaxBody caps the body kept per message (after decoding). Longer bodies
	// are cut and flagged message.FlagBodyTruncated; the rest is counted, not kept.
	// The encoded body is kept up to MaxBody too, so a compressed body cut
	// there decodes as far as its kept part goes.
	MaxBody int
	// MaxDecoded caps how many bytes content decoding may produce; past it
	// decoding stops and the message is flagged message.FlagBombCut.
	MaxDecoded int
	// MaxHeaderBytes caps the start line plus header section. A longer one is
	// a parse error and the parser resynchronizes.
	MaxHeaderBytes int
	// Decode turns Content-Encoding decoding (gzip, deflate, br, zstd) on.
	Decode bool
	// Decoding makes the bodies, decoded when first read, and counts what
	// decoding finds; one may serve many parsers. Nil: the parser makes
	// its own from MaxBody and MaxDecoded.
	Decoding *message.Decoding
}

// DefaultConfig returns what Specter uses unless told otherwise.
func DefaultConfig() Config {
	return Config{
		MaxBody:        256 << 10,
		MaxDecoded:     1 << 20,
		MaxHeaderBytes: 64 << 10,
		Decode:         true,
	}
}

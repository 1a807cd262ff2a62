// Package message holds HTTP messages as Specter sees them, whatever carried
// them: the semantics of RFC 9110 (method, scheme, authority, target,
// status, header and trailer fields, body), not the framing of one
// protocol. reassembly/http1 produces them from HTTP/1.x streams; HTTP/2
// produces the same types, with Proto "HTTP/2". Everything above
// reassembly reads these types and never a protocol's own.
//
// A message is built once by its parser and read only after that: several
// sinks may read one exchange at the same time. Its body is decoded
// (Content-Encoding) when it is first read, once (see Body).
package message

import (
	"fmt"
	"net/http"
	"time"
)

// Flags describe what happened to a message on its way through the parser
// that produced it.
type Flags uint16

const (
	// FlagBodyTruncated: the body was longer than the parser's MaxBody. In
	// a message's Flags: its bytes on the wire were cut there; in
	// Body.Flags: decoding produced more than MaxBody bytes, of which Body
	// holds the first MaxBody.
	FlagBodyTruncated Flags = 1 << iota
	// FlagGap: bytes of this message were lost in capture.
	FlagGap
	// FlagDecodeError: the Content-Encoding could not be decoded; Body
	// holds the raw (encoded) bytes. Set in Body.Flags only.
	FlagDecodeError
	// FlagBombCut: decoding stopped at MaxDecoded bytes: the body expands
	// further than we are willing to hold (a decompression bomb or just a
	// large document). Set in Body.Flags only.
	FlagBombCut
	// FlagIncomplete: the stream ended before the message did.
	FlagIncomplete
	// FlagChunked: the body was sent with HTTP/1.1 chunked transfer coding.
	FlagChunked
	// FlagBadFraming: the message's framing was invalid, so its body
	// length is unknown; what the parser found after it in the same
	// direction is not known to be the next message (the parser's
	// Anomalies say why).
	FlagBadFraming
	// FlagCodingsCapped: the message listed more than MaxCodings content
	// and transfer codings; Body holds the encoded bytes, undecoded.
	FlagCodingsCapped
)

// Has reports whether all bits of g are set in f.
func (f Flags) Has(g Flags) bool { return f&g == g }

var flagNames = [...]string{"truncated", "gap", "decode-error", "bomb-cut", "incomplete", "chunked", "bad-framing", "codings-capped"}

// String lists the set flags, separated by '|'.
func (f Flags) String() string {
	var b []byte
	for i, n := range flagNames {
		if f&(1<<i) != 0 {
			if len(b) > 0 {
				b = append(b, '|')
			}
			b = append(b, n...)
		}
	}
	if f>>len(flagNames) != 0 {
		b = fmt.Appendf(b, "|%#x", uint16(f>>len(flagNames)<<len(flagNames)))
	}
	return string(b)
}

// Request is one HTTP request.
type Request struct {
	Method string
	// Scheme is the URI scheme, lower case, when the request says it (an
	// absolute-form target, HTTP/2's :scheme, a HAR URL), "" otherwise.
	Scheme string
	// Authority is the Host header, or the authority of an absolute-form
	// or authority-form target (HTTP/2's :authority).
	Authority string
	// Target is the request-target exactly as sent (origin-form,
	// absolute-form, authority-form or "*"; HTTP/2's :path).
	Target string
	// Path and RawQuery are split from Target; Path is not unescaped.
	Path, RawQuery string
	// Proto is the protocol version as written in HTTP/1 ("HTTP/1.1",
	// "HTTP/1.0") or "HTTP/2".
	Proto string
	// Header holds the header fields, names canonicalized; trailer fields
	// are merged into it too (as they are in Trailer).
	Header http.Header
	// RawHeader is the header section as field lines ("name: value",
	// CR LF or LF ended), names as sent and in wire order; Fields reads
	// it. For HTTP/1 it is the section as sent and shares its bytes with
	// Header's values.
	RawHeader string
	// Trailer holds the trailer fields (a chunked body's trailer section,
	// HTTP/2's trailing HEADERS), names canonicalized; nil when none.
	Trailer http.Header
	// Body is the body after transfer decoding; its content codings are
	// undone when it is read. Empty when the message had none.
	Body Body
	// WireSize is the body's size on the wire after transfer decoding and
	// before content decoding (what Content-Length would say).
	WireSize int64
	// Start and End are the capture times of the message's first and last
	// bytes.
	Start, End time.Time
	// Flags are what the parser knew when it delivered the message; what
	// decoding the body finds is in Body.Flags.
	Flags Flags
	// Anomalies lists what was wrong with the message's framing or
	// codings (stable strings named by the parser), nil when nothing was.
	Anomalies []string
}

// Fields returns the request's header fields as sent (see Fields).
func (r *Request) Fields() []Field { return Fields(r.RawHeader, r.Header) }

// Response is one HTTP response. Interim (1xx) responses are delivered as
// Responses too; the caller pairs them with the request they precede.
type Response struct {
	Proto      string // as in Request
	StatusCode int
	Reason     string // "" in HTTP/2
	Header     http.Header
	RawHeader  string      // as in Request
	Trailer    http.Header // as in Request
	Body       Body        // as in Request
	WireSize   int64
	Start, End time.Time
	Flags      Flags
	Anomalies  []string // as Request.Anomalies
}

// Fields returns the response's header fields as sent (see Fields).
func (r *Response) Fields() []Field { return Fields(r.RawHeader, r.Header) }

// AllFlags returns the request's Flags with what decoding its body found
// (Body.Flags), decoding it if that was not done yet.
func (r *Request) AllFlags() Flags { return r.Flags | r.Body.Flags() }

// AllFlags returns the response's Flags with what decoding its body found
// (Body.Flags), decoding it if that was not done yet.
func (r *Response) AllFlags() Flags { return r.Flags | r.Body.Flags() }

// Package http2 parses HTTP/2 connections (RFC 9113) incrementally from the
// two reassembled byte streams of a TCP connection, the way a passive
// observer sees them: bytes arrive in pieces, some may be lost, and the
// capture may start in the middle of the connection, after the preface and
// with HPACK dynamic tables that were filled before it.
//
// A Conn is a state machine driven by Feed, Gap and Close; it never reads or
// blocks, and delivers one Exchange per stream to a Handler when the stream
// ends (both END_STREAMs, RST_STREAM) or the connection closes. Frames are
// walked per direction; header blocks are decoded with
// golang.org/x/net/http2/hpack while the dynamic table is known, and with a
// recovering walker otherwise (see walker): fields that refer to entries
// from before the capture come out flagged unknown, never guessed.
// gRPC messages (RFC-less, grpc/PROTOCOL-HTTP2.md) are framed from DATA.
package http2

import "time"

// Flags describe what happened to a message or exchange.
type Flags uint16

const (
	// FlagUnknownFields: some header fields referred to HPACK entries from
	// before the capture; their unknown parts are empty and marked.
	FlagUnknownFields Flags = 1 << iota
	// FlagHPACKError: a header block could not be decoded (malformed, or
	// over MaxHeaderBlock / MaxHeaderListBytes); fields after the error
	// are missing.
	FlagHPACKError
	// FlagReset: the stream was reset (RST_STREAM).
	FlagReset
	// FlagBodyTruncated: the body was longer than MaxBody; Body holds its
	// first MaxBody bytes and BodySize counts all of it.
	FlagBodyTruncated
	// FlagIncomplete: the connection ended (or the capture did) before
	// the message's END_STREAM.
	FlagIncomplete
	// FlagGap: bytes of this message were lost in capture.
	FlagGap
	// FlagMidStream: the stream started before the capture: its first
	// frames (at least the request headers) were not seen.
	FlagMidStream
)

// Has reports whether all bits of g are set in f.
func (f Flags) Has(g Flags) bool { return f&g == g }

// Message is one direction of a stream: request or response.
type Message struct {
	// Pseudo-header fields (RFC 9113 §8.3), "" when absent or unknown.
	Method, Scheme, Authority, Path string
	Status                          int // 0 when absent or unknown
	// Header holds every field of the first header block, pseudo-header
	// fields included, in wire order with the names as sent. Trailer holds
	// the fields of a trailing header block.
	Header, Trailer []Field
	// Body holds the DATA payload (padding removed) up to MaxBody.
	Body []byte
	// BodySize counts every DATA payload byte of the message.
	BodySize int64
	// Start and End are the capture times of the first and last frame.
	Start, End time.Time
	Flags      Flags
	// Informational holds the status codes of 1xx header blocks before
	// the final response (the first 8).
	Informational []int

	headers bool // the first (non-1xx) header block was seen
	ended   bool // END_STREAM seen
	grpc    grpcFramer
}

// Get returns the value of the first known field named name (lower case).
func (m *Message) Get(name string) string {
	if f := findField(m.Header, name); f != nil {
		return f.Value
	}
	return ""
}

// Exchange is one HTTP/2 stream: a request and its response.
type Exchange struct {
	StreamID uint32
	// Request and Response are nil when no frame of them was seen.
	Request, Response *Message
	// Pushed: the request came in a PUSH_PROMISE (server push).
	Pushed bool
	// Upgraded: stream 1 of an h2c upgrade; the request was HTTP/1.1.
	Upgraded bool
	// ResetCode is the RST_STREAM error code when Flags has FlagReset.
	ResetCode uint32
	// Flags is the union of the messages' flags and the stream's own.
	Flags Flags
	// GRPC is set when the stream carries gRPC (see IsGRPC).
	GRPC *GRPC
}

// Config bounds what a Conn keeps. Start from DefaultConfig().
type Config struct {
	// MaxBody caps the DATA bytes kept per message.
	MaxBody int
	// MaxHeaderBlock caps one header block (HEADERS or PUSH_PROMISE plus
	// CONTINUATIONs). A longer block is dropped (counted, flagged): this
	// bounds CONTINUATION floods.
	MaxHeaderBlock int
	// MaxHeaderListBytes caps the decoded fields of one block (name +
	// value + 32 each, as SETTINGS_MAX_HEADER_LIST_SIZE counts): this
	// bounds HPACK bombs, small blocks that expand through the table.
	MaxHeaderListBytes int
	// MaxTableSize caps each HPACK dynamic table, whatever SETTINGS say.
	MaxTableSize uint32
	// MaxFrame caps the non-DATA frames that are buffered; longer ones
	// (huge SETTINGS, …) are skipped and counted. DATA is never buffered.
	MaxFrame int
	// MaxStreams caps the streams tracked at once per connection; opening
	// one more delivers the oldest first, flagged FlagIncomplete, and
	// counts it in Stats.StreamsEvicted.
	MaxStreams int
	// MaxGRPCMessages caps the gRPC messages kept per direction (all are
	// counted); MaxGRPCMessage caps the bytes kept of each.
	MaxGRPCMessages, MaxGRPCMessage int
}

// DefaultConfig returns what Specter uses unless told otherwise.
func DefaultConfig() Config {
	return Config{
		MaxBody:            256 << 10,
		MaxHeaderBlock:     64 << 10,
		MaxHeaderListBytes: 256 << 10,
		MaxTableSize:       64 << 10,
		MaxFrame:           64 << 10,
		MaxStreams:         1024,
		MaxGRPCMessages:    256,
		MaxGRPCMessage:     64 << 10,
	}
}

// withDefaults returns c with every unset (zero or negative) bound replaced
// by DefaultConfig's: a bound of zero would make the parser useless or,
// for MaxStreams, unable to hold a stream at all.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	for _, p := range []struct{ v, def *int }{
		{&c.MaxBody, &d.MaxBody}, {&c.MaxHeaderBlock, &d.MaxHeaderBlock}, {&c.MaxHeaderListBytes, &d.MaxHeaderListBytes},
		{&c.MaxFrame, &d.MaxFrame}, {&c.MaxStreams, &d.MaxStreams}, {&c.MaxGRPCMessages, &d.MaxGRPCMessages},
		{&c.MaxGRPCMessage, &d.MaxGRPCMessage},
	} {
		if *p.v <= 0 {
			*p.v = *p.def
		}
	}
	if c.MaxTableSize == 0 {
		c.MaxTableSize = d.MaxTableSize
	}
	return c
}

// Stats counts what a Conn did. All counters only grow.
type Stats struct {
	Frames int64 // frame headers accepted
	// FrameTypes counts Frames by type (DATA … CONTINUATION); the last
	// element counts extension and unknown types.
	FrameTypes     [frameContinuation + 2]int64
	Exchanges      int64 // exchanges delivered
	Desyncs        int64 // times framing was lost and the walker searched for a frame header
	SkippedBytes   int64 // bytes skipped while resynchronizing
	HPACKErrors    int64 // header blocks that failed to decode
	HPACKRecovered int64 // blocks decoded by the recovering walker after hpack failed
	UnknownFields  int64 // fields with parts from before the capture
	BlocksTooLarge int64 // header blocks over MaxHeaderBlock
	ListsTooLarge  int64 // header lists cut at MaxHeaderListBytes
	FramesTooLarge int64 // non-DATA frames over MaxFrame, skipped
	StreamsEvicted int64 // streams delivered early (FlagIncomplete) to make room under MaxStreams
	Resets         int64 // RST_STREAM frames
	GoAways        int64 // GOAWAY frames
	Gaps           int64 // Gap calls
	Truncated      int64 // messages flagged FlagBodyTruncated
}

// Handler receives the exchanges of a Conn. It is called synchronously from
// Feed, Gap, Close and Upgrade and must not call back into the Conn.
type Handler interface {
	Exchange(x *Exchange)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(x *Exchange)

// Exchange calls f(x).
func (f HandlerFunc) Exchange(x *Exchange) { f(x) }

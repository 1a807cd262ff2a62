// Package reassembly turns decoded TCP segments into HTTP exchanges: it
// reassembles TCP streams with gopacket's reassembly package, under explicit
// memory bounds, shards flows across workers, parses each direction with
// package http1 and pairs requests with responses. Exchanges hold package
// message's protocol-neutral Request and Response.
package reassembly

import (
	"net/netip"

	"github.com/specter-dev/specter/capture"
	"github.com/specter-dev/specter/reassembly/http2"
	"github.com/specter-dev/specter/reassembly/message"
)

// Flow identifies the connection an exchange travelled on. Client and Server
// are decided from the content (who sent the request), not from who sent the
// first packet, so captures that start mid-connection get them right.
type Flow struct {
	Client, Server netip.AddrPort
	Zone           capture.Zone
}

// Flags describe an exchange as a whole.
type Flags uint8

const (
	// FlagUnmatchedRequest: a request whose response was never seen.
	FlagUnmatchedRequest Flags = 1 << iota
	// FlagUnmatchedResponse: a response whose request was never seen (the
	// capture started late, or the request was lost).
	FlagUnmatchedResponse
	// FlagGap: bytes of the request or the response were lost in capture.
	FlagGap
	// FlagTruncated: the request or response body was cut at the cap on
	// the wire; AllFlags adds it for a body cut by decoding.
	FlagTruncated
	// FlagUnknownFields: HTTP/2 header fields referred to HPACK entries
	// from before the capture; they are left out of the headers (a
	// request whose :method or :path was one is left out whole).
	FlagUnknownFields
	// FlagPushed: an HTTP/2 server push: the request is the server's
	// PUSH_PROMISE, not one the client sent.
	FlagPushed
)

// Has reports whether all bits of g are set in f.
func (f Flags) Has(g Flags) bool { return f&g == g }

// Exchange is one HTTP request with its response. One of Request and
// Response may be nil, as the flags say.
type Exchange struct {
	Flow Flow
	// ConnID numbers connections in the order they were first seen by their
	// worker; it is unique within a run.
	ConnID uint64
	// Interim holds the status codes of interim (1xx) responses that came
	// before the final one, such as 100 Continue.
	Interim []int
	// Process is the process on this host that sent or served the
	// exchange, when the capture knows it (eBPF); nil otherwise. The
	// exchanges of one socket share it: it is read only.
	Process *Process
	// Proto is the protocol version the exchange used: the request's
	// Proto ("HTTP/1.1", "HTTP/2"), or the response's when there is no
	// request.
	Proto string
	// StreamID is the HTTP/2 stream the exchange travelled on; 0 for
	// HTTP/1, whose connections carry one exchange at a time.
	StreamID uint32
	// GRPC describes the gRPC call an HTTP/2 stream carried; nil unless it
	// carried one.
	GRPC     *http2.GRPC
	Request  *message.Request
	Response *message.Response
	// TLS is set when the exchange was decrypted from a TLS connection.
	TLS   *TLSInfo
	Flags Flags
	// Anomalies lists what is suspicious about the exchange's wire form:
	// the request's and the response's Anomalies (package http1's (invalid or
	// conflicting framing, Content-Length with Transfer-Encoding, too many
	// codings)), then AnomalyUnpairedAfterBadFraming when it applies. Nil
	// for a well-formed exchange. Read only: it may share the messages'.
	Anomalies []string
}

// AllFlags returns the exchange's Flags with FlagTruncated when decoding
// the request's or the response's body cut it at the cap: it decodes
// both bodies if that was not done yet.
func (x *Exchange) AllFlags() Flags {
	f := x.Flags
	if x.Request != nil && x.Request.Body.Flags().Has(message.FlagBodyTruncated) ||
		x.Response != nil && x.Response.Body.Flags().Has(message.FlagBodyTruncated) {
		f |= FlagTruncated
	}
	return f
}

// AnomalyUnpairedAfterBadFraming: the exchange holds a request or a
// response left unpaired because its connection lost the framing of a
// direction earlier (message.FlagBadFraming): after such a message, neither
// the messages found by resynchronizing nor the requests still waiting can
// be paired by position, and pairing them by guess could attach a response
// to the wrong request.
const AnomalyUnpairedAfterBadFraming = "unpaired-after-bad-framing"

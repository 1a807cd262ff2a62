package http2

import (
	"net/url"
	"strconv"
	"strings"
)

// StreamKind is a gRPC call's kind as observed: from how many messages each
// direction carried. A client-streaming call that sent one message looks
// unary; the kind says what the traffic showed, not what the .proto says.
type StreamKind uint8

// Kinds of gRPC calls.
const (
	Unary StreamKind = iota
	ClientStreaming
	ServerStreaming
	BidiStreaming
)

var kindNames = [...]string{"unary", "client_streaming", "server_streaming", "bidi_streaming"}

func (k StreamKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "invalid"
}

// GRPCMessage is one length-prefixed gRPC message (grpc PROTOCOL-HTTP2).
type GRPCMessage struct {
	Compressed bool   // the Compressed-Flag: Data is in the grpc-encoding
	Length     uint32 // the Message-Length prefix
	// Data holds the message bytes up to MaxGRPCMessage.
	Data []byte
	// Truncated: Data is shorter than Length (the cap, a gap, or the end
	// of the capture).
	Truncated bool
}

// GRPC describes the gRPC call a stream carried.
type GRPC struct {
	// Method is the :path ("/pkg.Service/Method"); "" when the path came
	// from an HPACK entry from before the capture. Service and Name split it.
	Method, Service, Name string
	Kind                  StreamKind
	// Status is grpc-status (-1: not seen); StatusMessage is grpc-message,
	// percent-decoded.
	Status        int
	StatusMessage string
	// RequestEncoding and ResponseEncoding are the grpc-encoding of each
	// direction ("" = identity): the coding of messages flagged Compressed.
	RequestEncoding, ResponseEncoding string
	// Requests and Responses are the messages kept per direction, at most
	// MaxGRPCMessages each; RequestCount and ResponseCount count all.
	Requests, Responses         []GRPCMessage
	RequestCount, ResponseCount int
	// FramingLost: bytes were lost inside a message, so counts may be low.
	FramingLost bool
}

// grpcFramer splits one direction's DATA bytes into gRPC messages, as they
// come. After a gap it waits for a DATA frame that starts with a plausible
// prefix: senders start messages on frame boundaries.
type grpcFramer struct {
	prefix  [5]byte
	have    int    // prefix bytes collected
	remain  uint32 // message bytes still to come
	cur     int    // index of the message being filled in msgs, -1 if not kept
	msgs    []GRPCMessage
	count   int
	lost    bool // framing lost: waiting for a frame start
	wasLost bool
	atFrame bool
	bad     bool // bytes that cannot be gRPC framing (flag byte > 1)
	kept    int  // bytes msgs keep, for Conn.Buffered
}

// grpcMessageSize is what a GRPCMessage costs besides its Data.
const grpcMessageSize = 48

func (g *grpcFramer) frameStart() { g.atFrame = true }

func (g *grpcFramer) gap() {
	if g.remain > 0 && g.cur >= 0 && g.cur < len(g.msgs) {
		g.msgs[g.cur].Truncated = true
	}
	g.lost, g.wasLost = true, true
	g.have, g.remain = 0, 0
}

func (g *grpcFramer) feed(p []byte, cfg Config) {
	if g.lost {
		if !g.atFrame || len(p) == 0 || p[0] > 1 {
			g.atFrame = false
			return
		}
		g.lost = false
	}
	g.atFrame = false
	for len(p) > 0 && !g.bad {
		if g.remain == 0 {
			n := copy(g.prefix[g.have:], p)
			g.have += n
			p = p[n:]
			if g.have < 5 {
				return
			}
			g.have = 0
			if g.prefix[0] > 1 {
				g.bad = true
				return
			}
			l := uint32(g.prefix[1])<<24 | uint32(g.prefix[2])<<16 | uint32(g.prefix[3])<<8 | uint32(g.prefix[4])
			g.count++
			g.cur = -1
			if len(g.msgs) < cfg.MaxGRPCMessages {
				g.msgs = append(g.msgs, GRPCMessage{Compressed: g.prefix[0] == 1, Length: l, Truncated: l > 0})
				g.cur = len(g.msgs) - 1
				g.kept += grpcMessageSize
			}
			g.remain = l
			if l == 0 {
				continue
			}
		}
		n := int(min(uint32(len(p)), g.remain))
		if g.cur >= 0 {
			m := &g.msgs[g.cur]
			if keep := cfg.MaxGRPCMessage - len(m.Data); keep > 0 {
				k := min(n, keep)
				m.Data = append(m.Data, p[:k]...)
				g.kept += k
			}
		}
		g.remain -= uint32(n)
		p = p[n:]
		if g.remain == 0 && g.cur >= 0 {
			m := &g.msgs[g.cur]
			m.Truncated = len(m.Data) < int(m.Length)
		}
	}
}

// aligned reports whether the bytes were whole gRPC messages (at least one).
func (g *grpcFramer) aligned() bool {
	return !g.bad && g.count > 0 && g.remain == 0 && g.have == 0
}

// IsGRPCPath reports whether p has the shape of a gRPC method path,
// "/service/method" with both parts non-empty.
func IsGRPCPath(p string) bool {
	if len(p) < 4 || p[0] != '/' {
		return false
	}
	i := strings.IndexByte(p[1:], '/')
	return i > 0 && i+2 < len(p) && !strings.ContainsAny(p[i+2:], "/?")
}

// grpcOf decides whether x is gRPC and describes it: a content-type of
// application/grpc (or +proto, +json…) on either message, a grpc-status
// field, or — when no content-type is known (absent, or an HPACK entry
// from before the capture) — a method-shaped (or unknown) path whose DATA
// frames exactly into length-prefixed messages.
func grpcOf(x *Exchange, cfg Config) *GRPC {
	rq, rs := x.Request, x.Response
	var path string
	if rq != nil {
		path = rq.Path
	}
	// noCT: neither message has a known content-type (absent, or an
	// HPACK entry from before the capture).
	yes, noCT := false, true
	for _, m := range []*Message{rq, rs} {
		if m == nil {
			continue
		}
		ct, found := contentType(m)
		if strings.HasPrefix(ct, "application/grpc") {
			yes = true
		}
		if found {
			noCT = false
		}
		if findField(m.Header, "grpc-status") != nil || findField(m.Trailer, "grpc-status") != nil {
			yes = true
		}
	}
	if !yes && noCT && (path == "" || IsGRPCPath(path)) {
		yes = rq != nil && rq.grpc.aligned() && (rs == nil || rs.BodySize == 0 || rs.grpc.aligned())
	}
	if !yes {
		return nil
	}
	g := &GRPC{Status: -1}
	if IsGRPCPath(path) {
		g.Method = path
		i := strings.LastIndexByte(path, '/')
		g.Service, g.Name = path[1:i], path[i+1:]
	}
	if rq != nil {
		g.Requests, g.RequestCount = rq.grpc.msgs, rq.grpc.count
		g.FramingLost = rq.grpc.wasLost
		g.RequestEncoding = rq.Get("grpc-encoding")
	}
	if rs != nil {
		g.Responses, g.ResponseCount = rs.grpc.msgs, rs.grpc.count
		g.FramingLost = g.FramingLost || rs.grpc.wasLost
		f := findField(rs.Trailer, "grpc-status")
		if f == nil {
			f = findField(rs.Header, "grpc-status") // trailers-only response
		}
		if f != nil {
			if n, err := strconv.Atoi(f.Value); err == nil {
				g.Status = n
			}
		}
		f = findField(rs.Trailer, "grpc-message")
		if f == nil {
			f = findField(rs.Header, "grpc-message")
		}
		if f != nil {
			g.StatusMessage = f.Value
			if m, err := url.PathUnescape(f.Value); err == nil {
				g.StatusMessage = m
			}
		}
		g.ResponseEncoding = rs.Get("grpc-encoding")
	}
	switch {
	case g.RequestCount > 1 && g.ResponseCount > 1:
		g.Kind = BidiStreaming
	case g.RequestCount > 1:
		g.Kind = ClientStreaming
	case g.ResponseCount > 1:
		g.Kind = ServerStreaming
	}
	return g
}

func contentType(m *Message) (string, bool) {
	if f := findField(m.Header, "content-type"); f != nil {
		return f.Value, true
	}
	return "", false
}

// findField returns the first field named name whose value is known.
func findField(fields []Field, name string) *Field {
	for i := range fields {
		if f := &fields[i]; f.Name == name && !f.ValueUnknown {
			return f
		}
	}
	return nil
}

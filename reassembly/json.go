package reassembly

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/specter-dev/specter/reassembly/message"
	"github.com/specter-dev/specter/reassembly/tlsdecrypt"
)

// exchangeJSON is the stable JSON form of an Exchange: one object per line
// in `specter exchanges --format jsonl`.
type exchangeJSON struct {
	Conn     uint64   `json:"conn"`
	Client   string   `json:"client"`
	Server   string   `json:"server"`
	VLAN     []uint16 `json:"vlan,omitempty"`
	Tunnel   string   `json:"tunnel,omitempty"`
	TunnelID uint32   `json:"tunnel_id,omitempty"`
	Flags    []string `json:"flags,omitempty"`
	// Anomalies: Exchange.Anomalies.
	Anomalies []string `json:"anomalies,omitempty"`
	Interim   []int    `json:"interim,omitempty"`
	Process   *Process `json:"process,omitempty"`
	// StreamID and GRPC: HTTP/2 only.
	StreamID uint32        `json:"stream_id,omitempty"`
	GRPC     *grpcJSON     `json:"grpc,omitempty"`
	TLS      *tlsJSON      `json:"tls,omitempty"` // decrypted from TLS
	Request  *requestJSON  `json:"request,omitempty"`
	Response *responseJSON `json:"response,omitempty"`
}

// grpcJSON summarizes Exchange.GRPC; the messages are in the bodies.
type grpcJSON struct {
	Method           string `json:"method"` // "" when :path was unknown
	Kind             string `json:"kind"`
	Status           int    `json:"status"` // -1: grpc-status not seen
	StatusMessage    string `json:"status_message,omitempty"`
	RequestMessages  int    `json:"request_messages"`
	ResponseMessages int    `json:"response_messages"`
	FramingLost      bool   `json:"framing_lost,omitempty"`
}

type messageJSON struct {
	Start      time.Time   `json:"start"`
	End        time.Time   `json:"end"`
	Proto      string      `json:"proto"`
	Header     []fieldJSON `json:"headers,omitempty"`
	Body       string      `json:"body,omitempty"`
	BodyBase64 []byte      `json:"body_base64,omitempty"`
	BodySize   int64       `json:"body_size"`
	Flags      []string    `json:"flags,omitempty"`
}

// fieldJSON is one header field: names as sent, fields in wire order.
type fieldJSON struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func fields(raw string, h http.Header) []fieldJSON {
	fs := message.Fields(raw, h)
	out := make([]fieldJSON, len(fs))
	for i, f := range fs {
		out[i] = fieldJSON(f)
	}
	return out
}

type requestJSON struct {
	Method string `json:"method"`
	Host   string `json:"host,omitempty"`
	Target string `json:"target"`
	Path   string `json:"path"`
	Query  string `json:"query,omitempty"`
	messageJSON
}

type responseJSON struct {
	Status int    `json:"status"`
	Reason string `json:"reason,omitempty"`
	messageJSON
}

var exchangeFlagNames = []struct {
	f    Flags
	name string
}{
	{FlagUnmatchedRequest, "unmatched_request"},
	{FlagUnmatchedResponse, "unmatched_response"},
	{FlagGap, "gap"},
	{FlagTruncated, "truncated"},
	{FlagUnknownFields, "unknown_fields"},
	{FlagPushed, "pushed"},
}

var messageFlagNames = []struct {
	f    message.Flags
	name string
}{
	{message.FlagBodyTruncated, "body_truncated"},
	{message.FlagGap, "gap"},
	{message.FlagDecodeError, "decode_error"},
	{message.FlagBombCut, "bomb_cut"},
	{message.FlagIncomplete, "incomplete"},
	{message.FlagChunked, "chunked"},
	{message.FlagBadFraming, "bad_framing"},
	{message.FlagCodingsCapped, "codings_capped"},
}

// Names returns the flags' names, in a fixed order.
func (f Flags) Names() []string {
	var out []string
	for _, n := range exchangeFlagNames {
		if f.Has(n.f) {
			out = append(out, n.name)
		}
	}
	return out
}

func messageFlags(f message.Flags) []string {
	var out []string
	for _, n := range messageFlagNames {
		if f.Has(n.f) {
			out = append(out, n.name)
		}
	}
	return out
}

func body(m *messageJSON, b []byte) {
	if utf8.Valid(b) {
		m.Body = string(b)
	} else {
		m.BodyBase64 = b
	}
}

// MarshalJSON encodes the exchange in Specter's JSON lines form. Headers are
// a list of {"name", "value"} fields with the names as sent, in wire order
// (see message.Fields). Bodies are text when they are valid UTF-8 and base64
// ("body_base64") otherwise.
func (x *Exchange) MarshalJSON() ([]byte, error) {
	j := exchangeJSON{
		Conn:      x.ConnID,
		Client:    x.Flow.Client.String(),
		Server:    x.Flow.Server.String(),
		Flags:     x.AllFlags().Names(),
		Anomalies: x.Anomalies,
		Interim:   x.Interim,
		Process:   x.Process,
		StreamID:  x.StreamID,
	}
	if g := x.GRPC; g != nil {
		j.GRPC = &grpcJSON{Method: g.Method, Kind: g.Kind.String(), Status: g.Status, StatusMessage: g.StatusMessage,
			RequestMessages: g.RequestCount, ResponseMessages: g.ResponseCount, FramingLost: g.FramingLost}
	}
	if t := x.TLS; t != nil {
		j.TLS = &tlsJSON{SNI: t.SNI, ALPN: t.ALPN, Version: tlsdecrypt.VersionName(t.Version), Suite: tlsdecrypt.SuiteName(t.Suite)}
	}
	if z := x.Flow.Zone; z.VLAN != 0 {
		j.VLAN = append(j.VLAN, z.VLAN)
		if z.InnerVLAN != 0 {
			j.VLAN = append(j.VLAN, z.InnerVLAN)
		}
	}
	j.Tunnel, j.TunnelID = x.Flow.Zone.Tunnel.String(), x.Flow.Zone.TunnelID
	if r := x.Request; r != nil {
		j.Request = &requestJSON{Method: r.Method, Host: r.Authority, Target: r.Target, Path: r.Path, Query: r.RawQuery,
			messageJSON: messageJSON{Start: r.Start, End: r.End, Proto: r.Proto, Header: fields(r.RawHeader, r.Header), BodySize: r.WireSize, Flags: messageFlags(r.AllFlags())}}
		body(&j.Request.messageJSON, r.Body.Bytes())
	}
	if r := x.Response; r != nil {
		j.Response = &responseJSON{Status: r.StatusCode, Reason: r.Reason,
			messageJSON: messageJSON{Start: r.Start, End: r.End, Proto: r.Proto, Header: fields(r.RawHeader, r.Header), BodySize: r.WireSize, Flags: messageFlags(r.AllFlags())}}
		body(&j.Response.messageJSON, r.Body.Bytes())
	}
	// Not HTML-escaped: redaction markers ("<redacted>") stay readable.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(j); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

package reassembly

import (
	"sync/atomic"

	"github.com/specter-dev/specter/reassembly/message"
	"github.com/specter-dev/specter/reassembly/tlsdecrypt"
)

// Stats counts what the reassembler did. All fields are totals over the run.
type Stats struct {
	Segments uint64 `json:"segments"` // TCP segments taken in
	Bytes    uint64 `json:"bytes"`    // TCP payload bytes taken in

	Connections     uint64 `json:"connections"`       // TCP connections seen
	ConnsHTTP1      uint64 `json:"conns_http1"`       // ... that carried HTTP/1
	ConnsHTTP2      uint64 `json:"conns_http2"`       // ... carrying HTTP/2 (preface, frames mid-connection, or h2c upgrade)
	ConnsTLS        uint64 `json:"conns_tls"`         // ... recognized as TLS (decrypted when keys are known: see TLS)
	ConnsTunnel     uint64 `json:"conns_tunnel"`      // ... upgraded (101) or CONNECTed after HTTP/1
	ConnsOther      uint64 `json:"conns_other"`       // ... carrying something else
	ConnsEmpty      uint64 `json:"conns_empty"`       // ... with no payload at all
	EvictedConns    uint64 `json:"evicted_conns"`     // closed early by MaxConnections
	HalfOpen        uint64 `json:"half_open"`         // flows that sent only SYNs (in Connections and ConnsEmpty too)
	HalfOpenEvicted uint64 `json:"half_open_evicted"` // ... forgotten early by MaxHalfOpen
	Shed            uint64 `json:"shed"`              // connections that dropped their HTTP state by MaxBufferedBytes

	Exchanges          uint64 `json:"exchanges"`           // exchanges emitted (all kinds)
	Requests           uint64 `json:"requests"`            // requests parsed
	Responses          uint64 `json:"responses"`           // final responses parsed
	Interim            uint64 `json:"interim_responses"`   // 1xx responses parsed
	UnmatchedRequests  uint64 `json:"unmatched_requests"`  // requests without a response
	UnmatchedResponses uint64 `json:"unmatched_responses"` // responses without a request
	PendingOverflow    uint64 `json:"pending_overflow"`    // requests given up by MaxPending

	Gaps         uint64 `json:"gaps"`          // holes in a TCP stream (lost segments)
	GapBytes     uint64 `json:"gap_bytes"`     // bytes in those holes
	GapsByBound  uint64 `json:"gaps_by_bound"` // holes forced by the page bounds, not by time
	ParseErrors  uint64 `json:"parse_errors"`  // HTTP parse errors (each followed by a resync)
	Resyncs      uint64 `json:"resyncs"`       // times a parser found its way back
	SkippedBytes uint64 `json:"skipped_bytes"` // bytes skipped while resynchronizing
	// Bodies are decoded when first read (see message.Body): BombsCut,
	// DecodeErrors, WindowTooLarge and the part of Truncated that
	// decoding cuts count the bodies read so far, not those no sink
	// asked for.
	BombsCut     uint64 `json:"bombs_cut"`      // bodies whose decoding hit the cap
	DecodeErrors uint64 `json:"decode_errors"`  // bodies whose Content-Encoding failed
	Truncated    uint64 `json:"truncated"`      // exchanges cut at the body cap on the wire, and bodies cut by decoding
	Decoded      uint64 `json:"bodies_decoded"` // bodies whose content codings were undone (or tried) when read

	BadFraming     uint64 `json:"bad_framing"`                // messages with invalid Content-Length/Transfer-Encoding (in ParseErrors too)
	SmugglingShape uint64 `json:"smuggling_shape"`            // messages with both Content-Length and Transfer-Encoding
	Unpaired       uint64 `json:"unpaired_after_bad_framing"` // messages left unpaired after bad framing (in Unmatched* too)
	Anomalous      uint64 `json:"anomalous_exchanges"`        // exchanges with Anomalies
	CodingsCapped  uint64 `json:"codings_capped"`             // bodies left encoded: more than message.MaxCodings codings

	// Bounds of the HTTP/1 parser hit (see http1.Stats).
	HeadersTooLarge   uint64 `json:"headers_too_large"`     // header or trailer sections past MaxHeaderBytes
	TooManyFields     uint64 `json:"too_many_fields"`       // header or trailer sections past 256 fields
	ChunkLinesTooLong uint64 `json:"chunk_lines_too_long"`  // chunk-size lines past 4 KiB
	LongStartLines    uint64 `json:"long_start_lines"`      // start lines past 16 KiB skipped while searching
	ProbeLimit        uint64 `json:"probe_limit"`           // directions given up as not HTTP/1 after 64 KiB without a message
	WindowTooLarge    uint64 `json:"zstd_window_too_large"` // zstd bodies with a window past 8 MiB, left encoded
	InterimDropped    uint64 `json:"interim_dropped"`       // 1xx statuses past 8 for one request, counted not kept

	// HTTP/2 (see http2.Stats). Its requests and responses are counted in
	// Requests and Responses too, its skipped bytes in SkippedBytes.
	H2Frames         uint64 `json:"h2_frames"`           // frame headers accepted
	H2Streams        uint64 `json:"h2_streams"`          // streams delivered
	H2Desyncs        uint64 `json:"h2_desyncs"`          // times framing was lost and frame headers searched for
	H2HPACKErrors    uint64 `json:"h2_hpack_errors"`     // header blocks that failed to decode
	H2HPACKRecovered uint64 `json:"h2_hpack_recovered"`  // ... decoded by the recovering walker instead
	H2UnknownFields  uint64 `json:"h2_unknown_fields"`   // fields referring to HPACK entries from before the capture
	H2Unnamed        uint64 `json:"h2_unnamed_requests"` // requests left out: :method or :path unknown
	H2BlocksTooLarge uint64 `json:"h2_blocks_too_large"` // header blocks or lists past their bound
	H2FramesTooLarge uint64 `json:"h2_frames_too_large"` // non-DATA frames past their bound, skipped
	H2StreamsEvicted uint64 `json:"h2_streams_evicted"`  // streams delivered early by HTTP2.MaxStreams
	H2Resets         uint64 `json:"h2_resets"`           // RST_STREAM frames

	// TLS connections (ConnsTLS) whose plaintext went to the HTTP/1
	// parsers or to the HTTP/2 engine, by ALPN; TLS, the Decryptor's
	// counters (connections seen, with keys, decrypted, failed by reason;
	// records); TLSServicesDropped, connections to server names past the
	// TLS services table's bound (4096 a worker), not listed there.
	TLSHTTP1           uint64           `json:"tls_http1"`
	TLSHTTP2           uint64           `json:"tls_http2"`
	TLS                tlsdecrypt.Stats `json:"tls"`
	TLSServicesDropped uint64           `json:"tls_services_dropped"`
}

// counters is the live, atomically updated form of Stats, one per worker.
type counters struct {
	segments, bytes                                      atomic.Uint64
	connections, http1, http2, tls, tunnel, other, empty atomic.Uint64
	evicted, shed                                        atomic.Uint64
	exchanges, requests, responses, interim              atomic.Uint64
	unmatchedReq, unmatchedResp, pendingOverflow         atomic.Uint64
	gaps, gapBytes, gapsByBound                          atomic.Uint64
	parseErrors, resyncs, skippedBytes                   atomic.Uint64
	truncated                                            atomic.Uint64
	badFraming, smugglingShape, unpaired, anomalous      atomic.Uint64
	codingsCapped, halfOpen, halfOpenEvicted             atomic.Uint64
	headersTooLarge, tooManyFields, chunkLinesTooLong    atomic.Uint64
	longStartLines, probeLimit                           atomic.Uint64
	interimDropped                                       atomic.Uint64
	h2Frames, h2Streams, h2Desyncs, h2HPACKErrors        atomic.Uint64
	h2HPACKRecovered, h2UnknownFields, h2Unnamed         atomic.Uint64
	h2BlocksTooLarge, h2FramesTooLarge, h2StreamsEvicted atomic.Uint64
	h2Resets                                             atomic.Uint64
	tlsH1, tlsH2                                         atomic.Uint64
}

func (c *counters) addTo(s *Stats) {
	s.Segments += c.segments.Load()
	s.Bytes += c.bytes.Load()
	s.Connections += c.connections.Load()
	s.ConnsHTTP1 += c.http1.Load()
	s.ConnsHTTP2 += c.http2.Load()
	s.ConnsTLS += c.tls.Load()
	s.ConnsTunnel += c.tunnel.Load()
	s.ConnsOther += c.other.Load()
	s.ConnsEmpty += c.empty.Load()
	s.EvictedConns += c.evicted.Load()
	s.Shed += c.shed.Load()
	s.Exchanges += c.exchanges.Load()
	s.Requests += c.requests.Load()
	s.Responses += c.responses.Load()
	s.Interim += c.interim.Load()
	s.UnmatchedRequests += c.unmatchedReq.Load()
	s.UnmatchedResponses += c.unmatchedResp.Load()
	s.PendingOverflow += c.pendingOverflow.Load()
	s.Gaps += c.gaps.Load()
	s.GapBytes += c.gapBytes.Load()
	s.GapsByBound += c.gapsByBound.Load()
	s.ParseErrors += c.parseErrors.Load()
	s.Resyncs += c.resyncs.Load()
	s.SkippedBytes += c.skippedBytes.Load()
	s.Truncated += c.truncated.Load()
	s.BadFraming += c.badFraming.Load()
	s.SmugglingShape += c.smugglingShape.Load()
	s.Unpaired += c.unpaired.Load()
	s.Anomalous += c.anomalous.Load()
	s.CodingsCapped += c.codingsCapped.Load()
	s.HalfOpen += c.halfOpen.Load()
	s.HalfOpenEvicted += c.halfOpenEvicted.Load()
	s.HeadersTooLarge += c.headersTooLarge.Load()
	s.TooManyFields += c.tooManyFields.Load()
	s.ChunkLinesTooLong += c.chunkLinesTooLong.Load()
	s.LongStartLines += c.longStartLines.Load()
	s.ProbeLimit += c.probeLimit.Load()
	s.InterimDropped += c.interimDropped.Load()
	s.H2Frames += c.h2Frames.Load()
	s.H2Streams += c.h2Streams.Load()
	s.H2Desyncs += c.h2Desyncs.Load()
	s.H2HPACKErrors += c.h2HPACKErrors.Load()
	s.H2HPACKRecovered += c.h2HPACKRecovered.Load()
	s.H2UnknownFields += c.h2UnknownFields.Load()
	s.H2Unnamed += c.h2Unnamed.Load()
	s.H2BlocksTooLarge += c.h2BlocksTooLarge.Load()
	s.H2FramesTooLarge += c.h2FramesTooLarge.Load()
	s.H2StreamsEvicted += c.h2StreamsEvicted.Load()
	s.H2Resets += c.h2Resets.Load()
	s.TLSHTTP1 += c.tlsH1.Load()
	s.TLSHTTP2 += c.tlsH2.Load()
}

// addDecoding adds what decoding the bodies read so far found.
func (s *Stats) addDecoding(d message.DecodeStats) {
	s.Decoded += uint64(d.Decoded)
	s.BombsCut += uint64(d.BombsCut)
	s.DecodeErrors += uint64(d.Errors)
	s.Truncated += uint64(d.Truncated)
	s.WindowTooLarge += uint64(d.WindowTooLarge)
}

package http2_test

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/specter-dev/specter/capture/corpus"
	"github.com/specter-dev/specter/reassembly/http2"
)

// counts are what the corpus test compares with counts-http2.tsv.
type counts struct {
	frames, headersFrames             int64
	requests, responses, grpcMessages int
}

// corpusDiff documents, for a capture of ../shared/corpus/h2-tls, why our
// counts differ from tshark 4.0.17's. The test fails when the counts change
// (the reason no longer applies) as much as when a new difference appears.
type corpusDiff struct {
	got counts
	why string
}

var corpusDiffs = map[string]corpusDiff{
	"deepflow/grpc-unary.pcap": {counts{5, 2, 1, 1, 2},
		"the response's DATA frame is cut by the end of the capture: Specter counts the frame and its message (flagged Truncated: the prefix says more than 1331 bytes), tshark neither"},
	"deepflow/grpc-unknown.pcap": {counts{5, 3, 1, 1, 2},
		"tshark 4.0.17 fails an assertion in its gRPC dissector (README caveat); the capture holds one request and one response message, framed from DATA since content-type is an HPACK entry from before the capture"},
	"deepflow/http2-multi.pcap": {counts{13, 6, 2, 2, 4},
		"both streams are gRPC whose :path and content-type are HPACK entries from before the capture: Specter recognises them from DATA that frames exactly into length-prefixed messages (1 each way per stream), tshark does not without a content-type"},
	"suricata-verify/drop-protocol-change__input.pcap": {counts{5, 1, 0, 1, 0},
		"the server's first SETTINGS shares frame 2 with the 101 response: tshark decodes that segment as HTTP/1 only, Specter hands over at the end of the 101 head and counts it"},
	"suricata-verify/bug-5929-02__http2_multiple_headers.pcap":                     {counts{10, 2, 1, 1, 0}, serverFirst},
	"suricata-verify/http2-authority-mismatch__authority_and_host_2.pcap":          {counts{8, 2, 1, 1, 0}, serverFirst},
	"suricata-verify/http2-userinfo-authority__http2_userinfo_in_authority_1.pcap": {counts{8, 2, 1, 1, 0}, serverFirst},
	"arkime/http2-nghttp2.pcap": {counts{21, 3, 2, 2, 0},
		"tshark cannot reassemble the client's 14 kB HEADERS on stream 13 (README caveat): it counts only the PUSH_PROMISE's :method and none of the client's frames from there on; Specter finds the client's GET / and the promised GET /stylesheets/screen.css, and the 5 frames tshark skips (the CONTINUATION, SETTINGS ACK, WINDOW_UPDATEs, GOAWAY)"},
}

// serverFirst explains captures whose server sent its SETTINGS before the
// client's preface arrived.
const serverFirst = "the server's SETTINGS and WINDOW_UPDATE (frame 4, 40 bytes) come before the client preface: tshark, which finds HTTP/2 on port 80 by the preface, leaves that segment undecoded; Specter recognises the frames by their headers"

// count reduces exchanges to the tsv's columns: requests with a known
// :method that came in HTTP/2 HEADERS or PUSH_PROMISE (the HTTP/1.1
// request of an h2c upgrade is not one), responses with a known :status,
// and gRPC messages in both directions.
func count(xs []*http2.Exchange) counts {
	var c counts
	for _, x := range xs {
		if x.Request != nil && x.Request.Method != "" && !x.Upgraded {
			c.requests++
		}
		if x.Response != nil && x.Response.Status != 0 {
			c.responses++
		}
		if x.GRPC != nil {
			c.grpcMessages += x.GRPC.RequestCount + x.GRPC.ResponseCount
		}
	}
	return c
}

type method struct {
	path        string
	pathUnknown bool // some request field (maybe :path) came from an HPACK entry from before the capture
}

func TestCorpusCounts(t *testing.T) {
	dir, rows := corpus.HTTP2Counts(t)
	for _, row := range rows {
		name := row.File
		want := counts{int64(row.Frames), int64(row.HeadersFrames), row.Requests, row.Responses, row.GRPCMessages}
		t.Run(name, func(t *testing.T) {
			var got counts
			var methods []method
			named := 0 // requests whose :path is known
			for _, fl := range readFlows(t, filepath.Join(dir, name)) {
				xs, st, ok := replay(t, fl, nil)
				if !ok {
					continue
				}
				c := count(xs)
				got.requests += c.requests
				got.responses += c.responses
				got.grpcMessages += c.grpcMessages
				for _, x := range xs {
					if x.Request != nil && x.Request.Path != "" && !x.Upgraded {
						named++
					}
					if x.GRPC != nil {
						methods = append(methods, method{x.GRPC.Method, x.Request != nil && x.Request.Flags.Has(http2.FlagUnknownFields)})
					}
					t.Logf("stream %d flags %#x req=%v resp=%v grpc=%+v", x.StreamID, x.Flags, msgSummary(x.Request), msgSummary(x.Response), x.GRPC)
				}
				t.Logf("stats %+v", st)
				got.frames += st.Frames
				got.headersFrames += st.FrameTypes[1]
			}
			if strings.HasPrefix(name, "derived/") && strings.Contains(name, "midconn") && named < 30 {
				t.Errorf("mid-connection cut: %d requests with a known :path, want at least 30 of 33", named)
			}
			for _, m := range methods {
				if m.path == "" && !m.pathUnknown {
					t.Errorf("a gRPC call without a method path, though its :path was not an unknown HPACK entry")
				}
			}
			if d, ok := corpusDiffs[name]; ok {
				if got != d.got {
					t.Errorf("got %+v, documented difference says %+v (%s); tshark %+v", got, d.got, d.why, want)
				}
				return
			}
			if got != want {
				t.Errorf("got %+v, tshark %+v", got, want)
			}

		})
	}
}

func msgSummary(m *http2.Message) string {
	if m == nil {
		return "-"
	}
	return m.Method + " " + m.Path + " " + strconv.Itoa(m.Status) + " body=" + strconv.FormatInt(m.BodySize, 10)
}

package reassembly_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/specter-dev/specter/capture/corpus"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/message"
)

// countDiff documents, for a capture in ../shared/corpus/pcaps, why our
// request/response counts differ from tshark's reference counts. Each entry
// gives our counts and the reason; the test fails if the reason no longer
// applies (the counts changed) as much as when a new difference appears.
type countDiff struct {
	requests, responses int
	why                 string
}

var countDiffs = map[string]countDiff{
	"arkime/wireshark-retrans.pcap": {4, 4,
		"tshark counts the two retransmitted responses (frames 42 and 86) a second time; reassembly delivers each byte once"},
	"ndpi/1kxun.pcap": {133, 118,
		"tshark's other 111 requests are SSDP (HTTP over UDP multicast); Specter analyzes TCP (tshark -Y 'http.request && tcp' gives 133)"},
	"ndpi/netflix.pcap": {32, 18,
		"tshark's other 16 requests are SSDP over UDP; of the responses it completes only the 5 without loss, Specter also keeps 13 whose bodies of known length have holes (flagged gap)"},
	"suricata-verify/http-gap-simple__input.pcap": {3, 3,
		"a response body of known length has a 14-byte hole: Specter skips it and keeps the response (flagged gap), tshark loses it"},
	"suricata-verify/http-pipeline-files-with-gap__input.pcap": {3, 3,
		"a 733-byte hole inside a pipelined response body of known length: Specter keeps it and the responses after it (flagged gap), tshark stops"},
	"zeek/erspan.pcap": {22, 16,
		"two responses have holes in bodies of known length (mirror loss): kept and flagged gap by Specter, dropped by tshark"},
	"zeek/http__bro.org.pcap": {31, 31,
		"one response has a 7240-byte hole in a body of known length: kept (flagged gap) by Specter, dropped by tshark"},
	"zeek/http__http-desync-request-response-5.pcap": {5, 7,
		"the server answers the first request with three responses in one segment; tshark counts the segment once, Specter parses three (two unmatched)"},
	"zeek/http__methods.pcap": {9, 47,
		"18 malformed request lines without a target ('OPTIONS HTTP/1.1', 'OPTIONSHTTP/1.1', ...) that tshark counts and the server rejected with 400 are not requests to Specter; two responses at the end of the capture are cut short (incomplete, not counted)"},
	"zeek/mixed-vlan-mpls.pcap": {1, 1,
		"tshark's second request is the HTTP/0.9 line 'GET /' with no version, which is not HTTP/1.x and got no response"},
}

func TestCorpusCounts(t *testing.T) {
	dir := corpus.Dir(t, "corpus/pcaps")
	f, err := os.Open(filepath.Join(dir, "counts.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 3 {
			continue
		}
		name := cols[0]
		wantReq, _ := strconv.Atoi(cols[1])
		wantResp, _ := strconv.Atoi(cols[2])
		t.Run(name, func(t *testing.T) {
			got, st := analyze(t, reassembly.DefaultConfig(), filepath.Join(dir, name))
			req, resp := 0, 0
			for _, x := range got {
				if x.StreamID != 0 {
					// HTTP/2 (counts-http2.tsv's business); the HTTP/1.1
					// request and 101 of an h2c upgrade are tshark's
					// HTTP/1 messages.
					if len(x.Interim) > 0 && x.Interim[0] == 101 {
						req++
						resp++
					}
					continue
				}
				if x.Request != nil {
					req++
				}
				// tshark counts a response only once it has seen all of it;
				// we also deliver responses the capture cut short, flagged
				// incomplete: leave those out of the comparison.
				if x.Response != nil && !x.Response.Flags.Has(message.FlagIncomplete) {
					resp++
				}
				// tshark counts interim responses (100 Continue) as
				// responses; so do we, for the comparison.
				resp += len(x.Interim)
			}
			if d, ok := countDiffs[name]; ok {
				if req != d.requests || resp != d.responses {
					t.Errorf("got %d/%d, documented difference says %d/%d (%s); tshark %d/%d", req, resp, d.requests, d.responses, d.why, wantReq, wantResp)
				}
				return
			}
			if req != wantReq || resp != wantResp {
				t.Errorf("requests/responses: got %d/%d, tshark %d/%d (stats %+v)", req, resp, wantReq, wantResp, st)
			}
		})
	}
}

// Connections that are not HTTP/1 are recognized and counted (HTTP/2 ones
// parsed, the others yield no exchange); captures that start mid-connection, or whose first packet
// comes from the server, still get client and server right.
func TestCorpusProtocolsAndDirection(t *testing.T) {
	dir := corpus.Dir(t, "corpus/pcaps")
	tests := []struct {
		file               string
		http2, tls, tunnel bool
		serverPort         uint16 // every exchange's server port, when set
		minExchanges       int
	}{
		{file: "arkime/http2-nghttp2.pcap", http2: true},
		{file: "suricata-verify/http2-continuation__input.pcap", http2: true},
		{file: "ndpi/netflix.pcap", tls: true, serverPort: 80, minExchanges: 30},
		{file: "zeek/http__websocket.pcap", tunnel: true, minExchanges: 1},
		{file: "zeek/tcp__missing-syn.pcap", serverPort: 80, minExchanges: 1},
		{file: "zeek/http__get_nosyn.pcap", serverPort: 80, minExchanges: 1},
		{file: "ndpi/http_starting_with_reply.pcapng", serverPort: 80, minExchanges: 2},
		{file: "suricata-verify/tcp-stream-after-swap__http-start-from-response.pcap", serverPort: 80, minExchanges: 1},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, st := analyze(t, reassembly.DefaultConfig(), filepath.Join(dir, tt.file))
			if tt.http2 && (st.ConnsHTTP2 == 0 || st.Exchanges == 0 || st.ParseErrors != 0 || st.H2Desyncs != 0) {
				t.Errorf("HTTP/2 not parsed cleanly: %+v", st)
			}
			if tt.tls && st.ConnsTLS == 0 {
				t.Errorf("no TLS connection counted: %+v", st)
			}
			if tt.tunnel && st.ConnsTunnel == 0 {
				t.Errorf("upgrade not counted: %+v", st)
			}
			if len(got) < tt.minExchanges {
				t.Errorf("%d exchanges, want at least %d", len(got), tt.minExchanges)
			}
			for _, x := range got {
				if tt.serverPort != 0 && x.Flow.Server.Port() != tt.serverPort {
					t.Errorf("exchange with server %v, client %v", x.Flow.Server, x.Flow.Client)
				}
			}
		})
	}
}

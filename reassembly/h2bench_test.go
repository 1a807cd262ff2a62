package reassembly_test

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/specter-dev/specter/capture"
	"github.com/specter-dev/specter/reassembly"
)

// The same API traffic (~300-byte requests, ~1.5 KB JSON responses, 200
// exchanges on one keep-alive connection, 1448-byte segments) as HTTP/1.1,
// as HTTP/2 (one stream per exchange, x/net's HPACK encoder) and as gRPC
// (unary, the response a length-prefixed message, grpc-status trailers),
// through the decoder and the whole reassembly pipeline. The figures are
// exchanges per CPU second of the process (workers and GC included) and
// the cost of an HTTP/2 or gRPC exchange relative to an HTTP/1 one.

const benchConvExchanges = 200

// benchBody is a ~1.5 KB JSON page.
func benchBody(i int) string {
	var b strings.Builder
	b.WriteString(`{"data":[`)
	for j := range 7 {
		if j > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"item-%d","email":"user%d@example.com","active":true,"score":%d.5,"tags":["alpha","beta","gamma"],"address":{"street":"%d Main St","city":"Springfield","zip":"%05d"}}`,
			i*10+j, j, j, j, j, j)
	}
	b.WriteString(`],"next":null}`)
	return b.String()
}

// segmenter cuts a conversation into the frames of one TCP connection.
type segmenter struct {
	tb         testing.TB
	frames     [][]byte
	cseq, sseq uint32
}

func newSegmenter(tb testing.TB) *segmenter {
	s := &segmenter{tb: tb, cseq: 1000, sseq: 5000}
	s.frames = append(s.frames, tcpFrame(tb, 40000, true, s.cseq, 0, "S", ""),
		tcpFrame(tb, 40000, false, s.sseq, s.cseq+1, "SA", ""))
	s.cseq++
	s.sseq++
	s.frames = append(s.frames, tcpFrame(tb, 40000, true, s.cseq, s.sseq, "A", ""))
	return s
}

func (s *segmenter) send(fromClient bool, data string) {
	const mss = 1448
	for len(data) > 0 {
		n := min(mss, len(data))
		if fromClient {
			s.frames = append(s.frames, tcpFrame(s.tb, 40000, true, s.cseq, s.sseq, "A", data[:n]))
			s.cseq += uint32(n)
		} else {
			s.frames = append(s.frames, tcpFrame(s.tb, 40000, false, s.sseq, s.cseq, "A", data[:n]))
			s.sseq += uint32(n)
		}
		data = data[n:]
	}
}

func (s *segmenter) close() [][]byte {
	s.frames = append(s.frames, tcpFrame(s.tb, 40000, true, s.cseq, s.sseq, "FA", ""),
		tcpFrame(s.tb, 40000, false, s.sseq, s.cseq+1, "FA", ""))
	return s.frames
}

func benchHTTP1(tb testing.TB) [][]byte {
	s := newSegmenter(tb)
	for i := range benchConvExchanges {
		s.send(true, fmt.Sprintf("GET /api/v1/users/%d/orders?limit=20&offset=%d HTTP/1.1\r\nHost: api.example.com\r\n"+
			"User-Agent: Mozilla/5.0 (X11; Linux x86_64) specter-bench/1.0\r\nAccept: application/json\r\n"+
			"Accept-Encoding: gzip, deflate, br\r\nAuthorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abc\r\n"+
			"Cookie: session=%08x\r\nConnection: keep-alive\r\n\r\n", i, i*20, i))
		body := benchBody(i)
		s.send(false, fmt.Sprintf("HTTP/1.1 200 OK\r\nDate: Sat, 21 Nov 2026 02:00:00 GMT\r\nContent-Type: application/json; charset=utf-8\r\n"+
			"Content-Length: %d\r\nCache-Control: no-store\r\nX-Request-Id: %016x\r\nConnection: keep-alive\r\n\r\n%s", len(body), i, body))
	}
	return s.close()
}

func benchHTTP2(tb testing.TB, grpc bool) [][]byte {
	s := newSegmenter(tb)
	cl, sv := newH2(tb), newH2(tb)
	s.send(true, cl.preface().take())
	s.send(false, sv.settings().take())
	for i := range benchConvExchanges {
		id := uint32(2*i + 1)
		body := benchBody(i)
		if grpc {
			s.send(true, cl.headers(id, false, ":method", "POST", ":scheme", "http", ":authority", "api.example.com",
				":path", "/shop.Orders/List", "content-type", "application/grpc", "te", "trailers",
				"user-agent", "grpc-go/1.85.0", "authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abc").
				data(id, true, grpcMsg(strings.Repeat("\x08\x96\x01\x12\x03abc", 5))).take())
			s.send(false, sv.headers(id, false, ":status", "200", "content-type", "application/grpc").
				data(id, false, grpcMsg(body)).headers(id, true, "grpc-status", "0", "grpc-message", "").take())
			continue
		}
		s.send(true, cl.headers(id, true, ":method", "GET", ":scheme", "https", ":authority", "api.example.com",
			":path", fmt.Sprintf("/api/v1/users/%d/orders?limit=20&offset=%d", i, i*20),
			"user-agent", "Mozilla/5.0 (X11; Linux x86_64) specter-bench/1.0", "accept", "application/json",
			"accept-encoding", "gzip, deflate, br", "authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abc",
			"cookie", fmt.Sprintf("session=%08x", i)).take())
		s.send(false, sv.headers(id, false, ":status", "200", "date", "Sat, 21 Nov 2026 02:00:00 GMT",
			"content-type", "application/json; charset=utf-8", "content-length", fmt.Sprint(len(body)),
			"cache-control", "no-store", "x-request-id", fmt.Sprintf("%016x", i)).data(id, true, body).take())
	}
	return s.close()
}

// runFrames decodes frames into a new pipeline and returns the complete
// exchanges it emitted.
func runFrames(tb testing.TB, frames [][]byte) int {
	n := 0
	p := reassembly.New(reassembly.DefaultConfig(), func(x *reassembly.Exchange) {
		if x.Request != nil && x.Response != nil && x.Flags == 0 {
			n++
		}
	})
	dec := capture.NewDecoder(capture.DecoderOptions{})
	var pkt capture.Packet
	ts := time.Unix(1_700_000_000, 0)
	for _, data := range frames {
		ts = ts.Add(time.Microsecond)
		fr := capture.Frame{Data: data, LinkType: layers.LinkTypeEthernet}
		fr.Info.Timestamp = ts
		fr.Info.CaptureLength, fr.Info.Length = len(data), len(data)
		if ok, err := dec.Decode(fr, &pkt); !ok {
			tb.Fatalf("decode: %v", err)
		}
		p.Add(&pkt)
	}
	p.Close()
	return n
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPipelineHTTP2 runs the three conversations in turn in every
// iteration, so that the ratios compare the same moments of a shared
// machine.
func BenchmarkPipelineHTTP2(b *testing.B) {
	kinds := []struct {
		name   string
		frames [][]byte
		cpu    time.Duration
	}{{"http1", benchHTTP1(b), 0}, {"http2", benchHTTP2(b, false), 0}, {"grpc", benchHTTP2(b, true), 0}}
	b.ReportAllocs()
	for b.Loop() {
		for i := range kinds {
			k := &kinds[i]
			start := processCPU()
			if n := runFrames(b, k.frames); n != benchConvExchanges {
				b.Fatalf("%s: %d complete exchanges, want %d", k.name, n, benchConvExchanges)
			}
			k.cpu += processCPU() - start
		}
	}
	for _, k := range kinds {
		if k.cpu <= 0 {
			b.Skip("no CPU time measured")
		}
		b.ReportMetric(float64(benchConvExchanges*b.N)/k.cpu.Seconds(), k.name+"-exchanges/cpu-s")
	}
	b.ReportMetric(kinds[1].cpu.Seconds()/kinds[0].cpu.Seconds(), "http2/http1-cpu-per-exchange")
	b.ReportMetric(kinds[2].cpu.Seconds()/kinds[0].cpu.Seconds(), "grpc/http1-cpu-per-exchange")
}

package http2_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/specter-dev/specter/reassembly/http1"
	"github.com/specter-dev/specter/reassembly/http2"
	"github.com/specter-dev/specter/reassembly/message"
)

// The same API traffic as reassembly/http1's benchmark (~300-byte
// requests, ~1.5 KB JSON responses), sent as HTTP/1.1 keep-alive and as
// HTTP/2 (one stream per exchange, HPACK as a real encoder does it), fed
// in 1448-byte segments. The figure to compare is exchanges/s.

type benchAddress struct {
	Street string `json:"street"`
	City   string `json:"city"`
	Zip    string `json:"zip"`
}

type benchItem struct {
	ID      int          `json:"id"`
	Name    string       `json:"name"`
	Email   string       `json:"email"`
	Active  bool         `json:"active"`
	Score   float64      `json:"score"`
	Tags    []string     `json:"tags"`
	Address benchAddress `json:"address"`
}

// apiBody is a ~1.5 KB JSON page of seven items, like http1's benchmark.
func apiBody(i int) string {
	var page struct {
		Data []benchItem `json:"data"`
		Next *string     `json:"next"`
	}
	for j := range 7 {
		page.Data = append(page.Data, benchItem{ID: i*10 + j, Name: fmt.Sprint("item-", j), Email: fmt.Sprintf("user%d@example.com", j),
			Active: true, Score: float64(j) + .5, Tags: []string{"alpha", "beta", "gamma"},
			Address: benchAddress{Street: fmt.Sprint(j, " Main St"), City: "Springfield", Zip: fmt.Sprintf("%05d", j)}})
	}
	b, _ := json.Marshal(page)
	return string(b)
}

func http1Traffic(n int) (reqs, resps []byte) {
	var q, s strings.Builder
	for i := range n {
		fmt.Fprintf(&q, "GET /api/v1/users/%d/orders?limit=20&offset=%d HTTP/1.1\r\nHost: api.example.com\r\n"+
			"User-Agent: Mozilla/5.0 (X11; Linux x86_64) specter-bench/1.0\r\nAccept: application/json\r\n"+
			"Accept-Encoding: gzip, deflate, br\r\nAuthorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abc\r\n"+
			"Cookie: session=%08x\r\nConnection: keep-alive\r\n\r\n", i, i*20, i)
		body := apiBody(i)
		fmt.Fprintf(&s, "HTTP/1.1 200 OK\r\nDate: Sat, 21 Nov 2026 02:00:00 GMT\r\nContent-Type: application/json; charset=utf-8\r\n"+
			"Content-Length: %d\r\nCache-Control: no-store\r\nX-Request-Id: %016x\r\nConnection: keep-alive\r\n\r\n%s",
			len(body), i, body)
	}
	return []byte(q.String()), []byte(s.String())
}

func http2Traffic(b testing.TB, n int, grpc bool) (client, server []byte) {
	w := newWire(b, true)
	for i := range n {
		id := uint32(2*i + 1)
		if grpc {
			w.headers(0, id, false, ":method", "POST", ":scheme", "http", ":authority", "api.example.com",
				":path", "/shop.Orders/List", "content-type", "application/grpc", "te", "trailers",
				"user-agent", "grpc-go/1.85.0", "authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abc")
			msg := append([]byte{0, 0, 0, 0, 40}, bytes.Repeat([]byte{0x08, 0x96, 0x01, 0x12, 0x03, 'a', 'b', 'c'}, 5)...)
			w.data(0, id, true, msg)
			w.headers(1, id, false, ":status", "200", "content-type", "application/grpc")
			body := apiBody(i)
			resp := append([]byte{0, 0, 0, byte(len(body) >> 8), byte(len(body))}, body...)
			w.data(1, id, false, resp)
			w.headers(1, id, true, "grpc-status", "0", "grpc-message", "")
			continue
		}
		w.headers(0, id, true, ":method", "GET", ":scheme", "https", ":authority", "api.example.com",
			":path", fmt.Sprintf("/api/v1/users/%d/orders?limit=20&offset=%d", i, i*20),
			"user-agent", "Mozilla/5.0 (X11; Linux x86_64) specter-bench/1.0", "accept", "application/json",
			"accept-encoding", "gzip, deflate, br", "authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abc",
			"cookie", fmt.Sprintf("session=%08x", i))
		body := apiBody(i)
		w.headers(1, id, false, ":status", "200", "date", "Sat, 21 Nov 2026 02:00:00 GMT",
			"content-type", "application/json; charset=utf-8", "content-length", fmt.Sprint(len(body)),
			"cache-control", "no-store", "x-request-id", fmt.Sprintf("%016x", i))
		w.data(1, id, true, []byte(body))
	}
	w.flush(0)
	w.flush(1)
	var out [2][]byte
	for _, e := range w.log {
		out[e.dir] = append(out[e.dir], e.data...)
	}
	return out[0], out[1]
}

type h1nop struct{ n int }

func (h *h1nop) Request(*message.Request)   {}
func (h *h1nop) Response(*message.Response) { h.n++ }
func (h *h1nop) PendingMethod() string      { return "GET" }
func (h *h1nop) Protocol(p http1.Protocol)  {}

const benchExchanges = 200

func BenchmarkExchanges(b *testing.B) {
	const seg = 1448
	ts := time.Unix(1, 0)
	b.Run("http1", func(b *testing.B) {
		q, s := http1Traffic(benchExchanges)
		b.SetBytes(int64(len(q) + len(s)))
		b.ReportAllocs()
		h := &h1nop{}
		cpu := cpuTime()
		for b.Loop() {
			cfg := http1.DefaultConfig()
			pq, ps := http1.NewParser(&cfg, h), http1.NewParser(&cfg, h)
			for i, j := 0, 0; i < len(q) || j < len(s); i, j = i+seg, j+seg {
				if i < len(q) {
					pq.Feed(q[i:min(i+seg, len(q))], ts)
				}
				if j < len(s) {
					ps.Feed(s[j:min(j+seg, len(s))], ts)
				}
			}
		}
		if h.n != benchExchanges*b.N {
			b.Fatalf("%d exchanges, want %d", h.n, benchExchanges*b.N)
		}
		reportCPU(b, h.n, cpu)
	})
	for _, grpc := range []bool{false, true} {
		name := "http2"
		if grpc {
			name = "grpc"
		}
		b.Run(name, func(b *testing.B) {
			q, s := http2Traffic(b, benchExchanges, grpc)
			b.SetBytes(int64(len(q) + len(s)))
			b.ReportAllocs()
			n := 0
			h := http2.HandlerFunc(func(x *http2.Exchange) {
				if x.Flags == 0 && (!grpc || x.GRPC != nil && x.GRPC.Status == 0) {
					n++
				}
			})
			cpu := cpuTime()
			for b.Loop() {
				c := http2.NewConn(nil, h)
				for i, j := 0, 0; i < len(q) || j < len(s); i, j = i+seg, j+seg {
					if i < len(q) {
						c.Feed(0, q[i:min(i+seg, len(q))], ts)
					}
					if j < len(s) {
						c.Feed(1, s[j:min(j+seg, len(s))], ts)
					}
				}
				c.Close(ts)
			}
			if n != benchExchanges*b.N {
				b.Fatalf("%d clean exchanges, want %d", n, benchExchanges*b.N)
			}
			reportCPU(b, n, cpu)
		})
	}
}

// cpuTime returns the process's user+system CPU time: on a shared machine
// wall time says more about the neighbours than about the parser.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports exchanges per wall second and per CPU second (GC
// included) since start.
func reportCPU(b *testing.B, n int, start time.Duration) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "exchanges/s")
	if cpu := cpuTime() - start; cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds(), "exchanges/cpu-s")
	}
}

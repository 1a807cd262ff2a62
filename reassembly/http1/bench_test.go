package http1

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/specter-dev/specter/reassembly/message"
)

// nop is a Handler that drops what it gets, reading the bodies first when
// read is set (as a consumer that looks at every body does).
type nop struct {
	n, bytes int
	read     bool
}

func (h *nop) Request(r *message.Request) {
	h.n++
	if h.read {
		h.bytes += len(r.Body.Bytes())
	}
}

func (h *nop) Response(r *message.Response) {
	h.n++
	if h.read {
		h.bytes += len(r.Body.Bytes())
	}
}

func (h *nop) PendingMethod() string { return "GET" }
func (h *nop) Protocol(Protocol)     {}

// apiTraffic returns n keep-alive requests and their responses, shaped like
// JSON API traffic: ~300-byte requests, ~1.5 KB JSON responses.
func apiTraffic(n int) (reqs, resps []byte) {
	var q, s strings.Builder
	item := `{"id":%d,"name":"item-%d","email":"user%d@example.com","active":true,"score":%d.5,"tags":["alpha","beta","gamma"],"address":{"street":"%d Main St","city":"Springfield","zip":"%05d"}}`
	for i := range n {
		fmt.Fprintf(&q, "GET /api/v1/users/%d/orders?limit=20&offset=%d HTTP/1.1\r\nHost: api.example.com\r\n"+
			"User-Agent: Mozilla/5.0 (X11; Linux x86_64) specter-bench/1.0\r\nAccept: application/json\r\n"+
			"Accept-Encoding: gzip, deflate, br\r\nAuthorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abc\r\n"+
			"Cookie: session=%08x\r\nConnection: keep-alive\r\n\r\n", i, i*20, i)
		var body strings.Builder
		body.WriteString(`{"data":[`)
		for j := range 7 {
			if j > 0 {
				body.WriteByte(',')
			}
			fmt.Fprintf(&body, item, i*10+j, j, j, j, j, j)
		}
		body.WriteString(`],"next":null}`)
		fmt.Fprintf(&s, "HTTP/1.1 200 OK\r\nDate: Sat, 21 Nov 2026 02:00:00 GMT\r\nContent-Type: application/json; charset=utf-8\r\n"+
			"Content-Length: %d\r\nCache-Control: no-store\r\nX-Request-Id: %016x\r\nConnection: keep-alive\r\n\r\n%s",
			body.Len(), i, body.String())
	}
	return []byte(q.String()), []byte(s.String())
}

func benchStream(b *testing.B, data []byte, seg int, msgs int) {
	benchStreamRead(b, data, seg, msgs, false)
}

func benchStreamRead(b *testing.B, data []byte, seg int, msgs int, read bool) {
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	ts := time.Unix(1, 0)
	h := &nop{read: read}
	for b.Loop() {
		p := NewParser(nil, h)
		for i := 0; i < len(data); i += seg {
			p.Feed(data[i:min(i+seg, len(data))], ts)
		}
	}
	if h.n != msgs*b.N {
		b.Fatalf("parsed %d messages, want %d", h.n, msgs*b.N)
	}
	b.ReportMetric(float64(h.n)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkRequests(b *testing.B) {
	q, _ := apiTraffic(1000)
	b.Run("seg1460", func(b *testing.B) { benchStream(b, q, 1460, 1000) })
	b.Run("whole", func(b *testing.B) { benchStream(b, q, len(q), 1000) })
}

func BenchmarkResponses(b *testing.B) {
	_, s := apiTraffic(1000)
	b.Run("seg1460", func(b *testing.B) { benchStream(b, s, 1460, 1000) })
	b.Run("whole", func(b *testing.B) { benchStream(b, s, len(s), 1000) })
}

func BenchmarkGzipResponses(b *testing.B) {
	_, s := apiTraffic(1)
	body := string(s[strings.Index(string(s), "\r\n\r\n")+4:])
	z := gz(body)
	one := []byte(respCE("gzip", z))
	var all []byte
	for range 200 {
		all = append(all, one...)
	}
	b.Run("seg1460", func(b *testing.B) { benchStream(b, all, 1460, 200) })
	// Every body read: what decoding costs when a consumer asks for it.
	b.Run("seg1460-read", func(b *testing.B) { benchStreamRead(b, all, 1460, 200, true) })
}

func BenchmarkResync(b *testing.B) {
	// Mid-stream garbage of text-like bytes: the cost of searching.
	_, s := apiTraffic(200)
	junk := []byte(strings.Repeat("lorem ipsum dolor sit amet, consectetur\n", 1000))
	data := append(junk, s...)
	b.Run("seg1460", func(b *testing.B) { benchStream(b, data, 1460, 200) })
}

// BenchmarkExchanges parses both directions of keep-alive API traffic, the
// way the connection code drives two Parsers: a request, then its response.
func BenchmarkExchanges(b *testing.B) {
	const n = 1000
	q, s := apiTraffic(n)
	// Cut each direction at message boundaries, one Feed per message.
	split := func(all []byte, marker string) [][]byte {
		var out [][]byte
		for len(all) > 0 {
			i := bytes.Index(all[1:], []byte(marker))
			if i < 0 {
				out = append(out, all)
				break
			}
			out = append(out, all[:i+1])
			all = all[i+1:]
		}
		return out
	}
	qs, ss := split(q, "GET /api"), split(s, "HTTP/1.1 200")
	if len(qs) != n || len(ss) != n {
		b.Fatalf("split into %d and %d messages", len(qs), len(ss))
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(q) + len(s)))
	ts := time.Unix(1, 0)
	h := &nop{}
	for b.Loop() {
		pq, ps := NewParser(nil, h), NewParser(nil, h)
		for i := range n {
			pq.Feed(qs[i], ts)
			ps.Feed(ss[i], ts)
		}
	}
	if h.n != 2*n*b.N {
		b.Fatalf("parsed %d messages, want %d", h.n, 2*n*b.N)
	}
	b.ReportMetric(float64(h.n/2)/b.Elapsed().Seconds(), "exchanges/s")
}

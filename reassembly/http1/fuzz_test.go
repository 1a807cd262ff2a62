package http1

import (
	"bufio"
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/specter-dev/specter/reassembly/message"
)

// checker is a Handler that checks the invariants every delivered message
// must hold.
type checker struct {
	t    *testing.T
	cfg  Config
	n    int
	meth []string
}

func (c *checker) check(body []byte, h http.Header, wire int64) {
	c.n++
	if len(body) > c.cfg.MaxBody {
		c.t.Fatalf("body %d bytes > MaxBody %d", len(body), c.cfg.MaxBody)
	}
	if wire < 0 {
		c.t.Fatalf("negative wire size %d", wire)
	}
	fields := 0
	for _, v := range h {
		fields += len(v)
	}
	if fields > 2*maxHeaderFields { // header + trailer
		c.t.Fatalf("%d header fields", fields)
	}
}

func (c *checker) Request(r *message.Request) {
	c.check(r.Body.Bytes(), r.Header, r.WireSize)
	c.meth = append(c.meth, r.Method)
}
func (c *checker) Response(r *message.Response) { c.check(r.Body.Bytes(), r.Header, r.WireSize) }
func (c *checker) PendingMethod() string {
	if len(c.meth) == 0 {
		return ""
	}
	m := c.meth[0]
	c.meth = c.meth[1:]
	return m
}
func (c *checker) Protocol(Protocol) {}

// FuzzParser feeds arbitrary bytes in arbitrary pieces with gaps: the
// parser must not panic, must keep its buffers within their bounds and must
// deliver only messages within the limits.
func FuzzParser(f *testing.F) {
	for _, tc := range parseCases {
		f.Add([]byte(tc.in), uint64(len(tc.in)))
	}
	q, s := apiTraffic(2)
	f.Add(q, uint64(1))
	f.Add(s, uint64(2))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nT: 1\r\n\r\n"), uint64(3))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		cfg := Config{MaxBody: 64, MaxDecoded: 256, MaxHeaderBytes: 512, Decode: true}
		c := &checker{t: t, cfg: cfg}
		p := NewParser(&cfg, c)
		rnd := rand.New(rand.NewPCG(seed, seed>>7))
		ts := time.Unix(1, 0)
		for len(data) > 0 {
			n := 1 + rnd.IntN(min(len(data), 64))
			p.Feed(data[:n], ts)
			data = data[n:]
			if rnd.IntN(16) == 0 {
				p.Gap(rnd.IntN(40)-1, ts)
			}
			if len(p.buf) > cfg.MaxHeaderBytes+1 || len(p.line) > maxChunkLine || len(p.keyMap) > maxKeyCache {
				t.Fatalf("buffers grew: buf %d line %d keys %d", len(p.buf), len(p.line), len(p.keyMap))
			}
			if len(p.body) > cfg.MaxBody {
				t.Fatalf("body buffer %d > MaxBody", len(p.body))
			}
		}
		p.Close(ts)
		st := p.Stats()
		if int(st.Requests+st.Responses) != c.n {
			t.Fatalf("stats count %d messages, handler saw %d", st.Requests+st.Responses, c.n)
		}
	})
}

// FuzzNetHTTP compares the parser with net/http: a request that
// http.ReadRequest reads completely, framed by Content-Length, must come out
// the same.
func FuzzNetHTTP(f *testing.F) {
	f.Add([]byte("POST /a?b=c HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nX-A: 1\r\nx-a: 2\r\n\r\nabc"))
	f.Add([]byte("GET / HTTP/1.0\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("PUT http://h:1/p HTTP/1.1\r\nContent-Length: 1\r\nFolded: a\r\n b\r\n\r\nz"))
	f.Add([]byte("PATCH /x HTTP/1.1\nContent-Length: 2\nUser-Agent:  spaced  \n\nhi"))
	f.Fuzz(func(t *testing.T, data []byte) {
		want, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data)))
		if err != nil || want.ProtoMajor != 1 || want.TransferEncoding != nil ||
			len(want.Header["Content-Length"]) == 0 {
			return
		}
		body, err := io.ReadAll(want.Body)
		if err != nil {
			return
		}
		for k := range want.Header {
			if strings.ContainsAny(k, " \t") {
				return // net/http tolerates spaces in field names; we do not
			}
		}
		cfg := DefaultConfig()
		cfg.Decode = false
		cfg.MaxBody = len(data)
		r := &rec{}
		p := NewParser(&cfg, r)
		p.Feed(data, time.Unix(1, 0))
		if len(r.reqs) == 0 {
			t.Fatalf("net/http read %s %q, we found no request (err %v)", want.Method, want.RequestURI, p.Err())
		}
		got := r.reqs[0]
		if got.Method != want.Method || got.Target != want.RequestURI || got.Proto != want.Proto {
			t.Fatalf("start line: got %q %q %q, want %q %q %q", got.Method, got.Target, got.Proto, want.Method, want.RequestURI, want.Proto)
		}
		if !bytes.Equal(got.Body.Bytes(), body) || got.Flags != 0 {
			t.Fatalf("body: got %q flags %v, want %q", got.Body.Bytes(), got.Flags, body)
		}
		h := got.Header.Clone()
		if hv := h["Host"]; len(hv) > 0 {
			if hv[0] != want.Host {
				t.Fatalf("host: got %q, want %q", hv[0], want.Host)
			}
			delete(h, "Host")
		}
		if len(h) != len(want.Header) {
			t.Fatalf("header:\n got %v\nwant %v", h, want.Header)
		}
		// net/http keeps the space of an empty obs-fold line ("a:0\r\n \r\n"
		// gives "0 "); RFC 9112 has the value's trailing OWS dropped.
		trim := func(vs []string) []string {
			out := make([]string, len(vs))
			for i, v := range vs {
				out[i] = strings.TrimRight(v, " \t")
			}
			return out
		}
		for k, v := range want.Header {
			if !slices.Equal(trim(h[k]), trim(v)) {
				t.Fatalf("header %s: got %q, want %q", k, h[k], v)
			}
		}
	})
}

// FuzzSplit checks that where a stream needs no resynchronization, how it
// is cut into Feeds does not change what comes out.
func FuzzSplit(f *testing.F) {
	for _, tc := range parseCases {
		f.Add([]byte(tc.in), uint64(len(tc.in)), tc.close)
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint64, closeAtEnd bool) {
		feedAll := func(cuts bool) (*rec, *Parser) {
			cfg := Config{MaxBody: 64, MaxDecoded: 256, MaxHeaderBytes: 512, Decode: true}
			r := &rec{pending: []string{"GET", "HEAD", "GET", "CONNECT", "GET"}}
			p := NewParser(&cfg, r)
			rnd := rand.New(rand.NewPCG(seed, 1))
			rest := data
			for len(rest) > 0 {
				n := len(rest)
				if cuts {
					n = 1 + rnd.IntN(min(len(rest), 16))
				}
				p.Feed(rest[:n], time.Unix(1, 0))
				rest = rest[n:]
			}
			if closeAtEnd {
				p.Close(time.Unix(2, 0))
			}
			return r, p
		}
		whole, p := feedAll(false)
		if p.Stats().Resyncs > 0 {
			return
		}
		split, _ := feedAll(true)
		if !slices.Equal(whole.msgs, split.msgs) || !slices.Equal(whole.protos, split.protos) {
			t.Fatalf("split changes the result:\nwhole %q %v\nsplit %q %v", whole.msgs, whole.protos, split.msgs, split.protos)
		}
	})
}

// FuzzNetHTTPResponse is FuzzNetHTTP for responses: one that
// http.ReadResponse reads completely, framed by Content-Length, must come
// out the same.
func FuzzNetHTTPResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-A: 1\r\nx-a: 2\r\n\r\nabc"))
	f.Add([]byte("HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 201\nContent-Length: 2\nFolded: a\n b\n\nhi"))
	f.Fuzz(func(t *testing.T, data []byte) {
		want, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(data)), nil)
		if err != nil || want.ProtoMajor != 1 || want.TransferEncoding != nil ||
			len(want.Header["Content-Length"]) == 0 || want.StatusCode < 200 {
			return
		}
		body, err := io.ReadAll(want.Body)
		if err != nil {
			return
		}
		for k := range want.Header {
			if strings.ContainsAny(k, " \t") {
				return // net/http tolerates spaces in field names; we do not
			}
		}
		cfg := DefaultConfig()
		cfg.Decode = false
		cfg.MaxBody = len(data)
		r := &rec{}
		p := NewParser(&cfg, r)
		p.Feed(data, time.Unix(1, 0))
		if len(r.resps) == 0 {
			t.Fatalf("net/http read %q, we found no response (err %v)", want.Status, p.Err())
		}
		got := r.resps[0]
		if got.StatusCode != want.StatusCode || got.Proto != want.Proto {
			t.Fatalf("status line: got %q %d, want %q %d", got.Proto, got.StatusCode, want.Proto, want.StatusCode)
		}
		if !bytes.Equal(got.Body.Bytes(), body) || got.Flags != 0 {
			t.Fatalf("body: got %q flags %v, want %q", got.Body.Bytes(), got.Flags, body)
		}
		trim := func(vs []string) []string {
			out := make([]string, len(vs))
			for i, v := range vs {
				out[i] = strings.TrimRight(v, " \t")
			}
			return out
		}
		if len(got.Header) != len(want.Header) {
			t.Fatalf("header:\n got %v\nwant %v", got.Header, want.Header)
		}
		for k, v := range want.Header {
			if !slices.Equal(trim(got.Header[k]), trim(v)) {
				t.Fatalf("header %s: got %q, want %q", k, got.Header[k], v)
			}
		}
	})
}

package http1

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"

	"github.com/specter-dev/specter/reassembly/message"
)

// rec records what a Parser delivers.
type rec struct {
	msgs    []string // summaries, in order
	reqs    []*message.Request
	resps   []*message.Response
	protos  []Protocol
	pending []string // answers for PendingMethod, consumed in order
}

func (r *rec) Request(q *message.Request) {
	r.reqs = append(r.reqs, q)
	r.msgs = append(r.msgs, sumReq(q))
}

func (r *rec) Response(s *message.Response) {
	r.resps = append(r.resps, s)
	r.msgs = append(r.msgs, sumResp(s))
}

// readBodies reads every body delivered, so that they are decoded.
func (r *rec) readBodies() {
	for _, q := range r.reqs {
		q.Body.Bytes()
	}
	for _, s := range r.resps {
		s.Body.Bytes()
	}
}

func (r *rec) PendingMethod() string {
	if len(r.pending) == 0 {
		return ""
	}
	m := r.pending[0]
	r.pending = r.pending[1:]
	return m
}

func (r *rec) Protocol(p Protocol) { r.protos = append(r.protos, p) }

func sumHeader(h http.Header) string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%q", k, h[k])
	}
	return b.String()
}

func sumBody(b []byte) string {
	if len(b) > 64 {
		return fmt.Sprintf("%q...(%d)", b[:64], len(b))
	}
	return fmt.Sprintf("%q", b)
}

func sumReq(q *message.Request) string {
	return fmt.Sprintf("REQ %s %s %s path=%s q=%s host=%s body=%s wire=%d flags=%s",
		q.Method, q.Target, q.Proto, q.Path, q.RawQuery, q.Authority, sumBody(q.Body.Bytes()), q.WireSize, q.AllFlags()) + sumAnomalies(q.Anomalies)
}

func sumResp(s *message.Response) string {
	return fmt.Sprintf("RESP %s %d %q body=%s wire=%d flags=%s",
		s.Proto, s.StatusCode, s.Reason, sumBody(s.Body.Bytes()), s.WireSize, s.AllFlags()) + sumAnomalies(s.Anomalies)
}

func sumAnomalies(a []string) string {
	if len(a) == 0 {
		return ""
	}
	return " anomalies=" + strings.Join(a, ",")
}

func gz(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func zl(s string) string {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func rawDeflate(s string) string {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.DefaultCompression)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func br(s string) string {
	var b bytes.Buffer
	w := brotli.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func zs(s string) string {
	e, _ := zstd.NewWriter(nil)
	defer e.Close()
	return string(e.EncodeAll([]byte(s), nil))
}

func chunk(s string, n int) string {
	var b strings.Builder
	for len(s) > 0 {
		k := min(n, len(s))
		fmt.Fprintf(&b, "%x\r\n%s\r\n", k, s[:k])
		s = s[k:]
	}
	b.WriteString("0\r\n\r\n")
	return b.String()
}

func respCE(enc, body string) string {
	return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n%s", enc, len(body), body)
}

const jsonBody = `{"id":42,"name":"widget","tags":["a","b"],"price":9.99}`

type parseCase struct {
	name    string
	in      string
	cfg     func(*Config)
	pending []string
	close   bool // call Close after feeding
	want    []string
	protos  []Protocol
	errs    int64 // ParseErrors expected
	err     error // what Err must wrap, if set
}

var parseCases = []parseCase{
	{
		name: "get no body",
		in:   "GET /users/7?x=1&y=2 HTTP/1.1\r\nHost: api.example.com\r\nAccept: */*\r\n\r\n",
		want: []string{`REQ GET /users/7?x=1&y=2 HTTP/1.1 path=/users/7 q=x=1&y=2 host=api.example.com body="" wire=0 flags=`},
	},
	{
		name: "post content-length",
		in:   "POST /items HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 55\r\n\r\n" + jsonBody,
		want: []string{`REQ POST /items HTTP/1.1 path=/items q= host=h body="{\"id\":42,\"name\":\"widget\",\"tags\":[\"a\",\"b\"],\"price\":9.99}" wire=55 flags=`},
	},
	{
		name: "pipelined requests",
		in: "GET /a HTTP/1.1\r\nHost: h\r\n\r\n" +
			"POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc" +
			"PROPFIND /c HTTP/1.1\r\nHost: h\r\nDepth: 1\r\n\r\n" +
			"PUT /d HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n" +
			"\r\nDELETE /e HTTP/1.0\r\n\r\n",
		want: []string{
			`REQ GET /a HTTP/1.1 path=/a q= host=h body="" wire=0 flags=`,
			`REQ POST /b HTTP/1.1 path=/b q= host=h body="abc" wire=3 flags=`,
			`REQ PROPFIND /c HTTP/1.1 path=/c q= host=h body="" wire=0 flags=`,
			`REQ PUT /d HTTP/1.1 path=/d q= host=h body="xyz" wire=3 flags=chunked`,
			`REQ DELETE /e HTTP/1.0 path=/e q= host= body="" wire=0 flags=`,
		},
	},
	{
		name: "pipelined responses",
		in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" +
			"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n" +
			"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n" +
			"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nabcd\r\n2\r\nef\r\n0\r\nX-Trailer: t\r\n\r\n" +
			"HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n",
		want: []string{
			`RESP HTTP/1.1 200 "OK" body="ok" wire=2 flags=`,
			`RESP HTTP/1.1 204 "No Content" body="" wire=0 flags=`,
			`RESP HTTP/1.1 304 "Not Modified" body="" wire=0 flags=`,
			`RESP HTTP/1.1 201 "Created" body="abcdef" wire=6 flags=chunked`,
			`RESP HTTP/1.1 404 "" body="" wire=0 flags=`,
		},
	},
	{
		name:    "head response has no body",
		in:      "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
		pending: []string{"HEAD", "GET"},
		want: []string{
			`RESP HTTP/1.1 200 "OK" body="" wire=0 flags=`,
			`RESP HTTP/1.1 200 "OK" body="hi" wire=2 flags=`,
		},
	},
	{
		name: "status line spacing and reason bytes",
		in:   "HTTP/1.0  302 Found it\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 \x1fodd\r\nContent-Length: 0\r\n\r\n",
		want: []string{
			`RESP HTTP/1.0 302 "Found it" body="" wire=0 flags=`,
			`RESP HTTP/1.1 200 "\x1fodd" body="" wire=0 flags=`,
		},
	},
	{
		name:  "close-delimited response",
		in:    "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this until the close",
		close: true,
		want:  []string{`RESP HTTP/1.0 200 "OK" body="all of this until the close" wire=27 flags=`},
	},
	{
		name:  "transfer-encoding not chunked in response is close-delimited",
		in:    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n" + gz("zipped"),
		close: true,
		want:  []string{fmt.Sprintf(`RESP HTTP/1.1 200 "OK" body="zipped" wire=%d flags=`, len(gz("zipped")))},
	},
	{
		name:  "incomplete at close",
		in:    "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
		close: true,
		want:  []string{`RESP HTTP/1.1 200 "OK" body="abc" wire=3 flags=incomplete`},
	},
	{
		name:  "incomplete head at close",
		in:    "GET /x HTTP/1.1\r\nHost: h\r\nAcc",
		close: true,
		want:  []string{`REQ GET /x HTTP/1.1 path=/x q= host=h body="" wire=0 flags=incomplete`},
	},
	{
		name: "expect 100-continue request",
		in:   "PUT /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\ndata",
		want: []string{`REQ PUT /up HTTP/1.1 path=/up q= host=h body="data" wire=4 flags=`},
	},
	{
		name:    "100 continue then final",
		in:      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
		pending: []string{"PUT"},
		want: []string{
			`RESP HTTP/1.1 100 "Continue" body="" wire=0 flags=`,
			`RESP HTTP/1.1 103 "Early Hints" body="" wire=0 flags=`,
			`RESP HTTP/1.1 201 "Created" body="ok" wire=2 flags=`,
		},
	},
	{
		name:   "101 switching protocols",
		in:     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello\x81\x05HTTP/1.1 200 OK\r\n\r\n",
		want:   []string{`RESP HTTP/1.1 101 "Switching Protocols" body="" wire=0 flags=`},
		protos: []Protocol{ProtoHTTP1, ProtoTunnel},
	},
	{
		name:    "connect 200 tunnel",
		in:      "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01\x00\x05hello",
		pending: []string{"CONNECT"},
		want:    []string{`RESP HTTP/1.1 200 "Connection established" body="" wire=0 flags=`},
		protos:  []Protocol{ProtoHTTP1, ProtoTunnel},
	},
	{
		name:   "connect request then tunnel bytes",
		in:     "CONNECT api.example.com:443 HTTP/1.1\r\nUser-Agent: x\r\n\r\n\x16\x03\x01\x02\x00\x01",
		want:   []string{`REQ CONNECT api.example.com:443 HTTP/1.1 path= q= host=api.example.com:443 body="" wire=0 flags=`},
		protos: []Protocol{ProtoHTTP1, ProtoTunnel},
	},
	{
		name: "absolute-form target",
		in: "GET http://api.example.com:8080/v1/users?limit=5 HTTP/1.1\r\n\r\n" +
			"GET HTTPS://user@other.example/ HTTP/1.1\r\nHost: hdr.example\r\n\r\n" +
			"GET http://bare.example?q=1 HTTP/1.1\r\n\r\n" +
			"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
		want: []string{
			`REQ GET http://api.example.com:8080/v1/users?limit=5 HTTP/1.1 path=/v1/users q=limit=5 host=api.example.com:8080 body="" wire=0 flags=`,
			`REQ GET HTTPS://user@other.example/ HTTP/1.1 path=/ q= host=hdr.example body="" wire=0 flags=`,
			`REQ GET http://bare.example?q=1 HTTP/1.1 path=/ q=q=1 host=bare.example body="" wire=0 flags=`,
			`REQ OPTIONS * HTTP/1.1 path=* q= host=h body="" wire=0 flags=`,
		},
	},
	{
		name: "conflicting content-length resyncs",
		in: "POST /a HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd\r\n" +
			"GET /next HTTP/1.1\r\nHost: h\r\n\r\n",
		want: []string{
			`REQ POST /a HTTP/1.1 path=/a q= host= body="" wire=0 flags=bad-framing anomalies=conflicting-content-length`,
			`REQ GET /next HTTP/1.1 path=/next q= host=h body="" wire=0 flags=`,
		},
		errs: 1,
		err:  ErrContentLength,
	},
	{
		name: "identical content-length values accepted",
		in:   "POST /a HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3, 3\r\n\r\nabc",
		want: []string{`REQ POST /a HTTP/1.1 path=/a q= host= body="abc" wire=3 flags=`},
	},
	{
		name: "bad content-length",
		in:   "POST /a HTTP/1.1\r\nContent-Length: -3\r\n\r\nabc",
		want: []string{`REQ POST /a HTTP/1.1 path=/a q= host= body="" wire=0 flags=bad-framing anomalies=invalid-content-length`},
		errs: 1,
	},
	{
		name: "request transfer-encoding not chunked is an error",
		in:   "POST /a HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nabc\r\nGET /b HTTP/1.1\r\n\r\n",
		want: []string{
			`REQ POST /a HTTP/1.1 path=/a q= host= body="" wire=0 flags=bad-framing anomalies=transfer-encoding-not-chunked-final`,
			`REQ GET /b HTTP/1.1 path=/b q= host= body="" wire=0 flags=`,
		},
		errs: 1,
		err:  ErrTransferEncoding,
	},
	{
		name: "response content-length 10^18 is bad framing",
		in: "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000000\r\n\r\nabc" +
			"HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx",
		want: []string{
			`RESP HTTP/1.1 200 "OK" body="" wire=0 flags=bad-framing anomalies=invalid-content-length`,
			`RESP HTTP/1.1 201 "Created" body="x" wire=1 flags=`,
		},
		errs: 1,
		err:  ErrContentLength,
	},
	{
		name: "response content-length overflowing int64",
		in:   "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
		want: []string{`RESP HTTP/1.1 200 "OK" body="" wire=0 flags=bad-framing anomalies=invalid-content-length`},
		errs: 1,
	},
	{
		name: "response content-length -1",
		in:   "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		want: []string{`RESP HTTP/1.1 200 "OK" body="" wire=0 flags=bad-framing anomalies=invalid-content-length`},
		errs: 1,
	},
	{
		name: "response conflicting content-length in one list",
		in:   "HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nabc",
		want: []string{`RESP HTTP/1.1 200 "OK" body="" wire=0 flags=bad-framing anomalies=conflicting-content-length`},
		errs: 1,
	},
	{
		name: "request content-length and chunked: chunked frames it",
		in: "POST /s HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk("smuggled", 3) +
			"GET /n HTTP/1.1\r\nHost: h\r\n\r\n",
		want: []string{
			`REQ POST /s HTTP/1.1 path=/s q= host=h body="smuggled" wire=8 flags=chunked anomalies=content-length-with-transfer-encoding`,
			`REQ GET /n HTTP/1.1 path=/n q= host=h body="" wire=0 flags=`,
		},
	},
	{
		name: "response content-length and chunked: chunked frames it",
		in:   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 100\r\n\r\n" + chunk("ok", 5),
		want: []string{`RESP HTTP/1.1 200 "OK" body="ok" wire=2 flags=chunked anomalies=content-length-with-transfer-encoding`},
	},
	{
		name: "request content-length and transfer-encoding not chunked final",
		in:   "POST /s HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked, gzip\r\n\r\nabc",
		want: []string{`REQ POST /s HTTP/1.1 path=/s q= host= body="" wire=0 flags=bad-framing anomalies=content-length-with-transfer-encoding,transfer-encoding-not-chunked-final`},
		errs: 1,
		err:  ErrTransferEncoding,
	},
	{
		name: "transfer-encoding in http/1.0 is bad framing",
		in:   "POST /old HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk("x", 1),
		want: []string{`REQ POST /old HTTP/1.0 path=/old q= host= body="" wire=0 flags=bad-framing anomalies=transfer-encoding-in-http/1.0`},
		errs: 1,
	},
	{
		name: "mid-stream start",
		in:   "ody\",\"x\":1}\r\n\r\nsome more\nGET /after HTTP/1.1\r\nHost: h\r\n\r\n",
		want: []string{`REQ GET /after HTTP/1.1 path=/after q= host=h body="" wire=0 flags=`},
	},
	{
		name: "mid-stream start responses",
		in:   "tail of a body GET / HTTP/1.1\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
		want: []string{`RESP HTTP/1.1 200 "OK" body="x" wire=1 flags=`},
	},
	{
		name:   "http2 preface",
		in:     h2Preface + "\x00\x00\x00\x04\x00\x00\x00\x00\x00",
		protos: []Protocol{ProtoHTTP2},
	},
	{
		name:   "http2 server settings",
		in:     "\x00\x00\x12\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x64\x00\x04\x00\x01\x00\x00\x00\x05\x00\x00\x40\x00",
		protos: []Protocol{ProtoHTTP2},
	},
	{
		name:   "tls client hello",
		in:     "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03GET / HTTP/1.1\r\n\r\n",
		protos: []Protocol{ProtoTLS},
	},
	{
		name: "obs-fold and bare LF",
		in:   "GET /f HTTP/1.1\nHost: h\nX-Long: one\n  two\n\tthree\nX-Empty:\n\n",
		want: []string{`REQ GET /f HTTP/1.1 path=/f q= host=h body="" wire=0 flags=`},
	},
	{
		name: "body truncated at MaxBody",
		in:   "POST /big HTTP/1.1\r\nContent-Length: 26\r\n\r\nabcdefghijklmnopqrstuvwxyzGET /n HTTP/1.1\r\n\r\n",
		cfg:  func(c *Config) { c.MaxBody = 10 },
		want: []string{
			`REQ POST /big HTTP/1.1 path=/big q= host= body="abcdefghij" wire=26 flags=truncated`,
			`REQ GET /n HTTP/1.1 path=/n q= host= body="" wire=0 flags=`,
		},
	},
	{
		name: "chunked body truncated",
		in:   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk("0123456789abcdef", 5),
		cfg:  func(c *Config) { c.MaxBody = 7 },
		want: []string{`RESP HTTP/1.1 200 "OK" body="0123456" wire=16 flags=truncated|chunked`},
	},
	{
		name: "header too large",
		in:   "GET /h HTTP/1.1\r\nX-Big: " + strings.Repeat("a", 300) + "\r\n\r\nGET /ok HTTP/1.1\r\n\r\n",
		cfg:  func(c *Config) { c.MaxHeaderBytes = 200 },
		want: []string{
			`REQ GET /h HTTP/1.1 path=/h q= host= body="" wire=0 flags=bad-framing anomalies=header-section-too-large`,
			`REQ GET /ok HTTP/1.1 path=/ok q= host= body="" wire=0 flags=`,
		},
		errs: 1,
		err:  ErrHeaderTooLarge,
	},
	{
		name: "too many header fields",
		in:   "GET /h HTTP/1.1\r\n" + strings.Repeat("X-A: b\r\n", maxHeaderFields+1) + "\r\nGET /ok HTTP/1.1\r\n\r\n",
		want: []string{
			`REQ GET /h HTTP/1.1 path=/h q= host= body="" wire=0 flags=bad-framing anomalies=too-many-header-fields`,
			`REQ GET /ok HTTP/1.1 path=/ok q= host= body="" wire=0 flags=`,
		},
		errs: 1,
		err:  ErrTooManyHeaders,
	},
	{
		name: "bad header line",
		in:   "GET /h HTTP/1.1\r\nNo colon here\r\n\r\nGET /ok HTTP/1.1\r\n\r\n",
		want: []string{
			`REQ GET /h HTTP/1.1 path=/h q= host= body="" wire=0 flags=bad-framing anomalies=malformed-header-section`,
			`REQ GET /ok HTTP/1.1 path=/ok q= host= body="" wire=0 flags=`,
		},
		errs: 1,
	},
	{
		name: "bad head found while searching is dropped",
		in:   "\x00junk\nGET /h HTTP/1.1\r\nNo colon here\r\n\r\nGET /ok HTTP/1.1\r\n\r\n",
		want: []string{`REQ GET /ok HTTP/1.1 path=/ok q= host= body="" wire=0 flags=`},
		errs: 1,
	},
	{
		name: "control bytes in a header section in place",
		in:   "HTTP/1.1 200 OK\r\nX-A: a\x01b\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 204 No Content\r\n\r\n",
		want: []string{
			`RESP HTTP/1.1 200 "OK" body="" wire=0 flags=bad-framing anomalies=malformed-header-section`,
			`RESP HTTP/1.1 204 "No Content" body="" wire=0 flags=`,
		},
		errs: 1,
	},
	{
		name: "garbage after a message",
		in:   "GET /a HTTP/1.1\r\n\r\n\x00\x01binary junk\nGET /b HTTP/1.1\r\n\r\n",
		want: []string{
			`REQ GET /a HTTP/1.1 path=/a q= host= body="" wire=0 flags=`,
			`REQ GET /b HTTP/1.1 path=/b q= host= body="" wire=0 flags=`,
		},
		errs: 1,
	},
	{
		name: "bad chunk size",
		in:   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\nHTTP/1.1 204 No\r\n\r\n",
		want: []string{
			`RESP HTTP/1.1 200 "OK" body="abc" wire=3 flags=incomplete|chunked|bad-framing anomalies=malformed-chunk`,
			`RESP HTTP/1.1 204 "No" body="" wire=0 flags=`,
		},
		errs: 1,
	},
	{
		name: "gzip content-encoding",
		in:   respCE("gzip", gz(jsonBody)),
		want: []string{fmt.Sprintf(`RESP HTTP/1.1 200 "OK" body=%q wire=%d flags=`, jsonBody, len(gz(jsonBody)))},
	},
	{
		name: "x-gzip content-encoding",
		in:   respCE("x-gzip", gz(jsonBody)),
		want: []string{fmt.Sprintf(`RESP HTTP/1.1 200 "OK" body=%q wire=%d flags=`, jsonBody, len(gz(jsonBody)))},
	},
	{
		name: "zlib deflate",
		in:   respCE("deflate", zl(jsonBody)),
		want: []string{fmt.Sprintf(`RESP HTTP/1.1 200 "OK" body=%q wire=%d flags=`, jsonBody, len(zl(jsonBody)))},
	},
	{
		name: "raw deflate",
		in:   respCE("deflate", rawDeflate(jsonBody)),
		want: []string{fmt.Sprintf(`RESP HTTP/1.1 200 "OK" body=%q wire=%d flags=`, jsonBody, len(rawDeflate(jsonBody)))},
	},
	{
		name: "brotli",
		in:   respCE("br", br(jsonBody)),
		want: []string{fmt.Sprintf(`RESP HTTP/1.1 200 "OK" body=%q wire=%d flags=`, jsonBody, len(br(jsonBody)))},
	},
	{
		name: "zstd",
		in:   respCE("zstd", zs(jsonBody)),
		want: []string{fmt.Sprintf(`RESP HTTP/1.1 200 "OK" body=%q wire=%d flags=`, jsonBody, len(zs(jsonBody)))},
	},
	{
		name: "layered identity gzip identity gzip",
		in:   respCE("identity, gzip, Identity,GZIP", gz(gz(jsonBody))),
		want: []string{fmt.Sprintf(`RESP HTTP/1.1 200 "OK" body=%q wire=%d flags=`, jsonBody, len(gz(gz(jsonBody))))},
	},
	{
		name: "layered br over zstd",
		in:   respCE("zstd, br", br(zs(jsonBody))),
		want: []string{fmt.Sprintf(`RESP HTTP/1.1 200 "OK" body=%q wire=%d flags=`, jsonBody, len(br(zs(jsonBody))))},
	},
	{
		name: "chunked gzip",
		in:   "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(gz(jsonBody), 7),
		want: []string{fmt.Sprintf(`RESP HTTP/1.1 200 "OK" body=%q wire=%d flags=chunked`, jsonBody, len(gz(jsonBody)))},
	},
	{
		name: "transfer-encoding gzip, chunked",
		in:   "POST /tz HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + chunk(gz(jsonBody), 16),
		want: []string{fmt.Sprintf(`REQ POST /tz HTTP/1.1 path=/tz q= host= body=%q wire=%d flags=chunked`, jsonBody, len(gz(jsonBody)))},
	},
	{
		name: "decode error keeps raw",
		in:   respCE("gzip", "not gzip at all"),
		want: []string{`RESP HTTP/1.1 200 "OK" body="not gzip at all" wire=15 flags=decode-error`},
	},
	{
		name: "unknown coding keeps raw",
		in:   respCE("compress", "LZW?"),
		want: []string{`RESP HTTP/1.1 200 "OK" body="LZW?" wire=4 flags=decode-error`},
	},
	{
		name: "decoding off",
		in:   respCE("gzip", gz("x")),
		cfg:  func(c *Config) { c.Decode = false },
		want: []string{fmt.Sprintf(`RESP HTTP/1.1 200 "OK" body=%q wire=%d flags=`, gz("x"), len(gz("x")))},
	},
	{
		name: "decoded body truncated at MaxBody",
		in:   respCE("gzip", gz(strings.Repeat(jsonBody, 20))),
		cfg:  func(c *Config) { c.MaxBody = 200 },
		want: []string{fmt.Sprintf(`RESP HTTP/1.1 200 "OK" body=%s wire=%d flags=truncated`,
			sumBody([]byte(strings.Repeat(jsonBody, 20)[:200])), len(gz(strings.Repeat(jsonBody, 20))))},
	},
}

func cfgFor(tc parseCase) *Config {
	c := DefaultConfig()
	if tc.cfg != nil {
		tc.cfg(&c)
	}
	return &c
}

// run feeds in, cut at the given offsets, and returns the recorder.
func run(tc parseCase, cuts []int) (*rec, *Parser) {
	r := &rec{pending: slices.Clone(tc.pending)}
	p := NewParser(cfgFor(tc), r)
	ts := time.Unix(1000, 0)
	prev := 0
	for _, c := range append(cuts, len(tc.in)) {
		p.Feed([]byte(tc.in[prev:c]), ts)
		ts = ts.Add(time.Millisecond)
		prev = c
	}
	if tc.close {
		p.Close(ts)
	}
	return r, p
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			r, p := run(tc, nil)
			if !slices.Equal(r.msgs, tc.want) {
				t.Fatalf("messages:\n got %q\nwant %q", r.msgs, tc.want)
			}
			if tc.protos != nil && !slices.Equal(r.protos, tc.protos) {
				t.Errorf("protocols: got %v, want %v", r.protos, tc.protos)
			}
			if tc.protos == nil && len(tc.want) > 0 && !slices.Equal(r.protos, []Protocol{ProtoHTTP1}) {
				t.Errorf("protocols: got %v, want [http/1]", r.protos)
			}
			if got := p.Stats().ParseErrors; got != tc.errs {
				t.Errorf("parse errors: got %d, want %d (last: %v)", got, tc.errs, p.Err())
			}
			if tc.err != nil && !errors.Is(p.Err(), tc.err) {
				t.Errorf("Err() = %v, want %v", p.Err(), tc.err)
			}
		})
	}
}

// TestSplitEverywhere checks that cutting the input at every byte boundary
// (into two pieces, and into single bytes) gives the same messages.
func TestSplitEverywhere(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			whole, p := run(tc, nil)
			if p.Stats().Resyncs > 0 {
				// While resynchronizing every Feed start is a candidate
				// message start, so splits may find more.
				t.Skip("input needs resynchronization")
			}
			for i := 1; i < len(tc.in); i++ {
				r, _ := run(tc, []int{i})
				if !slices.Equal(r.msgs, whole.msgs) || !slices.Equal(r.protos, whole.protos) {
					t.Fatalf("split at %d:\n got %q %v\nwant %q %v", i, r.msgs, r.protos, whole.msgs, whole.protos)
				}
			}
			cuts := make([]int, 0, len(tc.in))
			for i := 1; i < len(tc.in); i++ {
				cuts = append(cuts, i)
			}
			r, _ := run(tc, cuts)
			if !slices.Equal(r.msgs, whole.msgs) || !slices.Equal(r.protos, whole.protos) {
				t.Fatalf("byte by byte:\n got %q %v\nwant %q %v", r.msgs, r.protos, whole.msgs, whole.protos)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	in := "GET /f HTTP/1.1\nhost: h\ncontent-TYPE: a/b\nX-Long: one\n  two\n\tthree\nX-Empty:\nset-cookie: a=1\nSet-Cookie: b=2\n\n"
	r := &rec{}
	p := NewParser(nil, r)
	p.Feed([]byte(in), time.Unix(1, 0))
	if len(r.reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(r.reqs))
	}
	got := sumHeader(r.reqs[0].Header)
	want := ` Content-Type=["a/b"] Host=["h"] Set-Cookie=["a=1" "b=2"] X-Empty=[""] X-Long=["one two three"]`
	if got != want {
		t.Errorf("header:\n got %s\nwant %s", got, want)
	}
}

func TestTrailers(t *testing.T) {
	in := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n1\r\na\r\n0\r\nX-Sum: 99\r\n\r\n"
	r := &rec{}
	p := NewParser(nil, r)
	p.Feed([]byte(in), time.Unix(1, 0))
	if len(r.resps) != 1 || r.resps[0].Header.Get("X-Sum") != "99" {
		t.Fatalf("trailer not merged: %v", r.msgs)
	}
}

func TestTimestamps(t *testing.T) {
	r := &rec{}
	p := NewParser(nil, r)
	t1, t2, t3 := time.Unix(10, 0), time.Unix(20, 0), time.Unix(30, 0)
	p.Feed([]byte("HTTP/1.1 200 OK\r\nContent-Len"), t1)
	p.Feed([]byte("gth: 4\r\n\r\nab"), t2)
	p.Feed([]byte("cdHTTP/1.1 204 No Content\r\n\r\n"), t3)
	if len(r.resps) != 2 {
		t.Fatalf("got %q", r.msgs)
	}
	if a := r.resps[0]; !a.Start.Equal(t1) || !a.End.Equal(t3) {
		t.Errorf("first: start %v end %v, want %v %v", a.Start, a.End, t1, t3)
	}
	if b := r.resps[1]; !b.Start.Equal(t3) || !b.End.Equal(t3) {
		t.Errorf("second: start %v end %v, want %v %v", b.Start, b.End, t3, t3)
	}

	// A start line split across Feeds starts with its first piece.
	r = &rec{}
	p = NewParser(nil, r)
	p.Feed([]byte("GE"), t1)
	p.Feed([]byte("T /a HT"), t2)
	p.Feed([]byte("TP/1.1\r\n\r\n"), t3)
	if len(r.reqs) != 1 || !r.reqs[0].Start.Equal(t1) || !r.reqs[0].End.Equal(t3) {
		t.Errorf("split start line: %q start %v end %v, want %v %v", r.msgs, r.reqs[0].Start, r.reqs[0].End, t1, t3)
	}
}

func TestGaps(t *testing.T) {
	type step struct {
		data string
		gap  int // if data == "": Gap(gap)
	}
	tests := []struct {
		name    string
		steps   []step
		want    []string
		resyncs int64
	}{
		{
			name: "known length survives",
			steps: []step{
				{data: "POST /a HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"},
				{gap: 4},
				{data: "hijGET /b HTTP/1.1\r\n\r\n"},
			},
			want: []string{
				`REQ POST /a HTTP/1.1 path=/a q= host= body="abc" wire=10 flags=gap`,
				`REQ GET /b HTTP/1.1 path=/b q= host= body="" wire=0 flags=`,
			},
		},
		{
			name: "gap ends the body exactly",
			steps: []step{
				{data: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"},
				{gap: 7},
				{data: "HTTP/1.1 204 No Content\r\n\r\n"},
			},
			want: []string{
				`RESP HTTP/1.1 200 "OK" body="abc" wire=10 flags=gap`,
				`RESP HTTP/1.1 204 "No Content" body="" wire=0 flags=`,
			},
		},
		{
			name: "gap longer than the body resyncs",
			steps: []step{
				{data: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"},
				{gap: 100},
				{data: "ody of something\r\nHTTP/1.1 204 No Content\r\n\r\n"},
			},
			want: []string{
				`RESP HTTP/1.1 200 "OK" body="abc" wire=3 flags=gap|incomplete`,
				`RESP HTTP/1.1 204 "No Content" body="" wire=0 flags=`,
			},
			resyncs: 1,
		},
		{
			name: "chunked resyncs",
			steps: []step{
				{data: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n01234"},
				{gap: 3},
				{data: "89\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz"},
			},
			want: []string{
				`RESP HTTP/1.1 200 "OK" body="01234" wire=5 flags=gap|incomplete|chunked`,
				`RESP HTTP/1.1 200 "OK" body="z" wire=1 flags=`,
			},
			resyncs: 1,
		},
		{
			name: "unknown gap in headers",
			steps: []step{
				{data: "GET /x HTTP/1.1\r\nHost: h\r\nUser-"},
				{gap: -1},
				{data: "gent: y\r\n\r\nGET /y HTTP/1.1\r\n\r\n"},
			},
			want: []string{
				`REQ GET /x HTTP/1.1 path=/x q= host=h body="" wire=0 flags=gap|incomplete`,
				`REQ GET /y HTTP/1.1 path=/y q= host= body="" wire=0 flags=`,
			},
			resyncs: 1,
		},
		{
			name: "gap in close-delimited body",
			steps: []step{
				{data: "HTTP/1.0 200 OK\r\n\r\nabc"},
				{gap: 5},
				{data: "xyz"},
			},
			want: []string{`RESP HTTP/1.0 200 "OK" body="abc" wire=11 flags=gap`},
		},
		{
			name: "gap before the first message",
			steps: []step{
				{gap: 10},
				{data: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz"},
			},
			want: []string{`RESP HTTP/1.1 200 "OK" body="z" wire=1 flags=`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &rec{}
			p := NewParser(nil, r)
			for _, s := range tc.steps {
				if s.data == "" {
					p.Gap(s.gap, time.Unix(1, 0))
				} else {
					p.Feed([]byte(s.data), time.Unix(1, 0))
				}
			}
			p.Close(time.Unix(2, 0))
			if !slices.Equal(r.msgs, tc.want) {
				t.Fatalf("messages:\n got %q\nwant %q", r.msgs, tc.want)
			}
			if got := p.Stats().Resyncs; got != tc.resyncs {
				t.Errorf("resyncs: got %d, want %d", got, tc.resyncs)
			}
		})
	}
}

func TestGarbage(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 200<<10)
	for i := range buf {
		buf[i] = byte(rnd.Uint32())
	}
	buf[0] = 0xff // not a TLS or HTTP/2 start
	r := &rec{}
	p := NewParser(nil, r)
	for i := 0; i < len(buf); i += 1460 {
		p.Feed(buf[i:min(i+1460, len(buf))], time.Unix(1, 0))
	}
	p.Close(time.Unix(2, 0))
	if len(r.msgs) != 0 {
		t.Errorf("garbage gave messages: %q", r.msgs)
	}
	if !slices.Equal(r.protos, []Protocol{ProtoOther}) {
		t.Errorf("protocols: got %v, want [other]", r.protos)
	}
	if s := p.Stats(); s.SkippedBytes < maxProbe || s.SkippedBytes > maxProbe+1460 {
		t.Errorf("skipped %d bytes, want about %d", s.SkippedBytes, maxProbe)
	}
}

// TestBomb checks that a decompression bomb is cut at MaxDecoded and that
// decoding it does not allocate in proportion to its expanded size.
func TestBomb(t *testing.T) {
	const expanded = 10 << 20
	bomb := gz(string(make([]byte, expanded)))
	in := []byte(respCE("gzip", bomb))
	cfg := DefaultConfig()
	cfg.MaxBody = 2 << 20
	cfg.MaxDecoded = 1 << 20
	r := &rec{}
	// Warm the decoder pool so that the measurement is about the body.
	NewParser(&cfg, r).Feed(in, time.Unix(1, 0))
	r.msgs, r.resps = nil, nil

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	p := NewParser(&cfg, r)
	p.Feed(in, time.Unix(1, 0))
	r.readBodies()
	runtime.ReadMemStats(&after)

	if len(r.resps) != 1 {
		t.Fatalf("got %q", r.msgs)
	}
	resp := r.resps[0]
	if !resp.AllFlags().Has(message.FlagBombCut) || len(resp.Body.Bytes()) != cfg.MaxDecoded {
		t.Errorf("flags %v, body %d bytes; want bomb-cut and %d", resp.AllFlags(), len(resp.Body.Bytes()), cfg.MaxDecoded)
	}
	if n := p.Decoding().Stats().BombsCut; n != 1 {
		t.Errorf("BombsCut = %d", n)
	}
	// The kept body, plus the work buffer grown by doubling up to it.
	if got := after.TotalAlloc - before.TotalAlloc; got > 4*uint64(cfg.MaxDecoded) {
		t.Errorf("decoding a %d-byte bomb allocated %d bytes (MaxDecoded %d)", expanded, got, cfg.MaxDecoded)
	}

	// With the default MaxBody below MaxDecoded, the body is cut at MaxBody.
	r = &rec{}
	NewParser(nil, r).Feed(in, time.Unix(1, 0))
	if f := r.resps[0].AllFlags(); !f.Has(message.FlagBombCut|message.FlagBodyTruncated) || len(r.resps[0].Body.Bytes()) != DefaultConfig().MaxBody {
		t.Errorf("default config: flags %v, body %d", f, len(r.resps[0].Body.Bytes()))
	}
}

func TestTunnelCall(t *testing.T) {
	r := &rec{}
	p := NewParser(nil, r)
	p.Feed([]byte("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n"), time.Unix(1, 0))
	p.Tunnel()
	p.Feed([]byte("GET /not-http HTTP/1.1\r\n\r\n"), time.Unix(1, 0))
	if len(r.msgs) != 1 {
		t.Errorf("got %q", r.msgs)
	}
}

func TestRawCutKeepsDecoded(t *testing.T) {
	plain := strings.Repeat(jsonBody, 100)
	for _, enc := range []struct {
		name string
		f    func(string) string
	}{{"gzip", gz}, {"deflate", zl}, {"br", br}, {"zstd", zs}} {
		t.Run(enc.name, func(t *testing.T) {
			z := enc.f(plain)
			cfg := DefaultConfig()
			cfg.MaxBody = len(z) / 2
			r := &rec{}
			NewParser(&cfg, r).Feed([]byte(respCE(enc.name, z)), time.Unix(1, 0))
			if len(r.resps) != 1 {
				t.Fatalf("got %q", r.msgs)
			}
			resp := r.resps[0]
			if resp.WireSize != int64(len(z)) || !resp.AllFlags().Has(message.FlagBodyTruncated) {
				t.Errorf("wire %d flags %v; want %d, truncated", resp.WireSize, resp.Flags, len(z))
			}
			if resp.AllFlags().Has(message.FlagDecodeError) {
				// Some decoders emit nothing before they see more input;
				// then the raw prefix is what there is.
				if !strings.HasPrefix(z, string(resp.Body.Bytes())) {
					t.Errorf("decode error but body is not the raw prefix")
				}
				return
			}
			if len(resp.Body.Bytes()) == 0 || !strings.HasPrefix(plain, string(resp.Body.Bytes())) {
				t.Errorf("body %s is not a prefix of the plain text", sumBody(resp.Body.Bytes()))
			}
		})
	}
}

// TestBounded feeds endless lines, one small piece at a time, and checks
// that no buffer grows past its limit.
func TestBounded(t *testing.T) {
	for _, tc := range []struct {
		name, prefix string
		fill         byte
		limit        func(Config) int
	}{
		{"header line without end", "GET / HTTP/1.1\r\nX-A: ", 'a', func(c Config) int { return c.MaxHeaderBytes + 1 }},
		{"candidate line without end", "\x01", 'A', func(c Config) int { return maxCandidate + 1 }},
		{"chunk size line without end", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;", 'x', func(Config) int { return maxChunkLine }},
		{"trailer without end", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: ", 'y', func(c Config) int { return c.MaxHeaderBytes + 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			r := &rec{}
			p := NewParser(&cfg, r)
			p.Feed([]byte(tc.prefix), time.Unix(1, 0))
			piece := bytes.Repeat([]byte{tc.fill}, 7)
			peak := 0
			for range (1 << 20) / len(piece) {
				p.Feed(piece, time.Unix(1, 0))
				peak = max(peak, len(p.buf), len(p.line))
			}
			if peak > tc.limit(cfg) {
				t.Errorf("a buffer reached %d bytes, limit %d", peak, tc.limit(cfg))
			}
			if p.Stats().ParseErrors == 0 && p.Stats().SkippedBytes == 0 {
				t.Errorf("1 MiB without a line end went unnoticed: %+v", p.Stats())
			}
		})
	}
}

// TestConcurrentDecoding runs parsers on several goroutines, as the
// connection workers do, sharing the decoder pools (run with -race).
func TestConcurrentDecoding(t *testing.T) {
	plain := strings.Repeat(jsonBody, 30)
	var in []byte
	for _, e := range []struct {
		name string
		f    func(string) string
	}{{"gzip", gz}, {"deflate", zl}, {"deflate", rawDeflate}, {"br", br}, {"zstd", zs}, {"gzip, gzip", func(s string) string { return gz(gz(s)) }}} {
		in = append(in, respCE(e.name, e.f(plain))...)
	}
	errs := make(chan string, 8)
	for range 4 {
		go func() {
			var bad string
			for range 25 {
				r := &rec{}
				NewParser(nil, r).Feed(in, time.Unix(1, 0))
				for _, resp := range r.resps {
					if string(resp.Body.Bytes()) != plain || resp.Flags != 0 {
						bad = fmt.Sprintf("body %s flags %v", sumBody(resp.Body.Bytes()), resp.Flags)
					}
				}
				if len(r.resps) != 6 {
					bad = fmt.Sprintf("%d responses", len(r.resps))
				}
			}
			errs <- bad
		}()
	}
	for range 4 {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}

package har

import (
	"bytes"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/message"
)

// writeAll writes xs as one HAR document.
func writeAll(t testing.TB, xs []*reassembly.Exchange) (*bytes.Buffer, *Writer) {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, "specter", "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range xs {
		if err := w.Write(x); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, w
}

// roundTrip writes xs as HAR and reads them back.
func roundTrip(t testing.TB, xs []*reassembly.Exchange) []*reassembly.Exchange {
	t.Helper()
	buf, _ := writeAll(t, xs)
	got, err := Read(buf)
	if err != nil {
		t.Fatalf("reading what Write wrote: %v", err)
	}
	return got
}

// summary is what HAR carries of an exchange (see Write), as text.
func summary(x *reassembly.Exchange) string {
	var b strings.Builder
	if r := x.Request; r != nil {
		fmt.Fprintf(&b, "req %s %s://%s %s path=%s q=%s %s fields=%q header=%v body=%q start=%s end=%s\n",
			r.Method, r.Scheme, r.Authority, r.Target, r.Path, r.RawQuery, r.Proto, r.Fields(), r.Header, r.Body.Bytes(),
			r.Start.UTC().Format(time.RFC3339Nano), r.End.UTC().Format(time.RFC3339Nano))
	}
	if r := x.Response; r != nil {
		fmt.Fprintf(&b, "resp %d %q %s fields=%q header=%v body=%q start=%s end=%s\n",
			r.StatusCode, r.Reason, r.Proto, r.Fields(), r.Header, r.Body.Bytes(),
			r.Start.UTC().Format(time.RFC3339Nano), r.End.UTC().Format(time.RFC3339Nano))
	}
	fmt.Fprintf(&b, "unmatched=%v anomalies=%q server=%v", x.Flags.Has(reassembly.FlagUnmatchedRequest), x.Anomalies, x.Flow.Server.Addr())
	return b.String()
}

// TestRoundTrip: Read gives back what Write was given, as far as HAR holds
// it.
func TestRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)
	server := netip.MustParseAddrPort("10.1.2.3:80")
	binary := []byte{0x00, 0xff, 0x89, 'P', 'N', 'G', '\r', '\n'}
	req := func(method, scheme, authority, path, query, raw string, h http.Header, body []byte) *message.Request {
		target := path
		if query != "" {
			target += "?" + query
		}
		r := &message.Request{Method: method, Scheme: scheme, Authority: authority, Target: target, Path: path, RawQuery: query,
			Proto: "HTTP/1.1", Header: h, RawHeader: raw, Start: t0, End: t0.Add(1500 * time.Microsecond)}
		if body != nil {
			r.Body, r.WireSize = message.NewBody(body, 0), int64(len(body))
		}
		return r
	}
	resp := func(code int, reason, raw string, h http.Header, body []byte) *message.Response {
		r := &message.Response{StatusCode: code, Reason: reason, Proto: "HTTP/1.1", Header: h, RawHeader: raw,
			Start: t0.Add(3 * time.Millisecond), End: t0.Add(3*time.Millisecond + 7*time.Nanosecond)}
		if body != nil {
			r.Body, r.WireSize = message.NewBody(body, 0), int64(len(body))
		}
		return r
	}
	tests := []struct {
		name string
		x    *reassembly.Exchange
	}{
		{"JSON both ways, names as sent", &reassembly.Exchange{
			Request: req("POST", "http", "api.test:8080", "/v1/users/42", "x=1&y=%20z", "host: api.test:8080\r\ncontent-type: application/json\r\nX-Trace: a\r\nx-trace: b\r\n\r\n",
				http.Header{"Host": {"api.test:8080"}, "Content-Type": {"application/json"}, "X-Trace": {"a", "b"}}, []byte(`{"a":1}`)),
			Response: resp(201, "Created", "Content-Type: application/json\r\nset-cookie: s=1\r\n\r\n",
				http.Header{"Content-Type": {"application/json"}, "Set-Cookie": {"s=1"}}, []byte(`{"id":42}`))}},
		{"binary bodies, https", &reassembly.Exchange{
			Request:  req("PUT", "https", "files.test", "/blob", "", "Host: files.test\r\n\r\n", http.Header{"Host": {"files.test"}}, binary),
			Response: resp(200, "OK", "Content-Type: image/png\r\n\r\n", http.Header{"Content-Type": {"image/png"}}, binary)}},
		{"trailer fields after the raw ones", &reassembly.Exchange{
			Request:  req("GET", "http", "h", "/t", "", "Host: h\r\n\r\n", http.Header{"Host": {"h"}}, nil),
			Response: resp(200, "OK", "Transfer-Encoding: chunked\r\n\r\n", http.Header{"Transfer-Encoding": {"chunked"}, "X-Sum": {"9"}, "X-A": {"1", "2"}}, []byte("abc"))}},
		{"unmatched request with anomalies", &reassembly.Exchange{
			Request: req("POST", "http", "h", "/u", "", "Host: h\r\n\r\n", http.Header{"Host": {"h"}}, []byte("x=1")),
			Flags:   reassembly.FlagUnmatchedRequest, Anomalies: []string{"invalid-content-length", reassembly.AnomalyUnpairedAfterBadFraming}}},
		{"a hostile Host header stays a header", &reassembly.Exchange{
			Request:  req("GET", "http", "evil/../x?y", "/real", "", "Host: evil/../x?y\r\n\r\n", http.Header{"Host": {"evil/../x?y"}}, nil),
			Response: resp(404, "Not Found", "", http.Header{}, nil)}},
		{"values with odd white space: no raw section", &reassembly.Exchange{
			Request:  req("GET", "http", "h", "/", "", "", http.Header{"Host": {"h"}, "X-Pad": {" padded "}}, nil),
			Response: resp(204, "No Content", "", http.Header{}, nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.x.Flow.Server = server
			got := roundTrip(t, []*reassembly.Exchange{tt.x})
			if len(got) != 1 {
				t.Fatalf("read %d exchanges, want 1", len(got))
			}
			if g, w := summary(got[0]), summary(tt.x); g != w {
				t.Errorf("round trip:\n got  %s\n want %s", g, w)
			}
		})
	}
}

// FuzzRoundTrip: reading any input never panics, every exchange read has
// a path starting with "/", and what was read once reads back the same
// after a write (one round is a fixed point).
func FuzzRoundTrip(f *testing.F) {
	f.Add(sample)
	f.Add(`{"log":{"entries":[{"request":{"url":"x"}}]}}`)
	f.Add(`{"log":{"entries":[{"request":{"method":"GET","url":"https://a.test/p?q","headers":[{"name":"host","value":"b/c"},{"name":"x","value":" y"}]},"response":{"status":200,"content":{"text":"AAE=","encoding":"base64"}}}]}}`)
	f.Fuzz(func(t *testing.T, in string) {
		xs, err := Read(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, x := range xs {
			if x.Request == nil || !strings.HasPrefix(x.Request.Path, "/") {
				t.Fatalf("bad exchange %+v", x.Request)
			}
		}
		ys := roundTrip(t, xs)
		if len(ys) != len(xs) {
			t.Fatalf("read %d, after a round trip %d", len(xs), len(ys))
		}
		for i := range xs {
			if a, b := summary(xs[i]), summary(ys[i]); a != b {
				t.Fatalf("entry %d changed in a round trip:\n first  %s\n second %s", i, a, b)
			}
		}
	})
}

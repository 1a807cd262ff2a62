package http1

import (
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/specter-dev/specter/reassembly/message"
)

// The parser keeps the header section as sent, whole or cut short by the
// end of the stream, while Header stays canonical for inference.
func TestRawHeader(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		close bool
		want  []message.Field
	}{
		{"request", "GET / HTTP/1.1\r\napi_key: k\r\nhost: h\r\nX-B: 1\r\nx-a: 2\r\n\r\n", false,
			[]message.Field{{Name: "api_key", Value: "k"}, {Name: "host", Value: "h"}, {Name: "X-B", Value: "1"}, {Name: "x-a", Value: "2"}}},
		{"response", "HTTP/1.1 204 No Content\r\nx-b: 1\r\nServer: s\r\n\r\n", false,
			[]message.Field{{Name: "x-b", Value: "1"}, {Name: "Server", Value: "s"}}},
		{"head cut by the end of the stream", "GET / HTTP/1.1\r\nx-z: 1\r\napi_key: k\r\nx-cut", true,
			[]message.Field{{Name: "x-z", Value: "1"}, {Name: "api_key", Value: "k"}}},
	}
	for _, tt := range tests {
		r := &rec{}
		p := NewParser(nil, r)
		p.Feed([]byte(tt.in), time.Unix(1, 0))
		if tt.close {
			p.Close(time.Unix(2, 0))
		}
		var raw string
		var h http.Header
		switch {
		case len(r.reqs) == 1:
			raw, h = r.reqs[0].RawHeader, r.reqs[0].Header
		case len(r.resps) == 1:
			raw, h = r.resps[0].RawHeader, r.resps[0].Header
		default:
			t.Fatalf("%s: got %d requests and %d responses", tt.name, len(r.reqs), len(r.resps))
		}
		if got := message.Fields(raw, h); !slices.Equal(got, tt.want) {
			t.Errorf("%s: fields %q, want %q", tt.name, got, tt.want)
		}
		for _, f := range tt.want {
			if k := message.CanonicalKey(f.Name); h[k] == nil {
				t.Errorf("%s: Header lacks canonical %q: %v", tt.name, k, h)
			}
		}
	}
}

// Trailer fields are kept apart in Trailer and merged into Header; the
// scheme and authority of an absolute-form target are the request's.
func TestTrailerSchemeAuthority(t *testing.T) {
	tests := []struct {
		name, in                 string
		scheme, authority        string
		trailer                  http.Header
		headerName, headerValues string
	}{
		{"chunked with a trailer", "POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nX-Sum: 1\r\n\r\n3\r\nabc\r\n0\r\nx-sum: 2\r\nX-Late: z\r\n\r\n",
			"", "h", http.Header{"X-Sum": {"2"}, "X-Late": {"z"}}, "X-Sum", "1,2"},
		{"no trailer", "POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
			"", "h", nil, "Host", "h"},
		{"absolute-form https", "GET HTTPS://api.example.com:8443/v1?q=1 HTTP/1.1\r\nHost: other\r\n\r\n",
			"https", "other", nil, "Host", "other"},
		{"absolute-form http, no Host", "GET http://u@api.example.com/v1 HTTP/1.1\r\n\r\n",
			"http", "api.example.com", nil, "", ""},
	}
	for _, tt := range tests {
		r := &rec{}
		NewParser(nil, r).Feed([]byte(tt.in), time.Unix(1, 0))
		if len(r.reqs) != 1 {
			t.Fatalf("%s: %d requests", tt.name, len(r.reqs))
		}
		q := r.reqs[0]
		if q.Scheme != tt.scheme || q.Authority != tt.authority {
			t.Errorf("%s: scheme %q authority %q, want %q %q", tt.name, q.Scheme, q.Authority, tt.scheme, tt.authority)
		}
		if !reflect.DeepEqual(q.Trailer, tt.trailer) {
			t.Errorf("%s: Trailer %v, want %v", tt.name, q.Trailer, tt.trailer)
		}
		if tt.headerName != "" {
			if got := strings.Join(q.Header[tt.headerName], ","); got != tt.headerValues {
				t.Errorf("%s: Header[%s] = %q, want %q", tt.name, tt.headerName, got, tt.headerValues)
			}
		}
	}
}

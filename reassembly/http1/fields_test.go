package http1

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

func TestFields(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		h    http.Header
		want []Field
	}{
		{"names as sent, in order", "api_key: k\r\nHost: h\r\nx-Trace: 1\r\napi_key: k2\r\n\r\n", nil,
			[]Field{{"api_key", "k"}, {"Host", "h"}, {"x-Trace", "1"}, {"api_key", "k2"}}},
		{"obs-fold joins", "X-Long: one\n  two\n\tthree\nX-Empty:\n two\n\n", nil,
			[]Field{{"X-Long", "one two three"}, {"X-Empty", "two"}}},
		{"stops at a line that is not a field", "a: 1\nbad line\nb: 2\n", nil, []Field{{"a", "1"}}},
		{"stops at an invalid name", "a: 1\nb c: 2\n", nil, []Field{{"a", "1"}}},
		{"a fold first is not a field", " x\na: 1\n", nil, nil},
		{"trailers after, sorted", "Transfer-Encoding: chunked\r\n\r\n",
			http.Header{"Transfer-Encoding": {"chunked"}, "X-Sum": {"99"}, "X-A": {"1", "2"}},
			[]Field{{"Transfer-Encoding", "chunked"}, {"X-A", "1"}, {"X-A", "2"}, {"X-Sum", "99"}}},
		{"raw names match the canonical map", "content-type: a/b\n\n", http.Header{"Content-Type": {"a/b"}},
			[]Field{{"content-type", "a/b"}}},
		{"no raw head: the map, sorted", "", http.Header{"B": {"2"}, "A": {"1"}}, []Field{{"A", "1"}, {"B", "2"}}},
	}
	for _, tt := range tests {
		if got := Fields(tt.raw, tt.h); !slices.Equal(got, tt.want) {
			t.Errorf("%s: Fields = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// The parser keeps the header section as sent, whole or cut short by the
// end of the stream, while Header stays canonical for inference.
func TestRawHeader(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		close bool
		want  []Field
	}{
		{"request", "GET / HTTP/1.1\r\napi_key: k\r\nhost: h\r\nX-B: 1\r\nx-a: 2\r\n\r\n", false,
			[]Field{{"api_key", "k"}, {"host", "h"}, {"X-B", "1"}, {"x-a", "2"}}},
		{"response", "HTTP/1.1 204 No Content\r\nx-b: 1\r\nServer: s\r\n\r\n", false,
			[]Field{{"x-b", "1"}, {"Server", "s"}}},
		{"head cut by the end of the stream", "GET / HTTP/1.1\r\nx-z: 1\r\napi_key: k\r\nx-cut", true,
			[]Field{{"x-z", "1"}, {"api_key", "k"}}},
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
		if got := Fields(raw, h); !slices.Equal(got, tt.want) {
			t.Errorf("%s: fields %q, want %q", tt.name, got, tt.want)
		}
		for _, f := range tt.want {
			if k := CanonicalKey(f.Name); h[k] == nil {
				t.Errorf("%s: Header lacks canonical %q: %v", tt.name, k, h)
			}
		}
	}
}

func FuzzFields(f *testing.F) {
	f.Add("a: 1\r\n b\r\nB: 2\r\n\r\n")
	f.Add("api_key: k\n\n")
	f.Fuzz(func(t *testing.T, raw string) {
		for _, fl := range Fields(raw, http.Header{"Z-Trailer": {"1"}}) {
			if fl.Name == "" {
				t.Fatalf("Fields(%q): a field without a name", raw)
			}
		}
	})
}

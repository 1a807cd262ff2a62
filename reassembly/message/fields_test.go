package message

import (
	"net/http"
	"slices"
	"testing"
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

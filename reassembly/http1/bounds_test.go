package http1

import (
	"strings"
	"testing"
	"time"

	"github.com/specter-dev/specter/reassembly/message"
)

// Every bound the parser enforces has its own counter.
func TestBoundCounters(t *testing.T) {
	fields := func(n int) string {
		var b strings.Builder
		for i := range n {
			b.WriteString("X-F" + strings.Repeat("a", i%7) + ": v\r\n")
		}
		return b.String()
	}
	// A zstd frame declaring a 16 MiB window (exponent 14), with one raw
	// block holding "x".
	bigWindow := "\x28\xb5\x2f\xfd\x00\x70\x09\x00\x00x"
	tests := []struct {
		name  string
		feeds []string
		cfg   func(*Config)
		stat  func(counts) int64
		want  int64
	}{
		{
			name:  "header section too large",
			feeds: []string{"GET / HTTP/1.1\r\nX-Big: " + strings.Repeat("a", 2000) + "\r\n\r\n"},
			cfg:   func(c *Config) { c.MaxHeaderBytes = 1024 },
			stat:  func(s counts) int64 { return s.HeadersTooLarge },
			want:  1,
		},
		{
			name:  "trailer section too large",
			feeds: []string{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: " + strings.Repeat("a", 2000) + "\r\n\r\n"},
			cfg:   func(c *Config) { c.MaxHeaderBytes = 1024 },
			stat:  func(s counts) int64 { return s.HeadersTooLarge },
			want:  1,
		},
		{
			name:  "too many header fields",
			feeds: []string{"GET / HTTP/1.1\r\n" + fields(maxHeaderFields+1) + "\r\n"},
			stat:  func(s counts) int64 { return s.TooManyFields },
			want:  1,
		},
		{
			name:  "too many trailer fields",
			feeds: []string{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + fields(maxHeaderFields+1) + "\r\n"},
			stat:  func(s counts) int64 { return s.TooManyFields },
			want:  1,
		},
		{
			name:  "chunk-size line too long",
			feeds: []string{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;ext=" + strings.Repeat("e", maxChunkLine) + "\r\nx\r\n0\r\n\r\n"},
			stat:  func(s counts) int64 { return s.ChunkLinesTooLong },
			want:  1,
		},
		{
			name: "chunk-size line too long across feeds",
			feeds: []string{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;ext=" + strings.Repeat("e", maxChunkLine/2),
				strings.Repeat("e", maxChunkLine/2) + "\r\nx\r\n0\r\n\r\n"},
			stat: func(s counts) int64 { return s.ChunkLinesTooLong },
			want: 1,
		},
		{
			name:  "start line longer than a candidate may be, in one feed",
			feeds: []string{"GET /" + strings.Repeat("a", maxCandidate), " HTTP/1.1\r\n\r\n"},
			stat:  func(s counts) int64 { return s.LongStartLines },
			want:  1,
		},
		{
			name:  "start line longer than a candidate may be, across feeds",
			feeds: []string{"GET /", strings.Repeat("a", maxCandidate), " HTTP/1.1\r\n\r\n"},
			stat:  func(s counts) int64 { return s.LongStartLines },
			want:  1,
		},
		{
			name:  "no message in the first maxProbe bytes",
			feeds: []string{strings.Repeat("\x01", maxProbe)},
			stat:  func(s counts) int64 { return s.ProbeLimit },
			want:  1,
		},
		{
			name:  "zstd window too large",
			feeds: []string{respCE("zstd", bigWindow)},
			stat:  func(s counts) int64 { return s.Decode.WindowTooLarge },
			want:  1,
		},
		{
			name:  "none of them",
			feeds: []string{"GET / HTTP/1.1\r\n" + fields(maxHeaderFields) + "\r\n", respCE("zstd", zs("x"))},
			stat: func(s counts) int64 {
				return s.HeadersTooLarge + s.TooManyFields + s.ChunkLinesTooLong + s.LongStartLines + s.ProbeLimit + s.Decode.WindowTooLarge
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			r := &rec{}
			p := NewParser(&cfg, r)
			for _, f := range tt.feeds {
				p.Feed([]byte(f), time.Unix(1, 0))
			}
			p.Close(time.Unix(2, 0))
			r.readBodies() // what decoding finds is counted when read
			c := counts{p.Stats(), p.Decoding().Stats()}
			if got := tt.stat(c); got != tt.want {
				t.Errorf("counter = %d, want %d (stats %+v)", got, tt.want, c)
			}
		})
	}
}

// counts are a parser's counters with those of its Decoding.
type counts struct {
	Stats
	Decode message.DecodeStats
}

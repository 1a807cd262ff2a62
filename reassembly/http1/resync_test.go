package http1

import (
	"testing"
	"time"
)

// Resynchronization finds messages that do not start a line or a segment,
// once the stream has shown its role.
func TestResyncMidLine(t *testing.T) {
	ts := time.Unix(1, 0)
	tests := []struct {
		name  string
		feeds []string // a gap of unknown size before each but the first
		want  []string
	}{
		{
			name: "response glued to the tail of a body whose head was lost",
			feeds: []string{
				"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
				`,"b":2}]}HTTP/1.1 204 No Content` + "\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
			},
			want: []string{
				`RESP HTTP/1.1 200 "OK" body="ok" wire=2 flags=`,
				`RESP HTTP/1.1 204 "No Content" body="" wire=0 flags=`,
				`RESP HTTP/1.1 200 "OK" body="x" wire=1 flags=`,
			},
		},
		{
			name: "request glued to the tail of a form body",
			feeds: []string{
				"GET /a HTTP/1.1\r\nHost: h\r\n\r\n",
				"name=bobGET /b HTTP/1.1\r\nHost: h\r\n\r\n",
			},
			want: []string{
				`REQ GET /a HTTP/1.1 path=/a q= host=h body="" wire=0 flags=`,
				`REQ GET /b HTTP/1.1 path=/b q= host=h body="" wire=0 flags=`,
			},
		},
		{
			name: "request after a JSON body",
			feeds: []string{
				"GET /a HTTP/1.1\r\nHost: h\r\n\r\n",
				`"x":1}}PUT /c/1 HTTP/1.1` + "\r\nHost: h\r\nContent-Length: 2\r\n\r\n{}",
			},
			want: []string{
				`REQ GET /a HTTP/1.1 path=/a q= host=h body="" wire=0 flags=`,
				`REQ PUT /c/1 HTTP/1.1 path=/c/1 q= host=h body="{}" wire=2 flags=`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r rec
			cfg := DefaultConfig()
			p := NewParser(&cfg, &r)
			for i, f := range tt.feeds {
				if i > 0 {
					p.Gap(-1, ts)
				}
				p.Feed([]byte(f), ts)
			}
			p.Close(ts)
			if len(r.msgs) != len(tt.want) {
				t.Fatalf("got %q\nwant %q", r.msgs, tt.want)
			}
			for i := range r.msgs {
				if r.msgs[i] != tt.want[i] {
					t.Errorf("message %d:\n got %s\nwant %s", i, r.msgs[i], tt.want[i])
				}
			}
		})
	}
}

// Until the role is known, text in a body that looks like a request line
// must not make a response stream a request stream.
func TestNoMidLineBeforeRole(t *testing.T) {
	var r rec
	cfg := DefaultConfig()
	p := NewParser(&cfg, &r)
	p.Feed([]byte("docs say: GET /x HTTP/1.1\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), time.Unix(1, 0))
	if len(r.resps) != 1 || len(r.reqs) != 0 {
		t.Fatalf("got %q", r.msgs)
	}
}

// A SOCKS reply (8 binary bytes, one segment) before the HTTP response.
func TestAfterSOCKSReply(t *testing.T) {
	var r rec
	cfg := DefaultConfig()
	p := NewParser(&cfg, &r)
	ts := time.Unix(1, 0)
	p.Feed([]byte("\x00\x5a\xdf\xb2\x0a\xb4\x9c\xf9"), ts)
	p.Feed([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), ts)
	p.Close(ts)
	if len(r.resps) != 1 || string(r.resps[0].Body.Bytes()) != "ok" {
		t.Fatalf("got %q", r.msgs)
	}
}

func TestTargetWithSpaces(t *testing.T) {
	tests := []struct {
		line   string
		ok     bool
		target string
	}{
		{"GET /Hello Arkime HTTP/1.0", true, "/Hello Arkime"},
		{"GET /a HTTP/1.1", true, "/a"},
		{"tail of a body GET / HTTP/1.1", false, ""},
		{"OPTIONS HTTP/1.1", false, ""},
		{"GET  /a HTTP/1.1", false, ""},
		{"GET /a  HTTP/1.1", false, ""},
		{"GET /a\x01b HTTP/1.1", false, ""},
	}
	for _, tt := range tests {
		m, tgt, ok := parseRequestLine(tt.line)
		if ok != tt.ok || (ok && tt.line[m+1:tgt] != tt.target) {
			t.Errorf("%q: ok=%v target=%q", tt.line, ok, tt.line[m+1:tgt])
		}
	}
}

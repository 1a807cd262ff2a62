package redact

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/message"
)

func TestExchange(t *testing.T) {
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
	tests := []struct {
		name   string
		req    message.Request
		resp   *message.Response
		target string
		header http.Header
		body   string
		flags  message.Flags
	}{
		{
			name:   "origin-form target, query and credentials",
			req:    message.Request{Target: "/t/" + jwt + "?token=abcdefghijkl&n=1", Path: "/t/" + jwt, RawQuery: "token=abcdefghijkl&n=1", Header: http.Header{"Authorization": {"Bearer " + jwt}}},
			target: "/t/<redacted:jwt>?token=<redacted:bearer-token>&n=1",
			header: http.Header{"Authorization": {"Bearer <redacted>"}},
		},
		{
			name:   "absolute-form keeps scheme and authority",
			req:    message.Request{Target: "http://h.test/a?password=hunter22", Path: "/a", RawQuery: "password=hunter22", Header: http.Header{}},
			target: "http://h.test/a?password=<redacted:password>",
			header: http.Header{},
		},
		{
			name:   "nothing to redact keeps the target",
			req:    message.Request{Target: "*", Path: "*", Header: http.Header{"Accept": {"*/*"}}},
			target: "*",
			header: http.Header{"Accept": {"*/*"}},
		},
		{
			name:   "json body",
			req:    message.Request{Target: "/", Path: "/", Body: message.NewBody([]byte(`{"password": "hunter22", "n": 1}`), 0)},
			target: "/",
			body:   `{"password":"<redacted:password>","n":1}`,
		},
		{
			name:   "text body",
			req:    message.Request{Target: "/", Path: "/", Body: message.NewBody([]byte("user=a&password=hunter22"), 0)},
			target: "/",
			body:   "user=a&password=<redacted:password>",
		},
		{
			name:   "a secret name takes its whole value",
			req:    message.Request{Target: "/", Path: "/", Body: message.NewBody([]byte(`{"password":[`+strings.Repeat("1,", 2000)+`1]}`), 0)},
			target: "/",
			body:   `{"password":"<redacted:password>"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := tt.req
			x := &reassembly.Exchange{Request: &orig, Response: &message.Response{StatusCode: 200,
				Header: http.Header{"Set-Cookie": {"sid=abc; Path=/"}}, Body: message.NewBody([]byte(`{"email":"alice@example.com"}`), 0)}}
			y := Exchange(x)
			if y.Request == x.Request || y.Response == x.Response {
				t.Fatal("the copy shares its messages with the original")
			}
			if !reflect.DeepEqual(*x.Request, tt.req) {
				t.Error("the original request was modified")
			}
			if y.Request.Target != tt.target {
				t.Errorf("target %q, want %q", y.Request.Target, tt.target)
			}
			if tt.header != nil && !reflect.DeepEqual(y.Request.Header, tt.header) {
				t.Errorf("header %v, want %v", y.Request.Header, tt.header)
			}
			if string(y.Request.Body.Bytes()) != tt.body && !(tt.body == "" && len(y.Request.Body.Bytes()) == 0) {
				t.Errorf("body %q, want %q", y.Request.Body.Bytes(), tt.body)
			}
			if got := y.Response.Header.Get("Set-Cookie"); got != "sid=<redacted>; Path=/" {
				t.Errorf("Set-Cookie %q", got)
			}
			if got := string(y.Response.Body.Bytes()); got != `{"email":"<redacted:email>"}` {
				t.Errorf("response body %q", got)
			}
		})
	}
}

func TestBodyCap(t *testing.T) {
	tests := []struct {
		name string
		in   string
		cut  bool
	}{
		// "pwd=1&" (6 bytes) becomes "pwd=<redacted:password>&" (24).
		{"markers outgrow the cap", strings.Repeat("pwd=1&", 4000), true},
		{"within the cap", strings.Repeat("pwd=1&", 100), false},
		{"nothing to redact", strings.Repeat("a=1&", 4000), false},
	}
	for _, tt := range tests {
		b := body(message.NewBody([]byte(tt.in), 0))
		out, f := b.Bytes(), b.Flags()
		if len(out) > bodyCap(len(tt.in)) {
			t.Errorf("%s: redacted body of %d bytes exceeds its cap %d", tt.name, len(out), bodyCap(len(tt.in)))
		}
		if f.Has(message.FlagBodyTruncated) != tt.cut {
			t.Errorf("%s: flagged truncated %v, want %v", tt.name, f.Has(message.FlagBodyTruncated), tt.cut)
		}
		if strings.Contains(string(out), "pwd=1") {
			t.Errorf("%s: a secret survived", tt.name)
		}
	}
}

func TestRawHeaderRedacted(t *testing.T) {
	raw := "api_key: k3y-v4lu3-1234\r\nAuthorization: Bearer abcdefghijklmnop\r\nX-Long: one\r\n two\r\naccept: */*\r\n\r\n"
	x := &reassembly.Exchange{Request: &message.Request{Target: "/", Path: "/", RawHeader: raw}}
	y := Exchange(x)
	want := []message.Field{{Name: "api_key", Value: "<redacted>"}, {Name: "Authorization", Value: "Bearer <redacted>"}, {Name: "X-Long", Value: "one two"}, {Name: "accept", Value: "*/*"}}
	if got := message.Fields(y.Request.RawHeader, nil); !reflect.DeepEqual(got, want) {
		t.Errorf("fields %q, want %q", got, want)
	}
	if x.Request.RawHeader != raw {
		t.Error("the original was modified")
	}
}

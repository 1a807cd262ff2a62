package tlsdecrypt_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/specter-dev/specter/reassembly/http1"
	"github.com/specter-dev/specter/reassembly/message"
	"github.com/specter-dev/specter/reassembly/tlsdecrypt"
)

// chunk is a piece of a recorded connection.
type chunk struct {
	dir  tlsdecrypt.Dir
	data []byte
}

// recording is what a recording proxy saw of its connections, in the
// order it saw it.
type recording struct {
	mu    sync.Mutex
	conns [][]chunk
}

func (r *recording) add(conn int, d tlsdecrypt.Dir, b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.conns[conn] = append(r.conns[conn], chunk{d, append([]byte(nil), b...)})
}

// teeWriter records what is copied through it.
type teeWriter struct {
	rec  *recording
	conn int
	dir  tlsdecrypt.Dir
	w    io.Writer
}

func (t *teeWriter) Write(b []byte) (int, error) {
	t.rec.add(t.conn, t.dir, b)
	return t.w.Write(b)
}

// startProxy relays loopback TCP connections to target, recording their
// bytes. Recording happens before forwarding, so a reply is never
// recorded before what caused it.
func startProxy(t testing.TB, target string) (addr string, rec *recording, wait func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec = &recording{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			rec.mu.Lock()
			id := len(rec.conns)
			rec.conns = append(rec.conns, nil)
			rec.mu.Unlock()
			wg.Add(2)
			go func() {
				defer wg.Done()
				io.Copy(&teeWriter{rec, id, tlsdecrypt.FromClient, s}, c)
				s.(*net.TCPConn).CloseWrite()
			}()
			go func() {
				defer wg.Done()
				io.Copy(&teeWriter{rec, id, tlsdecrypt.FromServer, c}, s)
				c.(*net.TCPConn).CloseWrite()
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String(), rec, func() { ln.Close(); wg.Wait() }
}

// collect is a Handler keeping the plaintext, and where it has holes.
type collect struct {
	plain [2]bytes.Buffer
	lost  [2]int
	holes [2][]int // offsets in plain where bytes were lost
}

func (c *collect) Data(d tlsdecrypt.Dir, b []byte) { c.plain[d].Write(b) }
func (c *collect) Lost(d tlsdecrypt.Dir, n int) {
	c.lost[d] += n
	c.holes[d] = append(c.holes[d], c.plain[d].Len())
}

// requests parses the HTTP/1 requests in the client's plaintext, telling
// the parser where the holes are (of unknown length).
func (c *collect) requests() []sentRequest {
	h := &h1Requests{}
	cfg := http1.DefaultConfig()
	cfg.MaxBody = 1 << 20
	p := http1.NewParser(&cfg, h)
	b := c.plain[tlsdecrypt.FromClient].Bytes()
	off := 0
	for _, at := range c.holes[tlsdecrypt.FromClient] {
		p.Feed(b[off:at], time.Time{})
		p.Gap(-1, time.Time{})
		off = at
	}
	p.Feed(b[off:], time.Time{})
	p.Close(time.Time{})
	return h.got
}

// replay feeds a recorded connection to a new Conn of dec.
func replay(dec *tlsdecrypt.Decryptor, chunks []chunk) (*collect, *tlsdecrypt.Conn) {
	h := &collect{}
	c := dec.NewConn(h)
	for _, ch := range chunks {
		c.Feed(ch.dir, ch.data)
	}
	c.Close()
	return h, c
}

// sentRequest is a request the test client sent.
type sentRequest struct {
	method, path, body string
}

func requestsSent() []sentRequest {
	var out []sentRequest
	for i := range 6 {
		r := sentRequest{method: "GET", path: fmt.Sprintf("/api/items/%d?q=%d", i, i*7)}
		if i%2 == 1 {
			r.method, r.body = "POST", strings.Repeat(fmt.Sprintf(`{"n":%d}`, i), 500*i)
		}
		out = append(out, r)
	}
	return out
}

// h1Requests parses HTTP/1 requests out of plaintext.
type h1Requests struct{ got []sentRequest }

func (h *h1Requests) Request(r *message.Request) {
	if r.Flags&(message.FlagGap|message.FlagIncomplete) != 0 {
		return // flagged as damaged: not an exchange to compare
	}
	h.got = append(h.got, sentRequest{r.Method, r.Target, string(r.Body.Bytes())})
}
func (h *h1Requests) Response(*message.Response) {}
func (h *h1Requests) PendingMethod() string      { return "" }
func (h *h1Requests) Protocol(http1.Protocol)    {}

func parseH1(b []byte) []sentRequest {
	h := &h1Requests{}
	cfg := http1.DefaultConfig()
	cfg.MaxBody = 1 << 20
	p := http1.NewParser(&cfg, h)
	p.Feed(b, time.Time{})
	p.Close(time.Time{})
	return h.got
}

// goSession runs the requests through a Go TLS client and server over a
// recording proxy, and returns the recording and the key log.
func goSession(t testing.TB, srvCfg, cliCfg *tls.Config, h2 bool) (*recording, []byte) {
	return goSessionOf(t, srvCfg, cliCfg, h2, requestsSent())
}

// goSessionOf is goSession with the requests given.
func goSessionOf(t testing.TB, srvCfg, cliCfg *tls.Config, h2 bool, reqs []sentRequest) (*recording, []byte) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %d\n", r.Method, r.URL.Path, len(b))
	}))
	srv.TLS = srvCfg
	srv.EnableHTTP2 = h2
	srv.StartTLS()
	defer srv.Close()
	addr, rec, wait := startProxy(t, srv.Listener.Addr().String())
	client := srv.Client()
	tr := client.Transport.(*http.Transport)
	var keylog bytes.Buffer
	tr.TLSClientConfig.KeyLogWriter = &keylog
	tr.TLSClientConfig.MaxVersion = cliCfg.MaxVersion
	tr.TLSClientConfig.CipherSuites = cliCfg.CipherSuites
	tr.TLSClientConfig.ServerName = "example.com" // an IP address is not sent as SNI
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	tr.ForceAttemptHTTP2 = h2
	for _, r := range reqs {
		req, err := http.NewRequest(r.method, srv.URL+r.path, strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		if r.body == "" {
			req.Body = nil
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	tr.CloseIdleConnections()
	srv.CloseClientConnections()
	wait()
	return rec, keylog.Bytes()
}

func keyLogFrom(t testing.TB, text []byte) *tlsdecrypt.KeyLog {
	t.Helper()
	k := tlsdecrypt.NewKeyLog(0)
	if _, err := k.Read(bytes.NewReader(text), "keylog"); err != nil {
		t.Fatal(err)
	}
	return k
}

var goCases = []struct {
	name    string
	version uint16
	suite   uint16 // 0: TLS 1.3, chosen by crypto/tls
	h2      bool
}{
	{"tls12-ecdhe-rsa-aes128-gcm", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, false},
	{"tls12-ecdhe-rsa-aes256-gcm", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, false},
	{"tls12-ecdhe-rsa-chacha20", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, false},
	{"tls12-h2", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, true},
	{"tls13", tls.VersionTLS13, 0, false},
	{"tls13-h2", tls.VersionTLS13, 0, true},
}

// TestGoLoopback decrypts Go crypto/tls sessions (client with
// KeyLogWriter, server from httptest) recorded on loopback, and checks
// that every request sent is recovered byte for byte.
func TestGoLoopback(t *testing.T) {
	for _, tc := range goCases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &tls.Config{MaxVersion: tc.version}
			if tc.suite != 0 {
				cfg.CipherSuites = []uint16{tc.suite}
			}
			rec, keylog := goSession(t, cfg.Clone(), cfg, tc.h2)
			dec := tlsdecrypt.New(keyLogFrom(t, keylog), tlsdecrypt.Config{})
			want := requestsSent()
			var got []sentRequest
			h2reqs := 0
			for _, chunks := range rec.conns {
				h, c := replay(dec, chunks)
				m := c.Meta()
				if m.Version != tc.version || (tc.suite != 0 && m.Suite != tc.suite) {
					t.Errorf("meta %+v, want version %x suite %x", m, tc.version, tc.suite)
				}
				if m.SNI != "example.com" {
					t.Errorf("SNI %q, want example.com (httptest's certificate name)", m.SNI)
				}
				if tc.h2 {
					if m.ALPN != "h2" {
						t.Errorf("ALPN %q, want h2", m.ALPN)
					}
					h2reqs += countH2(t, bytes.TrimPrefix(h.plain[0].Bytes(), []byte(h2Preface)))
					continue
				}
				got = append(got, parseH1(h.plain[0].Bytes())...)
			}
			st := dec.Stats()
			if st.Decrypted != uint64(len(rec.conns)) || st.Seen != st.Decrypted || len(st.Failed) > 0 {
				t.Errorf("stats %+v for %d connections", st, len(rec.conns))
			}
			if tc.h2 {
				if h2reqs != len(want) {
					t.Errorf("%d HTTP/2 requests, want %d", h2reqs, len(want))
				}
				return
			}
			if len(got) != len(want) {
				t.Fatalf("%d requests, want %d: %v", len(got), len(want), got)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("request %d: got %s %s (%d body bytes), want %s %s (%d)", i, got[i].method, got[i].path, len(got[i].body), want[i].method, want[i].path, len(want[i].body))
				}
			}
		})
	}
}

package reassembly_test

import (
	"bytes"
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

	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/tlsdecrypt"
)

// tlsChunk is what one side of a recorded connection wrote.
type tlsChunk struct {
	fromClient bool
	data       []byte
}

// recListener records the bytes of the connections it accepts, in the
// order the server read and wrote them.
type recListener struct {
	net.Listener
	mu     sync.Mutex
	chunks [][]tlsChunk
}

func (l *recListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.chunks = append(l.chunks, nil)
	return &recConn{Conn: c, l: l, i: len(l.chunks) - 1}, nil
}

type recConn struct {
	net.Conn
	l *recListener
	i int
}

func (c *recConn) note(fromClient bool, b []byte) {
	c.l.mu.Lock()
	defer c.l.mu.Unlock()
	c.l.chunks[c.i] = append(c.l.chunks[c.i], tlsChunk{fromClient, append([]byte(nil), b...)})
}

func (c *recConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.note(true, b[:n])
	}
	return n, err
}

func (c *recConn) Write(b []byte) (int, error) {
	c.note(false, b)
	return c.Conn.Write(b)
}

// tlsRequest is one request of a recorded session and the answer the
// server gives it.
type tlsRequest struct{ method, path, body string }

var tlsRequests = []tlsRequest{
	{"GET", "/users/1", ""},
	{"POST", "/users", `{"name":"ann","email":"ann@example.com"}`},
	{"GET", "/users/2?fields=name", ""},
	{"DELETE", "/users/1", ""},
}

// recordTLS runs tlsRequests on one keep-alive connection of Go's HTTPS
// client to httptest's TLS server (HTTP/2 when h2), and returns each
// recorded connection and the client's key log.
func recordTLS(t testing.TB, h2 bool, maxVersion uint16) ([][]tlsChunk, []byte) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback listener: %v", err)
	}
	rec := &recListener{Listener: ln}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"method":%q,"path":%q,"got":%d}`, r.Method, r.URL.Path, len(b))
	}))
	srv.Listener.Close()
	srv.Listener = rec
	srv.EnableHTTP2 = h2
	srv.StartTLS()
	defer srv.Close()
	var keylog bytes.Buffer
	tr := srv.Client().Transport.(*http.Transport)
	tr.TLSClientConfig.KeyLogWriter = &keylog
	tr.TLSClientConfig.ServerName = "example.com"
	tr.TLSClientConfig.MaxVersion = maxVersion
	tr.ForceAttemptHTTP2 = h2
	client := &http.Client{Transport: tr}
	for _, r := range tlsRequests {
		var body io.Reader // none at all for a GET: no Content-Length: 0
		if r.body != "" {
			body = strings.NewReader(r.body)
		}
		req, err := http.NewRequest(r.method, srv.URL+r.path, body)
		if err == nil {
			var resp *http.Response
			if resp, err = client.Do(req); err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.ProtoMajor == 2 != h2 {
					t.Fatalf("response protocol %s, want HTTP/2 %v", resp.Proto, h2)
				}
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	tr.CloseIdleConnections()
	srv.Close()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.chunks, keylog.Bytes()
}

// replayTLS feeds recorded connections through a pipeline as TCP
// segments and returns its exchanges, statistics and TLS services.
func replayTLS(t testing.TB, conns [][]tlsChunk, dec *tlsdecrypt.Decryptor) ([]*reassembly.Exchange, reassembly.Stats, []reassembly.TLSService) {
	cfg := reassembly.DefaultConfig()
	cfg.Workers = 1
	cfg.TLS = dec
	w, out := newWire(t, cfg)
	for i, chunks := range conns {
		c := w.conn(uint16(40000 + i))
		c.handshake(time.Millisecond)
		for _, ch := range chunks {
			// Segments of at most 1400 bytes, as a network would carry.
			for b := ch.data; len(b) > 0; {
				n := min(len(b), 1400)
				c.send(time.Millisecond, ch.fromClient, string(b[:n]))
				b = b[n:]
			}
		}
		c.close(time.Millisecond)
	}
	st := w.p.Close()
	return *out, st, w.p.TLSServices()
}

// TestTLSWired decrypts Go HTTPS sessions (HTTP/1.1 and HTTP/2 by ALPN,
// TLS 1.2 and 1.3) through the pipeline: every request is recovered,
// paired with its response, as in clear; without keys or with wrong ones
// there are no exchanges, the failure is counted, and the handshake still
// names the service.
func TestTLSWired(t *testing.T) {
	for _, tc := range []struct {
		name    string
		h2      bool
		version uint16
	}{
		{"http1-tls13", false, tls.VersionTLS13},
		{"http1-tls12", false, tls.VersionTLS12},
		{"h2-tls13", true, tls.VersionTLS13},
		{"h2-tls12", true, tls.VersionTLS12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conns, keylog := recordTLS(t, tc.h2, tc.version)
			if len(conns) != 1 {
				t.Fatalf("%d connections recorded, want 1", len(conns))
			}
			keys := tlsdecrypt.NewKeyLog(0)
			if _, err := keys.Read(bytes.NewReader(keylog), "keylog"); err != nil {
				t.Fatal(err)
			}
			xs, st, svc := replayTLS(t, conns, tlsdecrypt.New(keys, tlsdecrypt.Config{}))
			if len(xs) != len(tlsRequests) {
				t.Fatalf("%d exchanges, want %d (stats %+v)", len(xs), len(tlsRequests), st.TLS)
			}
			alpn, proto := "", "HTTP/1.1" // Go's HTTP/1 client offers no ALPN
			if tc.h2 {
				alpn, proto = "h2", "HTTP/2"
			}
			for i, x := range xs {
				want := tlsRequests[i]
				path, _, _ := strings.Cut(want.path, "?")
				if x.Request == nil || x.Response == nil {
					t.Fatalf("exchange %d unpaired: %+v", i, x)
				}
				if x.Request.Method != want.method || x.Request.Path != path || string(x.Request.Body.Bytes()) != want.body || x.Request.Proto != proto {
					t.Errorf("exchange %d: %s %s %q %s, want %s %s %q %s", i, x.Request.Method, x.Request.Path, x.Request.Body.Bytes(), x.Request.Proto, want.method, path, want.body, proto)
				}
				if body := fmt.Sprintf(`{"method":%q,"path":%q,"got":%d}`, want.method, path, len(want.body)); x.Response.StatusCode != 200 || string(x.Response.Body.Bytes()) != body {
					t.Errorf("exchange %d: response %d %q, want 200 %q", i, x.Response.StatusCode, x.Response.Body.Bytes(), body)
				}
				if x.TLS == nil || x.TLS.SNI != "example.com" || x.TLS.ALPN != alpn || x.TLS.Version != tc.version {
					t.Errorf("exchange %d: TLS %+v, want SNI example.com, ALPN %s, version %#x", i, x.TLS, alpn, tc.version)
				}
			}
			if st.ConnsTLS != 1 || st.TLS.Decrypted != 1 || st.TLS.Seen != 1 || len(st.TLS.Failed) != 0 {
				t.Errorf("stats: conns_tls %d, tls %+v", st.ConnsTLS, st.TLS)
			}
			if tc.h2 && st.TLSHTTP2 != 1 || !tc.h2 && st.TLSHTTP1 != 1 {
				t.Errorf("stats: tls_http1 %d, tls_http2 %d", st.TLSHTTP1, st.TLSHTTP2)
			}
			if len(svc) != 1 || svc[0].SNI != "example.com" || svc[0].Conns != 1 || svc[0].Decrypted != 1 {
				t.Errorf("TLS services %+v", svc)
			}

			// Without keys: nothing decrypted, no exchange, the service
			// still listed by its SNI and version.
			xs, st, svc = replayTLS(t, conns, nil)
			if len(xs) != 0 || st.TLS.Failed[tlsdecrypt.ReasonNoKey] != 1 || st.TLS.Decrypted != 0 || st.TLS.PendingDropped != 0 {
				t.Errorf("without keys: %d exchanges, tls %+v", len(xs), st.TLS)
			}
			if len(svc) != 1 || svc[0].SNI != "example.com" || len(svc[0].Versions) != 1 || svc[0].Versions[0] != tc.version || svc[0].Decrypted != 0 {
				t.Errorf("without keys: TLS services %+v", svc)
			}
			if tc.version == tls.VersionTLS12 && tc.h2 && (len(svc) != 1 || len(svc[0].ALPN) != 1 || svc[0].ALPN[0] != alpn) {
				t.Errorf("without keys, TLS 1.2: ALPN %v, want [%s] (ServerHello)", svc, alpn)
			}

			// Wrong keys: every secret's first byte flipped.
			bad := tlsdecrypt.NewKeyLog(0)
			if _, err := bad.Read(bytes.NewReader(flipSecrets(keylog)), "bad"); err != nil {
				t.Fatal(err)
			}
			xs, st, _ = replayTLS(t, conns, tlsdecrypt.New(bad, tlsdecrypt.Config{}))
			if len(xs) != 0 || st.TLS.Failed[tlsdecrypt.ReasonAuth] != 1 || st.TLS.WithKeys != 1 {
				t.Errorf("wrong keys: %d exchanges, tls %+v", len(xs), st.TLS)
			}
		})
	}
}

// flipSecrets changes the first hex digit of each secret of a key log.
func flipSecrets(keylog []byte) []byte {
	var out []byte
	for ln := range strings.Lines(string(keylog)) {
		f := strings.Fields(ln)
		if len(f) == 3 {
			c := byte('0')
			if f[2][0] == '0' {
				c = '1'
			}
			ln = f[0] + " " + f[1] + " " + string(c) + f[2][1:] + "\n"
		}
		out = append(out, ln...)
	}
	return out
}

package tlsdecrypt_test

import (
	"bufio"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/specter-dev/specter/reassembly/tlsdecrypt"
)

// pyServer is python3's http.server wrapped in ssl, answering GET and
// POST on HTTP/1.1 keep-alive.
const pyServer = `
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def reply(self):
        n = int(self.headers.get("Content-Length") or 0)
        got = self.rfile.read(n)
        body = ("%s %s %d\n" % (self.command, self.path, len(got))).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = reply
    do_POST = reply
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
`

// writeCert writes a self-signed RSA certificate for example.com.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "example.com"},
		DNSNames:     []string{"example.com"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600)
	return certFile, keyFile
}

// TestCurl decrypts curl (OpenSSL) sessions against python3's http.server
// in ssl, each suite forced with curl's options, and compares the requests
// recovered with those sent.
func TestCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed: skipping the OpenSSL client test")
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed: skipping the OpenSSL server test")
	}
	if out, err := exec.Command(curl, "-V").Output(); err != nil || !strings.Contains(string(out), "OpenSSL") {
		t.Skip("curl is not built with OpenSSL: its cipher options differ")
	}
	dir := t.TempDir()
	certFile, keyFile := writeCert(t, dir)
	srv := exec.Command(py, "-c", pyServer, certFile, keyFile)
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("python3 server did not start: %v", err)
	}
	port := strings.TrimSpace(line)

	cases := []struct {
		name  string
		args  []string
		suite uint16
	}{
		{"tls12-aes128-gcm", []string{"--tls-max", "1.2", "--ciphers", "ECDHE-RSA-AES128-GCM-SHA256"}, 0xc02f},
		{"tls12-aes256-gcm", []string{"--tls-max", "1.2", "--ciphers", "ECDHE-RSA-AES256-GCM-SHA384"}, 0xc030},
		{"tls12-chacha20", []string{"--tls-max", "1.2", "--ciphers", "ECDHE-RSA-CHACHA20-POLY1305"}, 0xcca8},
		{"tls13-aes128-gcm", []string{"--tlsv1.3", "--tls13-ciphers", "TLS_AES_128_GCM_SHA256"}, 0x1301},
		{"tls13-aes256-gcm", []string{"--tlsv1.3", "--tls13-ciphers", "TLS_AES_256_GCM_SHA384"}, 0x1302},
		{"tls13-chacha20", []string{"--tlsv1.3", "--tls13-ciphers", "TLS_CHACHA20_POLY1305_SHA256"}, 0x1303},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, rec, wait := startProxy(t, net.JoinHostPort("127.0.0.1", port))
			_, pport, _ := net.SplitHostPort(addr)
			keylog := filepath.Join(t.TempDir(), "keys.log")
			want := requestsSent()
			// One curl run, one keep-alive connection: --next between
			// requests keeps the connection.
			args := []string{"-sS", "--http1.1", "--cacert", certFile, "--resolve", "example.com:" + pport + ":127.0.0.1"}
			for i, r := range want {
				if i > 0 {
					args = append(args, "--next", "--http1.1", "--cacert", certFile, "--resolve", "example.com:"+pport+":127.0.0.1")
				}
				args = append(args, tc.args...)
				args = append(args, "-o", os.DevNull, "-X", r.method)
				if r.body != "" {
					args = append(args, "-H", "Content-Type: application/json", "--data-binary", r.body)
				}
				args = append(args, fmt.Sprintf("https://example.com:%s%s", pport, r.path))
			}
			cmd := exec.Command(curl, args...)
			cmd.Env = append(os.Environ(), "SSLKEYLOGFILE="+keylog)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("curl: %v: %s", err, out)
			}
			wait()
			text, err := os.ReadFile(keylog)
			if err != nil {
				t.Fatalf("curl wrote no key log: %v", err)
			}
			dec := tlsdecrypt.New(keyLogFrom(t, text), tlsdecrypt.Config{})
			var got []sentRequest
			for _, chunks := range rec.conns {
				h, c := replay(dec, chunks)
				if m := c.Meta(); m.Suite != tc.suite || m.SNI != "example.com" {
					t.Errorf("meta %+v, want suite %#04x", m, tc.suite)
				}
				got = append(got, parseH1(h.plain[0].Bytes())...)
			}
			st := dec.Stats()
			if st.Decrypted != uint64(len(rec.conns)) || len(st.Failed) > 0 {
				t.Errorf("stats %+v for %d connections", st, len(rec.conns))
			}
			if len(got) != len(want) {
				t.Fatalf("%d requests, want %d", len(got), len(want))
			}
			for i := range want {
				// curl sends the body with -X; the target is the path.
				if got[i] != want[i] {
					t.Errorf("request %d: %s %s (%d body bytes), want %s %s (%d)", i, got[i].method, got[i].path, len(got[i].body), want[i].method, want[i].path, len(want[i].body))
				}
			}
		})
	}
}

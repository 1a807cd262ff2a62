package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/specter-dev/specter/bpf/bpftest"
	"github.com/specter-dev/specter/reassembly/tlsdecrypt"
)

// pcapProxy forwards loopback connections to a server and writes what
// crosses it, each read as TCP segments with the connection's handshake
// and FINs, into a pcap file: what a mirror port in front of the server
// would capture.
type pcapProxy struct {
	t      *testing.T
	ln     net.Listener
	target string
	mu     sync.Mutex
	f      *os.File
	w      *pcapgo.Writer
	wg     sync.WaitGroup
}

func newPcapProxy(t *testing.T, target, path string) *pcapProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback listener: %v", err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	p := &pcapProxy{t: t, ln: ln, target: target, f: f, w: w}
	go p.serve()
	return p
}

func (p *pcapProxy) port() string {
	_, port, _ := net.SplitHostPort(p.ln.Addr().String())
	return port
}

func (p *pcapProxy) serve() {
	for n := 0; ; n++ {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.wg.Add(1)
		go p.relay(c, s, uint16(40000+n))
	}
}

// tcpFlow is one recorded connection: client 10.9.0.1:port, server
// 10.9.0.2:443, each direction's next sequence number.
type tcpFlow struct {
	port uint16
	seq  [2]uint32
}

// segment writes one TCP segment of direction dir (0: from the client).
func (p *pcapProxy) segment(fl *tcpFlow, dir int, flags string, payload []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IP{10, 9, 0, 1}, DstIP: net.IP{10, 9, 0, 2}}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(fl.port), DstPort: 443, Seq: fl.seq[dir], Ack: fl.seq[1-dir], Window: 65535}
	if dir == 1 {
		ip.SrcIP, ip.DstIP = ip.DstIP, ip.SrcIP
		tcp.SrcPort, tcp.DstPort = tcp.DstPort, tcp.SrcPort
	}
	tcp.SYN, tcp.FIN = strings.Contains(flags, "S"), strings.Contains(flags, "F")
	tcp.ACK = !(tcp.SYN && dir == 0)
	tcp.PSH = len(payload) > 0
	tcp.SetNetworkLayerForChecksum(ip)
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
		p.t.Error(err)
		return
	}
	b := buf.Bytes()
	p.w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Now(), CaptureLength: len(b), Length: len(b)}, b)
	fl.seq[dir] += uint32(len(payload))
	if tcp.SYN || tcp.FIN {
		fl.seq[dir]++
	}
}

// relay copies both ways between the client c and the server s, recording.
func (p *pcapProxy) relay(c, s net.Conn, port uint16) {
	defer p.wg.Done()
	fl := &tcpFlow{port: port, seq: [2]uint32{1000, 9000}}
	p.segment(fl, 0, "S", nil)
	p.segment(fl, 1, "S", nil)
	p.segment(fl, 0, "", nil)
	var wg sync.WaitGroup
	pump := func(dir int, from, to net.Conn) {
		defer wg.Done()
		buf := make([]byte, 32<<10)
		for {
			n, err := from.Read(buf)
			for b := buf[:n]; len(b) > 0; {
				k := min(len(b), 1400)
				p.segment(fl, dir, "", b[:k])
				b = b[k:]
			}
			if n > 0 {
				to.Write(buf[:n])
			}
			if err != nil {
				to.(*net.TCPConn).CloseWrite()
				return
			}
		}
	}
	wg.Add(2)
	go pump(0, c, s)
	go pump(1, s, c)
	wg.Wait()
	p.segment(fl, 0, "F", nil)
	p.segment(fl, 1, "F", nil)
	c.Close()
	s.Close()
}

// close waits for the recorded connections to end and closes the file.
func (p *pcapProxy) close() {
	p.ln.Close()
	p.wg.Wait()
	p.f.Close()
}

// pyHTTPServer is python3's http.server answering GET and POST with a
// body naming the request, over TLS when given a certificate and key.
const pyHTTPServer = `
import http.server, ssl, sys
class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def answer(self):
        got = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        out = ('{"method":"%s","path":"%s","got":%d}' % (self.command, self.path, len(got))).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    do_GET = do_POST = do_PUT = answer
server = http.server.HTTPServer(("127.0.0.1", 0), Echo)
if len(sys.argv) > 2:
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(sys.argv[1], sys.argv[2])
    server.socket = tls.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
`

// startServer starts a server process that prints its port (python) or
// listens on a given one (nghttpd), and returns its address.
func startServer(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("%s: %v", name, err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("%s did not start: %v", name, err)
	}
	return "127.0.0.1:" + strings.TrimSpace(line)
}

// freePort returns a loopback port nothing listens on (for nghttpd, which
// takes its port as an argument).
func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// waitListening waits until addr accepts connections.
func waitListening(t *testing.T, addr string) {
	for range 200 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s", addr)
}

// seenExchange is what an exchange must keep through decryption: the
// request line and body, the status and body of the response.
type seenExchange struct {
	Method, Target string
	ReqBody        string
	Status         int
	RespBody       string
}

// decryptedExchanges runs specter exchanges on a capture and returns what each
// exchange carried, in order.
func decryptedExchanges(t *testing.T, args ...string) []seenExchange {
	t.Helper()
	out, errs, code := run(t, append([]string{"exchanges", "--raw"}, args...)...)
	if code != exitOK {
		t.Fatalf("specter exchanges %v: exit %d: %s", args, code, errs)
	}
	var xs []seenExchange
	for ln := range strings.Lines(out) {
		var x struct {
			Request *struct {
				Method, Target string
				Body           string
			}
			Response *struct {
				Status int
				Body   string
			}
		}
		if err := json.Unmarshal([]byte(ln), &x); err != nil {
			t.Fatalf("bad JSON line %q: %v", ln, err)
		}
		var s seenExchange
		if x.Request != nil {
			s.Method, s.Target, s.ReqBody = x.Request.Method, x.Request.Target, x.Request.Body
		}
		if x.Response != nil {
			s.Status, s.RespBody = x.Response.Status, x.Response.Body
		}
		xs = append(xs, s)
	}
	return xs
}

// analyzeSummary runs specter analyze --json and returns its summary.
func analyzeSummary(t *testing.T, args ...string) summary {
	t.Helper()
	out, errs, code := run(t, append([]string{"analyze", "--json"}, args...)...)
	if code != exitOK {
		t.Fatalf("specter analyze %v: exit %d: %s", args, code, errs)
	}
	var s summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("bad JSON: %v", err)
	}
	if strings.Contains(out, "SECRET") || strings.Contains(out, "CLIENT_RANDOM") {
		t.Errorf("the summary shows key log labels: %s", out)
	}
	return s
}

// curlRequest is one request of a curl run.
type curlRequest struct{ method, path, body string }

// curlRequests is what curl sends on one keep-alive connection.
var curlRequests = []curlRequest{
	{"GET", "/users/1", ""},
	{"POST", "/users", `{"name":"ann","email":"ann@example.com"}`},
	{"GET", "/users?limit=2", ""},
	{"PUT", "/users/1", `{"name":"bob"}`},
}

// curlArgs builds one curl run of reqs against base through the
// proxy on port, each request with extra (--next keeps the connection).
func curlArgs(reqs []curlRequest, scheme, port, cacert string, extra []string) []string {
	var args []string
	for i, r := range reqs {
		if i > 0 {
			args = append(args, "--next")
		}
		args = append(args, "-sS", "-o", os.DevNull, "--resolve", "localhost:"+port+":127.0.0.1", "-X", r.method)
		if cacert != "" {
			args = append(args, "--cacert", cacert)
		}
		args = append(args, extra...)
		if r.body != "" {
			args = append(args, "-H", "Content-Type: application/json", "--data-binary", r.body)
		}
		args = append(args, scheme+"://localhost:"+port+r.path)
	}
	return args
}

// record runs curl once per argument list of runs through a new proxy to
// target, writing the capture to pcap and, for TLS, curl's key log to
// keylog.
func record(t *testing.T, target, pcap, keylog string, runs func(port string) [][]string) {
	t.Helper()
	p := newPcapProxy(t, target, pcap)
	defer p.close()
	for _, args := range runs(p.port()) {
		cmd := exec.Command("curl", args...)
		cmd.Env = append(os.Environ(), "SSLKEYLOGFILE="+keylog)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("curl: %v: %s", err, out)
		}
	}
}

// one is a single curl run.
func one(args []string) [][]string { return [][]string{args} }

// getArgs builds one curl run of GETs of paths on one connection, or one
// run a request when apart (curl 7.88 cannot reuse an HTTP/2
// prior-knowledge connection).
func getArgs(paths []string, apart bool, scheme, port string, opts ...string) [][]string {
	var runs [][]string
	args := append([]string{"-sS", "--resolve", "localhost:" + port + ":127.0.0.1"}, opts...)
	for _, p := range paths {
		args = append(args, "-o", os.DevNull, scheme+"://localhost:"+port+p)
		if apart {
			runs = append(runs, args)
			args = append([]string{"-sS", "--resolve", "localhost:" + port + ":127.0.0.1"}, opts...)
		}
	}
	if !apart {
		runs = append(runs, args)
	}
	return runs
}

// needPrograms skips the test when one of the programs is missing.
func needPrograms(t *testing.T, names ...string) {
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			t.Skipf("%s not installed (make deps-h2 / apt-get install %s): skipping", n, n)
		}
	}
}

// checkDecrypted checks a TLS capture against the same traffic in clear:
// with the key log, and with the keys injected into a pcapng Decryption
// Secrets Block, every exchange equals the clear one; without keys, or
// with wrong ones, there are none, and the counters say why.
func checkDecrypted(t *testing.T, clear []seenExchange, sent int, dir, tlsPcap, keylog string, conns uint64) {
	t.Helper()
	if len(clear) != sent {
		t.Fatalf("%d exchanges in clear, want %d", len(clear), sent)
	}
	if got := decryptedExchanges(t, "--keylog", keylog, tlsPcap); !slices.Equal(got, clear) {
		t.Errorf("decrypted with --keylog:\n%+v\nwant (in clear):\n%+v", got, clear)
	}
	// Each decrypted exchange says what TLS it came through, never a key.
	out, _, _ := run(t, "exchanges", "--raw", "--keylog", keylog, tlsPcap)
	for ln := range strings.Lines(out) {
		var x struct {
			TLS *struct{ SNI, Version, Suite string }
		}
		if err := json.Unmarshal([]byte(ln), &x); err != nil || x.TLS == nil || x.TLS.SNI != "localhost" || !strings.HasPrefix(x.TLS.Version, "TLS 1.") || x.TLS.Suite == "" {
			t.Errorf("exchange without its TLS (err %v): %s", err, ln)
		}
	}
	s := analyzeSummary(t, "--keylog", keylog, tlsPcap)
	if tl := s.Reassembly.TLS; tl.Seen != conns || tl.Decrypted != conns || len(tl.Failed) != 0 || s.KeyLog.Secrets == 0 {
		t.Errorf("with keys: tls %+v, keylog %+v", tl, s.KeyLog)
	}
	if len(s.TLSServices) != 1 || s.TLSServices[0].SNI != "localhost" || s.TLSServices[0].Decrypted != conns {
		t.Errorf("TLS services %+v", s.TLSServices)
	}

	// Without keys: no exchange, every connection counted as having none,
	// the service still named by its SNI.
	s = analyzeSummary(t, tlsPcap)
	if tl := s.Reassembly.TLS; s.Reassembly.Exchanges != 0 || tl.Seen != conns || tl.Failed[tlsdecrypt.ReasonNoKey] != conns {
		t.Errorf("without keys: %d exchanges, tls %+v", s.Reassembly.Exchanges, tl)
	}
	if len(s.TLSServices) != 1 || s.TLSServices[0].SNI != "localhost" || len(s.TLSServices[0].Versions) == 0 {
		t.Errorf("without keys: TLS services %+v", s.TLSServices)
	}

	// Wrong keys: each secret's last hex digit changed.
	text, err := os.ReadFile(keylog)
	if err != nil {
		t.Fatal(err)
	}
	var bad strings.Builder
	for ln := range strings.Lines(string(text)) {
		if f := strings.Fields(ln); len(f) == 3 {
			last := f[2][len(f[2])-1]
			c := "0"
			if last == '0' {
				c = "1"
			}
			ln = f[0] + " " + f[1] + " " + f[2][:len(f[2])-1] + c + "\n"
		}
		bad.WriteString(ln)
	}
	badFile := filepath.Join(dir, "wrong.keys")
	os.WriteFile(badFile, []byte(bad.String()), 0o600)
	s = analyzeSummary(t, "--keylog", badFile, tlsPcap)
	if tl := s.Reassembly.TLS; s.Reassembly.Exchanges != 0 || tl.Failed[tlsdecrypt.ReasonAuth] != conns || tl.WithKeys != conns {
		t.Errorf("wrong keys: %d exchanges, tls %+v", s.Reassembly.Exchanges, tl)
	}

	// The keys in a Decryption Secrets Block, by Wireshark's editcap.
	editcap, err := exec.LookPath("editcap")
	if err != nil {
		t.Log("editcap not installed (Debian wireshark-common): the DSB variant is skipped")
		return
	}
	ng := filepath.Join(dir, "with-keys.pcapng")
	if out, err := exec.Command(editcap, "--inject-secrets", "tls,"+keylog, tlsPcap, ng).CombinedOutput(); err != nil {
		t.Fatalf("editcap: %v: %s", err, out)
	}
	if got := decryptedExchanges(t, ng); !slices.Equal(got, clear) {
		t.Errorf("decrypted with the DSB:\n%+v\nwant (in clear):\n%+v", got, clear)
	}
}

// TestKeylogCurlPython decrypts curl (OpenSSL) sessions against python3's
// http.server in ssl, TLS 1.2 and 1.3, AES-GCM and ChaCha20 forced by
// curl's options, through specter exchanges and analyze.
func TestKeylogCurlPython(t *testing.T) {
	needPrograms(t, "curl", "python3")
	if out, err := exec.Command("curl", "-V").Output(); err != nil || !strings.Contains(string(out), "OpenSSL") {
		t.Skip("curl is not built with OpenSSL: its cipher options differ")
	}
	dir := t.TempDir()
	certFile, keyFile := bpftest.WriteCert(t, dir)
	tlsAddr := startServer(t, "python3", "-c", pyHTTPServer, certFile, keyFile)
	clearAddr := startServer(t, "python3", "-c", pyHTTPServer)
	clearPcap := filepath.Join(dir, "clear.pcap")
	record(t, clearAddr, clearPcap, filepath.Join(dir, "none.keys"), func(port string) [][]string {
		return one(curlArgs(curlRequests, "http", port, "", []string{"--http1.1"}))
	})
	clear := decryptedExchanges(t, clearPcap)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"tls12-aes128-gcm", []string{"--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256"}},
		{"tls12-aes256-gcm", []string{"--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES256-GCM-SHA384"}},
		{"tls12-chacha20", []string{"--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-CHACHA20-POLY1305"}},
		{"tls13-aes128-gcm", []string{"--tlsv1.3", "--tls13-ciphers", "TLS_AES_128_GCM_SHA256"}},
		{"tls13-aes256-gcm", []string{"--tlsv1.3", "--tls13-ciphers", "TLS_AES_256_GCM_SHA384"}},
		{"tls13-chacha20", []string{"--tlsv1.3", "--tls13-ciphers", "TLS_CHACHA20_POLY1305_SHA256"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			pcap, keylog := filepath.Join(dir, "tls.pcap"), filepath.Join(dir, "keys.log")
			record(t, tlsAddr, pcap, keylog, func(port string) [][]string {
				return one(curlArgs(curlRequests, "https", port, certFile, append([]string{"--http1.1"}, tc.args...)))
			})
			checkDecrypted(t, clear, len(curlRequests), dir, pcap, keylog, 1)
		})
	}
}

// nghttpdPaths are files nghttpd serves (it refuses request bodies).
var nghttpdPaths = []string{"/users/1", "/users/2", "/users/1?fields=name", "/users/2?page=3"}

// TestKeylogNghttpd decrypts curl --http2 sessions against nghttpd
// (HTTP/2 over TLS, ALPN h2), TLS 1.2 and 1.3, and compares them with the
// same requests to nghttpd in clear (prior knowledge).
func TestKeylogNghttpd(t *testing.T) {
	needPrograms(t, "curl", "nghttpd")
	dir := t.TempDir()
	certFile, keyFile := bpftest.WriteCert(t, dir)
	docs := filepath.Join(dir, "docs")
	os.MkdirAll(filepath.Join(docs, "users"), 0o755)
	for _, p := range nghttpdPaths {
		path, _, _ := strings.Cut(p, "?")
		os.WriteFile(filepath.Join(docs, path), []byte(fmt.Sprintf(`{"file":%q}`, path)), 0o644)
	}
	serve := func(tls bool) string {
		port := freePort(t)
		args := []string{"-d", docs, "--no-tls", port}
		if tls {
			args = []string{"-d", docs, port, keyFile, certFile}
		}
		cmd := exec.Command("nghttpd", args...)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			t.Skipf("nghttpd: %v", err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		addr := "127.0.0.1:" + port
		waitListening(t, addr)
		return addr
	}
	tlsAddr, clearAddr := serve(true), serve(false)
	clearPcap := filepath.Join(dir, "clear.pcap")
	record(t, clearAddr, clearPcap, filepath.Join(dir, "none.keys"), func(port string) [][]string {
		return getArgs(nghttpdPaths, true, "http", port, "--http2-prior-knowledge")
	})
	clear := decryptedExchanges(t, clearPcap)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"tls13", []string{"--http2", "--tlsv1.3"}},
		{"tls12-chacha20", []string{"--http2", "--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-CHACHA20-POLY1305"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			pcap, keylog := filepath.Join(dir, "tls.pcap"), filepath.Join(dir, "keys.log")
			record(t, tlsAddr, pcap, keylog, func(port string) [][]string {
				return getArgs(nghttpdPaths, false, "https", port, append([]string{"--cacert", certFile}, tc.args...)...)
			})
			checkDecrypted(t, clear, len(nghttpdPaths), dir, pcap, keylog, 1)
			s := analyzeSummary(t, "--keylog", keylog, pcap)
			if s.Reassembly.TLSHTTP2 != 1 || len(s.TLSServices) != 1 || !slices.Contains(s.TLSServices[0].ALPN, "h2") {
				t.Errorf("tls_http2 %d, services %+v: want one HTTP/2 connection by ALPN h2", s.Reassembly.TLSHTTP2, s.TLSServices)
			}
		})
	}
}

// TestOpenKeylogs: a missing key log is an error for the verbs that read
// files, and followed until it appears for capture; a malformed line is
// reported by file and line without its secret, and the others are used.
func TestOpenKeylogs(t *testing.T) {
	dir := t.TempDir()
	cr := strings.Repeat("ab", 32)
	secret := strings.Repeat("5e", 48)
	good := "CLIENT_RANDOM " + cr + " " + secret + "\n"
	missing := filepath.Join(dir, "later.keys")
	var stderr strings.Builder
	if _, err := openKeylogs(context.Background(), &stderr, []string{missing}, false); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing key log, not following: error %v, want one naming the file", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr.Reset()
	dec, err := openKeylogs(ctx, &stderr, []string{missing}, true)
	if err != nil {
		t.Fatalf("following a key log not written yet: %v", err)
	}
	if err := os.WriteFile(missing, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for dec.Keys().Stats().Sessions == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := dec.Keys().Stats().Sessions; n != 1 {
		t.Errorf("followed key log: %d sessions, want 1", n)
	}

	bad := filepath.Join(dir, "bad.keys")
	os.WriteFile(bad, []byte("CLIENT_RANDOM "+cr+" "+secret[:90]+"zz\n"+strings.Replace(good, "ab", "cd", 1)), 0o600)
	stderr.Reset()
	dec, err = openKeylogs(context.Background(), &stderr, []string{bad}, false)
	if err != nil {
		t.Fatal(err)
	}
	if msg := stderr.String(); !strings.Contains(msg, bad+": line 1") || strings.Contains(msg, secret[:16]) {
		t.Errorf("warning %q: want the file and line, never the secret", msg)
	}
	if n := dec.Keys().Stats().Sessions; n != 1 {
		t.Errorf("%d sessions from the good line, want 1", n)
	}
}

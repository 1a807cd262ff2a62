//go:build linux

package bpf

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/specter-dev/specter/bpf/bpftest"
)

// requireTracing skips the test unless this process can trace.
func requireTracing(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("eBPF tracing needs root (CAP_BPF, CAP_PERFMON); run the tests as root")
	}
	if err := Check().Err(); err != nil {
		t.Skipf("this host cannot trace: %v", err)
	}
}

// collector reads a Tracer's chunks in the background.
type collector struct {
	mu     sync.Mutex
	chunks []Chunk
	done   chan struct{}
	err    error
}

func collect(tr *Tracer) *collector {
	c := &collector{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			ch, err := tr.Read()
			if err != nil {
				if !errors.Is(err, ErrClosed) {
					c.err = err
				}
				return
			}
			c.mu.Lock()
			c.chunks = append(c.chunks, ch)
			c.mu.Unlock()
		}
	}()
	return c
}

func (c *collector) snapshot() []Chunk {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Chunk(nil), c.chunks...)
}

// waitFor polls until cond holds for the chunks so far, failing after a
// generous deadline (a liveness bound, not a timing assertion).
func (c *collector) waitFor(t *testing.T, what string, cond func([]Chunk) bool) []Chunk {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		cs := c.snapshot()
		if cond(cs) {
			return cs
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after 30s; %d chunks: %s", what, len(cs), describe(cs))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func describe(cs []Chunk) string {
	var b strings.Builder
	for i, c := range cs {
		if i == 40 {
			fmt.Fprintf(&b, "...")
			break
		}
		fmt.Fprintf(&b, "\n  %s conn=%d pid=%d comm=%q fd=%d %s tls=%v %s->%s len=%d %q", c.Kind, c.Conn, c.PID, c.Comm, c.FD, c.Dir, c.TLS, c.Local, c.Remote, c.Len, trim(c.Data))
	}
	return b.String()
}

func trim(b []byte) []byte {
	if len(b) > 60 {
		return b[:60]
	}
	return b
}

// stream is the concatenated data of one connection and direction.
type stream struct {
	pid  uint32
	comm string
	data []byte
	tls  map[bool]int // chunks by TLS flag
}

// streams groups data chunks by connection and direction, keeping only
// connections whose local or remote port is port.
func streams(cs []Chunk, port uint16) map[ConnID]map[Direction]*stream {
	out := make(map[ConnID]map[Direction]*stream)
	for _, c := range cs {
		if c.Kind != KindData || (c.Local.Port() != port && c.Remote.Port() != port) {
			continue
		}
		if out[c.Conn] == nil {
			out[c.Conn] = make(map[Direction]*stream)
		}
		s := out[c.Conn][c.Dir]
		if s == nil {
			s = &stream{pid: c.PID, comm: c.Comm, tls: make(map[bool]int)}
			out[c.Conn][c.Dir] = s
		}
		s.data = append(s.data, c.Data...)
		s.tls[c.TLS]++
	}
	return out
}

func closed(cs []Chunk, port uint16) bool {
	for _, c := range cs {
		if c.Kind == KindClose && (c.Local.Port() == port || c.Remote.Port() == port) {
			return true
		}
	}
	return false
}

func procComm(t *testing.T, pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func openTracer(t *testing.T, opts Options) (*Tracer, *collector) {
	t.Helper()
	tr, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("Open(%+v): %v", opts, err)
	}
	c := collect(tr)
	t.Cleanup(func() {
		tr.Close()
		<-c.done
		if c.err != nil {
			t.Errorf("Read: %v", c.err)
		}
	})
	return tr, c
}

// TestHTTP traces a python http.server (by pid) and curl (by comm) on
// loopback, over plain HTTP and over TLS through OpenSSL, and checks that
// each side's chunks concatenate into the exact request and response bytes,
// attributed to the right process.
func TestHTTP(t *testing.T) {
	requireTracing(t)
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed (apt-get install curl)")
	}
	if out, err := exec.Command(curl, "-V").Output(); err != nil || !bytes.Contains(out, []byte("OpenSSL/")) {
		t.Skip("curl does not use OpenSSL")
	}
	for _, tc := range []struct {
		name   string
		tls    bool
		python bool // python urllib as the client instead of curl
	}{
		{"http", false, false},
		{"https", true, false},
		{"https python client", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			body := bytes.Repeat([]byte("specter sees this body. "), 100)
			if err := os.WriteFile(filepath.Join(dir, "hello.txt"), body, 0o644); err != nil {
				t.Fatal(err)
			}
			var cert, key string
			scheme := "http"
			if tc.tls {
				cert, key = bpftest.WriteCert(t, t.TempDir())
				scheme = "https"
			}
			spid, port := bpftest.StartServer(t, dir, cert, key)
			scomm := procComm(t, spid)

			server, sc := openTracer(t, Options{PID: uint32(spid)})
			if tc.tls && len(server.LibSSL()) == 0 {
				t.Fatal("no libssl found to probe, though python links it")
			}
			url := fmt.Sprintf("%s://127.0.0.1:%d/hello.txt", scheme, port)
			var cc *collector
			var cpid uint32
			var got []byte
			ccomm := "curl"
			if tc.python {
				cpid, ccomm, got, cc = pythonGet(t, url)
			} else {
				_, cc = openTracer(t, Options{Comm: "curl"})
				out := filepath.Join(t.TempDir(), "out")
				cmd := exec.Command(curl, "-sS", "-k", "-A", "specter-test", "-o", out, url)
				cmd.Stderr = os.Stderr
				if err := cmd.Run(); err != nil {
					t.Fatalf("curl: %v", err)
				}
				cpid = uint32(cmd.Process.Pid)
				got, _ = os.ReadFile(out)
			}
			if !bytes.Equal(got, body) {
				t.Fatalf("the client fetched %d bytes, want the %d-byte body", len(got), len(body))
			}

			p := uint16(port)
			wantReq := fmt.Sprintf("GET /hello.txt HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: specter-test\r\nAccept: */*\r\n\r\n", port)
			cs := cc.waitFor(t, "close of the client's connection", func(cs []Chunk) bool { return closed(cs, p) })
			ss := sc.waitFor(t, "close of the server's connection", func(cs []Chunk) bool { return closed(cs, p) })

			check := func(side string, cs []Chunk, pid uint32, comm string, in, eg func(string) string) []byte {
				t.Helper()
				st := streams(cs, p)
				if len(st) != 1 {
					t.Fatalf("%s: %d connections with data on port %d, want 1:%s", side, len(st), p, describe(cs))
				}
				for _, dirs := range st {
					for d, s := range dirs {
						if s.pid != pid || s.comm != comm {
							t.Errorf("%s %s: pid %d comm %q, want %d %q", side, d, s.pid, s.comm, pid, comm)
						}
						if s.tls[!tc.tls] != 0 {
							t.Errorf("%s %s: %d chunks with TLS=%v", side, d, s.tls[!tc.tls], !tc.tls)
						}
					}
					if got := string(dirs[Egress].dataOrNil()); eg(got) != "" {
						t.Errorf("%s egress: %s", side, eg(got))
					}
					if got := string(dirs[Ingress].dataOrNil()); in(got) != "" {
						t.Errorf("%s ingress: %s", side, in(got))
					}
					return nil
				}
				return nil
			}
			isReq := func(got string) string {
				if tc.python {
					return pythonReq(got, port)
				}
				if got != wantReq {
					return fmt.Sprintf("got %q, want the request %q", got, wantReq)
				}
				return ""
			}
			isResp := func(got string) string {
				resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(got)), nil)
				if err != nil {
					return fmt.Sprintf("not a response (%v): %q", err, trim([]byte(got)))
				}
				b, err := io.ReadAll(resp.Body)
				if err != nil || resp.StatusCode != 200 || !bytes.Equal(b, body) {
					return fmt.Sprintf("status %d, %d body bytes (%v), want 200 and the %d-byte body", resp.StatusCode, len(b), err, len(body))
				}
				return ""
			}
			check("client", cs, cpid, ccomm, isResp, isReq)
			check("server", ss, uint32(spid), scomm, isReq, isResp)

			// Both sides saw the same bytes: what one wrote, the other read.
			one := func(cs []Chunk, d Direction) []byte {
				for _, dirs := range streams(cs, p) {
					return dirs[d].dataOrNil()
				}
				return nil
			}
			if a, b := one(cs, Ingress), one(ss, Egress); !bytes.Equal(a, b) {
				t.Errorf("the client read %d response bytes, the server wrote %d different ones", len(a), len(b))
			}
			if a, b := one(cs, Egress), one(ss, Ingress); !bytes.Equal(a, b) {
				t.Errorf("the client wrote %d request bytes, the server read %d different ones", len(a), len(b))
			}
			checkAddrs(t, cs, ss, p)
		})
	}
}

const clientPy = `
import ssl, sys, urllib.request
sys.stdin.readline()
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
req = urllib.request.Request(sys.argv[1], headers={"User-Agent": "specter-test"})
sys.stdout.buffer.write(urllib.request.urlopen(req, context=ctx).read())
`

// pythonGet fetches url with python's urllib (OpenSSL, no verification) in
// a child process traced by pid, and returns its pid, comm, the body and the
// collector.
func pythonGet(t *testing.T, url string) (uint32, string, []byte, *collector) {
	t.Helper()
	cmd := exec.Command(bpftest.Python(t), "-c", clientPy, url)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	comm := procComm(t, cmd.Process.Pid)
	_, c := openTracer(t, Options{PID: uint32(cmd.Process.Pid)})
	fmt.Fprintln(in, "go")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("python client: %v", err)
	}
	return uint32(cmd.Process.Pid), comm, out.Bytes(), c
}

// pythonReq checks urllib's request, whose header order is its own.
func pythonReq(got string, port int) string {
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(got)))
	if err != nil {
		return fmt.Sprintf("not a request (%v): %q", err, got)
	}
	if req.Method != "GET" || req.URL.Path != "/hello.txt" || req.Host != fmt.Sprintf("127.0.0.1:%d", port) ||
		req.UserAgent() != "specter-test" || !strings.HasSuffix(got, "\r\n\r\n") {
		return fmt.Sprintf("unexpected request %q", got)
	}
	return ""
}

func (s *stream) dataOrNil() []byte {
	if s == nil {
		return nil
	}
	return s.data
}

// checkAddrs: the open events carry the socket addresses, mirrored between
// the client and the server.
func checkAddrs(t *testing.T, client, server []Chunk, port uint16) {
	t.Helper()
	open := func(cs []Chunk) *Chunk {
		for i := range cs {
			if cs[i].Kind == KindOpen && (cs[i].Local.Port() == port || cs[i].Remote.Port() == port) {
				return &cs[i]
			}
		}
		return nil
	}
	c, s := open(client), open(server)
	if c == nil || s == nil {
		t.Fatalf("open events: client %v, server %v", c != nil, s != nil)
	}
	if c.Remote != s.Local || c.Local != s.Remote || s.Local.Port() != port || s.Local.Addr().String() != "127.0.0.1" {
		t.Errorf("addresses: client %s->%s, server %s->%s", c.Local, c.Remote, s.Local, s.Remote)
	}
}

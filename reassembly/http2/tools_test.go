package http2_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	xhttp2 "golang.org/x/net/http2"
	//lint:ignore SA1019 the deprecated h2c handler is the one Go server that still answers Upgrade: h2c
	"golang.org/x/net/http2/h2c"

	"github.com/specter-dev/specter/reassembly/http2"
)

// Real HTTP/2 stacks nobody here wrote: curl (nghttp2 inside) and nghttp
// against nghttpd, over the recording proxy. Each tool is skipped with a
// reason when missing (make deps-h2 installs them).

func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (make deps-h2 installs curl, nghttp2-client and nghttp2-server): %v", tool, err)
		}
	}
}

// nghttpd starts nghttpd in cleartext on a free loopback port serving dir,
// with extra arguments, and returns its address.
func nghttpd(t *testing.T, dir string, args ...string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "nghttpd", append(append([]string{"--no-tls", "-a", "127.0.0.1", "-d", dir}, args...), strconv.Itoa(port))...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
	}
	t.Fatalf("nghttpd did not start: %s", stderr.String())
	return ""
}

// record runs a client command against a recording proxy in front of
// target, and replays the connection through a Conn.
func record(t *testing.T, target string, client func(addr string) *exec.Cmd) []*http2.Exchange {
	rec := &recorder{}
	addr := rec.proxy(t, target)
	cmd := client(addr)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	var events []event
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if e := rec.snapshot(); len(e) == len(events) && len(e) > 0 {
			break
		} else {
			events = e
		}
	}
	xs, st, ok := replay(t, &flow{events: events}, nil)
	if !ok {
		t.Fatalf("not recognised as HTTP/2: %d events", len(events))
	}
	if st.Desyncs != 0 || st.HPACKErrors != 0 {
		t.Errorf("stats %+v", st)
	}
	return xs
}

// goH2C in a test's server arguments means x/net's h2c server instead of
// nghttpd.
const goH2C = "go-h2c"

// h2cServer serves dir over cleartext HTTP/1.1 with HTTP/2 by Upgrade.
func h2cServer(t *testing.T, dir string) string {
	//lint:ignore SA1019 the deprecated h2c handler is the one Go server that still answers Upgrade: h2c
	h := h2c.NewHandler(http.FileServer(http.Dir(dir)), &xhttp2.Server{})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func TestTools(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"index.html": "<html>" + strings.Repeat("hello ", 3000) + "</html>",
		"style.css":  "body { color: #333 }",
		"data.json":  `{"items":[1,2,3]}`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	type want struct {
		method, path string
		status       int
		body         string
		pushed       bool
		upgraded     bool
	}
	tests := []struct {
		name   string
		tools  []string
		server []string
		client func(addr string) *exec.Cmd
		want   []want
	}{
		{"curl prior knowledge", []string{"curl", "nghttpd"}, nil, func(addr string) *exec.Cmd {
			return exec.Command("curl", "-sS", "-o", os.DevNull, "--http2-prior-knowledge", "http://"+addr+"/index.html")
		}, []want{{"GET", "/index.html", 200, files["index.html"], false, false}}},
		{"curl POST", []string{"curl", "nghttpd"}, nil, func(addr string) *exec.Cmd {
			return exec.Command("curl", "-sS", "-o", os.DevNull, "--http2-prior-knowledge", "-d", `{"q":"x"}`, "-H", "content-type: application/json", "http://"+addr+"/data.json")
		}, []want{{"POST", "/data.json", 200, files["data.json"], false, false}}},
		// nghttpd does not answer Upgrade: h2c; x/net's h2c server does.
		{"curl Upgrade: h2c", []string{"curl"}, []string{goH2C}, func(addr string) *exec.Cmd {
			return exec.Command("curl", "-sS", "-o", os.DevNull, "--http2", "http://"+addr+"/data.json")
		}, []want{{"GET", "/data.json", 200, files["data.json"], false, true}}},
		{"nghttp with server push", []string{"nghttp", "nghttpd"}, []string{"-p/index.html=/style.css"}, func(addr string) *exec.Cmd {
			return exec.Command("nghttp", "-n", "http://"+addr+"/index.html", "http://"+addr+"/missing")
		}, []want{{"GET", "/index.html", 200, files["index.html"], false, false}, {"GET", "/style.css", 200, files["style.css"], true, false},
			{"GET", "/missing", 404, "", false, false}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			need(t, tc.tools...)
			var target string
			if len(tc.server) == 1 && tc.server[0] == goH2C {
				target = h2cServer(t, dir)
			} else {
				need(t, "nghttpd")
				target = nghttpd(t, dir, tc.server...)
			}
			xs := record(t, target, tc.client)
			got := map[string]*http2.Exchange{}
			for _, x := range xs {
				if x.Request != nil {
					got[x.Request.Path] = x
				}
			}
			if len(xs) != len(tc.want) {
				for _, x := range xs {
					t.Logf("stream %d %+v", x.StreamID, x.Request)
				}
				t.Fatalf("got %d exchanges, want %d", len(xs), len(tc.want))
			}
			for _, w := range tc.want {
				x := got[w.path]
				if x == nil {
					t.Errorf("%s: missing", w.path)
					continue
				}
				if x.Request.Method != w.method || x.Response == nil || x.Response.Status != w.status || x.Pushed != w.pushed || x.Upgraded != w.upgraded {
					t.Errorf("%s: got %s pushed=%v upgraded=%v response %+v", w.path, x.Request.Method, x.Pushed, x.Upgraded, x.Response)
					continue
				}
				if w.body != "" && string(x.Response.Body) != w.body {
					t.Errorf("%s: body %d bytes, want %d", w.path, len(x.Response.Body), len(w.body))
				}
				if x.Flags != 0 {
					t.Errorf("%s: flags %#x", w.path, x.Flags)
				}
			}
		})
	}
}

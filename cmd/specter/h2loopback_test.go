package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/specter-dev/specter/capture"
	"github.com/specter-dev/specter/infer"
)

// The HTTP/2 stacks of others, captured on loopback by tcpdump while they
// talk: grpc-go's own examples (helloworld: unary; route_guide: unary,
// server, client and bidirectional streaming), built from the Go module
// proxy, and curl and nghttp against nghttpd (prior knowledge; nghttpd
// sends its SETTINGS at once and never answers an Upgrade: h2c, so the
// upgrade is tested on the corpus and hand-built segments instead). make
// deps-h2 installs tcpdump, curl and nghttp2.

// grpcExamples is the version of google.golang.org/grpc/examples built (the
// module has no tags; the proxy serves this one), and grpcVersion the
// grpc-go it is built with (go.mod's).
const (
	grpcExamples = "v0.0.0-20260825154716-030ee8becb20"
	grpcVersion  = "v1.85.0"
)

func needTools(t *testing.T, tools ...string) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("capturing on loopback needs root")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (make deps-h2 installs tcpdump, curl, nghttp2-client and nghttp2-server): %v", tool, err)
		}
	}
}

// buildGRPCExamples builds the helloworld and route_guide programs into a
// temporary directory, from a throwaway module that requires the examples.
func buildGRPCExamples(t *testing.T) (bin string) {
	t.Helper()
	mod := t.TempDir()
	bin = filepath.Join(mod, "bin")
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module specter.test/grpcexamples\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	for _, args := range [][]string{
		{"get", "google.golang.org/grpc/examples@" + grpcExamples, "google.golang.org/grpc@" + grpcVersion},
		{"build", "-o", bin + "/", "google.golang.org/grpc/examples/helloworld/greeter_server", "google.golang.org/grpc/examples/helloworld/greeter_client",
			"google.golang.org/grpc/examples/route_guide/server", "google.golang.org/grpc/examples/route_guide/client"},
	} {
		cmd := exec.Command("go", args...)
		cmd.Dir, cmd.Env = mod, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("cannot build grpc-go's examples (go %s): %v\n%s", args[0], err, out)
		}
	}
	return bin
}

// start runs a server in the background until the test ends, and waits
// for its port to accept.
func start(t *testing.T, port int, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("%s did not listen on %s: %s", name, addr, out.String())
}

// client runs a client to its end and returns what it printed.
func client(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// tcpdump captures loopback traffic to the ports into file until stop is
// called.
func tcpdump(t *testing.T, file string, ports ...int) (stop func()) {
	t.Helper()
	var f []string
	for _, p := range ports {
		f = append(f, "port "+strconv.Itoa(p))
	}
	cmd := exec.Command("tcpdump", "--immediate-mode", "-Z", "root", "-i", "lo", "-U", "-s", "0", "-w", file, "tcp and ("+strings.Join(f, " or ")+")")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// tcpdump says "listening on lo" once its filter is in place.
	ready := make(chan string, 1)
	var rest bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		br := bufio.NewReader(stderr)
		line, _ := br.ReadString('\n')
		ready <- line
		io.Copy(&rest, br)
	}()
	select {
	case line := <-ready:
		if !strings.Contains(line, "listening on") {
			cmd.Process.Kill()
			cmd.Wait()
			t.Skipf("tcpdump cannot capture on lo: %s", line)
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("tcpdump did not start")
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		time.Sleep(200 * time.Millisecond) // the last packets through the filter
		cmd.Process.Signal(syscall.SIGINT)
		<-done
		cmd.Wait()
		t.Logf("tcpdump: %s", strings.TrimSpace(rest.String()))
	}
	t.Cleanup(stop)
	return stop
}

// exchangeLine is the part of `specter exchanges` output this test reads.
type exchangeLine struct {
	Client   string `json:"client"`
	StreamID uint32 `json:"stream_id"`
	Flags    []string
	GRPC     *struct {
		Method           string `json:"method"`
		Kind             string `json:"kind"`
		Status           int    `json:"status"`
		RequestMessages  int    `json:"request_messages"`
		ResponseMessages int    `json:"response_messages"`
	} `json:"grpc"`
	Request *struct {
		Method string    `json:"method"`
		Path   string    `json:"path"`
		Proto  string    `json:"proto"`
		Start  time.Time `json:"start"`
	} `json:"request"`
	Response *struct {
		Status int `json:"status"`
	} `json:"response"`
}

func exchangesOf(t *testing.T, pcap string) []exchangeLine {
	t.Helper()
	out := mustRun(t, "exchanges", "--format", "jsonl", pcap)
	var xs []exchangeLine
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var x exchangeLine
		if err := json.Unmarshal([]byte(line), &x); err != nil {
			t.Fatalf("exchanges: %v: %s", err, line)
		}
		xs = append(xs, x)
	}
	return xs
}

// call is one operation the clients made, as their programs say.
type call struct {
	method, path string
	count        int
	statuses     map[int]uint64
	// gRPC: the kind of call and the messages each way, per call.
	kind        string
	reqs, resps int
	// probe: a lone 404, which the inventory keeps out as a path-scan
	// probe (infer.Model.Probes); checked among the exchanges only.
	probe bool
}

func TestHTTP2RealStacksOnLoopback(t *testing.T) {
	needTools(t, "tcpdump", "go", "curl", "nghttp", "nghttpd")
	bin := buildGRPCExamples(t)
	dir := t.TempDir()
	docs := filepath.Join(dir, "docs")
	os.Mkdir(docs, 0o755)
	for name, body := range map[string]string{"a.txt": "alpha\n", "b.json": `{"id":1,"name":"b"}`, "up.txt": "upgraded\n"} {
		if err := os.WriteFile(filepath.Join(docs, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	hello, route, web := loopbackPort(t), loopbackPort(t), loopbackPort(t)
	pcap := filepath.Join(dir, "loopback.pcap")
	stop := tcpdump(t, pcap, hello, route, web)

	start(t, hello, filepath.Join(bin, "greeter_server"), "-port", strconv.Itoa(hello))
	start(t, route, filepath.Join(bin, "server"), "-port", strconv.Itoa(route))
	start(t, web, "nghttpd", "--no-tls", "-a", "127.0.0.1", "-d", docs, strconv.Itoa(web))
	client(t, filepath.Join(bin, "greeter_client"), "-addr", fmt.Sprintf("127.0.0.1:%d", hello), "-name", "specter")
	log := client(t, filepath.Join(bin, "client"), "-addr", fmt.Sprintf("127.0.0.1:%d", route))
	webURL := fmt.Sprintf("http://127.0.0.1:%d", web)
	client(t, "curl", "-s", "-o", "/dev/null", "--http2-prior-knowledge", webURL+"/a.txt")
	client(t, "curl", "-s", "-o", "/dev/null", "--http2-prior-knowledge", webURL+"/missing")
	client(t, "nghttp", webURL+"/b.json")
	client(t, "nghttp", webURL+"/up.txt")
	stop()

	// What route_guide's client did, from its log: RecordRoute sends a
	// random number of points, ListFeatures and RouteChat print what
	// they receive.
	points := regexp.MustCompile(`Traversing (\d+) points`).FindStringSubmatch(log)
	if points == nil {
		t.Fatalf("route_guide client log without its point count:\n%s", log)
	}
	nPoints, _ := strconv.Atoi(points[1])
	features := strings.Count(log, "Feature: name:")
	chats := strings.Count(log, "Got message ")
	ok1 := map[int]uint64{200: 1}
	calls := []call{
		{method: "POST", path: "/helloworld.Greeter/SayHello", count: 1, statuses: ok1, kind: "unary", reqs: 1, resps: 1},
		{method: "POST", path: "/routeguide.RouteGuide/GetFeature", count: 2, statuses: map[int]uint64{200: 2}, kind: "unary", reqs: 1, resps: 1},
		{method: "POST", path: "/routeguide.RouteGuide/ListFeatures", count: 1, statuses: ok1, kind: "server_streaming", reqs: 1, resps: features},
		{method: "POST", path: "/routeguide.RouteGuide/RecordRoute", count: 1, statuses: ok1, kind: "client_streaming", reqs: nPoints, resps: 1},
		{method: "POST", path: "/routeguide.RouteGuide/RouteChat", count: 1, statuses: ok1, kind: "bidi_streaming", reqs: 6, resps: chats},
		{method: "GET", path: "/a.txt", count: 1, statuses: ok1},
		{method: "GET", path: "/missing", count: 1, statuses: map[int]uint64{404: 1}, probe: true},
		{method: "GET", path: "/b.json", count: 1, statuses: ok1},
		{method: "GET", path: "/up.txt", count: 1, statuses: ok1},
	}

	full := exchangesOf(t, pcap)
	t.Run("endpoints", func(t *testing.T) {
		var eps []infer.EndpointSummary
		if err := json.Unmarshal([]byte(mustRun(t, "endpoints", "--format", "json", pcap)), &eps); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range calls {
			if c.probe {
				continue
			}
			n++
			found := false
			for _, e := range eps {
				if e.Method != c.method || e.Template != c.path {
					continue
				}
				found = true
				if e.Count != uint64(c.count) || !sameStatuses(e.Statuses, c.statuses) {
					t.Errorf("%s %s: count %d statuses %v, want %d %v", c.method, c.path, e.Count, e.Statuses, c.count, c.statuses)
				}
			}
			if !found {
				t.Errorf("%s %s not in the inventory: %+v", c.method, c.path, eps)
			}
		}
		if len(eps) != n {
			t.Errorf("%d endpoints, the clients used %d: %+v", len(eps), n, eps)
		}
	})

	t.Run("openapi", func(t *testing.T) {
		// HTTP/2 REST traffic goes through the same inference as HTTP/1:
		// the JSON body nghttpd served gets its schema.
		var doc struct {
			Paths map[string]map[string]struct {
				Responses map[string]struct {
					Content map[string]struct {
						Schema struct {
							Properties map[string]any `json:"properties"`
						} `json:"schema"`
					} `json:"content"`
				} `json:"responses"`
			} `json:"paths"`
		}
		out := mustRun(t, "export", "--format", "json", "--host", fmt.Sprintf("127.0.0.1:%d", web), pcap)
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		r, ok := doc.Paths["/b.json"]["get"].Responses["200"]
		if !ok {
			t.Fatalf("no GET /b.json 200 in the OpenAPI document:\n%s", out)
		}
		c, ok := r.Content["application/json"]
		if !ok || c.Schema.Properties["id"] == nil || c.Schema.Properties["name"] == nil {
			t.Errorf("GET /b.json 200 content %+v, want the application/json schema with id and name", r.Content)
		}
	})

	t.Run("summary", func(t *testing.T) {
		var s summary
		if err := json.Unmarshal([]byte(mustRun(t, "analyze", "--json", pcap)), &s); err != nil {
			t.Fatal(err)
		}
		r := s.Reassembly
		// Every stream is an exchange; the servers' port probes by this
		// test are HTTP/2 connections without streams.
		if r.ConnsHTTP2 < 4 || r.H2Streams != uint64(len(full)) || r.Exchanges != uint64(len(full)) || r.H2Desyncs != 0 || r.H2Unnamed != 0 {
			t.Errorf("summary: %+v, %d exchanges", r, len(full))
		}
	})
	t.Run("exchanges", func(t *testing.T) {
		for _, c := range calls {
			got := map[int]uint64{}
			for _, x := range full {
				if x.Request != nil && x.Response != nil && x.Request.Method == c.method && x.Request.Path == c.path {
					got[x.Response.Status]++
				}
			}
			if !sameStatuses(got, c.statuses) {
				t.Errorf("%s %s: exchanges with statuses %v, want %v", c.method, c.path, got, c.statuses)
			}
		}
	})
	t.Run("grpc", func(t *testing.T) {
		for _, c := range calls {
			if c.kind == "" {
				continue
			}
			n := 0
			for _, x := range full {
				if x.GRPC == nil || x.GRPC.Method != c.path {
					continue
				}
				n++
				g := x.GRPC
				if g.Kind != c.kind || g.RequestMessages != c.reqs || g.ResponseMessages != c.resps || g.Status != 0 {
					t.Errorf("%s: %s with %d/%d messages, status %d; want %s %d/%d, status 0", c.path, g.Kind, g.RequestMessages, g.ResponseMessages, g.Status, c.kind, c.reqs, c.resps)
				}
			}
			if n != c.count {
				t.Errorf("%s: %d gRPC calls, want %d", c.path, n, c.count)
			}
		}
		for _, x := range full {
			if x.Request != nil && x.Request.Proto != "HTTP/2" {
				t.Errorf("%s %s: proto %q", x.Request.Method, x.Request.Path, x.Request.Proto)
			}
		}
	})

	t.Run("mid-connection", func(t *testing.T) {
		cut := filepath.Join(dir, "cut.pcap")
		const drop = 12
		cutAt := dropFirstPackets(t, pcap, cut, drop)
		// A method first used on a connection after its cut was sent as a
		// literal (an HPACK encoder can only refer to what it sent
		// before), so it must be named; nothing named may differ from
		// what the whole capture says that stream carried.
		type key struct {
			client string
			stream uint32
		}
		byStream := map[key]string{}
		mustName := map[string]map[string]bool{} // client → paths
		seen := map[string]map[string]bool{}
		for _, x := range full {
			if x.Request == nil {
				continue
			}
			byStream[key{x.Client, x.StreamID}] = x.Request.Method + " " + x.Request.Path
			if seen[x.Client] == nil {
				seen[x.Client], mustName[x.Client] = map[string]bool{}, map[string]bool{}
			}
			at, ok := cutAt[x.Client]
			if !seen[x.Client][x.Request.Path] && (!ok || x.Request.Start.After(at)) {
				mustName[x.Client][x.Request.Path] = true
			}
			seen[x.Client][x.Request.Path] = true
		}
		named := map[string]map[string]bool{}
		var cutNamed []string
		for _, x := range exchangesOf(t, cut) {
			if x.Request == nil {
				continue
			}
			cutNamed = append(cutNamed, x.Request.Path)
			got := x.Request.Method + " " + x.Request.Path
			if want, ok := byStream[key{x.Client, x.StreamID}]; !ok || got != want {
				t.Errorf("cut capture: %s stream %d is %q, the whole capture says %q", x.Client, x.StreamID, got, want)
			}
			if named[x.Client] == nil {
				named[x.Client] = map[string]bool{}
			}
			named[x.Client][x.Request.Path] = true
		}
		total := 0
		for cl, paths := range mustName {
			for p := range paths {
				total++
				if !named[cl][p] {
					t.Errorf("cut capture: %s first used %s after the cut, but it is not named", cl, p)
				}
			}
		}
		if total == 0 {
			t.Errorf("the cut left no method first used after it: the check is empty")
		}
		t.Logf("%d methods first used after the cut, all named; %d of the cut's requests named, of %d in the whole capture", total, len(cutNamed), len(byStream))
	})
}

func sameStatuses(a, b map[int]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// dropFirstPackets copies the capture from into to without the first n
// packets of each TCP connection, as if the capture had started later on
// every one; it returns, by client address (the side that sent the SYN),
// the time of the last packet dropped.
func dropFirstPackets(t *testing.T, from, to string, n int) map[string]time.Time {
	t.Helper()
	r, err := capture.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	w := pcapgo.NewWriter(out)
	dec := capture.NewDecoder(capture.DecoderOptions{})
	var p capture.Packet
	type flow [2]netip.AddrPort
	seen := map[flow]int{}
	client := map[flow]string{}
	cut := map[string]time.Time{}
	wrote := false
	for {
		f, err := r.Next()
		if err != nil {
			break
		}
		if !wrote {
			if err := w.WriteFileHeader(65535, f.LinkType); err != nil {
				t.Fatal(err)
			}
			wrote = true
		}
		if ok, _ := dec.Decode(f, &p); !ok {
			continue
		}
		a, b := netip.AddrPortFrom(p.Src, uint16(p.TCP.SrcPort)), netip.AddrPortFrom(p.Dst, uint16(p.TCP.DstPort))
		k := flow{a, b}
		if b.Addr().Less(a.Addr()) || a.Addr() == b.Addr() && b.Port() < a.Port() {
			k = flow{b, a}
		}
		if p.TCP.SYN && !p.TCP.ACK {
			client[k] = a.String()
		}
		seen[k]++
		if seen[k] <= n {
			cut[client[k]] = f.Info.Timestamp
			continue
		}
		if err := w.WritePacket(f.Info, f.Data); err != nil {
			t.Fatal(err)
		}
	}
	return cut
}

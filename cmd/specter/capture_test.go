package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/specter-dev/specter/bpf/bpftest"
	"github.com/specter-dev/specter/capture/corpus"
	"github.com/specter-dev/specter/capture/live/vethtest"
	"github.com/specter-dev/specter/capture/synth"
	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/diff"
)

// liveness bounds how long a test waits for something that should happen
// at once (a liveness bound on a loaded machine, not a timing assertion).
const liveness = 90 * time.Second

// proc is a running specter with its output collected.
type proc struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	mu     sync.Mutex
	stderr strings.Builder
	lines  chan string
	waited chan error
}

// startSpecter starts bin with args and waits until its stderr has a line
// matching ready (the source is open).
func startSpecter(t *testing.T, bin string, ready *regexp.Regexp, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), lines: make(chan string, 64), waited: make(chan error, 1)}
	p.cmd.Stdout = &p.stdout
	errPipe, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		p.waited <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
		}
	})
	deadline := time.After(liveness)
	for {
		select {
		case l := <-p.lines:
			if ready.MatchString(l) {
				return p
			}
		case err := <-p.waited:
			t.Fatalf("specter %v exited before it was ready: %v\n%s", args, err, p.errText())
		case <-deadline:
			t.Fatalf("specter %v not ready\n%s", args, p.errText())
		}
	}
}

func (p *proc) errText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// wait waits for the process to exit and fails unless it exits 0.
func (p *proc) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-p.waited:
		if err != nil {
			t.Fatalf("specter exited with %v\nstdout:\n%s\nstderr:\n%s", err, p.stdout.String(), p.errText())
		}
	case <-time.After(liveness):
		_ = p.cmd.Process.Kill()
		t.Fatalf("specter did not exit\n%s", p.errText())
	}
}

// stop sends sig and waits for a clean exit.
func (p *proc) stop(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	p.wait(t)
}

var capturingRe = regexp.MustCompile(`^specter: capturing on `)

// inventoryOf is the comparable part of an inventory: per endpoint, the
// request count and statuses (times differ between a replay and the file).
func inventoryOf(eps []infer.EndpointSummary) map[string]string {
	out := map[string]string{}
	for _, e := range eps {
		var st []string
		for c, n := range e.Statuses {
			st = append(st, fmt.Sprintf("%d×%d", c, n))
		}
		sort.Strings(st)
		out[e.Service+" "+e.Method+" "+e.Template] = fmt.Sprintf("count %d statuses %s", e.Count, strings.Join(st, ","))
	}
	return out
}

func binEndpoints(t *testing.T, bin, db string) []infer.EndpointSummary {
	t.Helper()
	out, err := exec.Command(bin, "endpoints", "--db", db, "--json").Output()
	if err != nil {
		t.Fatalf("endpoints --db %s: %v", db, err)
	}
	var eps []infer.EndpointSummary
	if err := json.Unmarshal(out, &eps); err != nil {
		t.Fatalf("endpoints --db %s: %v", db, err)
	}
	return eps
}

// analyzed is the inventory `specter analyze --db` stores for file.
func analyzed(t *testing.T, bin, file string) []infer.EndpointSummary {
	t.Helper()
	db := filepath.Join(t.TempDir(), "offline.db")
	if out, err := exec.Command(bin, "analyze", "--db", db, file).CombinedOutput(); err != nil {
		t.Fatalf("analyze %s: %v\n%s", file, err, out)
	}
	return binEndpoints(t, bin, db)
}

func sameInventory(t *testing.T, got, want []infer.EndpointSummary) {
	t.Helper()
	g, w := inventoryOf(got), inventoryOf(want)
	if len(w) == 0 {
		t.Fatal("the offline analysis found no endpoint")
	}
	for k, v := range w {
		if g[k] != v {
			t.Errorf("%s: live %q, offline %q", k, g[k], v)
		}
	}
	for k, v := range g {
		if _, ok := w[k]; !ok {
			t.Errorf("%s: live only (%s)", k, v)
		}
	}
}

// TestCaptureLive replays captures onto a veth pair while `specter capture`
// listens on the other end, and compares the stored inventory with what
// `specter analyze` stores for the same file.
func TestCaptureLive(t *testing.T) {
	vethtest.RequireRoot(t)
	traffic := corpus.Dir(t, "corpus/traffic")
	bin := buildSpecter(t)
	petstore := filepath.Join(traffic, "swagger-petstore3/traffic.pcap")
	tests := []struct {
		name   string
		file   string // replayed
		same   string // analyzed offline
		filter []string
	}{
		{"petstore3", petstore, petstore, nil},
		{"spotify", filepath.Join(traffic, "spotify/traffic.pcap"), filepath.Join(traffic, "spotify/traffic.pcap"), []string{"tcp"}},
		{"vxlan", vxlanWrap(t, petstore, 4242), petstore, []string{"udp", "port", "4789"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := analyzed(t, bin, tc.same)
			v := vethtest.New(t)
			db := filepath.Join(t.TempDir(), "live.db")
			args := append([]string{"capture", "-i", v.Host, "--db", db, "--duration", "15s", "--json"}, tc.filter...)
			p := startSpecter(t, bin, capturingRe, args...)
			v.Replay(t, tc.file, 100, 1)
			p.wait(t)
			var sum captureSummary
			if err := json.Unmarshal(p.stdout.Bytes(), &sum); err != nil {
				t.Fatalf("summary: %v\n%s", err, p.stdout.String())
			}
			if sum.KernelDrops != 0 || sum.Packets == 0 {
				t.Errorf("summary: %d packets, %d kernel drops", sum.Packets, sum.KernelDrops)
			}
			sameInventory(t, binEndpoints(t, bin, db), want)
		})
	}
}

// TestCaptureSIGTERM replays a first file fully, then a second one slowly,
// and sends SIGTERM during the second: specter exits 0 and the store holds
// every endpoint of the first file, with its counts.
func TestCaptureSIGTERM(t *testing.T) {
	vethtest.RequireRoot(t)
	traffic := corpus.Dir(t, "corpus/traffic")
	bin := buildSpecter(t)
	first := filepath.Join(traffic, "swagger-petstore3/traffic.pcap")
	second := filepath.Join(traffic, "spotify/traffic.pcap")
	want := analyzed(t, bin, first)
	v := vethtest.New(t)
	db := filepath.Join(t.TempDir(), "live.db")
	// --flush-every is long: what is stored comes from the shutdown.
	p := startSpecter(t, bin, capturingRe, "capture", "-i", v.Host, "--db", db, "--flush-every", "1h")
	v.Replay(t, first, 100, 1)
	// About 12 s for the second file: the signal lands in the middle.
	slow := v.ReplayCmd(second, 1, 1)
	if err := slow.Start(); err != nil {
		t.Fatal(err)
	}
	slowDone := make(chan struct{})
	go func() { _ = slow.Wait(); close(slowDone) }()
	defer func() { _ = slow.Process.Kill(); <-slowDone }()
	time.Sleep(2 * time.Second)
	select {
	case <-slowDone:
		t.Fatal("the second replay ended before the signal: nothing was tested mid-replay")
	default:
	}
	p.stop(t, syscall.SIGTERM)
	got := inventoryOf(binEndpoints(t, bin, db))
	for k, w := range inventoryOf(want) {
		if got[k] != w {
			t.Errorf("%s: stored %q, want %q", k, got[k], w)
		}
	}
	runs, err := exec.Command(bin, "runs", "--db", db).CombinedOutput()
	if err != nil {
		t.Fatalf("runs: %v\n%s", err, runs)
	}
	if !strings.Contains(string(runs), "complete") {
		t.Errorf("the run is not recorded complete:\n%s", runs)
	}
}

// TestCaptureEventsMetrics checks --events (a shadow endpoint against a spec
// that does not declare the traffic) and --metrics (counters served while
// the capture runs).
func TestCaptureEventsMetrics(t *testing.T) {
	vethtest.RequireRoot(t)
	root := corpus.Dir(t, "corpus")
	bin := buildSpecter(t)
	file := filepath.Join(root, "traffic/swagger-petstore3/traffic.pcap")
	spec := filepath.Join(root, "specs/oai-petstore-expanded.oas3.yaml")
	v := vethtest.New(t)
	p := startSpecter(t, bin, capturingRe, "capture", "-i", v.Host, "--events", "-", "--metrics", "127.0.0.1:0",
		"--spec-host", "petstore3.swagger.test="+spec, "--flush-every", "1s")
	m := regexp.MustCompile(`metrics on (http://\S+/metrics)`).FindStringSubmatch(p.errText())
	if m == nil {
		t.Fatalf("no metrics address in:\n%s", p.errText())
	}
	v.Replay(t, file, 100, 1)
	var metrics string
	deadline := time.Now().Add(liveness)
	for {
		resp, err := http.Get(m[1])
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		metrics = string(b)
		if c := regexp.MustCompile(`(?m)^specter_capture_exchanges_total (\S+)`).FindStringSubmatch(metrics); c != nil && c[1] != "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no exchanges counted in /metrics:\n%s", metrics)
		}
		time.Sleep(200 * time.Millisecond)
	}
	pk := regexp.MustCompile(`(?m)^specter_capture_packets_total (\S+)`).FindStringSubmatch(metrics)
	if pk == nil || pk[1] == "0" {
		t.Errorf("packets counter: %v\n%s", pk, metrics)
	}
	p.stop(t, os.Interrupt)
	var shadow, endpoints int
	sc := bufio.NewScanner(&p.stdout)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("event line %q: %v", sc.Text(), err)
		}
		switch {
		case e.Event == "finding" && e.Kind == "shadow":
			shadow++
			if e.Finding == nil || e.Finding.Fingerprint == "" || e.Service != "petstore3.swagger.test" {
				t.Errorf("shadow event %s", sc.Text())
			}
		case e.Event == "endpoint":
			endpoints++
		case e.Event == "finding" && e.Kind == "unused":
			t.Errorf("unused operations are not events: %s", sc.Text())
		}
	}
	if !strings.Contains(p.errText(), "findings") || !regexp.MustCompile(`findings\s+\d+ \(shadow \d+`).MatchString(p.errText()) {
		t.Errorf("the summary (on stderr with --events -) lacks the findings by kind:\n%s", p.errText())
	}
	if shadow == 0 || endpoints == 0 {
		t.Errorf("%d shadow finding events, %d endpoint events; stderr:\n%s", shadow, endpoints, p.errText())
	}
}

// TestCaptureEBPF serves HTTP and HTTPS (OpenSSL) with python on loopback,
// traces the servers with --ebpf --pid, and checks that the inventory has
// their endpoints attributed to the server's process name.
func TestCaptureEBPF(t *testing.T) {
	requireEBPF(t)
	bin := buildSpecter(t)
	dir := t.TempDir()
	for _, d := range []string{"api/v1/items", "api/v1/secure"} {
		if err := os.MkdirAll(filepath.Join(dir, "www", d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		for _, d := range []string{"api/v1/items", "api/v1/secure"} {
			if err := os.WriteFile(filepath.Join(dir, "www", d, fmt.Sprint(100+i)), []byte(`{"id":1}`), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	cert, key := bpftest.WriteCert(t, dir)
	tests := []struct {
		name, path string
		tls        bool
		all        bool // trace every process: curl's side is read too, and left out
	}{
		{"http", "/api/v1/items/", false, false},
		{"https", "/api/v1/secure/", true, false},
		{"all-processes", "/api/v1/items/", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srvCert, srvKey := "", ""
			if tc.tls {
				srvCert, srvKey = cert, key
			}
			pid, port := bpftest.StartServer(t, filepath.Join(dir, "www"), srvCert, srvKey)
			comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
			if err != nil {
				t.Fatal(err)
			}
			db := filepath.Join(t.TempDir(), "ebpf.db")
			args := []string{"capture", "--ebpf", "--db", db}
			if !tc.all {
				args = append(args, "--pid", fmt.Sprint(pid))
			}
			p := startSpecter(t, bin, regexp.MustCompile(`^specter: tracing with eBPF`), args...)
			scheme := "http"
			if tc.tls {
				scheme = "https"
			}
			for i := range 3 {
				u := fmt.Sprintf("%s://127.0.0.1:%d%s%d", scheme, port, tc.path, 100+i)
				if out, err := exec.Command("curl", "-sk", "--fail", "-o", "/dev/null", u).CombinedOutput(); err != nil {
					t.Fatalf("curl %s: %v %s", u, err, out)
				}
			}
			p.stop(t, os.Interrupt)
			eps := binEndpoints(t, bin, db)
			found := false
			for _, e := range eps {
				if e.Method != "GET" || !strings.HasPrefix(e.Template, tc.path) {
					continue
				}
				found = true
				if e.Count != 3 {
					t.Errorf("%s %s: count %d, want 3", e.Method, e.Template, e.Count)
				}
				if len(e.Processes) != 1 || e.Processes[0].Comm != strings.TrimSpace(string(comm)) ||
					len(e.Processes[0].PIDs) != 1 || e.Processes[0].PIDs[0] != uint32(pid) {
					t.Errorf("%s %s: processes %+v, want %s pid %d", e.Method, e.Template, e.Processes, comm, pid)
				}
			}
			if !found {
				t.Errorf("no endpoint under %s in %+v\nstderr:\n%s", tc.path, eps, p.errText())
			}
			// The table shows the process too.
			table, err := exec.Command(bin, "endpoints", "--db", db).Output()
			if err != nil || !strings.Contains(string(table), "PROCESSES") || !strings.Contains(string(table), strings.TrimSpace(string(comm))) {
				t.Errorf("endpoints table: %v\n%s", err, table)
			}
		})
	}
}

// TestCaptureUsage checks the argument errors, which need no privileges.
func TestCaptureUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		hint string
	}{
		{[]string{"capture"}, "-i IFACE or --ebpf"},
		{[]string{"capture", "-i", "lo", "--ebpf"}, "exclusive"},
		{[]string{"capture", "--ebpf", "tcp"}, "no filter"},
		{[]string{"capture", "-i", "lo", "--pid", "1"}, "need --ebpf"},
		{[]string{"capture", "-i", "lo", "--flush-every", "0s"}, "--flush-every"},
		{[]string{"capture", "--ebpf", "--ring-mb", "-1"}, "--ring-mb"},
	} {
		_, errs, code := run(t, tc.args...)
		if code != exitFatal || !strings.Contains(errs, tc.hint) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", tc.args, code, errs, tc.hint)
		}
	}
}

// vxlanWrap writes a VXLAN-encapsulated copy of the capture at in.
func vxlanWrap(t *testing.T, in string, vni uint32) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "vxlan.pcap")
	if err := synth.WrapVXLAN(in, out, vni); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCaptureReload sends SIGHUP to a capture with --db and --config: the
// config is read again and a new run begun; a bad config is reported and
// the old one kept.
func TestCaptureReload(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: AF_PACKET sockets")
	}
	bin := buildSpecter(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "specter.yaml")
	if err := os.WriteFile(cfg, []byte("services:\n  - host: \"*\"\n    static: [me]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "d.db")
	p := startSpecter(t, bin, capturingRe, "capture", "-i", "lo", "--db", db, "--config", cfg, "tcp", "port", "1")
	waitLine := func(re *regexp.Regexp) {
		t.Helper()
		deadline := time.After(liveness)
		for {
			select {
			case l := <-p.lines:
				if re.MatchString(l) {
					return
				}
			case <-deadline:
				t.Fatalf("no line matching %s in:\n%s", re, p.errText())
			}
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLine(regexp.MustCompile(`reloaded the config`))
	if err := os.WriteFile(cfg, []byte("services: [[[\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLine(regexp.MustCompile(`reload: .*keeping the previous config`))
	p.stop(t, os.Interrupt)
	out, err := exec.Command(bin, "runs", "--db", db, "--json").Output()
	if err != nil {
		t.Fatalf("runs: %v", err)
	}
	var runs []struct {
		Status    string `json:"status"`
		Interface string `json:"interface"`
	}
	if err := json.Unmarshal(out, &runs); err != nil {
		t.Fatalf("runs: %v\n%s", err, out)
	}
	if len(runs) != 2 {
		t.Fatalf("%d runs, want 2 (one per config): %s", len(runs), out)
	}
	for _, r := range runs {
		if r.Interface != "lo" {
			t.Errorf("run %+v: interface not recorded", r)
		}
	}
}

func TestEventLog(t *testing.T) {
	var buf bytes.Buffer
	l := &eventLog{w: &buf, keys: map[string]bool{}}
	f1 := &diff.Finding{Fingerprint: "a"}
	f2 := &diff.Finding{Fingerprint: "b"}
	for _, f := range []*diff.Finding{f1, f2, f1, f2, f1} {
		l.Finding(event{Event: "finding", Finding: f})
	}
	l.Write(event{Event: "endpoint", Path: "/x"})
	var nil_ *eventLog
	nil_.Write(event{Event: "endpoint"}) // a nil log drops events
	if got := strings.Count(buf.String(), "\n"); got != 3 || l.Count() != 3 {
		t.Errorf("%d lines, count %d, want 3:\n%s", got, l.Count(), buf.String())
	}
}

func TestAnnounce(t *testing.T) {
	var buf bytes.Buffer
	v := &sinkStack{seen: map[string]map[string]bool{}, opts: sinkOptions{events: &eventLog{w: &buf, keys: map[string]bool{}}}}
	ep := func(tmpl string, sens ...string) infer.EndpointSummary {
		return infer.EndpointSummary{Service: "s", Method: "GET", Template: tmpl, Sensitive: sens}
	}
	steps := []struct {
		eps  []infer.EndpointSummary
		emit bool
		want []string // event kinds written
	}{
		{[]infer.EndpointSummary{ep("/a")}, false, nil},
		{[]infer.EndpointSummary{ep("/a"), ep("/b", "email")}, true, []string{"endpoint", "sensitive"}},
		{[]infer.EndpointSummary{ep("/a", "email"), ep("/b", "email")}, true, []string{"sensitive"}},
		{[]infer.EndpointSummary{ep("/a", "email"), ep("/b", "email", "password")}, true, []string{"sensitive"}},
		{[]infer.EndpointSummary{ep("/a", "email"), ep("/b", "email", "password")}, true, nil},
	}
	for i, s := range steps {
		buf.Reset()
		v.announce(s.eps, s.emit)
		var got []string
		sc := bufio.NewScanner(&buf)
		for sc.Scan() {
			var e event
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatal(err)
			}
			got = append(got, e.Event)
		}
		if fmt.Sprint(got) != fmt.Sprint(s.want) {
			t.Errorf("step %d: events %v, want %v", i, got, s.want)
		}
	}
}

func TestServeMetrics(t *testing.T) {
	var ctr counters
	ctr.Packets.Store(42)
	ctr.Endpoints.Store(7)
	for _, addr := range []string{"0", ":0", "127.0.0.1:0"} {
		bound, stop, err := serveMetrics(addr, &ctr)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(bound, "127.0.0.1:") {
			t.Errorf("%q bound %s, want loopback", addr, bound)
		}
		resp, err := http.Get("http://" + bound + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		stop()
		for _, want := range []string{"specter_capture_packets_total 42", "specter_capture_endpoints 7", "specter_capture_kernel_drops_total 0"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("%q: /metrics lacks %q:\n%s", addr, want, b)
			}
		}
	}
	if _, _, err := serveMetrics("nohost:port:bad", &ctr); err == nil {
		t.Error("a bad address was accepted")
	}
}

// TestCaptureMaxPackets: without --duration, --max-packets alone ends the
// capture (exit 0) once that many packets were read.
func TestCaptureMaxPackets(t *testing.T) {
	vethtest.RequireRoot(t)
	file := filepath.Join(corpus.Dir(t, "corpus/traffic"), "swagger-petstore3/traffic.pcap")
	bin := buildSpecter(t)
	v := vethtest.New(t)
	p := startSpecter(t, bin, capturingRe, "capture", "-i", v.Host, "--max-packets", "100", "--json")
	slow := v.ReplayCmd(file, 1, 1)
	if err := slow.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = slow.Process.Kill(); _ = slow.Wait() }()
	p.wait(t)
	var sum captureSummary
	if err := json.Unmarshal(p.stdout.Bytes(), &sum); err != nil {
		t.Fatalf("summary: %v\n%s", err, p.stdout.String())
	}
	if sum.Packets < 100 {
		t.Errorf("stopped after %d packets, want at least 100", sum.Packets)
	}
}

// TestCaptureTwoInterfacesDedup mirrors the same traffic onto two
// interfaces (a frame copied to two SPAN ports): with -i twice and --dedup
// the inventory is still the file's, counts not doubled. (Copies further
// apart than the dedup window, as two unsynchronized replays are, are
// dropped by reassembly as retransmissions.)
func TestCaptureTwoInterfacesDedup(t *testing.T) {
	vethtest.RequireRoot(t)
	file := filepath.Join(corpus.Dir(t, "corpus/traffic"), "swagger-petstore3/traffic.pcap")
	bin := buildSpecter(t)
	want := analyzed(t, bin, file)
	a, b := vethtest.New(t), vethtest.New(t)
	db := filepath.Join(t.TempDir(), "live.db")
	p := startSpecter(t, bin, capturingRe, "capture", "-i", a.Host, "-i", b.Host, "--dedup", "--db", db, "--duration", "15s", "--json")
	var wg sync.WaitGroup
	for _, v := range []*vethtest.Pair{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := v.ReplayCmd(file, 100, 1).CombinedOutput(); err != nil {
				t.Errorf("tcpreplay: %v\n%s", err, out)
			}
		}()
	}
	wg.Wait()
	p.wait(t)
	var sum captureSummary
	if err := json.Unmarshal(p.stdout.Bytes(), &sum); err != nil {
		t.Fatalf("summary: %v\n%s", err, p.stdout.String())
	}
	if len(sum.Interfaces) != 2 || sum.KernelDrops != 0 {
		t.Errorf("summary: %+v", sum)
	}
	sameInventory(t, binEndpoints(t, bin, db), want)
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/specter-dev/specter/capture/corpus"
	"github.com/specter-dev/specter/capture/synth"
	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/store"
)

// splitCapture writes the packets of in to two pcaps at the capture's
// middle time, the way a sensor rotates its files, except that each
// connection is cut where its client starts a request (no exchange is cut
// in two): the first pcap has everything before, the second the rest.
// Connections opened after the middle are all in the second.
func splitCapture(t *testing.T, in, dir string) (a, b string, ok bool) {
	t.Helper()
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	type pkt struct {
		ci         gopacket.CaptureInfo
		data       []byte
		key, src   string
		syn, isACK bool
		payload    int
	}
	var pkts []pkt
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		p := pkt{ci: ci, data: data, key: "other"}
		gp := gopacket.NewPacket(data, r.LinkType(), gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		if nl, tl := gp.NetworkLayer(), gp.TransportLayer(); nl != nil && tl != nil {
			e1 := nl.NetworkFlow().Src().String() + ":" + tl.TransportFlow().Src().String()
			e2 := nl.NetworkFlow().Dst().String() + ":" + tl.TransportFlow().Dst().String()
			p.src = e1
			if e2 < e1 {
				e1, e2 = e2, e1
			}
			p.key = e1 + "-" + e2
			if tcp, ok := tl.(*layers.TCP); ok {
				p.syn, p.isACK, p.payload = tcp.SYN, tcp.ACK, len(tcp.Payload)
			}
		}
		pkts = append(pkts, p)
	}
	if len(pkts) < 2 {
		t.Fatalf("%s: %d packets", in, len(pkts))
	}
	first, last := pkts[0].ci.Timestamp, pkts[0].ci.Timestamp
	for _, p := range pkts {
		if p.ci.Timestamp.Before(first) {
			first = p.ci.Timestamp
		}
		if p.ci.Timestamp.After(last) {
			last = p.ci.Timestamp
		}
	}
	mid := first.Add(last.Sub(first) / 2)
	type conn struct {
		client string
		cut    bool
	}
	conns := map[string]*conn{}
	a, b = filepath.Join(dir, "a.pcap"), filepath.Join(dir, "b.pcap")
	var ws [2]*pcapgo.Writer
	var counts [2]int
	for i, name := range []string{a, b} {
		out, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		ws[i] = pcapgo.NewWriter(out)
		if err := ws[i].WriteFileHeader(65535, r.LinkType()); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range pkts {
		after := !p.ci.Timestamp.Before(mid)
		c := conns[p.key]
		if c == nil {
			c = &conn{cut: after}
			conns[p.key] = c
		}
		if c.client == "" && (p.syn && !p.isACK || p.payload > 0) {
			c.client = p.src
		}
		if !c.cut && after && p.src == c.client && p.payload > 0 {
			c.cut = true
		}
		i := 0
		if c.cut {
			i = 1
		}
		counts[i]++
		if err := ws[i].WritePacket(p.ci, p.data); err != nil {
			t.Fatal(err)
		}
	}
	return a, b, counts[0] > len(pkts)/10 && counts[1] > len(pkts)/10
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := run(t, args...)
	if code != exitOK {
		t.Fatalf("specter %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	return out
}

// TestDBIncremental: through the CLI, analyzing A then B into one database
// lists the same endpoints (--json) and exports the same OpenAPI as
// analyzing A and B together, into a database or in memory; for the two
// halves of a capture and for two different captures.
func TestDBIncremental(t *testing.T) {
	dir := corpus.Dir(t, "corpus/traffic")
	sets, err := filepath.Glob(filepath.Join(dir, "*", "traffic.pcap"))
	if err != nil || len(sets) < 2 {
		t.Skipf("need two traffic sets in %s", dir)
	}
	sort.Strings(sets)
	type pair struct{ name, a, b string }
	cases := []pair{{"two captures", sets[0], sets[1]}}
	for _, set := range sets {
		if a, b, ok := splitCapture(t, set, t.TempDir()); ok {
			cases = append(cases, pair{"halves of " + filepath.Base(filepath.Dir(set)), a, b})
		}
	}
	if len(cases) < 2 {
		t.Error("no capture splits into two halves of whole connections")
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			seq, one := filepath.Join(d, "seq.db"), filepath.Join(d, "one.db")
			mustRun(t, "analyze", "--db", seq, tc.a)
			mustRun(t, "analyze", "--db", seq, "--checkpoint-every", "50", tc.b)
			mustRun(t, "analyze", "--db", one, tc.a, tc.b)

			wantEps := mustRun(t, "endpoints", "--json", tc.a, tc.b)
			wantDoc := mustRun(t, "export", tc.a, tc.b)
			var eps []infer.EndpointSummary
			if err := json.Unmarshal([]byte(wantEps), &eps); err != nil || len(eps) == 0 {
				t.Fatalf("no endpoints from the captures (%v): the comparison would prove nothing", err)
			}
			for _, db := range []string{seq, one} {
				if got := mustRun(t, "endpoints", "--db", db, "--json"); got != wantEps {
					t.Errorf("%s: endpoints --json differ from the captures'", filepath.Base(db))
				}
				if got := mustRun(t, "export", "--db", db); got != wantDoc {
					t.Errorf("%s: export differs from the captures':\n%s", filepath.Base(db), lineDiff(got, wantDoc))
				}
			}
		})
	}
}

// TestDBCommands: merge, show, prune and the table output with --db.
func TestDBCommands(t *testing.T) {
	d := t.TempDir()
	a, b, out := filepath.Join(d, "a.db"), filepath.Join(d, "b.db"), filepath.Join(d, "out.db")
	mustRun(t, "analyze", "--db", a, demo)
	mustRun(t, "analyze", "--db", b, demo)
	if _, errs, code := run(t, "merge", out, a, b); code != exitOK {
		t.Fatalf("merge: exit %d: %s", code, errs)
	}
	// Merging equals analyzing one after the other into one database
	// (which equals analyzing together: TestDBIncremental).
	both := filepath.Join(d, "both.db")
	mustRun(t, "analyze", "--db", both, demo)
	mustRun(t, "analyze", "--db", both, demo)
	if got, want := mustRun(t, "endpoints", "--db", out, "--json"), mustRun(t, "endpoints", "--db", both, "--json"); got != want {
		t.Errorf("merged inventory differs from analyzing both:\n%s\nwant\n%s", got, want)
	}
	if got, want := mustRun(t, "export", "--db", out), mustRun(t, "export", "--db", both); got != want {
		t.Error("merged export differs from analyzing both")
	}

	table := mustRun(t, "analyze", "--db", a, "--endpoints", demo)
	if !strings.Contains(table, "SERVICE") || !strings.Contains(table, "shop.example.test") {
		t.Errorf("analyze --endpoints:\n%s", table)
	}

	var eps []infer.EndpointSummary
	if err := json.Unmarshal([]byte(mustRun(t, "endpoints", "--db", out, "--json")), &eps); err != nil || len(eps) == 0 {
		t.Fatalf("endpoints: %v", err)
	}
	var tmpl infer.EndpointSummary
	for _, e := range eps {
		if strings.Contains(e.Template, "{") {
			tmpl = e
			break
		}
	}
	if tmpl.Template == "" {
		t.Fatal("no templated endpoint in the demo capture")
	}
	concrete := paramRe.ReplaceAllString(tmpl.Template, "12345")
	for _, p := range []string{tmpl.Template, concrete} {
		got := mustRun(t, "show", "--db", out, strings.ToLower(tmpl.Method), p)
		for _, want := range []string{tmpl.Method + " " + tmpl.Template, "statuses", "latency", "operation:", "responses:"} {
			if !strings.Contains(got, want) {
				t.Errorf("show %s %s: no %q in\n%s", tmpl.Method, p, want, got)
			}
		}
	}
	got := mustRun(t, "show", "--json", tmpl.Method, concrete, demo)
	var details []endpointDetail
	if err := json.Unmarshal([]byte(got), &details); err != nil || len(details) != 1 || details[0].Endpoint.Template != tmpl.Template || details[0].Operation == nil {
		t.Errorf("show --json from captures: %v\n%s", err, got)
	}
	if _, _, code := run(t, "show", "--db", out, "GET", "/no/such/path"); code != exitPartial {
		t.Errorf("show of a missing endpoint: exit %d", code)
	}

	var runs []store.Run
	if err := json.Unmarshal([]byte(mustRun(t, "runs", "--db", out, "--json")), &runs); err != nil || len(runs) != 2 ||
		runs[0].Source != a || runs[1].Source != b || runs[0].Status != store.StatusComplete || runs[0].Exchanges == 0 || runs[0].Packets == 0 {
		t.Errorf("runs of the merged database: %v %+v", err, runs)
	}
	if table := mustRun(t, "runs", "--db", a); !strings.Contains(table, "complete") || !strings.Contains(table, demo) {
		t.Errorf("runs table:\n%s", table)
	}

	pruned := mustRun(t, "prune", "--db", out, "--older-than", "30d", "--json")
	var st store.PruneStats
	if err := json.Unmarshal([]byte(pruned), &st); err != nil || st.Runs != 0 {
		// The demo's traffic is from 2026-01-02; runs are recent.
		t.Errorf("prune: %v %+v", err, st)
	}
	if st.Examples == 0 {
		t.Errorf("prune kept the examples of January traffic: %+v", st)
	}
	if after := mustRun(t, "endpoints", "--db", out); !strings.Contains(after, tmpl.Template) {
		t.Errorf("endpoint history lost by prune:\n%s", after)
	}

	for _, tc := range []struct {
		args []string
		hint string
	}{
		{[]string{"endpoints", "--db", out, demo}, "add captures with"},
		{[]string{"endpoints", "--db", filepath.Join(d, "missing.db")}, "missing.db"},
		{[]string{"merge", out, out}, "both the output and an input"},
		{[]string{"prune", "--db", out, "--older-than", "soon"}, "--older-than"},
		{[]string{"show", "--db", out, "GET"}, "METHOD PATH"},
	} {
		_, errs, code := run(t, tc.args...)
		if code != exitFatal || !strings.Contains(errs, tc.hint) {
			t.Errorf("%v: exit %d, stderr %q, want a mention of %q", tc.args, code, errs, tc.hint)
		}
	}
}

// buildSpecter builds the real binary into a temporary directory.
func buildSpecter(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "specter")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestSIGKILL kills a real specter process in the middle of an ingest into
// a database that holds an earlier run, then checks the database: it opens,
// passes the integrity check, keeps the earlier run's inventory, keeps what
// the killed run had checkpointed, and reports that run incomplete. The
// capture is fed through a pipe so that the kill is certain to land
// mid-ingest: after a checkpoint, before the end of the input.
//
// SIGINT instead stops the run cleanly; in both cases the run records the
// packets and bytes it had read (checkpoints record them as they go).
func TestSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and writes a large capture")
	}
	bin := buildSpecter(t)
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) { testKilled(t, bin, sig) })
	}
}

func testKilled(t *testing.T, bin string, sig syscall.Signal) {
	d := t.TempDir()
	db := filepath.Join(d, "specter.db")
	big := filepath.Join(d, "big.pcap")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	cfg := synth.DefaultConfig()
	cfg.TargetBytes = 64 << 20
	if _, err := synth.Write(f, cfg); err != nil {
		t.Fatal(err)
	}
	f.Close()

	if out, err := exec.Command(bin, "analyze", "--db", db, demo).CombinedOutput(); err != nil {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	before := dbEndpoints(t, db)

	data, err := os.ReadFile(big)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "analyze", "--db", db, "--checkpoint-every", "2000", "-")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Write 60% of the capture; the process then waits for more input.
	go func() { stdin.Write(data[:len(data)*6/10]) }()
	ctx := context.Background()
	var checkpointed uint64
	for deadline := time.Now().Add(2 * time.Minute); checkpointed == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("the second run never checkpointed")
		}
		s, err := store.Open(ctx, db, store.Options{ReadOnly: true})
		if err != nil {
			continue
		}
		runs, err := s.Runs(ctx)
		s.Close()
		if err == nil && len(runs) == 2 {
			checkpointed = runs[1].Exchanges
		}
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	switch {
	case !errors.As(err, &ee):
		t.Fatalf("the process ended with %v after %v", err, sig)
	case sig == syscall.SIGKILL && ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL:
		t.Fatalf("the process was not killed: %v", err)
	case sig != syscall.SIGKILL && ee.ExitCode() != 128+int(sig):
		// A run a signal ended exits 128+N, what it read stored.
		t.Fatalf("exit %v after %v, want %d", err, sig, 128+int(sig))
	}

	s, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatalf("open after %v: %v", sig, err)
	}
	defer s.Close()
	if got, err := s.IntegrityCheck(ctx); err != nil || got != "ok" {
		t.Fatalf("integrity_check: %q, %v", got, err)
	}
	runs, err := s.Runs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].Status != store.StatusComplete || runs[1].Status != store.StatusIncomplete {
		t.Fatalf("runs after %v: %+v", sig, runs)
	}
	if runs[1].Exchanges < checkpointed {
		t.Errorf("killed run records %d exchanges, %d were checkpointed", runs[1].Exchanges, checkpointed)
	}
	// The exchanges came from packets: the run says how many it read.
	if r := runs[1]; r.Packets == 0 || r.Bytes == 0 || r.Bytes > uint64(len(data)) || r.Packets > r.Bytes/40 {
		t.Errorf("interrupted run records %d packets, %d bytes (%d exchanges)", r.Packets, r.Bytes, r.Exchanges)
	}
	s.Close()
	// Every endpoint of the first run is still there, with at least its
	// count (the same service: the killed run only added to it).
	after := dbEndpoints(t, db)
	type key struct{ svc, method, tmpl string }
	have := map[key]uint64{}
	var total uint64
	for _, e := range after {
		have[key{e.Service, e.Method, e.Template}] = e.Count
		total += e.Count
	}
	var totalBefore uint64
	for _, e := range before {
		totalBefore += e.Count
		if n, ok := have[key{e.Service, e.Method, e.Template}]; !ok || n < e.Count {
			t.Errorf("endpoint %s %s of the first run: %d requests before, %d after (present %v)", e.Method, e.Template, e.Count, n, ok)
		}
	}
	if added := total - totalBefore; total <= totalBefore || added > runs[1].Exchanges {
		t.Errorf("the killed run added %d requests to the inventory, %d exchanges recorded", int64(total)-int64(totalBefore), runs[1].Exchanges)
	}
}

func dbEndpoints(t *testing.T, db string) []infer.EndpointSummary {
	t.Helper()
	var eps []infer.EndpointSummary
	if err := json.Unmarshal([]byte(mustRun(t, "endpoints", "--db", db, "--json")), &eps); err != nil || len(eps) == 0 {
		t.Fatalf("endpoints of %s: %v (%d)", db, err, len(eps))
	}
	return eps
}

// lineDiff shows the first differing line of two texts with context.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			lo := max(0, i-4)
			return "after:\n" + strings.Join(w[lo:i], "\n") + "\ngot:  " + a + "\nwant: " + b
		}
	}
	return "(equal)"
}

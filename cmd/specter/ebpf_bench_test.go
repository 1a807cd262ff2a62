package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/specter-dev/specter/bpf"
	"github.com/specter-dev/specter/reassembly"
)

// synthTraffic generates the eBPF chunks of a loopback HTTP benchmark:
// conns keep-alive connections to a Go JSON API on 127.0.0.1:8080, each
// carrying GET /api/items/{id} requests answered by small JSON 200s. For
// each exchange the server's socket reads the request (ingress) and writes
// the response (egress); with client, the client's socket writes the
// request and reads the response too (chunks runEBPF leaves out).
type synthTraffic struct {
	conns  int
	client bool
	reqs   [][]byte
	resps  [][]byte
	server []bpf.Chunk // per connection: the server socket's chunk template
	peer   []bpf.Chunk // per connection: the client socket's
	start  time.Time
}

const synthIDs = 1000

func newSynthTraffic(conns int, client bool) *synthTraffic {
	// The capture's clock is the wall clock (runEBPF closes the sockets
	// idle by it), as the tracer's timestamps are.
	s := &synthTraffic{conns: conns, client: client, start: time.Now()}
	for id := range synthIDs {
		s.reqs = append(s.reqs, fmt.Appendf(nil, "GET /api/items/%d HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n", id))
		body := fmt.Sprintf(`{"id":%d,"name":"item %d","price":%d.5,"tags":["a","b"]}`, id, id, id%97)
		s.resps = append(s.resps, fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Fri, 02 Jan 2026 03:04:05 GMT\r\nContent-Length: %d\r\n\r\n%s", len(body), body))
	}
	srv := netip.MustParseAddrPort("127.0.0.1:8080")
	for i := range conns {
		cli := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(40000+i))
		s.server = append(s.server, bpf.Chunk{Kind: bpf.KindData, Conn: bpf.ConnID(1<<32 | uint64(i+1)), PID: 4242, TID: 4243,
			Comm: "itemsd", Cgroup: 77, FD: int32(10 + i), Local: srv, Remote: cli})
		s.peer = append(s.peer, bpf.Chunk{Kind: bpf.KindData, Conn: bpf.ConnID(2<<32 | uint64(i+1)), PID: 5151, TID: 5152,
			Comm: "wrk", Cgroup: 78, FD: int32(10 + i), Local: cli, Remote: srv})
	}
	return s
}

// chunksPer is the chunks each exchange produces.
func (s *synthTraffic) chunksPer() int {
	if s.client {
		return 4
	}
	return 2
}

// chunk returns the k-th chunk of the traffic; its Data is shared.
func (s *synthTraffic) chunk(k int) bpf.Chunk {
	per := s.chunksPer()
	i, step := k/per, k%per
	if !s.client {
		step++ // 1: server reads, 2: server writes
	}
	conn := i % s.conns
	id := (i * 7919) % synthIDs
	ts := s.start.Add(time.Duration(i) * 12500 * time.Nanosecond).Add(time.Duration(step) * time.Microsecond)
	var c bpf.Chunk
	var data []byte
	switch step {
	case 0: // the client writes the request
		c, data = s.peer[conn], s.reqs[id]
		c.Dir = bpf.Egress
	case 1: // the server reads it
		c, data = s.server[conn], s.reqs[id]
		c.Dir = bpf.Ingress
	case 2: // the server writes the response
		c, data = s.server[conn], s.resps[id]
		c.Dir = bpf.Egress
	default: // the client reads it
		c, data = s.peer[conn], s.resps[id]
		c.Dir = bpf.Ingress
	}
	c.Time = ts
	c.Data = data
	c.Len = len(data)
	return c
}

// fakeTracer stands in for a *bpf.Tracer: it serves n chunks of traffic,
// then reports itself closed.
type fakeTracer struct {
	t       *synthTraffic
	n, next int
	records atomic.Uint64
	bytes   atomic.Uint64
}

// ReadBatch fills b as the tracer does, its chunks' data copied into it.
func (f *fakeTracer) ReadBatch(b *bpf.Batch) error {
	b.Reset()
	if f.next >= f.n {
		return bpf.ErrClosed
	}
	var n uint64
	for ; f.next < f.n && !b.Full(); f.next++ {
		c := f.t.chunk(f.next)
		b.Add(&c)
		n += uint64(len(c.Data))
	}
	f.records.Add(uint64(len(b.Chunks)))
	f.bytes.Add(n)
	return nil
}

func (f *fakeTracer) Stats() bpf.Stats {
	return bpf.Stats{Records: f.records.Load(), Bytes: f.bytes.Load()}
}
func (f *fakeTracer) LibSSL() []string { return nil }
func (f *fakeTracer) Close() error     { return nil }

// runSynthEBPF runs n exchanges of synthetic traffic through runEBPF into a
// sink (in memory, or into the database at dbPath) and returns the summary
// and the counters.
func runSynthEBPF(tb testing.TB, t *synthTraffic, n int, dbPath string, specs ...string) (captureSummary, *counters, *sinkStack) {
	var ctr counters
	cf := &captureFlags{ebpf: true, dbPath: dbPath, flushEvery: 10 * time.Second}
	inv, err := openSink(context.Background(), captureSinkOptions(cf, &inferFlags{}, &specFlags{specs: specs}, nil, &ctr, io.Discard))
	if err != nil {
		tb.Fatal(err)
	}
	pf := &pipelineFlags{maxConns: reassembly.DefaultConfig().MaxConnections}
	src := &fakeTracer{t: t, n: n * t.chunksPer()}
	sum, err := runEBPF(context.Background(), io.Discard, src, &captureFlags{}, pf.config(), inv, &ctr)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := inv.Finish(context.Background(), runTotals(sum, nil, &ctr)); err != nil {
		tb.Fatal(err)
	}
	return sum, &ctr, inv
}

// synthSpec declares the synthetic traffic's API but for its price field,
// so that every response is a finding (one fingerprint).
const synthSpec = `openapi: 3.0.0
info: {title: items, version: "1"}
paths:
  /api/items/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses:
        "200":
          description: an item
          content:
            application/json:
              schema:
                type: object
                additionalProperties: false
                properties: {id: {type: integer}, name: {type: string}, tags: {type: array, items: {type: string}}}
`

func writeSynthSpec(tb testing.TB) string {
	p := filepath.Join(tb.TempDir(), "items.yaml")
	if err := os.WriteFile(p, []byte(synthSpec), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// TestEBPFPathSynthetic: every exchange of the synthetic traffic is
// captured once, from the server's socket, with its process.
func TestEBPFPathSynthetic(t *testing.T) {
	for _, client := range []bool{false, true} {
		t.Run(fmt.Sprintf("client=%v", client), func(t *testing.T) {
			const n = 5000
			tr := newSynthTraffic(50, client)
			sum, ctr, inv := runSynthEBPF(t, tr, n, "")
			if sum.Exchanges != n || ctr.Exchanges.Load() != n {
				t.Fatalf("%d exchanges (counter %d), want %d", sum.Exchanges, ctr.Exchanges.Load(), n)
			}
			if sum.Reassembly.Connections != 50 || sum.Reassembly.Requests != n || sum.Reassembly.Responses != n ||
				sum.Reassembly.UnmatchedRequests+sum.Reassembly.UnmatchedResponses+sum.Reassembly.ParseErrors != 0 {
				t.Errorf("reassembly %+v", sum.Reassembly)
			}
			if want := uint64(0); client {
				want = 50
				if sum.Duplicates != want {
					t.Errorf("duplicates %d, want %d", sum.Duplicates, want)
				}
			}
			eps := inv.m.Endpoints()
			if len(eps) != 1 || eps[0].Template != "/api/items/{itemId}" || eps[0].Count != n {
				t.Fatalf("endpoints %+v", eps)
			}
			if got := sortedProcesses(eps[0].Processes); got != "itemsd" {
				t.Errorf("processes %q, want itemsd", got)
			}
		})
	}
	t.Run("spec", func(t *testing.T) {
		const n = 3000
		sum, ctr, inv := runSynthEBPF(t, newSynthTraffic(50, true), n, "", writeSynthSpec(t))
		if sum.Exchanges != n || ctr.Findings.Load() == 0 || len(inv.FindingsByKind()) == 0 {
			t.Fatalf("%d exchanges, %d findings %v", sum.Exchanges, ctr.Findings.Load(), inv.FindingsByKind())
		}
		t.Logf("findings %v", inv.FindingsByKind())
	})
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEBPFPath measures the user-space cost per exchange of
// `specter capture --ebpf` (from the tracer's chunks to the inventory,
// inference on) without the kernel: one op is one exchange. cpu-ns/exchange
// is the process CPU time (all goroutines), the cost to a saturated host.
func BenchmarkEBPFPath(b *testing.B) {
	for _, bc := range []struct {
		name   string
		client bool
		db     bool
	}{
		{"server", false, false},
		{"both-sides", true, false},
		{"both-sides-db", true, true},
		{"both-sides-spec", true, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tr := newSynthTraffic(64, bc.client)
			db := ""
			if bc.db {
				db = filepath.Join(b.TempDir(), "bench.db")
			}
			var specs []string
			if strings.HasSuffix(bc.name, "-spec") {
				specs = append(specs, writeSynthSpec(b))
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			sum, _, _ := runSynthEBPF(b, tr, b.N, db, specs...)
			cpu := cpuTime() - cpu0
			b.StopTimer()
			if sum.Exchanges != uint64(b.N) {
				b.Fatalf("%d exchanges, want %d", sum.Exchanges, b.N)
			}
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/exchange")
			b.ReportMetric(float64(b.N)/cpu.Seconds(), "exchanges/cpu-s")
		})
	}
}

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/specter-dev/specter/bpf"
	"github.com/specter-dev/specter/bpf/bpftest"
	"github.com/specter-dev/specter/capture/live/vethtest"
	"github.com/specter-dev/specter/cmd/internal/pipeline"
	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/store"
)

// countingSink counts the exchanges the sink stack hands its writers.
type countingSink struct{ n atomic.Uint64 }

func (c *countingSink) Observe(*reassembly.Exchange) { c.n.Add(1) }
func (c *countingSink) Flush() error                 { return nil }
func (c *countingSink) Close() error                 { return nil }

var _ pipeline.Sink = (*countingSink)(nil)

// checkStack checks what every source must leave behind through the one
// sink stack: each exchange counted once and reaching the sinks, and the
// store's run recording the counters' totals (one definition of drops).
func checkStack(t *testing.T, ctr *counters, seen *countingSink, dbPath string) {
	t.Helper()
	n := seen.n.Load()
	if n == 0 || n != ctr.Exchanges.Load() {
		t.Errorf("the sinks saw %d exchanges, the counters say %d", n, ctr.Exchanges.Load())
	}
	db, err := store.OpenReadOnly(context.Background(), dbPath, infer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runs, err := db.Runs(context.Background())
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %+v, %v", runs, err)
	}
	r := runs[0]
	if r.Packets != ctr.Packets.Load() || r.Bytes != ctr.Bytes.Load() || r.Drops != ctr.Drops() || r.Exchanges != n {
		t.Errorf("run %+v; counters: %d packets, %d bytes, %d drops, %d exchanges",
			r, ctr.Packets.Load(), ctr.Bytes.Load(), ctr.Drops(), n)
	}
	eps, err := db.Endpoints(context.Background(), "")
	if err != nil || len(eps) == 0 {
		t.Errorf("stored endpoints: %d, %v", len(eps), err)
	}
}

// TestStackFiles drives the sink stack from capture files.
func TestStackFiles(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "files.db")
	seen := new(countingSink)
	ios, _, _ := testStreams()
	res, err := consumeFiles(context.Background(), ios, inputsOf(demo), sinkOptions{inf: &inferFlags{}, sf: &specFlags{},
		dbPath: dbPath, run: store.RunInfo{Inputs: []string{demo}}, writers: []pipeline.Sink{seen}})
	if err != nil || res.RunErr != nil {
		t.Fatal(err, res.RunErr)
	}
	checkStack(t, res.Counters, seen, dbPath)
	if res.Summary.Reassembly.Exchanges != seen.n.Load() {
		t.Errorf("summary: %d exchanges, sinks %d", res.Summary.Reassembly.Exchanges, seen.n.Load())
	}
}

// TestStackEBPF drives the sink stack from the eBPF source (a tracer of
// synthetic chunks: no kernel needed).
func TestStackEBPF(t *testing.T) {
	const n = 2000
	dbPath := filepath.Join(t.TempDir(), "ebpf.db")
	seen := new(countingSink)
	var ctr counters
	so := captureSinkOptions(&captureFlags{ebpf: true, dbPath: dbPath, flushEvery: time.Hour}, &inferFlags{}, &specFlags{}, nil, &ctr, io.Discard)
	so.writers = []pipeline.Sink{seen}
	inv, err := openSink(context.Background(), so)
	if err != nil {
		t.Fatal(err)
	}
	tr := newSynthTraffic(20, false)
	sum, err := runEBPF(context.Background(), io.Discard, &fakeTracer{t: tr, n: n * tr.chunksPer()}, &captureFlags{}, reassembly.DefaultConfig(), inv, &ctr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inv.Finish(context.Background(), runTotals(sum, nil, &ctr)); err != nil {
		t.Fatal(err)
	}
	checkStack(t, &ctr, seen, dbPath)
	if seen.n.Load() != n {
		t.Errorf("%d exchanges, want %d", seen.n.Load(), n)
	}
}

// runCaptureStack opens the capture source of opts and the sink stack (a
// database, a counting writer), runs drive while the source runs, stops it
// once done reports true (a liveness bound, not a timing), and checks what
// the stack left behind. It returns the exchanges the sinks saw.
func runCaptureStack(t *testing.T, opts *captureOptions, drive func(), done func(*counters) bool) uint64 {
	t.Helper()
	opts.dbPath = filepath.Join(t.TempDir(), "capture.db")
	opts.flushEvery = time.Hour
	if err := opts.resolve(nil, &pipelineFlags{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src, err := openCapture(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	seen := new(countingSink)
	var ctr counters
	so := captureSinkOptions(&opts.captureFlags, &opts.Infer, &opts.Specs, nil, &ctr, io.Discard)
	so.writers = []pipeline.Sink{seen}
	inv, err := openSink(context.Background(), so)
	if err != nil {
		src.close()
		t.Fatal(err)
	}
	type result struct {
		sum captureSummary
		err error
	}
	ran := make(chan result, 1)
	go func() {
		sum, err := src.run(ctx, io.Discard, inv, &ctr)
		ran <- result{sum, err}
	}()
	drive()
	for deadline := time.Now().Add(liveness); !done(&ctr) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	r := <-ran
	if r.err != nil {
		t.Fatal(r.err)
	}
	if _, err := inv.Finish(context.Background(), runTotals(r.sum, nil, &ctr)); err != nil {
		t.Fatal(err)
	}
	checkStack(t, &ctr, seen, opts.dbPath)
	return seen.n.Load()
}

// TestStackLive drives the sink stack from AF_PACKET: the demo capture
// replayed onto a veth pair gives the exchanges the file gives.
func TestStackLive(t *testing.T) {
	vethtest.RequireRoot(t)
	ios, _, _ := testStreams()
	fileSeen := new(countingSink)
	files, err := consumeFiles(context.Background(), ios, inputsOf(demo), sinkOptions{inf: &inferFlags{}, sf: &specFlags{},
		writers: []pipeline.Sink{fileSeen}})
	if err != nil {
		t.Fatal(err)
	}
	v := vethtest.New(t)
	opts := &captureOptions{captureFlags: captureFlags{ifaces: []string{v.Host}, promisc: true}}
	n := runCaptureStack(t, opts, func() { v.Replay(t, demo, 100, 1) },
		// Every frame of the file read.
		func(c *counters) bool { return c.Packets.Load() >= files.Counters.Packets.Load() })
	if n != fileSeen.n.Load() {
		t.Errorf("live: %d exchanges, the file: %d", n, fileSeen.n.Load())
	}
}

// requireEBPF skips the test unless this host can trace with eBPF and
// serve the test's traffic (python3).
func requireEBPF(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("eBPF tracing needs root (CAP_BPF, CAP_PERFMON); run the tests as root")
	}
	if err := bpf.Check().Err(); err != nil {
		t.Skipf("this host cannot trace: %v", err)
	}
	bpftest.Python(t) // skips without python3
}

// TestStackEBPFKernel drives the sink stack from the kernel's eBPF tracer:
// three requests to a local server, traced by its pid.
func TestStackEBPFKernel(t *testing.T) {
	requireEBPF(t)
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skipf("needs curl: %v", err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "www", "api"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := os.WriteFile(filepath.Join(dir, "www", "api", fmt.Sprint(100+i)), []byte(`{"id":1}`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pid, port := bpftest.StartServer(t, filepath.Join(dir, "www"), "", "")
	opts := &captureOptions{captureFlags: captureFlags{ebpf: true, pid: pid}}
	n := runCaptureStack(t, opts, func() {
		for i := range 3 {
			u := fmt.Sprintf("http://127.0.0.1:%d/api/%d", port, 100+i)
			if out, err := exec.Command("curl", "-s", "--fail", "-o", "/dev/null", u).CombinedOutput(); err != nil {
				t.Errorf("curl %s: %v %s", u, err, out)
			}
		}
	}, func(c *counters) bool { return c.Exchanges.Load() >= 3 })
	if n != 3 {
		t.Errorf("%d exchanges, want 3", n)
	}
}

// TestStackFilesInterrupted: a signal during a run over files goes
// through the same flush as the end of the inputs: the run is recorded,
// incomplete, with the error, and the verb's status is the signal's.
func TestStackFilesInterrupted(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "int.db")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(signalCause{syscall.SIGTERM})
	ios, _, _ := testStreams()
	res, err := consumeFiles(ctx, ios, inputsOf(demo), sinkOptions{inf: &inferFlags{}, sf: &specFlags{},
		dbPath: dbPath, run: store.RunInfo{Inputs: []string{demo}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.RunErr == nil {
		t.Fatal("no error from an interrupted run")
	}
	db, err := store.OpenReadOnly(context.Background(), dbPath, infer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runs, err := db.Runs(context.Background())
	if err != nil || len(runs) != 1 || runs[0].Status != store.StatusIncomplete || runs[0].Error == "" {
		t.Fatalf("runs %+v, %v; want one incomplete run with its error", runs, err)
	}
	if code, _ := exitStatus(ctx, nil, outcome(res.Summary, res.RunErr)); code != 128+int(syscall.SIGTERM) {
		t.Errorf("exit %d, want %d", code, 128+int(syscall.SIGTERM))
	}
}

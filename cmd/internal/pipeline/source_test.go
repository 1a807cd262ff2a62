package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/specter-dev/specter/bpf"
	"github.com/specter-dev/specter/capture/corpus"
	"github.com/specter-dev/specter/capture/live"
	"github.com/specter-dev/specter/capture/live/vethtest"
	"github.com/specter-dev/specter/reassembly"
)

// sinkStack is the same stack every source drives in these tests: a
// fan-out to a recorder behind a bounded Async and a direct counter.
type sinkStack struct {
	rec   *recorder
	async *Async
	n     int
	sink  Fanout
}

func newSinkStack() *sinkStack {
	s := &sinkStack{rec: &recorder{}}
	s.async = NewAsync(s.rec, 4)
	s.sink = Fanout{s.async, SinkFunc(func(*reassembly.Exchange) { s.n++ })}
	return s
}

// batch hands a batch to the stack, as EBPF.Emit does.
func (s *sinkStack) batch(xs []*reassembly.Exchange) []*reassembly.Exchange {
	for _, x := range xs {
		s.sink.Observe(x)
	}
	return xs[:0]
}

// check closes the stack and compares what each side of the fan-out got
// with the counters and the source's statistics.
func (s *sinkStack) check(t *testing.T, ctr *Counters, rs reassembly.Stats, want int) {
	t.Helper()
	if err := s.sink.Close(); err != nil {
		t.Fatal(err)
	}
	if s.n != want || s.rec.count() != want {
		t.Errorf("sinks got %d and %d exchanges, want %d", s.n, s.rec.count(), want)
	}
	if rs.Exchanges != uint64(want) || ctr.Exchanges.Load() != uint64(want) {
		t.Errorf("stats %d, counters %d exchanges; want %d", rs.Exchanges, ctr.Exchanges.Load(), want)
	}
	if ctr.Drops() != 0 {
		t.Errorf("%d drops", ctr.Drops())
	}
}

func TestEBPFSource(t *testing.T) {
	const n = 300
	var chunks []bpf.Chunk
	for i := range n {
		conn := bpf.ConnID(i%5 + 1)
		chunks = append(chunks, chunkOf(conn, false, req(fmt.Sprintf("/%d", i)), 2*i), chunkOf(conn, true, resp("x"), 2*i+1))
	}
	s := newSinkStack()
	src := &EBPF{Tracer: newFakeTracer(chunks, 50, nil, false), Options: EBPFOptions{Local: map[netip.Addr]bool{}, Batch: 16}, Emit: s.batch}
	var ctr Counters
	rs, err := src.Run(context.Background(), &ctr)
	if err != nil {
		t.Fatal(err)
	}
	if ctr.Packets.Load() != 2*n {
		t.Errorf("%d records counted, want %d", ctr.Packets.Load(), 2*n)
	}
	s.check(t, &ctr, rs, n)
}

func TestLiveSource(t *testing.T) {
	vethtest.RequireRoot(t)
	file := filepath.Join(corpus.Dir(t, "corpus/traffic"), "swagger-petstore3/traffic.pcap")
	want := offline(t, file)
	total := 0
	for _, n := range want.exchanges {
		total += n
	}
	v := vethtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ls, err := live.Open(ctx, live.Options{Interfaces: []string{v.Host}})
	if err != nil {
		t.Fatal(err)
	}
	s := newSinkStack()
	src := &Live{Src: ls, Config: reassembly.DefaultConfig(), Emit: s.sink.Observe}
	var ctr Counters
	type result struct {
		rs  reassembly.Stats
		err error
	}
	ran := make(chan result, 1)
	go func() {
		rs, err := src.Run(ctx, &ctr)
		ran <- result{rs, err}
	}()
	v.Replay(t, file, 200, 1)
	// Not a timing assertion: the deadline only keeps a broken capture
	// from hanging the test; the counts are checked below.
	for deadline := time.Now().Add(30 * time.Second); ctr.Packets.Load() < uint64(want.frames) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	r := <-ran
	if r.err != nil {
		t.Fatal(r.err)
	}
	if got := src.DecodeStats().Frames; got != uint64(want.frames) {
		t.Errorf("decoded %d frames, the file has %d", got, want.frames)
	}
	s.check(t, &ctr, r.rs, total)
}

func TestFilesSource(t *testing.T) {
	file := filepath.Join(corpus.Dir(t, "corpus/traffic"), "swagger-petstore3/traffic.pcap")
	want := offline(t, file)
	total := 0
	for _, n := range want.exchanges {
		total += n
	}
	bad := filepath.Join(t.TempDir(), "bad.pcap")
	if err := os.WriteFile(bad, []byte("not a capture at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		paths     []string
		cancelled bool
		frames    int
		exchanges int
		errs      int
		wantErr   bool
	}{
		{"one file", []string{file}, false, want.frames, total, 0, false},
		{"a bad file is recorded and skipped", []string{bad, file}, false, want.frames, total, 1, false},
		{"a missing file too", []string{file, filepath.Join(t.TempDir(), "missing.pcap")}, false, want.frames, total, 1, false},
		{"interrupted", []string{file}, true, 0, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancelled {
				cancel()
			}
			s := newSinkStack()
			var prog Progress
			src := &Files{Paths: tt.paths, Config: reassembly.DefaultConfig(), Emit: s.sink.Observe, Progress: &prog}
			var ctr Counters
			rs, err := src.Run(ctx, &ctr)
			if (err != nil) != tt.wantErr || (tt.wantErr && !errors.Is(err, context.Canceled)) {
				t.Fatalf("Run = %v, want error %v", err, tt.wantErr)
			}
			st := src.Stats()
			if st.Packets != uint64(tt.frames) || ctr.Packets.Load() != st.Packets || prog.Packets.Load() != st.Packets {
				t.Errorf("packets %d (counters %d, progress %d), want %d", st.Packets, ctr.Packets.Load(), prog.Packets.Load(), tt.frames)
			}
			if len(st.Errors) != tt.errs {
				t.Errorf("errors %q, want %d", st.Errors, tt.errs)
			}
			s.check(t, &ctr, rs, tt.exchanges)
		})
	}
}

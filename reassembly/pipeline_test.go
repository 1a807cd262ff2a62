package reassembly_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/specter-dev/specter/capture"
	"github.com/specter-dev/specter/capture/synth"
	"github.com/specter-dev/specter/reassembly"
)

// analyze runs every file through the decoder and a pipeline and returns
// the exchanges in the order the pipeline delivered them.
func analyze(tb testing.TB, cfg reassembly.Config, files ...string) ([]*reassembly.Exchange, reassembly.Stats) {
	tb.Helper()
	var out []*reassembly.Exchange
	p := reassembly.New(cfg, func(x *reassembly.Exchange) { out = append(out, x) })
	for _, name := range files {
		feed(tb, p, name)
	}
	return out, p.Close()
}

// feed reads a capture through a decoder into p.
func feed(tb testing.TB, p *reassembly.Pipeline, name string) {
	tb.Helper()
	r, err := capture.Open(name)
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	dec := capture.NewDecoder(capture.DecoderOptions{})
	var pkt capture.Packet
	for {
		f, err := r.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				tb.Logf("%s: %v", name, err)
			}
			return
		}
		if ok, _ := dec.Decode(f, &pkt); ok {
			p.Add(&pkt)
		}
	}
}

func writeSynth(tb testing.TB, cfg synth.Config) (string, *synth.Truth) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "synth.pcap")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	truth, err := synth.Write(f, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path, truth
}

type key struct {
	method, path string
	status       int
}

func keyOf(x *reassembly.Exchange) key {
	k := key{}
	if x.Request != nil {
		k.method = x.Request.Method
		k.path = x.Request.Target
	}
	if x.Response != nil {
		k.status = x.Response.StatusCode
	}
	return k
}

func TestSynthAllExchangesRecovered(t *testing.T) {
	for _, workers := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			cfg := synth.DefaultConfig()
			cfg.TargetBytes = 3 << 20
			path, truth := writeSynth(t, cfg)
			rc := reassembly.DefaultConfig()
			rc.Workers = workers
			got, st := analyze(t, rc, path)
			if len(got) != len(truth.Exchanges) {
				t.Fatalf("got %d exchanges, want %d (stats %+v)", len(got), len(truth.Exchanges), st)
			}
			want := map[key]int{}
			for _, e := range truth.Exchanges {
				want[key{e.Method, e.Path, e.Status}]++
			}
			for _, x := range got {
				if x.Flags != 0 {
					t.Errorf("exchange %s %s flagged %v", x.Request.Method, x.Request.Target, x.Flags.Names())
				}
				want[keyOf(x)]--
			}
			for k, n := range want {
				if n != 0 {
					t.Errorf("%v: %+d", k, n)
				}
			}
			if st.Gaps != 0 || st.ParseErrors != 0 || st.UnmatchedRequests != 0 || st.UnmatchedResponses != 0 {
				t.Errorf("clean capture gave %+v", st)
			}
			for _, x := range got {
				if x.Request.Authority != "shop.example.test" || x.Flow.Server.Port() != 8080 {
					t.Fatalf("bad request/flow: host %q server %v", x.Request.Authority, x.Flow.Server)
				}
				if x.Response.Header.Get("Content-Encoding") == "gzip" && (len(x.Response.Body.Bytes()) == 0 || x.Response.Body.Bytes()[0] != '{') {
					t.Fatalf("gzip body not decoded: %q", x.Response.Body.Bytes())
				}
			}
		})
	}
}

// The same capture gives the same exchanges in the same order, whatever
// the number of workers.
func TestDeterministicOrder(t *testing.T) {
	cfg := synth.DefaultConfig()
	cfg.TargetBytes = 2 << 20
	cfg.Loss = 0.005
	path, _ := writeSynth(t, cfg)
	render := func(workers int) []byte {
		rc := reassembly.DefaultConfig()
		rc.Workers = workers
		got, _ := analyze(t, rc, path)
		var buf bytes.Buffer
		for _, x := range got {
			x.ConnID = 0 // numbered per worker
			b, err := json.Marshal(x)
			if err != nil {
				t.Fatal(err)
			}
			buf.Write(b)
			buf.WriteByte('\n')
		}
		return buf.Bytes()
	}
	one := render(1)
	if again := render(1); !bytes.Equal(one, again) {
		t.Fatal("two runs with one worker differ")
	}
	if three := render(3); !bytes.Equal(one, three) {
		t.Fatal("one worker and three workers give different output")
	}
}

// With 1% of the segments missing, every exchange the loss did not touch
// comes out whole, and the losses are reported as gaps.
func TestLossRecovery(t *testing.T) {
	cfg := synth.DefaultConfig()
	cfg.TargetBytes = 8 << 20
	cfg.Loss = 0.01
	cfg.Seed = 7
	path, truth := writeSynth(t, cfg)
	if truth.Dropped == 0 {
		t.Fatal("generator dropped nothing")
	}
	got, st := analyze(t, reassembly.DefaultConfig(), path)
	if st.Gaps == 0 {
		t.Errorf("no gaps reported for %d dropped segments", truth.Dropped)
	}
	// Per connection, the clean exchanges in truth must all appear, whole.
	type ck struct {
		client string
		key
	}
	have := map[ck]int{}
	for _, x := range got {
		if x.Request == nil || x.Response == nil || x.Flags.Has(reassembly.FlagGap) {
			continue
		}
		have[ck{x.Flow.Client.String(), keyOf(x)}]++
	}
	missing, clean := 0, 0
	for _, e := range truth.Exchanges {
		if e.Lost {
			continue
		}
		clean++
		k := ck{synth.ClientAddr(e.Conn).String(), key{e.Method, e.Path, e.Status}}
		if have[k] == 0 {
			missing++
			t.Logf("not recovered: conn %d %v", e.Conn, k)
			continue
		}
		have[k]--
	}
	if missing > 0 {
		t.Errorf("%d of %d untouched exchanges not recovered whole (stats %+v)", missing, clean, st)
	}
	t.Logf("%d segments dropped, %d exchanges touched, %d clean recovered, stats: gaps=%d resyncs=%d parse errors=%d",
		truth.Dropped, len(truth.Exchanges)-clean, clean-missing, st.Gaps, st.Resyncs, st.ParseErrors)
}

// A capture that starts in the middle of connections (the first packets of
// each are missing, SYNs included) still yields the later exchanges.
func TestMidStreamStart(t *testing.T) {
	cfg := synth.DefaultConfig()
	cfg.TargetBytes = 1 << 20
	cfg.Conns = 4
	cfg.PerConn = 50
	full, truth := writeSynth(t, cfg)
	// Cut the first fifth of the packets away: every connection open at
	// that point loses its start, SYN included.
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	copyPackets(t, full, cut, truth.Packets/5)
	got, st := analyze(t, reassembly.DefaultConfig(), cut)
	paired := 0
	for _, x := range got {
		if x.Request != nil && x.Response != nil && x.Flags == 0 {
			paired++
		}
	}
	// The last four fifths hold about 80% of the exchanges; each of the 4
	// connections cut may lose the one exchange cut in half.
	if want := len(truth.Exchanges) * 3 / 4; paired < want {
		t.Errorf("only %d whole exchanges after a mid-stream start, want at least %d of %d (stats %+v)", paired, want, len(truth.Exchanges), st)
	}
	if st.Connections == 0 {
		t.Fatal("no connections")
	}
}

func copyPackets(t *testing.T, from, to string, skip int) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r, err := pcapgo.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	w := pcapgo.NewWriter(out)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		if i >= skip {
			if err := w.WritePacket(ci, data); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// Memory stays bounded by the connection and page limits, not by the size
// of the capture: a capture four times larger must not need a heap four
// times larger.
func TestMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 40 MB of captures")
	}
	peak := func(size int64) uint64 {
		cfg := synth.DefaultConfig()
		cfg.TargetBytes = size
		cfg.Loss = 0.01
		path, _ := writeSynth(t, cfg)
		var maxHeap uint64
		n := 0
		p := reassembly.New(reassembly.DefaultConfig(), func(*reassembly.Exchange) {
			n++
			if n%2000 == 0 {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				maxHeap = max(maxHeap, ms.HeapAlloc)
			}
		})
		feed(t, p, path)
		p.Close()
		return maxHeap
	}
	small, large := peak(8<<20), peak(32<<20)
	t.Logf("peak heap: %d KiB at 8 MB, %d KiB at 32 MB", small>>10, large>>10)
	if large > 2*small+(16<<20) {
		t.Errorf("heap grows with capture size: %d KiB at 8 MB, %d KiB at 32 MB", small>>10, large>>10)
	}
}

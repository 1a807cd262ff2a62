package pipeline

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/specter-dev/specter/capture"
	"github.com/specter-dev/specter/capture/corpus"
	"github.com/specter-dev/specter/capture/live"
	"github.com/specter-dev/specter/capture/live/vethtest"
	"github.com/specter-dev/specter/capture/synth"
	"github.com/specter-dev/specter/reassembly"
)

// exchangeKey names an exchange by what must survive a replay: method,
// target and status ("-" for a missing side).
func exchangeKey(x *reassembly.Exchange) string {
	m, tg, st := "-", "-", "-"
	if x.Request != nil {
		m, tg = x.Request.Method, x.Request.Target
	}
	if x.Response != nil {
		st = fmt.Sprint(x.Response.StatusCode)
	}
	return m + " " + tg + " " + st
}

// result is what a capture gave: exchanges as a multiset, the zones they
// were seen in, and the number of frames.
type result struct {
	exchanges map[string]int
	zones     map[capture.Zone]int
	frames    int
}

func newCollector() (*result, func(*reassembly.Exchange), *sync.Mutex) {
	r := &result{exchanges: map[string]int{}, zones: map[capture.Zone]int{}}
	var mu sync.Mutex
	return r, func(x *reassembly.Exchange) {
		mu.Lock()
		r.exchanges[exchangeKey(x)]++
		r.zones[x.Flow.Zone]++
		mu.Unlock()
	}, &mu
}

// decodeFile decodes every frame of the capture at path, handing the TCP
// segments to add, and returns the number of frames.
func decodeFile(tb testing.TB, path string, add func(*capture.Packet)) int {
	tb.Helper()
	rd, err := capture.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer rd.Close()
	dec := capture.NewDecoder(capture.DecoderOptions{})
	var pkt capture.Packet
	frames := 0
	for {
		f, err := rd.Next()
		if err == io.EOF {
			return frames
		}
		if err != nil {
			tb.Fatal(err)
		}
		frames++
		if ok, _ := dec.Decode(f, &pkt); ok {
			add(&pkt)
		}
	}
}

// offline runs a capture file through the decoder and pipeline, as
// `specter analyze` does.
func offline(tb testing.TB, path string) *result {
	tb.Helper()
	r, emit, _ := newCollector()
	pipe := reassembly.New(reassembly.DefaultConfig(), emit)
	r.frames = decodeFile(tb, path, pipe.Add)
	pipe.Close()
	return r
}

// capture listens with opts while send runs, then waits until want frames
// were read (or, with want < 0, just drains), and returns what came out.
func liveRun(tb testing.TB, opts live.Options, want int, send func()) (*result, live.Stats) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src, err := live.Open(ctx, opts)
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	r, emit, mu := newCollector()
	dec := capture.NewDecoder(capture.DecoderOptions{})
	pipe := reassembly.New(reassembly.DefaultConfig(), emit)
	pumped := make(chan error, 1)
	go func() { pumped <- Pump(ctx, src, dec, pipe, 50*time.Millisecond) }()
	send()
	// Not a timing assertion: the deadline only keeps a broken capture
	// from hanging the test; the counts are checked below.
	deadline := time.Now().Add(30 * time.Second)
	for want >= 0 && src.Stats().Packets < uint64(want) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-pumped; err != nil {
		tb.Fatalf("Pump: %v", err)
	}
	pipe.Close()
	src.Close()
	st := src.Stats()
	mu.Lock()
	defer mu.Unlock()
	r.frames = int(dec.Stats().Frames)
	return r, st
}

func diffMultisets(a, b map[string]int) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(a)) {
		if a[k] != b[k] {
			out = append(out, fmt.Sprintf("%q: offline %d, live %d", k, a[k], b[k]))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(b)) {
		if _, ok := a[k]; !ok {
			out = append(out, fmt.Sprintf("%q: offline 0, live %d", k, b[k]))
		}
	}
	return strings.Join(out, "\n")
}

func checkSame(tb testing.TB, want, got *result, st live.Stats) {
	tb.Helper()
	if len(want.exchanges) == 0 {
		tb.Fatal("the offline run found no exchange: nothing to compare")
	}
	if d := diffMultisets(want.exchanges, got.exchanges); d != "" {
		tb.Errorf("exchanges differ:\n%s", d)
	}
	if st.KernelDrops != 0 {
		tb.Errorf("kernel drops: %d", st.KernelDrops)
	}
}

func TestReplayCorpus(t *testing.T) {
	vethtest.RequireRoot(t)
	traffic := corpus.Dir(t, "corpus/traffic")
	pcaps := corpus.Dir(t, "corpus/pcaps")
	tests := []struct {
		name, file string
		vlan       uint16
	}{
		{"petstore3", filepath.Join(traffic, "swagger-petstore3/traffic.pcap"), 0},
		{"spotify", filepath.Join(traffic, "spotify/traffic.pcap"), 0},
		{"vlan42", filepath.Join(pcaps, "generated/prism-petstore3-vlan42.pcap"), 42},
		{"ipv6", filepath.Join(pcaps, "generated/prism-1password-connect-ipv6.pcap"), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := offline(t, tc.file)
			v := vethtest.New(t)
			got, st := liveRun(t, live.Options{Interfaces: []string{v.Host}, Promisc: true}, want.frames, func() {
				v.Replay(t, tc.file, 200, 1)
			})
			checkSame(t, want, got, st)
			if st.Packets != uint64(want.frames) {
				t.Errorf("captured %d frames, the file has %d", st.Packets, want.frames)
			}
			if st.KernelPackets != st.Packets {
				t.Errorf("kernel counted %d frames, we read %d", st.KernelPackets, st.Packets)
			}
			for z, n := range got.zones {
				if z.VLAN != tc.vlan {
					t.Errorf("%d exchanges in zone %+v, want VLAN %d", n, z, tc.vlan)
				}
			}
		})
	}
}

// vxlanWrap writes a VXLAN-encapsulated copy of the capture at in.
func vxlanWrap(tb testing.TB, in string, vni uint32) string {
	tb.Helper()
	out := filepath.Join(tb.TempDir(), "vxlan.pcap")
	if err := synth.WrapVXLAN(in, out, vni); err != nil {
		tb.Fatal(err)
	}
	return out
}

func TestReplayVXLAN(t *testing.T) {
	vethtest.RequireRoot(t)
	plain := filepath.Join(corpus.Dir(t, "corpus/traffic"), "swagger-petstore3/traffic.pcap")
	want := offline(t, plain)
	wrapped := vxlanWrap(t, plain, 4242)
	v := vethtest.New(t)
	got, st := liveRun(t, live.Options{Interfaces: []string{v.Host}, Promisc: true, Filter: "udp port 4789"}, want.frames, func() {
		v.Replay(t, wrapped, 200, 1)
	})
	checkSame(t, want, got, st)
	for z, n := range got.zones {
		if z.Tunnel != capture.TunnelVXLAN || z.TunnelID != 4242 {
			t.Errorf("%d exchanges in zone %+v, want VXLAN 4242", n, z)
		}
	}
}

func TestFilter(t *testing.T) {
	vethtest.RequireRoot(t)
	file := filepath.Join(corpus.Dir(t, "corpus/traffic"), "swagger-petstore3/traffic.pcap")
	want := offline(t, file)
	// The server port, and how many frames carry it, from the file.
	port, matching := serverPort(t, file)
	tests := []struct {
		filter string
		want   int
	}{
		{"tcp port 9", 0},
		{fmt.Sprintf("tcp port %d", port), matching},
		{fmt.Sprintf("tcp port %d or tcp port 9", port), matching},
		{"udp", 0},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			v := vethtest.New(t)
			wait := tc.want
			if wait == 0 {
				wait = -1
			}
			got, st := liveRun(t, live.Options{Interfaces: []string{v.Host}, Filter: tc.filter}, wait, func() {
				v.Replay(t, file, 200, 1)
			})
			if st.Packets != uint64(tc.want) || st.KernelPackets != uint64(tc.want) {
				t.Errorf("read %d frames (kernel %d), want %d", st.Packets, st.KernelPackets, tc.want)
			}
			if tc.want == want.frames {
				checkSame(t, want, got, st)
			}
		})
	}
}

// serverPort returns the port the file's first exchange was served on and
// the number of frames to or from it.
func serverPort(tb testing.TB, file string) (uint16, int) {
	tb.Helper()
	var port uint16
	count := map[uint16]int{}
	decodeFile(tb, file, func(pkt *capture.Packet) {
		src, dst := uint16(pkt.TCP.SrcPort), uint16(pkt.TCP.DstPort)
		if port == 0 && pkt.TCP.SYN && !pkt.TCP.ACK {
			port = dst
		}
		count[src]++
		if dst != src {
			count[dst]++
		}
	})
	if port == 0 {
		tb.Fatal("no SYN in the capture")
	}
	return port, count[port]
}

// TestTwoInterfacesDedup replays the same capture on two interfaces, as
// when a switch mirrors one link onto two SPAN ports: with Dedup the second
// copies are dropped and the exchanges are those of one copy.
func TestTwoInterfacesDedup(t *testing.T) {
	vethtest.RequireRoot(t)
	file := filepath.Join(corpus.Dir(t, "corpus/traffic"), "swagger-petstore3/traffic.pcap")
	want := offline(t, file)
	a, b := vethtest.New(t), vethtest.New(t)
	// The two replays run one after the other, so the window must cover a
	// whole replay.
	opts := live.Options{Interfaces: []string{a.Host, b.Host}, Dedup: true, DedupWindow: time.Minute, DedupEntries: 1 << 16}
	got, st := liveRun(t, opts, 2*want.frames, func() {
		a.Replay(t, file, 200, 1)
		b.Replay(t, file, 200, 1)
	})
	checkSame(t, want, got, st)
	for i, is := range st.Interfaces {
		if is.Packets != uint64(want.frames) {
			t.Errorf("interface %d (%s): %d frames, want %d", i, is.Name, is.Packets, want.frames)
		}
	}
	// Each frame of the second replay is a duplicate, and so are the
	// frames the file itself repeats.
	if st.Duplicates < uint64(want.frames) || st.Duplicates+uint64(got.frames) != st.Packets {
		t.Errorf("duplicates %d, decoded %d, packets %d", st.Duplicates, got.frames, st.Packets)
	}
}

// TestFanout spreads one interface over several sockets: the exchanges are
// the same and every frame is read exactly once.
func TestFanout(t *testing.T) {
	vethtest.RequireRoot(t)
	file := filepath.Join(corpus.Dir(t, "corpus/traffic"), "swagger-petstore3/traffic.pcap")
	want := offline(t, file)
	v := vethtest.New(t)
	got, st := liveRun(t, live.Options{Interfaces: []string{v.Host}, Workers: 3}, want.frames, func() {
		v.Replay(t, file, 200, 1)
	})
	checkSame(t, want, got, st)
	if st.Packets != uint64(want.frames) {
		t.Errorf("captured %d frames, the file has %d", st.Packets, want.frames)
	}
}

// TestCancelDrains stops a capture in the middle of a replay: every frame
// the kernel queued (and did not drop) is read, decoded and reassembled
// before Pump returns, and every exchange comes out of Close.
func TestCancelDrains(t *testing.T) {
	vethtest.RequireRoot(t)
	file := filepath.Join(corpus.Dir(t, "corpus/traffic"), "swagger-petstore3/traffic.pcap")
	v := vethtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src, err := live.Open(ctx, live.Options{Interfaces: []string{v.Host}, RingSizeMB: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var exchanges int
	dec := capture.NewDecoder(capture.DecoderOptions{})
	pipe := reassembly.New(reassembly.DefaultConfig(), func(*reassembly.Exchange) { exchanges++ })
	pumped := make(chan error, 1)
	go func() { pumped <- Pump(ctx, src, dec, pipe, 10*time.Millisecond) }()

	replayCtx, stopReplay := context.WithCancel(context.Background())
	defer stopReplay()
	cmd := exec.CommandContext(replayCtx, "ip", "netns", "exec", v.NS, "tcpreplay", "-q", "--loop=100000", "--mbps=100", "-i", v.Peer, file)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); src.Stats().Packets < 20000 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	// Stop the traffic, then the capture at once: what is in the rings
	// and in flight must still come through.
	stopReplay()
	_ = cmd.Wait()
	cancel()
	if err := <-pumped; err != nil {
		t.Fatalf("Pump: %v", err)
	}
	ps := pipe.Close()
	src.Close()
	st := src.Stats()
	ds := dec.Stats()
	if st.Packets < 20000 {
		t.Fatalf("only %d frames captured", st.Packets)
	}
	if st.Packets+st.KernelDrops != st.KernelPackets {
		t.Errorf("kernel queued %d frames, dropped %d, we read %d: some were left in the ring", st.KernelPackets, st.KernelDrops, st.Packets)
	}
	if ds.Frames != st.Packets {
		t.Errorf("decoded %d frames of %d read", ds.Frames, st.Packets)
	}
	if uint64(exchanges) != ps.Exchanges || exchanges == 0 {
		t.Errorf("%d exchanges delivered, pipeline counted %d", exchanges, ps.Exchanges)
	}
	t.Logf("frames %d, kernel drops %d, exchanges %d", st.Packets, st.KernelDrops, exchanges)
}

// BenchmarkLiveReplay replays a corpus capture as fast as tcpreplay can onto
// a veth pair while the source, decoder and pipeline run: frames/s and MB/s
// of the whole path, kernel drops. `make bench-live` is the soak.
func BenchmarkLiveReplay(b *testing.B) {
	vethtest.RequireRoot(b)
	file := filepath.Join(corpus.Dir(b, "corpus/traffic"), "swagger-petstore3/traffic.pcap")
	v := vethtest.New(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src, err := live.Open(ctx, live.Options{Interfaces: []string{v.Host}})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	dec := capture.NewDecoder(capture.DecoderOptions{})
	pipe := reassembly.New(reassembly.DefaultConfig(), func(*reassembly.Exchange) {})
	pumped := make(chan error, 1)
	go func() { pumped <- Pump(ctx, src, dec, pipe, time.Second) }()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		v.Replay(b, file, 0, 10)
	}
	cancel()
	if err := <-pumped; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	pipe.Close()
	src.Close()
	st := src.Stats()
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(st.Packets)/secs, "frames/s")
	b.ReportMetric(float64(st.Bytes)/1e6/secs, "MB/s")
	b.ReportMetric(float64(st.KernelDrops), "kernel-drops")
}

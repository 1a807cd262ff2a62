package live

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/specter-dev/specter/capture"
	"github.com/specter-dev/specter/capture/corpus"
	"github.com/specter-dev/specter/capture/live/vethtest"
	"github.com/specter-dev/specter/reassembly"
)

// TestCancelDrains stops a capture in the middle of a replay: every frame
// the kernel queued (and did not drop) is read, decoded and reassembled
// before Pump returns, and every exchange comes out of Close.
func TestCancelDrains(t *testing.T) {
	vethtest.RequireRoot(t)
	file := filepath.Join(corpus.Dir(t, "corpus/traffic"), "swagger-petstore3/traffic.pcap")
	v := vethtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src, err := Open(ctx, Options{Interfaces: []string{v.Host}, RingSizeMB: 16})
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

// TestOpenWhileBusy opens sources with filters on a link that is already
// busy: Open returns, and no frame that arrived before the filter was
// attached leaks out.
func TestOpenWhileBusy(t *testing.T) {
	vethtest.RequireRoot(t)
	file := filepath.Join(corpus.Dir(t, "corpus/traffic"), "swagger-petstore3/traffic.pcap")
	v := vethtest.New(t)
	replayCtx, stopReplay := context.WithCancel(context.Background())
	defer stopReplay()
	cmd := exec.CommandContext(replayCtx, "ip", "netns", "exec", v.NS, "tcpreplay", "-q", "--loop=100000", "--mbps=50", "-i", v.Peer, file)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stopReplay()
		_ = cmd.Wait()
	}()
	// Wait until the link carries traffic, seen by a source with no filter.
	probe, err := Open(context.Background(), Options{Interfaces: []string{v.Host}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		if _, err := probe.Next(); err != nil {
			t.Fatal(err)
		}
	}
	probe.Close()
	for i := 0; i < 5; i++ {
		src, err := Open(context.Background(), Options{Interfaces: []string{v.Host}, Filter: "udp"})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		src.Close()
		if st := src.Stats(); st.Packets != 0 {
			t.Fatalf("open %d: %d TCP frames came through a udp filter", i, st.Packets)
		}
	}
}

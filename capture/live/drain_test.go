package live

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/specter-dev/specter/capture/corpus"
	"github.com/specter-dev/specter/capture/live/vethtest"
)

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

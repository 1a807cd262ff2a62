package reassembly_test

import (
	"os"
	"testing"

	"github.com/specter-dev/specter/capture/synth"
	"github.com/specter-dev/specter/reassembly"
)

// BenchmarkPipeline measures decoding plus reassembly plus HTTP parsing of
// keep-alive JSON API traffic, the path `specter analyze` takes.
func BenchmarkPipeline(b *testing.B) {
	cfg := synth.DefaultConfig()
	cfg.TargetBytes = 32 << 20
	path, truth := writeSynth(b, cfg)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(st.Size())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		p := reassembly.New(reassembly.DefaultConfig(), func(*reassembly.Exchange) { n++ })
		feed(b, p, path)
		p.Close()
		if n != len(truth.Exchanges) {
			b.Fatalf("got %d exchanges, want %d", n, len(truth.Exchanges))
		}
	}
	b.ReportMetric(float64(len(truth.Exchanges))*float64(b.N)/b.Elapsed().Seconds(), "exchanges/s")
}

// BenchmarkSpeedCapture runs the pipeline over the real-shaped capture
// ../shared/bench/speed-capture.sh builds, named by $SPECTER_SPEED_PCAP
// (its 40 MB file is the one to profile allocations per exchange on).
func BenchmarkSpeedCapture(b *testing.B) {
	path := os.Getenv("SPECTER_SPEED_PCAP")
	if path == "" {
		b.Skip("SPECTER_SPEED_PCAP unset: build a capture with ../shared/bench/speed-capture.sh DIR 40 and name it")
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Skip("speed capture absent:", err)
	}
	b.ReportAllocs()
	b.SetBytes(st.Size())
	n := 0
	for b.Loop() {
		p := reassembly.New(reassembly.DefaultConfig(), func(*reassembly.Exchange) { n++ })
		feed(b, p, path)
		p.Close()
	}
	b.ReportMetric(float64(n)/float64(b.N), "exchanges/op")
}

package live

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"

	"github.com/specter-dev/specter/capture"
	"github.com/specter-dev/specter/capture/corpus"
	"github.com/specter-dev/specter/capture/live/vethtest"
	"github.com/specter-dev/specter/reassembly"
)

func BenchmarkDedup(b *testing.B) {
	d := newDedup(defaultDedupWindow, defaultDedupEntries)
	frame := make([]byte, 600)
	t0 := time.Unix(0, 0)
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		binary.LittleEndian.PutUint64(frame, uint64(i))
		// 1 µs apart: the table, not the window, bounds what is kept.
		d.duplicate(frame, t0.Add(time.Duration(i)*time.Microsecond))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

func BenchmarkMerge(b *testing.B) {
	base := time.Unix(0, 0)
	s := mergeSource(2, 1<<20)
	b0, b1 := mkBatch(0, base, 1, 3, 5, 7), mkBatch(1, base, 2, 4, 6, 8)
	b.ReportAllocs()
	frames := 0
	for b.Loop() {
		s.merge.add(b0)
		s.merge.add(b1)
		for range 8 {
			i, _ := s.merge.ready(base.Add(time.Hour))
			s.merge.take(i)
			frames++
		}
	}
	b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "frames/s")
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
	src, err := Open(ctx, Options{Interfaces: []string{v.Host}})
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

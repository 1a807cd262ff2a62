package live

import (
	"encoding/binary"
	"testing"
	"time"
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

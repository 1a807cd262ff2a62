package store

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/specter-dev/specter/capture/synth"
	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/reassembly"
)

// benchExchanges reads a synthetic capture of keep-alive JSON API traffic
// once per benchmark binary.
func benchExchanges(b *testing.B) []*reassembly.Exchange {
	b.Helper()
	var buf bytes.Buffer
	cfg := synth.DefaultConfig()
	cfg.TargetBytes = 8 << 20
	if _, err := synth.Write(&buf, cfg); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "bench.pcap")
	if err := writeFile(path, buf.Bytes()); err != nil {
		b.Fatal(err)
	}
	return exchangesOf(b, path)
}

// BenchmarkIngest compares inference into a model in memory with the same
// inference checkpointed into a SQLite database (file, WAL), once at the
// end of the run only and every 2000 exchanges.
func BenchmarkIngest(b *testing.B) {
	xs := benchExchanges(b)
	b.Run("memory", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			m := infer.NewModel(infer.Config{})
			for _, x := range xs {
				m.Observe(x)
			}
			_ = m.Endpoints()
		}
		b.ReportMetric(float64(len(xs)*b.N)/b.Elapsed().Seconds(), "exchanges/s")
	})
	for _, tc := range []struct {
		name  string
		every int
	}{{"db/at-end", 1 << 30}, {"db/every-2000", 2000}} {
		every := tc.every
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			for i := 0; i < b.N; i++ {
				db, err := Open(ctx, filepath.Join(b.TempDir(), "b.db"), Options{})
				if err != nil {
					b.Fatal(err)
				}
				in, err := db.BeginRun(ctx, RunInfo{}, IngestOptions{Every: every, Interval: time.Hour})
				if err != nil {
					b.Fatal(err)
				}
				for _, x := range xs {
					in.Observe(x)
				}
				if err := in.Finish(ctx, RunTotals{Complete: true}); err != nil {
					b.Fatal(err)
				}
				db.Close()
			}
			b.ReportMetric(float64(len(xs)*b.N)/b.Elapsed().Seconds(), "exchanges/s")
		})
	}
}

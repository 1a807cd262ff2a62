package fleet

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/specter-dev/specter/store"
)

// BenchmarkAggregate measures the deltas one aggregator merges per second
// into a database on disk, and the bytes of a delta on the wire: each
// delta is a checkpoint of 250 exchanges over 8 services.
func BenchmarkAggregate(b *testing.B) {
	dir, url := serve(b)
	ctx := context.Background()
	// The deltas of 16 checkpoints, replayed under fresh sequences.
	var payloads [][]byte
	var raw, wire int
	db, err := store.Open(ctx, store.Memory, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 16 {
		xs := traffic(250, fmt.Sprintf("svc%d.example", i%8), t0.Add(time.Duration(i)*time.Minute))
		ingest(b, db, xs, 1<<30, func(_ context.Context, d []byte) error {
			c := compress(d)
			payloads = append(payloads, c)
			raw, wire = raw+len(d), wire+len(c)
			return nil
		})
	}
	db.Close()
	js := jsConn(b, url)
	if _, err := EnsureStream(ctx, js, StreamOptions{}); err != nil {
		b.Fatal(err)
	}
	for i := range b.N {
		h := header{Sensor: "bench", Seq: uint64(i + 1), Sent: time.Now()}
		msg := &nats.Msg{Subject: SubjectPrefix + h.Sensor, Header: h.natsHeader(), Data: payloads[i%len(payloads)]}
		if _, err := js.PublishMsg(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	agg := startAggregator(b, url, filepath.Join(dir, "central.db"), AggregatorOptions{})
	for agg.st.Applied.Load() < uint64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	agg.stop(b)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deltas/s")
	b.ReportMetric(float64(wire)/float64(len(payloads)), "wire-bytes/delta")
	b.ReportMetric(float64(raw)/float64(len(payloads)), "json-bytes/delta")
}

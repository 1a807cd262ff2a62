package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/specter-dev/specter/store"
	"github.com/specter-dev/specter/store/fleet/fleettest"
)

// BenchmarkFleetLag8 runs 8 sensors (specter analyze --publish, one
// process each) replaying the speed capture at once into one aggregator
// process, and reports the end-to-end lag: the last delta's lag per
// sensor (from the sensor closing its window to the aggregator's commit),
// and how long after the last sensor finished every delta was merged.
// SPECTER_SPEED_CAPTURE names the capture (make bench-fleet builds it).
func BenchmarkFleetLag8(b *testing.B) {
	capture := os.Getenv("SPECTER_SPEED_CAPTURE")
	if capture == "" {
		b.Skip("SPECTER_SPEED_CAPTURE not set (make bench-fleet builds the speed capture with ../shared/bench/speed-capture.sh)")
	}
	if _, err := os.Stat(capture); err != nil {
		b.Skip(err)
	}
	bin := buildSpecter(b)
	const sensors = 8
	for range b.N {
		dir := b.TempDir()
		port := loopbackPortTB(b)
		fleettest.Start(b, filepath.Join(dir, "js"), port)
		url := fmt.Sprintf("nats://127.0.0.1:%d", port)
		central := filepath.Join(dir, "central.db")
		agg := exec.Command(bin, "aggregate", "--from", url, "--db", central)
		if err := agg.Start(); err != nil {
			b.Fatal(err)
		}
		// Sensors spool until the aggregator has created the stream.
		time.Sleep(time.Second)
		var wg sync.WaitGroup
		var published [sensors]uint64
		start := time.Now()
		for i := range sensors {
			wg.Go(func() {
				var stderr bytes.Buffer
				cmd := exec.Command(bin, "analyze", "--publish", url, "--sensor-state", filepath.Join(dir, fmt.Sprint("s", i)),
					"--checkpoint-interval", "1s", capture)
				cmd.Stderr = &stderr
				if err := cmd.Run(); err != nil {
					b.Errorf("sensor %d: %v\n%s", i, err, stderr.String())
					return
				}
				if m := publishedRe.FindStringSubmatch(stderr.String()); m != nil {
					published[i], _ = strconv.ParseUint(m[1], 10, 64)
				}
			})
		}
		wg.Wait()
		sensorsDone := time.Now()
		var total uint64
		for _, n := range published {
			total += n
		}
		for deadline := time.Now().Add(5 * time.Minute); appliedDeltas(central) < total; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatalf("applied %d of %d deltas", appliedDeltas(central), total)
			}
		}
		catchup := time.Since(sensorsDone)
		agg.Process.Signal(os.Interrupt)
		agg.Wait()
		db, err := store.Open(context.Background(), central, store.Options{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		ss, err := db.Sensors(context.Background())
		db.Close()
		if err != nil {
			b.Fatal(err)
		}
		var maxLag time.Duration
		for _, s := range ss {
			maxLag = max(maxLag, s.Lag)
		}
		b.ReportMetric(float64(total), "deltas")
		b.ReportMetric(sensorsDone.Sub(start).Seconds(), "sensors-s")
		b.ReportMetric(float64(catchup.Milliseconds()), "catchup-ms")
		b.ReportMetric(float64(maxLag.Milliseconds()), "last-delta-lag-ms")
	}
}

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/specter-dev/specter/capture/corpus"
	"github.com/specter-dev/specter/capture/live/vethtest"
	"github.com/specter-dev/specter/store"
	"github.com/specter-dev/specter/store/fleet"
	"github.com/specter-dev/specter/store/fleet/fleettest"
)

// TestCapturePublish runs a live capture with --publish into an in-process
// aggregator: its flush windows arrive as deltas, the spool is exported in
// /metrics, and the central inventory counts what the sensor captured.
func TestCapturePublish(t *testing.T) {
	vethtest.RequireRoot(t)
	root := corpus.Dir(t, "corpus")
	bin := buildSpecter(t)
	dir := t.TempDir()
	port := loopbackPort(t)
	fleettest.Start(t, filepath.Join(dir, "js"), port)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	central, err := store.Open(context.Background(), filepath.Join(dir, "central.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer central.Close()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var st fleet.AggregatorStats
	done := make(chan error, 1)
	go func() { done <- fleet.Aggregate(ctx, nc, central, fleet.AggregatorOptions{Logf: t.Logf}, &st) }()
	defer func() { cancel(); <-done }()

	v := vethtest.New(t)
	p := startSpecter(t, bin, capturingRe, "capture", "-i", v.Host, "--publish", url, "--sensor-state", filepath.Join(dir, "sensor"),
		"--flush-every", "1s", "--metrics", "127.0.0.1:0")
	m := regexp.MustCompile(`metrics on (http://\S+/metrics)`).FindStringSubmatch(p.errText())
	if m == nil {
		t.Fatalf("no metrics address in:\n%s", p.errText())
	}
	v.Replay(t, filepath.Join(root, "traffic/swagger-petstore3/traffic.pcap"), 100, 1)
	waitUntil(t, "a delta applied", func() bool { return st.Applied.Load() > 0 })
	metrics := httpGet(t, m[1])
	if !regexp.MustCompile(`(?m)^specter_publish_deltas_sent_total [1-9]`).MatchString(metrics) ||
		!regexp.MustCompile(`(?m)^specter_publish_spool_bytes `).MatchString(metrics) {
		t.Errorf("publisher metrics:\n%s", metrics)
	}
	p.stop(t, os.Interrupt)
	pub := publishedRe.FindStringSubmatch(p.errText())
	if pub == nil || pub[1] != pub[2] {
		t.Fatalf("the sensor did not send every delta:\n%s", p.errText())
	}
	n, _ := strconv.ParseUint(pub[1], 10, 64)
	waitUntil(t, "every delta applied", func() bool { return st.Applied.Load() == n })
	time.Sleep(100 * time.Millisecond)
	ss, err := central.Sensors(context.Background())
	if err != nil || len(ss) != 1 || ss[0].Exchanges == 0 {
		t.Fatalf("sensors: %+v, %v", ss, err)
	}
	eps, err := central.Endpoints(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for _, e := range eps {
		total += e.Count
	}
	if total == 0 || total > ss[0].Exchanges {
		t.Errorf("central inventory counts %d requests, the sensor sent %d exchanges", total, ss[0].Exchanges)
	}
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

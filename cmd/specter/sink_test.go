package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/message"
	"github.com/specter-dev/specter/store"
)

// sinkExchange is a small JSON API exchange served by process comm.
func sinkExchange(i int, comm string) *reassembly.Exchange {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(i) * time.Millisecond)
	path := fmt.Sprintf("/api/users/%d", 1000+i%500)
	x := &reassembly.Exchange{
		Flow: reassembly.Flow{Client: netip.MustParseAddrPort("10.0.0.1:40000"), Server: netip.MustParseAddrPort("10.0.0.2:80")},
		Request: &message.Request{Method: "GET", Target: path, Path: path, Proto: "HTTP/1.1", Authority: "api.test",
			Header: http.Header{"Accept": {"application/json"}}, Start: start, End: start},
		Response: &message.Response{Proto: "HTTP/1.1", StatusCode: 200,
			Header: http.Header{"Content-Type": {"application/json"}},
			Body:   message.NewBody([]byte(fmt.Sprintf(`{"id":%d,"email":"u%d@example.com"}`, i, i)), 0),
			Start:  start.Add(time.Millisecond), End: start.Add(2 * time.Millisecond)},
	}
	if comm != "" {
		x.Process = &reassembly.Process{PID: 42, Comm: comm}
	}
	return x
}

// TestSinkStore feeds exchanges through the sink into a database, as a
// capture does, and checks the stored inventory, its process attribution
// and the run.
func TestSinkStore(t *testing.T) {
	for _, tc := range []struct {
		name, comm string
	}{{"wire", ""}, {"ebpf", "nginx"}} {
		t.Run(tc.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "s.db")
			var ctr counters
			ctr.Packets.Store(10)
			cf := &captureFlags{ebpf: true, dbPath: db, flushEvery: time.Hour}
			v, err := openSink(context.Background(), captureSinkOptions(cf, &inferFlags{}, &specFlags{}, nil, &ctr, io.Discard))
			if err != nil {
				t.Fatal(err)
			}
			for i := range 50 {
				v.Emit(sinkExchange(i, tc.comm))
			}
			id, err := v.Finish(context.Background(), store.RunTotals{Packets: 10, Complete: true})
			if err != nil || id == 0 {
				t.Fatalf("finish: run %d, %v", id, err)
			}
			if ctr.Endpoints.Load() != 1 {
				t.Errorf("endpoints counter %d, want 1", ctr.Endpoints.Load())
			}
			eps := dbEndpoints(t, db)
			if len(eps) != 1 || eps[0].Count != 50 || eps[0].Template != "/api/users/{userId}" {
				t.Fatalf("stored %+v", eps)
			}
			var want []infer.ProcessSummary
			if tc.comm != "" {
				want = []infer.ProcessSummary{{Comm: tc.comm, PIDs: []uint32{42}, Count: 50}}
			}
			if fmt.Sprint(eps[0].Processes) != fmt.Sprint(want) {
				t.Errorf("processes %+v, want %+v", eps[0].Processes, want)
			}
		})
	}
}

// BenchmarkSink measures the exchanges/s the in-memory inventory absorbs.
func BenchmarkSink(b *testing.B) {
	xs := make([]*reassembly.Exchange, 1000)
	for i := range xs {
		xs[i] = sinkExchange(i, "nginx")
	}
	var ctr counters
	v, err := openSink(context.Background(), sinkOptions{inf: &inferFlags{}, sf: &specFlags{}, keepModel: true, flushEvery: time.Hour, ctr: &ctr, stderr: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v.Emit(xs[i%len(xs)])
	}
	if _, err := v.Finish(context.Background(), store.RunTotals{}); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "exchanges/s")
}

// TestSinkOpenErrors: a database that cannot be opened fails the sink
// cleanly, with or without specs.
func TestSinkOpenErrors(t *testing.T) {
	spec := filepath.Join(t.TempDir(), "spec.yaml")
	if err := os.WriteFile(spec, []byte("openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, specs := range [][]string{nil, {spec}} {
		var ctr counters
		_, err := openSink(context.Background(), sinkOptions{inf: &inferFlags{specs: specs}, sf: &specFlags{specs: specs},
			dbPath: filepath.Join(t.TempDir(), "missing-dir", "x.db"), keepModel: true, flushEvery: time.Hour, ctr: &ctr, stderr: io.Discard})
		if err == nil {
			t.Errorf("specs %v: a database in a missing directory opened", specs)
		}
	}
}

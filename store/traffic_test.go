package store

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/reassembly"
)

// wantWindows counts xs per service and minute, independently of the store.
func wantWindows(xs []*reassembly.Exchange) map[windowKey]uint64 {
	out := map[windowKey]uint64{}
	for _, x := range xs {
		if x.Request == nil {
			continue
		}
		out[windowKey{infer.ServiceName(x), x.Request.Start.Unix() / 60}]++
	}
	return out
}

func gotWindows(t *testing.T, db *DB) (map[windowKey]uint64, uint64) {
	t.Helper()
	ws, pruned, err := db.Traffic(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[windowKey]uint64{}
	for i, w := range ws {
		if i > 0 && (ws[i-1].Service > w.Service || ws[i-1].Service == w.Service && !ws[i-1].Start.Before(w.Start)) {
			t.Errorf("traffic not sorted at %d: %+v then %+v", i, ws[i-1], w)
		}
		out[windowKey{w.Service, w.Start.Unix() / 60}] = w.Exchanges
	}
	return out, pruned
}

func sameWindows(t *testing.T, got, want map[windowKey]uint64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d windows, want %d", len(got), len(want))
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("window %s minute %d: %d exchanges, want %d", k.service, k.minute, got[k], n)
		}
	}
}

func TestTrafficWindows(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	two := append(synthExchangesAt(300, t0, "a.example.test"), synthExchangesAt(200, t0.Add(90*time.Second), "b.example.test")...)
	noReq := &reassembly.Exchange{Response: two[0].Response}
	// Hosts alternating, one not a name (the service is then the server's
	// address), and one host on two servers.
	var mixed []*reassembly.Exchange
	for i, x := range synthExchangesAt(200, t0, "a.example.test") {
		switch i % 4 {
		case 1:
			x.Request.Authority = "b.example.test"
		case 2:
			x.Request.Authority = "not a <host>"
		case 3:
			x.Request.Authority = "not a <host>"
			x.Flow.Server = netip.MustParseAddrPort("10.9.9.9:443")
		}
		mixed = append(mixed, x)
	}
	for _, tc := range []struct {
		name  string
		every int
		xs    []*reassembly.Exchange
		want  []*reassembly.Exchange // what is counted
	}{
		{"one checkpoint", 1 << 30, two, two},
		{"checkpoint every 7", 7, two, two},
		{"alternating hosts and servers", 1 << 30, mixed, mixed},
		{"responses without request are not counted", 1 << 30, append([]*reassembly.Exchange{noReq}, two[:50]...), two[:50]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openTemp(t, "t.db")
			ingest(t, db, tc.every, tc.xs)
			got, pruned := gotWindows(t, db)
			sameWindows(t, got, wantWindows(tc.want))
			if pruned != 0 {
				t.Errorf("pruned %d", pruned)
			}
		})
	}
}

func TestTrafficBounds(t *testing.T) {
	// One exchange per minute: more distinct minutes than a run holds
	// between checkpoints, and than a service keeps.
	n := maxPendingWindows + 5
	t0 := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	var xs []*reassembly.Exchange
	for i := range n {
		xs = append(xs, exchange(t0.Add(time.Duration(i)*time.Minute), "GET", "api.example.test", "/v1/health", "", "", 204, ""))
	}
	db := openTemp(t, "b.db")
	ctx := context.Background()
	in, err := db.BeginRun(ctx, RunInfo{}, IngestOptions{Every: 1 << 30, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range xs {
		in.Observe(x)
	}
	if got := in.TrafficDropped(); got != 5 {
		t.Errorf("TrafficDropped %d, want 5 (windows past maxPendingWindows)", got)
	}
	if err := in.Finish(ctx, RunTotals{Complete: true}); err != nil {
		t.Fatal(err)
	}
	got, pruned := gotWindows(t, db)
	if len(got) != MaxTrafficWindows {
		t.Fatalf("%d windows kept, want MaxTrafficWindows %d", len(got), MaxTrafficWindows)
	}
	if want := uint64(maxPendingWindows - MaxTrafficWindows); pruned != want {
		t.Errorf("pruned %d, want %d", pruned, want)
	}
	// The newest are kept.
	last := xs[maxPendingWindows-1].Request.Start.Unix() / 60
	first := last - MaxTrafficWindows + 1
	for m := first; m <= last; m++ {
		if got[windowKey{"api.example.test", m}] != 1 {
			t.Fatalf("minute %d missing from the kept windows", m)
		}
	}
}

func TestTrafficMerge(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a := synthExchangesAt(120, t0, "a.example.test")
	b := synthExchangesAt(120, t0.Add(30*time.Second), "a.example.test")
	dbA, dbB := openTemp(t, "a.db"), openTemp(t, "b.db")
	ingest(t, dbA, 1<<30, a)
	ingest(t, dbB, 1<<30, b)
	if err := dbA.MergeFrom(context.Background(), dbB); err != nil {
		t.Fatal(err)
	}
	got, _ := gotWindows(t, dbA)
	sameWindows(t, got, wantWindows(append(append([]*reassembly.Exchange{}, a...), b...)))
}

// BenchmarkCountWindow is what counting the traffic windows adds to each
// observed exchange.
func BenchmarkCountWindow(b *testing.B) {
	db, err := Open(context.Background(), Memory, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	in, err := db.BeginRun(context.Background(), RunInfo{}, IngestOptions{})
	if err != nil {
		b.Fatal(err)
	}
	xs := synthExchanges(4096)
	before := in.delta.Stats
	i := 0
	for b.Loop() {
		x := xs[i%len(xs)]
		in.countWindow(x, before, x.Request.Start)
		i++
	}
}

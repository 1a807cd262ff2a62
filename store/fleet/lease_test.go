package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/store"
)

const testTTL = time.Second

// leaseServers start a JetStream server for a lease test, two ways: the
// KV features used must work on Debian's nats-server 2.9 as well.
var leaseServers = []struct {
	name  string
	start func(t *testing.T) (dir, url string)
}{
	{"embedded", func(t *testing.T) (string, string) { return serve(t) }},
	{"nats-server binary", func(t *testing.T) (string, string) {
		bin, err := exec.LookPath("nats-server")
		if err != nil {
			t.Skip("no nats-server on PATH (make deps-nats installs Debian's)")
		}
		dir, port := t.TempDir(), freePort(t)
		cmd := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-sd", filepath.Join(dir, "js"))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		url := "nats://127.0.0.1:" + strconv.Itoa(port)
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if nc, err := nats.Connect(url); err == nil {
				nc.Close()
				return dir, url
			}
			if time.Now().After(deadline) {
				t.Fatal("nats-server binary not listening")
			}
		}
	}},
}

func TestOneActiveAggregator(t *testing.T) {
	for _, srv := range leaseServers {
		t.Run(srv.name, func(t *testing.T) { testOneActiveAggregator(t, srv.start) })
	}
}

func TestLeaseLostStopsConsuming(t *testing.T) {
	for _, srv := range leaseServers {
		t.Run(srv.name, func(t *testing.T) { testLeaseLostStopsConsuming(t, srv.start) })
	}
}

// leased is an aggregator with a lease whose connection the test can cut
// as a SIGKILL would: no renewal, no release, no ack after that.
type leased struct {
	name   string
	db     *store.DB
	nc     *nats.Conn
	st     AggregatorStats
	cancel context.CancelFunc
	done   chan error
}

func startLeased(t *testing.T, name, url, dbPath string) *leased {
	t.Helper()
	db, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &leased{name: name, db: db, nc: nc, cancel: cancel, done: make(chan error, 1)}
	o := AggregatorOptions{AckWait: 2 * time.Second, Batch: 4, Lease: LeaseOptions{TTL: testTTL, ID: name},
		Logf: func(f string, args ...any) { t.Logf(time.Now().Format("05.000 ")+name+": "+f, args...) }}
	go func() { a.done <- Aggregate(ctx, nc, db, o, &a.st) }()
	t.Cleanup(func() { a.stop(t); nc.Close(); db.Close() })
	return a
}

func (a *leased) stop(t *testing.T) {
	if a.cancel == nil {
		return
	}
	a.cancel()
	a.cancel = nil
	if err := <-a.done; err != nil {
		t.Errorf("%s: Aggregate: %v", a.name, err)
	}
}

// kill cuts the aggregator off the server at once, then ends it.
func (a *leased) kill(t *testing.T) {
	a.nc.Close()
	a.stop(t)
}

// testOneActiveAggregator runs two aggregators on one durable and one
// database file, kills the active one mid-stream and checks that only
// one consumed at any time, the standby took over, and the inventory is
// the union of the sensors' traffic with every delta applied once.
func testOneActiveAggregator(t *testing.T, serve func(*testing.T) (string, string)) {
	dir, url := serve(t)
	central := filepath.Join(dir, "central.db")
	a := startLeased(t, "agg-a", url, central)
	waitFor(t, "agg-a active", a.st.Active.Load)
	b := startLeased(t, "agg-b", url, central)

	// Both must never be active at once, nor the standby apply anything.
	var both atomic.Bool
	watchCtx, stopWatch := context.WithCancel(context.Background())
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for watchCtx.Err() == nil {
			// a, b, then a again: both held at the instant b was read,
			// whatever the scheduler did between the loads (agg-a never
			// becomes active again once killed).
			if a.st.Active.Load() && b.st.Active.Load() && a.st.Active.Load() && !both.Swap(true) {
				t.Logf("both active: a applied %d acquired %d lost %d; b applied %d acquired %d", a.st.Applied.Load(),
					a.st.LeasesAcquired.Load(), a.st.LeasesLost.Load(), b.st.Applied.Load(), b.st.LeasesAcquired.Load())
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()

	caps := [][]*reassembly.Exchange{
		append(traffic(600, "a.example", t0), traffic(200, "shared.example", t0)...),
		append(traffic(500, "b.example", t0), traffic(200, "shared.example", t0.Add(time.Hour))...),
	}
	const every = 50
	killed := make(chan struct{})
	var sent atomic.Int64
	var wg sync.WaitGroup
	var pubs []*Publisher
	for i, xs := range caps {
		p := newPublisher(t, url, filepath.Join(dir, fmt.Sprint("sensor", i)), PublisherOptions{Hostname: fmt.Sprint("host", i)})
		pubs = append(pubs, p)
		// Half of each sensor's deltas before the kill, half after.
		half := len(xs) / every / 2
		n := 0
		publish := func(ctx context.Context, b []byte) error {
			if n++; n == half {
				<-killed
			}
			sent.Add(1)
			return p.Publish(ctx, b)
		}
		wg.Go(func() {
			mem, err := store.Open(context.Background(), store.Memory, store.Options{})
			if err != nil {
				t.Error(err)
				return
			}
			defer mem.Close()
			ingest(t, mem, xs, every, publish)
		})
	}

	waitFor(t, "deltas applied by agg-a", func() bool { return a.st.Applied.Load() >= 4 })
	if b.st.Active.Load() || b.st.Applied.Load() != 0 || b.st.LeasesAcquired.Load() != 0 {
		t.Fatalf("standby agg-b consumed: active %v, applied %d", b.st.Active.Load(), b.st.Applied.Load())
	}
	killedAt := time.Now()
	a.kill(t)
	t.Logf("agg-a returned %s after its kill", time.Since(killedAt).Round(time.Millisecond))
	close(killed)
	waitFor(t, "agg-b active", b.st.Active.Load)
	takeover := time.Since(killedAt)
	t.Logf("agg-b took over %s after agg-a was killed (ttl %s)", takeover.Round(time.Millisecond), testTTL)
	if takeover > 10*testTTL {
		t.Errorf("takeover took %s, over 10 TTLs", takeover)
	}

	wg.Wait()
	var published uint64
	perSensor := map[string]uint64{}
	for _, p := range pubs {
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		published += p.Stats().Published
		perSensor[p.SensorID()] = p.Stats().Published
	}
	if published != uint64(sent.Load()) {
		t.Fatalf("published %d, sent %d", published, sent.Load())
	}
	waitFor(t, "every delta applied once", func() bool { return a.st.Applied.Load()+b.st.Applied.Load() == published })
	b.stop(t)
	stopWatch()
	<-watched
	if both.Load() {
		t.Error("both aggregators were active at once")
	}
	if got := a.st.Applied.Load() + b.st.Applied.Load(); got != published {
		t.Errorf("applied %d, published %d", got, published)
	}
	db, err := store.Open(context.Background(), central, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sameInventory(t, endpointsJSON(t, db), reference(t, every, caps...))
	sensors, err := db.Sensors(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(sensors) != len(pubs) {
		t.Fatalf("sensors: %+v", sensors)
	}
	for _, s := range sensors {
		if s.Deltas != perSensor[s.Sensor] {
			t.Errorf("sensor %s: %d deltas applied, %d sent", s.Sensor, s.Deltas, perSensor[s.Sensor])
		}
	}
}

// testLeaseLostStopsConsuming overwrites the active aggregator's lease
// as another holder would: its next renewal fails, it stops consuming at
// once, stands by while the other holds the key, and takes over when that
// key expires.
func testLeaseLostStopsConsuming(t *testing.T, serve func(*testing.T) (string, string)) {
	dir, url := serve(t)
	a := startLeased(t, "agg-a", url, filepath.Join(dir, "central.db"))
	waitFor(t, "agg-a active", a.st.Active.Load)
	kv, err := jsConn(t, url).KeyValue(context.Background(), DefaultLeaseBucket)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(context.Background(), DefaultDurable)
	if err != nil {
		t.Fatal(err)
	}
	var h LeaseHolder
	if err := json.Unmarshal(e.Value(), &h); err != nil || h.ID != "agg-a" || h.Host == "" {
		t.Fatalf("lease value %q: %v", e.Value(), err)
	}
	other, _ := json.Marshal(LeaseHolder{ID: "intruder", Host: "elsewhere"})
	if _, err := kv.Put(context.Background(), DefaultDurable, other); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "agg-a standby", func() bool { return !a.st.Active.Load() })
	if n := a.st.LeasesLost.Load(); n != 1 {
		t.Errorf("leases lost %d, want 1", n)
	}
	// The intruder never renews: its key expires and agg-a takes over.
	waitFor(t, "agg-a active again", func() bool { return a.st.LeasesAcquired.Load() == 2 && a.st.Active.Load() })
	a.stop(t)
	// A clean stop deleted the key.
	if _, err := kv.Get(context.Background(), DefaultDurable); err != jetstream.ErrKeyNotFound {
		t.Errorf("lease after a clean stop: %v, want deleted", err)
	}
}

// TestExistingBucketTTLWins starts a second aggregator asking for another
// TTL: it must use the bucket's, not change it under the first holder's
// renewals.
func TestExistingBucketTTLWins(t *testing.T) {
	for _, srv := range leaseServers {
		t.Run(srv.name, func(t *testing.T) {
			_, url := srv.start(t)
			ctx := context.Background()
			js := jsConn(t, url)
			for _, tc := range []struct {
				ask, want time.Duration
			}{
				{testTTL, testTTL},
				{5 * testTTL, testTTL},
				{testTTL / 2, testTTL},
			} {
				l, err := newLease(ctx, js, LeaseOptions{TTL: tc.ask}, DefaultDurable, 1, t.Logf)
				if err != nil {
					t.Fatal(err)
				}
				if l.ttl != tc.want {
					t.Errorf("asked %s: lease TTL %s, want %s", tc.ask, l.ttl, tc.want)
				}
				status, err := l.kv.Status(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if status.TTL() != testTTL {
					t.Errorf("asked %s: the bucket's TTL became %s", tc.ask, status.TTL())
				}
			}
			if _, err := newLease(ctx, js, LeaseOptions{TTL: MinLeaseTTL / 2, Bucket: "other"}, DefaultDurable, 1, t.Logf); err == nil {
				t.Error("a TTL under MinLeaseTTL was accepted")
			}
		})
	}
}

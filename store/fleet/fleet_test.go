package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/message"
	"github.com/specter-dev/specter/store"
	"github.com/specter-dev/specter/store/fleet/fleettest"
)

// freePort returns a loopback port nothing listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// serve starts a server for the test; dir is the test's directory.
func serve(t testing.TB) (dir, url string) {
	t.Helper()
	dir = t.TempDir()
	port := freePort(t)
	fleettest.Start(t, filepath.Join(dir, "js"), port)
	return dir, "nats://127.0.0.1:" + strconv.Itoa(port)
}

// jsConn is a JetStream client of url, closed when the test ends.
func jsConn(t testing.TB, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// traffic is n exchanges of a small API on host, starting at t0; the ids
// vary so that templates must be inferred.
func traffic(n int, host string, t0 time.Time) []*reassembly.Exchange {
	var xs []*reassembly.Exchange
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		method, target, status := "GET", fmt.Sprintf("/api/items/%d", 100+i*13%997), 200
		switch i % 3 {
		case 1:
			target = fmt.Sprintf("/api/items/%d/reviews?page=%d", 100+i*7%211, i%9)
		case 2:
			method, target, status = "POST", "/api/orders", 201
		}
		path, q, _ := cutQuery(target)
		body := []byte(fmt.Sprintf(`{"id":%d,"ok":true,"tags":["a","b"]}`, i))
		rh := http.Header{"Content-Type": {"application/json"}}
		xs = append(xs, &reassembly.Exchange{
			Flow:     reassembly.Flow{Client: netip.MustParseAddrPort("10.1.0.1:40000"), Server: netip.MustParseAddrPort("10.1.0.2:80")},
			Request:  &message.Request{Method: method, Target: target, Path: path, RawQuery: q, Proto: "HTTP/1.1", Authority: host, Header: http.Header{}, Start: at, End: at},
			Response: &message.Response{Proto: "HTTP/1.1", StatusCode: status, Header: rh, Body: message.NewBody(body, 0), WireSize: int64(len(body)), Start: at.Add(time.Millisecond), End: at.Add(2 * time.Millisecond)},
		})
	}
	return xs
}

func cutQuery(target string) (string, string, bool) {
	for i := 0; i < len(target); i++ {
		if target[i] == '?' {
			return target[:i], target[i+1:], true
		}
	}
	return target, "", false
}

// ingest runs xs through a run of db checkpointing every `every`
// exchanges, publishing each delta with publish (nil for none).
func ingest(t testing.TB, db *store.DB, xs []*reassembly.Exchange, every int, publish func(context.Context, []byte) error) {
	t.Helper()
	ctx := context.Background()
	in, err := db.BeginRun(ctx, store.RunInfo{Version: "test"}, store.IngestOptions{Every: every, Interval: time.Hour, Publish: publish})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range xs {
		in.Observe(x)
	}
	if err := in.Finish(ctx, store.RunTotals{Complete: true}); err != nil {
		t.Fatal(err)
	}
}

// sensor is a sensor without a database of its own: an in-memory store
// whose checkpoints publish.
func sensor(t testing.TB, p *Publisher, xs []*reassembly.Exchange, every int) {
	t.Helper()
	db, err := store.Open(context.Background(), store.Memory, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ingest(t, db, xs, every, p.Publish)
}

func newPublisher(t testing.TB, url, dir string, o PublisherOptions) *Publisher {
	t.Helper()
	o.URL, o.StateDir, o.Version = url, dir, "test"
	o.RetryEvery = 100 * time.Millisecond
	o.Logf = t.Logf
	p, err := NewPublisher(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// aggregator runs Aggregate into a new database until the test ends.
type aggregator struct {
	db     *store.DB
	st     AggregatorStats
	cancel context.CancelFunc
	done   chan error
}

func startAggregator(t testing.TB, url, dbPath string, o AggregatorOptions) *aggregator {
	t.Helper()
	db, err := store.Open(context.Background(), dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(url, nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &aggregator{db: db, cancel: cancel, done: make(chan error, 1)}
	o.Logf = t.Logf
	go func() { a.done <- Aggregate(ctx, nc, db, o, &a.st) }()
	t.Cleanup(func() { a.stop(t); nc.Close(); db.Close() })
	return a
}

func (a *aggregator) stop(t testing.TB) {
	if a.cancel == nil {
		return
	}
	a.cancel()
	a.cancel = nil
	if err := <-a.done; err != nil {
		t.Errorf("Aggregate: %v", err)
	}
}

// waitFor polls cond for up to a minute.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// endpointsJSON is the inventory's endpoints as the store lists them.
func endpointsJSON(t testing.TB, db *store.DB) string {
	t.Helper()
	eps, err := db.Endpoints(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(eps, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// reference is the inventory of all the traffic analyzed by one run.
func reference(t testing.TB, every int, xss ...[]*reassembly.Exchange) string {
	t.Helper()
	db, err := store.Open(context.Background(), store.Memory, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var all []*reassembly.Exchange
	for _, xs := range xss {
		all = append(all, xs...)
	}
	ingest(t, db, all, every, nil)
	return endpointsJSON(t, db)
}

func sameInventory(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("central inventory differs from one analysis of all the traffic:\ngot  %s\nwant %s", got, want)
	}
}

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func TestThreeSensorsEqualOneAnalysis(t *testing.T) {
	dir, url := serve(t)
	agg := startAggregator(t, url, filepath.Join(dir, "central.db"), AggregatorOptions{})
	// Each sensor sees its own service and a share of a common one, so
	// that the aggregator merges evidence of one service from several.
	caps := [][]*reassembly.Exchange{
		append(traffic(900, "a.example", t0), traffic(300, "shared.example", t0)...),
		append(traffic(700, "b.example", t0), traffic(300, "shared.example", t0.Add(time.Hour))...),
		append(traffic(500, "c.example", t0), traffic(300, "shared.example", t0.Add(2*time.Hour))...),
	}
	var wg sync.WaitGroup
	var pubs []*Publisher
	for i, xs := range caps {
		p := newPublisher(t, url, filepath.Join(dir, fmt.Sprint("sensor", i)), PublisherOptions{Hostname: fmt.Sprint("host", i)})
		pubs = append(pubs, p)
		wg.Go(func() { sensor(t, p, xs, 97) })
	}
	wg.Wait()
	var published uint64
	for _, p := range pubs {
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		published += p.Stats().Published
	}
	waitFor(t, "every delta applied", func() bool { return agg.st.Applied.Load() == published })
	agg.stop(t)
	sameInventory(t, endpointsJSON(t, agg.db), reference(t, 97, caps...))
	sensors, err := agg.db.Sensors(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(sensors) != 3 {
		t.Fatalf("sensors: %+v", sensors)
	}
	for i, s := range sensors {
		if s.Exchanges == 0 || s.Deltas == 0 || s.Duplicates != 0 || s.Hostname == "" || s.LastSeen.IsZero() {
			t.Errorf("sensor %d provenance: %+v", i, s)
		}
	}
}

func TestServerDownSpoolsAndCatchesUp(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	url := "nats://127.0.0.1:" + strconv.Itoa(port)
	xs := traffic(600, "spool.example", t0)
	p := newPublisher(t, url, filepath.Join(dir, "sensor"), PublisherOptions{})
	// No server yet: every delta waits in the spool.
	sensor(t, p, xs[:300], 50)
	if s := p.Stats(); s.SpoolDeltas == 0 || uint64(s.SpoolDeltas) != s.Published || s.Sent != 0 {
		t.Fatalf("with no server: %+v", s)
	}
	srv := fleettest.Start(t, filepath.Join(dir, "js"), port)
	agg := startAggregator(t, url, filepath.Join(dir, "central.db"), AggregatorOptions{})
	waitFor(t, "the spool drained", func() bool { return p.Stats().SpoolDeltas == 0 })
	// The server goes away for a while, and comes back on its store.
	srv.Shutdown()
	srv.WaitForShutdown()
	sensor(t, p, xs[300:], 50)
	if s := p.Stats(); s.SpoolDeltas == 0 {
		t.Fatalf("server down, nothing spooled: %+v", s)
	}
	fleettest.Start(t, filepath.Join(dir, "js"), port)
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	published := p.Stats().Published
	waitFor(t, "every delta applied", func() bool { return agg.st.Applied.Load() == published })
	agg.stop(t)
	if s := p.Stats(); s.Dropped != 0 || s.Bad != 0 {
		t.Errorf("publisher: %+v", s)
	}
	// Two runs of the sensor are two runs of the reference.
	ref, err := store.Open(context.Background(), store.Memory, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	ingest(t, ref, xs[:300], 50, nil)
	ingest(t, ref, xs[300:], 50, nil)
	sameInventory(t, endpointsJSON(t, agg.db), endpointsJSON(t, ref))
}

// TestCommittedButNotAcked plays an aggregator killed between its commit
// and its ack: the delta is delivered again and must be skipped.
func TestCommittedButNotAcked(t *testing.T) {
	dir, url := serve(t)
	ctx := context.Background()
	js := jsConn(t, url)
	s, err := EnsureStream(ctx, js, StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	xs := traffic(400, "ack.example", t0)
	p := newPublisher(t, url, filepath.Join(dir, "sensor"), PublisherOptions{})
	sensor(t, p, xs, 100)
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	const ackWait = time.Second
	cons, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: DefaultDurable, AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: ackWait, MaxAckPending: 1, MaxDeliver: -1, DeliverPolicy: jetstream.DeliverAllPolicy, Description: "specter aggregate"})
	if err != nil {
		t.Fatal(err)
	}
	central := filepath.Join(dir, "central.db")
	db, err := store.Open(ctx, central, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	h, err := parseHeader(msg.Headers())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := decompress(msg.Data())
	if err != nil {
		t.Fatal(err)
	}
	d, err := store.DecodeDelta(raw)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := db.ApplyDelta(ctx, store.DeltaInfo{Sensor: h.Sensor, Seq: h.Seq, Sent: h.Sent}, d); !ok || err != nil {
		t.Fatalf("ApplyDelta: %v %v", ok, err)
	}
	db.Close() // "killed": committed, never acknowledged

	agg := startAggregator(t, url, central, AggregatorOptions{AckWait: ackWait})
	published := p.Stats().Published
	waitFor(t, "the rest applied and the redelivery skipped", func() bool {
		return agg.st.Applied.Load() == published-1 && agg.st.Duplicates.Load() == 1
	})
	agg.stop(t)
	sameInventory(t, endpointsJSON(t, agg.db), reference(t, 100, xs))
}

// TestResendAfterDedupWindow sends a delta again under another message id
// (as after JetStream's de-duplication window): the aggregator's sequence
// skips it. The same message id twice is refused by the stream itself.
func TestResendAfterDedupWindow(t *testing.T) {
	dir, url := serve(t)
	ctx := context.Background()
	agg := startAggregator(t, url, filepath.Join(dir, "central.db"), AggregatorOptions{})
	xs := traffic(200, "dup.example", t0)
	p := newPublisher(t, url, filepath.Join(dir, "sensor"), PublisherOptions{SensorID: "dup-sensor"})
	sensor(t, p, xs, 100)
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	published := p.Stats().Published
	waitFor(t, "every delta applied", func() bool { return agg.st.Applied.Load() == published })
	want := endpointsJSON(t, agg.db)

	js := jsConn(t, url)
	h := header{Sensor: "dup-sensor", Seq: p.state.NextSeq - published, Sent: time.Now()}
	db, err := store.Open(ctx, store.Memory, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The first delta again, as the sensor built it.
	var first []byte
	ingest(t, db, xs[:100], 1000, func(_ context.Context, d []byte) error { first = d; return nil })
	db.Close()
	msg := &nats.Msg{Subject: SubjectPrefix + h.Sensor, Header: h.natsHeader(), Data: compress(first)}
	msg.Header.Set(nats.MsgIdHdr, "another-id")
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		t.Fatal(err)
	}
	ack, err := js.PublishMsg(ctx, msg)
	if err != nil || !ack.Duplicate {
		t.Fatalf("the same message id twice: ack %+v, %v", ack, err)
	}
	waitFor(t, "the resend skipped", func() bool { return agg.st.Duplicates.Load() == 1 })
	agg.stop(t)
	if agg.st.Applied.Load() != published {
		t.Errorf("applied %d, want %d", agg.st.Applied.Load(), published)
	}
	sameInventory(t, endpointsJSON(t, agg.db), want)
}

func mustList(t testing.TB, dir string) []spoolEntry {
	t.Helper()
	es, err := listSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestSpoolLimitDropsOldest(t *testing.T) {
	dir := t.TempDir()
	url := "nats://127.0.0.1:" + strconv.Itoa(freePort(t))
	p := newPublisher(t, url, dir, PublisherOptions{SpoolLimit: 1})
	ctx := context.Background()
	for i := range 4 {
		if err := p.Publish(ctx, []byte(fmt.Sprintf(`{"services":{},"stats":{"exchanges":%d}}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	s := p.Stats()
	// The newest is kept, and the oldest too while a send of it is under
	// way.
	if s.Published != 4 || s.Dropped < 2 || s.Dropped+uint64(s.SpoolDeltas) != 4 {
		t.Fatalf("stats: %+v", s)
	}
	es := mustList(t, p.dir)
	if len(es) != s.SpoolDeltas || es[len(es)-1].seq != p.state.NextSeq-1 {
		t.Fatalf("spool keeps %+v, want the newest (seq %d)", es, p.state.NextSeq-1)
	}
	if _, err := NewPublisher(PublisherOptions{URL: url, StateDir: dir}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("a second publisher on the state directory in use: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := p.Close(ctx); err == nil {
		t.Error("Close with no server and a spooled delta returned no error")
	}
	// A new process keeps the id and goes on after the spooled sequence.
	q := newPublisher(t, url, dir, PublisherOptions{})
	defer q.Close(ctx)
	if q.SensorID() != p.SensorID() || q.state.NextSeq <= es[len(es)-1].seq || q.Stats().SpoolDeltas != len(es) {
		t.Errorf("restarted publisher: id %s (was %s), next %d (spooled %d), %+v", q.SensorID(), p.SensorID(), q.state.NextSeq, es[0].seq, q.Stats())
	}
}

func TestRejectsBadDeltas(t *testing.T) {
	dir, url := serve(t)
	ctx := context.Background()
	agg := startAggregator(t, url, filepath.Join(dir, "central.db"), AggregatorOptions{})
	js := jsConn(t, url)
	waitFor(t, "the stream", func() bool { _, err := js.Stream(ctx, DefaultStream); return err == nil })
	good := header{Sensor: "bad-test", Seq: 1, Sent: time.Now()}
	tests := []struct {
		name string
		mut  func(h nats.Header)
		data []byte
	}{
		{"no sensor", func(h nats.Header) { h.Del(HeaderSensor) }, compress([]byte(`{}`))},
		{"sensor not a token", func(h nats.Header) { h.Set(HeaderSensor, "a.b") }, compress([]byte(`{}`))},
		{"bad seq", func(h nats.Header) { h.Set(HeaderSeq, "-1") }, compress([]byte(`{}`))},
		{"bad sent", func(h nats.Header) { h.Set(HeaderSent, "yesterday") }, compress([]byte(`{}`))},
		{"not zstd", func(nats.Header) {}, []byte(`{"services":{}}`)},
		{"not json", func(nats.Header) {}, compress([]byte(`{"services":`))},
		{"null service", func(nats.Header) {}, compress([]byte(`{"services":{"x":null}}`))},
		{"service without trie", func(nats.Header) {}, compress([]byte(`{"services":{"x":{"count":1}}}`))},
	}
	for i, tt := range tests {
		msg := &nats.Msg{Subject: SubjectPrefix + "bad-test", Header: good.natsHeader(), Data: tt.data}
		tt.mut(msg.Header)
		msg.Header.Set(nats.MsgIdHdr, fmt.Sprint("bad-", i))
		if _, err := js.PublishMsg(ctx, msg); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
	}
	waitFor(t, "every bad delta rejected", func() bool { return agg.st.Rejected.Load() == uint64(len(tests)) })
	// and the aggregator goes on with good ones
	p := newPublisher(t, url, filepath.Join(dir, "sensor"), PublisherOptions{})
	xs := traffic(50, "good.example", t0)
	sensor(t, p, xs, 1000)
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the good delta applied", func() bool { return agg.st.Applied.Load() == 1 })
	agg.stop(t)
	sameInventory(t, endpointsJSON(t, agg.db), reference(t, 1000, xs))
}

func FuzzDecodeSpool(f *testing.F) {
	h := header{Sensor: "s-1", Seq: 7, Sent: t0}
	b, _ := encodeSpool(&h, compress([]byte(`{"services":{}}`)))
	f.Add(b)
	f.Add([]byte(spoolMagic + "{}\n"))
	f.Add([]byte(spoolMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, payload, err := decodeSpool(b)
		if err != nil {
			return
		}
		again, err := encodeSpool(&h, payload)
		if err != nil {
			t.Fatal(err)
		}
		h2, p2, err := decodeSpool(again)
		if err != nil || h2.Seq != h.Seq || h2.Sensor != h.Sensor || string(p2) != string(payload) {
			t.Fatalf("round trip: %+v %v", h2, err)
		}
		if raw, err := decompress(payload); err == nil {
			_, _ = store.DecodeDelta(raw)
		}
	})
}

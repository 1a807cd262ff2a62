package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/specter-dev/specter/infer"
)

// deltaOf is the delta a checkpoint of exchanges n..n+k of synthExchanges
// publishes.
func deltaOf(t *testing.T, n, k int) []byte {
	t.Helper()
	db := openTemp(t, "s.db")
	var got []byte
	in, err := db.BeginRun(context.Background(), RunInfo{}, IngestOptions{Every: 1 << 30,
		Publish: func(_ context.Context, d []byte) error { got = d; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range synthExchanges(n + k)[n:] {
		in.Observe(x)
	}
	if err := in.Finish(context.Background(), RunTotals{Complete: true}); err != nil {
		t.Fatal(err)
	}
	if got == nil {
		t.Fatal("no delta published")
	}
	return got
}

func TestApplyDeltaSequences(t *testing.T) {
	ctx := context.Background()
	a, b := deltaOf(t, 0, 40), deltaOf(t, 40, 40)
	decode := func(b []byte) *infer.Model {
		m, err := DecodeDelta(b)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	db := openTemp(t, "s.db")
	steps := []struct {
		sensor  string
		seq     uint64
		delta   []byte
		applied bool
	}{
		{"s1", 10, a, true},
		{"s1", 10, a, false}, // redelivered
		{"s1", 9, a, false},  // older
		{"s2", 1, a, true},   // another sensor, its own sequence
		{"s1", 11, b, true},
	}
	for i, st := range steps {
		ok, err := db.ApplyDelta(ctx, DeltaInfo{Sensor: st.sensor, Seq: st.seq, Sent: time.Now()}, decode(st.delta))
		if err != nil || ok != st.applied {
			t.Fatalf("step %d (%s %d): applied %v, %v; want %v", i, st.sensor, st.seq, ok, err, st.applied)
		}
	}
	var total uint64
	eps, err := db.Endpoints(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range eps {
		total += e.Count
	}
	if total != 40+40+40 {
		t.Errorf("inventory counts %d requests, want 120 (a twice, by two sensors, and b)", total)
	}
	ss, err := db.Sensors(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 2 || ss[0].Deltas != 2 || ss[0].Duplicates != 2 || ss[0].LastSeq != 11 || ss[0].Exchanges != 80 || ss[1].Deltas != 1 {
		t.Errorf("sensors: %+v", ss)
	}
	// In one batch, a sensor's later deltas see its earlier ones.
	got, err := db.ApplyDeltas(ctx, []DeltaInfo{{Sensor: "s4", Seq: 5}, {Sensor: "s4", Seq: 5}, {Sensor: "s1", Seq: 11}, {Sensor: "s4", Seq: 6}},
		[]*infer.Model{decode(a), decode(a), decode(a), decode(b)})
	if err != nil || fmt.Sprint(got) != "[true false false true]" {
		t.Errorf("batch: applied %v, %v; want [true false false true]", got, err)
	}
	for _, bad := range []DeltaInfo{{Seq: 1}, {Sensor: "s3", Seq: 1 << 63}} {
		if _, err := db.ApplyDelta(ctx, bad, decode(a)); err == nil {
			t.Errorf("%+v applied", bad)
		}
	}
}

func TestDecodeDeltaRefuses(t *testing.T) {
	for _, tc := range []struct{ in, hint string }{
		{`{"services":`, "decoding delta"},
		{`{"services":{"api":null}}`, `"api": null`},
		{`{"services":{"api":{"count":3}}}`, `"api": no path trie`},
		{`[]`, "decoding delta"},
	} {
		_, err := DecodeDelta([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.hint) {
			t.Errorf("%s: %v, want an error with %q", tc.in, err, tc.hint)
		}
	}
}

func FuzzDecodeDelta(f *testing.F) {
	f.Add([]byte(`{"services":{}}`))
	f.Add([]byte(`{"services":{"a":{"trie":{"root":{}},"ops":[null]}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeDelta(b)
		if err != nil {
			return
		}
		// What decodes merges and summarizes without a panic.
		into := infer.NewModel(infer.Config{})
		into.Merge(m)
		_ = into.Endpoints()
	})
}

package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/grpcshape"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/http2"
)

// grpcExchanges is n gRPC calls of three methods (unary, server and
// client streaming) with varied statuses.
func grpcExchanges(n int, t0 time.Time) []*reassembly.Exchange {
	var out []*reassembly.Exchange
	for i := 0; i < n; i++ {
		at := t0.Add(time.Duration(i) * time.Second)
		method := []string{"GetFeature", "ListFeatures", "RecordRoute"}[i%3]
		path := "/routeguide.RouteGuide/" + method
		x := exchange(at, "POST", "rg.example.test:50051", path, "Content-Type: application/grpc", "", 200, "")
		x.Request.Proto, x.Response.Proto = "HTTP/2", "HTTP/2"
		msg := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), uint64(i))
		msg = protowire.AppendString(protowire.AppendTag(msg, 2, protowire.BytesType), fmt.Sprintf("name %d", i))
		g := &http2.GRPC{Method: path, Service: "routeguide.RouteGuide", Name: method, Status: []int{0, 0, 5, 14}[i%4]}
		reqs, resps := 1, 1
		switch method {
		case "ListFeatures":
			resps, g.Kind = 1+i%4, http2.ServerStreaming
		case "RecordRoute":
			reqs, g.Kind = 1+i%5, http2.ClientStreaming
		}
		for j := 0; j < reqs; j++ {
			g.Requests = append(g.Requests, http2.GRPCMessage{Length: uint32(len(msg)), Data: msg})
		}
		for j := 0; j < resps; j++ {
			g.Responses = append(g.Responses, http2.GRPCMessage{Length: uint32(len(msg)), Data: msg})
		}
		g.RequestCount, g.ResponseCount = reqs, resps
		x.GRPC, x.StreamID = g, uint32(2*i+1)
		out = append(out, x)
	}
	return out
}

// TestGRPCPersist: gRPC methods are listed from their rows as the model
// lists them, and A then B in two runs (with checkpoints) is A+B, shapes
// included.
func TestGRPCPersist(t *testing.T) {
	xs := grpcExchanges(200, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	mem := infer.NewModel(infer.Config{})
	for _, x := range xs {
		mem.Observe(x)
	}
	want := mustJSON(t, mem.GRPCMethods())
	for _, s := range []string{`"NOT_FOUND"`, `"UNAVAILABLE"`, `"server_streaming"`, `"client_streaming"`} {
		if !strings.Contains(want, s) {
			t.Fatalf("in-memory inventory lacks %s: the comparison would prove nothing", s)
		}
	}
	wantShapes := protoText(t, mem)
	db := openTemp(t, "grpc.db")
	ingest(t, db, 17, xs[:130])
	ingest(t, db, 9, xs[130:])
	ctx := context.Background()
	rows, err := db.GRPCMethods(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := mustJSON(t, rows); got != want {
		t.Errorf("stored gRPC methods differ:\n got %s\nwant %s", got, want)
	}
	m, err := db.Model(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := protoText(t, m); got != wantShapes {
		t.Errorf("stored shapes differ:\n got %s\nwant %s", got, wantShapes)
	}
	if eps, err := db.Endpoints(ctx, ""); err != nil || len(eps) != 0 {
		t.Errorf("endpoint rows %v (%v), want none for gRPC traffic", eps, err)
	}
	if rows, err := db.GRPCMethods(ctx, "other.example.test"); err != nil || len(rows) != 0 {
		t.Errorf("other host: %v %v", rows, err)
	}
}

// protoText renders m's gRPC services as .proto text without the sample
// counts: which messages a run samples depends on how the traffic was
// split into checkpoints (each delta samples its first messages), the
// shapes do not.
func protoText(t *testing.T, m *infer.Model) string {
	t.Helper()
	var b strings.Builder
	for _, svc := range m.GRPCServices("") {
		if err := grpcshape.WriteProto(&b, svc, nil); err != nil {
			t.Fatal(err)
		}
	}
	var keep []string
	for _, l := range strings.Split(b.String(), "\n") {
		if !strings.Contains(l, "message(s) observed") {
			keep = append(keep, l)
		}
	}
	if !strings.Contains(b.String(), "field_2 = 2") {
		t.Fatalf("no shapes inferred: %s", b.String())
	}
	return strings.Join(keep, "\n")
}

// TestGRPCCorruptState: stored shapes that inference never writes are an
// error naming the service and method, not a crash or a silent merge.
func TestGRPCCorruptState(t *testing.T) {
	tests := []struct{ name, from, to, want string }{
		{"unsorted fields", `"fields":[{"number":1,`, `"fields":[{"number":9,"kind":"varint","wire":0,"count":1},{"number":1,`, "increasing order"},
		{"bad kind", `"kind":"varint"`, `"kind":"float"`, "unknown kind"},
		{"bad number", `"number":1,`, `"number":0,`, "out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openTemp(t, "c.db")
			ingest(t, db, 100, grpcExchanges(3, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)))
			ctx := context.Background()
			var state string
			if err := db.sql.QueryRowContext(ctx, "SELECT state FROM services").Scan(&state); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(state, tc.from) {
				t.Fatalf("state lacks %s: %s", tc.from, state)
			}
			if _, err := db.sql.ExecContext(ctx, "UPDATE services SET state = ?", strings.Replace(state, tc.from, tc.to, 1)); err != nil {
				t.Fatal(err)
			}
			_, err := db.Model(ctx)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "rg.example.test") {
				t.Errorf("error %v, want one naming the service and %q", err, tc.want)
			}
		})
	}
}

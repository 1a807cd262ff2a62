package report

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/specter-dev/specter/reassembly/http2"
)

// TestGRPCInReport: the gRPC methods of the inventory are rows of the
// service tree (POST /pkg.Service/Method with their calls and statuses),
// and no REST template stands for them.
func TestGRPCInReport(t *testing.T) {
	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var xs = shopTraffic()
	for i, m := range []string{"GetFeature", "GetFeature", "ListFeatures"} {
		x := request{at: at.Add(time.Duration(i) * time.Second), method: "POST", host: "rg.test:50051",
			target: "/routeguide.RouteGuide/" + m, hdr: []string{"Content-Type", "application/grpc"}, status: 200}.exchange()
		x.GRPC = &http2.GRPC{Method: x.Request.Path, Status: 0, RequestCount: 1, ResponseCount: 1}
		xs = append(xs, x)
	}
	db := ingestDB(t, filepath.Join(t.TempDir(), "r.db"), nil, xs)
	in, err := Load(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	d := Build(in)
	rows := map[string]uint64{}
	for _, s := range d.Services {
		if s.Name != "rg.test:50051" {
			continue
		}
		for _, e := range s.Endpoints {
			rows[e.Method+" "+e.Template] = e.Count
		}
	}
	want := map[string]uint64{"POST /routeguide.RouteGuide/GetFeature": 2, "POST /routeguide.RouteGuide/ListFeatures": 1}
	if len(rows) != len(want) {
		t.Errorf("rows of rg.test:50051: %v, want %v", rows, want)
	}
	for k, n := range want {
		if rows[k] != n {
			t.Errorf("%s: %d calls, want %d (rows %v)", k, rows[k], n, rows)
		}
	}
}

package infer

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/specter-dev/specter/reassembly"
)

// randomWord is a scanner's path segment: letters and digits.
func randomWord(rng *rand.Rand) string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 5+rng.IntN(8))
	for i := range b {
		b[i] = letters[rng.IntN(len(letters))]
	}
	return string(b)
}

// scanTraffic is hosts × paths random paths, each answered 404.
func scanTraffic(hosts, paths int) []*reassembly.Exchange {
	rng := rand.New(rand.NewPCG(1, 2))
	var xs []*reassembly.Exchange
	for h := range hosts {
		for i := range paths {
			p := "/" + randomWord(rng)
			for k := rng.IntN(3); k > 0; k-- {
				p += "/" + randomWord(rng)
			}
			xs = append(xs, ex(h*paths+i, "GET", fmt.Sprintf("h%d.scan.test", h), p, "", "", 404, "text/plain", "not found"))
		}
	}
	return xs
}

func TestScan(t *testing.T) {
	// A real API beside the scan: its 404s (missing orders) share a shape
	// and its other endpoints answer 200.
	api := shopTraffic()
	for i := range 30 {
		api = append(api, ex(i, "GET", "api.test", fmt.Sprintf("/orders/%d", 900000+i*13), "", "", 404, "application/json", `{"error":"no such order"}`))
	}
	cases := []struct {
		name        string
		xs          []*reassembly.Exchange
		wantScanned []string
		maxEps      int    // endpoints at most
		wantEp      string // an endpoint that must be there ("" none)
	}{
		{"scan of 20 hosts", scanTraffic(20, 300), []string{"h0.scan.test", "h1.scan.test", "h10.scan.test"}, 0, ""},
		{"api with 404s of one shape", api, nil, 100, "GET /orders/{orderId}"},
		{"too few probes", scanTraffic(1, 40), nil, 0, ""},
		{"scan beside an api", append(scanTraffic(2, 100), api...), []string{"h0.scan.test", "h1.scan.test"}, 100, "GET /orders/{orderId}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := NewModel(Config{})
			observeAll(m, c.xs)
			eps := m.Endpoints()
			var names []string
			for _, e := range eps {
				names = append(names, e.Method+" "+e.Template)
				if strings.HasSuffix(e.Service, ".scan.test") {
					t.Errorf("scan probe became endpoint %s %s %s", e.Service, e.Method, e.Template)
				}
			}
			if len(eps) > c.maxEps && c.maxEps > 0 {
				t.Errorf("%d endpoints, want at most %d", len(eps), c.maxEps)
			}
			if c.wantEp != "" && !strings.Contains(strings.Join(names, "\n"), c.wantEp) {
				t.Errorf("endpoints %v lack %s", names, c.wantEp)
			}
			scans := m.Scans()
			for _, want := range c.wantScanned {
				found := false
				for _, s := range scans {
					if s.Service == want {
						found = true
						if s.Probes < minScanProbes || s.Probes > s.Requests || s.Shapes == 0 || !strings.Contains(s.Reason(), fmt.Sprint(s.Probes)) {
							t.Errorf("scan %+v: counts", s)
						}
					}
				}
				if !found {
					t.Errorf("%s not reported scanned; scans %v", want, scans)
				}
			}
			if c.wantScanned == nil && len(scans) > 0 {
				t.Errorf("scans %+v, want none", scans)
			}
			// Merging keeps the probes and the verdict.
			m2 := NewModel(Config{})
			m2.Merge(m)
			if len(m2.Scans()) != len(scans) {
				t.Errorf("merged: %d scans, want %d", len(m2.Scans()), len(scans))
			}
		})
	}
}

func TestMaxBytes(t *testing.T) {
	cfg := Config{}
	cfg.Limits.MaxBytes = 64 * costOp
	m := NewModel(cfg)
	for i := range 200 {
		m.Observe(ex(i, "GET", fmt.Sprintf("h%d.test", i%4), fmt.Sprintf("/p%d/x", i), "", "", 200, "", ""))
	}
	if m.Stats.DroppedBudget == 0 {
		t.Fatalf("nothing dropped by a budget of %d bytes", cfg.Limits.MaxBytes)
	}
	ops := 0
	for _, s := range m.ByName {
		ops += len(s.Ops)
	}
	if ops >= 64 || ops == 0 || m.cost() < cfg.Limits.MaxBytes-costOp-2*costNode-costService {
		t.Errorf("%d operations, estimated %d bytes, budget %d", ops, m.cost(), cfg.Limits.MaxBytes)
	}
	// Known operations still count their requests past the budget.
	before := m.Endpoints()[0].Count
	m.Observe(ex(999, "GET", "h0.test", "/p0/x", "", "", 200, "", ""))
	if m.Endpoints()[0].Count != before+1 {
		t.Errorf("a known endpoint stopped counting past the budget")
	}
	// A model merged or decoded recomputes the estimate.
	m2 := NewModel(cfg)
	m2.Merge(m)
	if m2.cost() != m.cost() {
		t.Errorf("merged estimate %d, want %d", m2.cost(), m.cost())
	}
}

// BenchmarkInventoryCost measures the heap per operation and per service
// behind the cost constants of scan.go: distinct JSON endpoints, sampled.
func BenchmarkInventoryCost(b *testing.B) {
	const hosts, perHost = 50, 200
	var xs []*reassembly.Exchange
	for h := range hosts {
		for i := range perHost {
			xs = append(xs, ex(i, "POST", fmt.Sprintf("h%d.test", h), fmt.Sprintf("/r%d/items?limit=%d", i, i%10), "Authorization: Bearer x", `{"name":"a","qty":2}`, 200, "application/json", `{"id":1,"name":"a","tags":["x"]}`))
		}
	}
	var ms runtime.MemStats
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		before := ms.HeapAlloc
		m := NewModel(Config{})
		observeAll(m, xs)
		runtime.GC()
		runtime.ReadMemStats(&ms)
		ops := hosts * perHost
		b.ReportMetric(float64(ms.HeapAlloc-before)/float64(ops), "B/op-entry")
		b.ReportMetric(float64(m.cost())/float64(ops), "est-B/op-entry")
		runtime.KeepAlive(m)
	}
}

package infer

import (
	"fmt"
	"github.com/specter-dev/specter/reassembly"
	"testing"
)

// TestMinBodySamples checks that a rare response status keeps its body
// schema although the sampler (first 64 requests of a shape, then 1 in 16)
// skips every request it answered, and that the minimum is bounded.
func TestMinBodySamples(t *testing.T) {
	// 480 requests of one shape; 10 of them, after the first 64 and never
	// on a sampled position, are answered 400 with an error body.
	var xs []*reassembly.Exchange
	rare := 0
	for i := 0; i < 480; i++ {
		target := fmt.Sprintf("/items/%d", 1000+i)
		if i >= 64 && (i-64)%16 == 5 && rare < 10 {
			rare++
			xs = append(xs, ex(i, "GET", "api.test", target, "", "", 400, "application/json", `{"error":"bad item","code":17}`))
			continue
		}
		xs = append(xs, ex(i, "GET", "api.test", target, "", "", 200, "application/json", fmt.Sprintf(`{"id":%d,"name":"n%d"}`, i, i)))
	}
	for _, tc := range []struct {
		name       string
		min        int
		wantSchema bool
		wantMin    uint64 // Stats.MinSampled
	}{
		{"default keeps the rare status", 0, true, 8},
		{"bounded by the minimum", 3, true, 3},
		{"off", -1, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewModel(Config{Limits: Limits{MinBodySamples: tc.min}})
			observeAll(m, xs)
			var got int64 // 400 bodies described by a schema
			var count uint64
			for _, op := range m.ByName["api.test"].Ops {
				r := op.Responses["400"]
				if r == nil {
					continue
				}
				b := r.Bodies["application/json"]
				count += b.Count
				if b.Schema != nil && b.Schema.Props["error"] != nil {
					got += b.Schema.Props["error"].Count
				}
			}
			if count != 10 {
				t.Fatalf("400 bodies counted = %d, want 10", count)
			}
			if tc.wantSchema && uint64(got) != tc.wantMin || !tc.wantSchema && got != 0 {
				// Without the minimum no 400 body is on a sampled position.
				t.Errorf("400 bodies with a schema = %d, want %d", got, tc.wantMin)
			}
			if m.Stats.MinSampled != tc.wantMin {
				t.Errorf("Stats.MinSampled = %d, want %d", m.Stats.MinSampled, tc.wantMin)
			}
		})
	}
}

// TestMinBodySamplesBound checks the per-service bound on the minimum's
// counters: past MaxSamplers shapes, statuses and media types, bodies get
// no minimum and are counted.
func TestMinBodySamplesBound(t *testing.T) {
	m := NewModel(Config{Limits: Limits{MaxSamplers: 4, MinBodySamples: 2}})
	// One shape, sampled for its first 64 requests: then 20 statuses,
	// each once, none on a sampled position.
	for i := 0; i < 64; i++ {
		m.Observe(ex(i, "GET", "api.test", "/things", "", "", 200, "application/json", `{"a":1}`))
	}
	for i := 0; i < 20; i++ {
		n := 64 + 1 + i
		m.Observe(ex(n, "GET", "api.test", "/things", "", "", 400+i, "application/json", `{"e":1}`))
	}
	svc := m.ByName["api.test"]
	if len(svc.bodySeen) > 4 {
		t.Errorf("counters = %d, want at most MaxSamplers (4)", len(svc.bodySeen))
	}
	if m.Stats.MinSampled+m.Stats.MinSamplersFull == 0 || m.Stats.MinSamplersFull == 0 {
		t.Errorf("MinSampled = %d, MinSamplersFull = %d: the bound was not hit", m.Stats.MinSampled, m.Stats.MinSamplersFull)
	}
}

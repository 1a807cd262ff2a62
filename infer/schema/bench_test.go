package schema

import (
	"encoding/json"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/specter-dev/specter/capture/corpus"
)

// benchBodies returns a synthetic API-like document set: a list response
// with nested objects, formats, enums and numbers.
func benchBodies() [][]byte {
	var out [][]byte
	for _, d := range genDocs(42, 400) {
		out = append(out, []byte(d))
	}
	type item struct {
		ID      string   `json:"id"`
		Name    string   `json:"name"`
		Status  string   `json:"status"`
		Created string   `json:"created_at"`
		Count   int      `json:"count"`
		Price   float64  `json:"price"`
		Tags    []string `json:"tags"`
		Owner   struct {
			Login string `json:"login"`
			URL   string `json:"url"`
			Admin bool   `json:"admin"`
		} `json:"owner"`
	}
	for i := 0; i < 50; i++ {
		items := make([]item, 20)
		for j := range items {
			it := &items[j]
			it.ID = "8c7b1a52-6f37-4c38-9d6a-0e1f2a3b4c5d"
			it.Name = "some descriptive item name"
			it.Status = []string{"active", "archived", "pending"}[j%3]
			it.Created = "2024-01-02T03:04:05.123Z"
			it.Count, it.Price = i*j, float64(j)*1.25
			it.Tags = []string{"alpha", "beta"}
			it.Owner.Login, it.Owner.URL = "octocat", "https://api.example.com/users/octocat"
		}
		b, _ := json.Marshal(map[string]any{"items": items, "total": 1000, "next": "https://api.example.com/items?page=2"})
		out = append(out, b)
	}
	return out
}

func benchObserve(b *testing.B, bodies [][]byte) {
	total := 0
	for _, x := range bodies {
		total += len(x)
	}
	opts := DefaultOptions()
	n := &Node{}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuSeconds()
	for i := 0; i < b.N; i++ {
		for _, x := range bodies {
			if err := n.ObserveJSON(x, opts); err != nil {
				b.Fatal(err)
			}
		}
	}
	cpu := cpuSeconds() - cpu0
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(total)*float64(b.N)/sec/1e6, "MB/s")
	b.ReportMetric(float64(len(bodies))*float64(b.N)/sec, "bodies/s")
	if cpu > 0 {
		// Throughput per CPU second: steadier than wall time on a shared
		// machine.
		b.ReportMetric(float64(total)*float64(b.N)/cpu/1e6, "MB/cpu-s")
	}
}

// cpuSeconds returns the CPU time (user and system) the process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func BenchmarkObserveJSON(b *testing.B) {
	b.Run("synthetic", func(b *testing.B) { benchObserve(b, benchBodies()) })
	b.Run("corpus", func(b *testing.B) {
		dir := corpus.Dir(b, "corpus/traffic")
		sets, _ := filepath.Glob(filepath.Join(dir, "*", "traffic.har"))
		var bodies [][]byte
		for _, p := range sets {
			var h har
			readJSON(b, p, &h)
			for _, e := range h.Log.Entries {
				if t := e.Response.Content.Text; t != "" && json.Valid([]byte(t)) {
					bodies = append(bodies, []byte(t))
				}
			}
		}
		if len(bodies) == 0 {
			b.Skip("no JSON bodies in the corpus")
		}
		benchObserve(b, bodies)
	})
}

// BenchmarkValid is the validation pass alone, for comparison with
// encoding/json.Valid.
func BenchmarkValid(b *testing.B) {
	bodies := benchBodies()
	total := 0
	for _, x := range bodies {
		total += len(x)
	}
	for _, tc := range []struct {
		name  string
		valid func([]byte) bool
	}{{"specter", Valid}, {"encoding-json", json.Valid}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				for _, x := range bodies {
					if !tc.valid(x) {
						b.Fatal("invalid")
					}
				}
			}
			b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds()/1e6, "MB/s")
		})
	}
}

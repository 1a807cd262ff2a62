package infer

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/specter-dev/specter/capture/corpus"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/har"
)

func wireBytes(xs []*reassembly.Exchange) int64 {
	var n int64
	for _, x := range xs {
		n += int64(len(x.Request.Target) + len(x.Request.Body.Bytes()) + 200)
		if x.Response != nil {
			n += int64(len(x.Response.Body.Bytes()) + 200)
		}
	}
	return n
}

// benchObserve observes xs in a loop into one model and reports
// exchanges/s and MB/s of bodies and heads. warm passes over xs come first,
// untimed, so that body sampling is in its steady state (1 in 16 per path
// shape) rather than in its first-64 phase.
func benchObserve(b *testing.B, xs []*reassembly.Exchange, warm int) {
	size := wireBytes(xs)
	m := NewModel(Config{})
	for range warm {
		for _, x := range xs {
			m.Observe(x)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		m.Observe(xs[i%len(xs)])
		n++
	}
	b.StopTimer()
	secs := b.Elapsed().Seconds()
	if secs > 0 {
		b.ReportMetric(float64(n)/secs, "exchanges/s")
		b.ReportMetric(float64(size)/float64(len(xs))*float64(n)/secs/1e6, "MB/s")
	}
}

// BenchmarkObserveSynthetic: users with fresh integer ids, JSON bodies.
func BenchmarkObserveSynthetic(b *testing.B) {
	auth := "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJzaG9wIn0.c2lnbmF0dXJl\nAccept: application/json"
	var xs []*reassembly.Exchange
	for i := range 4096 {
		id := fmt.Sprint(1000 + i*7919%100000)
		xs = append(xs, ex(i, "GET", "shop.test", "/api/v1/users/"+id+"?fields=name&page="+fmt.Sprint(i%9), auth, "", 200,
			"application/json", `{"id":`+id+`,"name":"user`+id+`","email":"u`+id+`@example.com","tags":["a","b"],"address":{"city":"x","zip":"12345"}}`))
	}
	benchObserve(b, xs, 0)
}

// BenchmarkObserveCorpus: every exchange of the shared traffic sets, first
// while bodies are sampled heavily, then in steady state.
func BenchmarkObserveCorpus(b *testing.B) {
	dir := corpus.Dir(b, "corpus/traffic")
	hars, _ := filepath.Glob(filepath.Join(dir, "*", "traffic.har"))
	var xs []*reassembly.Exchange
	for _, h := range hars {
		x, err := har.ReadFile(h)
		if err != nil {
			b.Fatal(err)
		}
		xs = append(xs, x...)
	}
	if len(xs) == 0 {
		b.Skip("no traffic")
	}
	b.Run("first", func(b *testing.B) { benchObserve(b, xs, 0) })
	b.Run("steady", func(b *testing.B) { benchObserve(b, xs, 40) })
}

// BenchmarkExport: deciding templates and building the document for the
// spotify set.
func BenchmarkExport(b *testing.B) {
	dir := corpus.Dir(b, "corpus/traffic")
	xs, err := har.ReadFile(filepath.Join(dir, "spotify", "traffic.har"))
	if err != nil {
		b.Skip(err)
	}
	m := NewModel(Config{})
	for _, x := range xs {
		m.Observe(x)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.OpenAPIAll(ExportOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "exports/s")
}

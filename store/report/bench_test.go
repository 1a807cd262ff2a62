package report

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/store"
)

// Words of the synthetic large inventory: distinct nouns, so that the
// templates keep them literal and vary only the numeric ids.
var (
	nouns = []string{"accounts", "baskets", "coupons", "devices", "events", "folders", "groups", "invoices", "jobs", "labels"}
	// Each collection has sub-resources of its own: collections whose
	// subtrees route alike are (rightly) one parameter to the templater.
	subnouns = [][]string{
		{"history", "members", "notes", "settings", "tags"},
		{"items", "owners", "totals", "discounts", "shipping"},
		{"redemptions", "rules", "limits", "campaigns", "codes"},
		{"sensors", "firmware", "alerts", "readings", "locations"},
		{"attendees", "sessions", "venues", "tickets", "sponsors"},
		{"files", "permissions", "shares", "versions", "comments"},
		{"roles", "invitations", "policies", "quotas", "audit"},
		{"lines", "payments", "refunds", "reminders", "taxes"},
		{"runs", "logs", "artifacts", "schedules", "steps"},
		{"colors", "assignments", "translations", "usage", "aliases"},
	}
	methods = []string{"GET", "PUT", "POST", "DELETE"}
)

// largeExchanges is traffic of services × 200 endpoints (10 nouns × 5
// sub-resources × 4 methods), three requests each with different ids,
// spread over a day.
func largeExchanges(services int) []*reassembly.Exchange {
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	var xs []*reassembly.Exchange
	n := 0
	for s := range services {
		host := fmt.Sprintf("svc%03d.example.test", s)
		for i, noun := range nouns {
			for _, sub := range subnouns[i] {
				for _, m := range methods {
					for k := range 3 {
						at := t0.Add(time.Duration(n) * 2 * time.Second)
						n++
						target := fmt.Sprintf("/v1/%s/%d/%s?page=%d", noun, 1000+n%997, sub, k)
						body := fmt.Sprintf(`{"id":%d,"email":"u%d@example.org","items":[{"sku":"x%d","qty":%d}]}`, n, n, k, k+1)
						xs = append(xs, request{at, m, host, target, []string{"Authorization", "Bearer a.b.c"}, 200, body}.exchange())
					}
				}
			}
		}
	}
	return xs
}

// largeDB is a database of a 10,000-endpoint inventory.
func largeDB(b *testing.B) (*store.DB, string) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "large.db")
	db := ingestDB(b, path, nil, largeExchanges(50))
	eps, err := db.Endpoints(context.Background(), "")
	if err != nil {
		b.Fatal(err)
	}
	if len(eps) < 9500 {
		b.Fatalf("the synthetic inventory has %d endpoints, want about 10,000", len(eps))
	}
	return db, path
}

func largePage(b *testing.B, db *store.DB) []byte {
	in, err := Load(context.Background(), db)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Render(&buf, Build(in), Options{}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkReport10k is specter report on 10,000 endpoints: reading the
// database, building the data and rendering; it reports the page's size.
func BenchmarkReport10k(b *testing.B) {
	db, _ := largeDB(b)
	var size int
	for b.Loop() {
		size = len(largePage(b, db))
	}
	b.ReportMetric(float64(size)/1e6, "MB/page")
}

// BenchmarkRender10k is the rendering alone.
func BenchmarkRender10k(b *testing.B) {
	db, _ := largeDB(b)
	in, err := Load(context.Background(), db)
	if err != nil {
		b.Fatal(err)
	}
	d := Build(in)
	for b.Loop() {
		if err := Render(io.Discard, d, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChromiumOpen is headless Chromium loading a report from a
// file, running its script and dumping the DOM, process start included:
// the small shop page (the browser's own start) and the 10,000-endpoint
// page. Beside the wall time it reports the CPU time of the browser's
// processes, which a busy machine inflates less.
func BenchmarkChromiumOpen(b *testing.B) {
	var bin string
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		b.Skip("chromium not installed (make deps-chromium installs Debian's)")
	}
	for _, tc := range []struct {
		name string
		page func(b *testing.B) []byte
	}{
		{"shop", func(b *testing.B) []byte {
			db, _ := shopDB(b)
			return largePage(b, db)
		}},
		{"10k", func(b *testing.B) []byte {
			db, _ := largeDB(b)
			return largePage(b, db)
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			file := filepath.Join(b.TempDir(), "report.html")
			if err := os.WriteFile(file, tc.page(b), 0o600); err != nil {
				b.Fatal(err)
			}
			profile := b.TempDir()
			var cpu time.Duration
			for b.Loop() {
				cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
					"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
					"--user-data-dir="+profile, "--dump-dom", "file://"+file)
				out, err := cmd.Output()
				if err != nil || !bytes.Contains(out, []byte(`id="details"`)) {
					b.Fatalf("chromium: %v (%d bytes of DOM)", err, len(out))
				}
				cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
			}
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}

// BenchmarkServeWhileWriting is the latency of serve's page on the
// 10,000-endpoint inventory while a writer checkpoints into the database
// (every 500 exchanges) and serve rebuilds the page as often as it
// allows itself; it reports the median and the 99th percentile and how
// many pages were built.
func BenchmarkServeWhileWriting(b *testing.B) {
	_, path := largeDB(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	in, err := w.BeginRun(ctx, store.RunInfo{Interface: "bench0"}, store.IngestOptions{Every: 500, Interval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	more := largeExchanges(3)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ctx.Err() == nil; i++ {
			in.Observe(more[i%len(more)])
		}
	}()
	r, err := store.Open(ctx, path, store.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	var builds atomic.Int64
	live := &Live{
		Build: func(ctx context.Context) (*Data, error) {
			builds.Add(1)
			in, err := Load(ctx, r)
			if err != nil {
				return nil, err
			}
			return Build(in), nil
		},
		Version: r.DataVersion, Interval: 200 * time.Millisecond,
	}
	if _, err := live.Refresh(ctx); err != nil { // the first build, not measured
		b.Fatal(err)
	}
	go live.Run(ctx)
	srv := httptest.NewServer(live)
	defer srv.Close()
	// As a browser asks: compressed, the bytes as sent (the client does
	// not inflate them here, the browser's cost is not serve's).
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || n == 0 {
			b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
		}
		lat = append(lat, time.Since(start))
		// Requests spread over the writer's checkpoints and serve's
		// rebuilds, as a browser's reloads are.
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(builds.Load()), "builds")
	_ = in.Finish(context.Background(), store.RunTotals{Complete: true})
}

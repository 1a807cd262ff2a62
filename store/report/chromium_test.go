package report

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/specter-dev/specter/capture/corpus"
	"github.com/specter-dev/specter/infer/diff"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/har"
)

// corpusSets are the corpus traffic sets the browser test reads (the
// smaller ones, to keep the test short).
var corpusSets = []string{"swagger-petstore3", "oai-uspto", "1password-connect"}

// chromium returns the headless browser, or skips.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium not installed (make deps-chromium installs Debian's)")
	return ""
}

// corpusInput analyzes the corpus sets with the specs their truth files
// name into a database, with the hostile shop traffic beside them.
func corpusInput(t *testing.T) (Input, []string) {
	t.Helper()
	var xs []*reassembly.Exchange
	var specs []*diff.Spec
	var hosts []string
	traffic := corpus.Dir(t, "corpus/traffic")
	for _, set := range corpusSets {
		dir := filepath.Join(traffic, set)
		harPath := filepath.Join(dir, "traffic.har")
		if _, err := os.Stat(harPath); err != nil {
			t.Skipf("shared corpus traffic absent (%v)", err)
		}
		got, err := har.ReadFile(harPath)
		if err != nil {
			t.Fatal(err)
		}
		xs = append(xs, got...)
		var truth struct {
			APIs []struct {
				Host     string `json:"host"`
				SpecFile string `json:"spec_file"`
			} `json:"apis"`
		}
		b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &truth); err != nil {
			t.Fatalf("%s/truth.json: %v", dir, err)
		}
		for _, a := range truth.APIs {
			s, err := diff.LoadSpec(filepath.Join(dir, a.SpecFile))
			if err != nil {
				t.Fatal(err)
			}
			s.AttachTo(a.Host)
			specs = append(specs, s)
			hosts = append(hosts, a.Host)
		}
	}
	xs = append(xs, shopTraffic()...)
	db := ingestDB(t, filepath.Join(t.TempDir(), "corpus.db"), specs, xs)
	return loadWithSpecs(t, db, specs), hosts
}

// requestLog is a loopback server of one page that records every request.
type requestLog struct {
	mu    sync.Mutex
	paths []string
}

func (l *requestLog) server(page []byte) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.paths = append(l.paths, r.Method+" "+r.URL.RequestURI())
		l.mu.Unlock()
		if r.URL.Path != "/report.html" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	}))
}

func runChromium(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-default-apps", "--disable-extensions", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.Bytes())
	}
	return out
}

func TestChromium(t *testing.T) {
	bin := chromium(t)
	in, hosts := corpusInput(t)
	d := Build(in)
	var buf bytes.Buffer
	if err := Render(&buf, d, Options{HaveSpecs: true}); err != nil {
		t.Fatal(err)
	}
	page := buf.Bytes()
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	if err := os.WriteFile(file, page, 0o600); err != nil {
		t.Fatal(err)
	}

	var log requestLog
	srv := log.server(page)
	defer srv.Close()
	dom := runChromium(t, bin, "--virtual-time-budget=3000", "--dump-dom", srv.URL+"/report.html")
	log.mu.Lock()
	fetched := append([]string(nil), log.paths...)
	log.mu.Unlock()
	if len(fetched) != 1 || fetched[0] != "GET /report.html" {
		t.Errorf("the browser fetched %q, want only the report", fetched)
	}

	// The templates rendered: every section, the tree of each corpus
	// service, the findings.
	s := string(dom)
	for _, want := range []string{`id="summary"`, `id="tree"`, `id="findings-table"`, `id="matrix"`, `id="traffic"`, `id="details"`, "<svg"} {
		if !strings.Contains(s, want) {
			t.Errorf("DOM lacks %s", want)
		}
	}
	for _, h := range hosts {
		if !strings.Contains(s, `data-service="`+h+`"`) {
			t.Errorf("DOM lacks the tree of service %s", h)
		}
	}
	if n := strings.Count(s, `class="finding"`); n != len(d.Findings) || n == 0 {
		t.Errorf("DOM has %d finding rows, the data %d", n, len(d.Findings))
	}
	// The script ran (it shows the filter), the traffic's markup did not.
	if !strings.Contains(s, `id="filter" type="search"`) || strings.Contains(s, `id="filter" type="search" placeholder="filter: service, path, method, tag…" aria-label="filter the inventory" hidden`) {
		t.Error("the page's script did not run: the filter is still hidden")
	}
	// Run, the hostile values would have set the attribute; as text they
	// only name it.
	if strings.Contains(s, "data-pwned=") {
		t.Error("markup from traffic ran: the document is marked")
	}
	for _, p := range pageProblems(t, dom) {
		t.Error("DOM: " + p)
	}

	png := filepath.Join(dir, "report.png")
	runChromium(t, bin, "--hide-scrollbars", "--window-size=1280,1800", "--screenshot="+png, "file://"+file)
	st, err := os.Stat(png)
	if err != nil || st.Size() == 0 {
		t.Fatalf("no screenshot: %v", err)
	}
	if keep := os.Getenv("SPECTER_REPORT_KEEP"); keep != "" {
		// For looking at the page: SPECTER_REPORT_KEEP=DIR keeps both files.
		for _, f := range []string{file, png} {
			b, err := os.ReadFile(f)
			if err == nil {
				err = os.WriteFile(filepath.Join(keep, filepath.Base(f)), b, 0o644)
			}
			if err != nil {
				t.Error(err)
			}
		}
	}
	t.Logf("report %d bytes, %d endpoints, %d findings; screenshot %s (%d bytes)", len(page), d.Summary.Endpoints, len(d.Findings), png, st.Size())
}

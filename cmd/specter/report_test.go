package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/specter-dev/specter/store"
)

func TestReportCmd(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "demo.db")
	const spec = "../../testdata/shop-declared.yaml"
	if _, errs, code := run(t, "analyze", "--db", db, "--spec", spec, demo); code != exitOK {
		t.Fatalf("analyze: exit %d: %s", code, errs)
	}
	fromDB, fromCaptures := filepath.Join(dir, "db.html"), filepath.Join(dir, "captures.html")
	for _, tc := range []struct {
		name  string
		args  []string
		code  int
		check func(t *testing.T, stdout, stderr string)
	}{
		{"from the database", []string{"report", "--db", db, "--spec", spec, "-o", fromDB}, exitOK, func(t *testing.T, _, stderr string) {
			page, err := os.ReadFile(fromDB)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(page), `class="finding"`) || !strings.Contains(stderr, "wrote "+fromDB) {
				t.Errorf("no findings in the report; stderr %q", stderr)
			}
		}},
		{"from captures, the same bytes", []string{"report", "--spec", spec, "-o", fromCaptures, demo}, exitOK, func(t *testing.T, _, _ string) {
			a, _ := os.ReadFile(fromDB)
			b, err := os.ReadFile(fromCaptures)
			if err != nil || string(a) != string(b) {
				t.Errorf("report from captures differs from the database's (%v)", err)
			}
		}},
		{"to standard output, with the findings analyze recorded", []string{"report", "--db", db, "-o", "-"}, exitOK, func(t *testing.T, stdout, _ string) {
			if !strings.HasPrefix(stdout, "<!DOCTYPE html>") || !strings.Contains(stdout, `class="finding"`) {
				t.Errorf("stdout: %.200q", stdout)
			}
		}},
		{"no input", []string{"report"}, exitFatal, nil},
		{"missing database", []string{"report", "--db", filepath.Join(dir, "missing.db")}, exitFatal, func(t *testing.T, _, stderr string) {
			if !strings.Contains(stderr, "missing.db") {
				t.Errorf("stderr does not name the file: %q", stderr)
			}
		}},
		{"not a capture", []string{"report", "-o", filepath.Join(dir, "x.html"), "../../go.mod"}, exitFatal, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := run(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, stderr)
			}
			if tc.check != nil {
				tc.check(t, stdout, stderr)
			}
		})
	}
}

// lockedBuffer is a writer the serve command and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var servingRe = regexp.MustCompile(`on (http://[^ ]+/)`)

// startServe runs "specter serve args..." until the test ends and returns
// its URL.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- execute(ctx, append([]string{"serve"}, args...), strings.NewReader(""), io.Discard, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("serve exited %d: %s", code, stderr.String())
		}
	})
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := servingRe.FindStringSubmatch(stderr.String()); m != nil {
			return m[1]
		}
		select {
		case code := <-done:
			done <- code
			t.Fatalf("serve exited %d: %s", code, stderr.String())
		default:
		}
	}
	t.Fatalf("serve did not start: %s", stderr.String())
	return ""
}

func get(t *testing.T, url string, hdr ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(bufio.NewReader(resp.Body))
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestServeWhileWriting serves a database a writer keeps checkpointing
// into: every request is answered, and what the writer adds shows up.
func TestServeWhileWriting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live.db")
	ctx := context.Background()
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	in, err := db.BeginRun(ctx, store.RunInfo{Interface: "test0"}, store.IngestOptions{Every: 50, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		in.Observe(sinkExchange(i, ""))
	}
	stop, written := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(written)
		for i := 100; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			x := sinkExchange(i, "")
			if i > 300 {
				x.Request.Authority = "late.example.test"
			}
			in.Observe(x)
			if i%50 == 0 {
				time.Sleep(5 * time.Millisecond)
			}
		}
	}()
	defer func() {
		close(stop)
		<-written
		if err := in.Finish(ctx, store.RunTotals{Complete: true}); err != nil {
			t.Error(err)
		}
	}()

	url := startServe(t, "--db", path, "--listen", "127.0.0.1:0", "--poll", "50ms")
	late := false
	// At least 20 requests while the writer goes on, more until the late
	// service shows.
	for i := 0; i < 20 || !late && i < 400; i++ {
		code, page := get(t, url)
		if code != http.StatusOK || !strings.Contains(page, `id="tree"`) {
			t.Fatalf("request %d: status %d, page %.300q", i, code, page)
		}
		if !strings.Contains(page, `<meta http-equiv="refresh" content="30">`) {
			t.Fatalf("request %d: the page does not reload itself", i)
		}
		late = strings.Contains(page, `data-service="late.example.test"`)
		time.Sleep(25 * time.Millisecond)
	}
	if !late {
		t.Error("the page never showed the service the writer added after serve started")
	}
	if code, _ := get(t, url+"nothing"); code != http.StatusNotFound {
		t.Errorf("GET /nothing: %d", code)
	}
}

func TestServeAuth(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	if _, errs, code := run(t, "analyze", "--db", path, demo); code != exitOK {
		t.Fatalf("analyze: %s", errs)
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"non-loopback without credentials", []string{"--listen", "0.0.0.0:0"}},
		{"empty host without credentials", []string{"--listen", ":0"}},
		{"bad basic auth", []string{"--listen", "0.0.0.0:0", "--basic-auth", "user"}},
		{"no database", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"serve"}, tc.args...)
			if tc.args != nil {
				args = append(args, "--db", path)
			}
			_, stderr, code := run(t, args...)
			if code != exitFatal || stderr == "" {
				t.Errorf("exit %d, stderr %q; want a usage error", code, stderr)
			}
		})
	}
	url := startServe(t, "--db", path, "--listen", "0.0.0.0:0", "--token", "s3cret", "--basic-auth", "ann:pw")
	url = strings.Replace(url, "0.0.0.0", "127.0.0.1", 1)
	url = strings.Replace(url, "[::]", "127.0.0.1", 1)
	for _, tc := range []struct {
		name string
		url  string
		hdr  []string
		want int
	}{
		{"none", url, nil, http.StatusUnauthorized},
		{"wrong token", url, []string{"Authorization", "Bearer nope"}, http.StatusUnauthorized},
		{"bearer", url, []string{"Authorization", "Bearer s3cret"}, http.StatusOK},
		{"query", url + "?token=s3cret", nil, http.StatusOK},
		{"basic", url, []string{"Authorization", "Basic YW5uOnB3"}, http.StatusOK},
		{"wrong basic", url, []string{"Authorization", "Basic YW5uOng="}, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, _ := get(t, tc.url, tc.hdr...); code != tc.want {
				t.Errorf("status %d, want %d", code, tc.want)
			}
		})
	}
}

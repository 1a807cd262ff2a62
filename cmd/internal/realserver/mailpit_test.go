package realserver

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"github.com/specter-dev/specter/capture/corpus"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// mailpitVersion is the Mailpit release the case builds (make
// deps-realserver): the server, its web UI and its own end-to-end suite.
const mailpitVersion = "1.33.1"

// mailpitPort is where Mailpit's own Playwright configuration starts the
// server for its default project.
const mailpitPort = 18025

// mailpitFloor is the Mailpit case's score when it was recorded.
var mailpitFloor = floor{F1: 0.872, Over: 0, PTypes: 0}

// mailpitDir finds the Mailpit build: $SPECTER_MAILPIT, or the one make
// deps-realserver builds into the user cache (the binary beside the
// module's source with its node_modules, UI build and e2e suite).
func mailpitDir(t *testing.T) string {
	t.Helper()
	d := os.Getenv("SPECTER_MAILPIT")
	if d == "" {
		home, _ := os.UserHomeDir()
		d = filepath.Join(home, ".cache", "specter", "mailpit-"+mailpitVersion)
	}
	for _, p := range []string{"mailpit", "src/node_modules/@playwright/test", "src/e2e"} {
		if _, err := os.Stat(filepath.Join(d, p)); err != nil {
			t.Skipf("no Mailpit build at %s (%v; make deps-realserver builds it)", d, err)
		}
	}
	return d
}

// TestMailpit drives a real Mailpit server with its own client, its web
// UI in headless Chromium, through Mailpit's own end-to-end suite, and
// scores the inferred spec against the spec Mailpit publishes. The
// ground truth is what tshark (not Specter) reads in the same capture.
func TestMailpit(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Mailpit's browser suite")
	}
	t.Parallel()                 // each case has its own server, port and capture
	corpus.Dir(t, "bench/score") // the scorer: skip before starting anything without it
	dir := mailpitDir(t)
	chromium := ""
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			chromium = p
			break
		}
	}
	if chromium == "" {
		t.Skip("chromium not installed (make deps-chromium installs Debian's)")
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed: it reads the ground truth")
	}
	doc, err := os.ReadFile(filepath.Join(dir, "src", "server", "ui", "api", "v1", "swagger.json"))
	if err != nil {
		t.Fatal(err)
	}
	ops, err := loadSpec(doc, "")
	if err != nil {
		t.Fatal(err)
	}
	// Mailpit's own configuration, with the browser pointed at Debian's
	// Chromium: the suite's tests and server commands are unchanged.
	conf := filepath.Join(dir, "src", "specter.playwright.config.js")
	if err := os.WriteFile(conf, []byte(`import base from "./playwright.config.js";
export default {
	...base,
	reporter: "list",
	use: {
		...base.use,
		launchOptions: {
			executablePath: process.env.SPECTER_CHROMIUM,
			args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
				"--disable-background-networking", "--disable-component-update", "--disable-sync"],
		},
	},
};
`), 0o644); err != nil {
		t.Fatal(err)
	}

	pcap, stop := tcpdump(t, mailpitPort)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npx", "playwright", "test", "--config", conf, "--project=default")
	cmd.Dir = filepath.Join(dir, "src")
	cmd.Env = append(os.Environ(), "MAILPIT_BIN="+filepath.Join(dir, "mailpit"), "SPECTER_CHROMIUM="+chromium, "CI=")
	out, err := cmd.CombinedOutput()
	stop()
	if err != nil {
		// The suite's own verdict does not decide this test: the traffic it
		// made is what is scored. Say how it went.
		t.Logf("Mailpit's e2e suite: %v\n%s", err, tail(out, 40))
	} else {
		t.Logf("Mailpit's e2e suite passed:\n%s", tail(out, 5))
	}

	reqs, err := tsharkRequests(tshark, pcap, mailpitPort)
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) == 0 {
		t.Fatalf("the capture holds no HTTP request:\n%s", tail(out, 40))
	}
	truth := filepath.Join(t.TempDir(), "truth.json")
	unrouted, err := buildTruth(truth, fmt.Sprintf("127.0.0.1:%d", mailpitPort), ops, reqs)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Mailpit: %d requests, %d not routed by the published spec: %v", len(reqs), len(unrouted), firstN(unrouted, 15))
	r, table := exportAndScore(t, pcap, truth)
	t.Logf("\n%s", table)
	checkFloor(t, "mailpit", r, mailpitFloor)
}

// tsharkRequests lists the HTTP requests of a capture with their
// response statuses, as tshark reads them (port decoded as HTTP).
func tsharkRequests(tshark, pcap string, port int) ([]sent, error) {
	out, err := exec.Command(tshark, "-r", pcap, "-d", fmt.Sprintf("tcp.port==%d,http", port), "-Y", "http",
		"-T", "fields", "-E", "separator=\t", "-e", "frame.number", "-e", "http.request.method",
		"-e", "http.request.uri", "-e", "http.response.code", "-e", "http.request_in").Output()
	if err != nil {
		return nil, fmt.Errorf("tshark -r %s: %w", pcap, err)
	}
	type req struct {
		sent
		frame int
	}
	var reqs []*req
	byFrame := map[int]*req{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		for len(f) < 5 {
			f = append(f, "")
		}
		n, _ := strconv.Atoi(f[0])
		if f[1] != "" {
			path, _, _ := strings.Cut(f[2], "?")
			r := &req{sent: sent{Method: f[1], Path: path}, frame: n}
			reqs = append(reqs, r)
			byFrame[n] = r
			continue
		}
		if f[3] != "" {
			code, _ := strconv.Atoi(strings.Split(f[3], ",")[0])
			in, _ := strconv.Atoi(strings.Split(f[4], ",")[0])
			if r := byFrame[in]; r != nil {
				r.Status = code
			}
		}
	}
	var s []sent
	for _, r := range reqs {
		s = append(s, r.sent)
	}
	return s, sc.Err()
}

// tail returns the last n lines of b.
func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

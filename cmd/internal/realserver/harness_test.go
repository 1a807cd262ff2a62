package realserver

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/specter-dev/specter/capture/corpus"
)

// freePort returns a loopback TCP port nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitHTTP waits until addr accepts TCP connections.
func waitHTTP(t *testing.T, addr string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: nothing listening after %v", addr, d)
}

// tcpdump captures loopback TCP traffic on port into a pcap file until
// the returned stop is called; it skips the test when tcpdump is absent
// (make deps-tcpdump installs it).
func tcpdump(t *testing.T, port int) (pcap string, stop func()) {
	t.Helper()
	bin, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Skip("tcpdump not installed (make deps-tcpdump)")
	}
	if os.Geteuid() != 0 {
		t.Skip("capturing loopback needs root")
	}
	pcap = filepath.Join(t.TempDir(), "capture.pcap")
	cmd := exec.Command(bin, "-i", "lo", "-U", "-s", "0", "-w", pcap, fmt.Sprintf("tcp port %d", port))
	errp, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(errp)
		once := false
		for sc.Scan() {
			if !once && strings.Contains(sc.Text(), "listening on") {
				close(ready)
				once = true
			}
		}
		if !once {
			close(ready)
		}
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("tcpdump did not start")
	}
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		// Let the last segments reach the capture before stopping it.
		time.Sleep(500 * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
	}
	t.Cleanup(stop)
	return pcap, stop
}

// moduleRoot is the directory of go.mod above the test's directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

// buildGo builds the main package pkg (a directory) into a temporary
// binary named name.
func buildGo(t *testing.T, dir, pkg, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// exportAndScore runs the real specter binary's export on pcap and scores
// the document against truth with the shared benchmark's scorer (skipping
// when ../shared is absent). It returns the report and the scorer's table.
func exportAndScore(t *testing.T, pcap, truth string) (corpus.Score, string) {
	t.Helper()
	root := moduleRoot(t)
	scorer := corpus.Scorer(t)
	specter := buildGo(t, root, "./cmd/specter", "specter")
	out := filepath.Join(t.TempDir(), "inferred.yaml")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if b, err := exec.CommandContext(ctx, specter, "export", "-o", out, pcap).CombinedOutput(); err != nil {
		t.Fatalf("specter export: %v\n%s", err, b)
	}
	r := corpus.ScoreSpec(t, scorer, truth, out)
	table, _ := exec.Command(scorer, truth, out).CombinedOutput()
	if keep := os.Getenv("SPECTER_REALSERVER_OUT"); keep != "" {
		// For working on a case: the capture, the truth and the export.
		dst := filepath.Join(keep, t.Name())
		if err := os.MkdirAll(dst, 0o755); err == nil {
			for _, f := range []string{pcap, truth, out} {
				if b, err := os.ReadFile(f); err == nil {
					_ = os.WriteFile(filepath.Join(dst, filepath.Base(f)), b, 0o644)
				}
			}
			t.Logf("kept the capture, truth and export in %s", dst)
		}
	}
	return r, string(table)
}

// floor is a case's recorded score: the test fails when the case does
// worse, and says so when it does better (tighten the floor then).
type floor struct {
	F1     float64
	Over   int
	PTypes float64
}

func checkFloor(t *testing.T, name string, r corpus.Score, f floor) {
	t.Helper()
	t.Logf("%s: endpoint F1 %.3f (tp %d fp %d fn %d), over-merged %d, path-param types %.3f over %d",
		name, r.Endpoints.F1, r.Endpoints.TP, r.Endpoints.FP, r.Endpoints.FN, r.OverMerged, r.ParamTypes.Accuracy, r.ParamTypes.Compared)
	if r.Endpoints.F1 < f.F1-0.0005 {
		t.Errorf("%s: endpoint F1 %.3f < floor %.3f; missed %v; spurious %v", name, r.Endpoints.F1, f.F1, r.Missed, r.Spurious)
	}
	if r.OverMerged > f.Over {
		t.Errorf("%s: %d over-merged (floor %d): %v", name, r.OverMerged, f.Over, r.OverList)
	}
	if r.ParamTypes.Compared > 0 && r.ParamTypes.Accuracy < f.PTypes-0.0005 {
		t.Errorf("%s: path-param type accuracy %.3f < floor %.3f", name, r.ParamTypes.Accuracy, f.PTypes)
	}
	if r.Endpoints.F1 > f.F1+0.0005 || r.OverMerged < f.Over || r.ParamTypes.Accuracy > f.PTypes+0.0005 {
		t.Logf("%s: better than its floor: tighten it", name)
	}
}

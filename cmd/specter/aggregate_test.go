package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/specter-dev/specter/capture/synth"
	"github.com/specter-dev/specter/store"
	"github.com/specter-dev/specter/store/fleet"
	"github.com/specter-dev/specter/store/fleet/fleettest"
)

// fleetCaptures returns three different captures: public traffic sets of
// ../shared when present, else synthetic ones.
func fleetCaptures(t *testing.T) []string {
	sets := []string{"discourse", "spotify", "swagger-petstore3"}
	var out []string
	for _, s := range sets {
		p := filepath.Join("..", "..", "..", "shared", "corpus", "traffic", s, "traffic.pcap")
		if _, err := os.Stat(p); err != nil {
			out = nil
			break
		}
		out = append(out, p)
	}
	if out != nil {
		return out
	}
	t.Log("../shared/corpus/traffic absent: synthetic captures instead")
	dir := t.TempDir()
	for i := range 3 {
		p := filepath.Join(dir, fmt.Sprintf("synth-%d.pcap", i))
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		cfg := synth.DefaultConfig()
		cfg.Seed, cfg.TargetBytes = int64(i+1), 2<<20
		if _, err := synth.Write(f, cfg); err != nil {
			t.Fatal(err)
		}
		f.Close()
		out = append(out, p)
	}
	return out
}

func loopbackPort(t *testing.T) int { return loopbackPortTB(t) }

func loopbackPortTB(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// natsServers start a JetStream server on a port, two ways.
var natsServers = []struct {
	name  string
	start func(t *testing.T, dir string, port int)
}{
	{"embedded", func(t *testing.T, dir string, port int) { fleettest.Start(t, dir, port) }},
	{"nats-server binary", func(t *testing.T, dir string, port int) {
		bin, err := exec.LookPath("nats-server")
		if err != nil {
			t.Skip("no nats-server on PATH (make deps-nats installs Debian's)")
		}
		cmd := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-sd", dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
				c.Close()
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("nats-server binary not listening")
			}
		}
	}},
}

// appliedDeltas sums the deltas the database applied, 0 while it has none.
func appliedDeltas(db string) uint64 {
	s, err := store.Open(context.Background(), db, store.Options{ReadOnly: true})
	if err != nil {
		return 0
	}
	defer s.Close()
	ss, err := s.Sensors(context.Background())
	if err != nil {
		return 0
	}
	var n uint64
	for _, x := range ss {
		n += x.Deltas
	}
	return n
}

var publishedRe = regexp.MustCompile(`published (\d+) deltas .*: (\d+) sent, (\d+) waiting`)

// TestFleetAggregate: three sensors (real specter processes) publish three
// captures concurrently while the aggregator is SIGKILLed mid-stream and
// restarted; the central inventory equals analyze --db of the three
// captures together.
func TestFleetAggregate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs processes")
	}
	bin := buildSpecter(t)
	caps := fleetCaptures(t)
	ref := filepath.Join(t.TempDir(), "ref.db")
	if out, err := exec.Command(bin, append([]string{"analyze", "--db", ref}, caps...)...).CombinedOutput(); err != nil {
		t.Fatalf("reference: %v\n%s", err, out)
	}
	want, err := json.MarshalIndent(dbEndpoints(t, ref), "", " ")
	if err != nil {
		t.Fatal(err)
	}
	for _, srv := range natsServers {
		t.Run(srv.name, func(t *testing.T) {
			dir := t.TempDir()
			port := loopbackPort(t)
			srv.start(t, filepath.Join(dir, "js"), port)
			url := fmt.Sprintf("nats://127.0.0.1:%d", port)
			central := filepath.Join(dir, "central.db")
			// Each aggregator's stderr goes to a file the test reads too.
			aggregate := func(name string) (*exec.Cmd, string) {
				log := filepath.Join(dir, name+".log")
				f, err := os.Create(log)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				c := exec.Command(bin, "aggregate", "--from", url, "--db", central, "--ack-wait", "2s",
					"--lease-ttl", "1s", "--aggregator-id", name)
				c.Stderr = f
				if err := c.Start(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					if b, err := os.ReadFile(log); err == nil {
						t.Logf("%s:\n%s", name, b)
					}
				})
				return c, log
			}
			logHas := func(log, s string) bool { b, _ := os.ReadFile(log); return strings.Contains(string(b), s) }
			a1, log1 := aggregate("agg1")
			defer a1.Process.Kill()
			waitUntil(t, "agg1 active", func() bool { return logHas(log1, "aggregator agg1 active") })
			// A second aggregator on the same consumer and database file
			// stands by until agg1 is killed.
			a2, log2 := aggregate("agg2")
			defer a2.Process.Kill()
			waitUntil(t, "agg2 standby", func() bool { return logHas(log2, "aggregator agg2 standby: held by agg1") })
			// The aggregator creates the stream; sensors would spool until then.
			nc, err := nats.Connect(url)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			js, _ := jetstream.New(nc)
			waitUntil(t, "the stream", func() bool { _, err := js.Stream(context.Background(), fleet.DefaultStream); return err == nil })

			var wg sync.WaitGroup
			var published [3]uint64
			for i, c := range caps {
				wg.Go(func() {
					var stderr bytes.Buffer
					cmd := exec.Command(bin, "analyze", "--publish", url, "--sensor-state", filepath.Join(dir, fmt.Sprint("sensor", i)),
						"--checkpoint-every", "25", c)
					cmd.Stderr = &stderr
					if err := cmd.Run(); err != nil {
						t.Errorf("sensor %d: %v\n%s", i, err, stderr.String())
						return
					}
					m := publishedRe.FindStringSubmatch(stderr.String())
					if m == nil || m[3] != "0" || m[1] != m[2] {
						t.Errorf("sensor %d did not send everything: %s", i, stderr.String())
						return
					}
					published[i], _ = strconv.ParseUint(m[1], 10, 64)
				})
			}
			waitUntil(t, "deltas applied", func() bool { return appliedDeltas(central) >= 3 })
			if err := a1.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			a1.Wait()
			atKill := appliedDeltas(central)
			wg.Wait()
			if t.Failed() {
				return
			}
			total := published[0] + published[1] + published[2]
			if atKill >= total {
				t.Fatalf("the aggregator was killed after the last delta (%d of %d): not mid-stream", atKill, total)
			}
			waitUntil(t, "every delta applied", func() bool { return appliedDeltas(central) >= total })
			if !logHas(log2, "aggregator agg2 active") {
				t.Error("agg2 applied deltas without logging that it holds the lease")
			}
			a2.Process.Signal(os.Interrupt)
			if err := a2.Wait(); err != nil {
				t.Errorf("aggregator after SIGINT: %v", err)
			}
			if got := appliedDeltas(central); got != total {
				t.Errorf("applied %d deltas, the sensors sent %d", got, total)
			}
			got, err := json.MarshalIndent(dbEndpoints(t, central), "", " ")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("central inventory differs from analyze --db of the three captures:\n%s", lineDiff(string(got), string(want)))
			}
			t.Logf("%d deltas from 3 sensors, %d applied when the active aggregator was killed", total, atKill)
			out := mustRun(t, "sensors", "--db", central)
			t.Log(out)
		})
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestPublishFlags(t *testing.T) {
	dir := t.TempDir()
	url := fmt.Sprintf("nats://127.0.0.1:%d", loopbackPort(t)) // nothing listens
	state := filepath.Join(dir, "state")
	tests := []struct {
		name string
		args []string
		code int
		hint string
	}{
		{"endpoints without db", []string{"analyze", "--publish", url, "--endpoints", demo}, exitFatal, "drop --endpoints or add --db"},
		{"bad sensor id", []string{"analyze", "--publish", url, "--sensor-id", "a.b", demo}, exitFatal, "--sensor-id"},
		{"bad spool limit", []string{"analyze", "--publish", url, "--spool-limit-mb", "0", demo}, exitFatal, "--spool-limit-mb"},
		{"missing creds", []string{"analyze", "--publish", url, "--nats-creds", filepath.Join(dir, "none.creds"), demo}, exitFatal, "--nats-creds"},
		{"cert without key", []string{"analyze", "--publish", url, "--nats-tls-cert", demo, demo}, exitFatal, "go together"},
		{"aggregate without db", []string{"aggregate", "--from", url}, exitFatal, "--db"},
		// The server is away: the run succeeds, its delta waits in the spool.
		{"server away", []string{"analyze", "--publish", url, "--sensor-state", state, "--publish-timeout", "300ms", demo}, exitOK, "1 waiting in the spool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs, code := run(t, tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.hint) {
				t.Errorf("exit %d (want %d), stderr %q, want a mention of %q", code, tt.code, errs, tt.hint)
			}
		})
	}
	es, err := os.ReadDir(filepath.Join(state, "spool"))
	if err != nil || len(es) != 1 {
		t.Errorf("spool after a run with the server away: %v, %v", es, err)
	}
}

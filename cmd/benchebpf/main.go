//go:build linux

// Command benchebpf measures the overhead of package bpf's tracer: the
// requests/s wrk reaches against a loopback Go net/http server with and
// without the tracer attached, and the share of wrk's requests whose bytes
// the tracer captured on the server side.
//
// Usage (as root):
//
//	benchebpf [-duration 5s] [-rounds 3] [-conns 32] [-threads 2] [-ring bytes] [-server-only] [-split] [-specter BIN]
//
// The server runs in a child process (this program re-executed with -serve)
// so that the tracer, which ignores its own process, sees it. The tracer
// runs unfiltered, as `specter capture --ebpf` does by default: its programs
// run for every process on the host, wrk included; -server-only filters on
// the server's pid, as `--pid` would. Besides requests/s, which the other
// load of a shared machine makes noisy, it reports the CPU time per request
// of the server and wrk (the eBPF programs run in their context) and of the
// reader, which is steadier.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"github.com/specter-dev/specter/bpf"
	"golang.org/x/sys/unix"
)

func main() {
	serve := flag.Bool("serve", false, "run the HTTP server (internal)")
	duration := flag.Duration("duration", 5*time.Second, "length of each wrk run")
	rounds := flag.Int("rounds", 3, "runs with and without the tracer, alternated")
	conns := flag.Int("conns", 32, "wrk connections")
	threads := flag.Int("threads", 2, "wrk threads")
	ring := flag.Int("ring", bpf.DefaultRingSize, "ring buffer size in bytes")
	serverOnly := flag.Bool("server-only", false, "trace only the server's pid (as --pid would), not every process")
	specter := flag.String("specter", "", "attach `specter capture --ebpf` (this binary) instead of a bare tracer with a counting reader")
	split := flag.Bool("split", false, "pin the server and wrk to CPU 0 and the tracer's reader (or specter) to CPU 1, as a sensor with its own CPU budget")
	stats := flag.Bool("stats", false, "with the bare tracer: enable the kernel's BPF run-time statistics and report them per program (they slow every run)")
	micro := flag.Int("micro", 0, "instead of wrk: time this many write+read pairs of 100 bytes over loopback TCP in one thread, with and without the tracer")
	pingpong := flag.Int("pingpong", 0, "run the -micro loop (internal)")
	flag.Parse()
	if *pingpong > 0 {
		if err := runPingPong(*pingpong); err != nil {
			fmt.Fprintln(os.Stderr, "benchebpf pingpong:", err)
			os.Exit(1)
		}
		return
	}
	if *micro > 0 {
		if err := runMicro(*micro, *rounds, *ring); err != nil {
			fmt.Fprintln(os.Stderr, "benchebpf:", err)
			os.Exit(1)
		}
		return
	}
	if *serve {
		if err := runServer(); err != nil {
			fmt.Fprintln(os.Stderr, "benchebpf server:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*duration, *rounds, *conns, *threads, *ring, *serverOnly, *specter, *split, *stats); err != nil {
		fmt.Fprintln(os.Stderr, "benchebpf:", err)
		os.Exit(1)
	}
}

// runServer serves a small JSON API on a loopback port it prints.
func runServer() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	body := []byte(`{"id":1,"name":"widget","tags":["a","b"],"price":9.5}`)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	return http.Serve(ln, mux)
}

type result struct {
	rps      float64
	requests int
	cpu      time.Duration // wrk's user+system time
}

var (
	reqRe = regexp.MustCompile(`(\d+) requests in`)
	rpsRe = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
)

// pinned prefixes a command with taskset -c cpu when cpu >= 0.
func pinned(cpu int, name string, args ...string) *exec.Cmd {
	if cpu < 0 {
		return exec.Command(name, args...)
	}
	return exec.Command("taskset", append([]string{"-c", strconv.Itoa(cpu), name}, args...)...)
}

func wrk(onCPU int, path string, port, conns, threads int, d time.Duration) (result, *exec.Cmd, error) {
	cmd := pinned(onCPU, path, "-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns), "-d", fmt.Sprintf("%ds", int(d.Seconds())),
		fmt.Sprintf("http://127.0.0.1:%d/api/items/42", port))
	out, err := cmd.Output()
	if err != nil {
		return result{}, cmd, fmt.Errorf("wrk: %w", err)
	}
	m1, m2 := reqRe.FindSubmatch(out), rpsRe.FindSubmatch(out)
	if m1 == nil || m2 == nil {
		return result{}, cmd, fmt.Errorf("wrk output not understood: %q", out)
	}
	n, _ := strconv.Atoi(string(m1[1]))
	rps, _ := strconv.ParseFloat(string(m2[1]), 64)
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return result{rps: rps, requests: n, cpu: cpu}, cmd, nil
}

// counter counts request lines in the server's ingress and responses in its
// egress, across chunk boundaries (one small tail per connection).
type counter struct {
	mu        sync.Mutex
	serverPID uint32
	tails     map[[2]uint64][]byte
	requests  int
	responses int
	chunks    int
}

var (
	reqPat  = []byte("GET /api/items/")
	respPat = []byte("HTTP/1.1 200 OK")
)

func (c *counter) add(ch bpf.Chunk) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch.PID != c.serverPID {
		return
	}
	key := [2]uint64{uint64(ch.Conn), uint64(ch.Dir)}
	if ch.Kind == bpf.KindClose {
		delete(c.tails, key)
		delete(c.tails, [2]uint64{uint64(ch.Conn), uint64(1 - ch.Dir)})
		return
	}
	if ch.Kind != bpf.KindData {
		return
	}
	c.chunks++
	pat := reqPat
	if ch.Dir == bpf.Egress {
		pat = respPat
	}
	buf := append(c.tails[key], ch.Data...)
	n := bytes.Count(buf, pat)
	if ch.Dir == bpf.Egress {
		c.responses += n
	} else {
		c.requests += n
	}
	keep := min(len(buf), len(pat)-1)
	// A pattern split across chunks is counted when its end arrives; the
	// tail cannot hold a whole pattern, so none is counted twice.
	c.tails[key] = append(c.tails[key][:0], buf[len(buf)-keep:]...)
}

func run(d time.Duration, rounds, conns, threads, ring int, serverOnly bool, specter string, split, stats bool) error {
	if os.Geteuid() != 0 {
		return errors.New("needs root to attach eBPF programs")
	}
	if err := bpf.Check().Err(); err != nil {
		return err
	}
	wrkPath, err := exec.LookPath("wrk")
	if err != nil {
		return errors.New("wrk not found (apt-get install wrk, or make bench-ebpf)")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	loadCPU, tracerCPU := -1, -1
	if split {
		if _, err := exec.LookPath("taskset"); err != nil {
			return errors.New("-split needs taskset (util-linux)")
		}
		loadCPU, tracerCPU = 0, 1
		// The reader is this process; specter is pinned when started.
		var set unix.CPUSet
		set.Set(tracerCPU)
		runtime.LockOSThread()
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			return fmt.Errorf("pinning the reader: %w", err)
		}
	}
	srv := pinned(loadCPU, self, "-serve")
	srv.Stderr = os.Stderr
	out, err := srv.StdoutPipe()
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return fmt.Errorf("server port: %w", err)
	}
	port, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return fmt.Errorf("server port %q: %w", line, err)
	}
	scope := "every process (no filter)"
	if serverOnly {
		scope = "the server's pid only"
	}
	pin := "all share both CPUs"
	if split {
		pin = "server and wrk pinned to CPU 0, the tracer's reader to CPU 1"
	}
	fmt.Printf("wrk -t%d -c%d -d%s against a Go net/http server on 127.0.0.1:%d, %d rounds; tracing %s; %s\n", threads, conns, d, port, rounds, scope, pin)
	if specter != "" {
		return runSpecter(specter, wrkPath, srv.Process.Pid, port, d, rounds, conns, threads, loadCPU, tracerCPU, serverOnly)
	}

	var base, traced []float64
	var baseCPU, tracedCPU, readerCPU, bpfTime, baseN, tracedN float64
	// With -stats the kernel accounts the programs' run time: two clock
	// reads per run, which cost ~200 ns a run on a VM whose clock is slow to
	// read, so the throughput figures are taken without.
	if stats {
		c, err := ebpf.EnableStats(unix.BPF_STATS_RUN_TIME)
		if err != nil {
			return fmt.Errorf("enabling BPF statistics: %w", err)
		}
		defer c.Close()
	}
	var totalReq, capReq, capResp, lost int
	perProg := make(map[string]bpf.ProgramStat)
	for r := 0; r < rounds; r++ {
		s0 := procCPU(srv.Process.Pid)
		b, _, err := wrk(loadCPU, wrkPath, port, conns, threads, d)
		if err != nil {
			return err
		}
		base = append(base, b.rps)
		baseCPU += (procCPU(srv.Process.Pid) - s0 + b.cpu).Seconds()
		baseN += float64(b.requests)

		opts := bpf.Options{RingSize: ring, NoTLS: true}
		if serverOnly {
			opts.PID = uint32(srv.Process.Pid)
		}
		tr, err := bpf.Open(context.Background(), opts)
		if err != nil {
			return err
		}
		cnt := &counter{serverPID: uint32(srv.Process.Pid), tails: make(map[[2]uint64][]byte)}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				ch, err := tr.Read()
				if err != nil {
					return
				}
				cnt.add(ch)
			}
		}()
		s0, r0 := procCPU(srv.Process.Pid), selfCPU()
		t, _, err := wrk(loadCPU, wrkPath, port, conns, threads, d)
		if err != nil {
			tr.Close()
			return err
		}
		tracedCPU += (procCPU(srv.Process.Pid) - s0 + t.cpu).Seconds()
		readerCPU += (selfCPU() - r0).Seconds()
		tracedN += float64(t.requests)
		// Let the reader drain what the kernel has already written.
		for prev := -1; ; {
			time.Sleep(300 * time.Millisecond)
			cnt.mu.Lock()
			n := cnt.chunks
			cnt.mu.Unlock()
			if n == prev {
				break
			}
			prev = n
		}
		st := tr.Stats()
		var progTime time.Duration
		for _, ps := range tr.ProgramStats() {
			progTime += ps.Runtime
		}
		addProgs(perProg, tr)
		bpfTime += progTime.Seconds()
		tr.Close()
		<-done
		traced = append(traced, t.rps)
		totalReq += t.requests
		capReq += cnt.requests
		capResp += cnt.responses
		lost += int(st.Lost)
		fmt.Printf("round %d: %9.0f req/s without, %9.0f req/s with the tracer; wrk completed %d requests, tracer saw %d requests and %d responses on the server, %d records lost\n",
			r+1, b.rps, t.rps, t.requests, cnt.requests, cnt.responses, st.Lost)
	}
	mb, mt := median(base), median(traced)
	fmt.Printf("median: %.0f req/s without, %.0f req/s with the tracer: %.1f%% throughput loss (median of the rounds' own losses: %s)\n", mb, mt, 100*(mb-mt)/mb, lossInterval(base, traced))
	fmt.Printf("CPU per request (server + wrk, which run the eBPF programs): %.1f µs without, %.1f µs with the tracer (+%.1f%%); the reader: %.1f µs more\n",
		1e6*baseCPU/baseN, 1e6*tracedCPU/tracedN, 100*(tracedCPU/tracedN-baseCPU/baseN)/(baseCPU/baseN), 1e6*readerCPU/tracedN)
	if stats {
		fmt.Printf("eBPF programs (every hooked call on the host, filtered or not): %.1f µs of run time per request\n", 1e6*bpfTime/tracedN)
		printProgs(perProg, tracedN, "request")
	}
	fmt.Printf("captured: %d of %d requests wrk completed (%.2f%%; wrk does not count the up to %d requests in flight when it stops), %d responses, %d records lost\n",
		capReq, totalReq, 100*float64(capReq)/float64(totalReq), conns, capResp, lost)
	return nil
}

// procCPU is a process's user+system time from /proc/PID/stat.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	// USER_HZ is 100 on every Linux architecture Go supports.
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// selfCPU is this process's user+system time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// lossInterval formats the median of the rounds' own losses, in percent,
// with a 90% bootstrap interval (rounds resampled with a fixed seed): pairs
// measured minutes apart on a machine whose speed drifts ±15% are compared
// within their round, and the interval says how far the median holds.
func lossInterval(base, traced []float64) string {
	loss := make([]float64, len(base))
	for i := range base {
		loss[i] = 100 * (base[i] - traced[i]) / base[i]
	}
	if len(loss) < 3 {
		return fmt.Sprintf("%.1f%%", median(loss))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	meds := make([]float64, 2000)
	sample := make([]float64, len(loss))
	for i := range meds {
		for j := range sample {
			sample[j] = loss[rng.IntN(len(loss))]
		}
		meds[i] = median(sample)
	}
	slices.Sort(meds)
	return fmt.Sprintf("%.1f%%, 90%% interval %.1f%% to %.1f%%", median(loss), meds[len(meds)*5/100], meds[len(meds)*95/100])
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// runPingPong writes 100 bytes on one end of a loopback TCP connection and
// reads them on the other, n times, in one locked thread with raw syscalls,
// and prints the nanoseconds per pair.
func runPingPong(n int) error {
	runtime.LockOSThread()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return err
	}
	s, err := ln.Accept()
	if err != nil {
		return err
	}
	// The sockets' own fds, not dups, so the tracer knows which end
	// connected.
	fdOf := func(conn net.Conn) (int, error) {
		rc, err := conn.(*net.TCPConn).SyscallConn()
		if err != nil {
			return 0, err
		}
		var fd int
		err = rc.Control(func(f uintptr) { fd = int(f) })
		return fd, err
	}
	cfd, err := fdOf(c)
	if err != nil {
		return err
	}
	sfd, err := fdOf(s)
	if err != nil {
		return err
	}
	if err := unix.SetNonblock(sfd, false); err != nil {
		return err
	}
	msg := bytes.Repeat([]byte("x"), 100)
	buf := make([]byte, 4096)
	start := time.Now()
	for i := 0; i < n; i++ {
		if _, err := unix.Write(cfd, msg); err != nil {
			return err
		}
		for got := 0; got < len(msg); {
			k, err := unix.Read(sfd, buf)
			if err != nil {
				return err
			}
			got += k
		}
	}
	fmt.Println(time.Since(start).Nanoseconds() / int64(n))
	return nil
}

// runMicro times the ping-pong loop in a child process, alternately without
// and with the tracer (unfiltered), and prints the median cost the tracer
// adds to one write+read pair.
func runMicro(n, rounds, ring int) error {
	if os.Geteuid() != 0 {
		return errors.New("needs root to attach eBPF programs")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	pair := func() (float64, error) {
		out, err := exec.Command(self, "-pingpong", strconv.Itoa(n)).Output()
		if err != nil {
			return 0, fmt.Errorf("pingpong: %w", err)
		}
		return strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	}
	var base, traced, progNS []float64
	progs := make(map[string]bpf.ProgramStat)
	if c, err := ebpf.EnableStats(unix.BPF_STATS_RUN_TIME); err == nil {
		defer c.Close()
	}
	for r := 0; r < rounds; r++ {
		b, err := pair()
		if err != nil {
			return err
		}
		tr, err := bpf.Open(context.Background(), bpf.Options{RingSize: ring})
		if err != nil {
			return err
		}
		go func() {
			for {
				if _, err := tr.Read(); err != nil {
					return
				}
			}
		}()
		t, err := pair()
		var run time.Duration
		for _, ps := range tr.ProgramStats() {
			run += ps.Runtime
		}
		addProgs(progs, tr)
		progNS = append(progNS, float64(run.Nanoseconds())/float64(n))
		tr.Close()
		if err != nil {
			return err
		}
		base = append(base, b)
		traced = append(traced, t)
		fmt.Printf("round %d: %.0f ns without, %.0f ns with the tracer per write+read pair\n", r+1, b, t)
	}
	mb, mt := median(base), median(traced)
	fmt.Printf("median: %.0f ns without, %.0f ns with the tracer: +%.0f ns per write+read pair; eBPF run time %.0f ns per pair\n", mb, mt, mt-mb, median(progNS))
	printProgs(progs, float64(n*rounds), "pair")
	return nil
}

// addProgs adds the tracer's per-program statistics to acc.
func addProgs(acc map[string]bpf.ProgramStat, tr *bpf.Tracer) {
	for _, ps := range tr.ProgramStats() {
		pr := acc[ps.Name]
		pr.Runs += ps.Runs
		pr.Runtime += ps.Runtime
		acc[ps.Name] = pr
	}
}

// printProgs prints how often each program ran per unit of work and how
// long each run took on average.
func printProgs(progs map[string]bpf.ProgramStat, units float64, unit string) {
	names := make([]string, 0, len(progs))
	for n := range progs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if ps := progs[n]; ps.Runs > 0 {
			fmt.Printf("  %-22s %6.2f runs/%s, %5.0f ns/run\n", n, float64(ps.Runs)/units, unit, float64(ps.Runtime.Nanoseconds())/float64(ps.Runs))
		}
	}
}

// runSpecter measures wrk without and with `specter capture --ebpf`
// attached: the product's whole pipeline (reader, HTTP parsing, inference),
// not a bare tracer. Specter's exchanges, from its JSON summary, give the
// share captured.
func runSpecter(bin, wrkPath string, srvPID, port int, d time.Duration, rounds, conns, threads, loadCPU, tracerCPU int, serverOnly bool) error {
	var base, traced []float64
	var total, captured, lost uint64
	var specCPU, tracedN, baseN, baseLoad, tracedLoad float64
	without := func() (result, error) {
		s0 := procCPU(srvPID)
		b, _, err := wrk(loadCPU, wrkPath, port, conns, threads, d)
		if err != nil {
			return b, err
		}
		baseLoad += (procCPU(srvPID) - s0 + b.cpu).Seconds()
		baseN += float64(b.requests)
		return b, nil
	}
	type summary struct {
		Exchanges   uint64 `json:"exchanges"`
		KernelDrops uint64 `json:"kernel_drops"`
	}
	with := func() (result, summary, error) {
		var sum summary
		args := []string{"capture", "--ebpf", "--json"}
		if serverOnly {
			args = append(args, "--pid", strconv.Itoa(srvPID))
		}
		sp := pinned(tracerCPU, bin, args...)
		var out bytes.Buffer
		sp.Stdout = &out
		logs, err := sp.StderrPipe()
		if err != nil {
			return result{}, sum, err
		}
		if err := sp.Start(); err != nil {
			return result{}, sum, fmt.Errorf("starting %s: %w", bin, err)
		}
		ready := make(chan error, 1)
		go func() {
			sc := bufio.NewScanner(logs)
			sent := false
			for sc.Scan() {
				if !sent && strings.Contains(sc.Text(), "tracing with eBPF") {
					ready <- nil
					sent = true
				}
			}
			if !sent {
				ready <- errors.New("specter exited before tracing")
			}
		}()
		select {
		case err := <-ready:
			if err != nil {
				sp.Wait()
				return result{}, sum, err
			}
		case <-time.After(30 * time.Second):
			sp.Process.Kill()
			sp.Wait()
			return result{}, sum, errors.New("specter did not start tracing within 30s")
		}
		c0, s0 := procCPU(sp.Process.Pid), procCPU(srvPID)
		t, _, err := wrk(loadCPU, wrkPath, port, conns, threads, d)
		if err != nil {
			sp.Process.Kill()
			sp.Wait()
			return t, sum, err
		}
		tracedLoad += (procCPU(srvPID) - s0 + t.cpu).Seconds()
		// While wrk ran: start-up (BTF, libssl search) is not per request.
		specCPU += (procCPU(sp.Process.Pid) - c0).Seconds()
		sp.Process.Signal(syscall.SIGINT)
		if err := sp.Wait(); err != nil {
			return t, sum, fmt.Errorf("specter: %w", err)
		}
		if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
			return t, sum, fmt.Errorf("specter's summary %q: %w", out.String(), err)
		}
		tracedN += float64(t.requests)
		return t, sum, nil
	}
	for r := 0; r < rounds; r++ {
		// Odd rounds measure with specter first: the machine's speed drifts,
		// and one fixed order would bias every pair the same way.
		var b, t result
		var sum summary
		var err error
		if r%2 == 0 {
			if b, err = without(); err == nil {
				t, sum, err = with()
			}
		} else {
			if t, sum, err = with(); err == nil {
				b, err = without()
			}
		}
		if err != nil {
			return err
		}
		base = append(base, b.rps)
		traced = append(traced, t.rps)
		total += uint64(t.requests)
		captured += sum.Exchanges
		lost += sum.KernelDrops
		fmt.Printf("round %d: %9.0f req/s without, %9.0f req/s with specter capture --ebpf; wrk completed %d requests, specter recorded %d exchanges, %d records lost\n",
			r+1, b.rps, t.rps, t.requests, sum.Exchanges, sum.KernelDrops)
	}
	mb, mt := median(base), median(traced)
	fmt.Printf("median: %.0f req/s without, %.0f req/s with specter capture --ebpf: %.1f%% throughput loss (median of the rounds' own losses: %s)\n", mb, mt, 100*(mb-mt)/mb, lossInterval(base, traced))
	fmt.Printf("CPU per request of the server and wrk, in whose context the eBPF programs run: %.1f µs without, %.1f µs with (%+.1f%%)\n",
		1e6*baseLoad/baseN, 1e6*tracedLoad/tracedN, 100*(tracedLoad/tracedN-baseLoad/baseN)/(baseLoad/baseN))
	fmt.Printf("specter's own CPU while wrk ran (reader, parsing, inference): %.1f µs per request\n", 1e6*specCPU/tracedN)
	fmt.Printf("captured: %d exchanges of %d requests wrk completed (%.2f%%; wrk does not count the up to %d requests in flight when it stops), %d records lost\n",
		captured, total, 100*float64(captured)/float64(total), conns, lost)
	return nil
}

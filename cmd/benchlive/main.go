// Command benchlive is the live-capture soak benchmark behind
// `make bench-live`. It generates a synthetic capture of keep-alive JSON API
// traffic (never committed), creates a network namespace with a veth pair,
// and for each rate replays the capture into the namespace end with
// `tcpreplay --mbps R` in a loop while a live.Source, the decoder and the
// reassembly pipeline run in this process on the other end. Per rate it
// reports the rate tcpreplay achieved, kernel drops, our own drops, the
// process's CPU use and its RSS after one minute and at the end; and the
// highest rate with zero kernel drops.
//
//	benchlive [-size 200] [-rates 200,500,1000,2000] [-dur 30s] [-ring 512] [-workers 1]
//	benchlive -rates 1000 -dur 10m      # the soak: is RSS flat?
//	benchlive -pcap big-frames.pcap     # any capture instead of the synthetic one
//
// It needs root, ip and tcpreplay, and removes what it creates.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/specter-dev/specter/capture"
	"github.com/specter-dev/specter/capture/live"
	"github.com/specter-dev/specter/capture/synth"
	"github.com/specter-dev/specter/cmd/internal/pipeline"
	"github.com/specter-dev/specter/reassembly"
)

type result struct {
	RateMbps      int     `json:"rate_mbps"`
	AchievedMbps  float64 `json:"achieved_mbps"`
	Seconds       float64 `json:"seconds"`
	Sent          uint64  `json:"sent_packets"`
	Captured      uint64  `json:"captured_packets"`
	KernelDrops   uint64  `json:"kernel_drops"`
	KernelFreezes uint64  `json:"kernel_freezes"`
	OurDrops      uint64  `json:"our_drops"` // dedup drops + IP fragments dropped by a bound
	DecodeErrors  uint64  `json:"decode_errors"`
	EvictedConns  uint64  `json:"evicted_conns"` // connections closed early by MaxConnections
	Gaps          uint64  `json:"gaps"`
	Exchanges     uint64  `json:"exchanges"`
	CPUPercent    float64 `json:"cpu_percent"`
	RSS1MinMiB    float64 `json:"rss_1min_mib"` // 0 when the run was shorter
	RSSEndMiB     float64 `json:"rss_end_mib"`
}

func main() {
	size := flag.Int("size", 200, "synthetic capture size in MB")
	rates := flag.String("rates", "200,500,1000,2000", "replay rates in Mbit/s, in order")
	dur := flag.Duration("dur", 30*time.Second, "replay time per rate (10m for the soak)")
	ring := flag.Int("ring", 512, "ring size per socket in MiB")
	workers := flag.Int("workers", 1, "sockets per interface (fanout)")
	out := flag.String("out", "bench-out", "directory for the generated capture and results")
	file := flag.String("pcap", "", "replay this capture instead of the synthetic one")
	memprofile := flag.String("memprofile", "", "write a heap profile at the end of each rate's replay to this file (rate appended)")
	flag.Parse()
	memProfile = *memprofile
	if err := run(*size, *file, *rates, *dur, *ring, *workers, *out); err != nil {
		fmt.Fprintf(os.Stderr, "benchlive: %v\n", err)
		os.Exit(1)
	}
}

func run(sizeMB int, file, rateList string, dur time.Duration, ringMB, workers int, out string) error {
	if os.Geteuid() != 0 {
		return errors.New("needs root (AF_PACKET, network namespaces)")
	}
	for _, tool := range []string{"ip", "tcpreplay"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("needs %s (make deps): %w", tool, err)
		}
	}
	var rates []int
	for _, s := range strings.Split(rateList, ",") {
		r, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || r <= 0 {
			return fmt.Errorf("bad rate %q", s)
		}
		rates = append(rates, r)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	pcap := file
	if pcap == "" {
		pcap = filepath.Join(out, fmt.Sprintf("live-synth-%dmb.pcap", sizeMB))
		if err := generate(pcap, sizeMB); err != nil {
			return err
		}
	}

	ns, host, peer, cleanup, err := makeVeth()
	if err != nil {
		return err
	}
	defer cleanup()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var results []result
	for _, rate := range rates {
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(os.Stderr, "== %d Mbit/s for %v\n", rate, dur)
		r, err := runRate(ctx, pcap, ns, host, peer, rate, dur, ringMB, workers)
		if err != nil {
			return fmt.Errorf("%d Mbit/s: %w", rate, err)
		}
		results = append(results, r)
	}

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rate Mbit/s\tachieved\tsecs\tsent\tcaptured\tkernel drops\tour drops\tdecode errs\tevicted conns\tgaps\texchanges\tCPU%\tRSS 1min MiB\tRSS end MiB\t")
	// tcpreplay may not reach the rate asked for: what counts is the rate
	// it achieved.
	best, bestAsked := 0.0, 0
	for _, r := range results {
		rss1 := "-"
		if r.RSS1MinMiB > 0 {
			rss1 = fmt.Sprintf("%.1f", r.RSS1MinMiB)
		}
		fmt.Fprintf(tw, "%d\t%.0f\t%.0f\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.0f\t%s\t%.1f\t\n", r.RateMbps, r.AchievedMbps, r.Seconds, r.Sent, r.Captured, r.KernelDrops, r.OurDrops, r.DecodeErrors, r.EvictedConns, r.Gaps, r.Exchanges, r.CPUPercent, rss1, r.RSSEndMiB)
		if r.KernelDrops == 0 && r.Captured >= r.Sent && r.AchievedMbps > best {
			best, bestAsked = r.AchievedMbps, r.RateMbps
		}
	}
	tw.Flush()
	fmt.Printf("highest rate with zero kernel drops: %.0f Mbit/s achieved (%d asked; ring %d MiB, %d socket(s))\n", best, bestAsked, ringMB, workers)
	js, _ := json.MarshalIndent(results, "", "  ")
	return os.WriteFile(filepath.Join(out, "bench-live.json"), js, 0o644)
}

// generate writes the synthetic capture unless a file of that name exists.
func generate(path string, sizeMB int) error {
	if st, err := os.Stat(path); err == nil && st.Size() > 0 {
		return nil
	}
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	cfg := synth.DefaultConfig()
	cfg.TargetBytes = int64(sizeMB) << 20
	if _, err := synth.Write(w, cfg); err != nil {
		f.Close()
		return fmt.Errorf("generating %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

func sh(args ...string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func makeVeth() (ns, host, peer string, cleanup func(), err error) {
	var rb [4]byte
	if _, err := rand.Read(rb[:]); err != nil {
		return "", "", "", nil, err
	}
	id := hex.EncodeToString(rb[:])
	ns, host, peer = "specter-bench-"+id, "spb"+id+"h", "spb"+id+"p"
	if err := sh("ip", "netns", "add", ns); err != nil {
		return "", "", "", nil, err
	}
	cleanup = func() {
		_ = sh("ip", "link", "del", host)
		_ = sh("ip", "netns", "del", ns)
	}
	for _, s := range [][]string{
		{"ip", "link", "add", host, "mtu", "65535", "type", "veth", "peer", "name", peer, "mtu", "65535"},
		{"ip", "link", "set", peer, "netns", ns},
		{"sysctl", "-qw", "net.ipv6.conf." + host + ".disable_ipv6=1"},
		{"ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf." + peer + ".disable_ipv6=1"},
		{"ip", "link", "set", host, "up"},
		{"ip", "netns", "exec", ns, "ip", "link", "set", peer, "up"},
	} {
		if err := sh(s...); err != nil {
			cleanup()
			return "", "", "", nil, err
		}
	}
	return ns, host, peer, cleanup, nil
}

var (
	reActual = regexp.MustCompile(`Actual: (\d+) packets \((\d+) bytes\) sent in ([0-9.]+) seconds`)
	reRated  = regexp.MustCompile(`Rated: [0-9.]+ Bps, ([0-9.]+) Mbps`)
)

func runRate(ctx context.Context, pcap, ns, host, peer string, rate int, dur time.Duration, ringMB, workers int) (result, error) {
	res := result{RateMbps: rate}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	src, err := live.Open(cctx, live.Options{Interfaces: []string{host}, RingSizeMB: ringMB, Workers: workers, Promisc: true})
	if err != nil {
		return res, err
	}
	defer src.Close()
	var exchanges atomic.Uint64
	dec := capture.NewDecoder(capture.DecoderOptions{})
	pipe := reassembly.New(reassembly.DefaultConfig(), func(*reassembly.Exchange) { exchanges.Add(1) })
	pumped := make(chan error, 1)
	go func() { pumped <- pipeline.Pump(cctx, src, dec, pipe, time.Second) }()

	// RSS at the one-minute mark, sampled while the replay runs.
	var rss1 atomic.Uint64
	var wg sync.WaitGroup
	sampleDone := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-time.After(time.Minute):
			rss1.Store(rssBytes())
		case <-sampleDone:
		}
	}()

	cpu0, t0 := cpuTime(), time.Now()
	secs := int(dur / time.Second)
	if secs < 1 {
		secs = 1
	}
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "tcpreplay", "-K", "--unique-ip", "--loop=1000000",
		fmt.Sprintf("--duration=%d", secs), fmt.Sprintf("--mbps=%d", rate), "-i", peer, pcap)
	outb, err := cmd.CombinedOutput()
	close(sampleDone)
	wg.Wait()
	if err != nil && ctx.Err() == nil {
		return res, fmt.Errorf("tcpreplay: %w: %s", err, outb)
	}
	text := string(outb)
	if m := reActual.FindStringSubmatch(text); m != nil {
		res.Sent, _ = strconv.ParseUint(m[1], 10, 64)
	}
	if m := reRated.FindStringSubmatch(text); m != nil {
		res.AchievedMbps, _ = strconv.ParseFloat(m[1], 64)
	}
	// Let the rings empty before stopping (what the kernel queued minus
	// what it dropped and what was read): Pump drains them anyway, this
	// keeps the CPU figure from missing the tail.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if st := src.Stats(); st.Packets+st.KernelDrops >= st.KernelPackets {
			break
		}
	}
	rssEnd := rssBytes() // before the pipeline flushes its connections
	if memProfile != "" {
		if err := writeHeap(fmt.Sprintf("%s.%d", memProfile, rate)); err != nil {
			return res, err
		}
	}
	cancel()
	if err := <-pumped; err != nil {
		return res, err
	}
	wall := time.Since(t0)
	rs := pipe.Close()
	cpu := cpuTime() - cpu0
	src.Close()
	st := src.Stats()
	ds := dec.Stats()
	res.Seconds = wall.Seconds()
	res.Captured = st.Packets
	res.KernelDrops = st.KernelDrops
	res.KernelFreezes = st.KernelFreezes
	res.OurDrops = st.Duplicates + ds.FragmentsDropped
	res.DecodeErrors = ds.Errors
	res.EvictedConns = rs.EvictedConns
	res.Gaps = rs.Gaps
	res.Exchanges = exchanges.Load()
	res.CPUPercent = 100 * cpu.Seconds() / wall.Seconds()
	res.RSS1MinMiB = float64(rss1.Load()) / (1 << 20)
	res.RSSEndMiB = float64(rssEnd) / (1 << 20)
	fmt.Fprintf(os.Stderr, "   sent %d captured %d kernel drops %d freezes %d decode errors %d evicted %d gaps %d exchanges %d cpu %.0f%%\n",
		res.Sent, res.Captured, res.KernelDrops, res.KernelFreezes, res.DecodeErrors, res.EvictedConns, res.Gaps, res.Exchanges, res.CPUPercent)
	return res, nil
}

// memProfile is the -memprofile flag, set once in main before any run.
var memProfile string

func writeHeap(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssBytes reads the resident set size from /proc/self/statm.
func rssBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

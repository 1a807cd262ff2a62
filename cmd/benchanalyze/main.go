// Command benchanalyze is the end-to-end benchmark behind `make bench`: it
// generates captures of keep-alive JSON API traffic at two sizes (never
// committed), runs `specter analyze` on each several times, and reports the
// median MB/s and exchanges/s with the peak RSS, beside tshark on the
// smaller capture.
//
//	benchanalyze -bin bin/specter -out bench-out [-sizes 100,1000] [-runs 3]
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/specter-dev/specter/capture/synth"
)

type result struct {
	Tool        string  `json:"tool"`
	CaptureMB   float64 `json:"capture_mb"`
	Exchanges   uint64  `json:"exchanges"`
	MedianSecs  float64 `json:"median_seconds"`
	MBPerSec    float64 `json:"mb_per_sec"`
	ExchPerSec  float64 `json:"exchanges_per_sec"`
	PeakRSSMiB  float64 `json:"peak_rss_mib"`
	Runs        int     `json:"runs"`
	AllSeconds  []float64
	CPUSeconds  float64 `json:"median_cpu_seconds"`
	CPUMBPerSec float64 `json:"mb_per_cpu_sec"`
}

func main() {
	bin := flag.String("bin", "bin/specter", "the specter binary")
	out := flag.String("out", "bench-out", "directory for generated captures and results")
	sizes := flag.String("sizes", "100,1000", "capture sizes in MB")
	runs := flag.Int("runs", 3, "runs per size (the median is reported)")
	tshark := flag.Bool("tshark", true, "also time tshark on the smallest capture")
	flag.Parse()
	if err := run(*bin, *out, *sizes, *runs, *tshark); err != nil {
		fmt.Fprintf(os.Stderr, "benchanalyze: %v\n", err)
		os.Exit(1)
	}
}

func run(bin, out, sizeList string, runs int, withTshark bool) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var results []result
	for i, s := range strings.Split(sizeList, ",") {
		mb, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("bad size %q", s)
		}
		path, err := ensureCapture(out, mb)
		if err != nil {
			return err
		}
		r, err := measure("specter", path, runs, bin, "analyze", "--json", path)
		if err != nil {
			return err
		}
		results = append(results, r)
		if i == 0 && withTshark {
			if _, err := exec.LookPath("tshark"); err != nil {
				fmt.Fprintln(os.Stderr, "tshark not found; skipping it")
				continue
			}
			t, err := measure("tshark -Y http.request", path, 1, "tshark", "-r", path, "-Y", "http.request")
			if err != nil {
				return err
			}
			results = append(results, t)
		}
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "tool\tcapture MB\texchanges\tmedian s\tMB/s\texchanges/s\tCPU s\tMB/CPU-s\tpeak RSS MiB\truns\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%.0f\t%d\t%.2f\t%.0f\t%.0f\t%.2f\t%.0f\t%.1f\t%d\t\n", r.Tool, r.CaptureMB, r.Exchanges, r.MedianSecs, r.MBPerSec, r.ExchPerSec, r.CPUSeconds, r.CPUMBPerSec, r.PeakRSSMiB, r.Runs)
	}
	tw.Flush()
	b, _ := json.MarshalIndent(results, "", "  ")
	return os.WriteFile(filepath.Join(out, "analyze.json"), b, 0o644)
}

// ensureCapture generates (once) a capture of about mb megabytes.
func ensureCapture(dir string, mb int) (string, error) {
	path := filepath.Join(dir, fmt.Sprintf("api-%dMB.pcap", mb))
	if st, err := os.Stat(path); err == nil && st.Size() > int64(mb)*900_000 {
		return path, nil
	}
	fmt.Fprintf(os.Stderr, "generating %s\n", path)
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	cfg := synth.DefaultConfig()
	cfg.TargetBytes = int64(mb) * 1_000_000
	cfg.Conns = 256
	if _, err := synth.Write(w, cfg); err != nil {
		f.Close()
		return "", err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

// measure runs the command runs times and reports medians and peak RSS.
func measure(tool, path string, runs int, name string, args ...string) (result, error) {
	st, err := os.Stat(path)
	if err != nil {
		return result{}, err
	}
	r := result{Tool: tool, CaptureMB: float64(st.Size()) / 1e6, Runs: runs}
	var cpu []float64
	for i := 0; i < runs; i++ {
		cmd := exec.Command(name, args...)
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		cmd.Stderr = os.Stderr
		start := time.Now()
		err := cmd.Run()
		secs := time.Since(start).Seconds()
		if err != nil {
			return r, fmt.Errorf("%s %v: %w", name, args, err)
		}
		r.AllSeconds = append(r.AllSeconds, secs)
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.PeakRSSMiB = max(r.PeakRSSMiB, float64(ru.Maxrss)/1024)
			cpu = append(cpu, time.Duration(ru.Utime.Nano()+ru.Stime.Nano()).Seconds())
		}
		if tool == "specter" {
			var s struct {
				Reassembly struct {
					Exchanges uint64 `json:"exchanges"`
				} `json:"reassembly"`
			}
			if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
				return r, fmt.Errorf("reading specter's summary: %w", err)
			}
			r.Exchanges = s.Reassembly.Exchanges
		} else {
			r.Exchanges = uint64(bytes.Count(stdout.Bytes(), []byte("\n")))
		}
	}
	r.MedianSecs = median(r.AllSeconds)
	r.CPUSeconds = median(cpu)
	r.MBPerSec = r.CaptureMB / r.MedianSecs
	r.ExchPerSec = float64(r.Exchanges) / r.MedianSecs
	if r.CPUSeconds > 0 {
		r.CPUMBPerSec = r.CaptureMB / r.CPUSeconds
	}
	return r, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

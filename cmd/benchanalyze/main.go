// Command benchanalyze is the end-to-end benchmark behind `make bench`: it
// generates captures of keep-alive JSON API traffic at two sizes (never
// committed), runs `specter analyze` on each several times, and reports the
// median MB/s and exchanges/s with the peak RSS, beside tshark on the
// smaller capture. With -db it also times `specter analyze --endpoints`
// (inference in memory) and `specter analyze --db` (inference into a fresh
// SQLite store) on each capture, reports the store's overhead over the
// in-memory run, and the database size, absolute and per million
// exchanges: it must stay flat as the capture grows (it grows with
// endpoints and examples, not with exchanges).
//
// With -speed SCRIPT it reports instead issue #22's figures on the
// real-shaped captures SCRIPT (../shared/bench/speed-capture.sh) builds
// into -out when they are missing: see runSpeed.
//
//	benchanalyze -bin bin/specter -out bench-out [-sizes 100,1000] [-runs 3] [-db]
//	benchanalyze -bin bin/specter -out bench-out -speed ../shared/bench/speed-capture.sh [-runs 3]
package main

import (
	"bufio"
	"bytes"
	"context"
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
	"github.com/specter-dev/specter/store"
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
	// DBBytes is the database size after a run (analyze --db only).
	DBBytes int64 `json:"db_bytes,omitempty"`
	// DBLiveBytes excludes the database's free pages.
	DBLiveBytes int64 `json:"db_live_bytes,omitempty"`
}

func main() {
	bin := flag.String("bin", "bin/specter", "the specter binary")
	out := flag.String("out", "bench-out", "directory for generated captures and results")
	sizes := flag.String("sizes", "100,1000", "capture sizes in MB")
	runs := flag.Int("runs", 3, "runs per size (the median is reported)")
	tshark := flag.Bool("tshark", true, "also time tshark on the smallest capture")
	withDB := flag.Bool("db", false, "also time analyze --endpoints (in memory) and analyze --db (into SQLite), and report the database size")
	withSpec := flag.Bool("spec", false, "also time analyze --spec, with the spec exported from the capture (every exchange validated, no findings)")
	speed := flag.String("speed", "", "speed-capture.sh: report issue #22's figures on the captures it builds (instead of the synthetic ones)")
	flag.Parse()
	if *speed != "" {
		rs, err := runSpeed(os.Stdout, *bin, *out, *speed, *runs, *tshark)
		if err == nil {
			b, _ := json.MarshalIndent(rs, "", "  ")
			err = os.WriteFile(filepath.Join(*out, "speed.json"), b, 0o644)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchanalyze: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*bin, *out, *sizes, *runs, *tshark, *withDB, *withSpec); err != nil {
		fmt.Fprintf(os.Stderr, "benchanalyze: %v\n", err)
		os.Exit(1)
	}
}

func run(bin, out, sizeList string, runs int, withTshark, withDB, withSpec bool) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var results []result
	var dbRows [][2]result
	for i, s := range strings.Split(sizeList, ",") {
		mb, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("bad size %q", s)
		}
		path, err := ensureCapture(out, mb)
		if err != nil {
			return err
		}
		r, err := measure("specter", path, runs, "", bin, "analyze", "--json", path)
		if err != nil {
			return err
		}
		results = append(results, r)
		if withDB {
			mem, err := measure("specter --endpoints", path, runs, "", bin, "analyze", "--json", "--endpoints", path)
			if err != nil {
				return err
			}
			db := filepath.Join(out, "bench.db")
			st, err := measure("specter --db", path, runs, db, bin, "analyze", "--json", "--db", db, path)
			if err != nil {
				return err
			}
			results = append(results, mem, st)
			dbRows = append(dbRows, [2]result{mem, st})
		}
		if withSpec {
			spec := filepath.Join(out, fmt.Sprintf("api-%dMB.openapi.yaml", mb))
			if out, err := exec.Command(bin, "export", "-o", spec, path).CombinedOutput(); err != nil {
				return fmt.Errorf("exporting the spec of %s: %v\n%s", path, err, out)
			}
			sp, err := measure("specter --spec", path, runs, "", bin, "analyze", "--json", "--spec", spec, path)
			if err != nil {
				return err
			}
			results = append(results, sp)
			fmt.Fprintf(os.Stderr, "%s: analyze --spec costs %+.1f%% wall, %+.1f%% CPU\n", filepath.Base(path),
				100*(sp.MedianSecs/r.MedianSecs-1), 100*(sp.CPUSeconds/r.CPUSeconds-1))
		}
		if i == 0 && withTshark {
			if _, err := exec.LookPath("tshark"); err != nil {
				fmt.Fprintln(os.Stderr, "tshark not found; skipping it")
				continue
			}
			t, err := measure("tshark -Y http.request", path, 1, "", "tshark", "-r", path, "-Y", "http.request")
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
	if len(dbRows) > 0 {
		fmt.Println()
		tw = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "capture MB\texchanges\tin-memory s\t--db s\toverhead\tin-memory CPU s\t--db CPU s\tCPU overhead\tdb MiB\tlive MiB\tlive MiB per 1M exchanges\t")
		for _, p := range dbRows {
			mem, st := p[0], p[1]
			perM := 0.0
			if st.Exchanges > 0 {
				perM = float64(st.DBLiveBytes) / (1 << 20) / (float64(st.Exchanges) / 1e6)
			}
			fmt.Fprintf(tw, "%.0f\t%d\t%.2f\t%.2f\t%+.1f%%\t%.2f\t%.2f\t%+.1f%%\t%.2f\t%.2f\t%.2f\t\n", st.CaptureMB, st.Exchanges,
				mem.MedianSecs, st.MedianSecs, 100*(st.MedianSecs/mem.MedianSecs-1),
				mem.CPUSeconds, st.CPUSeconds, 100*(st.CPUSeconds/mem.CPUSeconds-1),
				float64(st.DBBytes)/(1<<20), float64(st.DBLiveBytes)/(1<<20), perM)
		}
		tw.Flush()
	}
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
// db, when set, is a database the command writes: it is removed before each
// run and its size recorded after.
func measure(tool, path string, runs int, db string, name string, args ...string) (result, error) {
	st, err := os.Stat(path)
	if err != nil {
		return result{}, err
	}
	r := result{Tool: tool, CaptureMB: float64(st.Size()) / 1e6, Runs: runs}
	var cpu []float64
	for i := 0; i < runs; i++ {
		if db != "" {
			for _, p := range []string{db, db + "-wal", db + "-shm"} {
				if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
					return r, err
				}
			}
		}
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
		if db != "" {
			r.DBBytes = 0
			for _, p := range []string{db, db + "-wal"} {
				if st, err := os.Stat(p); err == nil {
					r.DBBytes += st.Size()
				}
			}
			if r.DBLiveBytes, err = liveBytes(db); err != nil {
				return r, err
			}
		}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.PeakRSSMiB = max(r.PeakRSSMiB, float64(ru.Maxrss)/1024)
			cpu = append(cpu, time.Duration(ru.Utime.Nano()+ru.Stime.Nano()).Seconds())
		}
		if strings.HasPrefix(tool, "specter") {
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

// liveBytes is the used (not free) part of a database.
func liveBytes(path string) (int64, error) {
	ctx := context.Background()
	db, err := store.Open(ctx, path, store.Options{ReadOnly: true})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	sz, err := db.Size(ctx)
	return sz.LiveBytes, err
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"text/tabwriter"
)

// Issue #22's targets for the real-shaped captures (speed-capture.sh).
const (
	targetDBMBPerCPUSec    = 200  // analyze --db on the 400 MB capture
	targetPlainMBPerCPUSec = 350  // plain analyze on the 400 MB capture
	targetRSSRatio         = 1.25 // peak RSS at 400 MB over that at 40 MB
)

// speedSizes are the two capture sizes (MB) speed-capture.sh builds: the
// RSS ratio compares them, the throughput is read on the larger.
var speedSizes = [2]int{40, 400}

// speedRow is one command measured on both speed captures.
type speedRow struct {
	name       string
	small, big result
	target     float64 // MB per CPU-second wanted on the big capture
}

// runSpeed reports issue #22's figures: MB per CPU-second (median of runs)
// of plain `analyze` and `analyze --db` on speed-400mb.pcap, their peak RSS
// at 400 MB over that at 40 MB, and tshark -Y http.request's CPU on the 40
// MB capture beside specter's. script is speed-capture.sh; it builds the
// captures into out when they are missing (it skips those that exist).
func runSpeed(w io.Writer, bin, out, script string, runs int, withTshark bool) ([]result, error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	var paths [2]string
	for i, mb := range speedSizes {
		paths[i] = filepath.Join(out, fmt.Sprintf("speed-%dmb.pcap", mb))
	}
	if missing(paths[:]) {
		cmd := exec.Command("bash", script, out, fmt.Sprint(speedSizes[0]), fmt.Sprint(speedSizes[1]))
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("building the speed captures with %s: %w", script, err)
		}
	}
	db := filepath.Join(out, "speed.db")
	rows := []speedRow{
		{name: "analyze", target: targetPlainMBPerCPUSec},
		{name: "analyze --db", target: targetDBMBPerCPUSec},
	}
	var all []result
	for i := range rows {
		for j, p := range paths {
			args, dbPath := []string{"analyze", "--json", p}, ""
			if i == 1 {
				args, dbPath = []string{"analyze", "--json", "--db", db, p}, db
			}
			r, err := measure("specter "+rows[i].name, p, runs, dbPath, bin, args...)
			if err != nil {
				return nil, err
			}
			if j == 0 {
				rows[i].small = r
			} else {
				rows[i].big = r
			}
			all = append(all, r)
		}
	}

	fmt.Fprintf(w, "\nissue #22 figures (speed-capture.sh; CPU = user+sys, median of %d runs)\n", runs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "command\t400 MB: MB/CPU-s\ttarget\t\tpeak RSS 40 MB\tpeak RSS 400 MB\tratio\ttarget\t")
	for _, r := range rows {
		ratio := r.big.PeakRSSMiB / r.small.PeakRSSMiB
		fmt.Fprintf(tw, "specter %s\t%.0f\t≥ %.0f\t%s\t%.1f MiB\t%.1f MiB\t%.2f×\t≤ %.2f×\t%s\n",
			r.name, r.big.CPUMBPerSec, r.target, verdict(r.big.CPUMBPerSec >= r.target),
			r.small.PeakRSSMiB, r.big.PeakRSSMiB, ratio, targetRSSRatio, verdict(ratio <= targetRSSRatio))
	}
	tw.Flush()

	if !withTshark {
		return all, nil
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		fmt.Fprintln(w, "tshark: not found (make deps-bench installs Debian's tshark); its comparison is skipped")
		return all, nil
	}
	t, err := measure("tshark -Y http.request", paths[0], 1, "", "tshark", "-r", paths[0], "-Y", "http.request")
	if err != nil {
		return all, err
	}
	all = append(all, t)
	for _, r := range rows {
		s := r.small
		fmt.Fprintf(w, "40 MB: tshark -Y http.request %.2f CPU-s (%d requests), specter %s %.2f CPU-s (%d exchanges): tshark takes %.1f× specter's CPU\n",
			t.CPUSeconds, t.Exchanges, r.name, s.CPUSeconds, s.Exchanges, t.CPUSeconds/s.CPUSeconds)
	}
	return all, nil
}

// missing reports whether any of paths does not exist (or is empty).
func missing(paths []string) bool {
	for _, p := range paths {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			return true
		}
	}
	return false
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

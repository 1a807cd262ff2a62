//go:build linux

package bpf

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Usual places of libssl, probed when present so that processes started
// after Open are covered too.
func systemLibSSL() []string {
	var out []string
	for _, dir := range []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/usr/lib", "/lib"} {
		for _, name := range []string{"libssl.so.3", "libssl.so.1.1"} {
			out = append(out, filepath.Join(dir, name))
		}
	}
	return out
}

// maxMapsProcs bounds the /proc/PID/maps scan when tracing every process.
const maxMapsProcs = 4096

// findLibSSL returns the distinct libssl files (by device and inode) among
// extra, those mapped by pid (or by any process when pid is 0, up to
// maxMapsProcs processes) reached through /proc/PID/root so that containers'
// own libraries count, and the system ones.
func findLibSSL(pid uint32, extra []string) []string {
	cands := append([]string(nil), extra...)
	var pids []string
	if pid != 0 {
		pids = []string{strconv.FormatUint(uint64(pid), 10)}
	} else if ents, err := os.ReadDir("/proc"); err == nil {
		for _, e := range ents {
			if _, err := strconv.Atoi(e.Name()); err == nil && len(pids) < maxMapsProcs {
				pids = append(pids, e.Name())
			}
		}
	}
	for _, p := range pids {
		for _, path := range mappedLibSSL("/proc/" + p + "/maps") {
			cands = append(cands, "/proc/"+p+"/root"+path)
		}
	}
	cands = append(cands, systemLibSSL()...)

	type key struct{ dev, ino uint64 }
	seen := make(map[key]bool)
	var out []string
	for _, c := range cands {
		var st unix.Stat_t
		if unix.Stat(c, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
			continue
		}
		k := key{uint64(st.Dev), st.Ino}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, c)
	}
	return out
}

// mappedLibSSL returns the libssl paths in one maps file.
func mappedLibSSL(maps string) []string {
	f, err := os.Open(maps)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		i := strings.IndexByte(line, '/')
		if i < 0 {
			continue
		}
		path := line[i:]
		if strings.HasPrefix(filepath.Base(path), "libssl.so") && !strings.HasSuffix(path, " (deleted)") {
			if len(out) == 0 || out[len(out)-1] != path {
				out = append(out, path)
			}
		}
	}
	return out
}

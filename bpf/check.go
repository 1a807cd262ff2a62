//go:build linux

package bpf

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/features"
	"golang.org/x/sys/unix"
)

// Report says what this host supports of what a Tracer needs.
type Report struct {
	// Kernel is the running kernel's release (uname -r).
	Kernel string
	// BTF: the kernel describes its types (/sys/kernel/btf/vmlinux), which
	// CO-RE relocation needs.
	BTF bool
	// RingBuf: BPF_MAP_TYPE_RINGBUF (Linux 5.8+).
	RingBuf bool
	// RawTracepoints: BPF programs of type raw_tracepoint can be loaded
	// (the sys_exit hook, Linux 4.17+).
	RawTracepoints bool
	// Uprobes: the uprobe perf event type exists (for the libssl probes).
	Uprobes bool
	// Capabilities of the calling process: CAP_BPF with CAP_PERFMON (Linux
	// 5.8+), or CAP_SYS_ADMIN, are needed.
	CapBPF, CapPerfmon, CapSysAdmin bool
	// Problems names each missing requirement, in words; empty when all is
	// there.
	Problems []string
}

// Capability numbers from linux/capability.h.
const (
	capSysAdmin = 21
	capPerfmon  = 38
	capBPF      = 39
)

// Check inspects the host: capabilities first (without them the other
// probes cannot run and are reported as unknown), then the kernel features.
func Check() Report {
	var r Report
	var uts unix.Utsname
	if unix.Uname(&uts) == nil {
		r.Kernel = unix.ByteSliceToString(uts.Release[:])
	}
	if caps, err := effectiveCaps(); err == nil {
		r.CapSysAdmin = caps&(1<<capSysAdmin) != 0
		r.CapPerfmon = caps&(1<<capPerfmon) != 0
		r.CapBPF = caps&(1<<capBPF) != 0
	}
	if !r.CapSysAdmin && !(r.CapBPF && r.CapPerfmon) {
		var missing []string
		if !r.CapBPF {
			missing = append(missing, "CAP_BPF")
		}
		if !r.CapPerfmon {
			missing = append(missing, "CAP_PERFMON")
		}
		r.Problems = append(r.Problems, fmt.Sprintf("missing capability %s (or CAP_SYS_ADMIN): run as root or grant them", strings.Join(missing, " and ")))
		return r
	}
	if _, err := btf.LoadKernelSpec(); err == nil {
		r.BTF = true
	} else {
		r.Problems = append(r.Problems, "kernel BTF missing (/sys/kernel/btf/vmlinux): a kernel built with CONFIG_DEBUG_INFO_BTF=y is needed")
	}
	if features.HaveMapType(ebpf.RingBuf) == nil {
		r.RingBuf = true
	} else {
		r.Problems = append(r.Problems, "BPF ring buffer (BPF_MAP_TYPE_RINGBUF) not supported: Linux 5.8 or later is needed")
	}
	if features.HaveProgramType(ebpf.RawTracepoint) == nil {
		r.RawTracepoints = true
	} else {
		r.Problems = append(r.Problems, "BPF raw tracepoint programs not supported (CONFIG_BPF_EVENTS, Linux 4.17 or later)")
	}
	if _, err := os.Stat("/sys/bus/event_source/devices/uprobe/type"); err == nil {
		r.Uprobes = true
	} else {
		r.Problems = append(r.Problems, "uprobes not supported (CONFIG_UPROBE_EVENTS): TLS plaintext cannot be captured")
	}
	return r
}

// Err returns nil when everything a Tracer needs is there, else an error
// naming what is missing.
func (r Report) Err() error {
	if len(r.Problems) == 0 {
		return nil
	}
	return errors.New("bpf: " + strings.Join(r.Problems, "; "))
}

// String lists the checks, one per line, as `specter capture --ebpf --check`
// prints them.
func (r Report) String() string {
	var b strings.Builder
	yes := func(name string, ok bool) {
		v := "no"
		if ok {
			v = "yes"
		}
		fmt.Fprintf(&b, "%-14s %s\n", name, v)
	}
	fmt.Fprintf(&b, "%-14s %s\n", "kernel", r.Kernel)
	yes("CAP_BPF", r.CapBPF)
	yes("CAP_PERFMON", r.CapPerfmon)
	yes("CAP_SYS_ADMIN", r.CapSysAdmin)
	yes("BTF", r.BTF)
	yes("ring buffer", r.RingBuf)
	yes("raw tracepoint", r.RawTracepoints)
	yes("uprobes", r.Uprobes)
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "problem: %s\n", p)
	}
	return b.String()
}

// effectiveCaps reads CapEff from /proc/self/status.
func effectiveCaps() (uint64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CapEff:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return 0, errors.New("bpf: no CapEff line in /proc/self/status")
}

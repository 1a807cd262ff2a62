// Package vethtest gives tests a veth pair with one end in a network
// namespace of its own, and tcpreplay to send captures into it: traffic
// that crosses a real interface yet never leaves the test's namespaces.
// It needs root, ip(8), sysctl(8) and tcpreplay; RequireRoot skips the test
// where they are missing.
package vethtest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// Pair is a veth pair whose Peer end lives in the namespace NS: a test
// listens on Host and replays into Peer.
type Pair struct {
	Host, Peer, NS string
}

// RequireRoot skips the test unless it runs as root with ip, sysctl and
// tcpreplay on PATH.
func RequireRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root: AF_PACKET sockets, network namespaces and veth pairs")
	}
	for _, tool := range []string{"ip", "sysctl", "tcpreplay"} {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Skipf("needs %s on PATH (make deps installs it): %v", tool, err)
		}
	}
}

// Run runs a command, returning its output in the error when it fails.
func Run(args ...string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// New creates a namespace and a veth pair with one end in it, both up,
// with IPv6 off so that the kernel sends no neighbour discovery of its own
// on them. Everything is removed in tb.Cleanup, whatever the outcome.
func New(tb testing.TB) *Pair {
	tb.Helper()
	var rb [4]byte
	if _, err := rand.Read(rb[:]); err != nil {
		tb.Fatal(err)
	}
	id := hex.EncodeToString(rb[:])
	p := &Pair{Host: "spv" + id + "h", Peer: "spv" + id + "p", NS: "specter-test-" + id}
	if err := Run("ip", "netns", "add", p.NS); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		// Deleting one end deletes the pair; the namespace goes last.
		_ = Run("ip", "link", "del", p.Host)
		if err := Run("ip", "netns", "del", p.NS); err != nil {
			tb.Errorf("cleanup: %v", err)
		}
	})
	for _, s := range [][]string{
		{"ip", "link", "add", p.Host, "mtu", "65535", "type", "veth", "peer", "name", p.Peer, "mtu", "65535"},
		{"ip", "link", "set", p.Peer, "netns", p.NS},
		{"sysctl", "-qw", "net.ipv6.conf." + p.Host + ".disable_ipv6=1"},
		{"ip", "netns", "exec", p.NS, "sysctl", "-qw", "net.ipv6.conf." + p.Peer + ".disable_ipv6=1"},
		{"ip", "link", "set", p.Host, "up"},
		{"ip", "netns", "exec", p.NS, "ip", "link", "set", p.Peer, "up"},
	} {
		if err := Run(s...); err != nil {
			tb.Fatal(err)
		}
	}
	return p
}

// ReplayCmd is tcpreplay sending file into the peer end from inside the
// namespace at mbps Mbit/s (0: as fast as it can), loop times (0 or 1:
// once).
func (p *Pair) ReplayCmd(file string, mbps float64, loop int) *exec.Cmd {
	args := []string{"netns", "exec", p.NS, "tcpreplay", "-q", "-i", p.Peer}
	if mbps > 0 {
		args = append(args, "--mbps="+strconv.FormatFloat(mbps, 'f', -1, 64))
	} else {
		args = append(args, "--topspeed")
	}
	if loop > 1 {
		args = append(args, "--loop="+strconv.Itoa(loop))
	}
	return exec.Command("ip", append(args, file)...)
}

// Replay runs ReplayCmd to its end, failing the test if tcpreplay fails.
func (p *Pair) Replay(tb testing.TB, file string, mbps float64, loop int) {
	tb.Helper()
	if out, err := p.ReplayCmd(file, mbps, loop).CombinedOutput(); err != nil {
		tb.Fatalf("tcpreplay %s: %v\n%s", file, err, out)
	}
}

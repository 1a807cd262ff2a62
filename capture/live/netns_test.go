package live

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// veth is a veth pair whose Peer end lives in the network namespace NS; the
// test listens on Host and replays into Peer.
type veth struct {
	Host, Peer, NS string
}

// needRoot skips the test unless it runs as root with ip and tcpreplay.
func needRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root: AF_PACKET sockets, network namespaces and veth pairs")
	}
	for _, tool := range []string{"ip", "tcpreplay"} {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Skipf("needs %s on PATH (make deps installs it): %v", tool, err)
		}
	}
}

func sh(args ...string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// newVeth creates a namespace and a veth pair with one end in it, both up,
// with IPv6 off so that the kernel sends no neighbour discovery of its own
// on them. Everything is removed in t.Cleanup, whatever the outcome.
func newVeth(tb testing.TB) *veth {
	tb.Helper()
	var rb [4]byte
	if _, err := rand.Read(rb[:]); err != nil {
		tb.Fatal(err)
	}
	id := hex.EncodeToString(rb[:])
	v := &veth{Host: "spv" + id + "h", Peer: "spv" + id + "p", NS: "specter-test-" + id}
	if err := sh("ip", "netns", "add", v.NS); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		// Deleting one end deletes the pair; the namespace goes last.
		_ = sh("ip", "link", "del", v.Host)
		if err := sh("ip", "netns", "del", v.NS); err != nil {
			tb.Errorf("cleanup: %v", err)
		}
	})
	steps := [][]string{
		{"ip", "link", "add", v.Host, "mtu", "65535", "type", "veth", "peer", "name", v.Peer, "mtu", "65535"},
		{"ip", "link", "set", v.Peer, "netns", v.NS},
		{"sysctl", "-qw", "net.ipv6.conf." + v.Host + ".disable_ipv6=1"},
		{"ip", "netns", "exec", v.NS, "sysctl", "-qw", "net.ipv6.conf." + v.Peer + ".disable_ipv6=1"},
		{"ip", "link", "set", v.Host, "up"},
		{"ip", "netns", "exec", v.NS, "ip", "link", "set", v.Peer, "up"},
	}
	for _, s := range steps {
		if err := sh(s...); err != nil {
			tb.Fatal(err)
		}
	}
	return v
}

// replay sends a capture into the peer end from inside the namespace at
// mbps Mbit/s (0: as fast as possible), loop times.
func (v *veth) replay(tb testing.TB, file string, mbps, loop int) {
	tb.Helper()
	if err := v.replayErr(file, mbps, loop); err != nil {
		tb.Fatal(err)
	}
}

func (v *veth) replayErr(file string, mbps, loop int) error {
	args := []string{"ip", "netns", "exec", v.NS, "tcpreplay", "-q", "-i", v.Peer}
	if mbps > 0 {
		args = append(args, fmt.Sprintf("--mbps=%d", mbps))
	} else {
		args = append(args, "--topspeed")
	}
	if loop > 1 {
		args = append(args, fmt.Sprintf("--loop=%d", loop))
	}
	return sh(append(args, file)...)
}

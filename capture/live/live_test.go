package live

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/specter-dev/specter/capture/live/vethtest"
)

func TestBadFilter(t *testing.T) {
	for _, expr := range []string{"tcp prot 80", "port 99999", "(tcp", "host"} {
		_, err := CompileFilter(expr, 0)
		if err == nil || !strings.Contains(err.Error(), expr) {
			t.Errorf("CompileFilter(%q) = %v, want an error naming it", expr, err)
		}
	}
	if os.Geteuid() == 0 {
		_, err := Open(context.Background(), Options{Interfaces: []string{"lo"}, Filter: "tcp prot 80"})
		if err == nil || !strings.Contains(err.Error(), `"tcp prot 80"`) {
			t.Errorf("Open with a bad filter: %v", err)
		}
	}
}

func TestCompileFilter(t *testing.T) {
	tests := []struct {
		expr    string
		snapLen int
		retK    uint32 // the accept return's value
	}{
		{"", 0, defaultSnapLen},
		{"", 128, 128},
		{"tcp port 80 or tcp port 8080", 65535, 65535},
		{"vlan 42 and tcp", 1500, 1500},
	}
	for _, tc := range tests {
		prog, err := CompileFilter(tc.expr, tc.snapLen)
		if err != nil {
			t.Fatalf("CompileFilter(%q): %v", tc.expr, err)
		}
		found := false
		for _, in := range prog {
			// BPF_RET|BPF_K = 0x06.
			if in.Op == 0x06 && in.K == tc.retK {
				found = true
			}
		}
		if !found {
			t.Errorf("CompileFilter(%q, %d): no ret #%d in %v", tc.expr, tc.snapLen, tc.retK, prog)
		}
	}
}

// TestCloseUnblocks checks that Close ends a Next blocked on a quiet link,
// and that Stop (or the context) ends it with io.EOF.
func TestCloseUnblocks(t *testing.T) {
	vethtest.RequireRoot(t)
	v := vethtest.New(t)
	for _, how := range []string{"close", "stop", "cancel"} {
		t.Run(how, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			src, err := Open(ctx, Options{Interfaces: []string{v.Host}, RingSizeMB: 2})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			done := make(chan error, 1)
			go func() {
				_, err := src.Next()
				done <- err
			}()
			wantErr := io.EOF
			switch how {
			case "close":
				wantErr = ErrClosed
				src.Close()
			case "stop":
				src.Stop()
			case "cancel":
				cancel()
			}
			if err := <-done; !errors.Is(err, wantErr) {
				t.Errorf("Next after %s: %v, want %v", how, err, wantErr)
			}
			if _, err := src.Next(); !errors.Is(err, wantErr) {
				t.Errorf("second Next after %s: %v, want %v", how, err, wantErr)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no interface", Options{}, "no interface"},
		{"ring", Options{Interfaces: []string{"lo"}, RingSizeMB: -1}, "ring size"},
		{"ring too big", Options{Interfaces: []string{"lo"}, RingSizeMB: 1 << 20}, "ring size"},
		{"dedup", Options{Interfaces: []string{"lo"}, DedupEntries: 1 << 30}, "dedup entries"},
		{"fanout", Options{Interfaces: []string{"lo"}, FanoutGroup: 1 << 16}, "fanout group"},
		{"workers", Options{Interfaces: []string{"lo"}, Workers: 65}, "workers"},
	}
	for _, tc := range tests {
		_, err := Open(context.Background(), tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Open = %v, want an error about %s", tc.name, err, tc.want)
		}
	}
	if os.Geteuid() == 0 {
		_, err := Open(context.Background(), Options{Interfaces: []string{"specter-nosuch0"}})
		if err == nil || !strings.Contains(err.Error(), "specter-nosuch0") {
			t.Errorf("Open on a missing interface: %v", err)
		}
	}
}

// TestPromisc checks that promiscuous mode is on while the source is open
// and off once it is closed.
func TestPromisc(t *testing.T) {
	vethtest.RequireRoot(t)
	v := vethtest.New(t)
	// A packet socket's membership raises the device's promiscuity
	// counter, not the PROMISC flag that ip link shows.
	promisc := func() bool {
		out, err := exec.Command("ip", "-d", "link", "show", v.Host).CombinedOutput()
		if err != nil {
			t.Fatalf("ip -d link show: %v: %s", err, out)
		}
		return !strings.Contains(string(out), "promiscuity 0 ")
	}
	if promisc() {
		t.Fatal("promiscuous before Open")
	}
	src, err := Open(context.Background(), Options{Interfaces: []string{v.Host}, Promisc: true, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !promisc() {
		t.Error("not promiscuous while open")
	}
	src.Close()
	if promisc() {
		t.Error("still promiscuous after Close")
	}
}

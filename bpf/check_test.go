//go:build linux

package bpf

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	if os.Getenv("SPECTER_BPF_CHECK_CHILD") != "" {
		// Child of TestCheckUnprivileged: print the report for the parent.
		r := Check()
		os.Stdout.WriteString(r.String())
		if err := r.Err(); err != nil {
			os.Stdout.WriteString("error: " + err.Error() + "\n")
		}
		return
	}
	requireTracing(t)
	r := Check()
	if err := r.Err(); err != nil {
		t.Fatalf("Check as root: %v", err)
	}
	for _, want := range []string{"BTF            yes", "ring buffer    yes", "uprobes        yes", "kernel         " + r.Kernel} {
		if !strings.Contains(r.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, r)
		}
	}
}

// TestCheckUnprivileged runs Check as an unprivileged user and expects one
// clear error naming the missing capabilities.
func TestCheckUnprivileged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to drop to another user")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv (util-linux) not installed")
	}
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", os.Args[0], "-test.run=^TestCheck$")
	cmd.Env = append(os.Environ(), "SPECTER_BPF_CHECK_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	want := "error: bpf: missing capability CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)"
	if !strings.Contains(string(out), want) || !strings.Contains(string(out), "CAP_SYS_ADMIN  no") {
		t.Errorf("unprivileged report lacks %q:\n%s", want, out)
	}
}

// TestOpenContext: cancelling Open's context closes the Tracer, and a
// blocked Read returns ErrClosed; Close after that is harmless.
func TestOpenContext(t *testing.T) {
	requireTracing(t)
	ctx, cancel := context.WithCancel(context.Background())
	tr, err := Open(ctx, Options{Comm: "no-such-comm"})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := tr.Read()
		errc <- err
	}()
	cancel()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Errorf("Read after cancel: %v, want ErrClosed", err)
	}
	if err := tr.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := tr.Read(); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close: %v, want ErrClosed", err)
	}
}

// TestOpenErrors: bad options fail with an error naming the option.
func TestOpenErrors(t *testing.T) {
	requireTracing(t)
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Comm: "a-command-name-longer-than-15"}, `comm filter "a-command-name-longer-than-15": longer than the kernel's 15 bytes`},
		{Options{Cgroup: "/sys/fs/cgroup/no-such-cgroup"}, "cgroup filter /sys/fs/cgroup/no-such-cgroup: no such file or directory"},
		{Options{LibSSL: []string{"/etc/hostname"}}, "bpf: uprobe on SSL_set_fd in /etc/hostname"},
	} {
		tr, err := Open(context.Background(), tc.opts)
		if err == nil {
			tr.Close()
			t.Errorf("Open(%+v) succeeded", tc.opts)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%+v): %v, want %q", tc.opts, err, tc.want)
		}
	}
}

func TestRingSize(t *testing.T) {
	for _, tc := range []struct{ n, page, want int }{
		{0, 4096, 4096},
		{1, 4096, 4096},
		{4096, 4096, 4096},
		{4097, 4096, 8192},
		{8 << 20, 4096, 8 << 20},
		{5 << 20, 16384, 8 << 20},
		{1 << 40, 4096, 1 << 30},
	} {
		if got := ringSize(tc.n, tc.page); int(got) != tc.want {
			t.Errorf("ringSize(%d, %d) = %d, want %d", tc.n, tc.page, got, tc.want)
		}
	}
}

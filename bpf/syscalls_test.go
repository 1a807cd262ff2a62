//go:build linux

package bpf

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/specter-dev/specter/bpf/bpftest"
)

// socketsPy connects two sockets over loopback in one process and moves
// bytes through every traced syscall flavour, one step per line on stdin.
const socketsPy = `
import os, socket, sys
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen()
c = socket.create_connection(ls.getsockname()); s, _ = ls.accept()
print(ls.getsockname()[1], c.getsockname()[1], flush=True)
sys.stdin.readline()
def take(n, first):
    got = first(n)
    while len(got) < n:
        got += s.recv(n - len(got))
    return got
c.send(b"send:hello;"); s.recv(5, socket.MSG_PEEK); take(11, s.recv)
os.write(c.fileno(), b"write:abc;"); take(10, lambda n: os.read(s.fileno(), n))
os.writev(c.fileno(), [b"writev:", b"x", b"y;"])
s.recvmsg(4, 0, socket.MSG_PEEK)
a, b = bytearray(3), bytearray(7); n = os.readv(s.fileno(), [a, b]); take(10 - n, lambda k: b"")
c.sendmsg([b"sendmsg:", b"12;"])
a, b = bytearray(4), bytearray(7); n = s.recvmsg_into([a, b])[0]; take(11 - n, lambda k: b"")
big = bytes(range(256)) * 160
c.sendall(big); take(len(big), s.recv)
os.writev(c.fileno(), [b"%02d;" % i for i in range(10)]); take(30, s.recv)
c.close(); s.close()
print("done", flush=True)
`

// startSockets runs socketsPy up to the point where its sockets are
// connected; go() lets it move the bytes.
func startSockets(t *testing.T) (pid int, port, clientPort uint16, run func()) {
	t.Helper()
	cmd := exec.Command(bpftest.Python(t), "-c", socketsPy)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	br := bufio.NewReader(out)
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	f := strings.Fields(line)
	p1, _ := strconv.Atoi(f[0])
	p2, _ := strconv.Atoi(f[1])
	return cmd.Process.Pid, uint16(p1), uint16(p2), func() {
		t.Helper()
		fmt.Fprintln(in, "go")
		if l, err := br.ReadString('\n'); err != nil || l != "done\n" {
			t.Fatalf("python did not finish: %q %v", l, err)
		}
	}
}

// TestSyscalls checks send/recv, read/write, readv/writev, sendmsg/recvmsg,
// that MSG_PEEK reads (recv, recvmsg) do not repeat bytes in the stream,
// the MaxChunk cap, the iovec limit, connections opened before the tracer,
// and the cgroup filter.
func TestSyscalls(t *testing.T) {
	requireTracing(t)
	pid, port, cport, run := startSockets(t)
	opts := Options{Comm: procComm(t, pid)}
	if cg := childCgroup(t, pid); cg != "" {
		opts.Cgroup = cg
		// The process left the parent cgroup: a tracer filtering on it sees
		// nothing of the process.
		_, other := openTracer(t, Options{PID: uint32(pid), Cgroup: filepath.Dir(cg)})
		defer func() {
			for _, c := range other.snapshot() {
				if c.Kind == KindData {
					t.Errorf("tracer of cgroup %s saw a chunk of pid %d in %s", filepath.Dir(cg), pid, cg)
					break
				}
			}
		}()
	} else {
		opts = Options{PID: uint32(pid)}
		t.Log("no cgroup v2 hierarchy: filtering by pid instead")
	}
	_, col := openTracer(t, opts)
	run()
	cs := col.waitFor(t, "close events", func(cs []Chunk) bool {
		n := 0
		for _, c := range cs {
			if c.Kind == KindClose && c.Local.Port() == cport || c.Kind == KindClose && c.Local.Port() == port {
				n++
			}
		}
		return n == 2
	})

	big := make([]byte, 256*160)
	for i := range big {
		big[i] = byte(i)
	}
	var wantData []byte
	wantData = append(wantData, "send:hello;write:abc;writev:xy;sendmsg:12;"...)
	wantData = append(wantData, big[:MaxChunk]...)
	for i := 0; i < 8; i++ {
		wantData = append(wantData, fmt.Sprintf("%02d;", i)...)
	}
	var egress, ingress []Chunk
	for _, c := range cs {
		if c.PID != uint32(pid) {
			t.Errorf("chunk from pid %d, want only %d", c.PID, pid)
		}
		if c.Kind != KindData {
			continue
		}
		switch {
		case c.Local.Port() == cport && c.Remote.Port() == port && c.Dir == Egress:
			egress = append(egress, c)
		case c.Local.Port() == port && c.Remote.Port() == cport && c.Dir == Ingress:
			ingress = append(ingress, c)
		default:
			t.Errorf("unexpected chunk %s %s->%s %q", c.Dir, c.Local, c.Remote, trim(c.Data))
		}
	}
	var got []byte
	var bigChunk, missing *Chunk
	total := 0
	for i, c := range egress {
		got = append(got, c.Data...)
		total += c.Len
		if c.Len == len(big) {
			bigChunk = &egress[i]
		}
		if c.Truncated && len(c.Data) == 0 {
			missing = &egress[i]
		}
	}
	if !bytes.Equal(got, wantData) {
		t.Errorf("client egress:\n got %q\nwant %q", trim(got), trim(wantData))
	}
	if bigChunk == nil || !bigChunk.Truncated || len(bigChunk.Data) != MaxChunk {
		t.Errorf("no truncated %d-byte chunk of %d bytes: %+v", MaxChunk, len(big), bigChunk)
	}
	if missing == nil || missing.Len != 6 {
		t.Errorf("no empty truncated chunk for the 2 iovecs past the limit (6 bytes): %+v", missing)
	}
	sent := 42 + len(big) + 30
	if total != sent {
		t.Errorf("client egress lengths sum to %d, want %d", total, sent)
	}
	itotal := 0
	var iprefix []byte
	for _, c := range ingress {
		itotal += c.Len
		if !c.Truncated {
			iprefix = append(iprefix, c.Data...)
		}
	}
	if itotal != sent {
		t.Errorf("server ingress lengths sum to %d, want %d", itotal, sent)
	}
	if !bytes.HasPrefix(iprefix, wantData[:42]) {
		t.Errorf("server ingress starts %q, want %q", trim(iprefix), wantData[:42])
	}
}

// childCgroup creates a cgroup v2 under this process's and moves pid into
// it, or returns "" when there is no cgroup v2 hierarchy to use.
func childCgroup(t *testing.T, pid int) string {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		p, ok := strings.CutPrefix(l, "0::")
		if !ok {
			continue
		}
		for _, root := range []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup"} {
			if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err != nil {
				continue
			}
			parent := filepath.Join(root, p)
			dir, err := os.MkdirTemp(parent, "specter-bpf-test-")
			if err != nil {
				return ""
			}
			if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
				os.Remove(dir)
				return ""
			}
			t.Cleanup(func() {
				os.WriteFile(filepath.Join(parent, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0)
				if err := os.Remove(dir); err != nil {
					t.Logf("removing cgroup %s: %v", dir, err)
				}
			})
			return dir
		}
	}
	return ""
}

// TestLost: records that do not fit the ring are counted, not waited for.
func TestLost(t *testing.T) {
	requireTracing(t)
	pid, _, _, run := startSockets(t)
	tr, err := Open(t.Context(), Options{PID: uint32(pid), RingSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	run() // nobody reads: the ring fills, and the 16 KiB chunk never fits
	if st := tr.Stats(); st.Lost == 0 {
		t.Errorf("Stats after a full ring: %+v, want lost records", st)
	}
}

// execPy reads a file on fd 100 (which the interpreter's start-up leaves
// alone), so the tracer caches that fd as "not a socket", then execs a new image that puts a TCP socket on the same fd
// number and writes to it: the cache must not hide the socket.
const execPy = `
import os, sys
if len(sys.argv) == 1:
    fd = os.dup2(os.open("/proc/self/stat", os.O_RDONLY), 100, inheritable=False)
    print(fd, flush=True)
    sys.stdin.readline()
    os.read(fd, 100)
    os.execv(sys.executable, [sys.executable, sys.argv[0], str(fd)])
fd = int(sys.argv[1])
import socket
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen()
c = socket.create_connection(ls.getsockname()); s, _ = ls.accept()
os.dup2(c.fileno(), fd)
os.write(fd, b"after-exec")
s.recv(100)
os.close(fd); c.close(); s.close()
print("done", flush=True)
`

func TestExecReusesFD(t *testing.T) {
	requireTracing(t)
	script := filepath.Join(t.TempDir(), "exec.py")
	if err := os.WriteFile(script, []byte(execPy), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bpftest.Python(t), script)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	br := bufio.NewReader(out)
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	fd, _ := strconv.Atoi(strings.TrimSpace(line))
	_, col := openTracer(t, Options{PID: uint32(cmd.Process.Pid)})
	fmt.Fprintln(in, "go")
	if l, err := br.ReadString('\n'); err != nil || l != "done\n" {
		t.Fatalf("python: %q %v", l, err)
	}
	col.waitFor(t, `"after-exec" on the reused fd`, func(cs []Chunk) bool {
		for _, c := range cs {
			if c.Kind == KindData && c.FD == int32(fd) && c.Dir == Egress && string(c.Data) == "after-exec" {
				return true
			}
		}
		return false
	})
}

// TestLocalDedupe: with every process traced, a connection between two
// local sockets is reported from the accepting end only, unless BothSides
// is set; the connecting end would repeat each exchange.
func TestLocalDedupe(t *testing.T) {
	requireTracing(t)
	for _, both := range []bool{false, true} {
		t.Run(fmt.Sprintf("BothSides=%v", both), func(t *testing.T) {
			_, col := openTracer(t, Options{TraceSelf: true, NoTLS: true, BothSides: both})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			client, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			server, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 4)
			for _, step := range []struct {
				from, to net.Conn
				msg      string
			}{{client, server, "ping"}, {server, client, "pong"}} {
				if _, err := step.from.Write([]byte(step.msg)); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(step.to, buf); err != nil {
					t.Fatal(err)
				}
			}
			client.Close()
			server.Close()
			sport := uint16(ln.Addr().(*net.TCPAddr).Port)
			cport := uint16(client.LocalAddr().(*net.TCPAddr).Port)
			cs := col.waitFor(t, "the server's close", func(cs []Chunk) bool {
				for _, c := range cs {
					if c.Kind == KindClose && c.Local.Port() == sport && c.Remote.Port() == cport {
						return true
					}
				}
				return false
			})
			var server2, client2 []string
			for _, c := range cs {
				switch {
				case c.Kind != KindData || c.PID != uint32(os.Getpid()):
				case c.Local.Port() == sport && c.Remote.Port() == cport:
					server2 = append(server2, c.Dir.String()+" "+string(c.Data))
				case c.Local.Port() == cport && c.Remote.Port() == sport:
					client2 = append(client2, c.Dir.String()+" "+string(c.Data))
				}
			}
			if want := []string{"ingress ping", "egress pong"}; !slices.Equal(server2, want) {
				t.Errorf("server side: %q, want %q", server2, want)
			}
			var want []string
			if both {
				want = []string{"egress ping", "ingress pong"}
			}
			if !slices.Equal(client2, want) {
				t.Errorf("client side: %q, want %q", client2, want)
			}
		})
	}
}

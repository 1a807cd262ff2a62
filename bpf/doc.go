// Package bpf captures the bytes processes exchange over TCP sockets, and
// the plaintext of their OpenSSL TLS connections, with eBPF.
//
// The kernel side (c/specter.bpf.c, compiled by bpf2go into the committed
// specter_*_bpfel.{go,o}) hooks the exit of every syscall with one raw
// tracepoint (sys_exit) that keeps read, write, readv, writev, recvfrom,
// sendto, recvmsg and sendmsg, follows sockets through connect, accept,
// accept4 and close, and puts uprobes on libssl's
// SSL_read, SSL_write, SSL_read_ex and SSL_write_ex. Each record is a Chunk:
// one syscall's (or one SSL call's) bytes on one connection, in the order the
// process saw them, with the process, its cgroup and the socket addresses.
// Chunks of one connection and direction concatenate into the exact byte
// stream, so they feed an HTTP parser without TCP reassembly.
//
// # How sockets are recognised
//
// The first time a traced process touches a file descriptor in a data
// syscall, the program walks task->files->fdt->fd[fd] (CO-RE) and keeps the
// fd only if its inode is a socket of family AF_INET or AF_INET6 and type
// SOCK_STREAM; addresses and ports come from its struct sock. The verdict,
// positive or negative, is cached per (pid, fd) in an LRU hash until close;
// connect and accept refresh it. Connections therefore open mid-flight
// (before the tracer started) are followed too, from their next byte on.
// Exec and exit close fds without a close syscall, and pids are reused, so
// the cache key also holds the address of the process's memory map
// (task->mm), which every exec and every new process renews. Still unseen:
// an fd replaced by dup2/dup3 or closed by close_range keeps its old verdict
// until close.
//
// # Local connections
//
// Unfiltered (no PID, Cgroup or Comm), the tracer sees both ends of a
// connection between two processes of the host, and each exchange twice.
// connect and accept tell the ends apart: the connecting end of a
// connection to a loopback address (or to its own address) is muted in the
// kernel, before any copy, and the accepting end, the process that served
// the exchange, is reported. Options.BothSides keeps both. Connections
// opened before the tracer started are reported from both ends.
//
// # TLS
//
// An SSL* is tied to its socket in two ways: the uprobe on SSL_set_fd (used
// by CPython and most servers), and, for libraries that install their own
// BIO (curl), the socket syscalls a thread makes while inside SSL_read,
// SSL_write or a handshake function (SSL_do_handshake, SSL_connect,
// SSL_accept) belong to that SSL*. Once tied, the fd is marked TLS: its
// encrypted syscall bytes are dropped in the kernel and its chunks come from
// the uprobes instead, with TLS set and the same Conn and addresses. A TLS
// chunk whose SSL* was never tied has Conn 0 and FD -1: so it is with
// memory BIOs (Python's asyncio, some event loops), where the socket I/O
// happens outside the SSL calls, and whose encrypted socket bytes therefore
// also stay as ordinary chunks.
//
// # Bounds
//
//   - A chunk carries at most MaxChunk bytes; Len keeps the true length and
//     Truncated is set. readv/writev/sendmsg/recvmsg copy at most 8 iovecs
//     (one chunk each); the bytes beyond come as a Truncated chunk without
//     data.
//   - Records go through one ring buffer of Options.RingSize bytes. The kernel
//     never waits for the reader: when the ring is full the record is dropped
//     and counted in Stats.Lost.
//   - Socket tracking is an LRU hash of Options.MaxConns entries keyed by
//     (pid, fd); when full, the least recently used fd is forgotten and, if
//     used again, gets a new connection id with a new open event. In-flight
//     SSL call arguments are an LRU hash of 16384 threads (a thread dying
//     inside a call leaves its entry behind): beyond that many threads inside
//     SSL calls at once, the oldest call's plaintext is not captured. SSL*-to-fd
//     ties are an LRU hash of 65536.
//   - Kernel memory with the defaults: the 8 MiB ring, about 5 MiB of
//     connection tracking, 16.5 KiB of scratch per CPU. User space holds no
//     per-connection state: Read decodes one record at a time into a Chunk
//     whose Data is a fresh copy (at most MaxChunk bytes).
//
// Syscalls are hooked at exit only: their number and arguments are loaded
// from the registers saved at entry (bpf_task_pt_regs), which needs Linux
// 5.15 or later, besides BTF. close is handled at exit too, so one program
// serves every syscall: another thread given the same fd number in between
// loses its entry, which its next call recreates with a new connection id.
//
// # Cost
//
// The per-syscall tracepoints (syscalls/sys_exit_read...) were dropped for
// the raw sys_exit tracepoint: they pass every call through perf's trace
// buffer, which cost 1.6 µs of CPU per loopback HTTP request (wrk and a Go
// server) with programs that returned at once, against 0.6 µs for the raw
// tracepoint, which runs the program directly on every syscall's exit (a
// switch on the syscall number turns the others away). 32-bit (compat)
// syscalls, numbered otherwise, are not traced.
//
// Measured with `benchebpf -micro` (a write and a read of 100 bytes over
// loopback in one thread, kernel BPF statistics on, which add some 40 ns
// a run): about 200 ns of program run time for a call that copies nothing
// (a muted end; EAGAIN costs less), 500 ns for one that copies its bytes:
// the lookups (~200 ns), a header (~70 ns: time, cgroup; the command name is
// two loads through the task's BTF pointer), the copy from user memory
// (~150 ns for 100 bytes) and the ring buffer output (~160 ns). The
// in-flight SSL lookup is skipped while no thread is inside an SSL call.
//
// BPF trampolines (fentry/fexit on tcp_sendmsg/tcp_recvmsg) would spare
// the fd lookups and see io_uring and sendmmsg too, but kernels whose
// lockdown or BPF LSM policy refuses them could not run them at all: the
// sandbox these figures come from refuses fentry and fexit with EPERM and
// has no kprobes, while raw and BTF tracepoints load.
//
// Filters (Options.PID, Cgroup, Comm) are compiled into the program's
// read-only data and applied in the kernel, before anything is copied.
//
// Reads with MSG_PEEK (recv, recvfrom, recvmsg) are skipped: their bytes
// are read again later, and would otherwise appear twice in the stream.
//
// Not captured: sendfile/splice (the bytes never reach user memory),
// sendmmsg/recvmmsg, io_uring, and TLS libraries other than OpenSSL's libssl
// (Go's crypto/tls among them).
package bpf

//go:generate go tool bpf2go -tags linux -cc clang -cflags "-O2 -g -Wall -Werror" -target amd64,arm64 -go-package bpf specter c/specter.bpf.c -- -I./c

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * specter.bpf.c: the kernel side of package bpf.
 *
 * Syscall tracepoints copy the bytes that processes read from and write to
 * TCP sockets; uprobes on OpenSSL's SSL_read/SSL_write (and _ex) copy the
 * plaintext of TLS connections. Every record goes to one ring buffer; a
 * failed reservation is counted in the per-CPU "lost" array, never waited
 * for. Records are laid out as struct event (keep in sync with record.go).
 */
#include "types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define MAX_DATA 16384 /* per-chunk cap; longer chunks are truncated */
#define MAX_IOV 8      /* iovecs copied per readv/writev/sendmsg/recvmsg */

#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define EINPROGRESS 115
#define MSG_PEEK 2

enum kind { KIND_DATA = 0, KIND_OPEN = 1, KIND_CLOSE = 2 };
enum dir { DIR_INGRESS = 0, DIR_EGRESS = 1 };
enum flag { FLAG_TLS = 1, FLAG_TRUNCATED = 2 };

/* Filters, set by user space before loading (the .rodata map). Zero means
 * no filter. */
const volatile __u32 filter_pid = 0;
const volatile __u64 filter_cgroup = 0;
const volatile char filter_comm[16] = {};
const volatile __u32 ignore_pid = 0; /* the tracer itself */
/* Uprobes on libssl are attached: look for SSL calls in flight. */
const volatile __u8 trace_tls = 0;
/* Every process is traced (no filter): of a connection between two local
 * processes, only the accepting (serving) side is reported, as the
 * connecting side would repeat each exchange. */
const volatile __u8 local_dedupe = 0;
/* Wake the reader only once this many bytes wait in the ring: it polls on a
 * short timer anyway, and a wakeup per record would cost a context switch
 * per read or write of the traced processes. */
const volatile __u64 wakeup_bytes = 1 << 20;

struct event {
	__u8 kind;
	__u8 dir;
	__u8 flags;
	__u8 family;
	__u32 pid;
	__u32 tid;
	__s32 fd;
	__u64 conn;
	__u64 cgroup;
	__u64 ts;
	__u32 len;     /* original length of the chunk */
	__u32 cap_len; /* bytes of data that follow */
	__u16 lport;
	__u16 rport;
	__u32 pad;
	__u8 laddr[16];
	__u8 raddr[16];
	char comm[16];
	__u8 data[MAX_DATA];
};

enum conn_kind { CONN_OTHER = 0, CONN_TCP = 1 };

/* How a connection was seen to start. */
enum role { ROLE_UNKNOWN = 0, ROLE_CLIENT = 1, ROLE_SERVER = 2 };

struct conn {
	__u64 id;
	__u8 kind;
	__u8 tls;
	__u8 family;
	__u8 mute; /* report nothing: the client side of a local connection */
	__u16 lport;
	__u16 rport;
	__u8 laddr[16];
	__u8 raddr[16];
};

struct conn_key {
	__u32 tgid;
	__s32 fd;
	__u64 mm; /* the process image, see conns */
};

enum args_kind { ARGS_BUF = 0, ARGS_IOV = 1, ARGS_MSG = 2 };

struct sys_args {
	__u64 ptr;
	__u64 cnt;
	__u64 arg3; /* the fourth argument: recvfrom's flags */
	__s32 fd;
	__u32 kind;
};

enum ssl_kind { SSL_PLAIN = 0, SSL_EX = 1, SSL_HANDSHAKE = 2 };

struct ssl_args {
	__u64 ssl;
	__u64 buf;
	__u64 outlen;
	__u32 kind;
	__u32 pad;
};

struct ssl_key {
	__u32 tgid;
	__u32 pad;
	__u64 ssl;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* overridden by Options.RingSize */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} next_conn SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event);
} scratch SEC(".maps");

/* Every fd seen in a traced syscall, socket or not (negative entries spare
 * the fd inspection on the next call); LRU, so when full the least recently
 * used fd is forgotten and gets a new connection id if it shows up again.
 * Exec closes close-on-exec fds and exit closes all, without a close
 * syscall, and the pid may be reused: the key holds the address of the
 * process's memory map (task->mm), new with every exec and every process,
 * so the entries of an old image are never found again (the LRU evicts
 * them later). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536); /* overridden by Options.MaxConns */
	__type(key, struct conn_key);
	__type(value, struct conn);
} conns SEC(".maps");

/* Arguments of in-flight SSL calls, by thread. LRU: a uretprobe never fires
 * when the thread dies inside the call, and such stale entries must make
 * room; beyond max_entries threads inside SSL calls at once, the oldest
 * call is forgotten and its bytes are not captured. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct ssl_args);
} ssl_inflight SEC(".maps");

/* An upper bound of the entries in ssl_inflight: raised before an entry is
 * added, lowered when ssl_exit removes one (entries the LRU evicts keep it
 * high, which only costs lookups). While it is 0 no thread is inside an SSL
 * call, and the socket programs skip the hash lookup: an array lookup is
 * inlined into a load, a hash lookup is a call. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} ssl_active SEC(".maps");

/* SSL* -> socket fd, learnt from SSL_set_fd or from the socket syscalls an
 * SSL call makes. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ssl_key);
	__type(value, __s32);
} ssl_fds SEC(".maps");

static __always_inline bool skip(__u64 pid_tgid)
{
	__u32 tgid = pid_tgid >> 32;

	if (ignore_pid && tgid == ignore_pid)
		return true;
	if (filter_pid && tgid != filter_pid)
		return true;
	if (filter_cgroup && bpf_get_current_cgroup_id() != filter_cgroup)
		return true;
	if (filter_comm[0]) {
		char comm[16] = {};
		bpf_get_current_comm(comm, sizeof(comm));
		for (int i = 0; i < 16; i++) {
			if (comm[i] != filter_comm[i])
				return true;
			if (comm[i] == 0)
				break;
		}
	}
	return false;
}

static __always_inline __u64 wakeup_flag(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
									   : BPF_RB_NO_WAKEUP;
}

/* image_of is the current process's memory map: threads share it, and
 * exec and every new process get a new one. */
static __always_inline __u64 image_of(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	return (__u64)task->mm;
}

static __always_inline void count_lost(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&lost, &zero);
	if (n)
		*n += 1;
}

/* inspect fills c from the kernel's file for fd: a TCP socket (AF_INET or
 * AF_INET6, SOCK_STREAM) gets its addresses, anything else stays CONN_OTHER. */
static __always_inline void inspect(int fd, struct conn *c)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || fd < 0)
		return;
	unsigned int max = BPF_CORE_READ(fdt, max_fds);
	if ((unsigned int)fd >= max)
		return;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = 0;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return;
	unsigned short mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	if (!sock || BPF_CORE_READ(sock, type) != SOCK_STREAM)
		return;
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return;
	unsigned short family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family == AF_INET) {
		__be32 l = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__be32 r = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(c->laddr, &l, 4);
		__builtin_memcpy(c->raddr, &r, 4);
	} else if (family == AF_INET6) {
		BPF_CORE_READ_INTO(&c->laddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&c->raddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	} else {
		return;
	}
	c->family = family;
	c->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	c->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	c->kind = CONN_TCP;
}

static __always_inline void header(struct event *e, __u64 pid_tgid, int fd,
				   struct conn *c, __u8 kind, __u8 dir, __u8 flags)
{
	e->kind = kind;
	e->dir = dir;
	e->flags = flags;
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->fd = fd;
	e->cgroup = bpf_get_current_cgroup_id();
	e->ts = bpf_ktime_get_ns();
	e->len = 0;
	e->cap_len = 0;
	e->pad = 0;
	/* Two loads through the task's BTF pointer, not the helper's locked
	 * copy; a rename racing with them can only tear the name. */
	struct task_struct *task = bpf_get_current_task_btf();
	__builtin_memcpy(e->comm, task->comm, sizeof(e->comm));
	if (c) {
		e->conn = c->id;
		e->family = c->family;
		e->lport = c->lport;
		e->rport = c->rport;
		__builtin_memcpy(e->laddr, c->laddr, 16);
		__builtin_memcpy(e->raddr, c->raddr, 16);
	} else {
		e->conn = 0;
		e->family = 0;
		e->lport = 0;
		e->rport = 0;
		__builtin_memset(e->laddr, 0, 16);
		__builtin_memset(e->raddr, 0, 16);
	}
}

static __always_inline void emit_event(__u64 pid_tgid, int fd, struct conn *c, __u8 kind)
{
	__u32 zero = 0;
	struct event *e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return;
	header(e, pid_tgid, fd, c, kind, 0, c && c->tls ? FLAG_TLS : 0);
	if (bpf_ringbuf_output(&events, e, __builtin_offsetof(struct event, data), wakeup_flag()))
		count_lost();
}

static __always_inline void emit_data(__u64 pid_tgid, int fd, struct conn *c, __u8 dir,
				      __u8 flags, __u64 buf, __u64 len)
{
	__u32 zero = 0;
	struct event *e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return;
	__u64 n = len;
	if (n > MAX_DATA) {
		n = MAX_DATA;
		flags |= FLAG_TRUNCATED;
	}
	header(e, pid_tgid, fd, c, KIND_DATA, dir, flags);
	e->len = len > 0xffffffff ? 0xffffffff : len;
	/* Hide n from the compiler so the bound check below stays, on the very
	 * register the verifier then sees passed to the helper. */
	asm volatile("" : "+r"(n));
	if (n > MAX_DATA)
		return;
	if (n && bpf_probe_read_user(e->data, n, (void *)buf)) {
		n = 0;
		e->flags |= FLAG_TRUNCATED;
	}
	e->cap_len = n;
	if (bpf_ringbuf_output(&events, e, __builtin_offsetof(struct event, data) + n, wakeup_flag()))
		count_lost();
}

/* local_peer: the remote address is this host's (loopback, or the local
 * address itself), so the peer's socket is traced too. The IPv6 constants
 * are little-endian loads, as on both targets. */
static __always_inline bool local_peer(struct conn *c)
{
	if (c->family == AF_INET)
		return c->raddr[0] == 127 || *(__u32 *)c->raddr == *(__u32 *)c->laddr;
	__u64 hi = *(__u64 *)c->raddr, lo = *(__u64 *)&c->raddr[8];
	if (hi == 0 && lo == 1ULL << 56) /* ::1 */
		return true;
	if (hi == 0 && (__u32)lo == 0xffff0000 && c->raddr[12] == 127) /* ::ffff:127.x */
		return true;
	return hi == *(__u64 *)c->laddr && lo == *(__u64 *)&c->laddr[8];
}

/* conn_of returns the tracking entry of (tgid, fd), creating it (and
 * announcing a TCP connection with an open event) when absent or fresh: a
 * fresh one was just connected (role ROLE_CLIENT) or accepted
 * (ROLE_SERVER). */
static __always_inline struct conn *conn_of(__u64 pid_tgid, int fd, bool fresh, __u8 role)
{
	struct conn_key k = {.tgid = pid_tgid >> 32, .fd = fd, .mm = image_of()};
	struct conn *c;

	if (!fresh) {
		c = bpf_map_lookup_elem(&conns, &k);
		if (c)
			return c;
	}
	struct conn nc = {};
	inspect(fd, &nc);
	if (nc.kind == CONN_TCP) {
		__u32 zero = 0;
		__u64 *next = bpf_map_lookup_elem(&next_conn, &zero);
		if (!next)
			return 0;
		nc.id = __sync_fetch_and_add(next, 1) + 1;
		nc.mute = local_dedupe && role == ROLE_CLIENT && local_peer(&nc);
	}
	bpf_map_update_elem(&conns, &k, &nc, BPF_ANY);
	c = bpf_map_lookup_elem(&conns, &k);
	if (c && c->kind == CONN_TCP && !c->mute)
		emit_event(pid_tgid, fd, c, KIND_OPEN);
	return c;
}

/* sys_args_at_exit reads the syscall's first four arguments from the
 * registers saved at entry, still intact at exit (the return value goes to
 * ax on x86-64; on arm64 it overwrites x0, kept in orig_x0). This spares the
 * data syscalls an entry program and a hash update per call. The registers
 * are loaded directly through the BTF pointer, not copied whole. */
static __always_inline void sys_args_at_exit(struct pt_regs *regs, struct sys_args *a)
{
#if defined(__TARGET_ARCH_x86)
	a->fd = (__s32)regs->di;
	a->ptr = regs->si;
	a->cnt = regs->dx;
	a->arg3 = regs->r10; /* syscalls take the fourth argument in r10, not cx */
#else
	a->fd = (__s32)regs->orig_x0;
	a->ptr = regs->regs[1];
	a->cnt = regs->regs[2];
	a->arg3 = regs->regs[3];
#endif
}

/* flags_arg says which argument holds recv flags (2 for recvmsg, 3 for
 * recvfrom, 0 for none): MSG_PEEK reads leave the bytes queued, to be read
 * again, so they are not part of the stream. */
static __always_inline void sys_exit(struct pt_regs *regs, long ret, __u8 dir, __u32 kind, int flags_arg)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (skip(id))
		return;
	struct ssl_args *s = 0;
	if (trace_tls) {
		__u32 zero = 0;
		__u64 *active = bpf_map_lookup_elem(&ssl_active, &zero);
		if (active && *active)
			s = bpf_map_lookup_elem(&ssl_inflight, &id);
	}
	/* Nothing read or written (EAGAIN, mostly): only a TLS tie to learn. */
	if (ret <= 0 && !s)
		return;
	struct sys_args a = {.kind = kind};
	sys_args_at_exit(regs, &a);
	if ((flags_arg == 2 && (a.cnt & MSG_PEEK)) || (flags_arg == 3 && (a.arg3 & MSG_PEEK)))
		return;

	struct conn *c = conn_of(id, a.fd, false, ROLE_UNKNOWN);
	if (!c || c->kind != CONN_TCP)
		return;
	/* Inside an OpenSSL call: this socket carries TLS, whose plaintext the
	 * uprobes report; remember which SSL* uses which fd. */
	if (s) {
		struct ssl_key sk = {.tgid = id >> 32, .ssl = s->ssl};
		c->tls = 1;
		bpf_map_update_elem(&ssl_fds, &sk, &a.fd, BPF_ANY);
	}
	if (c->tls || c->mute || ret <= 0)
		return;

	if (a.kind == ARGS_BUF) {
		emit_data(id, a.fd, c, dir, 0, a.ptr, ret);
		return;
	}
	__u64 iov = a.ptr, iovcnt = a.cnt;
	if (a.kind == ARGS_MSG) {
		struct user_msghdr msg;
		if (bpf_probe_read_user(&msg, sizeof(msg), (void *)a.ptr))
			return;
		iov = (__u64)msg.msg_iov;
		iovcnt = msg.msg_iovlen;
	}
	__u64 left = ret;
	for (int i = 0; i < MAX_IOV; i++) {
		if (i >= iovcnt || left == 0)
			break;
		struct iovec v;
		if (bpf_probe_read_user(&v, sizeof(v), (void *)(iov + i * sizeof(v))))
			break;
		__u64 n = v.iov_len < left ? v.iov_len : left;
		emit_data(id, a.fd, c, dir, 0, (__u64)v.iov_base, n);
		left -= n;
	}
	if (left) /* more iovecs than MAX_IOV: say how much is missing */
		emit_data(id, a.fd, c, dir, FLAG_TRUNCATED, 0, left);
}

/* Syscall numbers of the 64-bit ABI (x86-64's own, arm64's the generic
 * table's). */
#if defined(__TARGET_ARCH_x86)
#define NR_read 0
#define NR_write 1
#define NR_close 3
#define NR_readv 19
#define NR_writev 20
#define NR_connect 42
#define NR_accept 43
#define NR_sendto 44
#define NR_recvfrom 45
#define NR_sendmsg 46
#define NR_recvmsg 47
#define NR_accept4 288
#else
#define NR_close 57
#define NR_read 63
#define NR_write 64
#define NR_readv 65
#define NR_writev 66
#define NR_accept 202
#define NR_connect 203
#define NR_sendto 206
#define NR_recvfrom 207
#define NR_sendmsg 211
#define NR_recvmsg 212
#define NR_accept4 242
#endif

#define TS_COMPAT 0x0002 /* x86: a 32-bit syscall, numbered otherwise */

static __always_inline void connected(struct pt_regs *regs, long ret, __u64 id)
{
	if ((ret != 0 && ret != -EINPROGRESS) || skip(id))
		return;
	struct sys_args a = {};
	sys_args_at_exit(regs, &a);
	conn_of(id, a.fd, true, ROLE_CLIENT);
}

static __always_inline void accepted(long ret, __u64 id)
{
	if (ret < 0 || skip(id))
		return;
	conn_of(id, ret, true, ROLE_SERVER);
}

/* closed forgets the fd a successful close released. At exit rather than at
 * entry, so that one program serves every syscall: another thread may have
 * been given the same fd number in between, and then loses its entry, which
 * its next call recreates (as a connection of unknown side, with a new id). */
static __always_inline void closed(struct pt_regs *regs, long ret, __u64 id)
{
	struct sys_args a = {};
	if (ret != 0)
		return;
	sys_args_at_exit(regs, &a);
	struct conn_key k = {.tgid = id >> 32, .fd = a.fd, .mm = image_of()};
	struct conn *c = bpf_map_lookup_elem(&conns, &k);
	if (!c)
		return;
	if (c->kind == CONN_TCP && !c->mute)
		emit_event(id, k.fd, c, KIND_CLOSE);
	bpf_map_delete_elem(&conns, &k);
}

/* One raw tracepoint on every syscall's exit, dispatching on the syscall
 * number. The per-syscall tracepoints (syscalls/sys_exit_read...) go
 * through perf's trace buffer on each call, which cost about 1.5 µs per
 * loopback HTTP request in all (make bench-ebpf, programs returning at
 * once); the raw tracepoint calls the program directly. */
SEC("raw_tracepoint/sys_exit")
int sys_exit_raw(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!regs)
		return 0;
	long ret = ctx->args[1];
#if defined(__TARGET_ARCH_x86)
	long nr = regs->orig_ax;
	if (bpf_core_field_exists(task->thread_info.status) && (task->thread_info.status & TS_COMPAT))
		return 0;
#else
	long nr = regs->syscallno;
#endif
	__u8 dir;
	__u32 kind;
	int flags_arg = 0;
	switch (nr) {
	case NR_read:
		dir = DIR_INGRESS, kind = ARGS_BUF;
		break;
	case NR_recvfrom:
		dir = DIR_INGRESS, kind = ARGS_BUF, flags_arg = 3;
		break;
	case NR_readv:
		dir = DIR_INGRESS, kind = ARGS_IOV;
		break;
	case NR_recvmsg:
		dir = DIR_INGRESS, kind = ARGS_MSG, flags_arg = 2;
		break;
	case NR_write:
	case NR_sendto:
		dir = DIR_EGRESS, kind = ARGS_BUF;
		break;
	case NR_writev:
		dir = DIR_EGRESS, kind = ARGS_IOV;
		break;
	case NR_sendmsg:
		dir = DIR_EGRESS, kind = ARGS_MSG;
		break;
	case NR_connect:
		connected(regs, ret, bpf_get_current_pid_tgid());
		return 0;
	case NR_accept:
	case NR_accept4:
		accepted(ret, bpf_get_current_pid_tgid());
		return 0;
	case NR_close:
		closed(regs, ret, bpf_get_current_pid_tgid());
		return 0;
	default:
		return 0;
	}
	sys_exit(regs, ret, dir, kind, flags_arg);
	return 0;
}

/* OpenSSL. */

static __always_inline void ssl_enter(__u64 ssl, __u64 buf, __u64 outlen, __u32 kind)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (skip(id))
		return;
	struct ssl_args a = {.ssl = ssl, .buf = buf, .outlen = outlen, .kind = kind};
	__u32 zero = 0;
	__u64 *active = bpf_map_lookup_elem(&ssl_active, &zero);
	if (!active)
		return;
	__sync_fetch_and_add(active, 1);
	bpf_map_update_elem(&ssl_inflight, &id, &a, BPF_ANY);
}

static __always_inline void ssl_exit(long ret, __u8 dir)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct ssl_args *ap = bpf_map_lookup_elem(&ssl_inflight, &id);
	if (!ap)
		return;
	struct ssl_args a = *ap;
	if (bpf_map_delete_elem(&ssl_inflight, &id) == 0) {
		__u32 zero = 0;
		__u64 *active = bpf_map_lookup_elem(&ssl_active, &zero);
		if (active)
			__sync_fetch_and_sub(active, 1);
	}

	__u64 n;
	if (a.kind == SSL_HANDSHAKE) {
		return;
	} else if (a.kind == SSL_EX) {
		__u64 out = 0;
		if ((int)ret != 1 || bpf_probe_read_user(&out, sizeof(out), (void *)a.outlen))
			return;
		n = out;
	} else {
		if ((int)ret <= 0)
			return;
		n = (int)ret;
	}
	struct ssl_key sk = {.tgid = id >> 32, .ssl = a.ssl};
	__s32 *fdp = bpf_map_lookup_elem(&ssl_fds, &sk);
	__s32 fd = fdp ? *fdp : -1;
	struct conn *c = 0;
	if (fd >= 0)
		c = conn_of(id, fd, false, ROLE_UNKNOWN);
	if (c && c->kind != CONN_TCP)
		c = 0;
	if (c && c->mute)
		return;
	emit_data(id, fd, c, dir, FLAG_TLS, a.buf, n);
}

SEC("uprobe/SSL_set_fd")
int BPF_KPROBE(ssl_set_fd, void *ssl, int fd)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (skip(id))
		return 0;
	struct conn *c = conn_of(id, fd, false, ROLE_UNKNOWN);
	if (!c || c->kind != CONN_TCP)
		return 0;
	c->tls = 1;
	struct ssl_key sk = {.tgid = id >> 32, .ssl = (__u64)ssl};
	bpf_map_update_elem(&ssl_fds, &sk, &fd, BPF_ANY);
	return 0;
}

/* BPF_KPROBE/BPF_KRETPROBE read the arguments from pt_regs, as uprobes need. */
#define SSL_DATA(name, dir, kind)                                              \
	SEC("uprobe/" #name)                                                   \
	int BPF_KPROBE(up_##name, void *ssl, void *buf, __u64 num, void *out)  \
	{                                                                      \
		ssl_enter((__u64)ssl, (__u64)buf, (__u64)out, kind);           \
		return 0;                                                      \
	}                                                                      \
	SEC("uretprobe/" #name)                                                \
	int BPF_KRETPROBE(uret_##name, long ret)                               \
	{                                                                      \
		ssl_exit(ret, dir);                                            \
		return 0;                                                      \
	}

/* int SSL_read(SSL *, void *buf, int num); int SSL_read_ex(SSL *, void *buf,
 * size_t num, size_t *readbytes); likewise for the writes. */
SSL_DATA(SSL_read, DIR_INGRESS, SSL_PLAIN)
SSL_DATA(SSL_write, DIR_EGRESS, SSL_PLAIN)
SSL_DATA(SSL_read_ex, DIR_INGRESS, SSL_EX)
SSL_DATA(SSL_write_ex, DIR_EGRESS, SSL_EX)

/* Handshakes make socket syscalls too: tracking them marks the fd as TLS
 * before its first encrypted byte is reported as plain data. */
#define SSL_HS(name)                                                           \
	SEC("uprobe/" #name)                                                   \
	int BPF_KPROBE(up_##name, void *ssl)                                   \
	{                                                                      \
		ssl_enter((__u64)ssl, 0, 0, SSL_HANDSHAKE);                    \
		return 0;                                                      \
	}                                                                      \
	SEC("uretprobe/" #name)                                                \
	int BPF_KRETPROBE(uret_##name, long ret)                               \
	{                                                                      \
		ssl_exit(ret, 0);                                              \
		return 0;                                                      \
	}

SSL_HS(SSL_do_handshake)
SSL_HS(SSL_connect)
SSL_HS(SSL_accept)

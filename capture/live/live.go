// Package live captures frames from network interfaces (a SPAN/mirror port,
// a TAP, a traffic-mirroring target) through AF_PACKET sockets with a
// TPACKET_V3 memory-mapped ring, and hands them out one at a time like the
// file reader in package capture.
//
// Each interface gets Workers sockets; with more than one they join a
// PACKET_FANOUT_HASH group, so the kernel spreads flows over them by a
// symmetric flow hash. One goroutine per socket copies frames out of its
// ring into batches on a bounded queue; Next reads the queue (with several
// interfaces, in timestamp order: see merger). When the
// consumer falls behind, the goroutines block, the rings fill and the kernel
// drops: overload always shows up as kernel drops in Stats, never as
// unbounded memory.
//
// A tcpdump filter expression is compiled with libpcap and attached to every
// socket, so unwanted traffic never leaves the kernel. Frames arrive with
// the VLAN tag the kernel stripped put back, so capture.Decoder sees them as
// on the wire (VLANs, QinQ, VXLAN and the other tunnels it knows).
//
// Compiling filters needs libpcap at build time (cgo, Debian's libpcap-dev;
// `make deps` installs it). Capturing needs CAP_NET_RAW, and the tests
// that use veth pairs in network namespaces need root, ip and tcpreplay.
package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"

	"github.com/specter-dev/specter/capture"
)

// ErrClosed is returned by Next after Close.
var ErrClosed = errors.New("live: source closed")

const (
	defaultSnapLen = 262144
	// maxWorkers bounds the sockets (hence rings) per interface.
	maxWorkers = 64
	// blockTimeout is how long the kernel waits before handing over a
	// partly filled block, hence the latency of a quiet link.
	blockTimeout = 10 * time.Millisecond
	// pollTimeout bounds a reader's wait in poll(2), hence how quickly it
	// notices Close and how soon a partial batch is handed on. It exceeds
	// blockTimeout so that a timeout means the ring is empty.
	pollTimeout = 25 * time.Millisecond
	// A batch holds up to batchFrames frames or batchBytes of data (more
	// if the snap length is larger), and is handed on once its first frame
	// is batchDelay old even if not full.
	batchFrames = 1024
	batchBytes  = 1 << 20
	batchDelay  = 5 * time.Millisecond
	// queuePerSocket is the number of full batches waiting for Next, per
	// socket: the queue holds at most sockets*queuePerSocket*batchBytes.
	queuePerSocket = 4
	// drainTime bounds how long the readers keep emptying their rings
	// after Stop or the context's cancellation, for a link that never
	// goes quiet.
	drainTime = 2 * time.Second
	// discardTime bounds how long Open spends discarding the frames that
	// arrived before the filter was attached.
	discardTime = time.Second
)

// Options configures a Source. The zero value of every field but
// Interfaces means its default.
type Options struct {
	// Interfaces to capture on, at least one. Frames of all of them come
	// out of one Source (both directions of a mirrored link arriving on
	// two ports, for instance).
	Interfaces []string
	// Filter is a tcpdump expression applied in the kernel, "" for all
	// traffic. Remember the encapsulation: VXLAN mirror traffic needs
	// "udp port 4789" to get through.
	Filter string
	// RingSizeMB is the size of each socket's ring in MiB (default 128,
	// 1..4096). Rings of 8 MiB and more are made of 1 MiB blocks, smaller
	// rings of 8 smaller blocks; the frame size is 2048 (TPACKET_V3 packs
	// frames of any size into a block, up to the block size).
	RingSizeMB int
	// Promisc puts the interfaces in promiscuous mode while the sockets
	// are open (a membership, undone by the kernel when they close).
	Promisc bool
	// Workers is the number of sockets per interface (default 1). With
	// more than one, or with a FanoutGroup, the sockets of an interface
	// join a PACKET_FANOUT_HASH group (with defragmentation, so the
	// fragments of a datagram stay together).
	Workers int
	// FanoutGroup is the fanout group id of the first interface; the n-th
	// interface uses FanoutGroup+n, since a group cannot span interfaces.
	// Sockets of other processes that join the same id share the load.
	// 0 picks an id from the process id when Workers > 1.
	FanoutGroup int
	// SnapLen caps the bytes kept of each frame (default 262144; the
	// block size caps it too). Longer frames are kept truncated and
	// counted in Stats.Truncated.
	SnapLen int
	// Dedup drops a frame whose bytes equal a frame seen within
	// DedupWindow (default 2ms), remembering at most DedupEntries frames
	// (default 8192): duplicates from a SPAN session, or the same frame
	// mirrored onto two interfaces. Dropped frames count in
	// Stats.Duplicates.
	Dedup        bool
	DedupWindow  time.Duration
	DedupEntries int
}

// Stats counts what a Source captured. Counts are cumulative since Open.
type Stats struct {
	// Packets and Bytes are the frames (and their captured bytes) read
	// from the rings, duplicates included.
	Packets, Bytes uint64
	// KernelPackets counts the frames that passed the filter in the
	// kernel; KernelDrops those of them lost because a ring was full;
	// KernelFreezes the times a ring ran out of free blocks.
	KernelPackets, KernelDrops, KernelFreezes uint64
	// Duplicates counts the frames dropped by Dedup.
	Duplicates uint64
	// DedupEvicted counts the frames Dedup forgot before their window
	// ended because its table was full: duplicates of them get through.
	DedupEvicted uint64
	// Truncated counts frames longer than the snap length (kept, cut).
	Truncated uint64
	// Interfaces breaks the counts down by interface, in Options order.
	Interfaces []InterfaceStats
}

// InterfaceStats counts what was captured on one interface.
type InterfaceStats struct {
	Name                                      string
	Packets, Bytes                            uint64
	KernelPackets, KernelDrops, KernelFreezes uint64
	Truncated                                 uint64
}

// Source reads frames from AF_PACKET rings on one or more interfaces.
//
// Next must be called from one goroutine; Stats, Stop and Close may be
// called from any.
type Source struct {
	opts  Options
	ring  ringGeometry
	socks []*socket
	queue chan *batch // full batches for Next
	free  chan *batch // batches Next is done with
	stop  chan struct{}
	kill  chan struct{}

	stopOnce, killOnce sync.Once
	wg                 sync.WaitGroup
	done               chan struct{} // closed when every reader has exited
	errMu              sync.Mutex
	err                error // first read error

	// Owned by the goroutine calling Next.
	cur    *batch
	pos    int
	merge  *merger // nil with a single interface
	dedup  *dedup
	dups   atomic.Uint64
	evicts atomic.Uint64
}

type socket struct {
	index int // in Source.socks
	iface int
	name  string
	tp    *afpacket.TPacket

	packets, bytes, truncated atomic.Uint64

	// kept is the first filtered frame, read while discarding what came
	// before the filter; the reader hands it on first.
	kept     []byte
	keptInfo gopacket.CaptureInfo

	mu     sync.Mutex // guards tp's socket statistics and closing
	closed bool
	kstats afpacket.SocketStatsV3
}

// frameRec locates a frame in its batch's buffer.
type frameRec struct {
	off, n int
	info   gopacket.CaptureInfo
}

type batch struct {
	sock   int // index in Source.socks
	buf    []byte
	frames []frameRec
}

// Open opens a socket (Workers of them) on every interface, attaches the
// filter and starts reading. Cancelling ctx stops the source like Stop: what
// the rings hold is still delivered, then Next returns io.EOF.
func Open(ctx context.Context, opts Options) (*Source, error) {
	if len(opts.Interfaces) == 0 {
		return nil, errors.New("live: no interface given")
	}
	if opts.RingSizeMB == 0 {
		opts.RingSizeMB = defaultRingMB
	}
	if opts.Workers <= 0 {
		opts.Workers = 1
	}
	if opts.Workers > maxWorkers {
		return nil, fmt.Errorf("live: %d workers per interface, at most %d", opts.Workers, maxWorkers)
	}
	if opts.SnapLen <= 0 {
		opts.SnapLen = defaultSnapLen
	}
	if opts.DedupWindow <= 0 {
		opts.DedupWindow = defaultDedupWindow
	}
	if opts.DedupEntries <= 0 {
		opts.DedupEntries = defaultDedupEntries
	}
	if opts.DedupEntries > maxDedupEntries {
		return nil, fmt.Errorf("live: dedup entries %d over the limit %d", opts.DedupEntries, maxDedupEntries)
	}
	if opts.FanoutGroup < 0 || opts.FanoutGroup+len(opts.Interfaces) > 1<<16 {
		return nil, fmt.Errorf("live: fanout group %d out of range 0..%d", opts.FanoutGroup, 1<<16-len(opts.Interfaces))
	}
	ring, err := geometry(opts.RingSizeMB, os.Getpagesize())
	if err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	var filter []bpf.RawInstruction
	// Without an expression a program is only needed for a snap length
	// below the default: its return value is how the kernel applies one.
	if opts.Filter != "" || opts.SnapLen < defaultSnapLen {
		if filter, err = CompileFilter(opts.Filter, opts.SnapLen); err != nil {
			return nil, fmt.Errorf("live: %w", err)
		}
	}
	group := opts.FanoutGroup
	fanout := group != 0 || opts.Workers > 1
	if group == 0 {
		group = os.Getpid() % (1<<16 - len(opts.Interfaces))
	}

	s := &Source{
		opts: opts,
		ring: ring,
		stop: make(chan struct{}),
		kill: make(chan struct{}),
		done: make(chan struct{}),
	}
	if opts.Dedup {
		s.dedup = newDedup(opts.DedupWindow, opts.DedupEntries)
	}
	for i, name := range opts.Interfaces {
		for w := 0; w < opts.Workers; w++ {
			k, err := openSocket(name, ring, filter, opts.Promisc, fanout, uint16(group+i))
			if err != nil {
				s.closeSockets()
				return nil, fmt.Errorf("live: interface %s: %w", name, err)
			}
			k.iface = i
			k.index = len(s.socks)
			s.socks = append(s.socks, k)
		}
	}
	n := len(s.socks)
	s.queue = make(chan *batch, n*queuePerSocket)
	if len(opts.Interfaces) > 1 {
		s.merge = newMerger(n, n*queuePerSocket)
	}
	s.free = make(chan *batch, n*queuePerSocket+n+1)
	for _, k := range s.socks {
		s.wg.Add(1)
		go s.read(k)
	}
	go func() {
		s.wg.Wait()
		close(s.queue)
		close(s.done)
	}()
	if ctx.Done() != nil {
		go func() {
			select {
			case <-ctx.Done():
				s.Stop()
			case <-s.done:
			}
		}()
	}
	return s, nil
}

func openSocket(name string, ring ringGeometry, filter []bpf.RawInstruction, promisc, fanout bool, group uint16) (*socket, error) {
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(name),
		afpacket.TPacketVersion3,
		afpacket.OptBlockSize(ring.BlockSize),
		afpacket.OptFrameSize(ring.FrameSize),
		afpacket.OptNumBlocks(ring.NumBlocks),
		afpacket.OptBlockTimeout(blockTimeout),
		afpacket.OptPollTimeout(pollTimeout),
		// The decoder wants frames as on the wire, tag included.
		afpacket.OptAddVLANHeader(true),
	)
	if err != nil {
		return nil, fmt.Errorf("AF_PACKET TPACKET_V3 socket (%d blocks of %d bytes): %w", ring.NumBlocks, ring.BlockSize, err)
	}
	k := &socket{name: name, tp: tp}
	if filter != nil {
		if err := tp.SetBPF(filter); err != nil {
			tp.Close()
			return nil, fmt.Errorf("attaching the filter: %w", err)
		}
		// The socket saw every frame between its creation and the
		// filter: throw them away so only filtered traffic comes out.
		k.discardPending(time.Now())
	}
	if promisc {
		if err := tp.SetPromiscuous(true); err != nil {
			tp.Close()
			return nil, fmt.Errorf("promiscuous mode: %w", err)
		}
	}
	// Frames read before the socket joins its fanout group may also reach
	// another socket of the group: harmless duplicates for reassembly,
	// where discarding them could lose frames nobody else got.
	if fanout {
		// FanoutHashWithDefrag is the defrag flag: ORed with the hash
		// mode it keeps the fragments of one datagram on one socket.
		if err := tp.SetFanout(afpacket.FanoutHash|afpacket.FanoutHashWithDefrag, group); err != nil {
			tp.Close()
			return nil, fmt.Errorf("joining fanout group %d: %w", group, err)
		}
	}
	if err := tp.InitSocketStats(); err != nil {
		tp.Close()
		return nil, fmt.Errorf("socket statistics: %w", err)
	}
	return k, nil
}

// discardPending drops the frames the ring received before the filter was
// attached at the time attached: it reads until the ring is empty (one poll
// timeout without a frame) or a frame is newer, which it keeps for the
// reader. On a busy link it gives up after discardTime.
func (k *socket) discardPending(attached time.Time) {
	deadline := time.Now().Add(discardTime)
	for time.Now().Before(deadline) {
		data, ci, err := k.next()
		if err != nil {
			return
		}
		if ci.Timestamp.After(attached) {
			k.kept = append([]byte(nil), data...)
			k.keptInfo = ci
			return
		}
	}
}

// next returns the frame discardPending kept, if any, then the ring's
// frames; the data is valid until the following call.
func (k *socket) next() ([]byte, gopacket.CaptureInfo, error) {
	if k.kept != nil {
		data, ci := k.kept, k.keptInfo
		k.kept = nil
		return data, ci, nil
	}
	return k.tp.ZeroCopyReadPacketData()
}

// read copies frames from one socket's ring into batches for Next until the
// source is killed, or stopped and the ring is drained.
func (s *Source) read(k *socket) {
	defer s.wg.Done()
	defer k.close()
	var b *batch
	var first time.Time // timestamp of b's first frame
	draining := false
	var deadline time.Time
	var drained int
	send := func() bool {
		if b == nil || len(b.frames) == 0 {
			return true
		}
		select {
		case s.queue <- b:
			b = nil
			return true
		case <-s.kill:
			return false
		}
	}
	for {
		if !draining {
			select {
			case <-s.stop:
				draining = true
				deadline = time.Now().Add(drainTime)
			case <-s.kill:
				return
			default:
			}
		}
		data, ci, err := k.next()
		if err != nil {
			if errors.Is(err, afpacket.ErrTimeout) || errors.Is(err, syscall.EINTR) {
				if !send() || draining {
					return
				}
				continue
			}
			s.setErr(fmt.Errorf("live: reading %s: %w", k.name, err))
			send()
			return
		}
		k.packets.Add(1)
		k.bytes.Add(uint64(len(data)))
		if ci.CaptureLength < ci.Length {
			k.truncated.Add(1)
		}
		if b != nil && len(b.buf)+len(data) > cap(b.buf) {
			if !send() {
				return
			}
		}
		if b == nil {
			b = s.getBatch()
			b.sock = k.index
			first = ci.Timestamp
		}
		off := len(b.buf)
		b.buf = append(b.buf, data...)
		// The VLAN tag is back in the data; the ancillary copy would
		// cost an allocation per frame.
		ci.AncillaryData = nil
		b.frames = append(b.frames, frameRec{off: off, n: len(data), info: ci})
		if len(b.frames) >= batchFrames || ci.Timestamp.Sub(first) >= batchDelay {
			if !send() {
				return
			}
		}
		if draining {
			drained += len(data)
			if drained >= s.ring.Bytes() || time.Now().After(deadline) {
				send()
				return
			}
		}
	}
}

func (s *Source) getBatch() *batch {
	select {
	case b := <-s.free:
		return b
	default:
	}
	size := batchBytes
	if s.opts.SnapLen > size {
		size = s.opts.SnapLen
	}
	return &batch{buf: make([]byte, 0, size), frames: make([]frameRec, 0, batchFrames)}
}

func (s *Source) putBatch(b *batch) {
	b.buf = b.buf[:0]
	b.frames = b.frames[:0]
	select {
	case s.free <- b:
	default: // the pool is full: let the collector have it
	}
}

func (s *Source) setErr(err error) {
	s.errMu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.errMu.Unlock()
}

// ErrTick is returned by NextTick when its tick channel fires first.
var ErrTick = errors.New("live: tick")

// Next returns the next frame (LinkType Ethernet; Info.InterfaceIndex names
// the interface it came from). Frame.Data is valid until the next call. It
// blocks until a frame arrives; after Stop or the cancellation of Open's
// context it returns what the rings held, then io.EOF; after Close it
// returns ErrClosed. A failed socket ends the source with its error.
func (s *Source) Next() (capture.Frame, error) {
	return s.next(nil)
}

// NextTick is Next, except that it returns ErrTick when tick fires before a
// frame is ready, so that a single consumer goroutine can move its clocks
// on a quiet link.
func (s *Source) NextTick(tick <-chan time.Time) (capture.Frame, error) {
	return s.next(tick)
}

// frame returns the frame r of b, or ok=false when Dedup drops it.
func (s *Source) frame(b *batch, r frameRec) (f capture.Frame, ok bool) {
	data := b.buf[r.off : r.off+r.n : r.off+r.n]
	if s.dedup != nil {
		dup := s.dedup.duplicate(data, r.info.Timestamp)
		s.evicts.Store(s.dedup.Evicted)
		if dup {
			s.dups.Store(s.dedup.Dropped)
			return f, false
		}
	}
	return capture.Frame{Data: data, Info: r.info, LinkType: layers.LinkTypeEthernet}, true
}

// endErr is what Next returns once the queue is closed and empty.
func (s *Source) endErr() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	if s.err != nil {
		return s.err
	}
	return io.EOF
}

func (s *Source) next(tick <-chan time.Time) (capture.Frame, error) {
	if s.merge != nil {
		return s.nextMerged(tick)
	}
	for {
		if b := s.cur; b != nil && s.pos < len(b.frames) {
			r := b.frames[s.pos]
			s.pos++
			if f, ok := s.frame(b, r); ok {
				return f, nil
			}
			continue
		}
		if s.cur != nil {
			s.putBatch(s.cur)
			s.cur = nil
		}
		select {
		case <-s.kill:
			return capture.Frame{}, ErrClosed
		default:
		}
		select {
		case b, ok := <-s.queue:
			if !ok {
				return capture.Frame{}, s.endErr()
			}
			s.cur, s.pos = b, 0
		case <-s.kill:
			return capture.Frame{}, ErrClosed
		case <-tick:
			return capture.Frame{}, ErrTick
		}
	}
}

// Stop ends the capture gracefully: the readers empty their rings (for at
// most a ring's worth of data or two seconds) and Next returns io.EOF once
// it has returned all of it. It does not wait.
func (s *Source) Stop() {
	s.stopOnce.Do(func() { close(s.stop) })
}

// Close stops the capture at once, discarding what is buffered, unblocks a
// pending Next (which returns ErrClosed), waits for the readers to exit
// (within a poll timeout) and closes the sockets. Stats still work after.
func (s *Source) Close() error {
	s.Stop()
	s.killOnce.Do(func() { close(s.kill) })
	<-s.done
	return nil
}

// Stats returns the counters so far; the kernel's come from each socket's
// PACKET_STATISTICS, summed over the sockets of an interface.
func (s *Source) Stats() Stats {
	st := Stats{
		Duplicates:   s.dups.Load(),
		DedupEvicted: s.evicts.Load(),
		Interfaces:   make([]InterfaceStats, len(s.opts.Interfaces)),
	}
	for i, name := range s.opts.Interfaces {
		st.Interfaces[i].Name = name
	}
	for _, k := range s.socks {
		is := &st.Interfaces[k.iface]
		is.Packets += k.packets.Load()
		is.Bytes += k.bytes.Load()
		is.Truncated += k.truncated.Load()
		ks := k.socketStats()
		is.KernelPackets += uint64(ks.Packets())
		is.KernelDrops += uint64(ks.Drops())
		is.KernelFreezes += uint64(ks.QueueFreezes())
	}
	for _, is := range st.Interfaces {
		st.Packets += is.Packets
		st.Bytes += is.Bytes
		st.Truncated += is.Truncated
		st.KernelPackets += is.KernelPackets
		st.KernelDrops += is.KernelDrops
		st.KernelFreezes += is.KernelFreezes
	}
	return st
}

// socketStats returns the cumulative kernel counters, the last ones read
// once the socket is closed.
func (k *socket) socketStats() afpacket.SocketStatsV3 {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.closed {
		if _, v3, err := k.tp.SocketStats(); err == nil {
			k.kstats = v3
		}
	}
	return k.kstats
}

func (k *socket) close() {
	k.socketStats()
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.closed {
		k.closed = true
		k.tp.Close()
	}
}

// closeSockets closes sockets opened before a failing one in Open.
func (s *Source) closeSockets() {
	for _, k := range s.socks {
		k.close()
	}
}

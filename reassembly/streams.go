package reassembly

import (
	"net/netip"
	"time"
)

// Process is the process that sent or received an exchange, when the
// capture can tell (eBPF on the host); nil for traffic from a wire.
type Process struct {
	PID         uint32 `json:"pid"`
	Comm        string `json:"comm"`
	Cgroup      uint64 `json:"cgroup,omitempty"`
	ContainerID string `json:"container_id,omitempty"`
}

// Direction is the way bytes flowed through a socket, seen from the
// process that owns it.
type Direction uint8

// Directions of a stream chunk.
const (
	Ingress Direction = iota // read by the process
	Egress                   // written by the process
)

// StreamMeta describes a socket whose bytes arrive already in order (from
// eBPF, not from packets).
type StreamMeta struct {
	Local, Remote netip.AddrPort
	Process       Process
}

// Streams turns ordered per-socket byte streams into exchanges: the input
// eBPF capture has, where the kernel already did the TCP reassembly. Each
// socket gets the same HTTP/1 parsing and request/response pairing as a
// reassembled TCP connection. Which side is the client is decided from the
// content, as for packets.
//
// Streams is not safe for concurrent use; emit is called synchronously.
type Streams struct {
	shard
	emit  func(*Exchange)
	conns map[uint64]*streamConn
	clock time.Time
}

type streamConn struct {
	*conn
	proc *Process // shared by the socket's exchanges
}

// NewStreams returns a Streams delivering to emit. cfg's MaxConnections
// bounds the sockets tracked (the least recently active are closed), its
// IdleTimeout how long a silent one is kept (see Flush), its HTTP field the
// parser; the packet-only limits are ignored.
func NewStreams(cfg Config, emit func(*Exchange)) *Streams {
	cfg.normalize()
	s := &Streams{emit: emit, conns: map[uint64]*streamConn{}}
	s.shard = shard{cfg: &cfg, maxConns: cfg.MaxConnections, out: s.deliver, memBudget: cfg.MaxBufferedBytes}
	return s
}

func (s *Streams) deliver(c *conn, x *Exchange) {
	if x == nil {
		return
	}
	if sc := s.conns[c.id]; sc != nil && sc.conn == c {
		x.Process = sc.proc
	}
	s.emit(x)
}

// Data feeds the next bytes of socket id in direction dir. The bytes are
// copied as needed; data may be reused after the call.
func (s *Streams) Data(id uint64, meta StreamMeta, dir Direction, data []byte, ts time.Time) {
	c := s.get(id, meta, ts)
	c.hadData = true
	c.half[dir].feed(data, ts)
	s.account(c.conn)
	s.shedMemory(ts)
}

// Gap reports that n bytes of socket id in direction dir were lost (a
// chunk dropped by a full ring buffer, or cut at the chunk size cap).
func (s *Streams) Gap(id uint64, meta StreamMeta, dir Direction, n int, ts time.Time) {
	c := s.get(id, meta, ts)
	s.ctr.gaps.Add(1)
	if n > 0 {
		s.ctr.gapBytes.Add(uint64(n))
	}
	c.half[dir].gap(n, ts)
	s.account(c.conn)
}

// Close ends socket id: its parsers finish what they hold and requests
// still waiting are reported unmatched.
func (s *Streams) Close(id uint64, ts time.Time) {
	if c := s.conns[id]; c != nil {
		c.lastSeen = ts
		c.finish()
		delete(s.conns, id)
	}
}

// Flush closes the sockets silent for longer than the idle timeout.
func (s *Streams) Flush(now time.Time) {
	cut := now.Add(-s.cfg.IdleTimeout)
	for s.tail != nil && s.tail.lastSeen.Before(cut) {
		s.Close(s.tail.id, now)
	}
}

// CloseAll ends every socket, at the end of a capture.
func (s *Streams) CloseAll(now time.Time) {
	for s.tail != nil {
		s.Close(s.tail.id, now)
	}
}

// Stats returns the counters so far.
func (s *Streams) Stats() Stats {
	var st Stats
	s.ctr.addTo(&st)
	st.TLS = s.cfg.TLS.Stats()
	_, st.TLSServicesDropped = mergeTLS([]*tlsTable{&s.tls})
	st.addDecoding(s.cfg.HTTP.Decoding.Stats())
	return st
}

// TLSServices returns the TLS services of the sockets closed so far.
func (s *Streams) TLSServices() []TLSService {
	svc, _ := mergeTLS([]*tlsTable{&s.tls})
	return svc
}

func (s *Streams) get(id uint64, meta StreamMeta, ts time.Time) *streamConn {
	if ts.After(s.clock) {
		s.clock = ts
	}
	if c := s.conns[id]; c != nil {
		s.touch(c.conn, ts)
		return c
	}
	if s.open >= s.maxConns && s.tail != nil {
		s.ctr.evicted.Add(1)
		s.Close(s.tail.id, ts)
	}
	// The local side is direction Egress's source; Ingress bytes come
	// from the remote side.
	seg := &segment{src: meta.Remote.Addr(), dst: meta.Local.Addr(), ts: ts}
	seg.tcp.SrcPort, seg.tcp.DstPort = 0, 0
	proc := meta.Process
	c := &streamConn{conn: newConn(&s.shard, id, seg), proc: &proc}
	// Direction index 0 (Ingress) flows remote → local, 1 (Egress) local →
	// remote.
	c.addrs[Ingress], c.addrs[Egress] = meta.Remote, meta.Local
	c.sawSYN = true
	c.lastSeen = ts
	s.open++
	s.pushFront(c.conn)
	s.conns[id] = c
	return c
}

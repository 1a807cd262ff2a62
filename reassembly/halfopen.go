package reassembly

import (
	"container/list"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"

	"github.com/specter-dev/specter/capture"
)

// halfOpen holds the SYN segments of flows that sent nothing else yet,
// outside the reassembler, in a budget of their own (Config.MaxHalfOpen).
// A flow's SYNs are handed to the reassembler, in order, just before its
// first other segment. So a SYN flood costs a bounded table and never
// makes connections that carry data leave the MaxConnections budget: at
// 100k SYN/s, every connection slower than MaxConnections/100k seconds
// would otherwise be evicted and split into unmatched halves.
//
// Forgetting a flow's SYNs (past the budget, oldest first, or after
// IdleTimeout) loses no data: if the flow speaks later, reassembly starts
// at its first data segment, as for connections that began before the
// capture.
type halfOpen struct {
	max   int
	flows map[flowKey]*synFlow
	order list.List // of *synFlow, most recently active at the front
	free  *synFlow  // the last flow removed, reused for the next
	// replay is where release builds a flow's segments.
	replay [2]segment
}

// flowKey is a flow in a canonical direction, the same for both.
type flowKey struct{ net, tp gopacket.Flow }

func keyOf(net, tp gopacket.Flow) flowKey {
	src, dst := net.Endpoints()
	if dst.LessThan(src) {
		return flowKey{net.Reverse(), tp.Reverse()}
	}
	if !src.LessThan(dst) { // same address: order by port
		if ts, td := tp.Endpoints(); td.LessThan(ts) {
			return flowKey{net, tp.Reverse()}
		}
	}
	return flowKey{net, tp}
}

// synFlow is one half-open flow: the last SYN-bearing segment of each
// direction (a SYN, a SYN-ACK; a retransmission replaces the one before).
type synFlow struct {
	key  flowKey
	syn  [2]heldSYN // by direction: [0] the client's, as first seen
	dir0 gopacket.Flow
	last time.Time
	elem *list.Element // in halfOpen.order
}

// heldSYN is a copy of a SYN segment without payload: its TCP header (at
// most 60 bytes) and what the reassembler needs besides.
type heldSYN struct {
	hdr      [60]byte
	n        uint8 // 0: none held
	netFlow  gopacket.Flow
	src, dst netip.Addr
	zone     capture.Zone
	ts       time.Time
}

// hold takes s if it is a SYN (or SYN-ACK) without payload, keeping a copy,
// and reports whether it did. evicted is how many flows it forgot to make
// room.
func (h *halfOpen) hold(s *segment) (held bool, evicted int) {
	if !s.tcp.SYN || s.tcp.RST || s.tcp.FIN || len(s.tcp.Payload) > 0 || len(s.raw) > len(heldSYN{}.hdr) || h.max <= 0 {
		return false, 0
	}
	k := keyOf(s.netFlow, s.tcp.TransportFlow())
	f := h.flows[k]
	if f == nil {
		for len(h.flows) >= h.max {
			h.remove(h.order.Back().Value.(*synFlow))
			evicted++
		}
		f = h.free
		h.free = nil
		if f == nil {
			f = &synFlow{}
		}
		*f = synFlow{key: k, dir0: s.netFlow}
		if h.flows == nil {
			h.flows = map[flowKey]*synFlow{}
		}
		h.flows[k] = f
		f.elem = h.order.PushFront(f)
	} else {
		h.order.MoveToFront(f.elem)
	}
	d := 0
	if s.netFlow != f.dir0 {
		d = 1
	}
	y := &f.syn[d]
	y.n = uint8(copy(y.hdr[:], s.raw))
	y.netFlow, y.src, y.dst, y.zone, y.ts = s.netFlow, s.src, s.dst, s.zone, s.ts
	f.last = s.ts
	return true, evicted
}

// release removes the flow of s, if held, and returns its SYN segments in
// capture order, their TCP layers still to decode, valid until the next
// call on h.
func (h *halfOpen) release(s *segment) []segment {
	if len(h.flows) == 0 {
		return nil
	}
	f := h.flows[keyOf(s.netFlow, s.tcp.TransportFlow())]
	if f == nil {
		return nil
	}
	h.remove(f)
	out := h.replay[:0]
	for i := range f.syn {
		if y := &f.syn[i]; y.n > 0 {
			out = append(out, segment{raw: y.hdr[:y.n:y.n], netFlow: y.netFlow, src: y.src, dst: y.dst, zone: y.zone, ts: y.ts})
		}
	}
	if len(out) == 2 && out[1].ts.Before(out[0].ts) {
		out[0], out[1] = out[1], out[0]
	}
	return out
}

// expire forgets the flows last seen before t and returns how many.
func (h *halfOpen) expire(t time.Time) int {
	n := 0
	for e := h.order.Back(); e != nil && e.Value.(*synFlow).last.Before(t); e = h.order.Back() {
		h.remove(e.Value.(*synFlow))
		n++
	}
	return n
}

// remove forgets f, keeping it as the spare for the next flow (its held
// segments stay readable until then).
func (h *halfOpen) remove(f *synFlow) {
	delete(h.flows, f.key)
	h.order.Remove(f.elem)
	f.elem = nil
	h.free = f
}

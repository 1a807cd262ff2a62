package reassembly

import (
	"container/list"
	"time"

	"github.com/gopacket/gopacket"
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
	free  *synFlow  // one spare, to reuse its buffers
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

// maxHeldSYNs bounds the segments held per flow: a SYN, a SYN-ACK and
// retransmissions; past it the last one is replaced.
const maxHeldSYNs = 4

type synFlow struct {
	key  flowKey
	segs [maxHeldSYNs]segment // raw points into buf
	n    int
	buf  []byte
	last time.Time
	elem *list.Element // in halfOpen.order
}

// hold takes s if it is a SYN (or SYN-ACK) without payload, keeping a copy,
// and reports whether it did. evicted is how many flows it forgot to make
// room.
func (h *halfOpen) hold(s *segment) (held bool, evicted int) {
	if !s.tcp.SYN || s.tcp.RST || s.tcp.FIN || len(s.tcp.Payload) > 0 || h.max <= 0 {
		return false, 0
	}
	k := keyOf(s.netFlow, s.tcp.TransportFlow())
	f := h.flows[k]
	if f == nil {
		for len(h.flows) >= h.max {
			h.drop(h.order.Back().Value.(*synFlow))
			evicted++
		}
		f = h.free
		h.free = nil
		if f == nil {
			f = &synFlow{}
		}
		f.key = k
		if h.flows == nil {
			h.flows = map[flowKey]*synFlow{}
		}
		h.flows[k] = f
		f.elem = h.order.PushFront(f)
	} else {
		h.order.MoveToFront(f.elem)
	}
	i := f.n
	if i == maxHeldSYNs {
		i--
	} else {
		f.n++
	}
	// Each held segment's copy is appended to the flow's buffer; a
	// replaced last one leaks its bytes there, at most a few headers.
	start := len(f.buf)
	f.buf = append(f.buf, s.raw...)
	f.segs[i] = segment{raw: f.buf[start:len(f.buf):len(f.buf)], netFlow: s.netFlow, src: s.src, dst: s.dst, zone: s.zone, ts: s.ts}
	f.last = s.ts
	return true, evicted
}

// release removes the flow of s, if held, and returns its segments, oldest
// first, valid until the next call on h.
func (h *halfOpen) release(s *segment) []segment {
	if len(h.flows) == 0 {
		return nil
	}
	f := h.flows[keyOf(s.netFlow, s.tcp.TransportFlow())]
	if f == nil {
		return nil
	}
	segs := f.segs[:f.n]
	h.remove(f)
	h.recycle(f)
	return segs
}

// expire forgets the flows last seen before t and returns how many.
func (h *halfOpen) expire(t time.Time) int {
	n := 0
	for e := h.order.Back(); e != nil && e.Value.(*synFlow).last.Before(t); e = h.order.Back() {
		h.drop(e.Value.(*synFlow))
		n++
	}
	return n
}

// drop forgets f.
func (h *halfOpen) drop(f *synFlow) {
	h.remove(f)
	h.recycle(f)
}

func (h *halfOpen) remove(f *synFlow) {
	delete(h.flows, f.key)
	h.order.Remove(f.elem)
	f.elem = nil
}

// recycle keeps f's buffers for the next flow; its segments stay readable
// until then.
func (h *halfOpen) recycle(f *synFlow) {
	if cap(f.buf) > 1<<10 {
		return // grown by an odd flow: not worth keeping
	}
	if h.free != nil {
		return
	}
	f.n, f.buf = 0, f.buf[:0]
	h.free = f
}

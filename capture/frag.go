package capture

import (
	"bytes"
	"time"

	"github.com/gopacket/gopacket/ip4defrag"
	"github.com/gopacket/gopacket/ip6defrag"
	"github.com/gopacket/gopacket/layers"
)

// fragKey names one datagram under reassembly.
type fragKey struct {
	src, dst [16]byte
	id       uint32
	proto    uint8
}

// fragEntry mirrors one datagram held by the gopacket defragmenter.
type fragEntry struct {
	last  time.Time // capture time of its last (IPv6: first) fragment
	order time.Time // the defragmenter's own clock for it
	n     uint64    // fragments held
	size  int       // payload bytes held
}

// fragTable bounds a gopacket defragmenter, which has no limit of its own
// and can only forget datagrams by age on its own clock: the table mirrors
// its datagrams and, to evict one, discards everything up to that
// datagram's time on that clock.
type fragTable struct {
	m        map[fragKey]fragEntry
	max      int // datagrams
	maxBytes int // payload bytes over all datagrams
	bytes    int
	discard  func(before time.Time) int

	d4  *ip4defrag.IPv4Defragmenter
	seq int64 // the IPv4 defragmenter's clock: one tick per fragment
	d6  *ip6defrag.IPv6Defragmenter
}

func newFrag4(max, maxBytes int) *fragTable {
	t := &fragTable{m: make(map[fragKey]fragEntry), max: max, maxBytes: maxBytes, d4: ip4defrag.NewIPv4Defragmenter()}
	t.discard = t.d4.DiscardOlderThan
	return t
}

func newFrag6(max, maxBytes int) *fragTable {
	t := &fragTable{m: make(map[fragKey]fragEntry), max: max, maxBytes: maxBytes, d6: ip6defrag.NewIPv6Defragmenter()}
	t.discard = t.d6.DiscardOlderThan
	return t
}

// forgetUpTo drops every mirrored datagram at or before order from the
// defragmenter and the mirror, returning how many fragments they held.
func (t *fragTable) forgetUpTo(order time.Time) uint64 {
	t.discard(order.Add(time.Nanosecond))
	var dropped uint64
	for k, e := range t.m {
		if !e.order.After(order) {
			dropped += e.n
			t.remove(k)
		}
	}
	return dropped
}

// remove forgets a mirrored datagram.
func (t *fragTable) remove(k fragKey) {
	t.bytes -= t.m[k].size
	delete(t.m, k)
}

// store records one more fragment of a datagram held, then enforces the
// byte bound.
func (t *fragTable) store(k fragKey, e fragEntry, size int) uint64 {
	e.n++
	e.size += size
	t.bytes += size
	t.m[k] = e
	var dropped uint64
	for t.bytes > t.maxBytes && len(t.m) > 0 {
		dropped += t.evictOldest()
	}
	return dropped
}

// evictOldest discards the datagram with the oldest activity.
func (t *fragTable) evictOldest() uint64 {
	var oldest fragEntry
	first := true
	for _, e := range t.m {
		if first || e.last.Before(oldest.last) {
			oldest, first = e, false
		}
	}
	if first {
		return 0
	}
	return t.forgetUpTo(oldest.order)
}

// expire discards the datagrams whose last activity is before cut.
func (t *fragTable) expire(cut time.Time) uint64 {
	var upTo time.Time
	found := false
	for _, e := range t.m {
		if e.last.Before(cut) && (!found || e.order.After(upTo)) {
			upTo, found = e.order, true
		}
	}
	if !found {
		return 0
	}
	return t.forgetUpTo(upTo)
}

// add4 hands an IPv4 fragment to the defragmenter. It returns the whole
// datagram once complete, and the number of fragments dropped by the bound.
func (t *fragTable) add4(ip *layers.IPv4, ts time.Time) (*layers.IPv4, uint64, error) {
	var key fragKey
	copy(key.src[:], ip.SrcIP)
	copy(key.dst[:], ip.DstIP)
	key.id, key.proto = uint32(ip.Id), uint8(ip.Protocol)
	var dropped uint64
	e, exists := t.m[key]
	if !exists && len(t.m) >= t.max {
		dropped += t.evictOldest()
	}
	// The defragmenter keeps the layer it is given, and the decoder's
	// layer and the frame's bytes are reused: hand it a copy.
	cp := *ip
	cp.Contents, cp.Options, cp.Padding = nil, nil, nil
	cp.Payload = bytes.Clone(ip.Payload)
	cp.SrcIP = bytes.Clone(ip.SrcIP)
	cp.DstIP = bytes.Clone(ip.DstIP)
	t.seq++
	order := time.Unix(0, t.seq)
	out, err := t.d4.DefragIPv4WithTimestamp(&cp, order)
	if err != nil || out != nil {
		// Either way the defragmenter forgot the datagram.
		t.remove(key)
		if err != nil {
			dropped += e.n + 1
		}
		return out, dropped, err
	}
	e.last, e.order = ts, order
	return nil, dropped + t.store(key, e, len(cp.Payload)), nil
}

// add6 hands an IPv6 fragment to the defragmenter, like add4.
func (t *fragTable) add6(ip *layers.IPv6, fg *layers.IPv6Fragment, ts time.Time) (*layers.IPv6, uint64) {
	var key fragKey
	copy(key.src[:], ip.SrcIP)
	copy(key.dst[:], ip.DstIP)
	key.id = fg.Identification
	var dropped uint64
	e, exists := t.m[key]
	if !exists && len(t.m) >= t.max {
		dropped += t.evictOldest()
	}
	ipc := &layers.IPv6{
		Version: 6, TrafficClass: ip.TrafficClass, FlowLabel: ip.FlowLabel,
		NextHeader: ip.NextHeader, HopLimit: ip.HopLimit,
		SrcIP: bytes.Clone(ip.SrcIP), DstIP: bytes.Clone(ip.DstIP),
	}
	fgc := *fg
	fgc.Contents = nil
	fgc.Payload = bytes.Clone(fg.Payload)
	out := t.d6.DefragIPv6(ipc, &fgc)
	if out != nil {
		t.remove(key)
		return out, dropped
	}
	if !exists {
		// ip6defrag stamps a datagram with the wall clock when its first
		// fragment arrives; this is just after, hence at or after it.
		e.last, e.order = ts, time.Now()
	}
	return nil, dropped + t.store(key, e, len(fgc.Payload))
}

// len returns the number of datagrams held.
func (t *fragTable) len() int { return len(t.m) }

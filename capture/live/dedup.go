package live

import (
	"hash/maphash"
	"time"
)

// Dedup defaults. A SPAN session copies a frame within microseconds (the
// ingress and egress copies of one port, or the same frame on two mirrored
// ports); TCP never retransmits sooner than its minimum RTO (200 ms on
// Linux), so a window of a few milliseconds drops mirror copies and keeps
// real retransmissions.
const (
	defaultDedupWindow  = 2 * time.Millisecond
	defaultDedupEntries = 8192
	maxDedupEntries     = 1 << 22
)

// dedup remembers the hashes of the frames of the last window, at most
// len(ring) of them, and reports a frame whose bytes were already seen in
// it. When the ring is full the oldest hash is forgotten early, so at very
// high packet rates the window shrinks to the last len(ring) frames: some
// duplicates then get through (reassembly discards them), none of the
// originals is lost.
type dedup struct {
	window int64 // nanoseconds
	seed   maphash.Seed
	ring   []dedupEntry
	head   int // oldest entry
	n      int
	seen   map[uint64]int32 // hash -> entries in ring
	// Dropped counts the frames reported as duplicates; Evicted the hashes
	// forgotten before their window ended because the ring was full.
	Dropped, Evicted uint64
}

type dedupEntry struct {
	hash uint64
	ts   int64
}

func newDedup(window time.Duration, entries int) *dedup {
	return &dedup{
		window: int64(window),
		seed:   maphash.MakeSeed(),
		ring:   make([]dedupEntry, entries),
		seen:   make(map[uint64]int32, entries),
	}
}

// duplicate reports whether data was seen within the window before ts, and
// remembers it if not.
func (d *dedup) duplicate(data []byte, ts time.Time) bool {
	now := ts.UnixNano()
	// Timestamps from two interfaces interleave slightly out of order; an
	// entry "from the future" simply ages out later.
	for d.n > 0 && now-d.ring[d.head].ts > d.window {
		d.pop()
	}
	h := maphash.Bytes(d.seed, data)
	if d.seen[h] > 0 {
		d.Dropped++
		return true
	}
	if d.n == len(d.ring) {
		d.Evicted++
		d.pop()
	}
	d.ring[(d.head+d.n)%len(d.ring)] = dedupEntry{hash: h, ts: now}
	d.n++
	d.seen[h]++
	return false
}

func (d *dedup) pop() {
	h := d.ring[d.head].hash
	d.head = (d.head + 1) % len(d.ring)
	d.n--
	if c := d.seen[h]; c > 1 {
		d.seen[h] = c - 1
	} else {
		delete(d.seen, h)
	}
}

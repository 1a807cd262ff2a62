package reassembly

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// The merge heap hands items out in Less order, however pushes and pops
// interleave, ties on the clock included.
func TestItemHeapOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Unix(1_700_000_000, 0)
	for round := range 50 {
		var h itemHeap
		var in, out []item
		for range 200 {
			if h.Len() > 0 && rng.IntN(3) == 0 {
				out = append(out, h.pop())
				continue
			}
			it := item{
				clock:  t0.Add(time.Duration(rng.IntN(20)) * time.Millisecond), // many ties
				client: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(rng.IntN(3))}), uint16(rng.IntN(3))),
				server: netip.MustParseAddrPort("10.0.0.9:80"),
				conn:   uint64(rng.IntN(4)),
				seq:    uint32(len(in)),
			}
			if rng.IntN(4) > 0 {
				it.x = &Exchange{}
			}
			in = append(in, it)
			h.push(it)
		}
		for h.Len() > 0 {
			out = append(out, h.pop())
		}
		if len(out) != len(in) {
			t.Fatalf("round %d: %d out, %d in", round, len(out), len(in))
		}
		// Popped at once after the last push, what remains comes out sorted.
		var tail itemHeap
		for _, it := range in {
			tail.push(it)
		}
		var got itemHeap
		for tail.Len() > 0 {
			got = append(got, tail.pop())
		}
		want := slices.Clone(got)
		slices.SortStableFunc(want, func(a, b item) int {
			w := itemHeap{a, b}
			switch {
			case w.Less(0, 1):
				return -1
			case w.Less(1, 0):
				return 1
			}
			return 0
		})
		for i := range want {
			if got[i].seq != want[i].seq {
				t.Fatalf("round %d: item %d is seq %d, want %d", round, i, got[i].seq, want[i].seq)
			}
		}
	}
}

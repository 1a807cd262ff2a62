package pipeline

import (
	"testing"

	"github.com/specter-dev/specter/reassembly"
)

// TestReassemblyDrops checks that every kind of drop by reassembly's
// bounds counts, once: Shed (connections that dropped their HTTP state for
// the memory budget) was printed but left out of the stored drops.
func TestReassemblyDrops(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    reassembly.Stats
		want uint64
	}{
		{"none", reassembly.Stats{}, 0},
		{"evicted", reassembly.Stats{EvictedConns: 3}, 3},
		{"shed", reassembly.Stats{Shed: 5}, 5},
		{"gaps by bound", reassembly.Stats{GapsByBound: 7}, 7},
		{"pending overflow", reassembly.Stats{PendingOverflow: 11}, 11},
		{"all", reassembly.Stats{EvictedConns: 1, Shed: 2, GapsByBound: 4, PendingOverflow: 8}, 15},
		// Not drops: lost segments are the network's, truncation keeps
		// the exchange.
		{"not drops", reassembly.Stats{Gaps: 9, Truncated: 9, Exchanges: 9}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ReassemblyDrops(tc.s); got != tc.want {
				t.Errorf("ReassemblyDrops(%+v) = %d, want %d", tc.s, got, tc.want)
			}
			var c Counters
			c.KernelDrops.Store(100)
			c.BoundDrops.Store(ReassemblyDrops(tc.s))
			if got := c.Drops(); got != 100+tc.want {
				t.Errorf("Drops() = %d, want %d", got, 100+tc.want)
			}
		})
	}
}

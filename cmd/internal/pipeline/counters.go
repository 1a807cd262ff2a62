package pipeline

import (
	"sync/atomic"

	"github.com/specter-dev/specter/reassembly"
)

// Counters are what a running pipeline reports on its status line, in
// /metrics, in its summary and in the store's run totals. The source's loop
// and the sinks write them; any goroutine reads them.
type Counters struct {
	// Packets counts frames (files, AF_PACKET) or records (eBPF) read,
	// Bytes their bytes.
	Packets, Bytes atomic.Uint64
	// KernelDrops counts what the kernel dropped because a ring was
	// full; BoundDrops what specter's own bounds dropped (BoundDrops).
	KernelDrops, BoundDrops atomic.Uint64
	Exchanges               atomic.Uint64
	Endpoints, Findings     atomic.Uint64
}

// Drops is the one figure of lost traffic: the kernel's drops and ours.
func (c *Counters) Drops() uint64 { return c.KernelDrops.Load() + c.BoundDrops.Load() }

// ReassemblyDrops is what reassembly's own bounds dropped: connections
// evicted by MaxConnections, connections that shed their HTTP state for
// MaxBufferedBytes, gaps forced by the buffer bounds, and pipelined
// requests given up by MaxPending. A source adds its own kinds (fragments
// dropped by the decoder, eBPF chunks truncated or untied). It is the one
// sum of them: the status line, the summaries, /metrics and the store's
// run totals all read it through Counters.BoundDrops.
func ReassemblyDrops(s reassembly.Stats) uint64 {
	return s.EvictedConns + s.Shed + s.GapsByBound + s.PendingOverflow
}

package pipeline

import (
	"context"
	"time"

	"github.com/specter-dev/specter/capture"
	"github.com/specter-dev/specter/capture/live"
	"github.com/specter-dev/specter/reassembly"
)

// refreshEvery is how often a running source copies its statistics into
// the Counters.
const refreshEvery = 100 * time.Millisecond

// Source is traffic that becomes exchanges. Run reads it until it ends or
// ctx is cancelled (then it still reads what was already captured), hands
// every exchange to the sink it was built with, keeps ctr current, flushes
// what reassembly buffers, closes what it reads and returns reassembly's
// statistics with the source's error (nil for an orderly end).
type Source interface {
	Run(ctx context.Context, ctr *Counters) (reassembly.Stats, error)
}

// Live is the AF_PACKET source: frames of a live.Source decoded and
// reassembled.
type Live struct {
	Src    *live.Source
	Config reassembly.Config
	Emit   func(*reassembly.Exchange)
	// Tick is the period of the clocks' moves on a quiet link (0: 1s).
	Tick time.Duration

	dec *capture.Decoder
	tls []reassembly.TLSService
}

// Run implements Source.
func (l *Live) Run(ctx context.Context, ctr *Counters) (reassembly.Stats, error) {
	l.dec = capture.NewDecoder(capture.DecoderOptions{})
	pipe := reassembly.New(l.Config, l.Emit)
	refresh := func() {
		st := l.Src.Stats()
		ps := pipe.Stats()
		ctr.Packets.Store(st.Packets)
		ctr.Bytes.Store(st.Bytes)
		ctr.KernelDrops.Store(st.KernelDrops)
		ctr.BoundDrops.Store(ReassemblyDrops(ps))
		ctr.Exchanges.Store(ps.Exchanges)
	}
	stop := every(refreshEvery, refresh)
	err := Pump(ctx, l.Src, l.dec, pipe, l.Tick)
	stop()
	// Flushes the connections still open: their exchanges reach the
	// sink before Run returns.
	rs := pipe.Close()
	l.tls = pipe.TLSServices()
	l.Src.Close()
	refresh()
	ctr.BoundDrops.Add(l.dec.Stats().FragmentsDropped)
	return rs, err
}

// TLSServices returns what the TLS handshakes of the last Run told, by
// server name.
func (l *Live) TLSServices() []reassembly.TLSService { return l.tls }

// DecodeStats returns the decoder's statistics of the last Run.
func (l *Live) DecodeStats() capture.DecodeStats {
	if l.dec == nil {
		return capture.DecodeStats{}
	}
	return l.dec.Stats()
}

// EBPF is the eBPF source: chunks of a Tracer adapted to streams.
type EBPF struct {
	Tracer  Tracer
	Options EBPFOptions
	// Emit takes a batch of exchanges (at most Options.Batch) and
	// returns an empty slice for the next.
	Emit func([]*reassembly.Exchange) []*reassembly.Exchange

	h *EBPFStreams
}

// Run implements Source.
func (e *EBPF) Run(ctx context.Context, ctr *Counters) (reassembly.Stats, error) {
	e.h = NewEBPFStreams(e.Options, e.Emit)
	refresh := func() {
		st := e.Tracer.Stats()
		hs := e.h.Stats()
		ctr.Packets.Store(st.Records)
		ctr.Bytes.Store(st.Bytes)
		ctr.KernelDrops.Store(st.Lost)
		ctr.BoundDrops.Store(ReassemblyDrops(hs.Streams) + st.Truncated + hs.Untied)
		ctr.Exchanges.Store(hs.Streams.Exchanges)
	}
	err := RunEBPF(ctx, e.Tracer, e.h, refresh)
	return e.h.Stats().Streams, err
}

// Stats returns the streams' statistics of the last Run.
func (e *EBPF) Stats() EBPFStats {
	if e.h == nil {
		return EBPFStats{}
	}
	return e.h.Stats()
}

// every runs f every period on its own goroutine until the returned stop
// is called; stop waits for a running f.
func every(period time.Duration, f func()) (stop func()) {
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				f()
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}

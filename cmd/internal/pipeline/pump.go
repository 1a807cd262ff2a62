package pipeline

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/specter-dev/specter/capture"
	"github.com/specter-dev/specter/capture/live"
	"github.com/specter-dev/specter/reassembly"
)

// defaultTick is Pump's clock period when none is given: the reassembly
// pipeline checks its timeouts once a second of capture time anyway.
const defaultTick = time.Second

// Pump reads src until it ends, decodes every frame with dec and adds the
// TCP segments to pipe. Every tick it moves the pipeline's clock (and the
// decoder's fragment timeouts) to the wall clock, so idle connections are
// flushed during quiet periods; packets carry kernel timestamps, which are
// wall-clock times too.
//
// When ctx is cancelled Pump stops src and keeps going until src has
// delivered what its rings held. It returns nil when src ended that way (or
// by Stop), live.ErrClosed if src was closed, or src's read error. It
// neither closes src nor pipe: the caller closes pipe to flush what is
// buffered. Pump is the one goroutine allowed to call pipe.Add while it
// runs.
func Pump(ctx context.Context, src *live.Source, dec *capture.Decoder, pipe *reassembly.Pipeline, tick time.Duration) error {
	if tick <= 0 {
		tick = defaultTick
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	stopped := false
	var pkt capture.Packet
	for {
		if !stopped && ctx.Err() != nil {
			src.Stop()
			stopped = true
		}
		f, err := src.NextTick(t.C)
		if err != nil {
			switch {
			case errors.Is(err, live.ErrTick):
				now := time.Now()
				dec.Flush(now)
				pipe.Advance(now)
				continue
			case errors.Is(err, io.EOF):
				return nil
			}
			return err
		}
		ok, err := dec.Decode(f, &pkt)
		if err != nil || !ok {
			// Counted by the decoder (Errors, NonTCP, Fragments).
			continue
		}
		pipe.Add(&pkt)
	}
}

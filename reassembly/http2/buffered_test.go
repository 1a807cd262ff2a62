package http2_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/specter-dev/specter/reassembly/http2"
)

// Buffered counts what open streams hold, and gives it back when they are
// delivered; Shed delivers them early without harming later streams.
func TestBufferedAndShed(t *testing.T) {
	var xs []*http2.Exchange
	c := http2.NewConn(nil, http2.HandlerFunc(func(x *http2.Exchange) { xs = append(xs, x) }))
	w := newWire(t, true)
	ts := time.Unix(1, 0)
	feed := func() {
		w.flush(0)
		w.flush(1)
		for _, e := range w.log {
			c.Feed(e.dir, e.data, ts)
		}
		w.log = w.log[:0]
	}
	body := bytes.Repeat([]byte("x"), 100<<10)
	// Stream 1 gets a large response body and stays open (no END_STREAM).
	w.headers(0, 1, true, get("/one")...)
	w.headers(1, 1, false, ":status", "200")
	w.data(1, 1, false, body)
	feed()
	base := c.Buffered()
	if base < len(body) {
		t.Fatalf("Buffered %d with a %d-byte body held", base, len(body))
	}
	c.Shed()
	if len(xs) != 1 || !xs[0].Flags.Has(http2.FlagIncomplete) || len(xs[0].Response.Body) != len(body) {
		t.Fatalf("shed delivered %d exchanges %+v", len(xs), xs)
	}
	if after := c.Buffered(); after > base-len(body) {
		t.Errorf("Buffered %d after Shed, was %d with the body", after, base)
	}
	// The rest of stream 1 is skipped; stream 3 decodes, HPACK intact
	// (the same fields, now indexed).
	w.data(1, 1, true, []byte("tail"))
	w.headers(0, 3, true, get("/one")...)
	w.headers(1, 3, true, ":status", "200")
	feed()
	if len(xs) != 2 || xs[1].StreamID != 3 || xs[1].Request.Path != "/one" || xs[1].Response.Status != 200 || xs[1].Flags != 0 {
		t.Fatalf("after Shed: %d exchanges, last %+v", len(xs), xs[len(xs)-1])
	}
	if got := c.Buffered(); got > base-len(body) {
		t.Errorf("Buffered %d with no stream open", got)
	}
}

package reassembly

import "time"

// shard is what connections need from whoever drives them: the limits,
// the counters, the LRU of open connections and where exchanges go. The
// packet workers embed one; so does the ordered-stream input.
type shard struct {
	cfg *Config
	ctr counters
	// out receives each exchange of a connection, and x == nil when the
	// connection ends.
	out func(c *conn, x *Exchange)

	open     int
	maxConns int
	// LRU of open connections, most recently active at head.
	head, tail *conn
	flushing   bool
	fills      []fill
	// holes counts the connection directions with a hole; pure ACKs for
	// others skip reassembly.
	holes map[holeKey]int

	// mem is the HTTP state the connections hold (conn.mem summed);
	// memBudget is this shard's share of MaxBufferedBytes.
	mem, memBudget int64

	tls tlsTable // the TLS services of the connections closed so far
}

// account updates c's share of the shard's memory after its parsers or
// its waiting requests changed.
func (w *shard) account(c *conn) {
	m := int64(c.half[0].parser.Buffered()+c.half[1].parser.Buffered()+cap(c.half[0].head)+cap(c.half[1].head)) + c.pendingBytes
	if b, ok := c.eng.(budgeted); ok {
		m += int64(b.buffered())
	}
	w.mem += m - c.mem
	c.mem = m
}

// shedMemory makes the least recently active connections drop their HTTP
// state until the shard is back under three quarters of its budget.
func (w *shard) shedMemory(ts time.Time) {
	if w.mem <= w.memBudget {
		return
	}
	for c := w.tail; c != nil && w.mem > w.memBudget*3/4; {
		prev := c.prev
		if c.mem > 0 {
			c.shed(ts)
		}
		c = prev
	}
}

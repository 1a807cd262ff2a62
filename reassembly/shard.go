package reassembly

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
}

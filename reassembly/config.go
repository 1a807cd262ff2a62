package reassembly

import (
	"runtime"
	"time"

	"github.com/specter-dev/specter/reassembly/http1"
	"github.com/specter-dev/specter/reassembly/http2"
	"github.com/specter-dev/specter/reassembly/message"
	"github.com/specter-dev/specter/reassembly/tlsdecrypt"
)

// Config bounds the reassembler. Every limit says what happens when it is
// hit; Stats counts each time it is.
type Config struct {
	// Workers is the number of goroutines that reassemble flows. Flows are
	// sharded across them by a symmetric hash of their addresses, so both
	// directions of a connection meet in the same worker.
	Workers int
	// MaxConnections caps the TCP connections tracked at once (over all
	// workers). Past it the least recently active connections are flushed
	// and closed (Stats.EvictedConns): what they had is parsed, pending
	// requests are reported unmatched.
	MaxConnections int
	// MaxHalfOpen caps the flows that sent only SYNs so far (over all
	// workers). They are held apart, outside MaxConnections, until they
	// carry anything else, so that a SYN flood cannot evict the
	// connections that carry data. Past it the oldest is forgotten
	// (Stats.HalfOpenEvicted); if it speaks later, it is reassembled from
	// its first data segment on, like a connection that began before the
	// capture. Each costs about 800 bytes.
	MaxHalfOpen int
	// MaxPagesPerConn caps the out-of-order data buffered for one connection,
	// in gopacket pages of 1900 bytes. Past it the oldest missing data is
	// given up on and reported to the parser as a gap.
	MaxPagesPerConn int
	// MaxPagesTotal caps the out-of-order data buffered over all connections,
	// in pages. Past it every connection that gets a packet gives up waiting
	// for its missing data.
	MaxPagesTotal int
	// MaxPending caps the requests waiting for their responses on one
	// connection (pipelining depth). Past it the oldest is reported as an
	// unmatched request (Stats.PendingOverflow).
	MaxPending int
	// GapTimeout is how long, in capture time, out-of-order data waits for
	// the missing segments before they are declared lost.
	GapTimeout time.Duration
	// IdleTimeout closes connections that saw no packet for this long, in
	// capture time.
	IdleTimeout time.Duration
	// FlushInterval is how often, in capture time, timeouts are checked.
	FlushInterval time.Duration
	// MaxBufferedBytes caps the HTTP state held over all connections:
	// messages being parsed and requests waiting for their response. Past
	// it the least recently active connections shed theirs (Stats.Shed):
	// partial messages are delivered flagged, waiting requests reported
	// unmatched, and parsing resumes with the next message.
	MaxBufferedBytes int64
	// HTTP bounds the HTTP/1 parser (body caps, decoding).
	HTTP http1.Config
	// HTTP2 bounds the HTTP/2 parser of each HTTP/2 connection (streams,
	// header blocks, HPACK tables, bodies); zero fields take
	// http2.DefaultConfig's, but MaxBody defaults to HTTP.MaxBody.
	HTTP2 http2.Config
	// TLS decrypts TLS connections with the keys of its key log, and
	// reads the handshake of every one (SNI, ALPN, version) with or
	// without them. Nil: a Decryptor with no keys that holds no records,
	// for the handshakes alone.
	TLS *tlsdecrypt.Decryptor
}

// DefaultConfig returns the limits Specter uses unless told otherwise: about
// 64 MiB of out-of-order TCP data, 128 MiB of HTTP state, 16384
// concurrent connections and as many half-open flows (13 MiB).
func DefaultConfig() Config {
	return Config{
		Workers:          runtime.GOMAXPROCS(0),
		MaxConnections:   16384,
		MaxHalfOpen:      16384,
		MaxPagesPerConn:  256,
		MaxPagesTotal:    32768,
		MaxPending:       64,
		MaxBufferedBytes: 128 << 20,
		GapTimeout:       5 * time.Second,
		IdleTimeout:      2 * time.Minute,
		FlushInterval:    time.Second,
		HTTP:             http1.DefaultConfig(),
		HTTP2:            defaultHTTP2(http1.DefaultConfig().MaxBody),
	}
}

// defaultHTTP2 is http2.DefaultConfig with the HTTP/1 body cap and fewer
// concurrent streams per connection: 128, a common
// SETTINGS_MAX_CONCURRENT_STREAMS, keeps one connection's bodies (two per
// stream) under MaxBody × 256.
func defaultHTTP2(maxBody int) http2.Config {
	c := http2.DefaultConfig()
	c.MaxBody = maxBody
	c.MaxStreams = 128
	return c
}

func (c *Config) normalize() {
	d := DefaultConfig()
	if c.Workers <= 0 {
		c.Workers = d.Workers
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = d.MaxConnections
	}
	if c.MaxHalfOpen <= 0 {
		c.MaxHalfOpen = d.MaxHalfOpen
	}
	if c.MaxPagesPerConn <= 0 {
		c.MaxPagesPerConn = d.MaxPagesPerConn
	}
	if c.MaxPagesTotal <= 0 {
		c.MaxPagesTotal = d.MaxPagesTotal
	}
	if c.MaxBufferedBytes <= 0 {
		c.MaxBufferedBytes = d.MaxBufferedBytes
	}
	if c.MaxPending <= 0 {
		c.MaxPending = d.MaxPending
	}
	if c.GapTimeout <= 0 {
		c.GapTimeout = d.GapTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = d.IdleTimeout
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = d.FlushInterval
	}
	if c.HTTP.MaxBody <= 0 && c.HTTP.MaxHeaderBytes <= 0 {
		c.HTTP = d.HTTP
	}
	if c.HTTP2 == (http2.Config{}) {
		c.HTTP2 = defaultHTTP2(c.HTTP.MaxBody)
	}
	if c.TLS == nil {
		c.TLS = tlsdecrypt.New(nil, tlsdecrypt.Config{MaxPending: -1})
	}
	if c.HTTP.Decoding == nil {
		// One for all the parsers of a pipeline: it counts what decoding
		// the bodies finds, whoever reads them.
		maxDecoded := c.HTTP.MaxDecoded
		if maxDecoded <= 0 {
			maxDecoded = d.HTTP.MaxDecoded
		}
		c.HTTP.Decoding = message.NewDecoding(c.HTTP.MaxBody, maxDecoded)
	}
}

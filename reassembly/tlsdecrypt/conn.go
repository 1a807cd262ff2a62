package tlsdecrypt

import (
	"crypto/tls"
	"sync"
	"sync/atomic"
)

// Dir is the direction of a connection's bytes.
type Dir uint8

// Directions.
const (
	FromClient Dir = iota
	FromServer
)

func (d Dir) String() string {
	if d == FromClient {
		return "client"
	}
	return "server"
}

// Record layer bounds (RFC 8446, 5.2; RFC 5246, 6.2.3).
const (
	recordHeader = 5
	// maxCiphertext is the longest record body accepted.
	maxCiphertext = 1<<14 + 2048
)

// maxPlaintext is the longest record plaintext (RFC 8446, 5.4: 2^14 and
// the inner content type; TLS 1.2 AEAD records are no longer).
const maxPlaintext = 1<<14 + 256

// outBufs are the buffers records are decrypted into, one per direction:
// each record is opened in place at the end of what its direction
// collected in the current Feed, so its plaintext is not copied again.
// They are taken from outPool for one Feed (or Close) and given back
// after it, so an idle connection holds none.
type outBufs [2][]byte

var outPool = sync.Pool{New: func() any {
	return &outBufs{make([]byte, 0, maxOut+maxPlaintext), make([]byte, 0, maxOut+maxPlaintext)}
}}

// Record content types.
const (
	recChangeCipherSpec = 20
	recAlert            = 21
	recHandshake        = 22
	recApplicationData  = 23
	recHeartbeat        = 24
)

// Meta is what the handshake tells of a connection, with or without keys.
type Meta struct {
	SNI         string   // server_name from the ClientHello
	ALPNOffered []string // the client's ALPN list (at most 16)
	// ALPN is the protocol the server selected: from the ServerHello up to
	// TLS 1.2, from EncryptedExtensions in TLS 1.3 (known only with keys).
	ALPN    string
	Version uint16 // negotiated, 0 before the ServerHello
	Suite   uint16 // negotiated, 0 before the ServerHello
	// HelloRetry is set when the server sent a HelloRetryRequest.
	HelloRetry bool
}

// Handler receives what a Conn decrypts. Its methods are called
// synchronously from Conn.Feed and Conn.Close.
type Handler interface {
	// Data receives application data of direction d, in order. p is
	// only valid during the call.
	Data(d Dir, p []byte)
	// Lost reports that n bytes of direction d's ciphertext (record
	// headers included) were not captured, were skipped to find the
	// record framing again, or could not be decrypted: the plaintext has
	// a hole there, of at most n bytes.
	Lost(d Dir, n int)
}

// Config tunes a Decryptor. The zero value is usable.
type Config struct {
	// MaxPending bounds the ciphertext bytes a connection holds while its
	// keys are not in the key log yet (a key log still being written).
	// Past it the connection is given up (ReasonPendingOverflow).
	// Default 1 MiB; negative: records never wait (keys that are not in
	// the key log when a record arrives will not come), they are skipped
	// at once.
	MaxPending int
	// MaxPendingTotal bounds the ciphertext bytes all the Decryptor's
	// connections hold waiting for keys. A connection whose record would
	// pass it is given up like one past MaxPending, and counted in
	// Stats.PendingTotalHits too. Default 64 MiB.
	MaxPendingTotal int
	// Window is how many sequence numbers past the expected one are tried
	// after a gap or a record that fails to decrypt. Default 64.
	Window int
	// MaxFailures is how many records in a row may fail on a direction
	// that never decrypted one before it is given up (wrong keys cost
	// a full window each). Default 8.
	MaxFailures int
	// MaxTrialSessions is how many of the key log's most recent TLS 1.3
	// sessions are tried on a connection first seen after its hellos
	// (whose client random is unknown). Each costs up to 2 secrets × 2
	// suites × (min(Window, 16)+1) record decryptions, on the first
	// records of each direction only. Default 16.
	MaxTrialSessions int
}

// Decryptor makes Conns that share a KeyLog and counters. It is safe for
// concurrent use; each Conn is not.
type Decryptor struct {
	keys    *KeyLog
	cfg     Config
	st      stats
	pending atomic.Int64 // bytes all Conns hold waiting for keys
}

// New returns a Decryptor that takes keys from keys (which may be added to
// while it runs).
func New(keys *KeyLog, cfg Config) *Decryptor {
	if cfg.MaxPending == 0 {
		cfg.MaxPending = 1 << 20
	}
	if cfg.MaxPendingTotal <= 0 {
		cfg.MaxPendingTotal = 64 << 20
	}
	if cfg.Window <= 0 {
		cfg.Window = 64
	}
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 8
	}
	if cfg.MaxTrialSessions <= 0 {
		cfg.MaxTrialSessions = 16
	}
	if keys == nil {
		keys = NewKeyLog(0)
	}
	return &Decryptor{keys: keys, cfg: cfg}
}

// Keys returns the KeyLog the Decryptor takes keys from: secrets added to
// it (a followed file, a Decryption Secrets Block) are used at once.
func (d *Decryptor) Keys() *KeyLog { return d.keys }

// Stats returns the counters of the connections closed so far.
func (d *Decryptor) Stats() Stats { return d.st.snapshot() }

// NewConn returns a Conn delivering to h.
func (d *Decryptor) NewConn(h Handler) *Conn {
	return &Conn{d: d, h: h, keyGen: ^uint64(0), midGen: [2]uint64{^uint64(0), ^uint64(0)}}
}

// pendingRec is a protected record waiting for keys.
type pendingRec struct {
	dir  Dir
	data []byte // header and body
}

// side is the state of one direction.
type side struct {
	buf       []byte   // a partial record (framing known) or bytes being scanned (not)
	hs        hsWalker // cleartext handshake messages
	ehs       hsWalker // protected handshake messages
	encrypted bool     // records from here on are protected
	hc        *halfConn
	hsKeys    *halfConn // TLS 1.3 handshake traffic protection
	app       *halfConn // application traffic protection (TLS 1.2: the only one)
	epoch     int       // TLS 1.3: 0 handshake, 1 application
	unsynced  bool      // record framing lost: scanning for a record start
	lost      bool      // records may have been lost since the last one decrypted
	lostBytes int
	fails     int // records in a row that failed
	ok        int // records decrypted
	dead      bool
	inflate   *inflater // DEFLATE-compressed records (RFC 3749)
}

// Conn decrypts one TLS connection. Feed it the bytes of each direction in
// order; tell it about holes with Gap; Close it at the end.
//
// Its memory is bounded: per direction a partial record (18 KiB) or the
// bytes scanned for the framing (37 KiB), partial handshake messages of
// the types read (64 KiB each), the plaintext of one Feed (64 KiB and a
// record) and, for DEFLATE-compressed TLS 1.2, one record's inflated
// plaintext; per connection Config.MaxPending bytes waiting for keys and a
// record's decryption buffer.
type Conn struct {
	d    *Decryptor
	h    Handler
	meta Meta
	ch   *clientHello
	sh   *serverHello
	side [2]side

	suite    suite
	suiteOK  bool
	tls13    bool
	tlsSeen  bool
	notTLS   bool
	closed   bool
	keyGen   uint64
	keysSeen bool

	pending      []pendingRec
	pendingBytes int
	overflow     bool
	missedKeys   bool // records were skipped for want of keys

	protected    int // protected records seen
	skipped      int
	authFails    int
	gapFails     int
	resyncs      int
	plainBytes   int
	decrypted    int
	noHello      bool
	startScan    bool // the first bytes were not a record header
	midGen       [2]uint64
	midTries     [2]int
	midStarted   bool
	earlySkipped int
	inflateFails int

	// out collects the plaintext of the records of one Feed, handed to
	// the Handler in one piece, as the same traffic in clear would be;
	// nil between Feeds (see outBufs).
	out *outBufs
}

// maxOut bounds the plaintext collected before it is handed over.
const maxOut = 64 << 10

// flush hands the collected plaintext of d to the Handler.
func (c *Conn) flush(d Dir) {
	if c.out != nil && len(c.out[d]) > 0 {
		c.h.Data(d, c.out[d])
		c.out[d] = c.out[d][:0]
	}
}

// buffers returns the decryption buffers, taking them from the pool.
func (c *Conn) buffers() *outBufs {
	if c.out == nil {
		c.out = outPool.Get().(*outBufs)
	}
	return c.out
}

// release hands everything collected over and gives the buffers back.
func (c *Conn) release() {
	if c.out == nil {
		return
	}
	c.flush(FromClient)
	c.flush(FromServer)
	if cap(c.out[0]) == maxOut+maxPlaintext && cap(c.out[1]) == maxOut+maxPlaintext {
		outPool.Put(c.out)
	}
	c.out = nil
}

// lost reports a hole after the plaintext before it.
func (c *Conn) lost(d Dir, n int) {
	c.flush(d)
	c.h.Lost(d, n)
}

// Meta returns what is known of the connection so far.
func (c *Conn) Meta() Meta { return c.meta }

// IsTLS reports whether the connection was recognized as TLS.
func (c *Conn) IsTLS() bool { return c.tlsSeen && !c.notTLS }

// plausible reports whether h may be a TLS record header.
func plausible(h []byte) (n int, ok bool) {
	if h[0] < recChangeCipherSpec || h[0] > recHeartbeat || h[1] != 3 || h[2] > 4 {
		return 0, false
	}
	n = int(h[3])<<8 | int(h[4])
	return n, n <= maxCiphertext
}

// Feed hands the next bytes of direction d to the connection.
func (c *Conn) Feed(d Dir, data []byte) {
	if c.notTLS || c.closed || d > FromServer || len(data) == 0 {
		return
	}
	s := &c.side[d]
	// Records of both directions may be opened (keys arriving free the
	// other's pending ones): hand both over at the end.
	defer c.release()
	if d == FromClient && !c.tlsSeen && c.ch == nil {
		if data = c.sslv2Hello(data); data == nil {
			return
		}
	}
	for len(data) > 0 && !c.notTLS {
		if s.unsynced {
			data = c.scan(d, data)
			continue
		}
		if len(s.buf) == 0 && len(data) >= recordHeader {
			n, ok := plausible(data)
			if !ok {
				c.badFraming(d)
				continue
			}
			if len(data) >= recordHeader+n {
				c.record(d, data[:recordHeader], data[recordHeader:recordHeader+n])
				data = data[recordHeader+n:]
				continue
			}
			s.buf = append(s.buf, data...)
			return
		}
		need := recordHeader - len(s.buf)
		if need <= 0 {
			n, _ := plausible(s.buf)
			need = recordHeader + n - len(s.buf)
		}
		take := min(need, len(data))
		s.buf = append(s.buf, data[:take]...)
		data = data[take:]
		if len(s.buf) < recordHeader {
			return
		}
		n, ok := plausible(s.buf)
		if !ok {
			data = append(append([]byte(nil), s.buf...), data...)
			c.badFraming(d)
			continue
		}
		if len(s.buf) == recordHeader+n {
			c.record(d, s.buf[:recordHeader], s.buf[recordHeader:])
			s.buf = s.buf[:0]
		}
	}
}

// badFraming handles bytes that are not a record header where one must
// start: not TLS at all, or the framing was lost.
func (c *Conn) badFraming(d Dir) {
	s := &c.side[d]
	if !c.tlsSeen {
		// Not TLS, or a capture that starts inside a record: look for
		// record headers in what follows (scan decides).
		c.startScan = true
		s.unsynced = true
		s.buf = s.buf[:0]
		return
	}
	s.unsynced, s.lost = true, true
	s.buf = s.buf[:0]
}

// Gap tells the connection that n bytes of direction d were not captured.
func (c *Conn) Gap(d Dir, n int) {
	if c.notTLS || c.closed || d > FromServer {
		return
	}
	s := &c.side[d]
	if n != 0 && c.tlsSeen {
		c.lost(d, n+len(s.buf))
	}
	s.unsynced, s.lost = true, true
	s.lostBytes += n
	s.buf = s.buf[:0]
	s.hs.reset()
	s.ehs.reset()
}

// scanLimit bounds the bytes held while looking for a record start.
const scanLimit = 2 * (recordHeader + maxCiphertext)

// scan looks for a record start in the held bytes plus data, for a
// direction whose framing was lost. A candidate is a plausible header
// followed by another one (or by the end of what was seen, when the
// buffer is full), which protected records confirm by decrypting. It
// returns what is left of data (nothing: everything is held or used).
func (c *Conn) scan(d Dir, data []byte) []byte {
	s := &c.side[d]
	s.buf = append(s.buf, data...)
	if c.startScan && !c.tlsSeen && len(s.buf) > scanLimit {
		c.notTLS = true // no record framing in the first bytes
		s.buf = nil
		return nil
	}
	// drop reports the bytes before to as lost, once each.
	lostTo := 0
	drop := func(to int) {
		if c.tlsSeen && to > lostTo {
			c.lost(d, to-lostTo)
			lostTo = to
		}
	}
	for i := 0; i+recordHeader <= len(s.buf); i++ {
		n, ok := plausible(s.buf[i:])
		if !ok || s.buf[i] == recChangeCipherSpec || s.buf[i] == recHeartbeat {
			continue
		}
		end := i + recordHeader + n
		if end+recordHeader > len(s.buf) {
			if len(s.buf) < scanLimit {
				// Wait for the next header to confirm this one.
				drop(i)
				s.buf = append(s.buf[:0], s.buf[i:]...)
				return nil
			}
			if end > len(s.buf) {
				continue
			}
		} else if _, ok := plausible(s.buf[end:]); !ok {
			continue
		}
		drop(i)
		if c.tryResync(d, s.buf[i:i+recordHeader], s.buf[i+recordHeader:end]) {
			rest := append([]byte(nil), s.buf[end:]...)
			s.buf = s.buf[:0]
			s.unsynced = false
			c.resyncs++
			return rest
		}
	}
	// Keep the tail that may hold the start of a header.
	keep := min(len(s.buf), recordHeader-1)
	drop(len(s.buf) - keep)
	s.buf = append(s.buf[:0], s.buf[len(s.buf)-keep:]...)
	return nil
}

// tryResync decides whether a candidate record found by scan starts the
// framing again, processing it if so.
func (c *Conn) tryResync(d Dir, hdr, body []byte) bool {
	s := &c.side[d]
	if !s.encrypted || s.hc == nil || s.dead || (c.tls13 && hdr[0] != recApplicationData) {
		// Nothing to check it with: the double header has to do.
		c.record(d, hdr, body)
		return true
	}
	plain, typ, ok := c.open(d, hdr, body)
	if !ok {
		return false
	}
	c.opened(d, plain, typ)
	return true
}

// record handles one complete record.
func (c *Conn) record(d Dir, hdr, body []byte) {
	c.tlsSeen = true
	s := &c.side[d]
	typ := hdr[0]
	if !s.encrypted || (c.tls13 && typ != recApplicationData) {
		switch typ {
		case recHandshake:
			s.hs.feed(body, func(t uint8) bool { return t == hsClientHello || t == hsServerHello },
				func(t uint8, b []byte) { c.hello(d, t, b) })
		case recChangeCipherSpec:
			if c.sh != nil && !c.tls13 {
				s.encrypted = true
				if s.app != nil {
					s.hc = s.app
				}
			}
		case recApplicationData:
			c.protected++
			if d == FromClient && c.ch != nil && c.ch.earlyData && c.sh == nil {
				c.skipped++ // 0-RTT data: its secret is not used here
				c.earlySkipped++
				c.lost(d, len(hdr)+len(body))
			} else {
				c.noHello = c.ch == nil || c.sh == nil
				if c.ch == nil && c.sh == nil && c.midStart(d, hdr, body) {
					return
				}
				c.skipped++
			}
		}
		return
	}
	c.protected++
	if !c.suiteOK || s.dead {
		c.skipped++
		return
	}
	if s.hc == nil && !c.lookupKeys() {
		c.queue(d, hdr, body)
		return
	}
	c.decrypt(d, hdr, body)
}

// hello reads a cleartext ClientHello or ServerHello.
func (c *Conn) hello(d Dir, t uint8, b []byte) {
	switch {
	case t == hsClientHello && d == FromClient:
		ch, err := parseClientHello(b)
		if err != nil {
			return
		}
		if c.ch == nil {
			c.ch = ch
			c.meta.SNI, c.meta.ALPNOffered = ch.sni, ch.alpn
		}
	case t == hsServerHello && d == FromServer && c.sh == nil:
		sh, err := parseServerHello(b)
		if err != nil {
			return
		}
		if sh.retry {
			c.meta.HelloRetry = true
			return
		}
		c.sh = sh
		c.meta.Version, c.meta.Suite = sh.version, sh.suite
		if sh.alpn != "" {
			c.meta.ALPN = sh.alpn
		}
		c.tls13 = sh.version == tls.VersionTLS13
		c.suite, c.suiteOK = lookupSuite(sh.version, sh.suite)
		if c.tls13 {
			c.side[FromClient].encrypted = true
			c.side[FromServer].encrypted = true
		}
		if c.suiteOK && c.ch != nil {
			c.lookupKeys()
		}
	}
}

// lookupKeys looks the connection's secrets up, again only when the key
// log changed, and installs them. It reports whether they were found.
func (c *Conn) lookupKeys() bool {
	if c.ch == nil || c.sh == nil || !c.suiteOK {
		return false
	}
	if c.side[FromClient].app != nil || c.side[FromClient].hsKeys != nil {
		return true
	}
	gen := c.d.keys.generation()
	if gen == c.keyGen {
		return false
	}
	c.keyGen = gen
	k, ok := c.d.keys.lookup(c.ch.random)
	if !ok {
		return false
	}
	cl, sv := &c.side[FromClient], &c.side[FromServer]
	if c.tls13 {
		var err error
		if k.chts != nil && k.shts != nil {
			if cl.hsKeys, err = keys13(c.suite, k.chts); err != nil {
				cl.hsKeys = nil
			}
			if sv.hsKeys, err = keys13(c.suite, k.shts); err != nil {
				sv.hsKeys = nil
			}
		}
		if k.cts0 != nil && k.sts0 != nil {
			if cl.app, err = keys13(c.suite, k.cts0); err != nil {
				cl.app = nil
			}
			if sv.app, err = keys13(c.suite, k.sts0); err != nil {
				sv.app = nil
			}
		}
		if cl.hsKeys == nil && cl.app == nil {
			return false
		}
		for _, s := range []*side{cl, sv} {
			s.hc = s.hsKeys
			if s.hc == nil {
				s.hc, s.epoch = s.app, 1
			}
		}
	} else {
		if k.master == nil {
			return false
		}
		var err error
		cl.app, sv.app, err = keys12(c.suite, k.master, c.ch.random, c.sh.random)
		if err != nil {
			cl.app, sv.app = nil, nil
			return false
		}
		for _, s := range []*side{cl, sv} {
			if s.encrypted {
				s.hc = s.app
			}
		}
	}
	c.keysSeen = true
	c.drain()
	return true
}

// queue holds a protected record until its keys arrive.
func (c *Conn) queue(d Dir, hdr, body []byte) {
	if c.overflow || c.d.cfg.MaxPending < 0 {
		c.skipped++
		c.missedKeys = true
		return
	}
	size := len(hdr) + len(body)
	total := c.d.pending.Add(int64(size)) > int64(c.d.cfg.MaxPendingTotal)
	if total || c.pendingBytes+size > c.d.cfg.MaxPending {
		c.d.pending.Add(-int64(size))
		c.overflow = true
		c.skipped += len(c.pending) + 1
		dropped := uint64(c.pendingBytes + size)
		c.d.st.add(func(s *Stats) {
			s.PendingDropped += dropped
			if total {
				s.PendingTotalHits++
			}
		})
		c.dropPending()
		return
	}
	rec := make([]byte, 0, size)
	rec = append(append(rec, hdr...), body...)
	c.pending = append(c.pending, pendingRec{dir: d, data: rec})
	c.pendingBytes += size
}

// dropPending forgets the records waiting for keys.
func (c *Conn) dropPending() {
	c.d.pending.Add(-int64(c.pendingBytes))
	c.pending, c.pendingBytes = nil, 0
}

// drain decrypts the records that waited for keys.
func (c *Conn) drain() {
	p := c.pending
	c.dropPending()
	for _, r := range p {
		if c.side[r.dir].hc == nil {
			c.skipped++
			continue
		}
		c.decrypt(r.dir, r.data[:recordHeader], r.data[recordHeader:])
	}
}

// decrypt opens a protected record and handles its content.
func (c *Conn) decrypt(d Dir, hdr, body []byte) {
	s := &c.side[d]
	plain, typ, ok := c.open(d, hdr, body)
	if !ok {
		if d == FromClient && c.tls13 && s.ok == 0 && c.ch.earlyData {
			// 0-RTT data, sent before the client saw the ServerHello but
			// captured after it: protected by the early traffic secret,
			// which is not used here. Skipped, not a failure.
			c.skipped++
			c.earlySkipped++
			c.lost(d, len(hdr)+len(body))
			return
		}
		if s.lost {
			c.gapFails++
		} else {
			c.authFails++
		}
		s.fails++
		if s.ok == 0 && s.fails >= c.d.cfg.MaxFailures {
			s.dead = true
		}
		c.lost(d, len(body))
		return
	}
	c.opened(d, plain, typ)
}

// opened handles the plaintext of a record that decrypted.
func (c *Conn) opened(d Dir, plain []byte, typ uint8) {
	s := &c.side[d]
	s.fails, s.lost, s.lostBytes = 0, false, 0
	s.ok++
	c.decrypted++
	if c.sh != nil && c.sh.compression == compressionDeflate && !c.tls13 {
		if s.inflate == nil {
			s.inflate = newInflater()
		}
		var err error
		if plain, err = s.inflate.feed(plain); err != nil {
			c.inflateFails++
			c.lost(d, len(plain))
			return
		}
	}
	switch typ {
	case recApplicationData:
		c.plainBytes += len(plain)
		if len(plain) > 0 {
			o := c.buffers()
			if n := len(o[d]); cap(o[d]) >= n+len(plain) && &o[d][:n+1][n] == &plain[0] {
				o[d] = o[d][:n+len(plain)] // opened in place
			} else {
				o[d] = append(o[d], plain...)
			}
			if len(o[d]) >= maxOut {
				c.flush(d)
			}
		}
	case recHandshake:
		s.ehs.feed(plain, func(t uint8) bool {
			return t == hsEncryptedExtensions || t == hsFinished || t == hsKeyUpdate
		}, func(t uint8, b []byte) { c.protectedHandshake(d, t, b) })
	}
}

// protectedHandshake follows the TLS 1.3 key changes the encrypted
// handshake announces.
func (c *Conn) protectedHandshake(d Dir, t uint8, b []byte) {
	if !c.tls13 {
		return
	}
	s := &c.side[d]
	switch t {
	case hsEncryptedExtensions:
		if d == FromServer {
			if alpn, err := parseEncryptedExtensions(b); err == nil && alpn != "" {
				c.meta.ALPN = alpn
			}
		}
	case hsFinished:
		if s.epoch == 0 {
			s.epoch = 1
			s.hc = s.app
			if s.hc == nil {
				s.dead = true // no application secret logged
			}
			s.ehs.reset()
		}
	case hsKeyUpdate:
		if s.epoch == 1 && s.hc != nil {
			if nx, err := s.hc.next(); err == nil {
				s.hc = nx
			}
		}
	}
}

// open decrypts a protected record at the expected sequence number or, on
// a direction that lost records or failed, within the window past it; in
// TLS 1.3 it also tries the next epoch (a Finished or KeyUpdate that was
// not seen).
func (c *Conn) open(d Dir, hdr, body []byte) ([]byte, uint8, bool) {
	s := &c.side[d]
	if s.hc == nil {
		return nil, 0, false
	}
	w := 0
	if s.lost || s.fails > 0 {
		w = c.d.cfg.Window
		if s.lostBytes > 0 {
			// Each lost record took at least a header, a type byte and a tag.
			w = min(w, s.lostBytes/(recordHeader+1+16)+1)
		}
	}
	if plain, typ, ok := c.try(d, s.hc, hdr, body, w); ok {
		return plain, typ, true
	}
	if !c.tls13 {
		return nil, 0, false
	}
	var nx *halfConn
	switch {
	case s.epoch == 0 && s.app != nil:
		nx = s.app
	case s.epoch == 1:
		var err error
		if nx, err = s.hc.next(); err != nil {
			return nil, 0, false
		}
		nx.seq = 0
	}
	if nx == nil {
		return nil, 0, false
	}
	save := nx.seq
	nx.seq = 0
	plain, typ, ok := c.try(d, nx, hdr, body, w)
	if !ok {
		nx.seq = save
		return nil, 0, false
	}
	s.hc = nx
	if s.epoch == 0 {
		s.epoch = 1
		s.ehs.reset()
	}
	c.resyncs++
	return plain, typ, true
}

// try opens the record of direction d at sequence numbers hc.seq to
// hc.seq+w, advancing hc.seq past the one that works. The plaintext is
// opened at the end of d's collected output (see outBufs).
func (c *Conn) try(d Dir, hc *halfConn, hdr, body []byte, w int) ([]byte, uint8, bool) {
	o := c.buffers()
	dst := o[d][len(o[d]):]
	for i := 0; i <= w; i++ {
		plain, typ, err := hc.open(dst, hdr, body, hc.seq+uint64(i))
		if err == nil {
			hc.seq += uint64(i) + 1
			if i > 0 {
				c.resyncs++
			}
			return plain, typ, true
		}
	}
	return nil, 0, false
}

// Close ends the connection and counts it.
func (c *Conn) Close() {
	if c.closed {
		return
	}
	if len(c.pending) > 0 {
		c.keyGen = ^uint64(0) // one last look: keys may have arrived
		c.lookupKeys()
	}
	if !c.keysSeen && c.ch != nil && c.sh != nil {
		// Counted whether or not the suite is one decrypted here.
		if k, ok := c.d.keys.lookup(c.ch.random); ok {
			c.keysSeen = k.master != nil || k.chts != nil || k.cts0 != nil
		}
	}
	c.release()
	c.closed = true
	for i := range c.side {
		if c.side[i].inflate != nil {
			c.side[i].inflate.close()
		}
	}
	skipped := c.skipped + len(c.pending)
	c.d.st.add(func(st *Stats) {
		st.RecordsDecrypted += uint64(c.decrypted)
		st.RecordsFailed += uint64(c.authFails + c.gapFails)
		st.RecordsSkipped += uint64(skipped)
		st.PlaintextBytes += uint64(c.plainBytes)
		st.Resyncs += uint64(c.resyncs)
		st.EarlyDataSkipped += uint64(c.earlySkipped)
		if c.notTLS || c.startScan && !c.tlsSeen {
			st.NotTLS++
			return
		}
		if !c.tlsSeen {
			return
		}
		if c.midStarted {
			st.MidConnection++
		}
		st.Seen++
		if c.keysSeen {
			st.WithKeys++
		}
		fail := func(r Reason) {
			if st.Failed == nil {
				st.Failed = map[Reason]uint64{}
			}
			st.Failed[r]++
		}
		switch {
		case c.sh != nil && !c.suiteOK:
			fail(ReasonUnsupportedSuite)
			if st.Unsupported == nil {
				st.Unsupported = map[string]uint64{}
			}
			name := SuiteName(c.sh.suite)
			if c.sh.version < tls.VersionTLS12 || c.sh.version > tls.VersionTLS13 {
				name = VersionName(c.sh.version) + " " + name
			}
			st.Unsupported[name]++
		case c.protected == 0:
			st.HandshakeOnly++
		case c.noHello && c.decrypted == 0:
			fail(ReasonNoHandshake)
		case !c.keysSeen || c.missedKeys && c.decrypted == 0 && !c.overflow:
			// Given up waiting or not, the keys never came (or came
			// after every record, to a Decryptor that does not wait).
			fail(ReasonNoKey)
		case c.overflow:
			fail(ReasonPendingOverflow)
		case c.gapFails > 0:
			fail(ReasonGap)
		case c.authFails > 0 || c.decrypted == 0:
			fail(ReasonAuth)
		default:
			st.Decrypted++
		}
	})
	c.dropPending()
}

// sslv2Hello reads a ClientHello in the SSL 2.0 compatible format (RFC
// 5246, E.2), which old clients send to offer SSL 2 and TLS alike. It
// returns the bytes after it, the bytes unchanged when the stream does not
// start with one, or nil when more bytes are needed (they are held).
func (c *Conn) sslv2Hello(data []byte) []byte {
	s := &c.side[FromClient]
	b := data
	if len(s.buf) > 0 {
		b = append(s.buf, data...)
	}
	if len(b) < 5 {
		if b[0]&0x80 == 0 {
			return data
		}
		s.buf = append(s.buf[:0], b...)
		return nil
	}
	n := int(b[0]&0x7f)<<8 | int(b[1])
	if b[0]&0x80 == 0 || b[2] != hsClientHello || b[3] != 3 || n < 9 {
		if len(s.buf) > 0 {
			s.buf = s.buf[:0]
			return b
		}
		return data
	}
	if len(b) < 2+n {
		s.buf = append(s.buf[:0], b...)
		return nil
	}
	msg := b[2 : 2+n]
	specs := int(msg[3])<<8 | int(msg[4])
	sid := int(msg[5])<<8 | int(msg[6])
	chl := int(msg[7])<<8 | int(msg[8])
	if 9+specs+sid+chl != n || chl < 16 || chl > 32 {
		c.notTLS = true
		return nil
	}
	ch := &clientHello{}
	copy(ch.random[32-chl:], msg[9+specs+sid:])
	c.ch = ch
	c.tlsSeen = true
	rest := append([]byte(nil), b[2+n:]...)
	s.buf = s.buf[:0]
	if len(rest) == 0 {
		return nil
	}
	return rest
}

// maxMidTries bounds the records of a direction that midStart tries
// (each only when the key log changed since the last try).
const maxMidTries = 4

// midStart tries to place a connection first seen after its hellos. TLS
// 1.3 traffic secrets need no randoms, so the record is tried with the
// application traffic secrets of the most recent sessions of the key log,
// with each suite of the secret's hash, at the first sequence numbers.
func (c *Conn) midStart(d Dir, hdr, body []byte) bool {
	if hdr[1] != 3 || hdr[2] != 3 || c.midTries[d] >= maxMidTries {
		return false
	}
	gen := c.d.keys.generation()
	if gen == c.midGen[d] {
		return false
	}
	c.midGen[d] = gen
	c.midTries[d]++
	w := min(c.d.cfg.Window, 16)
	for _, sk := range c.d.keys.recent13(c.d.cfg.MaxTrialSessions) {
		for _, id := range []uint16{0x1301, 0x1302, 0x1303} {
			su := suites13[id]
			if su.hash()().Size() != len(sk.cts0) || len(sk.cts0) != len(sk.sts0) {
				continue
			}
			for i, mine := range [][]byte{sk.cts0, sk.sts0} {
				hc, err := keys13(su, mine)
				if err != nil {
					continue
				}
				plain, typ, ok := c.try(d, hc, hdr, body, w)
				if !ok {
					continue
				}
				other := sk.sts0
				if i == 1 {
					other = sk.cts0
				}
				oh, err := keys13(su, other)
				if err != nil {
					return false
				}
				c.tls13, c.suite, c.suiteOK = true, su, true
				c.sh = &serverHello{version: tls.VersionTLS13, suite: id}
				c.ch = &clientHello{random: sk.random}
				c.meta.Version, c.meta.Suite = tls.VersionTLS13, id
				c.keysSeen, c.midStarted, c.noHello = true, true, false
				s, o := &c.side[d], &c.side[1-d]
				s.encrypted, s.hc, s.app, s.epoch = true, hc, hc, 1
				o.encrypted, o.hc, o.app, o.epoch = true, oh, oh, 1
				o.lost = true // its sequence number is unknown too
				c.resyncs++
				c.opened(d, plain, typ)
				return true
			}
		}
	}
	return false
}

package tlsdecrypt

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Key log labels (NSS key log format). Other labels (EXPORTER_SECRET,
// CLIENT_EARLY_TRAFFIC_SECRET, QUIC labels, ...) are accepted and ignored.
const (
	labelClientRandom = "CLIENT_RANDOM"
	labelCHTS         = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
	labelSHTS         = "SERVER_HANDSHAKE_TRAFFIC_SECRET"
	labelCTS0         = "CLIENT_TRAFFIC_SECRET_0"
	labelSTS0         = "SERVER_TRAFFIC_SECRET_0"
)

// DefaultMaxSessions bounds the client randoms a KeyLog holds when
// NewKeyLog is given 0: at about 300 bytes a session, 64 MiB.
const DefaultMaxSessions = 1 << 18

// maxLine caps a key log line. The longest valid one (a 48-byte TLS 1.3
// secret) is under 200 bytes; longer lines are malformed and skipped.
const maxLine = 4 << 10

// ErrMalformed is wrapped by the error a KeyLog returns for a key log that
// has lines it could not read.
var ErrMalformed = errors.New("malformed key log line")

// LineError names the first malformed line of a key log: its source, line
// number and what is wrong, never the secret on it.
type LineError struct {
	Source string
	Line   int64
	Field  string // "label", "client random" or "secret"
	Err    error
}

func (e *LineError) Error() string {
	return fmt.Sprintf("%s: line %d: %s: %v", e.Source, e.Line, e.Field, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// sessionKeys are the secrets logged for one client random.
type sessionKeys struct {
	random     [32]byte
	master     []byte // TLS 1.2 and earlier: the 48-byte master secret
	chts, shts []byte // TLS 1.3 handshake traffic secrets
	cts0, sts0 []byte // TLS 1.3 first application traffic secrets
}

// KeyLogStats counts what a KeyLog read.
type KeyLogStats struct {
	Lines     uint64 `json:"lines"`      // lines read, comments and blanks included
	Secrets   uint64 `json:"secrets"`    // secrets stored (a repeated one counts once per line)
	Ignored   uint64 `json:"ignored"`    // lines with a label this package does not use
	Malformed uint64 `json:"malformed"`  // lines skipped because they could not be read
	Sessions  uint64 `json:"sessions"`   // client randoms held
	Dropped   uint64 `json:"dropped"`    // secrets dropped because MaxSessions was reached
	DSBBlocks uint64 `json:"dsb_blocks"` // pcapng Decryption Secrets Blocks added
	Reopened  uint64 `json:"reopened"`   // followed files read again from their start (truncated or replaced)
}

// KeyLog holds session secrets by client random. It is safe for concurrent
// use: keys may be added (a growing key log file, a DSB met later in a
// capture) while connections are being decrypted.
type KeyLog struct {
	mu    sync.RWMutex
	max   int
	m     map[[32]byte]*sessionKeys
	order [][32]byte // client randoms in the order they were first added
	stats KeyLogStats
	gen   uint64 // bumped on every added secret, so waiting Conns retry
}

// NewKeyLog returns an empty KeyLog holding at most maxSessions client
// randoms (DefaultMaxSessions when 0). Past the bound, secrets for new
// client randoms are dropped and counted (KeyLogStats.Dropped): the
// connections they belong to are counted as having no key.
func NewKeyLog(maxSessions int) *KeyLog {
	if maxSessions <= 0 {
		maxSessions = DefaultMaxSessions
	}
	return &KeyLog{max: maxSessions, m: map[[32]byte]*sessionKeys{}}
}

// Stats returns the counters so far.
func (k *KeyLog) Stats() KeyLogStats {
	k.mu.RLock()
	defer k.mu.RUnlock()
	s := k.stats
	s.Sessions = uint64(len(k.m))
	return s
}

// generation changes whenever a secret is added.
func (k *KeyLog) generation() uint64 {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.gen
}

// lookup returns a copy of the secrets for a client random.
func (k *KeyLog) lookup(cr [32]byte) (sessionKeys, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	s, ok := k.m[cr]
	if !ok {
		return sessionKeys{}, false
	}
	return *s, true
}

// Read adds the secrets of the key log text in r; source names it in
// errors. Malformed lines are skipped and counted; the returned error names
// the first one (wrapping ErrMalformed), or is the read error. It returns
// the bytes consumed.
func (k *KeyLog) Read(r io.Reader, source string) (int64, error) {
	p := lineParser{k: k, source: source}
	n, err := p.feed(r, true)
	if err != nil {
		return n, err
	}
	if p.first != nil {
		return n, p.first
	}
	return n, nil
}

// AddDSB adds the secrets of a pcapng Decryption Secrets Block of type TLS
// key log (0x544c534b): its payload is key log text.
func (k *KeyLog) AddDSB(payload []byte, source string) error {
	k.mu.Lock()
	k.stats.DSBBlocks++
	k.mu.Unlock()
	_, err := k.Read(bytes.NewReader(payload), source)
	return err
}

// lineParser reads key log lines. A last line without its newline is
// left unconsumed unless the input is final: a writer may be in the middle
// of it.
type lineParser struct {
	k      *KeyLog
	source string
	line   int64
	skip   bool // inside a line longer than maxLine
	first  *LineError
}

// feed reads r to its end and returns the bytes consumed.
func (p *lineParser) feed(r io.Reader, final bool) (int64, error) {
	br := bufio.NewReaderSize(r, maxLine+1)
	var consumed int64
	for {
		ln, err := br.ReadSlice('\n')
		switch {
		case err == nil:
			consumed += int64(len(ln))
			if p.skip {
				p.skip = false // the end of an over-long line
				continue
			}
			p.parse(ln)
		case errors.Is(err, bufio.ErrBufferFull):
			consumed += int64(len(ln))
			if !p.skip {
				p.malformed("line", fmt.Errorf("longer than %d bytes", maxLine))
				p.skip = true
			}
		case err == io.EOF:
			if final && len(ln) > 0 {
				consumed += int64(len(ln))
				if !p.skip {
					p.parse(ln)
				}
				p.skip = false
			}
			return consumed, nil
		default:
			return consumed, fmt.Errorf("%s: %w", p.source, err)
		}
	}
}

func (p *lineParser) malformed(field string, err error) {
	p.line++
	p.k.mu.Lock()
	p.k.stats.Lines++
	p.k.stats.Malformed++
	p.k.mu.Unlock()
	if p.first == nil {
		p.first = &LineError{Source: p.source, Line: p.line, Field: field, Err: fmt.Errorf("%w: %v", ErrMalformed, err)}
	}
}

// parse reads one line, newline included or not.
func (p *lineParser) parse(ln []byte) {
	ln = bytes.TrimRight(ln, "\r\n")
	ln = bytes.TrimSpace(ln)
	if len(ln) == 0 || ln[0] == '#' {
		p.line++
		p.k.mu.Lock()
		p.k.stats.Lines++
		p.k.mu.Unlock()
		return
	}
	f := bytes.Fields(ln)
	if len(f) != 3 {
		p.malformed("line", fmt.Errorf("%d fields, want 3 (label, client random, secret)", len(f)))
		return
	}
	label := string(f[0])
	switch label {
	case labelClientRandom, labelCHTS, labelSHTS, labelCTS0, labelSTS0:
	default:
		if !validLabel(f[0]) {
			p.malformed("label", errors.New("not an upper-case key log label"))
			return
		}
		p.line++
		p.k.mu.Lock()
		p.k.stats.Lines++
		p.k.stats.Ignored++
		p.k.mu.Unlock()
		return
	}
	var cr [32]byte
	if len(f[1]) != 64 {
		p.malformed("client random", fmt.Errorf("%d hex digits, want 64", len(f[1])))
		return
	}
	if _, err := hex.Decode(cr[:], f[1]); err != nil {
		p.malformed("client random", errors.New("not hex"))
		return
	}
	secret := make([]byte, hex.DecodedLen(len(f[2])))
	if _, err := hex.Decode(secret, f[2]); err != nil {
		p.malformed("secret", errors.New("not hex"))
		return
	}
	switch {
	case label == labelClientRandom && len(secret) != 48:
		p.malformed("secret", fmt.Errorf("master secret of %d bytes, want 48", len(secret)))
		return
	case label != labelClientRandom && len(secret) != 32 && len(secret) != 48:
		p.malformed("secret", fmt.Errorf("traffic secret of %d bytes, want 32 or 48", len(secret)))
		return
	}
	p.line++
	p.k.add(label, cr, secret)
}

func validLabel(b []byte) bool {
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return len(b) > 0
}

func (k *KeyLog) add(label string, cr [32]byte, secret []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.stats.Lines++
	s := k.m[cr]
	if s == nil {
		if len(k.m) >= k.max {
			k.stats.Dropped++
			return
		}
		s = &sessionKeys{random: cr}
		k.m[cr] = s
		k.order = append(k.order, cr)
	}
	switch label {
	case labelClientRandom:
		s.master = secret
	case labelCHTS:
		s.chts = secret
	case labelSHTS:
		s.shts = secret
	case labelCTS0:
		s.cts0 = secret
	case labelSTS0:
		s.sts0 = secret
	}
	k.stats.Secrets++
	k.gen++
}

// DefaultMaxPollBytes bounds what one File.Poll reads when
// File.MaxPollBytes is 0: some 20,000 key log lines.
const DefaultMaxPollBytes = 4 << 20

// File follows a key log file that may still be growing: each Poll reads
// what was appended since the last one. A line being written (no newline
// yet) is read once it is complete. A file that shrank or was replaced
// (rotated: another inode at the path) is read again from its start.
type File struct {
	// MaxPollBytes bounds the bytes one Poll reads (DefaultMaxPollBytes
	// when 0), so a huge backlog is taken in steps; Backlog tells what is
	// left.
	MaxPollBytes int64

	k      *KeyLog
	path   string
	off    int64
	last   os.FileInfo // at the last read, to skip unchanged files
	size   int64       // at the last Poll
	parser lineParser
}

// Follow returns a File adding the secrets of the key log at path to k. It
// does not read it: call Poll or Watch.
func (k *KeyLog) Follow(path string) *File {
	return &File{k: k, path: path, parser: lineParser{k: k, source: path}}
}

// Poll reads what was appended to the file since the last Poll, up to
// MaxPollBytes. A file whose size and modification time are those of the
// last Poll is not opened. The error is an I/O error, or names the first
// malformed line met so far (wrapping ErrMalformed; the other lines are
// used).
func (f *File) Poll() error {
	st, err := os.Stat(f.path)
	if err != nil {
		return fmt.Errorf("key log: %w", err)
	}
	f.size = st.Size()
	if f.last != nil && os.SameFile(f.last, st) && st.Size() == f.off && st.ModTime().Equal(f.last.ModTime()) {
		return f.parserErr()
	}
	if st.Size() < f.off || f.last != nil && !os.SameFile(f.last, st) {
		f.off = 0
		f.parser = lineParser{k: f.k, source: f.path, first: f.parser.first}
		f.k.mu.Lock()
		f.k.stats.Reopened++
		f.k.mu.Unlock()
	}
	fh, err := os.Open(f.path)
	if err != nil {
		return fmt.Errorf("key log: %w", err)
	}
	defer fh.Close()
	if st, err = fh.Stat(); err != nil {
		return fmt.Errorf("key log: %w", err)
	}
	f.last, f.size = st, st.Size()
	if _, err := fh.Seek(f.off, io.SeekStart); err != nil {
		return fmt.Errorf("key log: %w", err)
	}
	limit := f.MaxPollBytes
	if limit <= 0 {
		limit = DefaultMaxPollBytes
	}
	n, err := f.parser.feed(io.LimitReader(fh, limit), false)
	f.off += n
	if err != nil {
		return err
	}
	return f.parserErr()
}

func (f *File) parserErr() error {
	if f.parser.first != nil {
		return f.parser.first
	}
	return nil
}

// Backlog is how many bytes of the file the last Poll left unread (a
// backlog past MaxPollBytes, or a line still being written).
func (f *File) Backlog() int64 { return max(f.size-f.off, 0) }

// Watch polls the file every interval until ctx is done, at once again
// while a backlog past MaxPollBytes remains, and a last time when ctx
// ends. onErr (which may be nil) receives each Poll error that differs
// from the previous one: a file missing at first and created later is
// reported once, then followed.
func (f *File) Watch(ctx context.Context, interval time.Duration, onErr func(error)) {
	var last string
	poll := func() {
		for {
			off := f.off
			err := f.Poll()
			if msg := fmt.Sprint(err); err != nil && msg != last && onErr != nil {
				onErr(err)
			}
			last = fmt.Sprint(err)
			limit := f.MaxPollBytes
			if limit <= 0 {
				limit = DefaultMaxPollBytes
			}
			if err != nil && !errors.Is(err, ErrMalformed) || f.Backlog() < limit || f.off == off || ctx.Err() != nil {
				return
			}
		}
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		poll()
		select {
		case <-ctx.Done():
			poll()
			return
		case <-t.C:
		}
	}
}

// recent13 returns up to n of the most recently added sessions that have
// both TLS 1.3 application traffic secrets.
func (k *KeyLog) recent13(n int) []sessionKeys {
	k.mu.RLock()
	defer k.mu.RUnlock()
	var out []sessionKeys
	for i := len(k.order) - 1; i >= 0 && len(out) < n; i-- {
		if s := k.m[k.order[i]]; s.cts0 != nil && s.sts0 != nil {
			out = append(out, *s)
		}
	}
	return out
}

package bpf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"
)

// MaxChunk is the most data bytes one Chunk carries; longer reads and writes
// are cut there (Chunk.Len keeps their true length, Chunk.Truncated is set).
const MaxChunk = 16384

// ConnID identifies a TCP connection of one process (pid and fd) for as long
// as the fd stays open; ids are unique within one Tracer. 0 means unknown.
type ConnID uint64

// Kind says what a Chunk reports.
type Kind uint8

const (
	// KindData: bytes read from or written to the connection.
	KindData Kind = iota
	// KindOpen: the connection was connected, accepted, or first seen.
	KindOpen
	// KindClose: the process closed the socket.
	KindClose
)

func (k Kind) String() string {
	switch k {
	case KindData:
		return "data"
	case KindOpen:
		return "open"
	case KindClose:
		return "close"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Direction is the way bytes travelled, seen from the traced process.
type Direction uint8

const (
	// Ingress: the process read the bytes.
	Ingress Direction = iota
	// Egress: the process wrote the bytes.
	Egress
)

func (d Direction) String() string {
	if d == Egress {
		return "egress"
	}
	return "ingress"
}

// Chunk is one record from the kernel: the bytes of one read or write call
// (KindData), or the opening or closing of a connection.
type Chunk struct {
	Kind Kind
	Conn ConnID
	// PID is the process (thread group) id, TID the thread's.
	PID, TID uint32
	// Comm is the thread's command name (at most 15 bytes).
	Comm string
	// Cgroup is the cgroup v2 id (the inode number of the cgroup directory).
	Cgroup uint64
	FD     int32
	Dir    Direction
	// TLS: Data is the plaintext of an OpenSSL connection, from the uprobes.
	TLS bool
	// Local and Remote are the socket's addresses; invalid when unknown.
	Local, Remote netip.AddrPort
	Time          time.Time
	// Data holds the first min(Len, MaxChunk) bytes; it is the caller's.
	Data []byte
	// Len is the length of the call's data before the MaxChunk cap.
	Len       int
	Truncated bool
}

// Record layout of struct event in c/specter.bpf.c.
const (
	offKind    = 0
	offDir     = 1
	offFlags   = 2
	offFamily  = 3
	offPID     = 4
	offTID     = 8
	offFD      = 12
	offConn    = 16
	offCgroup  = 24
	offTime    = 32
	offLen     = 40
	offCapLen  = 44
	offLport   = 48
	offRport   = 50
	offLaddr   = 56
	offRaddr   = 72
	offComm    = 88
	headerSize = 104

	flagTLS       = 1
	flagTruncated = 2

	afInet  = 2
	afInet6 = 10
)

// maxComms bounds a commCache; when full it starts over.
const maxComms = 1024

// commCache interns command names: a tracer sees few distinct ones, and a
// string allocation per record would be the reader's largest after the data.
type commCache map[string]string

func (cc commCache) intern(b []byte) string {
	if s, ok := cc[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	if cc != nil {
		if len(cc) >= maxComms {
			clear(cc)
		}
		cc[s] = s
	}
	return s
}

// decodeRecord parses one ring buffer record into c, copying its data. boot
// is the wall-clock time of CLOCK_MONOTONIC's zero, to convert timestamps;
// comms, which may be nil, interns the command names.
func decodeRecord(rec []byte, boot time.Time, comms commCache, c *Chunk) error {
	if err := decodeHeader(rec, boot, comms, c); err != nil {
		return err
	}
	if len(rec) > headerSize {
		c.Data = bytes.Clone(rec[headerSize:])
	}
	return nil
}

// decodeHeader is decodeRecord but for the data: c.Data is left nil.
func decodeHeader(rec []byte, boot time.Time, comms commCache, c *Chunk) error {
	if len(rec) < headerSize {
		return fmt.Errorf("bpf: record of %d bytes, shorter than its %d-byte header", len(rec), headerSize)
	}
	le := binary.LittleEndian
	kind := Kind(rec[offKind])
	if kind > KindClose {
		return fmt.Errorf("bpf: record kind %d at offset %d: unknown", kind, offKind)
	}
	dir := Direction(rec[offDir])
	if dir > Egress {
		return fmt.Errorf("bpf: record direction %d at offset %d: unknown", dir, offDir)
	}
	capLen := int(le.Uint32(rec[offCapLen:]))
	if capLen > MaxChunk || capLen != len(rec)-headerSize {
		return fmt.Errorf("bpf: record data length %d at offset %d, but %d bytes follow the header", capLen, offCapLen, len(rec)-headerSize)
	}
	n := int(le.Uint32(rec[offLen:]))
	if n < capLen {
		return fmt.Errorf("bpf: record length %d at offset %d is less than its %d data bytes", n, offLen, capLen)
	}
	flags := rec[offFlags]
	comm := rec[offComm : offComm+16]
	if i := bytes.IndexByte(comm, 0); i >= 0 {
		comm = comm[:i]
	}
	*c = Chunk{
		Kind:      kind,
		Conn:      ConnID(le.Uint64(rec[offConn:])),
		PID:       le.Uint32(rec[offPID:]),
		TID:       le.Uint32(rec[offTID:]),
		Comm:      comms.intern(comm),
		Cgroup:    le.Uint64(rec[offCgroup:]),
		FD:        int32(le.Uint32(rec[offFD:])),
		Dir:       dir,
		TLS:       flags&flagTLS != 0,
		Time:      boot.Add(time.Duration(le.Uint64(rec[offTime:]))),
		Len:       n,
		Truncated: flags&flagTruncated != 0 || n > capLen,
	}
	lport := le.Uint16(rec[offLport:])
	rport := le.Uint16(rec[offRport:])
	switch rec[offFamily] {
	case afInet:
		c.Local = netip.AddrPortFrom(netip.AddrFrom4([4]byte(rec[offLaddr:offLaddr+4])), lport)
		c.Remote = netip.AddrPortFrom(netip.AddrFrom4([4]byte(rec[offRaddr:offRaddr+4])), rport)
	case afInet6:
		c.Local = netip.AddrPortFrom(netip.AddrFrom16([16]byte(rec[offLaddr:offLaddr+16])).Unmap(), lport)
		c.Remote = netip.AddrPortFrom(netip.AddrFrom16([16]byte(rec[offRaddr:offRaddr+16])).Unmap(), rport)
	}
	return nil
}

// Bounds of a Batch: at most BatchChunks chunks, and room for their data
// in a buffer of BatchBytes (a chunk is added while MaxChunk bytes are
// free, so every chunk fits).
const (
	BatchChunks = 256
	BatchBytes  = 64 << 10
)

// Batch is a set of chunks read at once (see Tracer.ReadBatch). Their Data
// share the batch's buffer: they are valid until the batch is reset or
// read into again. A zero Batch is ready for use.
type Batch struct {
	Chunks []Chunk
	buf    []byte
}

// Reset empties the batch for reuse.
func (b *Batch) Reset() {
	if b.buf == nil {
		b.buf = make([]byte, 0, BatchBytes)
		b.Chunks = make([]Chunk, 0, BatchChunks)
	}
	clear(b.Chunks) // no references kept past their use
	b.Chunks, b.buf = b.Chunks[:0], b.buf[:0]
}

// Full reports whether the batch has no room for another chunk.
func (b *Batch) Full() bool {
	return len(b.Chunks) >= BatchChunks || cap(b.buf)-len(b.buf) < MaxChunk
}

// Add appends c, copying its Data (at most MaxChunk bytes) into the
// batch's buffer; the batch must not be Full.
func (b *Batch) Add(c *Chunk) {
	b.Chunks = append(b.Chunks, *c)
	b.Chunks[len(b.Chunks)-1].Data = b.data(c.Data)
}

// data copies d into the buffer and returns the copy (nil for none).
func (b *Batch) data(d []byte) []byte {
	if len(d) == 0 {
		return nil
	}
	if b.buf == nil {
		b.Reset()
	}
	n := len(b.buf)
	b.buf = append(b.buf, d...)
	return b.buf[n:len(b.buf):len(b.buf)]
}

// decode appends the chunk of one ring buffer record (see decodeRecord);
// the batch must not be Full.
func (b *Batch) decode(rec []byte, boot time.Time, comms commCache) error {
	b.Chunks = append(b.Chunks, Chunk{})
	c := &b.Chunks[len(b.Chunks)-1]
	if err := decodeHeader(rec, boot, comms, c); err != nil {
		b.Chunks = b.Chunks[:len(b.Chunks)-1]
		return err
	}
	c.Data = b.data(rec[headerSize:])
	return nil
}

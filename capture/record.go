package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Record bounds. A record length comes from the file: trusting it lets one
// corrupt header make the reader buffer the rest of the file, or skip it.
const (
	// minRecordMax is the longest record accepted whatever the snap
	// length: libpcap's MAXIMUM_SNAPLEN. Like libpcap, records longer
	// than the declared snap length are read up to it, since some writers
	// do not truncate to the snap length they declare.
	minRecordMax = 262144
	// maxRecordMax caps the record length a large declared snap length
	// allows (some writers declare 2^32-1).
	maxRecordMax = 16 << 20
	// maxOtherBlock caps pcapng blocks that are not packets (name
	// resolution, decryption secrets, statistics...).
	maxOtherBlock = 16 << 20
	// maxResync is how far past a corrupt record the reader looks for the
	// next plausible one before it gives up on the file.
	maxResync = 64 << 20
	// maxResyncGap is how far from the last good record's time a pcap
	// record header found while resynchronizing may be.
	maxResyncGap = 24 * time.Hour
	// keptErrors is how many corruptions Errors keeps; further ones are
	// only counted.
	keptErrors = 16
)

// ErrCorrupt is wrapped by the error Next returns at the end of a file in
// which corrupt records were skipped (see Reader.Next).
var ErrCorrupt = errors.New("corrupt records skipped")

// ReaderStats counts the corruption a Reader recovered from.
type ReaderStats struct {
	// CorruptRecords counts records (pcapng blocks) rejected because
	// their lengths are implausible or their content is malformed.
	CorruptRecords uint64 `json:"corrupt_records"`
	// SkippedBytes counts the bytes skipped to get past them, up to the
	// next plausible record.
	SkippedBytes uint64 `json:"skipped_bytes"`
}

// recordMax is the longest record accepted for a declared snap length.
func recordMax(snaplen uint32) int {
	return int(min(max(snaplen, minRecordMax), maxRecordMax))
}

// verdict is what a look at bytes that may start a record concludes.
type verdict uint8

const (
	recBad  verdict = iota
	recOK           // a plausible record start
	recMore         // more bytes are needed to tell
)

// corrupt records a corruption at off and skips to the next record that
// plausible accepts, scanning at most maxResync bytes of r.br. It returns
// the fatal error when none is found (nil at a clean end of the stream
// during the scan, which is then reported with the corruption).
func (r *Reader) corrupt(off int64, why error, plausible func(b []byte, eof bool) verdict) error {
	r.stats.CorruptRecords++
	fe := &FormatError{File: r.name, Offset: off, Err: why}
	if len(r.errs) < keptErrors {
		r.errs = append(r.errs, fe)
	}
	// The record at off is bad: the next one starts at least a byte later.
	skipped := 1
	if _, err := r.br.Discard(1); err != nil {
		return nil
	}
	for skipped <= maxResync {
		b, err := r.br.Peek(bufSize)
		eof := err != nil
		i := 0
		for ; i < len(b) && skipped+i <= maxResync; i++ {
			v := plausible(b[i:], eof)
			if v == recOK {
				r.br.Discard(i)
				skipped += i
				r.stats.SkippedBytes += uint64(skipped)
				fe.Err = fmt.Errorf("%w; skipped %d bytes to the next plausible record at offset %d", why, skipped, off+int64(skipped))
				return nil
			}
			if v == recMore && i > 0 && !eof {
				// Look again with the candidate at the start of a full
				// buffer.
				break
			}
		}
		if len(b) == 0 && eof && skipped <= maxResync {
			r.stats.SkippedBytes += uint64(skipped)
			fe.Err = fmt.Errorf("%w; no record after it (%d bytes skipped to the end)", why, skipped)
			return nil
		}
		if i == 0 {
			i = 1 // a full buffer that still cannot tell: not a record
		}
		r.br.Discard(i)
		skipped += i
	}
	r.stats.SkippedBytes += uint64(skipped)
	return &FormatError{File: r.name, Offset: off, Err: fmt.Errorf("%w; no plausible record in the %d MiB after it, rest of the file not read", why, maxResync>>20)}
}

// endErr is the error Next returns at the end of the stream: io.EOF, or
// the corruption skipped on the way.
func (r *Reader) endErr() error {
	if r.stats.CorruptRecords == 0 {
		return io.EOF
	}
	first := r.errs[0]
	return &FormatError{File: r.name, Offset: first.Offset, Err: fmt.Errorf("%w: %d record(s), %d bytes, reading resumed after each; first: %v", ErrCorrupt, r.stats.CorruptRecords, r.stats.SkippedBytes, first.Err)}
}

// Errors returns the corruptions skipped so far, each naming its offset
// (the first 16; ReaderStats counts them all).
func (r *Reader) Errors() []*FormatError { return r.errs }

// Stats returns the corruption counters so far.
func (r *Reader) Stats() ReaderStats { return r.stats }

// pcapRecord is a pcap record header in the file's byte order.
type pcapRecord struct {
	sec, frac, incl, orig uint32
}

func (r *Reader) pcapHeader(b []byte) pcapRecord {
	o := r.pcapOrder
	return pcapRecord{o.Uint32(b), o.Uint32(b[4:]), o.Uint32(b[8:]), o.Uint32(b[12:])}
}

// pcapCandidate judges a pcap record header found while resynchronizing:
// sane lengths, a timestamp near the last good record's, and a plausible
// header right after it (or the end of the stream).
func (r *Reader) pcapCandidate(b []byte, eof bool) verdict {
	if len(b) < 16 {
		if eof {
			return recBad
		}
		return recMore
	}
	h := r.pcapHeader(b)
	if !r.pcapSane(h, true) {
		return recBad
	}
	next := 16 + int(h.incl)
	switch {
	case len(b) == next && eof:
		return recOK
	case len(b) < next+16:
		if eof {
			return recBad
		}
		return recMore
	}
	if !r.pcapSane(r.pcapHeader(b[next:]), true) {
		return recBad
	}
	return recOK
}

// pcapSane reports whether h may be a record header. Strict adds what
// real writers always do but readers need not insist on: the captured
// length within the original one, and a timestamp near the last good one.
func (r *Reader) pcapSane(h pcapRecord, strict bool) bool {
	if int(h.incl) > r.maxRecord {
		return false
	}
	if !strict {
		return true
	}
	if h.incl > h.orig || h.orig > maxRecordMax || h.frac >= r.pcapFracMax {
		return false
	}
	if r.lastSec != 0 {
		d := int64(h.sec) - r.lastSec
		if d > int64(maxResyncGap/time.Second) || d < -int64(maxResyncGap/time.Second) {
			return false
		}
	}
	return true
}

// nextPcap reads one pcap record. The record bytes are served from the
// read buffer when they fit in it.
func (r *Reader) nextPcap() (Frame, error) {
	for {
		off := r.pos()
		b, err := r.br.Peek(16)
		if len(b) < 16 {
			if len(b) == 0 && err == io.EOF {
				return Frame{}, r.endErr()
			}
			return Frame{}, r.truncated(off, err)
		}
		h := r.pcapHeader(b)
		if !r.pcapSane(h, false) {
			why := fmt.Errorf("bad packet record: capture length %d exceeds the maximum %d", h.incl, r.maxRecord)
			if err := r.corrupt(off, why, r.pcapCandidate); err != nil {
				return Frame{}, err
			}
			continue
		}
		n := 16 + int(h.incl)
		var data []byte
		if n <= bufSize {
			b, err = r.br.Peek(n)
			if len(b) < n {
				return Frame{}, r.truncated(off, err)
			}
			data = b[16:n:n]
			r.br.Discard(n)
		} else {
			r.br.Discard(16)
			if cap(r.big) < int(h.incl) {
				r.big = make([]byte, h.incl)
			}
			data = r.big[:h.incl]
			if _, err := io.ReadFull(r.br, data); err != nil {
				return Frame{}, r.truncated(off, err)
			}
		}
		r.lastSec = int64(h.sec)
		ci := gopacket.CaptureInfo{
			Timestamp:     time.Unix(int64(h.sec), int64(h.frac)*r.pcapFracNanos).UTC(),
			CaptureLength: int(h.incl),
			Length:        int(h.orig),
		}
		return Frame{Data: data, Info: ci, LinkType: r.linkType, Offset: off}, nil
	}
}

// truncated is the error for a record cut short by the end of the stream
// (or a read error).
func (r *Reader) truncated(off int64, err error) error {
	if err == nil || err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, bufio.ErrBufferFull) {
		return &FormatError{File: r.name, Offset: off, Err: fmt.Errorf("truncated packet record: %w", io.ErrUnexpectedEOF)}
	}
	return &FormatError{File: r.name, Offset: off, Err: fmt.Errorf("reading packet record: %w", err)}
}

// pcapng block types.
const (
	ngInterface      = 1
	ngPacketObsolete = 2
	ngSimplePacket   = 3
	ngNameResolution = 4
	ngStatistics     = 5
	ngEnhancedPacket = 6
	ngDecryption     = 10
	ngCustom         = 0x00000BAD
	ngCustomNoCopy   = 0x40000BAD
	ngSectionHeader  = 0x0A0D0D0A
	ngByteOrderMagic = 0x1A2B3C4D
)

// gate lets the pcapng reader read only blocks the Reader has checked, up
// to limit bytes in all: beyond, it reads io.EOF. NgReader trusts block and
// packet lengths, so it never sees one that has not been checked.
type gate struct {
	r     io.Reader
	n     int64 // bytes let through
	limit int64
}

func (g *gate) Read(p []byte) (int, error) {
	if g.n >= g.limit {
		return 0, io.EOF
	}
	if int64(len(p)) > g.limit-g.n {
		p = p[:g.limit-g.n]
	}
	n, err := g.r.Read(p)
	g.n += int64(n)
	return n, err
}

// ngSection is what checking pcapng blocks needs to know of the section
// being read.
type ngSection struct {
	order     binary.ByteOrder
	ifaces    int
	maxRecord int
}

// ngBlock judges the pcapng block at the start of b. It returns the
// block's total length, and whether it is a packet block. In a resync
// scan only known block types whose trailing length can be seen count.
func ngBlock(b []byte, s *ngSection, eof, scan bool) (total int, packet bool, v verdict) {
	more := recMore
	if eof {
		more = recBad
	}
	if len(b) < 12 {
		return 0, false, more
	}
	order := s.order
	typ := order.Uint32(b)
	if typ == ngSectionHeader {
		switch {
		case binary.LittleEndian.Uint32(b[8:]) == ngByteOrderMagic:
			order = binary.LittleEndian
		case binary.BigEndian.Uint32(b[8:]) == ngByteOrderMagic:
			order = binary.BigEndian
		default:
			return 0, false, recBad
		}
	}
	total = int(order.Uint32(b[4:]))
	minLen, limit := 12, maxOtherBlock
	switch typ {
	case ngSectionHeader:
		minLen = 28
	case ngInterface:
		minLen = 20
	case ngStatistics:
		minLen = 24
	case ngEnhancedPacket, ngPacketObsolete:
		minLen, limit, packet = 32, 32+s.maxRecord+maxOtherBlock, true
	case ngSimplePacket:
		minLen, limit, packet = 16, 16+s.maxRecord+maxOtherBlock, true
	case ngNameResolution, ngDecryption, ngCustom, ngCustomNoCopy:
	default:
		if scan {
			return 0, false, recBad
		}
	}
	if total < minLen || total%4 != 0 || total > limit {
		return 0, false, recBad
	}
	if packet {
		if s.ifaces == 0 {
			return 0, false, recBad
		}
		if typ == ngSimplePacket {
			if min(int(order.Uint32(b[8:])), s.maxRecord) > total-16 {
				return 0, false, recBad
			}
		} else {
			if len(b) < 24 {
				return 0, false, more
			}
			ifid := int(order.Uint32(b[8:]))
			if typ == ngPacketObsolete {
				ifid = int(order.Uint16(b[8:]))
			}
			caplen := int(order.Uint32(b[20:]))
			if ifid >= s.ifaces || caplen > total-32 || caplen > s.maxRecord {
				return 0, false, recBad
			}
		}
	}
	if len(b) >= total {
		if int(order.Uint32(b[total-4:])) != total {
			return 0, false, recBad
		}
	} else if scan {
		return 0, false, more
	}
	return total, packet, recOK
}

// admitNg checks the blocks after those already let through the gate, up
// to and including the next packet block (as far as the read buffer
// shows), and lets them through. It returns the offset of the packet
// block, or -1 when the blocks it let through hold none. bad is set when
// it stopped at a block that is not plausible.
func (r *Reader) admitNg() (pkt int64, bad bool) {
	if r.ngbr.Buffered() > 0 || r.gate.n < r.gate.limit {
		return r.ngPkt, r.ngBad // what was let through is not read yet
	}
	// Everything let through has been read by the pcapng reader, so the
	// unchecked blocks start at the read buffer's position.
	start := r.stream.n - int64(r.br.Buffered())
	k := 0
	pkt = -1
	s := r.ng
	for range 64 {
		b, err := r.br.Peek(min(k+bufSize/2, bufSize))
		eof := err != nil
		if len(b) <= k {
			break
		}
		total, packet, v := ngBlock(b[k:], &s, eof, false)
		if v == recMore && k > 0 {
			break // the next call sees it from the buffer's start
		}
		if v != recOK {
			if v == recMore || eof && len(b)-k < 24 {
				// A block cut by the end of the stream: let the
				// pcapng reader report it as truncated.
				k = len(b)
				break
			}
			bad = true
			break
		}
		if len(b)-k < total && k > 0 {
			break // see it whole from the buffer's start next time
		}
		switch order := s.order; order.Uint32(b[k:]) {
		case ngSectionHeader:
			if binary.BigEndian.Uint32(b[k+8:]) == ngByteOrderMagic {
				s.order = binary.BigEndian
			} else {
				s.order = binary.LittleEndian
			}
			s.ifaces, s.maxRecord = 0, recordMax(0)
		case ngInterface:
			s.ifaces++
			if len(b) >= k+16 { // else cut by the end of the stream
				s.maxRecord = max(s.maxRecord, recordMax(order.Uint32(b[k+12:])))
			}
		case ngDecryption:
			r.noteSecrets(b[k:], total, order, start+int64(k))
		}
		if packet {
			pkt = start + int64(k)
		}
		k += total
		if packet {
			break
		}
	}
	r.ng = s
	r.gate.limit += int64(k)
	r.ngPkt, r.ngBad = pkt, bad
	return pkt, bad
}

// nextNg reads one pcapng packet block through the gate.
func (r *Reader) nextNg() (Frame, error) {
	for {
		pkt, bad := r.admitNg()
		data, ci, err := r.ngr.ZeroCopyReadPacketData()
		if err == nil {
			r.ngPkt = -1
			lt := r.linkType
			if len(ci.AncillaryData) > 0 {
				if l, ok := ci.AncillaryData[0].(layers.LinkType); ok {
					lt = l
				}
			}
			if !r.ngLinkKnown {
				if intf, ierr := r.ngr.Interface(0); ierr == nil {
					r.linkType, r.ngLinkKnown = intf.LinkType, true
				}
			}
			return Frame{Data: data, Info: ci, LinkType: lt, Offset: pkt}, nil
		}
		off := r.pos()
		at := off
		if pkt >= 0 {
			at = pkt
		}
		r.ngPkt = -1
		_, perr := r.br.Peek(1)
		streamEnd := perr != nil
		if err == io.EOF && r.ngbr.Buffered() == 0 && r.gate.n == r.gate.limit {
			// The pcapng reader is at a block boundary, the end of what
			// was checked.
			if !bad {
				if streamEnd {
					return Frame{}, r.endErr()
				}
				continue // more blocks than one look checks
			}
			r.ngBad = false
			total := 0
			if b, _ := r.br.Peek(8); len(b) == 8 {
				total = int(r.ng.order.Uint32(b[4:]))
			}
			why := fmt.Errorf("bad block (type %#x, length %d)", r.peekType(), total)
			if ferr := r.corrupt(off, why, func(b []byte, eof bool) verdict {
				s := r.ng
				_, _, v := ngBlock(b, &s, eof, true)
				return v
			}); ferr != nil {
				return Frame{}, ferr
			}
			continue
		}
		if streamEnd && (err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF)) {
			return Frame{}, &FormatError{File: r.name, Offset: at, Err: fmt.Errorf("truncated packet record: %w", io.ErrUnexpectedEOF)}
		}
		// A checked block the pcapng reader could not read (a bad option,
		// an unknown interface, inner lengths beyond the block): skip the
		// rest of what was checked.
		r.stats.CorruptRecords++
		if len(r.errs) < keptErrors {
			r.errs = append(r.errs, &FormatError{File: r.name, Offset: at, Err: fmt.Errorf("bad block: %w", unexpected(err))})
		}
		n := int(r.gate.limit-r.gate.n) + r.ngbr.Buffered()
		r.ngbr.Discard(r.ngbr.Buffered())
		r.br.Discard(int(r.gate.limit - r.gate.n))
		r.gate.limit = r.gate.n
		r.stats.SkippedBytes += uint64(n)
	}
}
func (r *Reader) peekType() uint32 {
	if b, _ := r.br.Peek(4); len(b) == 4 {
		return r.ng.order.Uint32(b)
	}
	return 0
}

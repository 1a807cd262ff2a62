package http2

import (
	"errors"

	"golang.org/x/net/http2/hpack"
)

// Errors of the recovering HPACK walker.
var (
	errHPACKTruncated = errors.New("hpack: truncated header block")
	errHPACKInteger   = errors.New("hpack: integer overflow")
	errHPACKIndex     = errors.New("hpack: index 0")
	errHPACKHuffman   = errors.New("hpack: invalid Huffman string")
)

// Field is one header field as it was on the wire, in wire order. Names are
// kept as sent (HTTP/2 requires lower case; nothing is canonicalized).
type Field struct {
	Name, Value string
	// NameUnknown and ValueUnknown mark parts that came from HPACK
	// dynamic-table entries added before the capture started: they are
	// not known, and Name/Value are empty rather than guessed.
	NameUnknown, ValueUnknown bool
	// Sensitive is the never-indexed representation (RFC 7541 §6.2.3).
	Sensitive bool
}

// Unknown reports whether part of the field could not be decoded.
func (f Field) Unknown() bool { return f.NameUnknown || f.ValueUnknown }

// entry is one dynamic-table entry of the walker; parts may be unknown
// (placeholders) when the field that added it referred to an entry from
// before the capture.
type entry struct {
	f    Field
	size uint32 // RFC 7541 §4.1 size, with unknown parts counted as empty
}

// walker is a minimal HPACK decoder (RFC 7541) for header blocks whose
// dynamic table is not (fully) known: a capture that started mid-connection,
// or a block lost to a gap. Its table holds only the entries added since it
// was (re)started, newest first, so index i refers to the same field the
// encoder meant whenever i is within it; references past its end are
// entries from before the capture and come out as unknown. This holds
// whatever the real table size is: the encoder never refers to entries it
// has evicted, and the walker's entries are a newest-first prefix of the
// encoder's. So a wrong value is never attached, only unknown ones.
//
// Literal strings are decoded with hpack's Huffman decoder.
type walker struct {
	// table holds the entries oldest first from table[first] on, so that
	// adding appends and evicting advances first (compacted when half is
	// dead): both amortized O(1), whatever a hostile block does.
	table   []entry
	first   int
	size    uint32 // sum of entry sizes
	maxSize uint32 // current dynamic table size bound (from size updates)
	limit   uint32 // hard cap (Config.MaxTableSize)
}

func newWalker(limit uint32) *walker {
	return &walker{maxSize: limit, limit: limit}
}

// reset forgets the table: used when a header block was lost, since the
// entries it added would shift every later index.
func (w *walker) reset() {
	w.table = w.table[:0]
	w.first = 0
	w.size = 0
}

// len returns the number of live entries.
func (w *walker) len() int { return len(w.table) - w.first }

// decode walks one complete header block, calling emit for each field. It
// returns the number of fields with unknown parts. On an error the fields
// emitted so far stand; the table may have missed entries, so the caller
// resets it.
func (w *walker) decode(p []byte, emit func(Field) bool) (unknown int, err error) {
	for len(p) > 0 {
		b := p[0]
		var f Field
		switch {
		case b&0x80 != 0: // indexed field
			var idx uint64
			if idx, p, err = readInt(7, p); err != nil {
				return unknown, err
			}
			if f, err = w.at(idx, true); err != nil {
				return unknown, err
			}
		case b&0xc0 == 0x40: // literal with incremental indexing
			if f, p, err = w.literal(6, p); err != nil {
				return unknown, err
			}
			w.add(f)
		case b&0xe0 == 0x20: // dynamic table size update
			var n uint64
			if n, p, err = readInt(5, p); err != nil {
				return unknown, err
			}
			if n > uint64(w.limit) {
				// Above what we are willing to hold: keep our cap. The
				// walker's table stays a prefix of the encoder's, so this
				// costs only placeholders, never wrong values.
				n = uint64(w.limit)
			}
			w.maxSize = uint32(n)
			w.evict()
			continue
		default: // literal without indexing (0000) or never indexed (0001)
			sens := b&0xf0 == 0x10
			if f, p, err = w.literal(4, p); err != nil {
				return unknown, err
			}
			f.Sensitive = sens
		}
		if f.Unknown() {
			unknown++
		}
		if !emit(f) {
			return unknown, nil
		}
	}
	return unknown, nil
}

// at resolves index idx (static table first, then dynamic).
func (w *walker) at(idx uint64, value bool) (Field, error) {
	if idx == 0 {
		return Field{}, errHPACKIndex
	}
	if idx <= uint64(len(staticTable)) {
		f := staticTable[idx-1]
		if !value {
			f.Value = ""
		}
		return f, nil
	}
	i := idx - uint64(len(staticTable)) - 1
	if i < uint64(w.len()) {
		f := w.table[len(w.table)-1-int(i)].f
		f.Sensitive = false
		if !value {
			f.Value, f.ValueUnknown = "", false
		}
		return f, nil
	}
	return Field{NameUnknown: true, ValueUnknown: value}, nil
}

func (w *walker) literal(n uint8, p []byte) (Field, []byte, error) {
	var idx uint64
	var err error
	if idx, p, err = readInt(n, p); err != nil {
		return Field{}, p, err
	}
	var f Field
	if idx == 0 {
		if f.Name, p, err = w.str(p); err != nil {
			return f, p, err
		}
	} else if f, err = w.at(idx, false); err != nil {
		return f, p, err
	}
	f.Value, p, err = w.str(p)
	return f, p, err
}

func (w *walker) str(p []byte) (string, []byte, error) {
	if len(p) == 0 {
		return "", p, errHPACKTruncated
	}
	huff := p[0]&0x80 != 0
	n, p, err := readInt(7, p)
	if err != nil {
		return "", p, err
	}
	if n > uint64(len(p)) {
		return "", p, errHPACKTruncated
	}
	raw := p[:n]
	p = p[n:]
	if !huff {
		return string(raw), p, nil
	}
	// Strings are bounded by the block, itself bounded by MaxHeaderBlock.
	s, err := hpack.HuffmanDecodeToString(raw)
	if err != nil {
		return "", p, errHPACKHuffman
	}
	return s, p, nil
}

func (w *walker) add(f Field) {
	f.Sensitive = false
	e := entry{f: f, size: uint32(len(f.Name) + len(f.Value) + 32)}
	if e.size > w.maxSize {
		// RFC 7541 §4.4: an entry larger than the table empties it.
		w.reset()
		return
	}
	w.table = append(w.table, e)
	w.size += e.size
	w.evict()
}

func (w *walker) evict() {
	for w.size > w.maxSize && w.len() > 0 {
		w.size -= w.table[w.first].size
		w.table[w.first] = entry{}
		w.first++
	}
	if w.first > 0 && w.first >= len(w.table)/2 {
		n := copy(w.table, w.table[w.first:])
		clear(w.table[n:])
		w.table = w.table[:n]
		w.first = 0
	}
}

// readInt decodes an HPACK integer with an n-bit prefix (RFC 7541 §5.1).
func readInt(n uint8, p []byte) (uint64, []byte, error) {
	if len(p) == 0 {
		return 0, p, errHPACKTruncated
	}
	mask := uint64(1)<<n - 1
	v := uint64(p[0]) & mask
	p = p[1:]
	if v < mask {
		return v, p, nil
	}
	var m uint
	for i := 0; i < len(p); i++ {
		b := p[i]
		v += uint64(b&0x7f) << m
		if b&0x80 == 0 {
			if v > 1<<32 {
				return 0, p, errHPACKInteger
			}
			return v, p[i+1:], nil
		}
		if m += 7; m >= 63 {
			return 0, p, errHPACKInteger
		}
	}
	return 0, p, errHPACKTruncated
}

// staticTable is RFC 7541 Appendix A (hpack does not export its own).
var staticTable = [...]Field{
	{Name: ":authority"},
	{Name: ":method", Value: "GET"},
	{Name: ":method", Value: "POST"},
	{Name: ":path", Value: "/"},
	{Name: ":path", Value: "/index.html"},
	{Name: ":scheme", Value: "http"},
	{Name: ":scheme", Value: "https"},
	{Name: ":status", Value: "200"},
	{Name: ":status", Value: "204"},
	{Name: ":status", Value: "206"},
	{Name: ":status", Value: "304"},
	{Name: ":status", Value: "400"},
	{Name: ":status", Value: "404"},
	{Name: ":status", Value: "500"},
	{Name: "accept-charset"},
	{Name: "accept-encoding", Value: "gzip, deflate"},
	{Name: "accept-language"},
	{Name: "accept-ranges"},
	{Name: "accept"},
	{Name: "access-control-allow-origin"},
	{Name: "age"},
	{Name: "allow"},
	{Name: "authorization"},
	{Name: "cache-control"},
	{Name: "content-disposition"},
	{Name: "content-encoding"},
	{Name: "content-language"},
	{Name: "content-length"},
	{Name: "content-location"},
	{Name: "content-range"},
	{Name: "content-type"},
	{Name: "cookie"},
	{Name: "date"},
	{Name: "etag"},
	{Name: "expect"},
	{Name: "expires"},
	{Name: "from"},
	{Name: "host"},
	{Name: "if-match"},
	{Name: "if-modified-since"},
	{Name: "if-none-match"},
	{Name: "if-range"},
	{Name: "if-unmodified-since"},
	{Name: "last-modified"},
	{Name: "link"},
	{Name: "location"},
	{Name: "max-forwards"},
	{Name: "proxy-authenticate"},
	{Name: "proxy-authorization"},
	{Name: "range"},
	{Name: "referer"},
	{Name: "refresh"},
	{Name: "retry-after"},
	{Name: "server"},
	{Name: "set-cookie"},
	{Name: "strict-transport-security"},
	{Name: "transfer-encoding"},
	{Name: "user-agent"},
	{Name: "vary"},
	{Name: "via"},
	{Name: "www-authenticate"},
}

package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/klauspost/compress/gzip"
)

// ErrNotCapture is wrapped by the error Open returns for a file whose magic
// number is neither pcap, pcapng nor gzip.
var ErrNotCapture = errors.New("not a pcap or pcapng file")

// FormatError reports a capture file that is truncated or malformed. Every
// frame before Offset was returned by Next before the error; when it wraps
// ErrCorrupt, the reader skipped the corrupt records and returned the
// frames after them too.
type FormatError struct {
	File   string
	Offset int64 // byte offset in the decompressed stream
	Err    error
}

// Error formats the error as "file: offset N: what".
func (e *FormatError) Error() string {
	return fmt.Sprintf("%s: offset %d: %v", e.File, e.Offset, e.Err)
}

// Unwrap returns the underlying error.
func (e *FormatError) Unwrap() error { return e.Err }

// bufSize is the read buffer size. It must be at least bufio's default (4096)
// so that pcapgo reuses our *bufio.Reader instead of wrapping it in its own,
// which keeps the consumed-byte count, hence record offsets, exact.
const bufSize = 256 << 10

// Format names a capture file format.
type Format uint8

// Capture file formats recognized by magic number.
const (
	FormatUnknown Format = iota
	FormatPcap
	FormatPcapNG
)

func (f Format) String() string {
	switch f {
	case FormatPcap:
		return "pcap"
	case FormatPcapNG:
		return "pcapng"
	}
	return "unknown"
}

// sniff returns the format for the first 4 bytes of a stream. gzip is
// reported separately because it needs a second look after decompression.
func sniff(magic []byte) (f Format, gz bool) {
	if len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		return FormatUnknown, true
	}
	if len(magic) < 4 {
		return FormatUnknown, false
	}
	switch string(magic[:4]) {
	case "\xd4\xc3\xb2\xa1", "\xa1\xb2\xc3\xd4", // microseconds, LE / BE
		"\x4d\x3c\xb2\xa1", "\xa1\xb2\x3c\x4d": // nanoseconds, LE / BE
		return FormatPcap, false
	case "\x0a\x0d\x0d\x0a":
		return FormatPcapNG, false
	}
	return FormatUnknown, false
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Reader reads frames from one pcap or pcapng file, optionally gzipped,
// streaming it through a fixed-size buffer.
type Reader struct {
	name   string
	closer io.Closer // the file; nil for stdin and OpenReader
	size   int64     // -1 when unknown

	raw    *countingReader // bytes of the file itself, for progress
	stream *countingReader // bytes of the decompressed stream fed to br
	br     *bufio.Reader
	gz     *gzip.Reader

	format    Format
	linkType  layers.LinkType
	maxRecord int // longest pcap record accepted

	// pcap records are read here, not by pcapgo, so that their lengths
	// are checked before they are trusted.
	pcapOrder     binary.ByteOrder
	pcapFracMax   uint32 // timestamp fraction bound: 1e6 or 1e9
	pcapFracNanos int64  // nanoseconds per fraction unit
	lastSec       int64  // seconds of the last good record, for resync
	big           []byte // records too long for the read buffer

	// pcapng goes through pcapgo's NgReader, which reads only blocks
	// checked by admitNg, through gate.
	ngr   *pcapgo.NgReader
	gate  gate
	ngbr  *bufio.Reader
	ng    ngSection // of the blocks checked so far
	ngPkt int64     // offset of the packet block let through, -1 if none
	ngBad bool      // checking stopped at an implausible block
	// ngLinkKnown is set once the pcapng first interface has been read.
	ngLinkKnown bool
	// secrets holds the pcapng Decryption Secrets Blocks not yet taken.
	secrets dsbState

	stats ReaderStats
	errs  []*FormatError
	err   error // sticky: once set, Next returns it
}

// Open opens the capture file at path ("-" for standard input). The format
// is detected by magic number: pcap (micro- or nanosecond, either byte
// order), pcapng, or either of them gzip-compressed.
func Open(path string) (*Reader, error) {
	if path == "-" {
		return OpenReader(os.Stdin, "stdin")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	r, err := newReader(f, path, size)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// OpenReader reads a capture from rd, which it does not close; name is used
// in errors.
func OpenReader(rd io.Reader, name string) (*Reader, error) {
	return newReader(rd, name, -1)
}

func newReader(rd io.Reader, name string, size int64) (*Reader, error) {
	r := &Reader{name: name, size: size}
	r.raw = &countingReader{r: rd}
	r.stream = r.raw
	r.br = bufio.NewReaderSize(r.raw, bufSize)
	magic, err := r.br.Peek(4)
	format, gz := sniff(magic)
	if gz {
		r.gz, err = gzip.NewReader(r.br)
		if err != nil {
			return nil, &FormatError{File: name, Offset: 0, Err: fmt.Errorf("gzip header: %w", err)}
		}
		r.stream = &countingReader{r: r.gz}
		r.br = bufio.NewReaderSize(r.stream, bufSize)
		magic, err = r.br.Peek(4)
		format, _ = sniff(magic)
	}
	if format == FormatUnknown {
		if len(magic) == 0 && (err == io.EOF || err == nil) {
			return nil, &FormatError{File: name, Err: fmt.Errorf("%w: empty file", ErrNotCapture)}
		}
		if err != nil && err != io.EOF {
			return nil, &FormatError{File: name, Err: fmt.Errorf("reading magic: %w", err)}
		}
		return nil, &FormatError{File: name, Err: fmt.Errorf("%w (magic % x)", ErrNotCapture, magic)}
	}
	r.format = format
	switch format {
	case FormatPcap:
		var pr *pcapgo.Reader
		pr, err = pcapgo.NewReader(r.br)
		if err == nil {
			r.linkType = pr.LinkType()
			r.maxRecord = recordMax(pr.Snaplen())
			r.pcapOrder = binary.LittleEndian
			if magic[0] == 0xa1 {
				r.pcapOrder = binary.BigEndian
			}
			r.pcapFracMax, r.pcapFracNanos = 1e6, 1000
			if pr.Resolution().ToDuration() == time.Nanosecond {
				r.pcapFracMax, r.pcapFracNanos = 1e9, 1
			}
		}
	case FormatPcapNG:
		// The first interface block is only read with the first packet:
		// Next sets linkType then.
		r.ng = ngSection{order: binary.LittleEndian, maxRecord: recordMax(0)}
		r.ngPkt = -1
		shb, _ := r.br.Peek(28)
		if len(shb) >= 12 && binary.BigEndian.Uint32(shb[8:]) == ngByteOrderMagic {
			r.ng.order = binary.BigEndian
		}
		// Only the section header goes to NgReader first.
		r.gate = gate{r: r.br, limit: int64(len(shb))}
		if n, _, v := ngBlock(shb, &r.ng, true, false); v == recOK {
			r.gate.limit = int64(n)
		}
		r.ngbr = bufio.NewReaderSize(&r.gate, 4096)
		r.ngr, err = pcapgo.NewNgReader(r.ngbr, pcapgo.NgReaderOptions{WantMixedLinkType: true, SkipUnknownVersion: true})
	}
	if err != nil {
		return nil, &FormatError{File: name, Offset: 0, Err: fmt.Errorf("%s file header: %w", format, unexpected(err))}
	}
	return r, nil
}

// unexpected turns an io.EOF in the middle of a structure into
// io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// pos is the offset of the next unread byte of the decompressed stream.
func (r *Reader) pos() int64 {
	n := r.stream.n - int64(r.br.Buffered())
	if r.ngbr != nil {
		n -= int64(r.ngbr.Buffered())
	}
	return n
}

// Next returns the next frame, or io.EOF at the clean end of the file. A
// truncated or malformed file yields a *FormatError after all the frames
// before the damage. A record whose lengths are implausible (longer than
// the larger of the snap length and 256 KiB, beyond its pcapng block) is
// not trusted: the reader looks for the next plausible record in the 64
// MiB after it and goes on from there, and at the end of the file Next
// returns a *FormatError wrapping ErrCorrupt (the first such offset, how
// many records and bytes were skipped) instead of io.EOF. Frame.Data is
// valid until the next call.
func (r *Reader) Next() (Frame, error) {
	if r.err != nil {
		return Frame{}, r.err
	}
	var f Frame
	if r.ngr != nil {
		f, r.err = r.nextNg()
	} else {
		f, r.err = r.nextPcap()
	}
	return f, r.err
}

// Close closes the underlying file (not a reader given to OpenReader).
func (r *Reader) Close() error {
	if r.gz != nil {
		r.gz.Close()
	}
	if r.closer != nil {
		err := r.closer.Close()
		r.closer = nil
		return err
	}
	return nil
}

// Name returns the file name given to Open ("stdin" for "-").
func (r *Reader) Name() string { return r.name }

// Format returns the detected file format.
func (r *Reader) Format() Format { return r.format }

// Compressed reports whether the file is gzip-compressed.
func (r *Reader) Compressed() bool { return r.gz != nil }

// LinkType returns the file's link type (for pcapng, that of the first
// interface, known once the first frame has been read; each Frame carries
// its own).
func (r *Reader) LinkType() layers.LinkType { return r.linkType }

// BytesRead returns how many bytes of the file (compressed, if it is) have
// been read so far, for progress reporting. Read-ahead buffering makes it
// run up to the buffer size ahead of the frames returned.
func (r *Reader) BytesRead() int64 { return r.raw.n }

// Size returns the file size in bytes, or -1 when unknown (stdin, pipes).
func (r *Reader) Size() int64 { return r.size }

// Expand returns the capture files named by paths: a directory is replaced by
// the capture files under it, recursively and in lexical order, skipping any
// file whose magic is not pcap, pcapng or gzip of one of them (symbolic links
// to files are followed, to directories not); files and "-" are kept as
// given. A path that does not exist is an error.
func Expand(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		if p == "-" {
			out = append(out, p)
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("capture: %w", err)
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		// WalkDir visits entries in lexical order, so the result is
		// deterministic.
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("capture: %w", err)
			}
			if d.Type()&fs.ModeSymlink != 0 {
				// A link to a file counts; links to directories are not
				// followed, which keeps the walk free of cycles.
				if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
					return nil
				}
			} else if !d.Type().IsRegular() {
				return nil
			}
			if isCapture(path) {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// isCapture reports whether the file at path starts with a capture magic
// (looking inside gzip).
func isCapture(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	n, _ := io.ReadFull(f, magic[:])
	format, gz := sniff(magic[:n])
	if !gz {
		return format != FormatUnknown
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return false
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		return false
	}
	defer zr.Close()
	n, _ = io.ReadFull(zr, magic[:])
	format, _ = sniff(magic[:n])
	return format != FormatUnknown
}

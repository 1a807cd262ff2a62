package message

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// maxZstdWindow caps the zstd window (and so the decoder's memory); RFC 8878
// asks decoders to support at least 8 MiB.
const maxZstdWindow = 8 << 20

// Decompressors are costly to build and hold sizeable tables, so they are
// shared by all parsers through pools rather than kept per connection.
var (
	gzipPool  sync.Pool // *gzip.Reader
	flatePool sync.Pool // io.ReadCloser implementing flate.Resetter
	brPool    sync.Pool // *brotli.Reader
	zstdPool  sync.Pool // *zstd.Decoder
)

// workPool holds decoding work buffers (*[]byte); ones grown past
// maxPooledWork are left to the collector.
var workPool sync.Pool

const maxPooledWork = 256 << 10

var errUnsupported = errors.New("unsupported content coding")

// errLayerCap ends an inner layer that produced more than its cap.
var errLayerCap = errors.New("inner coding layer exceeds MaxDecoded")

// decoderPool holds decoders between bodies: bodies are decoded from any
// goroutine, so the state of a decode cannot be a parser's.
var decoderPool sync.Pool // *decoder

// decoder holds what one decode needs beyond the pooled decompressors.
type decoder struct {
	src     bytes.Reader
	scratch []byte // sink for output past MaxBody, allocated when needed
	one     [1]byte
	release []func()
	caps    [MaxCodings]capReader
	work    int // bytes the last run had its layers produce (Stats.Work)
}

// capReader cuts the output of an inner coding layer (one whose output is
// the next layer's input) at n bytes. MaxDecoded caps only the final
// output, and a layer can consume any amount of input while producing
// none (empty deflate blocks, skippable zstd frames): without a cap on
// each inner layer, a few nested layers would multiply the work, not the
// output, with no bound.
type capReader struct {
	r    io.Reader
	n    int
	peek [1]byte
}

func (c *capReader) Read(b []byte) (int, error) {
	if c.n <= 0 {
		// At the cap: only the end of the stream is still fine.
		n, err := c.r.Read(c.peek[:])
		if n > 0 {
			return 0, errLayerCap
		}
		return 0, err
	}
	if len(b) > c.n {
		b = b[:c.n]
	}
	n, err := c.r.Read(b)
	c.n -= n
	return n, err
}

// decode undoes the body's codings on b.raw into b.lazy's out and
// flags, which every copy of b shares. A body that was
// complete on the wire and fails to decode keeps its raw bytes, flagged
// FlagDecodeError; one that was cut (MaxBody, gap, end of stream) keeps
// what decoded.
func (b *Body) decode() {
	lz := b.lazy
	d := lz.dec
	dc, _ := decoderPool.Get().(*decoder)
	if dc == nil {
		dc = new(decoder)
	}
	out, truncated, bomb, err := dc.run(b.raw, lz.codings[:lz.ncodings], d.maxBody, d.maxDecoded)
	d.work.Add(int64(dc.work))
	decoderPool.Put(dc)
	d.decoded.Add(1)
	if errors.Is(err, zstd.ErrWindowSizeExceeded) {
		d.windowTooLarge.Add(1)
	}
	switch {
	case errors.Is(err, errLayerCap):
		// An inner layer expanded past MaxDecoded: a bomb, however little
		// the outer ones made of it.
		lz.out, lz.flags = out, FlagBombCut
	case err != nil && (lz.wire&(FlagBodyTruncated|FlagGap|FlagIncomplete) == 0 || len(out) == 0):
		lz.out, lz.flags, lz.err = b.raw, FlagDecodeError, err
	default:
		lz.out = out
		if truncated {
			lz.flags |= FlagBodyTruncated
		}
		if bomb {
			lz.flags |= FlagBombCut
		}
	}
	switch {
	case lz.flags.Has(FlagDecodeError):
		d.errors.Add(1)
	case lz.flags.Has(FlagBombCut):
		d.bombs.Add(1)
	}
	if lz.flags.Has(FlagBodyTruncated) && !lz.wire.Has(FlagBodyTruncated) {
		d.truncated.Add(1)
	}
}

// run decodes raw through codings (listed in the order they were applied,
// so undone last to first), streaming: it keeps the first keep bytes of the
// output, reads on without keeping up to limit bytes in all, and reports a
// bomb when there is more past limit. Each inner layer may produce limit
// bytes too (errLayerCap past that). Memory never depends on what the
// compressed data claims, and the work is bounded by len(codings)*limit.
// At most MaxCodings codings are undone; more are an error.
func (d *decoder) run(raw []byte, codings []string, keep, limit int) (out []byte, truncated, bomb bool, err error) {
	defer d.releaseAll()
	if len(codings) > MaxCodings {
		return nil, false, false, fmt.Errorf("%d codings, more than %d", len(codings), MaxCodings)
	}
	d.src.Reset(raw)
	var r io.Reader = &d.src
	for i := len(codings) - 1; i >= 0; i-- {
		if r, err = d.layer(r, codings[i]); err != nil {
			return nil, false, false, err
		}
		if i > 0 && r != io.Reader(&d.src) {
			c := &d.caps[i]
			*c = capReader{r: r, n: limit}
			r = c
		}
	}
	keep = min(keep, limit)
	// Decode into a pooled work buffer and copy out what was kept: the
	// message gets an exactly sized body and the growth is paid once.
	wp, _ := workPool.Get().(*[]byte)
	if wp == nil {
		wp = new([]byte)
	}
	work := (*wp)[:0]
	defer func() {
		if cap(work) <= maxPooledWork {
			*wp = work[:0]
			workPool.Put(wp)
		}
	}()
	total, stalls := 0, 0
	defer func() {
		d.work = total
		for _, c := range d.caps {
			if c.r != nil {
				d.work += limit - c.n
			}
		}
	}()
	for {
		var n int
		var e error
		switch {
		case len(work) < keep:
			if len(work) == cap(work) {
				// Double (append grows large slices by 1.25x, which
				// would copy a big body many times over).
				grown := make([]byte, len(work), min(max(2*cap(work), 4<<10), keep))
				copy(grown, work)
				work = grown
			}
			n, e = r.Read(work[len(work):min(cap(work), keep)]) // a pooled buffer may be larger
			work = work[:len(work)+n]
		case total < limit:
			if d.scratch == nil {
				d.scratch = make([]byte, 32<<10)
			}
			n, e = r.Read(d.scratch[:min(len(d.scratch), limit-total)])
		default:
			n, e = r.Read(d.one[:])
			if n > 0 {
				return bytes.Clone(work), true, true, nil
			}
		}
		total += n
		switch {
		case e == io.EOF:
			return bytes.Clone(work), total > keep, false, nil
		case e != nil:
			return bytes.Clone(work), total > keep, false, e
		case n > 0:
			stalls = 0
		case stalls > 100:
			return bytes.Clone(work), total > keep, false, io.ErrNoProgress
		default:
			stalls++
		}
	}
}

// layer wraps r in a decoder for one content coding.
func (d *decoder) layer(r io.Reader, coding string) (io.Reader, error) {
	switch coding {
	case "identity":
		return r, nil
	case "gzip", "x-gzip":
		zr, _ := gzipPool.Get().(*gzip.Reader)
		if zr == nil {
			zr = new(gzip.Reader)
		}
		d.release = append(d.release, func() { gzipPool.Put(zr) })
		if err := zr.Reset(r); err != nil {
			return nil, fmt.Errorf("gzip header: %w", err)
		}
		return zr, nil
	case "deflate":
		// RFC 9110 says zlib, but servers also send raw deflate: look at
		// the first two bytes for a zlib header (RFC 1950).
		var hdr [2]byte
		n, err := io.ReadFull(r, hdr[:])
		if err != nil {
			return nil, fmt.Errorf("deflate: %w", err)
		}
		zlib := hdr[0]&0x0f == 8 && hdr[0]>>4 <= 7 && (uint16(hdr[0])<<8|uint16(hdr[1]))%31 == 0
		if zlib && hdr[1]&0x20 != 0 {
			return nil, errors.New("deflate: zlib preset dictionary not supported")
		}
		if !zlib {
			r = io.MultiReader(bytes.NewReader(hdr[:n]), r)
		}
		// The zlib Adler-32 trailer is left unread and unchecked.
		fr, _ := flatePool.Get().(io.ReadCloser)
		if fr == nil {
			fr = flate.NewReader(r)
		} else if err := fr.(flate.Resetter).Reset(r, nil); err != nil {
			return nil, fmt.Errorf("deflate: %w", err)
		}
		d.release = append(d.release, func() { flatePool.Put(fr) })
		return fr, nil
	case "br":
		br, _ := brPool.Get().(*brotli.Reader)
		if br == nil {
			br = brotli.NewReader(r)
		} else if err := br.Reset(r); err != nil {
			return nil, fmt.Errorf("br: %w", err)
		}
		d.release = append(d.release, func() { brPool.Put(br) })
		return br, nil
	case "zstd":
		zd, _ := zstdPool.Get().(*zstd.Decoder)
		if zd == nil {
			var err error
			// Concurrency 1 decodes synchronously: no goroutines to leak.
			zd, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1),
				zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(maxZstdWindow))
			if err != nil {
				return nil, fmt.Errorf("zstd: %w", err)
			}
		}
		d.release = append(d.release, func() {
			_ = zd.Reset(nil) // drop the reference to the body
			zstdPool.Put(zd)
		})
		if err := zd.Reset(r); err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return zd, nil
	}
	return nil, fmt.Errorf("%w %q", errUnsupported, coding)
}

func (d *decoder) releaseAll() {
	for _, f := range d.release {
		f()
	}
	clear(d.release)
	d.release = d.release[:0]
	d.src.Reset(nil)
	clear(d.caps[:]) // do not pin the readers
	d.scratch = nil  // rarely needed: not worth keeping per connection
}

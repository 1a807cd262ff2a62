package message

import (
	"sync"
	"sync/atomic"
)

// MaxCodings caps the content and transfer codings (chunked and identity
// aside) undone for one message. Real senders apply one, rarely two; each
// layer costs a decompressor's tables and a pass over the data, so a long
// list is a cheap way to make a passive observer spend seconds and
// gigabytes on one small message. Past it the body is kept undecoded and
// flagged FlagCodingsCapped.
const MaxCodings = 4

// Body is a message's body: the bytes as they came after transfer decoding
// (de-chunked), cut at the parser's MaxBody, and their content codings,
// undone the first time Bytes or Flags asks and never again. A consumer
// that never reads a body never pays for inflating it. The zero Body is
// empty. A Body is a small value: copies (of a message, say) share the
// decoding, done once for all of them. All methods may be called on nil
// and from several goroutines at once: the sinks of a pipeline share
// exchanges.
type Body struct {
	raw   []byte
	flags Flags // what decoding found, for a body given decoded (NewBody)
	lazy  *lazy // nil: nothing to undo
}

// lazy is the state of a body with content codings to undo, apart so
// that the common body, with none, stays small.
type lazy struct {
	codings  [MaxCodings]string // in the order they were applied
	ncodings int
	wire     Flags // the message's flags, as far as decoding cares
	dec      *Decoding

	once  sync.Once
	out   []byte
	flags Flags
	err   error
}

// NewBody returns a body holding b, already decoded, with the flags its
// decoding found (FlagDecodeError, FlagBombCut, FlagBodyTruncated; 0 for
// a body that had no content coding).
func NewBody(b []byte, f Flags) Body {
	return Body{raw: b, flags: f}
}

// Bytes returns the body with its content codings undone, cut at MaxBody;
// when they could not be undone (FlagDecodeError in Flags), the bytes as
// they came. It must not be modified.
func (b *Body) Bytes() []byte {
	if b == nil {
		return nil
	}
	if b.lazy == nil {
		return b.raw
	}
	b.lazy.once.Do(b.decode)
	return b.lazy.out
}

// Flags returns what decoding the body found: FlagDecodeError, FlagBombCut
// and FlagBodyTruncated (decoded past MaxBody), 0 when nothing was. It
// decodes the body if that was not done yet.
func (b *Body) Flags() Flags {
	if b == nil {
		return 0
	}
	if b.lazy != nil {
		b.lazy.once.Do(b.decode)
		return b.lazy.flags
	}
	return b.flags
}

// Err returns why the content codings could not be undone (with
// FlagDecodeError), or nil. It decodes the body if that was not done yet.
func (b *Body) Err() error {
	if b == nil || b.lazy == nil {
		return nil
	}
	b.lazy.once.Do(b.decode)
	return b.lazy.err
}

// Raw returns the body as it came, before content decoding (after
// transfer decoding), cut at MaxBody. It must not be modified.
func (b *Body) Raw() []byte {
	if b == nil {
		return nil
	}
	return b.raw
}

// Codings returns the content codings the body was sent with, in the
// order they were applied (nil for none, or for a body given decoded).
func (b *Body) Codings() []string {
	if b == nil || b.lazy == nil {
		return nil
	}
	return b.lazy.codings[:b.lazy.ncodings]
}

// Decoding makes the bodies of the messages of one parser or pipeline and
// counts what decoding them found. It is safe for concurrent use: bodies
// are decoded by whoever reads them first.
type Decoding struct {
	maxBody, maxDecoded int

	decoded, errors, bombs, truncated, windowTooLarge, work atomic.Int64
}

// NewDecoding returns a Decoding that keeps maxBody bytes of a decoded
// body and stops decoding (FlagBombCut) past maxDecoded bytes of output,
// or of output of any inner layer.
func NewDecoding(maxBody, maxDecoded int) *Decoding {
	return &Decoding{maxBody: max(0, maxBody), maxDecoded: max(1, maxDecoded)}
}

// Body returns the body raw sent with codings (in the order they were
// applied, at most MaxCodings; codings is not kept), to be undone when it
// is first read. A longer list is left undone and flagged
// FlagDecodeError (the parsers flag the message FlagCodingsCapped before
// that). wire
// are the message's flags: a body cut on the wire (FlagBodyTruncated,
// FlagGap, FlagIncomplete) that fails to decode keeps what did decode. With
// no codings, raw is the body.
func (d *Decoding) Body(raw []byte, codings []string, wire Flags) Body {
	if len(codings) == 0 || len(raw) == 0 {
		return NewBody(raw, 0)
	}
	if len(codings) > MaxCodings {
		// Left encoded, as a parser leaves it (FlagCodingsCapped).
		d.errors.Add(1)
		return NewBody(raw, FlagDecodeError)
	}
	lz := &lazy{wire: wire & (FlagBodyTruncated | FlagGap | FlagIncomplete), dec: d}
	lz.ncodings = copy(lz.codings[:], codings)
	return Body{raw: raw, lazy: lz}
}

// DecodeStats counts what reading bodies found. A body no one reads is
// never decoded and not counted.
type DecodeStats struct {
	Decoded        int64 // bodies whose codings were undone (or tried)
	Errors         int64 // bodies flagged FlagDecodeError
	BombsCut       int64 // bodies flagged FlagBombCut
	Truncated      int64 // bodies cut at MaxBody by decoding (not already cut on the wire)
	WindowTooLarge int64 // zstd bodies whose window exceeds 8 MiB (left encoded)
	Work           int64 // bytes the decoding layers produced, inner layers included
}

// Stats returns the counters.
func (d *Decoding) Stats() DecodeStats {
	return DecodeStats{
		Decoded: d.decoded.Load(), Errors: d.errors.Load(), BombsCut: d.bombs.Load(),
		Truncated: d.truncated.Load(), WindowTooLarge: d.windowTooLarge.Load(), Work: d.work.Load(),
	}
}

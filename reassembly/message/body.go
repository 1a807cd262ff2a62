package message

// Body is a message's body. The zero value and nil are empty bodies; all
// methods may be called on nil, and from several goroutines at once.
type Body struct {
	data  []byte
	flags Flags
}

// NewBody returns a body holding b, already decoded, with the flags its
// decoding found (FlagDecodeError, FlagBombCut, FlagBodyTruncated; 0 for
// a body that had no content coding).
func NewBody(b []byte, f Flags) *Body { return &Body{data: b, flags: f} }

// Bytes returns the body with its content codings undone, cut at the
// parser's MaxBody. It must not be modified.
func (b *Body) Bytes() []byte {
	if b == nil {
		return nil
	}
	return b.data
}

// Flags returns what decoding the body found: FlagDecodeError, FlagBombCut
// and FlagBodyTruncated (decoded past MaxBody), 0 when nothing was.
func (b *Body) Flags() Flags {
	if b == nil {
		return 0
	}
	return b.flags
}

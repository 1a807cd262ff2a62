package capture

import "encoding/binary"

// SecretsTLSKeyLog is the secrets type of a pcapng Decryption Secrets Block
// holding an NSS key log ("TLSK").
const SecretsTLSKeyLog = 0x544c534b

// maxSecretsHeld caps the Decryption Secrets Block bytes a Reader holds
// until Secrets is called; further blocks are dropped and counted.
const maxSecretsHeld = 16 << 20

// DecryptionSecret is the payload of a pcapng Decryption Secrets Block.
type DecryptionSecret struct {
	Type   uint32 // SecretsTLSKeyLog, or another secrets type
	Data   []byte
	Offset int64 // of the block in the (decompressed) file
}

// SecretsStats counts the Decryption Secrets Blocks a Reader met.
type SecretsStats struct {
	Blocks  uint64 `json:"blocks"`  // blocks read and handed out by Secrets
	Dropped uint64 `json:"dropped"` // blocks not held: malformed, larger than the read window, or past the held-bytes bound
}

// dsbState holds the secrets read and not yet taken.
type dsbState struct {
	held  []DecryptionSecret
	bytes int
	stats SecretsStats
}

// Secrets returns the Decryption Secrets Blocks read since the last call,
// and forgets them. The reader reads blocks ahead of the frame Next
// returns, so the secrets of a block before a packet are available once
// that packet is. Secrets are held up to 16 MiB between calls; past it,
// and for blocks over 128 KiB, they are dropped and counted.
func (r *Reader) Secrets() []DecryptionSecret {
	s := r.secrets.held
	r.secrets.held, r.secrets.bytes = nil, 0
	return s
}

// SecretsStats returns the Decryption Secrets Block counters so far.
func (r *Reader) SecretsStats() SecretsStats { return r.secrets.stats }

// noteSecrets keeps the Decryption Secrets Block at the start of b, a
// block of total bytes already checked by ngBlock (b may be shorter when
// the block is larger than the read window).
func (r *Reader) noteSecrets(b []byte, total int, order binary.ByteOrder, off int64) {
	st := &r.secrets
	if len(b) < total || total < 20 {
		st.stats.Dropped++
		return
	}
	typ := order.Uint32(b[8:])
	n := int(order.Uint32(b[12:]))
	if n > total-20 || st.bytes+n > maxSecretsHeld {
		st.stats.Dropped++
		return
	}
	st.held = append(st.held, DecryptionSecret{Type: typ, Data: append([]byte(nil), b[16:16+n]...), Offset: off})
	st.bytes += n
	st.stats.Blocks++
}

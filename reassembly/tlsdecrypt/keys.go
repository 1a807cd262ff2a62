package tlsdecrypt

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"hash"
	"sync"
)

// prf12 is the TLS 1.2 PRF (RFC 5246, 5): P_hash(secret, label + seed).
func prf12(h func() hash.Hash, secret []byte, label string, seed []byte, n int) []byte {
	ls := make([]byte, 0, len(label)+len(seed))
	ls = append(append(ls, label...), seed...)
	mac := hmac.New(h, secret)
	out := make([]byte, 0, n+mac.Size())
	mac.Write(ls)
	a := mac.Sum(nil) // A(1)
	for len(out) < n {
		mac.Reset()
		mac.Write(a)
		mac.Write(ls)
		out = mac.Sum(out)
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(a[:0])
	}
	return out[:n]
}

// keys12 derives the client and server write keys of a TLS 1.2 AEAD suite
// from the master secret (RFC 5246, 6.3; no MAC keys for AEAD suites).
func keys12(s suite, master []byte, clientRandom, serverRandom [32]byte) (client, server *halfConn, err error) {
	seed := make([]byte, 0, 64)
	seed = append(append(seed, serverRandom[:]...), clientRandom[:]...)
	kl, il := s.keyLen(), s.fixedIVLen()
	kb := prf12(s.hash(), master, "key expansion", seed, 2*kl+2*il)
	client, err = newHalfConn(s, kb[:kl], kb[2*kl:2*kl+il], nil)
	if err != nil {
		return nil, nil, err
	}
	server, err = newHalfConn(s, kb[kl:2*kl], kb[2*kl+il:2*kl+2*il], nil)
	return client, server, err
}

// expandLabel is HKDF-Expand-Label with an empty context (RFC 8446, 7.1).
func expandLabel(h func() hash.Hash, secret []byte, label string, n int) ([]byte, error) {
	return hkdf.Expand(h, secret, labelInfo(label, n), n)
}

// labelInfo is the HkdfLabel of RFC 8446, 7.1, with an empty context.
func labelInfo(label string, n int) string {
	full := "tls13 " + label
	info := make([]byte, 0, 4+len(full))
	info = binary.BigEndian.AppendUint16(info, uint16(n))
	info = append(info, byte(len(full)))
	info = append(info, full...)
	info = append(info, 0)
	return string(info)
}

// The HkdfLabels of a traffic secret's key and IV (AES-128 keys are 16
// bytes, the others 32, IVs 12), each followed by HKDF-Expand's counter
// byte 0x01: what HMAC hashes for the first output block.
var (
	infoKey16 = []byte(labelInfo("key", 16) + "\x01")
	infoKey32 = []byte(labelInfo("key", 32) + "\x01")
	infoIV    = []byte(labelInfo("iv", 12) + "\x01")
)

// keys13 returns the record protection for a TLS 1.3 traffic secret.
// Key and IV are each shorter than the hash, so their HKDF-Expand is one
// HMAC block (T(1) = HMAC(secret, info || 0x01), RFC 5869, 2.3), computed
// with pooled hash states: key derivation is most of the cost of a short
// connection, and crypto/hmac allocates its states for each secret.
func keys13(s suite, secret []byte) (*halfConn, error) {
	if len(secret) != s.hash()().Size() {
		return nil, errors.New("traffic secret length does not match the suite's hash")
	}
	info := infoKey32
	if s.keyLen() == 16 {
		info = infoKey16
	}
	m := getMAC(s.sha384)
	defer macPool[b2i(s.sha384)].Put(m)
	key := m.expand1(m.key[:0], secret, info)
	iv := m.expand1(m.iv[:0], secret, infoIV)
	return newHalfConn(s, key[:s.keyLen()], iv[:12], secret)
}

// mac computes HMAC (RFC 2104) with keys no longer than the hash's block,
// reusing its two hash states and its buffers (a pooled value: nothing of
// a derivation is allocated).
type mac struct {
	inner, outer hash.Hash
	pad          [128]byte
	sum, key, iv [64]byte
}

var macPool = [2]sync.Pool{
	{New: func() any { return &mac{inner: sha256.New(), outer: sha256.New()} }},
	{New: func() any { return &mac{inner: sha512.New384(), outer: sha512.New384()} }},
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func getMAC(sha384 bool) *mac { return macPool[b2i(sha384)].Get().(*mac) }

// expand1 appends HKDF-Expand(secret, info)'s first block to dst: HMAC of
// info1 (the info and the counter byte 0x01) keyed with secret (at most a
// block long: traffic secrets are one hash output).
func (m *mac) expand1(dst, secret, info1 []byte) []byte {
	m.inner.Reset()
	m.inner.Write(m.keyPad(secret, 0x36))
	m.inner.Write(info1)
	in := m.inner.Sum(m.sum[:0])
	m.outer.Reset()
	m.outer.Write(m.keyPad(secret, 0x5c))
	m.outer.Write(in)
	return m.outer.Sum(dst)
}

// keyPad returns the block-long key, zero-padded, XORed with b.
func (m *mac) keyPad(secret []byte, b byte) []byte {
	pad := m.pad[:m.inner.BlockSize()]
	for i := range pad {
		pad[i] = b
	}
	for i, k := range secret {
		pad[i] ^= k
	}
	return pad
}

// halfConn is the record protection of one direction in one epoch.
type halfConn struct {
	suite  suite
	aead   cipher.AEAD
	iv     [12]byte
	secret []byte // TLS 1.3 traffic secret, for KeyUpdate
	seq    uint64 // of the next record expected
	// nonce and aad are open's, here so that they are not allocated for
	// each record (slices handed to an interface method escape).
	nonce [12]byte
	aad   [13]byte
}

func newHalfConn(s suite, key, iv, secret []byte) (*halfConn, error) {
	a, err := s.aead(key)
	if err != nil {
		return nil, err
	}
	h := &halfConn{suite: s, aead: a, secret: secret}
	copy(h.iv[:], iv)
	return h, nil
}

// next returns the protection after a TLS 1.3 KeyUpdate.
func (h *halfConn) next() (*halfConn, error) {
	s := h.suite
	secret, err := expandLabel(s.hash(), h.secret, "traffic upd", len(h.secret))
	if err != nil {
		return nil, err
	}
	return keys13(s, secret)
}

var errOpen = errors.New("record authentication failed")

// open decrypts the record with header hdr and body payload as record
// number seq, into dst. It returns the plaintext and its content type
// (TLS 1.3: the inner type, padding removed).
func (h *halfConn) open(dst, hdr, payload []byte, seq uint64) ([]byte, uint8, error) {
	nonce, aad := &h.nonce, &h.aad
	ov := h.aead.Overhead()
	s := h.suite
	switch {
	case s.tls13:
		if len(payload) < ov+1 {
			return nil, 0, errOpen
		}
		*nonce = h.iv
		xorSeq(nonce, seq)
		out, err := h.aead.Open(dst, nonce[:], payload, hdr)
		if err != nil {
			return nil, 0, errOpen
		}
		i := len(out) - 1
		for i >= 0 && out[i] == 0 {
			i--
		}
		if i < 0 {
			return nil, 0, errOpen // no content type: not a valid record
		}
		return out[:i], out[i], nil
	default:
		ex := s.explicitNonce()
		if len(payload) < ex+ov {
			return nil, 0, errOpen
		}
		if ex > 0 {
			copy(nonce[:4], h.iv[:4])
			copy(nonce[4:], payload[:ex])
		} else {
			*nonce = h.iv
			xorSeq(nonce, seq)
		}
		binary.BigEndian.PutUint64(aad[:8], seq)
		aad[8], aad[9], aad[10] = hdr[0], hdr[1], hdr[2]
		binary.BigEndian.PutUint16(aad[11:], uint16(len(payload)-ex-ov))
		out, err := h.aead.Open(dst, nonce[:h.aead.NonceSize()], payload[ex:], aad[:])
		if err != nil {
			return nil, 0, errOpen
		}
		return out, hdr[0], nil
	}
}

func xorSeq(nonce *[12]byte, seq uint64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seq)
	for i := range b {
		nonce[4+i] ^= b[i]
	}
}

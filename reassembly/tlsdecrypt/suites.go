package tlsdecrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"fmt"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// bulk is an AEAD algorithm a suite uses.
type bulk uint8

const (
	bulkNone bulk = iota // not supported here
	bulkAES128GCM
	bulkAES256GCM
	bulkChaCha20
)

// suite is what decryption needs to know of a cipher suite.
type suite struct {
	id   uint16
	bulk bulk
	// sha384 selects SHA-384 for the TLS 1.2 PRF or the TLS 1.3 key
	// schedule; SHA-256 otherwise.
	sha384 bool
	tls13  bool
}

func (s suite) keyLen() int {
	switch s.bulk {
	case bulkAES128GCM:
		return 16
	}
	return 32
}

// fixedIVLen is the implicit part of the nonce kept from the key block.
func (s suite) fixedIVLen() int {
	if s.bulk == bulkChaCha20 || s.tls13 {
		return 12
	}
	return 4 // GCM in TLS 1.2: the other 8 bytes are explicit in each record
}

// explicitNonce is the per-record nonce prefix of the ciphertext.
func (s suite) explicitNonce() int {
	if s.tls13 || s.bulk == bulkChaCha20 {
		return 0
	}
	return 8
}

func (s suite) hash() func() hash.Hash {
	if s.sha384 {
		return sha512.New384
	}
	return sha256.New
}

func (s suite) aead(key []byte) (cipher.AEAD, error) {
	switch s.bulk {
	case bulkAES128GCM, bulkAES256GCM:
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(b)
	case bulkChaCha20:
		return chacha20poly1305.New(key)
	}
	return nil, fmt.Errorf("suite %s: no AEAD", SuiteName(s.id))
}

// The AEAD suites of TLS 1.2 (RFC 5288, 5289, 5487, 7905, 8442), by key
// exchange: the key exchange does not matter once the master secret is
// known, only the bulk cipher and the PRF hash.
var suites12 = func() map[uint16]suite {
	m := map[uint16]suite{}
	for _, id := range []uint16{0x009c, 0x009e, 0x00a0, 0x00a2, 0x00a4, 0x00a6, 0x00a8, 0x00aa, 0x00ac, 0xc02b, 0xc02d, 0xc02f, 0xc031, 0xd001} {
		m[id] = suite{id: id, bulk: bulkAES128GCM}
	}
	for _, id := range []uint16{0x009d, 0x009f, 0x00a1, 0x00a3, 0x00a5, 0x00a7, 0x00a9, 0x00ab, 0x00ad, 0xc02c, 0xc02e, 0xc030, 0xc032, 0xd002} {
		m[id] = suite{id: id, bulk: bulkAES256GCM, sha384: true}
	}
	for _, id := range []uint16{0xcca8, 0xcca9, 0xccaa, 0xccab, 0xccac, 0xccad, 0xccae} {
		m[id] = suite{id: id, bulk: bulkChaCha20}
	}
	return m
}()

var suites13 = map[uint16]suite{
	0x1301: {id: 0x1301, bulk: bulkAES128GCM, tls13: true},
	0x1302: {id: 0x1302, bulk: bulkAES256GCM, sha384: true, tls13: true},
	0x1303: {id: 0x1303, bulk: bulkChaCha20, tls13: true},
}

// lookupSuite returns the suite for a negotiated version and suite id;
// ok is false when this package cannot decrypt it.
func lookupSuite(version, id uint16) (suite, bool) {
	if version == tls.VersionTLS13 {
		s, ok := suites13[id]
		return s, ok
	}
	if version != tls.VersionTLS12 {
		return suite{}, false // AEAD suites need TLS 1.2
	}
	s, ok := suites12[id]
	return s, ok
}

// SuiteName returns the IANA name of a cipher suite, or its number in hex
// when this package does not know it.
func SuiteName(id uint16) string {
	if n, ok := suiteNames[id]; ok {
		return n
	}
	if n := tls.CipherSuiteName(id); len(n) > 0 && n[0] != '0' {
		return n
	}
	return fmt.Sprintf("0x%04X", id)
}

// VersionName returns "TLS 1.2" and the like.
func VersionName(v uint16) string {
	if v == 0 {
		return ""
	}
	return tls.VersionName(v)
}

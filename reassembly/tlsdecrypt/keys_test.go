package tlsdecrypt

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"testing"
)

// TestExpand1 checks the pooled one-block HKDF-Expand against crypto/hkdf
// for both hashes, every output length keys13 uses, and secrets of every
// length up to the hash size (a reused state must not leak a longer key
// into a shorter one).
func TestExpand1(t *testing.T) {
	for _, tc := range []struct {
		sha384 bool
		h      func() hash.Hash
	}{{false, sha256.New}, {true, sha512.New384}} {
		size := tc.h().Size()
		for _, info1 := range [][]byte{infoKey16, infoKey32, infoIV, []byte(labelInfo("traffic upd", size) + "\x01")} {
			info := string(info1[:len(info1)-1])
			for n := size; n >= 1; n -= 7 {
				secret := bytes.Repeat([]byte{byte(n)}, n)
				want, err := hkdf.Expand(tc.h, secret, info, size)
				if err != nil {
					t.Fatal(err)
				}
				m := getMAC(tc.sha384)
				got := m.expand1(nil, secret, info1)
				macPool[b2i(tc.sha384)].Put(m)
				if !bytes.Equal(got, want) {
					t.Errorf("sha384=%v info %q secret %d bytes: %x, want %x", tc.sha384, info, n, got, want)
				}
			}
		}
	}
}

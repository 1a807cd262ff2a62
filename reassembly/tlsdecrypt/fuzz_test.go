package tlsdecrypt_test

import (
	"strings"
	"testing"

	"github.com/specter-dev/specter/reassembly/tlsdecrypt"
)

// FuzzConn feeds arbitrary bytes, split in two directions, to a Conn whose
// key log holds a real session's keys, and checks it neither panics nor
// delivers plaintext from bytes that were never encrypted with them.
func FuzzConn(f *testing.F) {
	f.Add([]byte("\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00"), []byte("\x16\x03\x03\x00\x04\x02\x00\x00\x00"), uint8(3))
	f.Add([]byte("\x80\x2e\x01\x03\x01\x00\x15\x00\x00\x00\x10"), []byte{}, uint8(1))
	f.Add([]byte("\x17\x03\x03\x00\x20"), []byte("\x15\x03\x03\x00\x02\x02\x28"), uint8(0))
	// Keys for the all-zero client random, which a fuzzed ClientHello
	// easily has: decrypting still needs a tag made with them.
	zero := strings.Repeat("00", 32)
	keys := tlsdecrypt.NewKeyLog(0)
	keys.Read(strings.NewReader("CLIENT_RANDOM "+zero+" "+strings.Repeat("11", 48)+"\n"+
		"CLIENT_HANDSHAKE_TRAFFIC_SECRET "+zero+" "+strings.Repeat("22", 32)+"\n"+
		"SERVER_HANDSHAKE_TRAFFIC_SECRET "+zero+" "+strings.Repeat("33", 32)+"\n"), "fuzz")
	dec := tlsdecrypt.New(keys, tlsdecrypt.Config{Window: 4})
	f.Fuzz(func(t *testing.T, client, server []byte, split uint8) {
		h := &collect{}
		c := dec.NewConn(h)
		step := int(split%16) + 1
		for i := 0; i < max(len(client), len(server)); i += step {
			if i < len(client) {
				c.Feed(tlsdecrypt.FromClient, client[i:min(i+step, len(client))])
			}
			if i < len(server) {
				c.Feed(tlsdecrypt.FromServer, server[i:min(i+step, len(server))])
			}
			if split&0x80 != 0 && i == step {
				c.Gap(tlsdecrypt.FromServer, 100)
			}
		}
		c.Close()
		if h.plain[0].Len()+h.plain[1].Len() != 0 {
			t.Fatalf("plaintext from bytes no key encrypted")
		}
		m := c.Meta()
		if len(m.SNI) > 255 || len(m.ALPNOffered) > 16 {
			t.Fatalf("meta unbounded: %+v", m)
		}
	})
}

// FuzzHandshake feeds arbitrary handshake messages in cleartext records,
// after a valid record header, so the hello parsers see every shape.
func FuzzHandshake(f *testing.F) {
	f.Add(uint8(1), []byte("\x03\x03"+string(make([]byte, 32))+"\x00\x00\x02\x13\x01\x01\x00\x00\x08\x00\x10\x00\x04\x00\x02\x02h2"))
	f.Add(uint8(2), []byte("\x03\x03"+string(make([]byte, 32))+"\x00\x13\x01\x00\x00\x06\x00\x2b\x00\x02\x03\x04"))
	f.Fuzz(func(t *testing.T, typ uint8, body []byte) {
		if len(body) > 1<<14-4 {
			return
		}
		msg := append([]byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
		rec := append([]byte{22, 3, 3, byte(len(msg) >> 8), byte(len(msg))}, msg...)
		dec := tlsdecrypt.New(nil, tlsdecrypt.Config{})
		h := &collect{}
		c := dec.NewConn(h)
		c.Feed(tlsdecrypt.FromClient, rec)
		c.Feed(tlsdecrypt.FromServer, rec)
		c.Feed(tlsdecrypt.FromClient, []byte("\x17\x03\x03\x00\x11"+string(make([]byte, 17))))
		c.Close()
		m := c.Meta()
		if m.Version == 0 && m.Suite != 0 {
			t.Fatalf("a suite without a version: %+v", m)
		}
		if h.plain[0].Len() != 0 {
			t.Fatal("plaintext without keys")
		}
	})
}

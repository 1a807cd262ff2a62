package tlsdecrypt

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
)

// This file builds TLS 1.3 conversations in the test, sealing records with
// chosen secrets, for the cases no stack here produces (0-RTT data).

func record(typ uint8, body []byte) []byte {
	return append([]byte{typ, 3, 3, byte(len(body) >> 8), byte(len(body))}, body...)
}

func handshakeMsg(typ uint8, body []byte) []byte {
	return append([]byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
}

func ext(typ uint16, data []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, typ)
	b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
	return append(b, data...)
}

func synthClientHello(random [32]byte, exts ...[]byte) []byte {
	b := []byte{3, 3}
	b = append(b, random[:]...)
	b = append(b, 0)                      // session id
	b = append(b, 0, 2, 0x13, 0x01, 1, 0) // suites, compression
	var e []byte
	for _, x := range exts {
		e = append(e, x...)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(e)))
	return handshakeMsg(hsClientHello, append(b, e...))
}

func synthServerHello(suite uint16) []byte {
	b := []byte{3, 3}
	b = append(b, bytes.Repeat([]byte{9}, 32)...)
	b = append(b, 0)
	b = binary.BigEndian.AppendUint16(b, suite)
	b = append(b, 0)
	e := ext(extSupportedVersions, []byte{3, 4})
	b = binary.BigEndian.AppendUint16(b, uint16(len(e)))
	return handshakeMsg(hsServerHello, append(b, e...))
}

// sealer protects records as a TLS 1.3 sender would.
type sealer struct {
	hc *halfConn
}

func newSealer(t *testing.T, s suite, secret []byte) *sealer {
	hc, err := keys13(s, secret)
	if err != nil {
		t.Fatal(err)
	}
	return &sealer{hc: hc}
}

func (s *sealer) seal(typ uint8, plain []byte) []byte {
	inner := append(append([]byte(nil), plain...), typ)
	n := len(inner) + s.hc.aead.Overhead()
	hdr := []byte{recApplicationData, 3, 3, byte(n >> 8), byte(n)}
	nonce := s.hc.iv
	xorSeq(&nonce, s.hc.seq)
	s.hc.seq++
	return append(hdr, s.hc.aead.Seal(nil, nonce[:], inner, hdr)...)
}

type events struct {
	data [2]bytes.Buffer
	lost [2]int
}

func (e *events) Data(d Dir, p []byte) { e.data[d].Write(p) }
func (e *events) Lost(d Dir, n int)    { e.lost[d] += n }

// TestEarlyData: 0-RTT records before and after the ServerHello are
// skipped and counted, and the rest of the connection decrypts.
func TestEarlyData(t *testing.T) {
	var random [32]byte
	random[0] = 7
	cr := hex.EncodeToString(random[:])
	secrets := map[string][]byte{}
	var text strings.Builder
	for i, label := range []string{labelCHTS, labelSHTS, labelCTS0, labelSTS0} {
		secrets[label] = bytes.Repeat([]byte{byte(i + 1)}, 32)
		text.WriteString(label + " " + cr + " " + hex.EncodeToString(secrets[label]) + "\n")
	}
	keys := NewKeyLog(0)
	if _, err := keys.Read(strings.NewReader(text.String()), "synth"); err != nil {
		t.Fatal(err)
	}
	su := suites13[0x1301]
	early := newSealer(t, su, bytes.Repeat([]byte{0xee}, 32)) // not logged
	chs, shs := newSealer(t, su, secrets[labelCHTS]), newSealer(t, su, secrets[labelSHTS])
	cap0, sap0 := newSealer(t, su, secrets[labelCTS0]), newSealer(t, su, secrets[labelSTS0])

	dec := New(keys, Config{})
	e := &events{}
	c := dec.NewConn(e)
	c.Feed(FromClient, record(recHandshake, synthClientHello(random, ext(extEarlyData, nil))))
	c.Feed(FromClient, early.seal(recApplicationData, []byte("GET /early HTTP/1.1\r\n\r\n")))
	c.Feed(FromServer, record(recHandshake, synthServerHello(0x1301)))
	alpn := ext(extALPN, append([]byte{0, 9, 8}, "http/1.1"...))
	ee := binary.BigEndian.AppendUint16(nil, uint16(len(alpn)))
	c.Feed(FromServer, shs.seal(recHandshake, handshakeMsg(hsEncryptedExtensions, append(ee, alpn...))))
	c.Feed(FromServer, shs.seal(recHandshake, handshakeMsg(hsFinished, make([]byte, 32))))
	c.Feed(FromClient, early.seal(recApplicationData, []byte("GET /early2 HTTP/1.1\r\n\r\n")))
	c.Feed(FromClient, chs.seal(recHandshake, handshakeMsg(hsFinished, make([]byte, 32))))
	c.Feed(FromClient, cap0.seal(recApplicationData, []byte("GET /late HTTP/1.1\r\n\r\n")))
	c.Feed(FromServer, sap0.seal(recApplicationData, []byte("HTTP/1.1 200 OK\r\n\r\n")))
	c.Close()
	st := dec.Stats()
	if got := e.data[FromClient].String(); got != "GET /late HTTP/1.1\r\n\r\n" {
		t.Errorf("client plaintext %q", got)
	}
	if e.data[FromServer].String() != "HTTP/1.1 200 OK\r\n\r\n" {
		t.Errorf("server plaintext %q", e.data[FromServer].String())
	}
	if c.Meta().ALPN != "http/1.1" {
		t.Errorf("ALPN %q from EncryptedExtensions, want http/1.1", c.Meta().ALPN)
	}
	if st.EarlyDataSkipped != 2 || st.Decrypted != 1 || st.RecordsFailed != 0 || e.lost[FromClient] == 0 {
		t.Errorf("stats %+v, lost %v", st, e.lost)
	}
}

// TestFeedEdges: an empty Feed before anything, and a hello declaring a
// length far past maxHandshakeMsg, whose bytes must be skipped, not kept.
func TestFeedEdges(t *testing.T) {
	dec := New(nil, Config{})
	c := dec.NewConn(&events{})
	c.Feed(FromClient, nil)
	c.Feed(FromServer, []byte{})
	c.Close()

	c = dec.NewConn(&events{})
	const declared = 1 << 20
	c.Feed(FromClient, record(recHandshake, []byte{hsClientHello, declared >> 16, 0, 0}))
	chunk := make([]byte, 1<<14)
	for range declared / len(chunk) {
		c.Feed(FromClient, record(recHandshake, chunk))
	}
	if n := cap(c.side[FromClient].hs.body); n > maxHandshakeMsg {
		t.Errorf("kept %d bytes of an oversized hello (bound %d)", n, maxHandshakeMsg)
	}
	c.Close()
}

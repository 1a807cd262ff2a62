package tlsdecrypt

import (
	"errors"

	"golang.org/x/crypto/cryptobyte"
)

// Handshake message types this package reads.
const (
	hsClientHello         = 1
	hsServerHello         = 2
	hsNewSessionTicket    = 4
	hsEncryptedExtensions = 8
	hsFinished            = 20
	hsKeyUpdate           = 24
)

// Extension numbers.
const (
	extServerName        = 0
	extALPN              = 16
	extEarlyData         = 42
	extSupportedVersions = 43
)

// maxHandshakeMsg caps the handshake messages kept to be parsed. Hellos
// are far smaller; longer messages of the types read are malformed.
// Messages of other types (certificates) are skipped, whatever their
// length, without being kept.
const maxHandshakeMsg = 64 << 10

// helloRetryRandom is the ServerHello.random of a HelloRetryRequest
// (RFC 8446, 4.1.3).
var helloRetryRandom = [32]byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

var errHello = errors.New("malformed hello")

// clientHello is what is read of a ClientHello.
type clientHello struct {
	random    [32]byte
	sni       string
	alpn      []string
	versions  []uint16 // supported_versions, if sent
	earlyData bool
}

// serverHello is what is read of a ServerHello.
type serverHello struct {
	random      [32]byte
	version     uint16 // negotiated: supported_versions if present
	suite       uint16
	alpn        string // TLS 1.2 and earlier
	retry       bool   // a HelloRetryRequest
	compression uint8
}

// Bounds on what a hello may carry into Meta.
const (
	maxALPN    = 16
	maxNameLen = 255
)

func parseClientHello(body []byte) (*clientHello, error) {
	s := cryptobyte.String(body)
	var ch clientHello
	var legacy uint16
	var rnd, sid, suites, comp cryptobyte.String
	if !s.ReadUint16(&legacy) || !s.ReadBytes((*[]byte)(&rnd), 32) ||
		!s.ReadUint8LengthPrefixed(&sid) || !s.ReadUint16LengthPrefixed(&suites) ||
		!s.ReadUint8LengthPrefixed(&comp) {
		return nil, errHello
	}
	copy(ch.random[:], rnd)
	if s.Empty() {
		return &ch, nil
	}
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) || !s.Empty() {
		return nil, errHello
	}
	err := eachExtension(exts, func(typ uint16, data cryptobyte.String) error {
		switch typ {
		case extServerName:
			var list cryptobyte.String
			if !data.ReadUint16LengthPrefixed(&list) {
				return errHello
			}
			for !list.Empty() {
				var nt uint8
				var name cryptobyte.String
				if !list.ReadUint8(&nt) || !list.ReadUint16LengthPrefixed(&name) {
					return errHello
				}
				if nt == 0 && ch.sni == "" && len(name) <= maxNameLen && printable(name) {
					ch.sni = string(name)
				}
			}
		case extALPN:
			alpn, err := parseALPN(data)
			if err != nil {
				return err
			}
			ch.alpn = alpn
		case extSupportedVersions:
			var vs cryptobyte.String
			if !data.ReadUint8LengthPrefixed(&vs) {
				return errHello
			}
			for !vs.Empty() {
				var v uint16
				if !vs.ReadUint16(&v) {
					return errHello
				}
				ch.versions = append(ch.versions, v)
			}
		case extEarlyData:
			ch.earlyData = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ch, nil
}

// errStopExtensions ends eachExtension early, without an error.
var errStopExtensions = errors.New("stop")

// eachExtension calls fn with the type and data of each extension in exts,
// in order, until fn returns an error (errStopExtensions ends the walk
// cleanly); a malformed list is errHello.
func eachExtension(exts cryptobyte.String, fn func(typ uint16, data cryptobyte.String) error) error {
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			return errHello
		}
		if err := fn(typ, data); err != nil {
			if err == errStopExtensions {
				return nil
			}
			return err
		}
	}
	return nil
}

func parseALPN(data cryptobyte.String) ([]string, error) {
	var list cryptobyte.String
	if !data.ReadUint16LengthPrefixed(&list) {
		return nil, errHello
	}
	var out []string
	for !list.Empty() {
		var p cryptobyte.String
		if !list.ReadUint8LengthPrefixed(&p) {
			return nil, errHello
		}
		if len(out) < maxALPN && printable(p) {
			out = append(out, string(p))
		}
	}
	return out, nil
}

func parseServerHello(body []byte) (*serverHello, error) {
	s := cryptobyte.String(body)
	var sh serverHello
	var rnd, sid cryptobyte.String
	if !s.ReadUint16(&sh.version) || !s.ReadBytes((*[]byte)(&rnd), 32) ||
		!s.ReadUint8LengthPrefixed(&sid) || !s.ReadUint16(&sh.suite) || !s.ReadUint8(&sh.compression) {
		return nil, errHello
	}
	copy(sh.random[:], rnd)
	sh.retry = sh.random == helloRetryRandom
	if s.Empty() {
		if !knownVersion(sh.version) {
			return nil, errHello
		}
		return &sh, nil
	}
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) || !s.Empty() {
		return nil, errHello
	}
	err := eachExtension(exts, func(typ uint16, data cryptobyte.String) error {
		switch typ {
		case extSupportedVersions:
			if !data.ReadUint16(&sh.version) {
				return errHello
			}
		case extALPN:
			alpn, err := parseALPN(data)
			if err != nil || len(alpn) != 1 {
				return errHello
			}
			sh.alpn = alpn[0]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !knownVersion(sh.version) {
		return nil, errHello
	}
	return &sh, nil
}

// parseEncryptedExtensions returns the ALPN protocol the TLS 1.3 server
// selected ("" if none).
func parseEncryptedExtensions(body []byte) (string, error) {
	s := cryptobyte.String(body)
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) {
		return "", errHello
	}
	var proto string
	err := eachExtension(exts, func(typ uint16, data cryptobyte.String) error {
		if typ != extALPN {
			return nil
		}
		alpn, err := parseALPN(data)
		if err != nil || len(alpn) != 1 {
			return errHello
		}
		proto = alpn[0]
		return errStopExtensions
	})
	if err != nil {
		return "", err
	}
	return proto, nil
}

// printable reports whether b is visible ASCII, so that names reaching the
// inventory are text.
func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return len(b) > 0
}

// hsWalker splits a handshake byte stream into messages, keeping only
// those of the types wanted (whole, up to maxHandshakeMsg) and skipping
// the others by their length.
type hsWalker struct {
	hdr  [4]byte
	nhdr int
	typ  uint8
	need int // body bytes still to come
	keep bool
	body []byte
}

// feed walks p, calling emit for each complete kept message. A message
// of a wanted type longer than maxHandshakeMsg is skipped like the others.
func (w *hsWalker) feed(p []byte, want func(typ uint8) bool, emit func(typ uint8, body []byte)) {
	for len(p) > 0 {
		if w.nhdr < 4 {
			n := copy(w.hdr[w.nhdr:], p)
			w.nhdr += n
			p = p[n:]
			if w.nhdr < 4 {
				return
			}
			w.typ = w.hdr[0]
			w.need = int(w.hdr[1])<<16 | int(w.hdr[2])<<8 | int(w.hdr[3])
			w.keep = want(w.typ) && w.need <= maxHandshakeMsg
			w.body = w.body[:0]
			if w.need == 0 {
				if w.keep {
					emit(w.typ, nil)
				}
				w.nhdr = 0
				continue
			}
		}
		n := min(w.need, len(p))
		if w.keep {
			w.body = append(w.body, p[:n]...)
		}
		w.need -= n
		p = p[n:]
		if w.need == 0 {
			if w.keep {
				emit(w.typ, w.body)
			}
			w.nhdr = 0
		}
	}
}

// reset drops a partial message.
func (w *hsWalker) reset() { w.nhdr, w.need, w.body = 0, 0, w.body[:0] }

// knownVersion reports whether v is SSL 3.0 to TLS 1.3.
func knownVersion(v uint16) bool { return v>>8 == 3 && v&0xff <= 4 }

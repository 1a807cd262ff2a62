package reassembly_test

import (
	"bytes"
	"crypto/tls"
	"testing"

	"github.com/specter-dev/specter/reassembly/tlsdecrypt"
)

// FuzzTLSWire feeds a TLS connection through the pipeline's TLS engine:
// the key log and both directions' bytes are the fuzzer's (seeded with a
// real HTTP/1 and HTTP/2 session and its keys). Nothing may panic, every
// exchange delivered is counted, and no more TLS connections are counted
// than there were.
func FuzzTLSWire(f *testing.F) {
	for _, h2 := range []bool{false, true} {
		conns, keylog := recordTLS(f, h2, tls.VersionTLS13)
		var cl, sv []byte
		for _, ch := range conns[0] {
			if ch.fromClient {
				cl = append(cl, ch.data...)
			} else {
				sv = append(sv, ch.data...)
			}
		}
		f.Add(keylog, cl, sv, uint16(len(cl)/3))
	}
	f.Fuzz(func(t *testing.T, keylog, cl, sv []byte, cut uint16) {
		keys := tlsdecrypt.NewKeyLog(0)
		keys.Read(bytes.NewReader(keylog), "fuzz")
		// The client's bytes in two pieces around the server's first
		// flight, as a request/response conversation interleaves.
		k := min(int(cut), len(cl))
		conv := [][]tlsChunk{{{true, cl[:k]}, {false, sv}, {true, cl[k:]}}}
		xs, st, svc := replayTLS(t, conv, tlsdecrypt.New(keys, tlsdecrypt.Config{}))
		if uint64(len(xs)) != st.Exchanges {
			t.Fatalf("delivered %d exchanges, counted %d", len(xs), st.Exchanges)
		}
		if st.TLS.Seen > 1 || len(svc) > 1 {
			t.Fatalf("one connection: tls %+v, services %d", st.TLS, len(svc))
		}
	})
}

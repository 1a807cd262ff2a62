package tlsdecrypt_test

import (
	"bytes"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/specter-dev/specter/reassembly/tlsdecrypt"
)

// corruptSecrets flips a bit of every secret of a key log.
func corruptSecrets(t *testing.T, keylog []byte) []byte {
	var out bytes.Buffer
	for _, ln := range strings.Split(strings.TrimSpace(string(keylog)), "\n") {
		f := strings.Fields(ln)
		if len(f) != 3 {
			continue
		}
		b, err := hex.DecodeString(f[2])
		if err != nil {
			t.Fatal(err)
		}
		b[0] ^= 1
		out.WriteString(f[0] + " " + f[1] + " " + hex.EncodeToString(b) + "\n")
	}
	return out.Bytes()
}

// TestKeys covers sessions decrypted with wrong, missing and late keys,
// after a gap and from the middle: clear counters, no plaintext that was
// not sent.
func TestKeys(t *testing.T) {
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		cfg := &tls.Config{MaxVersion: v}
		rec, keylog := goSession(t, cfg.Clone(), cfg, false)
		if len(rec.conns) != 1 {
			t.Fatalf("%d connections recorded, want 1 (keep-alive)", len(rec.conns))
		}
		chunks := rec.conns[0]
		name := tlsdecrypt.VersionName(v)

		t.Run(name+"/wrong-keys", func(t *testing.T) {
			dec := tlsdecrypt.New(keyLogFrom(t, corruptSecrets(t, keylog)), tlsdecrypt.Config{})
			h, _ := replay(dec, chunks)
			st := dec.Stats()
			if h.plain[0].Len()+h.plain[1].Len() != 0 {
				t.Errorf("wrong keys gave %d plaintext bytes", h.plain[0].Len()+h.plain[1].Len())
			}
			if st.Failed[tlsdecrypt.ReasonAuth] != 1 || st.Decrypted != 0 || st.WithKeys != 1 {
				t.Errorf("stats %+v, want one auth failure", st)
			}
		})
		t.Run(name+"/no-keys", func(t *testing.T) {
			dec := tlsdecrypt.New(tlsdecrypt.NewKeyLog(0), tlsdecrypt.Config{})
			h, c := replay(dec, chunks)
			st := dec.Stats()
			if h.plain[0].Len()+h.plain[1].Len() != 0 || st.Failed[tlsdecrypt.ReasonNoKey] != 1 || st.WithKeys != 0 {
				t.Errorf("stats %+v", st)
			}
			if m := c.Meta(); m.SNI != "example.com" || m.Version != v || m.Suite == 0 {
				t.Errorf("without keys meta %+v, want SNI, version and suite", m)
			}
		})
		t.Run(name+"/late-keys", func(t *testing.T) {
			keys := tlsdecrypt.NewKeyLog(0)
			dec := tlsdecrypt.New(keys, tlsdecrypt.Config{})
			h := &collect{}
			c := dec.NewConn(h)
			half := len(chunks) / 2
			for _, ch := range chunks[:half] {
				c.Feed(ch.dir, ch.data)
			}
			if _, err := keys.Read(bytes.NewReader(keylog), "late"); err != nil {
				t.Fatal(err)
			}
			for _, ch := range chunks[half:] {
				c.Feed(ch.dir, ch.data)
			}
			c.Close()
			if got := parseH1(h.plain[0].Bytes()); len(got) != len(requestsSent()) {
				t.Errorf("%d requests after late keys, want %d", len(got), len(requestsSent()))
			}
			if st := dec.Stats(); st.Decrypted != 1 {
				t.Errorf("stats %+v", st)
			}
		})
		t.Run(name+"/pending-bound", func(t *testing.T) {
			// The keys come after the bound was passed: a pending
			// overflow; had they never come, no key.
			keys := tlsdecrypt.NewKeyLog(0)
			dec := tlsdecrypt.New(keys, tlsdecrypt.Config{MaxPending: 1000})
			_, c := feedConn(dec, chunks)
			keys.Read(bytes.NewReader(keylog), "late")
			c.Close()
			if st := dec.Stats(); st.Failed[tlsdecrypt.ReasonPendingOverflow] != 1 || st.PendingDropped == 0 {
				t.Errorf("stats %+v, want a pending overflow", st)
			}
			dec = tlsdecrypt.New(tlsdecrypt.NewKeyLog(0), tlsdecrypt.Config{MaxPending: 1000})
			replay(dec, chunks)
			if st := dec.Stats(); st.Failed[tlsdecrypt.ReasonNoKey] != 1 || st.PendingDropped == 0 {
				t.Errorf("stats %+v, want no key (the keys never came)", st)
			}
		})
		t.Run(name+"/no-wait", func(t *testing.T) {
			// Records never wait: keys read after them are not used, and
			// nothing is held.
			keys := tlsdecrypt.NewKeyLog(0)
			dec := tlsdecrypt.New(keys, tlsdecrypt.Config{MaxPending: -1})
			h, c := feedConn(dec, chunks)
			keys.Read(bytes.NewReader(keylog), "late")
			c.Close()
			if st := dec.Stats(); h.plain[0].Len() != 0 || st.PendingDropped != 0 || st.RecordsSkipped == 0 || st.Failed[tlsdecrypt.ReasonNoKey] != 1 {
				t.Errorf("stats %+v, %d plaintext bytes: want records skipped, none held", st, h.plain[0].Len())
			}
		})
		t.Run(name+"/gap", func(t *testing.T) {
			// Drop one client chunk in the middle of the requests: the
			// decryptor must find the next record and decrypt the rest.
			dec := tlsdecrypt.New(keyLogFrom(t, keylog), tlsdecrypt.Config{})
			h := &collect{}
			c := dec.NewConn(h)
			var client []int
			for i, ch := range chunks {
				if ch.dir == tlsdecrypt.FromClient {
					client = append(client, i)
				}
			}
			drop := client[len(client)-3]
			for i, ch := range chunks {
				if i == drop {
					// Lose the chunk and some bytes of the next one, so
					// that framing is lost too.
					c.Gap(ch.dir, len(ch.data))
					continue
				}
				c.Feed(ch.dir, ch.data)
			}
			c.Close()
			st := dec.Stats()
			if st.Resyncs == 0 {
				t.Errorf("no resync: %+v", st)
			}
			got := h.requests()
			if len(got) == 0 || len(got) >= len(requestsSent()) {
				t.Errorf("%d requests after a gap, want some but not all %d", len(got), len(requestsSent()))
			}
			checkSent(t, got)
		})
		for _, cut := range []int{0, 7} {
			t.Run(fmt.Sprintf("%s/mid-connection-%d", name, cut), func(t *testing.T) {
				// Start at a chunk past the handshake, cut bytes into it
				// (inside a record) or not.
				dec := tlsdecrypt.New(keyLogFrom(t, keylog), tlsdecrypt.Config{})
				h := &collect{}
				c := dec.NewConn(h)
				from := len(chunks) / 2
				for i, ch := range chunks[from:] {
					if i == 0 {
						ch.data = ch.data[min(cut, len(ch.data)):]
					}
					c.Feed(ch.dir, ch.data)
				}
				c.Close()
				st := dec.Stats()
				got := h.requests()
				if v == tls.VersionTLS12 {
					// TLS 1.2 keys need both randoms: nothing to decrypt.
					if h.plain[0].Len()+h.plain[1].Len() != 0 || st.Failed[tlsdecrypt.ReasonNoHandshake] != 1 {
						t.Errorf("%d plaintext bytes, stats %+v, want no_handshake", h.plain[0].Len()+h.plain[1].Len(), st)
					}
					return
				}
				// TLS 1.3: placed by trying the key log's sessions.
				if st.MidConnection != 1 || len(got) == 0 {
					t.Errorf("%d requests, stats %+v, want a mid-connection start", len(got), st)
				}
				checkSent(t, got)
			})
		}
	}
}

// TestHelloRetry decrypts a TLS 1.3 session whose server asked for
// another key share.
func TestHelloRetry(t *testing.T) {
	srv := &tls.Config{MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{tls.CurveP384}}
	cli := &tls.Config{MaxVersion: tls.VersionTLS13}
	rec, keylog := goSession(t, srv, cli, false)
	dec := tlsdecrypt.New(keyLogFrom(t, keylog), tlsdecrypt.Config{})
	h, c := replay(dec, rec.conns[0])
	if !c.Meta().HelloRetry {
		t.Errorf("meta %+v: no HelloRetryRequest seen", c.Meta())
	}
	if got := parseH1(h.plain[0].Bytes()); len(got) != len(requestsSent()) {
		t.Errorf("%d requests, want %d; stats %+v", len(got), len(requestsSent()), dec.Stats())
	}
}

// checkSent fails for a recovered request that was never sent, byte for
// byte: decryption must not make up exchanges.
func checkSent(t *testing.T, got []sentRequest) {
	t.Helper()
	sent := map[sentRequest]bool{}
	for _, r := range requestsSent() {
		sent[r] = true
	}
	for _, r := range got {
		if !sent[r] {
			t.Errorf("request %s %s (%d body bytes) was never sent", r.method, r.path, len(r.body))
		}
	}
}

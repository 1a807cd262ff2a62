package tlsdecrypt_test

import (
	"crypto/tls"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/specter-dev/specter/reassembly/http1"
	"github.com/specter-dev/specter/reassembly/message"
	"github.com/specter-dev/specter/reassembly/tlsdecrypt"
)

// benchSession records a keep-alive TLS session of JSON API requests and
// returns its chunks, key log and the plaintext of each direction.
func benchSession(b *testing.B, version, suite uint16, n int) ([]chunk, []byte, [2][]byte) {
	cfg := &tls.Config{MaxVersion: version}
	if suite != 0 {
		cfg.CipherSuites = []uint16{suite}
	}
	var reqs []sentRequest
	for len(reqs) < n {
		reqs = append(reqs, requestsSent()...)
	}
	rec, keylog := goSessionOf(b, cfg.Clone(), cfg, false, reqs[:n])
	if len(rec.conns) != 1 {
		b.Fatalf("%d connections", len(rec.conns))
	}
	dec := tlsdecrypt.New(keyLogFrom(b, keylog), tlsdecrypt.Config{})
	h, _ := replay(dec, rec.conns[0])
	return rec.conns[0], keylog, [2][]byte{h.plain[0].Bytes(), h.plain[1].Bytes()}
}

type nopHandler struct{}

func (nopHandler) Request(*message.Request)   {}
func (nopHandler) Response(*message.Response) {}
func (nopHandler) PendingMethod() string      { return "" }
func (nopHandler) Protocol(http1.Protocol)    {}

// parseHandler feeds decrypted bytes to HTTP/1 parsers, as the pipeline
// will.
type parseHandler struct{ p [2]*http1.Parser }

func (h *parseHandler) Data(d tlsdecrypt.Dir, b []byte) { h.p[d].Feed(b, time.Time{}) }
func (h *parseHandler) Lost(d tlsdecrypt.Dir, n int)    { h.p[d].Gap(n, time.Time{}) }

func newParsers() [2]*http1.Parser {
	cfg := http1.DefaultConfig()
	return [2]*http1.Parser{http1.NewParser(&cfg, nopHandler{}), http1.NewParser(&cfg, nopHandler{})}
}

// BenchmarkDecrypt compares HTTP/1 parsing of a session's plaintext
// ("clear") with decrypting the same session and parsing its output
// ("tls"): the cost of decryption is the ratio of the two.
func BenchmarkDecrypt(b *testing.B) {
	for _, tc := range []struct {
		name           string
		version, suite uint16
		requests       int // on one keep-alive connection
	}{
		{"tls12-aes128-gcm-6req", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, 6},
		{"tls12-chacha20-6req", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, 6},
		{"tls13-aes128-gcm-6req", tls.VersionTLS13, 0, 6},
		{"tls12-aes128-gcm-60req", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, 60},
		{"tls13-aes128-gcm-60req", tls.VersionTLS13, 0, 60},
	} {
		chunks, keylog, plain := benchSession(b, tc.version, tc.suite, tc.requests)
		size := int64(len(plain[0]) + len(plain[1]))
		b.Run(tc.name+"/clear", func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				parseClear(chunks, plain)
			}
		})
		b.Run(tc.name+"/tls", func(b *testing.B) {
			keys := keyLogFrom(b, keylog)
			dec := tlsdecrypt.New(keys, tlsdecrypt.Config{})
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				parseTLS(dec, chunks)
			}
		})
	}
}

// threadCPU is the CPU time the calling OS thread has used.
func threadCPU(b *testing.B) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		b.Skipf("no per-thread CPU time: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDecryptCPURatio runs the clear and the TLS variants of
// BenchmarkDecrypt alternately on one locked OS thread and reports the
// ratio of their thread CPU times (cpu-ratio; the target is at most 2),
// which other load on the machine disturbs less than wall time.
func BenchmarkDecryptCPURatio(b *testing.B) {
	for _, tc := range []struct {
		name           string
		version, suite uint16
		requests       int
	}{
		{"tls12-aes128-gcm-60req", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, 60},
		{"tls12-chacha20-60req", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, 60},
		{"tls13-aes128-gcm-60req", tls.VersionTLS13, 0, 60},
		{"tls13-aes128-gcm-6req", tls.VersionTLS13, 0, 6},
	} {
		chunks, keylog, plain := benchSession(b, tc.version, tc.suite, tc.requests)
		b.Run(tc.name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			dec := tlsdecrypt.New(keyLogFrom(b, keylog), tlsdecrypt.Config{})
			var clear, enc time.Duration
			for b.Loop() {
				t0 := threadCPU(b)
				for range 20 {
					parseClear(chunks, plain)
				}
				t1 := threadCPU(b)
				for range 20 {
					parseTLS(dec, chunks)
				}
				t2 := threadCPU(b)
				clear += t1 - t0
				enc += t2 - t1
			}
			if clear > 0 {
				b.ReportMetric(float64(enc)/float64(clear), "cpu-ratio")
			}
		})
	}
}

// parseClear parses the plaintext of a session the way the same traffic
// in clear would arrive: in the pieces the ciphertext was cut into.
func parseClear(chunks []chunk, plain [2][]byte) {
	p := newParsers()
	var off [2]int
	for _, ch := range chunks {
		end := min(off[ch.dir]+len(ch.data), len(plain[ch.dir]))
		p[ch.dir].Feed(plain[ch.dir][off[ch.dir]:end], time.Time{})
		off[ch.dir] = end
	}
	p[0].Close(time.Time{})
	p[1].Close(time.Time{})
}

// parseTLS decrypts a session's records and parses the plaintext.
func parseTLS(dec *tlsdecrypt.Decryptor, chunks []chunk) {
	h := &parseHandler{p: newParsers()}
	c := dec.NewConn(h)
	for _, ch := range chunks {
		c.Feed(ch.dir, ch.data)
	}
	c.Close()
	h.p[0].Close(time.Time{})
	h.p[1].Close(time.Time{})
}

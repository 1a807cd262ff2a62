package synth

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
)

// span returns the first and last timestamps of a pcap, the longest pause
// between two packets, and how many TCP payloads carry an Authorization
// header and how many are product listings.
func span(t *testing.T, b []byte) (first, last time.Time, pause time.Duration, authed, products int) {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if first.IsZero() {
			first = ci.Timestamp
		} else {
			pause = max(pause, ci.Timestamp.Sub(last))
		}
		last = ci.Timestamp
		s := string(data)
		if strings.Contains(s, "GET /api/v1/products") {
			products++
			if strings.Contains(s, "Authorization: Bearer") {
				authed++
			}
		}
	}
}

// TestGapAndAnonymous: with Gap the traffic comes in bursts spread over
// hours, with Anonymous some product listings have no credentials; both are
// deterministic, and without them the bytes are what they always were
// (the default stream of random numbers is not touched).
func TestGapAndAnonymous(t *testing.T) {
	base := DefaultConfig()
	base.TargetBytes = 300 << 10
	var plain bytes.Buffer
	if _, err := Write(&plain, base); err != nil {
		t.Fatal(err)
	}
	f, l, pause, authed, products := span(t, plain.Bytes())
	if l.Sub(f) > time.Minute || pause > time.Second || authed != products || products == 0 {
		t.Fatalf("default: span %v, longest pause %v, %d of %d listings with credentials", l.Sub(f), pause, authed, products)
	}

	cfg := base
	cfg.Conns, cfg.PerConn, cfg.Gap, cfg.Anonymous = 4, 12, 10*time.Minute, 0.2
	var a, b bytes.Buffer
	if _, err := Write(&a, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(&b, cfg); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same config, different bytes")
	}
	f, l, pause, authed, products = span(t, a.Bytes())
	if l.Sub(f) < time.Hour || pause < cfg.Gap/2 || pause > 3*cfg.Gap/2+time.Second {
		t.Errorf("bursts: span %v, longest pause %v (gap %v)", l.Sub(f), pause, cfg.Gap)
	}
	if anon := products - authed; anon == 0 || anon > products/2 {
		t.Errorf("%d of %d product listings without credentials, want about %.0f%%", anon, products, 100*cfg.Anonymous)
	}
}

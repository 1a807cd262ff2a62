package synth

import (
	"bytes"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

func TestDeterministic(t *testing.T) {
	cfg := DefaultConfig()
	cfg.TargetBytes = 200 << 10
	var a, b bytes.Buffer
	ta, err := Write(&a, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Write(&b, cfg); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same seed, different bytes")
	}
	cfg.Seed++
	var c bytes.Buffer
	if _, err := Write(&c, cfg); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Fatal("different seeds, same bytes")
	}
	if int64(a.Len()) != ta.Bytes+24 || ta.Bytes < cfg.TargetBytes {
		t.Errorf("truth says %d bytes, file has %d (target %d)", ta.Bytes, a.Len(), cfg.TargetBytes)
	}
	r, err := pcapgo.NewReader(&a)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		if _, _, err := r.ReadPacketData(); err != nil {
			break
		}
		n++
	}
	if n != ta.Packets || len(ta.Exchanges) == 0 || ta.Dropped != 0 {
		t.Errorf("read %d packets, truth %+v", n, ta)
	}
}

func TestLoss(t *testing.T) {
	cfg := DefaultConfig()
	cfg.TargetBytes = 1 << 20
	cfg.Loss = 0.05
	var buf bytes.Buffer
	tr, err := Write(&buf, cfg)
	if err != nil {
		t.Fatal(err)
	}
	lost := 0
	for _, e := range tr.Exchanges {
		if e.Lost {
			lost++
		}
	}
	if tr.Dropped == 0 || lost == 0 || lost > tr.Dropped {
		t.Errorf("dropped %d segments, %d exchanges marked lost", tr.Dropped, lost)
	}
}

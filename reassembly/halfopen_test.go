package reassembly

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// synSeg builds a segment from 10.0.0.1:port to 10.0.0.2:80 (or back).
func synSeg(t *testing.T, port uint16, fromClient bool, flags string, ts time.Time) *segment {
	t.Helper()
	tcp := &layers.TCP{SrcPort: layers.TCPPort(port), DstPort: 80, Seq: uint32(port), Window: 1000,
		SYN: strings.Contains(flags, "S"), ACK: strings.Contains(flags, "A")}
	src, dst := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	if !fromClient {
		tcp.SrcPort, tcp.DstPort = tcp.DstPort, tcp.SrcPort
		src, dst = dst, src
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, tcp); err != nil {
		t.Fatal(err)
	}
	s := &segment{raw: buf.Bytes(), src: src, dst: dst, ts: ts}
	s.netFlow = gopacket.NewFlow(layers.EndpointIPv4, src.AsSlice(), dst.AsSlice())
	if err := s.tcp.DecodeFromBytes(s.raw, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHalfOpenTable(t *testing.T) {
	t0 := time.Unix(1000, 0)
	h := halfOpen{max: 3}
	for i := range 5 {
		held, evicted := h.hold(synSeg(t, uint16(1000+i), true, "S", t0.Add(time.Duration(i)*time.Second)))
		if want := max(0, i+1-3); !held || evicted != min(1, want) {
			t.Fatalf("SYN %d: held %v, evicted %d", i, held, evicted)
		}
	}
	if len(h.flows) != 3 || h.order.Len() != 3 {
		t.Fatalf("%d flows, %d in order; want 3", len(h.flows), h.order.Len())
	}
	// The oldest two were forgotten.
	if segs := h.release(synSeg(t, 1000, true, "A", t0)); segs != nil {
		t.Fatalf("evicted flow released %d segments", len(segs))
	}
	// A SYN-ACK joins its flow; a retransmitted SYN replaces the first.
	if held, _ := h.hold(synSeg(t, 1003, false, "SA", t0.Add(10*time.Second))); !held {
		t.Fatal("SYN-ACK not held")
	}
	if held, _ := h.hold(synSeg(t, 1003, true, "S", t0.Add(9*time.Second))); !held {
		t.Fatal("retransmitted SYN not held")
	}
	if held, _ := h.hold(synSeg(t, 1003, true, "A", t0)); held {
		t.Fatal("an ACK was held")
	}
	segs := h.release(synSeg(t, 1003, true, "A", t0.Add(11*time.Second)))
	if len(segs) != 2 || !segs[0].ts.Equal(t0.Add(9*time.Second)) || !segs[1].ts.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("released %+v, want the SYN at +9s then the SYN-ACK at +10s", segs)
	}
	for i := range segs {
		s := &segs[i]
		if err := s.tcp.DecodeFromBytes(s.raw, gopacket.NilDecodeFeedback); err != nil || !s.tcp.SYN {
			t.Fatalf("released segment %d: %v, SYN %v", i, err, s.tcp.SYN)
		}
	}
	if s := segs[1]; s.tcp.SrcPort != 80 || !s.tcp.ACK || s.src != netip.MustParseAddr("10.0.0.2") {
		t.Errorf("SYN-ACK released as %v:%d ACK %v", s.src, s.tcp.SrcPort, s.tcp.ACK)
	}
	if len(h.flows) != 2 {
		t.Fatalf("%d flows left, want 2", len(h.flows))
	}
	// Expiry forgets the flows last seen before the cut.
	if n := h.expire(t0.Add(4 * time.Second)); n != 1 || len(h.flows) != 1 {
		t.Fatalf("expired %d, %d left; want 1, 1", n, len(h.flows))
	}
}

package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// hdr is a raw header for the layers gopacket cannot serialize (SLL, null,
// ERSPAN I/III, Teredo, IPv6 extension headers, ...).
type hdr []byte

func (h hdr) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	p, err := b.PrependBytes(len(h))
	if err != nil {
		return err
	}
	copy(p, h)
	return nil
}

func (h hdr) LayerType() gopacket.LayerType { return gopacket.LayerTypePayload }

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ls...); err != nil {
		t.Fatalf("serialize: %v", err)
	}
	return bytes.Clone(buf.Bytes())
}

var (
	innerSrc4 = netip.MustParseAddr("10.1.0.1")
	innerDst4 = netip.MustParseAddr("10.1.0.2")
	innerSrc6 = netip.MustParseAddr("2001:db8::1")
	innerDst6 = netip.MustParseAddr("2001:db8::2")
	outerSrc4 = net.IP{192, 0, 2, 1}
	outerDst4 = net.IP{192, 0, 2, 2}
	macA      = net.HardwareAddr{0, 1, 2, 3, 4, 5}
	macB      = net.HardwareAddr{0, 1, 2, 3, 4, 6}
	httpReq   = []byte("GET /api/v1/users HTTP/1.1\r\nHost: example\r\n\r\n")
)

const (
	srcPort = 43210
	dstPort = 80
)

func eth(t layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: t}
}

func outer4(p layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: p, SrcIP: outerSrc4, DstIP: outerDst4}
}

func udp(dst uint16) *layers.UDP {
	return &layers.UDP{SrcPort: 50000, DstPort: layers.UDPPort(dst)}
}

// inner returns the inner IP/TCP/payload layers.
func inner(v6 bool) []gopacket.SerializableLayer {
	tcp := &layers.TCP{SrcPort: srcPort, DstPort: dstPort, Seq: 1000, Ack: 2000, PSH: true, ACK: true, Window: 512, DataOffset: 5}
	if v6 {
		return []gopacket.SerializableLayer{
			&layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: innerSrc6.AsSlice(), DstIP: innerDst6.AsSlice()},
			tcp, gopacket.Payload(httpReq),
		}
	}
	return []gopacket.SerializableLayer{
		&layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: innerSrc4.AsSlice(), DstIP: innerDst4.AsSlice()},
		tcp, gopacket.Payload(httpReq),
	}
}

func stack(ls ...any) []gopacket.SerializableLayer {
	var out []gopacket.SerializableLayer
	for _, l := range ls {
		switch l := l.(type) {
		case gopacket.SerializableLayer:
			out = append(out, l)
		case []gopacket.SerializableLayer:
			out = append(out, l...)
		}
	}
	return out
}

func sllHeader(proto layers.EthernetType) hdr {
	h := make([]byte, 16)
	binary.BigEndian.PutUint16(h[2:], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(h[4:], 6)
	copy(h[6:], macA)
	binary.BigEndian.PutUint16(h[14:], uint16(proto))
	return h
}

func sll2Header(proto layers.EthernetType) hdr {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h[0:], uint16(proto))
	binary.BigEndian.PutUint32(h[4:], 2) // ifindex
	binary.BigEndian.PutUint16(h[8:], 1)
	h[11] = 6
	copy(h[12:], macA)
	return h
}

// erspan3Header builds a type III header for session sid; with the
// platform subheader when o is set.
func erspan3Header(sid uint16, o bool) hdr {
	h := make([]byte, 12, 20)
	binary.BigEndian.PutUint16(h[0:], 2<<12|7) // version 2, VLAN 7
	binary.BigEndian.PutUint16(h[2:], sid&0x3ff)
	binary.BigEndian.PutUint32(h[4:], 123456) // timestamp
	if o {
		h[11] |= 1
		h = append(h, 0x0c, 0, 0, 0, 0, 0, 0, 0)
	}
	return h
}

func genevePayload(vni uint32) hdr {
	// version 0, 2 words of options, protocol TEB, VNI, then one option
	// (class 0x0102, type 3, length 1 word of data).
	h := []byte{0x02, 0x00, 0x65, 0x58, byte(vni >> 16), byte(vni >> 8), byte(vni), 0,
		0x01, 0x02, 0x03, 0x01, 0xde, 0xad, 0xbe, 0xef}
	return h
}

type decodeCase struct {
	name  string
	link  layers.LinkType
	frame []byte
	v6    bool
	zone  Zone
}

func decodeCases(t testing.TB) []decodeCase {
	nullLE := hdr{2, 0, 0, 0}
	nullBE := hdr{0, 0, 0, 2}
	null6 := hdr{30, 0, 0, 0} // AF_INET6 on Darwin
	loop := hdr{0, 0, 0, 2}
	teredoAuth := hdr{0, 1, 2, 1, 'i', 'd', 'a', 1, 2, 3, 4, 5, 6, 7, 8, 0} // id "id", auth 1 byte, nonce, confirmation
	teredoOrigin := hdr{0, 0, 0x12, 0x34, 1, 2, 3, 4}
	ipv6Ext := func(next layers.IPProtocol, extra ...gopacket.SerializableLayer) []gopacket.SerializableLayer {
		tcp := inner(true)[1:]
		ls := []gopacket.SerializableLayer{&layers.IPv6{Version: 6, HopLimit: 64, NextHeader: next, SrcIP: innerSrc6.AsSlice(), DstIP: innerDst6.AsSlice()}}
		ls = append(ls, extra...)
		return append(ls, tcp...)
	}
	mpls := func(label uint32, bottom bool) *layers.MPLS {
		return &layers.MPLS{Label: label, TTL: 64, StackBottom: bottom}
	}
	dot11 := func(fc0, fc1 byte, extra int) hdr {
		h := make(hdr, 24+extra, 24+extra+8)
		h[0], h[1] = fc0, fc1
		copy(h[4:], macA)
		copy(h[10:], macB)
		return append(h, 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00)
	}
	radiotap := hdr{0, 0, 8, 0, 0, 0, 0, 0}
	return []decodeCase{
		{"ethernet/ipv4", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeIPv4), inner(false))...), false, Zone{}},
		{"ethernet/ipv6", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeIPv6), inner(true))...), true, Zone{}},
		{"sll", layers.LinkTypeLinuxSLL, serialize(t, stack(sllHeader(layers.EthernetTypeIPv4), inner(false))...), false, Zone{}},
		{"sll2/ipv6", layers.LinkTypeLinuxSLL2, serialize(t, stack(sll2Header(layers.EthernetTypeIPv6), inner(true))...), true, Zone{}},
		{"raw101/v4", layers.LinkTypeRaw, serialize(t, inner(false)...), false, Zone{}},
		{"raw101/v6", layers.LinkTypeRaw, serialize(t, inner(true)...), true, Zone{}},
		{"raw12", 12, serialize(t, inner(false)...), false, Zone{}},
		{"raw14", 14, serialize(t, inner(true)...), true, Zone{}},
		{"ipv4-228", layers.LinkTypeIPv4, serialize(t, inner(false)...), false, Zone{}},
		{"ipv6-229", layers.LinkTypeIPv6, serialize(t, inner(true)...), true, Zone{}},
		{"null/le", layers.LinkTypeNull, serialize(t, stack(nullLE, inner(false))...), false, Zone{}},
		{"null/be", layers.LinkTypeNull, serialize(t, stack(nullBE, inner(false))...), false, Zone{}},
		{"null/v6", layers.LinkTypeNull, serialize(t, stack(null6, inner(true))...), true, Zone{}},
		{"loop", layers.LinkTypeLoop, serialize(t, stack(loop, inner(false))...), false, Zone{}},
		{"nflog", linkTypeNFLOG, nflogFrame(serialize(t, inner(false)...)), false, Zone{}},
		{"ppp (generic)", layers.LinkTypePPP, serialize(t, stack(&layers.PPP{PPPType: layers.PPPTypeIPv4}, inner(false))...), false, Zone{}},
		{"vlan", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 42, Type: layers.EthernetTypeIPv4}, inner(false))...), false, Zone{VLAN: 42}},
		{"qinq 88a8", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeQinQ),
			&layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 200, Type: layers.EthernetTypeIPv4}, inner(false))...), false, Zone{VLAN: 100, InnerVLAN: 200}},
		{"triple 9100", layers.LinkTypeEthernet, serialize(t, stack(eth(etherTypeQinQ9100),
			&layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeQinQ},
			&layers.Dot1Q{VLANIdentifier: 20, Type: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 30, Type: layers.EthernetTypeIPv6}, inner(true))...), true, Zone{VLAN: 10, InnerVLAN: 20}},
		{"mpls", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeMPLSUnicast), mpls(16, false), mpls(17, true), inner(false))...), false, Zone{}},
		{"mpls/v6", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeMPLSUnicast), mpls(16, true), inner(true))...), true, Zone{}},
		{"mpls pseudowire", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeMPLSUnicast), mpls(16, true), hdr{0, 0, 0, 0}, eth(layers.EthernetTypeIPv4), inner(false))...), false, Zone{}},
		{"pppoe", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypePPPoESession),
			&layers.PPPoE{Version: 1, Type: 1, Code: layers.PPPoECodeSession, SessionId: 9}, &layers.PPP{PPPType: layers.PPPTypeIPv4}, inner(false))...), false, Zone{}},
		{"vxlan", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolUDP), udp(4789),
			&layers.VXLAN{ValidIDFlag: true, VNI: 5001}, eth(layers.EthernetTypeIPv4), inner(false))...), false, Zone{Tunnel: TunnelVXLAN, TunnelID: 5001}},
		{"vxlan 8472 + inner vlan", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolUDP), udp(8472),
			&layers.VXLAN{ValidIDFlag: true, VNI: 77}, eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 5, Type: layers.EthernetTypeIPv6}, inner(true))...), true, Zone{VLAN: 5, Tunnel: TunnelVXLAN, TunnelID: 77}},
		{"vlan + vxlan", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 3, Type: layers.EthernetTypeIPv4}, outer4(layers.IPProtocolUDP), udp(4789),
			&layers.VXLAN{ValidIDFlag: true, VNI: 9}, eth(layers.EthernetTypeIPv4), inner(false))...), false, Zone{VLAN: 3, Tunnel: TunnelVXLAN, TunnelID: 9}},
		{"geneve", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolUDP), udp(6081),
			genevePayload(0x0c012e), eth(layers.EthernetTypeIPv4), inner(false))...), false, Zone{Tunnel: TunnelGeneve, TunnelID: 0x0c012e}},
		{"gre/ipv4 key", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolGRE),
			&layers.GRE{KeyPresent: true, Key: 0xabc, SeqPresent: true, Seq: 5, ChecksumPresent: true, Protocol: layers.EthernetTypeIPv4}, inner(false))...), false, Zone{Tunnel: TunnelGRE, TunnelID: 0xabc}},
		{"gre/teb", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolGRE),
			&layers.GRE{Protocol: etherTypeTEB}, eth(layers.EthernetTypeIPv6), inner(true))...), true, Zone{Tunnel: TunnelGRE}},
		{"gre over udp 4754", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolUDP), udp(4754),
			&layers.GRE{KeyPresent: true, Key: 7, Protocol: layers.EthernetTypeIPv4}, inner(false))...), false, Zone{Tunnel: TunnelGRE, TunnelID: 7}},
		{"erspan I", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolGRE),
			&layers.GRE{Protocol: layers.EthernetTypeERSPAN}, eth(layers.EthernetTypeIPv4), inner(false))...), false, Zone{Tunnel: TunnelERSPAN}},
		{"erspan II", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolGRE),
			&layers.GRE{SeqPresent: true, Seq: 1, Protocol: layers.EthernetTypeERSPAN},
			&layers.ERSPANII{Version: layers.ERSPANIIVersion, SessionID: 300, Index: 1}, eth(layers.EthernetTypeIPv4), inner(false))...), false, Zone{Tunnel: TunnelERSPAN, TunnelID: 300}},
		{"erspan III", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolGRE),
			&layers.GRE{SeqPresent: true, Seq: 1, Protocol: etherTypeERSPAN3}, erspan3Header(513, false), eth(layers.EthernetTypeIPv4), inner(false))...), false, Zone{Tunnel: TunnelERSPAN, TunnelID: 513}},
		{"erspan III subheader", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolGRE),
			&layers.GRE{SeqPresent: true, Seq: 1, Protocol: etherTypeERSPAN3}, erspan3Header(1, true), eth(layers.EthernetTypeIPv6), inner(true))...), true, Zone{Tunnel: TunnelERSPAN, TunnelID: 1}},
		{"vxlan in gre: outermost wins", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolGRE),
			&layers.GRE{KeyPresent: true, Key: 12, Protocol: layers.EthernetTypeIPv4}, outer4(layers.IPProtocolUDP), udp(4789),
			&layers.VXLAN{ValidIDFlag: true, VNI: 99}, eth(layers.EthernetTypeIPv4), inner(false))...), false, Zone{Tunnel: TunnelGRE, TunnelID: 12}},
		{"aruba gre 802.11", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolGRE),
			&layers.GRE{Protocol: etherTypeArubaWLAN}, dot11(0x08, 0x01, 0), inner(false))...), false, Zone{Tunnel: TunnelGRE}},
		{"802.11 qos 4addr", layers.LinkTypeIEEE802_11, serialize(t, stack(dot11(0x88, 0x03, 8), inner(false))...), false, Zone{}},
		{"radiotap", layers.LinkTypeIEEE80211Radio, serialize(t, stack(radiotap, dot11(0x08, 0x02, 0), inner(false))...), false, Zone{}},
		{"pptp enhanced gre", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolGRE),
			&layers.GRE{Version: 1, KeyPresent: true, Key: 0x0066<<16 | 0x1234, SeqPresent: true, Seq: 3, Protocol: etherTypePPP}, hdr{0xff, 0x03, 0x00, 0x21}, inner(false))...), false, Zone{Tunnel: TunnelGRE, TunnelID: 0x1234}},
		{"802.3 llc/snap", layers.LinkTypeEthernet, snapFrame(serialize(t, inner(false)...)), false, Zone{}},
		{"ipip", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolIPv4), inner(false))...), false, Zone{Tunnel: TunnelIPIP}},
		{"6in4", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolIPv6), inner(true))...), true, Zone{Tunnel: TunnelIPIP}},
		{"4in6", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeIPv6),
			&layers.IPv6{Version: 6, HopLimit: 9, NextHeader: layers.IPProtocolIPv4, SrcIP: net.ParseIP("2001:db8:ff::1"), DstIP: net.ParseIP("2001:db8:ff::2")}, inner(false))...), false, Zone{Tunnel: TunnelIPIP}},
		{"teredo", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolUDP), udp(3544), inner(true))...), true, Zone{Tunnel: TunnelTeredo}},
		{"teredo auth+origin", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolUDP),
			&layers.UDP{SrcPort: 3544, DstPort: 61000}, teredoAuth, teredoOrigin, inner(true))...), true, Zone{Tunnel: TunnelTeredo}},
		{"ipv6 hop-by-hop+routing+dest", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeIPv6), ipv6Ext(layers.IPProtocolIPv6HopByHop,
			hdr{byte(layers.IPProtocolIPv6Routing), 0, 1, 4, 0, 0, 0, 0}, // PadN
			hdr{byte(layers.IPProtocolIPv6Destination), 0, 0, 0, 0, 0, 0, 0},
			hdr{byte(layers.IPProtocolTCP), 0, 1, 4, 0, 0, 0, 0}))...), true, Zone{}},
		{"ipv6 atomic fragment", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeIPv6), ipv6Ext(layers.IPProtocolIPv6Fragment,
			hdr{byte(layers.IPProtocolTCP), 0, 0, 0, 0, 0, 0, 99}))...), true, Zone{}},
	}
}

// snapFrame wraps an IP packet in an 802.3 frame with a length field and an
// LLC/SNAP header.
func snapFrame(ip []byte) []byte {
	b := append([]byte(nil), macB...)
	b = append(b, macA...)
	b = binary.BigEndian.AppendUint16(b, uint16(8+len(ip)))
	b = append(b, 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00)
	return append(b, ip...)
}

// nflogFrame wraps an IPv4 packet in an NFLOG record: header, a prefix TLV
// (padded), then the payload TLV.
func nflogFrame(ip []byte) []byte {
	b := []byte{2, 0, 0, 5}
	b = append(b, 7, 0, 10, 0, 'a', 'b', 'c', 0) // NFULA_PREFIX "abc\0", length 7 padded to 8
	b = binary.LittleEndian.AppendUint16(b, uint16(4+len(ip)))
	b = binary.LittleEndian.AppendUint16(b, 9)
	return append(b, ip...)
}

func checkPacket(t *testing.T, p *Packet, v6 bool, zone Zone, payload []byte) {
	t.Helper()
	src, dst := innerSrc4, innerDst4
	if v6 {
		src, dst = innerSrc6, innerDst6
	}
	if p.Src != src || p.Dst != dst {
		t.Errorf("addresses %v -> %v, want %v -> %v", p.Src, p.Dst, src, dst)
	}
	if p.TCP.SrcPort != srcPort || p.TCP.DstPort != dstPort {
		t.Errorf("ports %d -> %d, want %d -> %d", p.TCP.SrcPort, p.TCP.DstPort, srcPort, dstPort)
	}
	if p.TCP.Seq != 1000 || p.TCP.Ack != 2000 || !p.TCP.ACK || !p.TCP.PSH || p.TCP.SYN {
		t.Errorf("tcp header seq=%d ack=%d flags ACK=%v PSH=%v SYN=%v", p.TCP.Seq, p.TCP.Ack, p.TCP.ACK, p.TCP.PSH, p.TCP.SYN)
	}
	if !bytes.Equal(p.TCP.Payload, payload) {
		t.Errorf("payload %q, want %q", p.TCP.Payload, payload)
	}
	if p.Zone != zone {
		t.Errorf("zone %+v, want %+v", p.Zone, zone)
	}
	wantFlow := gopacket.NewFlow(layers.EndpointIPv4, src.AsSlice(), dst.AsSlice())
	if v6 {
		wantFlow = gopacket.NewFlow(layers.EndpointIPv6, src.AsSlice(), dst.AsSlice())
	}
	if p.NetFlow != wantFlow {
		t.Errorf("net flow %v, want %v", p.NetFlow, wantFlow)
	}
	if tf := p.TCP.TransportFlow(); tf.Src().String() != "43210" || tf.Dst().String() != "80" {
		t.Errorf("transport flow %v", tf)
	}
}

func TestDecodeEncapsulations(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range decodeCases(t) {
		t.Run(c.name, func(t *testing.T) {
			d := NewDecoder(DecoderOptions{})
			var p Packet
			f := Frame{Data: c.frame, LinkType: c.link, Info: gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(c.frame), Length: len(c.frame) + 4}}
			ok, err := d.Decode(f, &p)
			if err != nil || !ok {
				t.Fatalf("Decode = %v, %v; want a TCP segment\n% x", ok, err, c.frame)
			}
			checkPacket(t, &p, c.v6, c.zone, httpReq)
			if !p.Timestamp.Equal(ts) || p.WireLen != len(c.frame)+4 {
				t.Errorf("timestamp %v wirelen %d", p.Timestamp, p.WireLen)
			}
			if st := d.Stats(); st.Frames != 1 || st.TCP != 1 || st.Bytes != uint64(len(c.frame)) {
				t.Errorf("stats %+v", st)
			}
			// Every proper prefix must fail cleanly, not panic or
			// succeed with a bogus segment longer than the data.
			for n := 0; n < len(c.frame); n++ {
				ok, _ := d.Decode(Frame{Data: c.frame[:n], LinkType: c.link}, &p)
				if ok && len(p.TCP.Payload) >= len(httpReq) {
					t.Fatalf("prefix %d decoded a full payload", n)
				}
			}
		})
	}
}

func TestDecodeNonTCPAndErrors(t *testing.T) {
	udpFrame := serialize(t, eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolUDP), udp(53), gopacket.Payload("dns"))
	arp := serialize(t, eth(layers.EthernetTypeARP), gopacket.Payload(make([]byte, 28)))
	badVersion := serialize(t, stack(eth(layers.EthernetTypeIPv4), inner(false))...)
	badVersion[14] = 0x75 // version 7
	cases := []struct {
		name    string
		link    layers.LinkType
		frame   []byte
		wantErr bool
	}{
		{"udp", layers.LinkTypeEthernet, udpFrame, false},
		{"udp on the vxlan port without the I flag", layers.LinkTypeEthernet, serialize(t, stack(eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolUDP), udp(4789),
			&layers.VXLAN{VNI: 1}, eth(layers.EthernetTypeIPv4), inner(false))...), false},
		{"arp", layers.LinkTypeEthernet, arp, false},
		{"empty", layers.LinkTypeEthernet, nil, true},
		{"bad ip version", layers.LinkTypeEthernet, badVersion, true},
		{"unknown link type", 65000, []byte{1, 2, 3}, true},
		{"unsupported link type", 147, []byte{1, 2, 3}, true},
		{"raw garbage", layers.LinkTypeRaw, []byte{0x15, 0, 0}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := NewDecoder(DecoderOptions{})
			var p Packet
			ok, err := d.Decode(Frame{Data: c.frame, LinkType: c.link}, &p)
			if ok || (err != nil) != c.wantErr {
				t.Fatalf("Decode = %v, %v; want ok=false, error %v", ok, err, c.wantErr)
			}
			st := d.Stats()
			if c.wantErr && st.Errors != 1 || !c.wantErr && st.NonTCP != 1 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// fragments4 splits the inner IPv4 datagram into fragments of at most size
// payload bytes (a multiple of 8) and returns them as Ethernet frames.
func fragments4(t testing.TB, id uint16, size int, payload []byte) [][]byte {
	tcp := serialize(t, &layers.TCP{SrcPort: srcPort, DstPort: dstPort, Seq: 1000, Ack: 2000, PSH: true, ACK: true, DataOffset: 5}, gopacket.Payload(payload))
	var frames [][]byte
	for off := 0; off < len(tcp); off += size {
		end := min(off+size, len(tcp))
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: id, Protocol: layers.IPProtocolTCP,
			SrcIP: innerSrc4.AsSlice(), DstIP: innerDst4.AsSlice(), FragOffset: uint16(off / 8)}
		if end < len(tcp) {
			ip.Flags = layers.IPv4MoreFragments
		}
		frames = append(frames, serialize(t, eth(layers.EthernetTypeIPv4), ip, gopacket.Payload(tcp[off:end])))
	}
	return frames
}

// fragments6 is fragments4 for IPv6.
func fragments6(t testing.TB, id uint32, size int, payload []byte) [][]byte {
	tcp := serialize(t, &layers.TCP{SrcPort: srcPort, DstPort: dstPort, Seq: 1000, Ack: 2000, PSH: true, ACK: true, DataOffset: 5}, gopacket.Payload(payload))
	var frames [][]byte
	for off := 0; off < len(tcp); off += size {
		end := min(off+size, len(tcp))
		fh := make(hdr, 8)
		fh[0] = byte(layers.IPProtocolTCP)
		binary.BigEndian.PutUint16(fh[2:], uint16(off))
		if end < len(tcp) {
			fh[3] |= 1
		}
		binary.BigEndian.PutUint32(fh[4:], id)
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6Fragment, SrcIP: innerSrc6.AsSlice(), DstIP: innerDst6.AsSlice()}
		frames = append(frames, serialize(t, eth(layers.EthernetTypeIPv6), ip, fh, gopacket.Payload(tcp[off:end])))
	}
	return frames
}

func TestDecodeFragments(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 20) // 320 bytes
	payload = append(httpReq, payload...)
	for _, v6 := range []bool{false, true} {
		name := "ipv4"
		frags := fragments4(t, 77, 96, payload)
		if v6 {
			name = "ipv6"
			frags = fragments6(t, 77, 96, payload)
		}
		t.Run(name+"/out of order", func(t *testing.T) {
			if len(frags) < 3 {
				t.Fatalf("only %d fragments", len(frags))
			}
			// last first, then the middle ones backwards, then the first.
			order := []int{len(frags) - 1}
			for i := len(frags) - 2; i >= 0; i-- {
				order = append(order, i)
			}
			d := NewDecoder(DecoderOptions{})
			var p Packet
			ts := time.Unix(1000, 0)
			for n, i := range order {
				// The decoder must not keep references to the frame:
				// hand it a buffer that is then overwritten.
				buf := bytes.Clone(frags[i])
				ok, err := d.Decode(Frame{Data: buf, LinkType: layers.LinkTypeEthernet, Info: gopacket.CaptureInfo{Timestamp: ts}}, &p)
				clear(buf)
				if err != nil {
					t.Fatalf("fragment %d: %v", i, err)
				}
				if last := n == len(order)-1; ok != last {
					t.Fatalf("fragment %d (%d-th): ok=%v", i, n, ok)
				}
			}
			checkPacket(t, &p, v6, Zone{}, payload)
			st := d.Stats()
			if st.Fragments != uint64(len(frags)-1) || st.Reassembled != 1 || st.TCP != 1 || st.FragmentsDropped != 0 {
				t.Errorf("stats %+v", st)
			}
		})
		t.Run(name+"/byte bound", func(t *testing.T) {
			d := NewDecoder(DecoderOptions{MaxFragmentBytes: 150})
			var p Packet
			for id := 1; id <= 2; id++ {
				f := fragments4(t, uint16(id), 96, payload)
				if v6 {
					f = fragments6(t, uint32(id), 96, payload)
				}
				d.Decode(Frame{Data: f[0], LinkType: layers.LinkTypeEthernet, Info: gopacket.CaptureInfo{Timestamp: time.Unix(int64(id), 0)}}, &p)
			}
			// 2 x 96 bytes > 150: the first datagram went.
			if st := d.Stats(); st.FragmentsDropped != 1 || st.Fragments != 2 {
				t.Errorf("stats %+v", st)
			}
			if n := d.frag4.len() + d.frag6.len(); n != 1 {
				t.Errorf("%d datagrams held, want 1", n)
			}
		})
		t.Run(name+"/bounded", func(t *testing.T) {
			d := NewDecoder(DecoderOptions{MaxFragmentDatagrams: 2})
			var p Packet
			// Three datagrams' first fragments: the oldest is evicted.
			for id := 1; id <= 3; id++ {
				f := fragments4(t, uint16(id), 96, payload)
				if v6 {
					f = fragments6(t, uint32(id), 96, payload)
				}
				ts := time.Unix(int64(1000+id), 0)
				if ok, err := d.Decode(Frame{Data: f[0], LinkType: layers.LinkTypeEthernet, Info: gopacket.CaptureInfo{Timestamp: ts}}, &p); ok || err != nil {
					t.Fatalf("first fragment of %d: %v %v", id, ok, err)
				}
			}
			if st := d.Stats(); st.FragmentsDropped != 1 || st.Fragments != 3 {
				t.Errorf("after eviction: %+v", st)
			}
			// The rest of datagram 1 can no longer complete it.
			f := fragments4(t, 1, 96, payload)
			if v6 {
				f = fragments6(t, 1, 96, payload)
			}
			for _, fr := range f[1:] {
				if ok, _ := d.Decode(Frame{Data: fr, LinkType: layers.LinkTypeEthernet, Info: gopacket.CaptureInfo{Timestamp: time.Unix(1004, 0)}}, &p); ok {
					t.Fatal("evicted datagram was reassembled")
				}
			}
			// Ageing: everything is dropped a timeout later.
			before := d.Stats().FragmentsDropped
			d.Flush(time.Unix(1004, 0).Add(31 * time.Second))
			st := d.Stats()
			if st.FragmentsDropped <= before {
				t.Errorf("Flush dropped nothing: %+v", st)
			}
			if d.frag4.len()+d.frag6.len() != 0 {
				t.Errorf("fragment state left after Flush: %d + %d", d.frag4.len(), d.frag6.len())
			}
		})
	}
}

func TestDecodeUnsupportedLink(t *testing.T) {
	d := NewDecoder(DecoderOptions{})
	var p Packet
	for _, lt := range []layers.LinkType{147, 4000} {
		ok, err := d.Decode(Frame{Data: []byte{1, 2, 3, 4}, LinkType: lt}, &p)
		if ok || !errors.Is(err, ErrUnsupportedLink) || !strings.Contains(err.Error(), fmt.Sprint(uint32(lt))) {
			t.Errorf("link type %d: ok %v, error %v; want ErrUnsupportedLink naming it", lt, ok, err)
		}
	}
	if st := d.Stats(); st.UnsupportedLink != 2 || st.Errors != 2 {
		t.Errorf("stats %+v, want 2 unsupported", st)
	}
}

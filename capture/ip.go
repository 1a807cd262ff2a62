package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// ipv4 decodes an IPv4 header, reassembling fragments, and returns its
// payload and the next step.
func (d *Decoder) ipv4(data []byte) (rest []byte, s step, held bool, err error) {
	ip := &d.ip4
	if err := ip.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
		return nil, stepDone, false, fmt.Errorf("ipv4: %w", err)
	}
	if ip.Version != 4 {
		return nil, stepDone, false, fmt.Errorf("ipv4: version %d", ip.Version)
	}
	if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
		d.autoFlush()
		out, dropped, err := d.frag4.add4(ip, d.ts)
		d.stats.FragmentsDropped += dropped
		if err != nil {
			return nil, stepDone, false, fmt.Errorf("ipv4 fragment: %w", err)
		}
		if out == nil {
			return nil, stepDone, true, nil
		}
		d.stats.Reassembled++
		ip = out
	}
	d.src = netip.AddrFrom4([4]byte(ip.SrcIP.To4()))
	d.dst = netip.AddrFrom4([4]byte(ip.DstIP.To4()))
	d.netFlow = gopacket.NewFlow(layers.EndpointIPv4, ip.SrcIP.To4(), ip.DstIP.To4())
	return ip.Payload, d.ipProto(ip.Protocol), false, nil
}

// ipProto maps an IP protocol number to the next step, noting IP-in-IP.
func (d *Decoder) ipProto(p layers.IPProtocol) step {
	switch p {
	case layers.IPProtocolTCP:
		return stepTCP
	case layers.IPProtocolUDP:
		return stepUDP
	case layers.IPProtocolGRE:
		return stepGRE
	case layers.IPProtocolIPv4:
		d.setTunnel(TunnelIPIP, 0)
		return stepIPv4
	case layers.IPProtocolIPv6:
		d.setTunnel(TunnelIPIP, 0)
		return stepIPv6
	}
	return stepDone
}

// ipv6 decodes an IPv6 header and its extension headers, reassembling
// fragments, and returns the upper-layer payload and the next step.
func (d *Decoder) ipv6(data []byte) (rest []byte, s step, held bool, err error) {
	ip := &d.ip6
	if len(data) >= 40 && data[4] == 0 && data[5] == 0 && data[6] != 0 {
		// An empty packet (payload length 0, no hop-by-hop jumbogram), as
		// in Teredo bubbles: valid, and nothing to decode.
		return nil, stepDone, false, nil
	}
	if err := ip.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
		return nil, stepDone, false, fmt.Errorf("ipv6: %w", err)
	}
	if ip.Version != 6 {
		return nil, stepDone, false, fmt.Errorf("ipv6: version %d", ip.Version)
	}
	nh := ip.NextHeader
	if ip.HopByHop != nil {
		nh = ip.HopByHop.NextHeader
	}
	data = ip.Payload
	d.src = netip.AddrFrom16([16]byte(ip.SrcIP))
	d.dst = netip.AddrFrom16([16]byte(ip.DstIP))
	d.netFlow = gopacket.NewFlow(layers.EndpointIPv6, ip.SrcIP, ip.DstIP)
	for i := 0; i < maxDepth; i++ {
		switch nh {
		case layers.IPProtocolIPv6HopByHop, layers.IPProtocolIPv6Routing,
			layers.IPProtocolIPv6Destination, 135, 139, 140: // mobility, HIP, shim6
			if len(data) < 2 {
				return nil, stepDone, false, errors.New("ipv6 extension header truncated")
			}
			n := (int(data[1]) + 1) * 8
			if len(data) < n {
				return nil, stepDone, false, errors.New("ipv6 extension header truncated")
			}
			nh, data = layers.IPProtocol(data[0]), data[n:]
		case layers.IPProtocolAH:
			if len(data) < 2 {
				return nil, stepDone, false, errors.New("ipv6 AH header truncated")
			}
			n := (int(data[1]) + 2) * 4
			if len(data) < n {
				return nil, stepDone, false, errors.New("ipv6 AH header truncated")
			}
			nh, data = layers.IPProtocol(data[0]), data[n:]
		case layers.IPProtocolIPv6Fragment:
			fg := &d.ip6frag
			if err := fg.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
				return nil, stepDone, false, fmt.Errorf("ipv6 fragment: %w", err)
			}
			if fg.FragmentOffset == 0 && !fg.MoreFragments {
				// An atomic fragment is a whole packet (RFC 6946).
				nh, data = fg.NextHeader, fg.Payload
				continue
			}
			d.autoFlush()
			out, dropped := d.frag6.add6(ip, fg, d.ts)
			d.stats.FragmentsDropped += dropped
			if out == nil {
				return nil, stepDone, true, nil
			}
			d.stats.Reassembled++
			nh, data = out.NextHeader, out.Payload
		case layers.IPProtocolNoNextHeader:
			return nil, stepDone, false, nil
		default:
			return data, d.ipProto(nh), false, nil
		}
	}
	return nil, stepDone, false, errors.New("ipv6: too many extension headers")
}

// tcp decodes the TCP header into p.
func (d *Decoder) tcp(data []byte, p *Packet) error {
	if err := p.TCP.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
		return fmt.Errorf("tcp: %w", err)
	}
	return nil
}

// udpTunnel decodes a UDP header and, when its ports name a tunnel, the
// tunnel header after it.
func (d *Decoder) udpTunnel(data []byte) ([]byte, step, error) {
	if err := d.udp.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
		return nil, stepDone, fmt.Errorf("udp: %w", err)
	}
	data = d.udp.Payload
	port := tunnelPort(uint16(d.udp.DstPort))
	if port == 0 {
		port = tunnelPort(uint16(d.udp.SrcPort))
	}
	switch port {
	case portVXLAN, portVXLANLinux:
		if err := d.vxlan.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
			return nil, stepDone, fmt.Errorf("vxlan: %w", err)
		}
		if !d.vxlan.ValidIDFlag {
			// Not VXLAN after all, just UDP that uses the port.
			return nil, stepDone, nil
		}
		d.setTunnel(TunnelVXLAN, d.vxlan.VNI)
		return d.vxlan.Payload, stepEthernet, nil
	case portGeneve:
		// gopacket's Geneve layer allocates per option; the header is
		// simple enough to skip by hand.
		if len(data) < 8 {
			return nil, stepDone, errors.New("geneve header truncated")
		}
		if data[0]>>6 != 0 {
			return nil, stepDone, nil // unknown version: not decodable Geneve
		}
		n := 8 + int(data[0]&0x3f)*4
		if len(data) < n {
			return nil, stepDone, errors.New("geneve options truncated")
		}
		d.setTunnel(TunnelGeneve, uint32(data[4])<<16|uint32(data[5])<<8|uint32(data[6]))
		return data[n:], d.etherType(layers.EthernetType(binary.BigEndian.Uint16(data[2:4]))), nil
	case portGREoUDP:
		return data, stepGRE, nil
	case portTeredo:
		return d.teredo(data)
	}
	return nil, stepDone, nil
}

func tunnelPort(p uint16) uint16 {
	switch p {
	case portVXLAN, portVXLANLinux, portGeneve, portGREoUDP, portTeredo:
		return p
	}
	return 0
}

// teredo skips Teredo's optional authentication and origin indication
// headers (RFC 4380 section 5.1.1) in front of the IPv6 packet.
func (d *Decoder) teredo(data []byte) ([]byte, step, error) {
	if len(data) >= 4 && data[0] == 0 && data[1] == 1 {
		n := 4 + int(data[2]) + int(data[3]) + 8 + 1 // ids, auth, nonce, confirmation
		if len(data) < n {
			return nil, stepDone, errors.New("teredo authentication header truncated")
		}
		data = data[n:]
	}
	if len(data) >= 8 && data[0] == 0 && data[1] == 0 {
		data = data[8:]
	}
	if len(data) < 40 || data[0]>>4 != 6 {
		// Not Teredo after all (or a bare indication): nothing to decode.
		return nil, stepDone, nil
	}
	d.setTunnel(TunnelTeredo, 0)
	return data, stepIPv6, nil
}

// greHeader decodes a GRE header and picks what follows it.
func (d *Decoder) greHeader(data []byte) ([]byte, step, error) {
	g := &d.gre
	if err := g.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
		return nil, stepDone, fmt.Errorf("gre: %w", err)
	}
	data = g.Payload
	switch g.Protocol {
	case layers.EthernetTypeERSPAN:
		if !g.SeqPresent {
			// ERSPAN type I: no header, the mirrored frame follows.
			d.setTunnel(TunnelERSPAN, 0)
			return data, stepEthernet, nil
		}
		if len(data) > 0 && data[0]>>4 == 2 {
			return data, stepERSPAN3, nil
		}
		return data, stepERSPAN2, nil
	case etherTypeERSPAN3:
		return data, stepERSPAN3, nil
	case etherTypeArubaWLAN, etherTypeArubaWLAN2:
		d.setTunnel(TunnelGRE, g.Key)
		return data, stepDot11, nil
	case etherTypePPP:
		// Enhanced GRE (PPTP): the key holds the payload length in its
		// high half, which varies per packet, and the call id.
		d.setTunnel(TunnelGRE, g.Key&0xffff)
		return data, stepPPP, nil
	}
	d.setTunnel(TunnelGRE, g.Key)
	return data, d.etherType(g.Protocol), nil
}

// erspan3 skips an ERSPAN type III header (12 bytes, plus the 8-byte
// platform specific subheader when the O bit is set).
func (d *Decoder) erspan3(data []byte) ([]byte, step, error) {
	if len(data) < 12 {
		return nil, stepDone, errors.New("erspan3 header truncated")
	}
	d.setTunnel(TunnelERSPAN, uint32(binary.BigEndian.Uint16(data[2:4])&0x3ff))
	frameType := (data[10] >> 2) & 0x1f
	n := 12
	if data[11]&1 != 0 {
		n += 8
	}
	if len(data) < n {
		return nil, stepDone, errors.New("erspan3 subheader truncated")
	}
	data = data[n:]
	if frameType == 2 { // IP
		s, err := ipVersion(data)
		return data, s, err
	}
	return data, stepEthernet, nil
}

// autoFlush expires old fragments by capture time every so often, so that a
// caller that never calls Flush still has its fragment state aged out.
func (d *Decoder) autoFlush() {
	if d.ts.Sub(d.lastFlush) >= d.opts.FragmentTimeout/4 {
		d.lastFlush = d.ts
		d.Flush(d.ts)
	}
}

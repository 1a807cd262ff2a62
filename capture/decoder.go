package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// DecoderOptions bounds the decoder's state.
type DecoderOptions struct {
	// MaxFragmentDatagrams caps the IPv4 and IPv6 datagrams being
	// reassembled at once (each family separately). When a fragment of a new
	// datagram arrives at the cap, the datagram with the oldest activity is
	// discarded and its fragments are counted in FragmentsDropped. 0 means
	// 4096.
	MaxFragmentDatagrams int
	// MaxFragmentBytes caps the fragment payload bytes held (each family
	// separately); above it the datagrams with the oldest activity are
	// discarded as for MaxFragmentDatagrams. 0 means 64 MiB.
	MaxFragmentBytes int
	// FragmentTimeout discards a datagram under reassembly once the capture
	// clock has moved this far past its last fragment. 0 means 30 s.
	FragmentTimeout time.Duration
}

// maxDepth bounds the number of headers walked in one frame, so that a
// crafted frame of nested tunnels costs bounded work.
const maxDepth = 32

// Tunnel UDP ports, decided by destination port first, then source port.
const (
	portVXLAN      = 4789
	portVXLANLinux = 8472
	portGeneve     = 6081
	portGREoUDP    = 4754
	portTeredo     = 3544
)

// Ethertypes not named by gopacket, or named differently.
const (
	etherTypeQinQ9100   layers.EthernetType = 0x9100
	etherTypeQinQ9200   layers.EthernetType = 0x9200
	etherTypeTEB        layers.EthernetType = 0x6558 // transparent Ethernet bridging
	etherTypeERSPAN3    layers.EthernetType = 0x22EB
	etherTypeArubaWLAN  layers.EthernetType = 0x8200
	etherTypeArubaWLAN2 layers.EthernetType = 0x8210
	etherTypePPP        layers.EthernetType = 0x880B
)

// step names the header the walk is at.
type step uint8

const (
	stepDone step = iota
	stepEthernet
	stepVLAN
	stepMPLS
	stepPPPoE
	stepPPP
	stepIPv4
	stepIPv6
	stepUDP
	stepGRE
	stepERSPAN2
	stepERSPAN3
	stepDot11 // an 802.11 frame (Aruba GRE, radiotap)
	stepTCP
)

// Decoder turns frames into TCP segments. It reuses its layer structs and
// allocates nothing per packet on the common paths. A Decoder is not safe
// for concurrent use.
//
// Link types: Ethernet, Linux SLL and SLL2, raw IP (101, 228, 229, 12, 14),
// BSD null and loop, NFLOG, 802.11 (with radiotap), and whatever else
// gopacket decodes (PPP, ...) through its generic, slower decoder.
//
// Below the link layer: 802.1Q/QinQ tags (0x8100, 0x88a8, 0x9100, 0x9200),
// MPLS, PPPoE, 802.3 LLC/SNAP, IPv4 (fragments reassembled), IPv6 (extension
// headers skipped, fragments reassembled), and the tunnels VXLAN (UDP 4789,
// 8472), Geneve (6081), GRE (also over UDP 4754, PPTP, Aruba), ERSPAN I, II
// and III, IP-in-IP, 6in4, 4in6 and Teredo (3544), decapsulated down to the
// innermost TCP segment. Checksums are not verified: offload makes them
// wrong in captures.
type Decoder struct {
	opts  DecoderOptions
	stats DecodeStats

	eth     layers.Ethernet
	dot1q   layers.Dot1Q
	ip4     layers.IPv4
	ip6     layers.IPv6
	ip6frag layers.IPv6Fragment
	udp     layers.UDP
	gre     layers.GRE
	erspan2 layers.ERSPANII
	vxlan   layers.VXLAN
	sll     layers.LinuxSLL
	sll2    layers.LinuxSLL2

	frag4     *fragTable
	frag6     *fragTable
	lastFlush time.Time // capture time of the last automatic fragment expiry

	// per-frame state
	zone    Zone
	nVLAN   int
	src     netip.Addr
	dst     netip.Addr
	netFlow gopacket.Flow
	ts      time.Time
}

// NewDecoder returns a Decoder with the given bounds.
func NewDecoder(opts DecoderOptions) *Decoder {
	if opts.MaxFragmentDatagrams <= 0 {
		opts.MaxFragmentDatagrams = 4096
	}
	if opts.MaxFragmentBytes <= 0 {
		opts.MaxFragmentBytes = 64 << 20
	}
	if opts.FragmentTimeout <= 0 {
		opts.FragmentTimeout = 30 * time.Second
	}
	d := &Decoder{opts: opts}
	d.frag4 = newFrag4(opts.MaxFragmentDatagrams, opts.MaxFragmentBytes)
	d.frag6 = newFrag6(opts.MaxFragmentDatagrams, opts.MaxFragmentBytes)
	return d
}

// Stats returns the counters so far.
func (d *Decoder) Stats() DecodeStats { return d.stats }

// Flush discards the fragments of datagrams whose last activity is older
// than the fragment timeout before now (capture time), counting them in
// FragmentsDropped.
func (d *Decoder) Flush(now time.Time) {
	cut := now.Add(-d.opts.FragmentTimeout)
	d.stats.FragmentsDropped += d.frag4.expire(cut) + d.frag6.expire(cut)
}

// ErrUnsupportedLink is wrapped by the error Decode returns for a frame of
// a link type the decoder cannot read.
var ErrUnsupportedLink = errors.New("unsupported link type")

// Decode decodes f down to its innermost TCP segment and fills p. It returns
// ok=false and a nil error when the frame holds no TCP segment (other
// protocols, or a fragment held for reassembly), and an error when the frame
// is malformed or of an unsupported link type. p's slices point into f.Data
// or the decoder's buffers: they are valid until the next call.
func (d *Decoder) Decode(f Frame, p *Packet) (ok bool, err error) {
	d.stats.Frames++
	d.stats.Bytes += uint64(len(f.Data))
	d.zone = Zone{}
	d.nVLAN = 0
	d.ts = f.Info.Timestamp
	held := false
	ok, held, err = d.decode(f, p)
	switch {
	case err != nil:
		d.stats.Errors++
		if errors.Is(err, ErrUnsupportedLink) {
			d.stats.UnsupportedLink++
		}
		return false, fmt.Errorf("capture: frame at offset %d: %w", f.Offset, err)
	case ok:
		d.stats.TCP++
		p.Timestamp = f.Info.Timestamp
		p.WireLen = f.Info.Length
		p.Zone = d.zone
		p.Src, p.Dst, p.NetFlow = d.src, d.dst, d.netFlow
		return true, nil
	case held:
		d.stats.Fragments++
	default:
		d.stats.NonTCP++
	}
	return false, nil
}

func (d *Decoder) decode(f Frame, p *Packet) (ok, held bool, err error) {
	data := f.Data
	var s step
	switch f.LinkType {
	case layers.LinkTypeEthernet:
		s = stepEthernet
	case layers.LinkTypeRaw, 12, 14, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		s, err = ipVersion(data)
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		data, s, err = nullHeader(data, f.LinkType == layers.LinkTypeLoop)
	case layers.LinkTypeIEEE80211Radio:
		// Radiotap: little-endian header length at bytes 2-3.
		if len(data) < 4 || int(binary.LittleEndian.Uint16(data[2:])) > len(data) {
			return false, false, errors.New("radiotap header truncated")
		}
		data, s = data[binary.LittleEndian.Uint16(data[2:]):], stepDot11
	case layers.LinkTypeIEEE802_11:
		s = stepDot11
	case linkTypeNFLOG:
		data, s, err = nflog(data)
	case layers.LinkTypeLinuxSLL:
		if err = d.sll.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
			return false, false, fmt.Errorf("linux sll: %w", err)
		}
		data = d.sll.Payload
		s = d.etherType(d.sll.EthernetType)
	case layers.LinkTypeLinuxSLL2:
		if err = d.sll2.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
			return false, false, fmt.Errorf("linux sll2: %w", err)
		}
		data = d.sll2.Payload
		s = d.etherType(d.sll2.ProtocolType)
	default:
		if int(f.LinkType) >= len(layers.LinkTypeMetadata) || layers.LinkTypeMetadata[f.LinkType].DecodeWith == nil {
			return false, false, fmt.Errorf("%w %d", ErrUnsupportedLink, f.LinkType)
		}
		data, s, err = d.generic(data, f.LinkType)
	}
	if err != nil {
		return false, false, err
	}
	return d.walk(data, s, p)
}

// walk decodes from header s at data down to TCP.
func (d *Decoder) walk(data []byte, s step, p *Packet) (ok, held bool, err error) {
	nf := gopacket.NilDecodeFeedback
	for depth := 0; depth < maxDepth; depth++ {
		switch s {
		case stepDone:
			return false, false, nil
		case stepEthernet:
			if err := d.eth.DecodeFromBytes(data, nf); err != nil {
				return false, false, fmt.Errorf("ethernet: %w", err)
			}
			data = d.eth.Payload
			if d.eth.EthernetType == layers.EthernetTypeLLC {
				data, s = snap(data)
				break
			}
			s = d.etherType(d.eth.EthernetType)
		case stepVLAN:
			if err := d.dot1q.DecodeFromBytes(data, nf); err != nil {
				return false, false, fmt.Errorf("802.1q: %w", err)
			}
			switch d.nVLAN {
			case 0:
				d.zone.VLAN = d.dot1q.VLANIdentifier
			case 1:
				d.zone.InnerVLAN = d.dot1q.VLANIdentifier
			}
			d.nVLAN++
			data = d.dot1q.Payload
			s = d.etherType(d.dot1q.Type)
		case stepMPLS:
			data, s, err = mplsStack(data)
			if err != nil {
				return false, false, err
			}
		case stepPPPoE:
			// PPPoE session header: ver/type, code, session id, length.
			if len(data) < 6 {
				return false, false, errors.New("pppoe header truncated")
			}
			data = data[6:]
			s = stepPPP
		case stepPPP:
			data, s, err = pppHeader(data)
			if err != nil {
				return false, false, err
			}
		case stepIPv4:
			data, s, held, err = d.ipv4(data)
			if err != nil || held {
				return false, held, err
			}
		case stepIPv6:
			data, s, held, err = d.ipv6(data)
			if err != nil || held {
				return false, held, err
			}
		case stepTCP:
			return true, false, d.tcp(data, p)
		case stepUDP:
			data, s, err = d.udpTunnel(data)
			if err != nil {
				return false, false, err
			}
		case stepGRE:
			data, s, err = d.greHeader(data)
			if err != nil {
				return false, false, err
			}
		case stepERSPAN2:
			if err := d.erspan2.DecodeFromBytes(data, nf); err != nil {
				return false, false, fmt.Errorf("erspan2: %w", err)
			}
			d.setTunnel(TunnelERSPAN, uint32(d.erspan2.SessionID))
			data = d.erspan2.Payload
			s = stepEthernet
		case stepERSPAN3:
			data, s, err = d.erspan3(data)
			if err != nil {
				return false, false, err
			}
		case stepDot11:
			if rest, next, ok := dot11Data(data); ok {
				data, s = rest, d.etherType(next)
				break
			}
			data, s, err = d.generic(data, layers.LayerTypeDot11)
			if err != nil {
				return false, false, err
			}
		}
	}
	return false, false, fmt.Errorf("more than %d nested headers", maxDepth)
}

// setTunnel records the outermost tunnel only.
func (d *Decoder) setTunnel(t TunnelType, id uint32) {
	if d.zone.Tunnel == TunnelNone {
		d.zone.Tunnel, d.zone.TunnelID = t, id
	}
}

// etherType maps an ethertype to the next step; anything that cannot carry
// TCP (ARP, LLDP, 802.3 lengths, ...) ends the walk.
func (d *Decoder) etherType(t layers.EthernetType) step {
	switch t {
	case layers.EthernetTypeIPv4:
		return stepIPv4
	case layers.EthernetTypeIPv6:
		return stepIPv6
	case layers.EthernetTypeDot1Q, layers.EthernetTypeQinQ, etherTypeQinQ9100, etherTypeQinQ9200:
		return stepVLAN
	case layers.EthernetTypeMPLSUnicast, layers.EthernetTypeMPLSMulticast:
		return stepMPLS
	case layers.EthernetTypePPPoESession:
		return stepPPPoE
	case etherTypeTEB:
		return stepEthernet
	}
	return stepDone
}

// dot11Data finds the ethertype and payload of an unprotected 802.11 data
// frame carrying LLC/SNAP, the common case, without gopacket's full (and
// allocating) 802.11 decoder; ok=false sends anything else there.
func dot11Data(data []byte) (rest []byte, et layers.EthernetType, ok bool) {
	if len(data) < 24 {
		return nil, 0, false
	}
	fc0, fc1 := data[0], data[1]
	if fc0&0x0c != 0x08 || fc1&0x40 != 0 { // not a data frame, or protected
		return nil, 0, false
	}
	n := 24
	if fc1&0x03 == 0x03 { // ToDS and FromDS: a fourth address
		n += 6
	}
	if fc0&0x80 != 0 { // QoS data: QoS control
		n += 2
		if fc1&0x80 != 0 { // +HTC/order: HT control
			n += 4
		}
	}
	if len(data) < n+8 {
		return nil, 0, false
	}
	llc := data[n:]
	if llc[0] != 0xaa || llc[1] != 0xaa || llc[2] != 0x03 {
		return nil, 0, false
	}
	return llc[8:], layers.EthernetType(binary.BigEndian.Uint16(llc[6:8])), true
}

// linkTypeNFLOG is Linux netfilter NFLOG, which gopacket does not decode.
const linkTypeNFLOG layers.LinkType = 239

// nflog finds the packet in an NFLOG record: a 4-byte header (family,
// version, resource id) and TLVs with host-order (in practice little
// endian) 16-bit length and type, padded to 4 bytes; type 9 is the payload.
func nflog(data []byte) ([]byte, step, error) {
	if len(data) < 4 {
		return nil, stepDone, errors.New("nflog header truncated")
	}
	family := data[0]
	data = data[4:]
	for len(data) >= 4 {
		n := int(binary.LittleEndian.Uint16(data))
		typ := binary.LittleEndian.Uint16(data[2:])
		if n < 4 || n > len(data) {
			return nil, stepDone, fmt.Errorf("nflog TLV length %d", n)
		}
		if typ == 9 {
			payload := data[4:n]
			switch family {
			case 2:
				return payload, stepIPv4, nil
			case 10:
				return payload, stepIPv6, nil
			}
			s, err := ipVersion(payload)
			return payload, s, err
		}
		n = (n + 3) &^ 3
		if n > len(data) {
			break
		}
		data = data[n:]
	}
	return nil, stepDone, nil
}

// snap unwraps an 802.2 LLC/SNAP header with the zero OUI (RFC 1042), the
// encapsulation an 802.3 length field announces; other LLC carries no IP.
func snap(data []byte) ([]byte, step) {
	if len(data) < 8 || data[0] != 0xaa || data[1] != 0xaa || data[2] != 0x03 || data[3]|data[4]|data[5] != 0 {
		return nil, stepDone
	}
	switch layers.EthernetType(binary.BigEndian.Uint16(data[6:8])) {
	case layers.EthernetTypeIPv4:
		return data[8:], stepIPv4
	case layers.EthernetTypeIPv6:
		return data[8:], stepIPv6
	}
	return nil, stepDone
}

// ipVersion picks IPv4 or IPv6 from the first nibble.
func ipVersion(data []byte) (step, error) {
	if len(data) == 0 {
		return stepDone, errors.New("empty IP packet")
	}
	switch data[0] >> 4 {
	case 4:
		return stepIPv4, nil
	case 6:
		return stepIPv6, nil
	}
	return stepDone, fmt.Errorf("IP version %d", data[0]>>4)
}

// nullHeader strips the 4-byte BSD loopback header: the address family in
// host byte order for DLT_NULL, network byte order for DLT_LOOP.
func nullHeader(data []byte, loop bool) ([]byte, step, error) {
	if len(data) < 4 {
		return nil, stepDone, errors.New("loopback header truncated")
	}
	fam := binary.BigEndian.Uint32(data)
	if !loop && fam&0xffff0000 != 0 {
		fam = binary.LittleEndian.Uint32(data)
	}
	switch fam {
	case 2: // AF_INET everywhere
		return data[4:], stepIPv4, nil
	case 10, 24, 28, 30: // AF_INET6: Linux, NetBSD/OpenBSD, FreeBSD, Darwin
		return data[4:], stepIPv6, nil
	}
	return data[4:], stepDone, nil
}

// mplsStack skips an MPLS label stack and guesses what follows from the
// first nibble: 4 IPv4, 6 IPv6, 0 a pseudowire control word then Ethernet.
func mplsStack(data []byte) ([]byte, step, error) {
	for i := 0; ; i++ {
		if len(data) < 4 {
			return nil, stepDone, errors.New("mpls label stack truncated")
		}
		bottom := data[2]&1 != 0
		data = data[4:]
		if bottom {
			break
		}
		if i >= maxDepth {
			return nil, stepDone, errors.New("mpls label stack too deep")
		}
	}
	if len(data) == 0 {
		return nil, stepDone, errors.New("mpls payload empty")
	}
	switch data[0] >> 4 {
	case 4:
		return data, stepIPv4, nil
	case 6:
		return data, stepIPv6, nil
	case 0:
		if len(data) < 4 {
			return nil, stepDone, errors.New("mpls control word truncated")
		}
		return data[4:], stepEthernet, nil
	}
	return data, stepDone, nil
}

// pppHeader strips a PPP header (optional ff 03 address/control, then a one
// or two byte protocol).
func pppHeader(data []byte) ([]byte, step, error) {
	if len(data) >= 2 && data[0] == 0xff && data[1] == 0x03 {
		data = data[2:]
	}
	if len(data) < 1 {
		return nil, stepDone, errors.New("ppp header truncated")
	}
	var proto uint16
	if data[0]&1 != 0 { // compressed one-byte protocol field
		proto, data = uint16(data[0]), data[1:]
	} else {
		if len(data) < 2 {
			return nil, stepDone, errors.New("ppp header truncated")
		}
		proto, data = binary.BigEndian.Uint16(data), data[2:]
	}
	switch proto {
	case 0x0021:
		return data, stepIPv4, nil
	case 0x0057:
		return data, stepIPv6, nil
	}
	return data, stepDone, nil
}

// generic decodes data with gopacket's full decoder for link layers the fast
// path does not handle (802.11, NFLOG, PPP, ...), and continues the fast walk
// at the innermost IP header it finds.
func (d *Decoder) generic(data []byte, first gopacket.Decoder) ([]byte, step, error) {
	pkt := gopacket.NewPacket(data, first, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	// Lazily decoded up to the first network layer only: the fast walk
	// takes over from there and handles any tunnel inside it itself.
	ip := pkt.NetworkLayer()
	if ip != nil && ip.LayerType() != layers.LayerTypeIPv4 && ip.LayerType() != layers.LayerTypeIPv6 {
		return nil, stepDone, nil
	}
	if ip == nil {
		if el := pkt.ErrorLayer(); el != nil {
			if el.Error() != nil && len(pkt.Layers()) <= 1 {
				return nil, stepDone, el.Error()
			}
		}
		return nil, stepDone, nil
	}
	contents := ip.LayerContents()
	// With NoCopy the layer's bytes are a subslice of data: find where.
	off := cap(data) - cap(contents)
	if len(contents) == 0 || off < 0 || off >= len(data) {
		return nil, stepDone, errors.New("network layer outside frame")
	}
	if ip.LayerType() == layers.LayerTypeIPv4 {
		return data[off:], stepIPv4, nil
	}
	return data[off:], stepIPv6, nil
}

// Package capture reads packets from capture files and decodes them, through
// any link layer and encapsulation Specter supports, down to the inner TCP
// segment that reassembly needs.
package capture

import (
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Frame is one captured link-layer frame as read from a source.
//
// Data is only valid until the next read from the same source: readers reuse
// their buffers so that reading costs no allocation per packet.
type Frame struct {
	Data     []byte
	Info     gopacket.CaptureInfo
	LinkType layers.LinkType
	// Offset is the byte offset of the frame's record in its (decompressed)
	// file, for error messages.
	Offset int64
}

// TunnelType names the encapsulation a packet arrived in.
type TunnelType uint8

// Tunnel types, outermost one wins when several are stacked.
const (
	TunnelNone TunnelType = iota
	TunnelVXLAN
	TunnelGRE
	TunnelERSPAN
	TunnelGeneve
	TunnelIPIP // IPv4 or IPv6 in IPv4/IPv6 (IP-in-IP, 6in4, 4in6)
	TunnelTeredo
)

var tunnelNames = [...]string{"", "vxlan", "gre", "erspan", "geneve", "ipip", "teredo"}

// String returns the lower-case name of the tunnel type ("" for none).
func (t TunnelType) String() string {
	if int(t) < len(tunnelNames) {
		return tunnelNames[t]
	}
	return "unknown"
}

// Zone identifies the network a flow lives in, so that the same 5-tuple seen
// on two VLANs or in two tunnels is two flows. It is comparable and cheap to
// hash.
type Zone struct {
	// VLAN is the outermost 802.1Q VLAN id, InnerVLAN the second tag (QinQ);
	// 0 when absent.
	VLAN, InnerVLAN uint16
	Tunnel          TunnelType
	// TunnelID is the VXLAN/Geneve VNI, GRE key or ERSPAN session id.
	TunnelID uint32
}

// IsZero reports whether the packet arrived untagged and unencapsulated.
func (z Zone) IsZero() bool { return z == Zone{} }

// Packet is a decoded TCP segment with the metadata reassembly needs.
//
// TCP.Payload, and the slices inside TCP, point into the frame's data (or
// into the decoder's defragmentation buffer): they are valid until the next
// Decode call on the same Decoder.
type Packet struct {
	Timestamp time.Time
	// Src and Dst are the inner IP addresses.
	Src, Dst netip.Addr
	// NetFlow is the inner network flow, as gopacket's reassembly wants it.
	NetFlow gopacket.Flow
	TCP     layers.TCP
	Zone    Zone
	// WireLen is the frame's length on the wire.
	WireLen int
}

// DecodeStats counts what the decoder saw. Every frame lands in exactly one
// of TCP, NonTCP, Fragments (held for reassembly) or Errors.
type DecodeStats struct {
	Frames           uint64 // frames handed to Decode
	Bytes            uint64 // sum of captured frame lengths
	TCP              uint64 // frames that yielded a TCP segment
	NonTCP           uint64 // decodable frames with no TCP in them (UDP, ICMP, ARP, ...)
	Fragments        uint64 // IPv4/IPv6 fragments held for reassembly (the one completing a datagram counts as what the datagram holds)
	Reassembled      uint64 // datagrams rebuilt from fragments
	FragmentsDropped uint64 // fragments discarded by a bound (datagrams, bytes, age) or with a datagram that could not be rebuilt
	Errors           uint64 // frames that failed to decode (truncated, malformed, unsupported link type)
	UnsupportedLink  uint64 // of the Errors, frames of a link type the decoder cannot read
}

// FlowKey returns the part of the zone that tells flows apart. VLAN tags
// and VXLAN/Geneve network ids separate networks whose addresses may
// overlap; GRE keys and ERSPAN session ids name mirror sessions, and a
// switch often mirrors the two directions of a connection into two
// sessions, so they are kept as metadata but do not split a flow.
func (z Zone) FlowKey() Zone {
	if z.Tunnel == TunnelGRE || z.Tunnel == TunnelERSPAN {
		z.TunnelID = 0
	}
	return z
}

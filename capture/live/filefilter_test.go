package live

import (
	"net"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/specter-dev/specter/capture"
)

// frame builds a TCP segment from port sport to dport, as Ethernet (vlan 0
// for untagged) or as raw IP.
func frame(t testing.TB, lt layers.LinkType, vlan uint16, sport, dport layers.TCPPort) capture.Frame {
	t.Helper()
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IPv4(10, 0, 0, 1), DstIP: net.IPv4(10, 0, 0, 2)}
	tcp := &layers.TCP{SrcPort: sport, DstPort: dport, SYN: true, Window: 1024}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	var ls []gopacket.SerializableLayer
	if lt == layers.LinkTypeEthernet {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
		ls = append(ls, eth)
		if vlan != 0 {
			eth.EthernetType = layers.EthernetTypeDot1Q
			ls = append(ls, &layers.Dot1Q{VLANIdentifier: vlan, Type: layers.EthernetTypeIPv4})
		}
	}
	ls = append(ls, ip, tcp)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return capture.Frame{Data: buf.Bytes(), LinkType: lt}
}

func TestFrameFilter(t *testing.T) {
	frames := map[string]capture.Frame{
		"eth 8080":      frame(t, layers.LinkTypeEthernet, 0, 40000, 8080),
		"eth 9090":      frame(t, layers.LinkTypeEthernet, 0, 40000, 9090),
		"vlan 8080":     frame(t, layers.LinkTypeEthernet, 7, 40000, 8080),
		"raw ip 8080":   frame(t, layers.LinkTypeRaw, 0, 8080, 40001),
		"raw ip 9090":   frame(t, layers.LinkTypeRaw, 0, 9090, 40001),
		"truncated eth": {Data: frame(t, layers.LinkTypeEthernet, 0, 40000, 8080).Data[:20], LinkType: layers.LinkTypeEthernet},
	}
	for _, tc := range []struct {
		expr string
		want []string // the frames matched
		errs string   // the link type it cannot compile for
	}{
		{"tcp port 8080", []string{"eth 8080", "raw ip 8080"}, ""},
		{"tcp dst port 9090", []string{"eth 9090"}, ""},
		{"vlan and tcp port 8080", []string{"vlan 8080"}, "raw ip"},
		// A load past the end of a frame rejects it, as in the kernel.
		{"not tcp port 8080", []string{"eth 9090", "raw ip 9090", "vlan 8080"}, ""},
		{"host 10.0.0.2 and tcp[tcpflags] & tcp-syn != 0", []string{"eth 8080", "eth 9090", "raw ip 8080", "raw ip 9090"}, ""},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			f, err := NewFrameFilter(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, name := range []string{"eth 8080", "eth 9090", "raw ip 8080", "raw ip 9090", "truncated eth", "vlan 8080"} {
				ok, err := f.Match(frames[name])
				if (err != nil) != (tc.errs != "" && strings.HasPrefix(name, tc.errs)) {
					t.Fatalf("%s: error %v", name, err)
				}
				if ok {
					got = append(got, name)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("matched %q, want %q", got, tc.want)
			}
		})
	}
	for _, bad := range []string{"tcp prot 80", "port", "host 999.1.1.1"} {
		if _, err := NewFrameFilter(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("NewFrameFilter(%q): %v, want an error quoting it", bad, err)
		}
	}
}

// FuzzFrameFilter: any frame, of any link type, is judged without a panic.
func FuzzFrameFilter(f *testing.F) {
	f.Add([]byte{}, uint8(1))
	f.Add(frame(f, layers.LinkTypeEthernet, 7, 1, 8080).Data, uint8(1))
	f.Add(frame(f, layers.LinkTypeRaw, 0, 1, 8080).Data, uint8(101))
	ff, err := NewFrameFilter("tcp port 8080 or (vlan and udp) or ip6")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, lt uint8) {
		_, _ = ff.Match(capture.Frame{Data: data, LinkType: layers.LinkType(lt)})
	})
}

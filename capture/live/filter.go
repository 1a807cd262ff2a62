package live

import (
	"fmt"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
	"golang.org/x/net/bpf"
)

// CompileFilter compiles a tcpdump expression (pcap-filter(7)) for Ethernet
// frames into classic BPF, with libpcap's own compiler so that every
// expression means exactly what it means to tcpdump. The program returns
// snapLen bytes of a matching frame, which is how the kernel applies a
// snap length to an AF_PACKET socket; an empty expression matches
// everything.
//
// The program sees frames as the kernel holds them, with the outer VLAN tag
// already stripped into metadata (as tcpdump on a live Linux interface
// does): "tcp port 80" matches tagged and untagged traffic alike.
func CompileFilter(expr string, snapLen int) ([]bpf.RawInstruction, error) {
	if snapLen <= 0 {
		snapLen = defaultSnapLen
	}
	ins, err := pcap.CompileBPFFilter(layers.LinkTypeEthernet, snapLen, expr)
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	if len(ins) == 0 {
		return nil, fmt.Errorf("filter %q: compiled to an empty program", expr)
	}
	raw := make([]bpf.RawInstruction, len(ins))
	for i, in := range ins {
		raw[i] = bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	return raw, nil
}

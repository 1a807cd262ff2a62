package live

import (
	"fmt"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
	"golang.org/x/net/bpf"

	"github.com/specter-dev/specter/capture"
)

// maxFilterLinkTypes bounds the programs a FrameFilter compiles, one per
// link type met; a capture with more link types than this is refused.
const maxFilterLinkTypes = 16

// FrameFilter applies a tcpdump expression to frames read from capture
// files, the way tcpdump -r does: compiled by libpcap for each frame's link
// type (a pcapng file may mix several) and run in a BPF interpreter on the
// frame as it is stored, VLAN tags included ("vlan and tcp port 80" for
// tagged traffic, as with tcpdump -r). It is not safe for concurrent use.
type FrameFilter struct {
	expr string
	vms  map[layers.LinkType]compiled
}

// compiled is the program for one link type, or why there is none.
type compiled struct {
	vm  *bpf.VM
	err error
}

// NewFrameFilter checks expr by compiling it for Ethernet, the common link
// type, so that a bad expression is an error before any file is read.
func NewFrameFilter(expr string) (*FrameFilter, error) {
	f := &FrameFilter{expr: expr, vms: map[layers.LinkType]compiled{}}
	if _, err := f.vm(layers.LinkTypeEthernet); err != nil {
		return nil, err
	}
	return f, nil
}

// String returns the expression.
func (f *FrameFilter) String() string { return f.expr }

// vm returns the program for lt, compiling it the first time; the error of
// a failed compilation is kept too, so that it is not retried per frame.
func (f *FrameFilter) vm(lt layers.LinkType) (*bpf.VM, error) {
	if c, ok := f.vms[lt]; ok {
		return c.vm, c.err
	}
	if len(f.vms) >= maxFilterLinkTypes {
		return nil, fmt.Errorf("filter %q: more than %d link types", f.expr, maxFilterLinkTypes)
	}
	var c compiled
	c.vm, c.err = compile(f.expr, lt)
	f.vms[lt] = c
	return c.vm, c.err
}

func compile(expr string, lt layers.LinkType) (*bpf.VM, error) {
	ins, err := pcap.CompileBPFFilter(dlt(lt), defaultSnapLen, expr)
	if err != nil {
		return nil, fmt.Errorf("filter %q for link type %s: %w", expr, lt, err)
	}
	prog := make([]bpf.Instruction, len(ins))
	for i, in := range ins {
		prog[i] = bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}.Disassemble()
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		return nil, fmt.Errorf("filter %q for link type %s: %w", expr, lt, err)
	}
	return vm, nil
}

// dlt maps a file's link type (LINKTYPE_*) to libpcap's DLT_* value,
// which differs for a few early types; raw IP is the one captures use.
func dlt(lt layers.LinkType) layers.LinkType {
	switch lt {
	case layers.LinkTypeRaw: // LINKTYPE_RAW 101
		return 12 // DLT_RAW on Linux
	case 100: // LINKTYPE_ATM_RFC1483
		return 11
	}
	return lt
}

// Match reports whether the expression accepts the frame. An error means
// the expression cannot be compiled for the frame's link type.
func (f *FrameFilter) Match(fr capture.Frame) (bool, error) {
	vm, err := f.vm(fr.LinkType)
	if err != nil {
		return false, err
	}
	n, err := vm.Run(fr.Data)
	if err != nil {
		return false, fmt.Errorf("filter %q: %w", f.expr, err)
	}
	return n > 0, nil
}

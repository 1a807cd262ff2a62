package capture

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"
	"github.com/specter-dev/specter/capture/corpus"
)

// The decoder's Packet must be what gopacket's reassembly wants: these
// types feed it to an Assembler and collect each direction's bytes.

type asmContext struct{ ci gopacket.CaptureInfo }

func (c *asmContext) GetCaptureInfo() gopacket.CaptureInfo { return c.ci }

type collectStream struct{ client, server *bytes.Buffer }

func (s *collectStream) Accept(*layers.TCP, gopacket.CaptureInfo, reassembly.TCPFlowDirection, reassembly.Sequence, *bool, reassembly.AssemblerContext) bool {
	return true
}

func (s *collectStream) ReassembledSG(sg reassembly.ScatterGather, _ reassembly.AssemblerContext) {
	dir, _, _, _ := sg.Info()
	n, _ := sg.Lengths()
	if dir == reassembly.TCPDirClientToServer {
		s.client.Write(sg.Fetch(n))
	} else {
		s.server.Write(sg.Fetch(n))
	}
}

func (s *collectStream) ReassemblyComplete(reassembly.AssemblerContext) bool { return false }

type collectFactory struct{ streams []*collectStream }

func (f *collectFactory) New(_, _ gopacket.Flow, _ *layers.TCP, _ reassembly.AssemblerContext) reassembly.Stream {
	s := &collectStream{client: new(bytes.Buffer), server: new(bytes.Buffer)}
	f.streams = append(f.streams, s)
	return s
}

func TestReassemblyIntegration(t *testing.T) {
	dir := corpus.Dir(t, "corpus/pcaps")
	for _, c := range []struct {
		name string
		// statusLine: the server answers with an HTTP/1 status line
		// (the atomic-fragment capture's server sends bare HTML).
		statusLine bool
	}{
		{"zeek/tunnels__vxlan-encapsulated-http.pcap", true},
		{"arkime/gre-erspan-vxlan.pcap", true},
		{"zeek/erspan.pcap", true}, // GRE with IPv4 fragments
		{"zeek/ipv6-http-atomic-frag.pcap", false},
		{"zeek/nflog-http.pcap", true},
	} {
		name := c.name
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if _, err := os.Stat(path); err != nil {
				t.Skip(err)
			}
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			factory := &collectFactory{}
			asm := reassembly.NewAssembler(reassembly.NewStreamPool(factory))
			d := NewDecoder(DecoderOptions{})
			var p Packet
			for {
				f, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if ok, _ := d.Decode(f, &p); ok {
					asm.AssembleWithContext(p.NetFlow, &p.TCP, &asmContext{ci: f.Info})
				}
			}
			asm.FlushAll()
			requests, responses := 0, 0
			for _, s := range factory.streams {
				if isHTTPRequest(s.client.Bytes()) {
					requests++
				}
				if bytes.HasPrefix(s.server.Bytes(), []byte("HTTP/1.")) || !c.statusLine && s.server.Len() > 0 {
					responses++
				}
			}
			if requests == 0 || responses == 0 {
				t.Errorf("%d streams, %d start with a request, %d with a response", len(factory.streams), requests, responses)
			}
		})
	}
}

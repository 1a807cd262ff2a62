package capture

import (
	"bytes"
	"io"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// fuzzLinkTypes are the link types FuzzDecode spreads its input over.
var fuzzLinkTypes = []layers.LinkType{
	layers.LinkTypeEthernet, layers.LinkTypeRaw, layers.LinkTypeNull, layers.LinkTypeLoop,
	layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2, layers.LinkTypeIPv4, layers.LinkTypeIPv6,
	linkTypeNFLOG, layers.LinkTypePPP, layers.LinkTypeIEEE80211Radio, layers.LinkTypeIEEE802_11, 12, 14, 147,
}

func FuzzDecode(f *testing.F) {
	for _, c := range decodeCases(f) {
		for i, lt := range fuzzLinkTypes {
			if lt == c.link {
				f.Add(c.frame, uint8(i))
			}
		}
	}
	for _, fr := range fragments4(f, 9, 16, httpReq) {
		f.Add(fr, uint8(0))
	}
	for _, fr := range fragments6(f, 9, 16, httpReq) {
		f.Add(fr, uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, link uint8) {
		d := NewDecoder(DecoderOptions{MaxFragmentDatagrams: 8})
		var p Packet
		lt := fuzzLinkTypes[int(link)%len(fuzzLinkTypes)]
		// Twice, so that fragment state from the first call is used.
		for range 2 {
			ok, err := d.Decode(Frame{Data: data, LinkType: lt}, &p)
			if ok && err != nil {
				t.Fatalf("ok with error %v", err)
			}
			if ok && !p.Src.IsValid() {
				t.Fatal("TCP segment without addresses")
			}
		}
		st := d.Stats()
		if st.TCP+st.NonTCP+st.Fragments+st.Errors != st.Frames {
			t.Fatalf("stats do not add up: %+v", st)
		}
	})
}

func FuzzOpen(f *testing.F) {
	frames := testFrames(3)
	pcap := writePcap(f, frames, layers.LinkTypeEthernet, false)
	f.Add(pcap)
	f.Add(swapPcap(writePcap(f, frames, layers.LinkTypeEthernet, true)))
	f.Add(writePcapNG(f, frames))
	f.Add(gzipBytes(pcap))
	f.Add(pcap[:len(pcap)-3])
	f.Add([]byte("\x1f\x8b"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := OpenReader(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		d := NewDecoder(DecoderOptions{})
		var p Packet
		// Each record takes at least 8 bytes of the (decompressed)
		// stream; gzip can expand input ~1000x.
		limit := 1000*len(data) + 10
		for n := 0; ; n++ {
			fr, err := r.Next()
			if err != nil {
				if err != io.EOF {
					if _, ok := err.(*FormatError); !ok {
						t.Fatalf("error %T %v is not a *FormatError", err, err)
					}
				}
				return
			}
			if n > limit {
				t.Fatal("reader does not terminate")
			}
			d.Decode(fr, &p)
		}
	})
}

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
				checkEnd(t, err)
				return
			}
			if n > limit {
				t.Fatal("reader does not terminate")
			}
			d.Decode(fr, &p)
		}
	})
}

// FuzzRecordLengths sets the lengths of one record of a pcap or pcapng
// file to fuzzed values: the frames before it come back intact, no frame
// is longer than the record bound, and the reader ends.
func FuzzRecordLengths(f *testing.F) {
	f.Add(false, uint8(3), uint32(0xffffff00), uint32(0xffffff00), uint32(0))
	f.Add(false, uint8(0), uint32(300000), uint32(300000), uint32(0))
	f.Add(true, uint8(5), uint32(0xffffff00), uint32(0xffffff00), uint32(0xfffffff0))
	f.Add(true, uint8(2), uint32(20), uint32(20), uint32(12))
	f.Add(true, uint8(9), uint32(0), uint32(0), uint32(0))
	frames := testFrames(10)
	pc := writePcap(f, frames, layers.LinkTypeEthernet, false)
	po := pcapOffsets(frames)
	ng := writePcapNG(f, frames)
	no := ngPacketOffsets(ng)
	f.Fuzz(func(t *testing.T, pcapng bool, rec uint8, caplen, origlen, total uint32) {
		i := int(rec) % len(frames)
		var data []byte
		if pcapng {
			data = put32(put32(put32(ng, no[i]+20, caplen), no[i]+24, origlen), no[i]+4, total)
		} else {
			data = put32(put32(pc, po[i]+8, caplen), po[i]+12, origlen)
		}
		r, err := OpenReader(bytes.NewReader(data), "fuzz")
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; ; n++ {
			fr, err := r.Next()
			if err != nil {
				checkEnd(t, err)
				if n < i {
					t.Fatalf("%d frames before the error %v, want at least %d", n, err, i)
				}
				return
			}
			if n < i && !bytes.Equal(fr.Data, frames[n]) {
				t.Fatalf("frame %d before the damaged record differs", n)
			}
			if len(fr.Data) > maxRecordMax || n > len(data)/16 {
				t.Fatalf("frame %d of %d bytes", n, len(fr.Data))
			}
		}
	})
}

// checkEnd fails t unless err, which ended a read, is io.EOF or a
// *FormatError.
func checkEnd(t *testing.T, err error) {
	t.Helper()
	if _, ok := err.(*FormatError); !ok && err != io.EOF {
		t.Fatalf("error %T %v is not a *FormatError", err, err)
	}
}

package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// ngPacketOffsets returns the offsets of the enhanced packet blocks of a
// little-endian pcapng file.
func ngPacketOffsets(data []byte) []int64 {
	var out []int64
	for off := 0; off+8 <= len(data); {
		typ := binary.LittleEndian.Uint32(data[off:])
		n := int(binary.LittleEndian.Uint32(data[off+4:]))
		if typ == ngEnhancedPacket {
			out = append(out, int64(off))
		}
		if n < 12 {
			break
		}
		off += n
	}
	return out
}

func insert(b []byte, at int64, ins []byte) []byte {
	return slices.Concat(b[:at], ins, b[at:])
}

func put32(b []byte, at int64, v uint32) []byte {
	b = bytes.Clone(b)
	binary.LittleEndian.PutUint32(b[at:], v)
	return b
}

func TestReaderResync(t *testing.T) {
	frames := testFrames(20)
	pc := writePcap(t, frames, layers.LinkTypeEthernet, false)
	po := pcapOffsets(frames)
	ng := writePcapNG(t, frames)
	no := ngPacketOffsets(ng)
	if len(no) != len(frames) {
		t.Fatalf("%d packet blocks, want %d", len(no), len(frames))
	}
	garbage := bytes.Repeat([]byte{0xff}, 100)
	// A pcap whose header declares a snap length of 2^32-1.
	hugeSnap := put32(pc, 16, 0xffffffff)
	// A record a little longer than the snap length, as some writers
	// produce: accepted, like libpcap does.
	long := slices.Clone(frames)
	long[5] = bytes.Repeat([]byte{7}, 70000)
	longPcap := writePcap(t, long, layers.LinkTypeEthernet, false)

	all := func() []int { return nil }
	without := func(i ...int) func() []int { return func() []int { return i } }
	cases := []struct {
		name     string
		data     []byte
		frames   [][]byte
		skipped  func() []int // indexes of frames lost
		badAt    int64        // offset of the first corruption; -1 none
		wantIn   string
		fatal    bool // the error ends the file before its end
		noRecord bool // nothing plausible after the corruption
	}{
		{"pcap caplen 4 GiB", put32(put32(pc, po[7]+8, 0xffffff00), po[7]+12, 0xffffff00), frames, without(7), po[7], "capture length 4294967040 exceeds the maximum 262144", false, false},
		{"pcap caplen above 256 KiB", put32(put32(pc, po[7]+8, 300000), po[7]+12, 300000), frames, without(7), po[7], "capture length 300000", false, false},
		{"pcap garbage between records", insert(pc, po[7], garbage), frames, all, po[7], "bad packet record", false, false},
		{"pcap huge snaplen, caplen 1 GiB", put32(put32(hugeSnap, po[3]+8, 1<<30), po[3]+12, 1<<30), frames, without(3), po[3], "exceeds the maximum 16777216", false, false},
		{"pcap corrupt last record", put32(pc, po[19]+8, 0xffffff00), frames, without(19), po[19], "no record after it", false, true},
		{"pcap record beyond snaplen kept", longPcap, long, all, -1, "", false, false},
		{"pcapng caplen 4 GiB", put32(ng, no[7]+20, 0xffffff00), frames, without(7), no[7], "bad block (type 0x6", false, false},
		{"pcapng block length 4 GiB", put32(ng, no[7]+4, 0xfffffff0), frames, without(7), no[7], "length 4294967280", false, false},
		{"pcapng trailing length differs", put32(ng, no[8]-4, 12), frames, without(7), no[7], "bad block", false, false},
		{"pcapng garbage between blocks", insert(ng, no[7], garbage), frames, all, no[7], "bad block", false, false},
		{"pcapng unknown interface", put32(ng, no[4]+8, 9), frames, without(4), no[4], "bad block", false, false},
		{"pcapng corrupt last block", put32(ng, no[19]+4, 0xfffffff0), frames, without(19), no[19], "no record after it", false, true},
		{"pcap no record within 64 MiB", insert(pc, po[2], bytes.Repeat([]byte{0xff}, maxResync+1024)), frames, without(2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19), po[2], "no plausible record in the 64 MiB", true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := OpenReader(bytes.NewReader(c.data), "x.pcap")
			if err != nil {
				t.Fatal(err)
			}
			res := readAll(t, r)
			var want [][]byte
			for i, f := range c.frames {
				if !slices.Contains(c.skipped(), i) {
					want = append(want, f)
				}
			}
			if len(res.frames) != len(want) {
				t.Fatalf("%d frames, want %d (error %v)", len(res.frames), len(want), res.err)
			}
			for i := range want {
				if !bytes.Equal(res.frames[i], want[i]) {
					t.Fatalf("frame %d differs", i)
				}
			}
			if c.badAt < 0 {
				if res.err != nil {
					t.Fatalf("error %v, want none", res.err)
				}
				return
			}
			var fe *FormatError
			if !errors.As(res.err, &fe) {
				t.Fatalf("error %v (%T), want *FormatError", res.err, res.err)
			}
			if fe.File != "x.pcap" || fe.Offset != c.badAt || !strings.Contains(res.err.Error(), c.wantIn) || !strings.HasPrefix(res.err.Error(), fmt.Sprintf("x.pcap: offset %d: ", c.badAt)) {
				t.Errorf("error %q: want offset %d and %q", res.err, c.badAt, c.wantIn)
			}
			if errors.Is(res.err, ErrCorrupt) == c.fatal {
				t.Errorf("error %v: ErrCorrupt %v, want %v", res.err, !c.fatal, !c.fatal)
			}
			st := r.Stats()
			if st.CorruptRecords == 0 || st.SkippedBytes == 0 {
				t.Errorf("stats %+v, want corruption counted", st)
			}
			if errs := r.Errors(); len(errs) != int(st.CorruptRecords) || errs[0].Offset != c.badAt {
				t.Errorf("Errors() = %v, want %d from offset %d", errs, st.CorruptRecords, c.badAt)
			}
			if c.noRecord != strings.Contains(r.Errors()[0].Error(), "no record after it") {
				t.Errorf("first error %v", r.Errors()[0])
			}
		})
	}
}

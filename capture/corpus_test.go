package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/specter-dev/specter/capture/corpus"
)

// recordOffsets returns the offsets of the packet records of a pcap or
// pcapng file, found with a walk of its own, independent of pcapgo, to
// check the reader against.
func recordOffsets(data []byte) ([]int64, error) {
	if len(data) < 4 {
		return nil, errors.New("short file")
	}
	var offs []int64
	switch string(data[:4]) {
	case "\xd4\xc3\xb2\xa1", "\x4d\x3c\xb2\xa1", "\xa1\xb2\xc3\xd4", "\xa1\xb2\x3c\x4d":
		var bo binary.ByteOrder = binary.LittleEndian
		if data[0] == 0xa1 {
			bo = binary.BigEndian
		}
		for off := 24; off < len(data); {
			if off+16 > len(data) {
				return offs, fmt.Errorf("record header cut at %d", off)
			}
			offs = append(offs, int64(off))
			off += 16 + int(bo.Uint32(data[off+8:]))
			if off > len(data) {
				return offs, fmt.Errorf("record data cut")
			}
		}
		return offs, nil
	case "\x0a\x0d\x0d\x0a":
		var bo binary.ByteOrder = binary.LittleEndian
		for off := 0; off < len(data); {
			if off+12 > len(data) {
				return offs, fmt.Errorf("block cut at %d", off)
			}
			if binary.LittleEndian.Uint32(data[off:]) == 0x0a0d0d0a {
				if binary.LittleEndian.Uint32(data[off+8:]) == 0x1a2b3c4d {
					bo = binary.LittleEndian
				} else {
					bo = binary.BigEndian
				}
			}
			typ, length := bo.Uint32(data[off:]), int(bo.Uint32(data[off+4:]))
			if length < 12 || off+length > len(data) {
				return offs, fmt.Errorf("bad block length %d at %d", length, off)
			}
			switch typ {
			case 2, 3, 6: // obsolete packet, simple packet, enhanced packet
				offs = append(offs, int64(off))
			}
			off += length
		}
		return offs, nil
	}
	return nil, errors.New("not a capture")
}

var httpMethods = [][]byte{[]byte("GET "), []byte("POST "), []byte("PUT "), []byte("HEAD "), []byte("DELETE "), []byte("OPTIONS "), []byte("PATCH ")}

func isHTTPRequest(b []byte) bool {
	for _, m := range httpMethods {
		if bytes.HasPrefix(b, m) {
			return true
		}
	}
	return false
}

type fileResult struct {
	frames    int
	offsets   []int64
	stats     DecodeStats
	httpZones map[Zone]int // zones of segments on the port asked for that start a request
	decodeErr []error
}

func scanFile(t *testing.T, path string, port layers.TCPPort) fileResult {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer r.Close()
	d := NewDecoder(DecoderOptions{})
	res := fileResult{httpZones: map[Zone]int{}}
	var p Packet
	for {
		f, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d frames: %v", res.frames, err)
		}
		res.frames++
		res.offsets = append(res.offsets, f.Offset)
		ok, err := d.Decode(f, &p)
		if err != nil && len(res.decodeErr) < 5 {
			res.decodeErr = append(res.decodeErr, err)
		}
		if ok && (p.TCP.DstPort == port || p.TCP.SrcPort == port) && isHTTPRequest(p.TCP.Payload) {
			res.httpZones[p.Zone]++
		}
	}
	if st, err := os.Stat(path); err == nil && r.BytesRead() != st.Size() {
		t.Errorf("BytesRead %d at the end, file size %d", r.BytesRead(), st.Size())
	}
	res.stats = d.Stats()
	return res
}

// TestCorpus reads every shared capture to the end, checks the frame count
// against an independent record walk, and that every frame decodes.
func TestCorpus(t *testing.T) {
	dir := corpus.Dir(t, "corpus/pcaps")
	paths, err := Expand([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 50 {
		t.Fatalf("only %d captures found in %s", len(paths), dir)
	}
	for _, path := range paths {
		name, _ := filepath.Rel(dir, path)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			offs, err := recordOffsets(data)
			if err != nil {
				t.Fatalf("independent walk: %v", err)
			}
			res := scanFile(t, path, 80)
			if res.frames != len(offs) {
				t.Errorf("%d frames, independent count %d", res.frames, len(offs))
			} else if !slices.Equal(res.offsets, offs) {
				t.Errorf("frame offsets differ from the independent walk's")
			}
			st := res.stats
			if st.Frames != uint64(res.frames) || st.TCP+st.NonTCP+st.Fragments+st.Errors != st.Frames {
				t.Errorf("stats do not add up: %+v", st)
			}
			if st.Errors != 0 {
				t.Errorf("%d frames failed to decode, e.g. %v", st.Errors, res.decodeErr)
			}
			if st.TCP == 0 {
				t.Errorf("no TCP segment found")
			}
		})
	}
}

// TestCorpusEncapsulations checks that HTTP requests inside the tunnel and
// tagging captures are found, in the right zone (values checked with
// tshark's vlan.id, vxlan.vni, geneve.vni, gre.key and erspan.spanid).
func TestCorpusEncapsulations(t *testing.T) {
	dir := corpus.Dir(t, "corpus/pcaps")
	cases := []struct {
		file  string
		zones []Zone
		port  layers.TCPPort // 0: 80
	}{
		{file: "zeek/tunnels__vxlan-encapsulated-http.pcap", zones: []Zone{{Tunnel: TunnelVXLAN, TunnelID: 1}}},
		{file: "suricata-verify/vxlan-non-zero-reserved-fields__input.pcap", zones: []Zone{{Tunnel: TunnelVXLAN, TunnelID: 11}}},
		{file: "zeek/tunnels__geneve-many-options.pcap", zones: []Zone{{Tunnel: TunnelGeneve, TunnelID: 0x0c012e}}},
		{file: "zeek/tunnels__gre-aruba.pcap", zones: []Zone{{VLAN: 300, Tunnel: TunnelGRE}}},
		{file: "zeek/tunnels__gre-over-udp-4754.pcap", zones: []Zone{{Tunnel: TunnelGRE}}},
		{file: "zeek/erspan.pcap", zones: []Zone{{Tunnel: TunnelGRE}}}, // GRE TEB with key 0, despite the name
		// GRE, ERSPAN II span id 20, then VXLAN VNI 0: the outermost
		// tunnel with an id is ERSPAN.
		{file: "arkime/gre-erspan-vxlan.pcap", zones: []Zone{{Tunnel: TunnelERSPAN, TunnelID: 20}}},
		{file: "ndpi/6in4tunnel.pcap", zones: []Zone{{Tunnel: TunnelIPIP}}},
		// The HTTP in these Teredo captures is native IPv4; the Teredo
		// packets are bubbles and ICMPv6, decoded as non-TCP.
		{file: "zeek/tunnels__Teredo.pcap", zones: []Zone{{}}},
		{file: "suricata-verify/decode-teredo-01__input.pcap", zones: []Zone{{}}},
		{file: "zeek/http-qinq-0.pcap", zones: []Zone{{}}}, // both tags are VLAN 0 (priority tags)
		{file: "zeek/http-vlan-0.pcap", zones: []Zone{{}}},
		{file: "zeek/vlan-qinqinq.pcap", zones: []Zone{{VLAN: 30, InnerVLAN: 20}}},
		{file: "arkime/twovlan.pcap", zones: []Zone{{VLAN: 201, InnerVLAN: 200}}},
		{file: "generated/prism-petstore3-vlan42.pcap", zones: nil}, // not on port 80: checked below
		{file: "zeek/mixed-vlan-mpls.pcap", zones: []Zone{{}, {VLAN: 4093}}},
		{file: "lwerdna-filesamples/simple_http_sll2.pcap", zones: []Zone{{}}, port: 8000},
		{file: "ndpi/quickplay.pcap", zones: []Zone{{}}}, // Linux SLL v1
		{file: "zeek/nflog-http.pcap", zones: []Zone{{}}},
		{file: "arkime/80211http.pcap", zones: []Zone{{}}},
		{file: "suricata-verify/http-ipv6__input.pcap", zones: []Zone{{}}, port: 8000}, // BSD loopback, IPv6
		{file: "zeek/ipv6-http-atomic-frag.pcap", zones: []Zone{{}}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join(dir, c.file)
			if _, err := os.Stat(path); err != nil {
				t.Skipf("not in the corpus: %v", err)
			}
			port := layers.TCPPort(80)
			if c.port != 0 {
				port = c.port
			}
			res := scanFile(t, path, port)
			if c.zones == nil {
				return
			}
			if len(res.httpZones) != len(c.zones) {
				t.Errorf("HTTP requests on port 80 in zones %v, want %v", res.httpZones, c.zones)
			}
			for _, z := range c.zones {
				if res.httpZones[z] == 0 {
					t.Errorf("no HTTP request on port 80 in zone %+v (found %v)", z, res.httpZones)
				}
			}
		})
	}
	t.Run("outer fragments", func(t *testing.T) {
		// tshark: 55 frames are IPv4 fragments of GRE datagrams, 16 of
		// them completing one (-Y "ip.flags.mf==1 || ip.frag_offset>0").
		path := filepath.Join(dir, "zeek/erspan.pcap")
		if _, err := os.Stat(path); err != nil {
			t.Skip(err)
		}
		st := scanFile(t, path, 80).stats
		if st.Fragments != 39 || st.Reassembled != 16 || st.FragmentsDropped != 0 {
			t.Errorf("stats %+v, want 39 fragments held and 16 datagrams rebuilt", st)
		}
	})
	t.Run("vlan42", func(t *testing.T) {
		path := filepath.Join(dir, "generated/prism-petstore3-vlan42.pcap")
		if _, err := os.Stat(path); err != nil {
			t.Skip(err)
		}
		r, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		d := NewDecoder(DecoderOptions{})
		var p Packet
		requests := 0
		for {
			f, err := r.Next()
			if err != nil {
				break
			}
			if ok, _ := d.Decode(f, &p); ok {
				if p.Zone != (Zone{VLAN: 42}) {
					t.Fatalf("zone %+v", p.Zone)
				}
				if isHTTPRequest(p.TCP.Payload) {
					requests++
				}
			}
		}
		if requests == 0 || !strings.Contains(path, "vlan42") {
			t.Errorf("no request found")
		}
	})
}

// TestCorpusTCPCounts compares the TCP segments decoded per capture with
// tshark's count (testdata/tshark_tcp_counts.tsv, command in its header): the
// decoder must find every segment tshark finds, through every link type and
// tunnel, and no more.
func TestCorpusTCPCounts(t *testing.T) {
	dir := corpus.Dir(t, "corpus/pcaps")
	ref, err := os.ReadFile("testdata/tshark_tcp_counts.tsv")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(ref), "\n") {
		name, count, ok := strings.Cut(line, "\t")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		want, err := strconv.Atoi(count)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if _, err := os.Stat(path); err != nil {
				t.Skip(err)
			}
			if st := scanFile(t, path, 80).stats; st.TCP != uint64(want) {
				t.Errorf("%d TCP segments, tshark %d (stats %+v)", st.TCP, want, st)
			}
		})
		n++
	}
	if n < 50 {
		t.Errorf("only %d reference counts", n)
	}
}

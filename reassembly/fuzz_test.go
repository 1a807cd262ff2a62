package reassembly_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/specter-dev/specter/capture"
	"github.com/specter-dev/specter/reassembly"
)

// frame builds an Ethernet/IPv4/TCP frame of the connection between
// 10.0.0.1:40000 and 10.0.0.2:80.
func frame(tb testing.TB, fromClient bool, seq, ack uint32, flags string, payload string) []byte {
	tb.Helper()
	return tcpFrame(tb, 40000, fromClient, seq, ack, flags, payload)
}

// tcpFrame builds an Ethernet/IPv4/TCP frame between 10.0.0.1:port and
// 10.0.0.2:80; flags holds S, A, F and R.
func tcpFrame(tb testing.TB, port uint16, fromClient bool, seq, ack uint32, flags string, payload string) []byte {
	tb.Helper()
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: []byte{10, 0, 0, 1}, DstIP: []byte{10, 0, 0, 2}}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(port), DstPort: 80, Seq: seq, Ack: ack, Window: 1000}
	if !fromClient {
		ip.SrcIP, ip.DstIP = ip.DstIP, ip.SrcIP
		tcp.SrcPort, tcp.DstPort = tcp.DstPort, tcp.SrcPort
	}
	for _, f := range flags {
		switch f {
		case 'S':
			tcp.SYN = true
		case 'A':
			tcp.ACK = true
		case 'F':
			tcp.FIN = true
		case 'R':
			tcp.RST = true
		}
	}
	_ = tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	eth := &layers.Ethernet{SrcMAC: make([]byte, 6), DstMAC: make([]byte, 6), EthernetType: layers.EthernetTypeIPv4}
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzPipeline feeds arbitrary frames (2-byte length prefixed) through the
// decoder and the pipeline: nothing may panic or hang, whatever the order,
// flags, sequence numbers or payloads.
func FuzzPipeline(f *testing.F) {
	req := "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
	resp := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	seeds := [][]byte{
		frame(f, true, 100, 0, "S", ""),
		frame(f, false, 500, 101, "SA", ""),
		frame(f, true, 101, 501, "A", req),
		frame(f, false, 501, 101+uint32(len(req)), "A", resp),
		frame(f, true, 101+uint32(len(req)), 501+uint32(len(resp)), "FA", ""),
	}
	var all []byte
	for _, s := range seeds {
		all = binary.BigEndian.AppendUint16(all, uint16(len(s)))
		all = append(all, s...)
	}
	f.Add(all)
	// Out of order and duplicated.
	var shuffled []byte
	for _, i := range []int{0, 2, 1, 3, 3, 2, 4} {
		shuffled = binary.BigEndian.AppendUint16(shuffled, uint16(len(seeds[i])))
		shuffled = append(shuffled, seeds[i]...)
	}
	f.Add(shuffled)
	// HTTP/2: prior knowledge, an h2c upgrade, and a capture that starts
	// mid-connection (frames, no preface).
	cl, sv := newH2(f), newH2(f)
	pre := cl.preface().headers(1, true, ":method", "GET", ":scheme", "http", ":authority", "h", ":path", "/a").take()
	ans := sv.settings().headers(1, false, ":status", "200").data(1, true, "ok").take()
	up := "GET /u HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n"
	sw := "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n" + ans
	mid := newH2(f).headers(7, true, ":method", "GET", ":scheme", "http", ":authority", "h", ":path", "/m").take()
	for _, conv := range [][2]string{{pre, ans}, {up, sw}, {mid, ""}} {
		seeds := [][]byte{frame(f, true, 100, 0, "S", ""), frame(f, false, 500, 101, "SA", ""),
			frame(f, true, 101, 501, "A", conv[0]), frame(f, false, 501, 101+uint32(len(conv[0])), "A", conv[1])}
		if conv[0] == mid {
			seeds = seeds[2:]
		}
		var all []byte
		for _, s := range seeds {
			all = binary.BigEndian.AppendUint16(all, uint16(len(s)))
			all = append(all, s...)
		}
		f.Add(all)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := reassembly.DefaultConfig()
		cfg.Workers = 2
		cfg.MaxConnections = 4
		cfg.MaxHalfOpen = 2
		cfg.MaxPagesPerConn = 4
		cfg.MaxPagesTotal = 16
		n := 0
		p := reassembly.New(cfg, func(*reassembly.Exchange) { n++ })
		dec := capture.NewDecoder(capture.DecoderOptions{})
		var pkt capture.Packet
		ts := time.Unix(1000, 0)
		for len(data) >= 2 {
			l := int(binary.BigEndian.Uint16(data))
			data = data[2:]
			if l > len(data) {
				l = len(data)
			}
			fr := capture.Frame{Data: data[:l], LinkType: layers.LinkTypeEthernet}
			fr.Info.Timestamp = ts
			fr.Info.CaptureLength, fr.Info.Length = l, l
			ts = ts.Add(time.Duration(l) * time.Millisecond)
			data = data[l:]
			if ok, _ := dec.Decode(fr, &pkt); ok {
				p.Add(&pkt)
			}
		}
		st := p.Close()
		if uint64(n) != st.Exchanges {
			t.Fatalf("delivered %d exchanges, counted %d", n, st.Exchanges)
		}
	})
}

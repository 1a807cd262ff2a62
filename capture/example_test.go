package capture_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/specter-dev/specter/capture"
)

// writeExample writes a one-frame pcap: an HTTP request in VXLAN.
func writeExample(path string) error {
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true},
		&layers.Ethernet{EthernetType: layers.EthernetTypeIPv4, SrcMAC: make([]byte, 6), DstMAC: make([]byte, 6)},
		&layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: []byte{192, 0, 2, 1}, DstIP: []byte{192, 0, 2, 2}},
		&layers.UDP{SrcPort: 40000, DstPort: 4789},
		&layers.VXLAN{ValidIDFlag: true, VNI: 42},
		&layers.Ethernet{EthernetType: layers.EthernetTypeIPv4, SrcMAC: make([]byte, 6), DstMAC: make([]byte, 6)},
		&layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: []byte{10, 0, 0, 1}, DstIP: []byte{10, 0, 0, 2}},
		&layers.TCP{SrcPort: 51000, DstPort: 80, Seq: 1, PSH: true, ACK: true, DataOffset: 5},
		gopacket.Payload("GET /users/7 HTTP/1.1\r\n\r\n"))
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return err
	}
	data := buf.Bytes()
	return w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(0, 0), CaptureLength: len(data), Length: len(data)}, data)
}

func Example() {
	dir, err := os.MkdirTemp("", "capture-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := writeExample(filepath.Join(dir, "mirror.pcap")); err != nil {
		log.Fatal(err)
	}

	paths, err := capture.Expand([]string{dir})
	if err != nil {
		log.Fatal(err)
	}
	d := capture.NewDecoder(capture.DecoderOptions{})
	var p capture.Packet
	for _, path := range paths {
		r, err := capture.Open(path)
		if err != nil {
			log.Fatal(err)
		}
		for {
			f, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				log.Print(err) // a *capture.FormatError: frames before it were returned
				break
			}
			if ok, _ := d.Decode(f, &p); ok {
				fmt.Printf("%s:%d -> %s:%d zone=%s/%d %q\n", p.Src, p.TCP.SrcPort, p.Dst, p.TCP.DstPort,
					p.Zone.Tunnel, p.Zone.TunnelID, p.TCP.Payload[:12])
			}
		}
		r.Close()
	}
	fmt.Printf("%+v\n", d.Stats())
	// Output:
	// 10.0.0.1:51000 -> 10.0.0.2:80 zone=vxlan/42 "GET /users/7"
	// {Frames:1 Bytes:129 TCP:1 NonTCP:0 Fragments:0 Reassembled:0 FragmentsDropped:0 Errors:0 UnsupportedLink:0}
}

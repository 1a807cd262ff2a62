package synth

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/specter-dev/specter/capture"
)

// WrapVXLAN writes to out a copy of the capture at in with every frame
// inside VXLAN (network id vni) over UDP 4789 between two sensor-side
// addresses, as AWS VPC Traffic Mirroring delivers mirrored traffic.
func WrapVXLAN(in, out string, vni uint32) error {
	rd, err := capture.Open(in)
	if err != nil {
		return err
	}
	defer rd.Close()
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	err = wrapVXLAN(rd, pcapgo.NewWriter(bw), vni)
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", out, err)
	}
	return nil
}

func wrapVXLAN(rd *capture.Reader, w *pcapgo.Writer, vni uint32) error {
	if err := w.WriteFileHeader(262144, layers.LinkTypeEthernet); err != nil {
		return err
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	for {
		fr, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IPv4(10, 99, 0, 1), DstIP: net.IPv4(10, 99, 0, 2)}
		udp := &layers.UDP{SrcPort: 49152, DstPort: 4789}
		if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
			return err
		}
		vx := &layers.VXLAN{ValidIDFlag: true, VNI: vni}
		if err := gopacket.SerializeLayers(buf, opts, eth, ip, udp, vx, gopacket.Payload(fr.Data)); err != nil {
			return err
		}
		ci := fr.Info
		ci.CaptureLength = len(buf.Bytes())
		ci.Length = ci.CaptureLength
		if err := w.WritePacket(ci, buf.Bytes()); err != nil {
			return err
		}
	}
}

package capture

import (
	"bytes"
	"io"
	"os"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/specter-dev/specter/capture/corpus"
)

func benchDecode(b *testing.B, frame []byte) {
	d := NewDecoder(DecoderOptions{})
	var p Packet
	f := Frame{Data: frame, LinkType: layers.LinkTypeEthernet, Info: gopacket.CaptureInfo{Timestamp: time.Unix(1, 0), CaptureLength: len(frame), Length: len(frame)}}
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	b.ResetTimer()
	for b.Loop() {
		if ok, err := d.Decode(f, &p); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/s, "packets/s")
	b.ReportMetric(float64(b.N)*float64(len(frame))/s/1e6, "MB/s")
}

func BenchmarkDecodeEthernetIPv4TCP(b *testing.B) {
	benchDecode(b, serialize(b, stack(eth(layers.EthernetTypeIPv4), inner(false))...))
}

func BenchmarkDecodeVXLAN(b *testing.B) {
	benchDecode(b, serialize(b, stack(eth(layers.EthernetTypeIPv4), outer4(layers.IPProtocolUDP), udp(4789),
		&layers.VXLAN{ValidIDFlag: true, VNI: 5001}, eth(layers.EthernetTypeIPv4), inner(false))...))
}

func BenchmarkReaderNext(b *testing.B) {
	// 20000 frames of 1400 bytes: ~28 MB, as a file of full-size segments.
	frame := serialize(b, stack(eth(layers.EthernetTypeIPv4), inner(false))...)
	frame = append(frame, make([]byte, 1400-len(frame))...)
	frames := make([][]byte, 20000)
	for i := range frames {
		frames[i] = frame
	}
	data := writePcap(b, frames, layers.LinkTypeEthernet, false)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	packets := 0
	for b.Loop() {
		r, err := OpenReader(bytes.NewReader(data), "bench")
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			packets++
		}
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(packets)/s, "packets/s")
	b.ReportMetric(float64(b.N)*float64(len(data))/s/1e6, "MB/s")
}

// BenchmarkCorpusReadDecode opens, reads and decodes every shared capture
// (from the page cache): the whole file path per byte of real traffic.
func BenchmarkCorpusReadDecode(b *testing.B) {
	dir := corpus.Dir(b, "corpus/pcaps")
	paths, err := Expand([]string{dir})
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			b.Fatal(err)
		}
		total += st.Size()
	}
	b.ReportAllocs()
	b.SetBytes(total)
	packets := 0
	var p Packet
	for b.Loop() {
		for _, path := range paths {
			r, err := Open(path)
			if err != nil {
				b.Fatal(err)
			}
			d := NewDecoder(DecoderOptions{})
			for {
				f, err := r.Next()
				if err != nil {
					break
				}
				d.Decode(f, &p)
				packets++
			}
			r.Close()
		}
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(packets)/s, "packets/s")
	b.ReportMetric(float64(b.N)*float64(total)/s/1e6, "MB/s")
}

func BenchmarkReaderNextGzip(b *testing.B) {
	frame := serialize(b, stack(eth(layers.EthernetTypeIPv4), inner(false))...)
	frames := make([][]byte, 20000)
	for i := range frames {
		// Varied bytes, so that compression is not trivial.
		f := append(bytes.Clone(frame), make([]byte, 600)...)
		for j := len(frame); j < len(f); j++ {
			f[j] = byte(j * i >> 3)
		}
		frames[i] = f
	}
	raw := writePcap(b, frames, layers.LinkTypeEthernet, false)
	data := gzipBytes(raw)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	packets := 0
	for b.Loop() {
		r, err := OpenReader(bytes.NewReader(data), "bench")
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.Next(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
			packets++
		}
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(packets)/s, "packets/s")
	b.ReportMetric(float64(b.N)*float64(len(raw))/s/1e6, "MB/s")
}

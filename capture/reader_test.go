package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// testFrames returns n distinct frames of varying length.
func testFrames(n int) [][]byte {
	var out [][]byte
	for i := range n {
		f := make([]byte, 40+i*7%300)
		for j := range f {
			f[j] = byte(i + j)
		}
		out = append(out, f)
	}
	return out
}

func frameTime(i int) time.Time { return time.Unix(1700000000+int64(i), int64(i)*1000).UTC() }

// writePcap writes frames as a little-endian pcap (nanosecond if nanos).
func writePcap(t testing.TB, frames [][]byte, lt layers.LinkType, nanos bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if nanos {
		w = pcapgo.NewWriterNanos(&buf)
	}
	if err := w.WriteFileHeader(65535, lt); err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: frameTime(i), CaptureLength: len(f), Length: len(f) + 10}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// swapPcap converts a little-endian pcap to big-endian, field by field.
func swapPcap(le []byte) []byte {
	be := bytes.Clone(le)
	sw32 := func(b []byte) { binary.BigEndian.PutUint32(b, binary.LittleEndian.Uint32(b)) }
	sw16 := func(b []byte) { binary.BigEndian.PutUint16(b, binary.LittleEndian.Uint16(b)) }
	sw32(be[0:])
	sw16(be[4:])
	sw16(be[6:])
	for _, o := range []int{8, 12, 16, 20} {
		sw32(be[o:])
	}
	for off := 24; off+16 <= len(be); {
		caplen := int(binary.LittleEndian.Uint32(le[off+8:]))
		for o := 0; o < 16; o += 4 {
			sw32(be[off+o:])
		}
		off += 16 + caplen
	}
	return be
}

func writePcapNG(t testing.TB, frames [][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{Name: "eth0", LinkType: layers.LinkTypeEthernet, SnapLength: 65535}, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	// A second interface with another link type: each frame must carry
	// its own interface's link type.
	if _, err := w.AddInterface(pcapgo.NgInterface{Name: "tun0", LinkType: layers.LinkTypeRaw, SnapLength: 65535}); err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: frameTime(i), CaptureLength: len(f), Length: len(f) + 10, InterfaceIndex: i % 2}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type readResult struct {
	frames  [][]byte
	lts     []layers.LinkType
	times   []time.Time
	offsets []int64
	err     error // nil at a clean io.EOF
}

func readAll(t testing.TB, r *Reader) readResult {
	t.Helper()
	var res readResult
	for i := 0; ; i++ {
		f, err := r.Next()
		if err != nil {
			if err != io.EOF {
				res.err = err
			}
			// The error is sticky.
			if _, err2 := r.Next(); err2 != err {
				t.Errorf("second Next after error = %v, want %v", err2, err)
			}
			return res
		}
		if i > 1e6 {
			t.Fatal("reader does not terminate")
		}
		res.frames = append(res.frames, bytes.Clone(f.Data))
		res.lts = append(res.lts, f.LinkType)
		res.times = append(res.times, f.Info.Timestamp)
		res.offsets = append(res.offsets, f.Offset)
	}
}

// pcapOffsets returns the record offsets of frames in a pcap file.
func pcapOffsets(frames [][]byte) []int64 {
	var out []int64
	off := int64(24)
	for _, f := range frames {
		out = append(out, off)
		off += 16 + int64(len(f))
	}
	return out
}

func TestReaderFormats(t *testing.T) {
	frames := testFrames(50)
	pcapLE := writePcap(t, frames, layers.LinkTypeEthernet, false)
	pcapNs := writePcap(t, frames, layers.LinkTypeEthernet, true)
	ng := writePcapNG(t, frames)
	dir := t.TempDir()
	cases := []struct {
		name       string
		data       []byte
		format     Format
		compressed bool
		nanos      bool
	}{
		{"pcap usec le", pcapLE, FormatPcap, false, false},
		{"pcap usec be", swapPcap(pcapLE), FormatPcap, false, false},
		{"pcap nsec le", pcapNs, FormatPcap, false, true},
		{"pcap nsec be", swapPcap(pcapNs), FormatPcap, false, true},
		{"pcapng", ng, FormatPcapNG, false, true},
		{"pcap gz", gzipBytes(pcapLE), FormatPcap, true, false},
		{"pcapng gz", gzipBytes(ng), FormatPcapNG, true, true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A misleading extension: detection is by magic.
			path := writeFile(t, dir, fmt.Sprintf("f%d.txt", i), c.data)
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if r.Format() != c.format || r.Compressed() != c.compressed || r.Name() != path || r.Size() != int64(len(c.data)) {
				t.Errorf("format %v compressed %v name %q size %d", r.Format(), r.Compressed(), r.Name(), r.Size())
			}
			res := readAll(t, r)
			if r.LinkType() != layers.LinkTypeEthernet {
				t.Errorf("link type %v", r.LinkType())
			}
			if res.err != nil {
				t.Fatal(res.err)
			}
			if len(res.frames) != len(frames) {
				t.Fatalf("%d frames, want %d", len(res.frames), len(frames))
			}
			for i := range frames {
				if !bytes.Equal(res.frames[i], frames[i]) {
					t.Fatalf("frame %d differs", i)
				}
				want := frameTime(i)
				if !c.nanos {
					want = want.Truncate(time.Microsecond)
				}
				if !res.times[i].Equal(want) {
					t.Errorf("frame %d time %v, want %v", i, res.times[i], want)
				}
				wantLT := layers.LinkTypeEthernet
				if c.format == FormatPcapNG && i%2 == 1 {
					wantLT = layers.LinkTypeRaw
				}
				if res.lts[i] != wantLT {
					t.Errorf("frame %d link type %v, want %v", i, res.lts[i], wantLT)
				}
			}
			if c.format == FormatPcap && !slices.Equal(res.offsets, pcapOffsets(frames)) {
				t.Errorf("offsets %v, want %v", res.offsets, pcapOffsets(frames))
			}
			if c.format == FormatPcapNG {
				// The packet blocks, found by an independent walk.
				want, err := recordOffsets(ng)
				if err != nil || !slices.Equal(res.offsets, want) {
					t.Errorf("offsets %v, want %v (%v)", res.offsets, want, err)
				}
			}
			if r.BytesRead() != int64(len(c.data)) {
				t.Errorf("BytesRead %d, want %d", r.BytesRead(), len(c.data))
			}
		})
	}
}

func TestReaderStdin(t *testing.T) {
	frames := testFrames(5)
	data := writePcap(t, frames, layers.LinkTypeRaw, false)
	t.Run("OpenReader", func(t *testing.T) {
		r, err := OpenReader(bytes.NewReader(gzipBytes(data)), "pipe")
		if err != nil {
			t.Fatal(err)
		}
		if res := readAll(t, r); res.err != nil || len(res.frames) != 5 || r.Size() != -1 || r.LinkType() != layers.LinkTypeRaw {
			t.Errorf("frames %d err %v size %d", len(res.frames), res.err, r.Size())
		}
	})
	t.Run("dash", func(t *testing.T) {
		path := writeFile(t, t.TempDir(), "in.pcap", data)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		old := os.Stdin
		os.Stdin = f
		defer func() { os.Stdin = old }()
		r, err := Open("-")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if res := readAll(t, r); res.err != nil || len(res.frames) != 5 || r.Name() != "stdin" {
			t.Errorf("frames %d err %v name %q", len(res.frames), res.err, r.Name())
		}
	})
}

func TestReaderDamaged(t *testing.T) {
	frames := testFrames(20)
	good := writePcap(t, frames, layers.LinkTypeEthernet, false)
	offs := pcapOffsets(frames)
	lastOff := offs[len(offs)-1]
	ngGood := writePcapNG(t, frames)

	cases := []struct {
		name       string
		data       []byte
		wantFrames int   // frames returned before the error
		wantOffset int64 // -1: any record offset of the file
		wantIn     string
	}{
		{"cut mid record data", good[:len(good)-5], 19, lastOff, "truncated packet record: unexpected EOF"},
		{"cut mid record header", good[:lastOff+9], 19, lastOff, "truncated packet record: unexpected EOF"},
		{"cut mid file header", good[:10], 0, 0, "pcap file header: unexpected EOF"},
		{"gzip stream cut", gzipBytes(good)[:len(gzipBytes(good))/2], -1, -1, "unexpected EOF"},
		{"pcapng cut", ngGood[:len(ngGood)-7], -1, -2, "unexpected EOF"},
	}
	dir := t.TempDir()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, dir, fmt.Sprintf("bad%d.pcap", i), c.data)
			r, err := Open(path)
			var res readResult
			if err == nil {
				res = readAll(t, r)
				r.Close()
				err = res.err
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T), want *FormatError", err, err)
			}
			if fe.File != path || !strings.Contains(err.Error(), c.wantIn) || !strings.HasPrefix(err.Error(), fmt.Sprintf("%s: offset %d: ", path, fe.Offset)) {
				t.Errorf("error %q: want file %s and %q", err, path, c.wantIn)
			}
			if c.wantIn == "truncated packet record: unexpected EOF" && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("%v does not unwrap to io.ErrUnexpectedEOF", err)
			}
			if c.wantFrames >= 0 && len(res.frames) != c.wantFrames {
				t.Errorf("%d frames before the error, want %d", len(res.frames), c.wantFrames)
			}
			for j, f := range res.frames {
				if !bytes.Equal(f, frames[j]) {
					t.Fatalf("frame %d before the error differs", j)
				}
			}
			switch {
			case c.wantOffset >= 0:
				if fe.Offset != c.wantOffset {
					t.Errorf("offset %d, want %d", fe.Offset, c.wantOffset)
				}
			case c.wantOffset == -1:
				// The error is at the record after the last one returned.
				if len(res.frames) >= len(frames) || fe.Offset != offs[len(res.frames)] {
					t.Errorf("offset %d after %d frames, want %v", fe.Offset, len(res.frames), offs)
				}
			default:
				if fe.Offset <= 0 || fe.Offset >= int64(len(c.data)) {
					t.Errorf("offset %d outside the file", fe.Offset)
				}
			}
		})
	}
}

func TestReaderNotCapture(t *testing.T) {
	dir := t.TempDir()
	good := writePcap(t, testFrames(1), layers.LinkTypeEthernet, false)
	flipped := bytes.Clone(good)
	flipped[0] ^= 0xff
	cases := []struct {
		name, data, want string
	}{
		{"readme", "# Public capture corpus\n", "not a pcap or pcapng file (magic 23 20 50 75)"},
		{"flipped magic", string(flipped), "(magic 2b c3 b2 a1)"},
		{"empty", "", "empty file"},
		{"gzip of text", string(gzipBytes([]byte("hello world"))), "(magic 68 65 6c 6c)"},
		{"short", "\xd4\xc3", "(magic d4 c3)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, dir, c.name, []byte(c.data))
			_, err := Open(path)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Open error %v, want it to name %s and contain %q", err, path, c.want)
			}
			if c.name != "empty" && !errors.Is(err, ErrNotCapture) {
				t.Errorf("%v is not ErrNotCapture", err)
			}
		})
	}
	if _, err := Open(filepath.Join(dir, "missing.pcap")); err == nil || !strings.Contains(err.Error(), "missing.pcap") {
		t.Errorf("Open of a missing file: %v", err)
	}
}

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	pcap := writePcap(t, testFrames(2), layers.LinkTypeEthernet, false)
	writeFile(t, dir, "b/two.pcap", pcap)
	writeFile(t, dir, "a/one.pcapng", writePcapNG(t, testFrames(2)))
	writeFile(t, dir, "a/z/deep.cap.gz", gzipBytes(pcap))
	writeFile(t, dir, "README.md", []byte("# readme"))
	writeFile(t, dir, "counts.tsv", []byte("path\tn\n"))
	writeFile(t, dir, "a/notes.gz", gzipBytes([]byte("not a capture")))
	writeFile(t, dir, "a/empty.pcap", nil)
	single := writeFile(t, t.TempDir(), "kept.txt", []byte("kept even if not a capture"))
	if err := os.Symlink(filepath.Join(dir, "b/two.pcap"), filepath.Join(dir, "b/link.pcap")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dir, filepath.Join(dir, "b/loop")); err != nil {
		t.Fatal(err)
	}

	got, err := Expand([]string{dir, "-", single})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		filepath.Join(dir, "a/one.pcapng"),
		filepath.Join(dir, "a/z/deep.cap.gz"),
		filepath.Join(dir, "b/link.pcap"),
		filepath.Join(dir, "b/two.pcap"),
		"-", single,
	}
	if !slices.Equal(got, want) {
		t.Errorf("Expand = %q\nwant %q", got, want)
	}
	missing := filepath.Join(dir, "nope")
	if _, err := Expand([]string{dir, missing}); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Expand of a missing path: %v", err)
	}
}

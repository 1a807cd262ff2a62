package bpf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

// rec builds a record as the kernel lays it out.
type rec struct {
	kind, dir, flags, family uint8
	pid, tid                 uint32
	fd                       int32
	conn, cgroup, ts         uint64
	len                      uint32
	lport, rport             uint16
	laddr, raddr             [16]byte
	comm                     string
	data                     []byte
}

func (r rec) bytes() []byte {
	b := make([]byte, headerSize+len(r.data))
	le := binary.LittleEndian
	b[offKind], b[offDir], b[offFlags], b[offFamily] = r.kind, r.dir, r.flags, r.family
	le.PutUint32(b[offPID:], r.pid)
	le.PutUint32(b[offTID:], r.tid)
	le.PutUint32(b[offFD:], uint32(r.fd))
	le.PutUint64(b[offConn:], r.conn)
	le.PutUint64(b[offCgroup:], r.cgroup)
	le.PutUint64(b[offTime:], r.ts)
	le.PutUint32(b[offLen:], r.len)
	le.PutUint32(b[offCapLen:], uint32(len(r.data)))
	le.PutUint16(b[offLport:], r.lport)
	le.PutUint16(b[offRport:], r.rport)
	copy(b[offLaddr:], r.laddr[:])
	copy(b[offRaddr:], r.raddr[:])
	copy(b[offComm:offComm+15], r.comm)
	copy(b[headerSize:], r.data)
	return b
}

func TestDecodeRecord(t *testing.T) {
	boot := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	v4 := func(a, b, c, d byte) (x [16]byte) { x[0], x[1], x[2], x[3] = a, b, c, d; return }
	mapped := [16]byte{10: 0xff, 11: 0xff, 12: 10, 13: 0, 14: 0, 15: 7}
	v6 := [16]byte{0: 0x20, 1: 0x01, 2: 0x0d, 3: 0xb8, 15: 1}
	for _, tc := range []struct {
		name string
		in   []byte
		want Chunk
		err  bool
	}{
		{"ipv4 data", rec{kind: 0, dir: 1, family: afInet, pid: 10, tid: 11, fd: 3, conn: 7, cgroup: 99, ts: 1500, len: 5,
			lport: 8080, rport: 40000, laddr: v4(127, 0, 0, 1), raddr: v4(127, 0, 0, 2), comm: "python3", data: []byte("hello")}.bytes(),
			Chunk{Kind: KindData, Dir: Egress, PID: 10, TID: 11, FD: 3, Conn: 7, Cgroup: 99, Time: boot.Add(1500), Len: 5, Comm: "python3",
				Local: netip.MustParseAddrPort("127.0.0.1:8080"), Remote: netip.MustParseAddrPort("127.0.0.2:40000"), Data: []byte("hello")}, false},
		{"ipv6 tls truncated", rec{flags: flagTLS | flagTruncated, family: afInet6, len: 40000, lport: 443, rport: 1,
			laddr: v6, raddr: mapped, comm: "fifteen-chars-x", data: []byte("abc")}.bytes(),
			Chunk{TLS: true, Truncated: true, Len: 40000, Time: boot, Comm: "fifteen-chars-x",
				Local: netip.MustParseAddrPort("[2001:db8::1]:443"), Remote: netip.MustParseAddrPort("10.0.0.7:1"), Data: []byte("abc")}, false},
		{"len beyond data is truncated", rec{len: 9, data: []byte("abc")}.bytes(),
			Chunk{Len: 9, Truncated: true, Time: boot, Data: []byte("abc")}, false},
		{"open event, unknown family", rec{kind: 1, family: 1, conn: 4}.bytes(), Chunk{Kind: KindOpen, Conn: 4, Time: boot}, false},
		{"close", rec{kind: 2, fd: -1}.bytes(), Chunk{Kind: KindClose, FD: -1, Time: boot}, false},
		{"short", make([]byte, headerSize-1), Chunk{}, true},
		{"bad kind", rec{kind: 3}.bytes(), Chunk{}, true},
		{"bad dir", rec{dir: 2}.bytes(), Chunk{}, true},
		{"len below data", rec{len: 1, data: []byte("ab")}.bytes(), Chunk{}, true},
		{"cap_len mismatch", append(rec{len: 2, data: []byte("ab")}.bytes(), 'c'), Chunk{}, true},
		{"over MaxChunk", rec{len: MaxChunk + 1, data: make([]byte, MaxChunk+1)}.bytes(), Chunk{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got Chunk
			err := decodeRecord(tc.in, boot, nil, &got)
			if (err != nil) != tc.err {
				t.Fatalf("error %v, want error: %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if !bytes.Equal(got.Data, tc.want.Data) {
				t.Errorf("data %q, want %q", got.Data, tc.want.Data)
			}
			got.Data, tc.want.Data = nil, nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestDecodeRecordCopies(t *testing.T) {
	b := rec{len: 3, data: []byte("abc")}.bytes()
	var c Chunk
	if err := decodeRecord(b, time.Time{}, nil, &c); err != nil {
		t.Fatal(err)
	}
	b[headerSize] = 'X'
	if string(c.Data) != "abc" {
		t.Errorf("Data aliases the ring record: %q", c.Data)
	}
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add(rec{family: afInet, len: 5, comm: "curl", data: []byte("hello")}.bytes())
	f.Add(rec{kind: 1, family: afInet6, flags: 3}.bytes())
	f.Add(rec{kind: 2}.bytes())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var c Chunk
		if err := decodeRecord(b, time.Time{}, nil, &c); err != nil {
			return
		}
		if len(c.Data) > MaxChunk || len(c.Data) > c.Len || len(c.Data) != len(b)-headerSize {
			t.Fatalf("data %d bytes, Len %d, record %d bytes", len(c.Data), c.Len, len(b))
		}
		if c.Kind > KindClose || c.Dir > Egress || len(c.Comm) > 16 {
			t.Fatalf("decoded out of range: %+v", c)
		}
	})
}

// BenchmarkDecodeRecord decodes records of 512 and of 150 bytes (a
// loopback HTTP benchmark's), one by one (a copy of the data each) and into
// batches, as ReadBatch does.
func BenchmarkDecodeRecord(b *testing.B) {
	for _, size := range []int{512, 150} {
		r := rec{family: afInet, len: uint32(size), comm: "nginx", data: bytes.Repeat([]byte("x"), size)}.bytes()
		cc := make(commCache)
		var c Chunk
		var bt Batch
		for _, bc := range []struct {
			name   string
			decode func() error
		}{
			{"one", func() error { return decodeRecord(r, time.Time{}, cc, &c) }},
			{"batch", func() error {
				if bt.Full() || bt.buf == nil {
					bt.Reset()
				}
				return bt.decode(r, time.Time{}, cc)
			}},
		} {
			b.Run(fmt.Sprintf("%dB/%s", size, bc.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := bc.decode(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)*float64(len(r))/b.Elapsed().Seconds()/1e6, "MB/s")
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}

// TestBatch: a batch decodes records as decodeRecord does, copies their
// data into its buffer, leaves malformed records out, and is Full before a
// chunk could not fit.
func TestBatch(t *testing.T) {
	var b Batch
	b.Reset()
	good := rec{family: afInet, len: 5, comm: "curl", data: []byte("hello")}.bytes()
	if err := b.decode(good, time.Time{}, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.decode(good[:headerSize-1], time.Time{}, nil); err == nil {
		t.Fatal("a short record decoded")
	}
	if err := b.decode(rec{kind: 2}.bytes(), time.Time{}, nil); err != nil {
		t.Fatal(err)
	}
	var want Chunk
	if err := decodeRecord(good, time.Time{}, nil, &want); err != nil {
		t.Fatal(err)
	}
	good[headerSize] = 'X'
	if len(b.Chunks) != 2 || !reflect.DeepEqual(b.Chunks[0], want) || b.Chunks[1].Kind != KindClose || b.Chunks[1].Data != nil {
		t.Fatalf("batch %+v, want [%+v, close]", b.Chunks, want)
	}
	c := b.Chunks[0]
	c.Data = bytes.Repeat([]byte("y"), MaxChunk)
	n := 2
	for !b.Full() {
		b.Add(&c)
		n++
	}
	if n > BatchChunks || cap(b.buf) != BatchBytes || len(b.buf) > BatchBytes-MaxChunk+5 {
		t.Errorf("%d chunks, buffer %d of %d bytes", n, len(b.buf), cap(b.buf))
	}
	if string(b.Chunks[0].Data) != "hello" {
		t.Errorf("first chunk's data overwritten: %q", b.Chunks[0].Data[:8])
	}
	b.Reset()
	if len(b.Chunks) != 0 || b.Full() {
		t.Errorf("after Reset: %d chunks, full %v", len(b.Chunks), b.Full())
	}
}

func TestCommCache(t *testing.T) {
	cc := make(commCache)
	a := cc.intern([]byte("nginx"))
	if b := cc.intern([]byte("nginx")); a != b || len(cc) != 1 {
		t.Errorf("intern twice: %q %q, %d entries", a, b, len(cc))
	}
	for i := range maxComms + 10 {
		cc.intern([]byte{byte(i), byte(i >> 8)})
	}
	if len(cc) > maxComms {
		t.Errorf("cache grew to %d entries, bound %d", len(cc), maxComms)
	}
	var none commCache
	if s := none.intern([]byte("curl")); s != "curl" {
		t.Errorf("nil cache: %q", s)
	}
}

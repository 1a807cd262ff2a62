package http2

import (
	"bytes"
	"testing"
	"time"

	"golang.org/x/net/http2/hpack"
)

// FuzzConn: any bytes, split into two directions and segments by the
// fuzzer's choice, never panic, never loop, and stay within the bounds.
func FuzzConn(f *testing.F) {
	var b bytes.Buffer
	b.WriteString(Preface)
	b.Write([]byte{0, 0, 0, frameSettings, 0, 0, 0, 0, 0})
	hb := []byte{0, 0, 0, frameHeaders, flagEndHeaders | flagEndStream, 0, 0, 0, 1}
	var blk bytes.Buffer
	enc := hpack.NewEncoder(&blk)
	for _, kv := range [][2]string{{":method", "POST"}, {":path", "/p.S/M"}, {"content-type", "application/grpc"}} {
		enc.WriteField(hpack.HeaderField{Name: kv[0], Value: kv[1]})
	}
	hb[2] = byte(blk.Len())
	b.Write(hb)
	b.Write(blk.Bytes())
	b.Write([]byte{0, 0, 7, frameData, flagEndStream | flagPadded, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0})
	f.Add(b.Bytes(), uint16(5), uint8(3))
	f.Add([]byte{0, 0, 4, frameHeaders, flagPadded | flagEndHeaders, 0, 0, 0, 3, 9, 0x82, 0xbe, 0xff}, uint16(3), uint8(1))
	f.Add(bytes.Repeat([]byte{0, 0, 1, frameContinuation, 0, 0, 0, 0, 1, 0x82}, 20), uint16(7), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, split uint16, seg uint8) {
		cfg := DefaultConfig()
		cfg.MaxHeaderBlock, cfg.MaxFrame, cfg.MaxStreams, cfg.MaxBody = 512, 512, 8, 64
		n := 0
		c := NewConn(&cfg, HandlerFunc(func(x *Exchange) {
			n++
			for _, m := range []*Message{x.Request, x.Response} {
				if m != nil && len(m.Body) > cfg.MaxBody {
					t.Fatalf("body %d over the cap", len(m.Body))
				}
			}
		}))
		cut := int(split) % (len(data) + 1)
		dirs := [2][]byte{data[:cut], data[cut:]}
		step := int(seg)%17 + 1
		ts := time.Unix(1, 0)
		for i := 0; len(dirs[0]) > 0 || len(dirs[1]) > 0; i++ {
			d := i & 1
			k := min(step, len(dirs[d]))
			if i%11 == 10 {
				c.Gap(d, k, ts)
			} else if k > 0 {
				c.Feed(d, dirs[d][:k], ts)
			}
			dirs[d] = dirs[d][k:]
		}
		c.Close(ts)
		if len(c.streams) != 0 {
			t.Fatal("streams left after Close")
		}
		if c.held != 0 {
			t.Fatalf("%d bytes counted as held with no stream open", c.held)
		}
		for i := range c.sides {
			if len(c.sides[i].buf) > syncWindow+len(data) || cap(c.sides[i].blk.data) > cfg.MaxHeaderBlock+cfg.MaxFrame {
				t.Fatalf("side %d holds %d/%d bytes", i, len(c.sides[i].buf), cap(c.sides[i].blk.data))
			}
		}
	})
}

// FuzzWalker: the recovering walker agrees with hpack wherever hpack can
// decode a block from an empty table, and otherwise never panics; from an
// empty table nothing can be unknown except references past its end.
func FuzzWalker(f *testing.F) {
	var blk bytes.Buffer
	enc := hpack.NewEncoder(&blk)
	for _, kv := range [][2]string{{":method", "GET"}, {":path", "/x"}, {"x-k", "v"}, {"x-k", "v"}, {"cookie", "a=b"}} {
		enc.WriteField(hpack.HeaderField{Name: kv[0], Value: kv[1], Sensitive: kv[0] == "cookie"})
	}
	f.Add(blk.Bytes(), blk.Bytes())
	f.Add([]byte{0x3f, 0xe1, 0x1f, 0x82, 0xbe}, []byte{0xbf})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		dec := hpack.NewDecoder(4096, nil)
		w := newWalker(4096)
		for _, blk := range [][]byte{a, b} {
			want, herr := dec.DecodeFull(blk)
			var got []Field
			_, werr := w.decode(blk, func(f Field) bool { got = append(got, f); return true })
			if herr != nil {
				return // hpack's table is now unreliable; the walker's too
			}
			if werr != nil {
				t.Fatalf("walker: %v, hpack decoded %d fields", werr, len(want))
			}
			if len(got) != len(want) {
				t.Fatalf("walker %d fields, hpack %d", len(got), len(want))
			}
			for i := range got {
				if got[i].Unknown() || got[i].Name != want[i].Name || got[i].Value != want[i].Value || got[i].Sensitive != want[i].Sensitive {
					t.Fatalf("field %d: walker %+v, hpack %+v", i, got[i], want[i])
				}
			}
		}
	})
}

// BenchmarkWalkerHostile: a 64 kB block of the smallest literal fields
// with incremental indexing (each adds a 33-byte entry) against a full
// 64 kB table. Adding and evicting are amortized O(1): the time per byte
// stays that of a benign block.
func BenchmarkWalkerHostile(b *testing.B) {
	blk := bytes.Repeat([]byte{0x40, 0x01, 'a', 0x00}, 16<<10)
	w := newWalker(64 << 10)
	b.SetBytes(int64(len(blk)))
	for b.Loop() {
		n := 0
		if _, err := w.decode(blk, func(Field) bool { n++; return true }); err != nil || n != 16<<10 {
			b.Fatalf("%d fields, %v", n, err)
		}
	}
}

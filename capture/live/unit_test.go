package live

import (
	"fmt"
	"testing"
	"time"
)

func TestGeometry(t *testing.T) {
	tests := []struct {
		mb, page  int
		block, nr int
		wantErr   bool
	}{
		{64, 4096, 1 << 20, 64, false},
		{8, 4096, 1 << 20, 8, false},
		{4, 4096, 512 << 10, 8, false},
		{1, 4096, 128 << 10, 8, false},
		{1, 65536, 128 << 10, 8, false},
		{4096, 4096, 1 << 20, 4096, false},
		{0, 4096, 0, 0, true},
		{-3, 4096, 0, 0, true},
		{4097, 4096, 0, 0, true},
	}
	for _, tc := range tests {
		g, err := geometry(tc.mb, tc.page)
		if (err != nil) != tc.wantErr {
			t.Errorf("geometry(%d): error %v", tc.mb, err)
			continue
		}
		if err != nil {
			continue
		}
		if g.BlockSize != tc.block || g.NumBlocks != tc.nr {
			t.Errorf("geometry(%d) = %+v, want %d blocks of %d", tc.mb, g, tc.nr, tc.block)
		}
		// What the kernel checks in packet_set_ring.
		if g.BlockSize%tc.page != 0 || g.BlockSize%g.FrameSize != 0 || g.FrameSize%16 != 0 || g.Bytes() != tc.mb<<20 {
			t.Errorf("geometry(%d) = %+v breaks a kernel rule", tc.mb, g)
		}
	}
}

func TestDedup(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	ms := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Millisecond))) }
	type in struct {
		data string
		at   time.Time
		dup  bool
	}
	tests := []struct {
		name    string
		window  time.Duration
		entries int
		frames  []in
		evicted uint64
	}{
		{"copy within window", 2 * time.Millisecond, 16, []in{{"a", ms(0), false}, {"a", ms(0.01), true}, {"b", ms(0.02), false}}, 0},
		{"triple copy", 2 * time.Millisecond, 16, []in{{"a", ms(0), false}, {"a", ms(0.5), true}, {"a", ms(1), true}}, 0},
		{"retransmission after window", 2 * time.Millisecond, 16, []in{{"a", ms(0), false}, {"a", ms(200), false}, {"a", ms(200.1), true}}, 0},
		{"slightly out of order", 2 * time.Millisecond, 16, []in{{"a", ms(1), false}, {"a", ms(0.9), true}}, 0},
		{"table full forgets the oldest", time.Second, 2, []in{{"a", ms(0), false}, {"b", ms(1), false}, {"c", ms(2), false}, {"a", ms(3), false}, {"c", ms(4), true}}, 2},
		{"empty frames", time.Second, 4, []in{{"", ms(0), false}, {"", ms(1), true}}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDedup(tc.window, tc.entries)
			var dups uint64
			for i, f := range tc.frames {
				if got := d.duplicate([]byte(f.data), f.at); got != f.dup {
					t.Errorf("frame %d (%q): duplicate = %v, want %v", i, f.data, got, f.dup)
				}
				if f.dup {
					dups++
				}
			}
			if d.Dropped != dups || d.Evicted != tc.evicted {
				t.Errorf("dropped %d evicted %d, want %d and %d", d.Dropped, d.Evicted, dups, tc.evicted)
			}
			if len(d.seen) > tc.entries || d.n > tc.entries {
				t.Errorf("table holds %d hashes, %d entries; bound %d", len(d.seen), d.n, tc.entries)
			}
		})
	}
}

// TestDedupBounded feeds many distinct frames: the table never outgrows its
// bound and nothing distinct is called a duplicate.
func TestDedupBounded(t *testing.T) {
	d := newDedup(time.Hour, 64)
	t0 := time.Unix(0, 0)
	for i := 0; i < 10000; i++ {
		if d.duplicate([]byte(fmt.Sprint(i)), t0.Add(time.Duration(i))) {
			t.Fatalf("frame %d called a duplicate", i)
		}
		if len(d.seen) > 64 || d.n > 64 {
			t.Fatalf("table grew to %d", len(d.seen))
		}
	}
	if d.Evicted != 10000-64 {
		t.Errorf("evicted %d, want %d", d.Evicted, 10000-64)
	}
}

func FuzzDedup(f *testing.F) {
	f.Add([]byte("abcabc"), uint8(3), uint16(100))
	f.Add([]byte{0, 0, 0, 1}, uint8(1), uint16(0))
	f.Fuzz(func(t *testing.T, stream []byte, size uint8, step uint16) {
		entries := int(size%16) + 1
		d := newDedup(time.Millisecond, entries)
		t0 := time.Unix(0, 0)
		// Frames are 2-byte slices of stream, step nanoseconds apart.
		for i := 0; i+2 <= len(stream); i += 2 {
			d.duplicate(stream[i:i+2], t0.Add(time.Duration(i)*time.Duration(step)))
			if d.n > entries || len(d.seen) > d.n {
				t.Fatalf("table %d hashes, %d entries, bound %d", len(d.seen), d.n, entries)
			}
		}
	})
}

func FuzzCompileFilter(f *testing.F) {
	for _, s := range []string{"", "tcp port 80", "vlan 42 and (tcp or udp port 4789)", "tcp prot 80", "ip6 and net fe80::/10", "ether[12:2] = 0x8100"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		prog, err := CompileFilter(expr, 1500)
		if err == nil && len(prog) == 0 {
			t.Fatalf("CompileFilter(%q): empty program without an error", expr)
		}
	})
}

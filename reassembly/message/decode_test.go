package message

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// encode applies codings to s in order, as a sender would.
func encode(tb testing.TB, s string, codings ...string) []byte {
	tb.Helper()
	b := []byte(s)
	for _, c := range codings {
		var out bytes.Buffer
		switch c {
		case "gzip":
			w := gzip.NewWriter(&out)
			w.Write(b)
			w.Close()
		case "deflate":
			w := zlib.NewWriter(&out)
			w.Write(b)
			w.Close()
		case "br":
			w := brotli.NewWriter(&out)
			w.Write(b)
			w.Close()
		case "zstd":
			e, _ := zstd.NewWriter(nil)
			out.Write(e.EncodeAll(b, nil))
			e.Close()
		default:
			tb.Fatalf("no encoder for %q", c)
		}
		b = out.Bytes()
	}
	return b
}

const doc = `{"id":42,"name":"widget","tags":["a","b"],"price":9.99}`

// Bodies are decoded when first read, once, with the flags and counters
// decoding finds; a body never read is never decoded.
func TestLazyBody(t *testing.T) {
	var sb strings.Builder
	for i := range 300 {
		fmt.Fprintf(&sb, `{"id":%d,"name":"w%x","n":%d}`, i, i*7919, i*i)
	}
	big := sb.String()
	zbig := encode(t, big, "gzip")
	tests := []struct {
		name      string
		raw       []byte
		codings   []string
		wire      Flags
		maxBody   int
		want      string
		flags     Flags
		err       bool
		stat      func(DecodeStats) int64
		decodeRun bool // whether reading decodes (codings to undo)
	}{
		{"identity: raw is the body", []byte(doc), nil, 0, 1 << 10, doc, 0, false, nil, false},
		{"gzip", encode(t, doc, "gzip"), []string{"gzip"}, 0, 1 << 10, doc, 0, false, nil, true},
		{"layered, undone last to first", encode(t, doc, "deflate", "br", "zstd"), []string{"deflate", "br", "zstd"}, 0, 1 << 10, doc, 0, false, nil, true},
		{"not gzip: raw kept, flagged", []byte("not gzip at all"), []string{"gzip"}, 0, 1 << 10, "not gzip at all", FlagDecodeError, true,
			func(s DecodeStats) int64 { return s.Errors }, true},
		{"unknown coding: raw kept", []byte("LZW?"), []string{"compress"}, 0, 1 << 10, "LZW?", FlagDecodeError, true,
			func(s DecodeStats) int64 { return s.Errors }, true},
		{"decoded past MaxBody: cut and counted", encode(t, big, "gzip"), []string{"gzip"}, 0, 1000, big[:1000], FlagBodyTruncated, false,
			func(s DecodeStats) int64 { return s.Truncated }, true},
		{"past MaxDecoded: a bomb", encode(t, strings.Repeat("a", 1<<20), "gzip"), []string{"gzip"}, 0, 1 << 10, strings.Repeat("a", 1<<10),
			FlagBodyTruncated | FlagBombCut, false, func(s DecodeStats) int64 { return s.BombsCut }, true},
		{"cut on the wire: what decodes is kept", zbig[:len(zbig)/2], []string{"gzip"}, FlagBodyTruncated, 1 << 14, "", 0, false, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoding(tt.maxBody, 64<<10)
			b := d.Body(tt.raw, tt.codings, tt.wire)
			if st := d.Stats(); st.Decoded != 0 {
				t.Fatalf("decoded before any read: %+v", st)
			}
			if !bytes.Equal(b.Raw(), tt.raw) {
				t.Errorf("Raw changed")
			}
			got := b.Bytes()
			if tt.want != "" && string(got) != tt.want {
				t.Errorf("Bytes = %.60q (%d bytes), want %.60q (%d bytes)", got, len(got), tt.want, len(tt.want))
			}
			if tt.want == "" && (len(got) == 0 || !strings.HasPrefix(big, string(got))) {
				t.Errorf("cut body: got %.60q, want a prefix of the document", got)
			}
			if b.Flags() != tt.flags || (b.Err() != nil) != tt.err {
				t.Errorf("Flags %v Err %v, want %v, error %v", b.Flags(), b.Err(), tt.flags, tt.err)
			}
			b.Bytes()
			st := d.Stats()
			if want := int64(0); tt.decodeRun {
				want = 1
				if st.Decoded != want {
					t.Errorf("Decoded = %d after three reads, want %d", st.Decoded, want)
				}
			} else if st.Decoded != want {
				t.Errorf("Decoded = %d, want 0", st.Decoded)
			}
			if tt.stat != nil && tt.stat(st) != 1 {
				t.Errorf("counter = %d, want 1 (%+v)", tt.stat(st), st)
			}
		})
	}
}

// Sinks read one exchange from several goroutines: the first read decodes,
// every reader sees the same bytes and flags (run with -race).
func TestBodyConcurrentReads(t *testing.T) {
	d := NewDecoding(1<<10, 1<<20)
	b := d.Body(encode(t, doc, "br", "gzip"), []string{"br", "gzip"}, 0)
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = string(b.Bytes()) + b.Flags().String()
		}()
	}
	wg.Wait()
	for i, g := range got {
		if g != doc {
			t.Errorf("reader %d: %q", i, g)
		}
	}
	if n := d.Stats().Decoded; n != 1 {
		t.Errorf("decoded %d times, want once", n)
	}
}

// FuzzDecode runs arbitrary bytes through the content decoders, alone and
// layered: no panic, output within the limits, flags consistent, and the
// work of the layers bounded by MaxCodings*maxDecoded.
func FuzzDecode(f *testing.F) {
	codings := [][]string{{"gzip"}, {"deflate"}, {"br"}, {"zstd"}, {"gzip", "gzip"}, {"deflate", "br"}, {"zstd", "identity", "x-gzip"}}
	plain := strings.Repeat(doc, 20)
	for i, c := range codings {
		var real []string
		for _, x := range c {
			switch x {
			case "identity":
			case "x-gzip":
				real = append(real, "gzip")
			default:
				real = append(real, x)
			}
		}
		f.Add(encode(f, plain, real...), uint8(i))
	}
	f.Fuzz(func(t *testing.T, raw []byte, which uint8) {
		const keep, limit = 100, 300
		d := NewDecoding(keep, limit)
		b := d.Body(raw, codings[int(which)%len(codings)], 0)
		out, fl := b.Bytes(), b.Flags()
		if len(out) > keep && !fl.Has(FlagDecodeError) {
			t.Fatalf("kept %d bytes > %d", len(out), keep)
		}
		if fl.Has(FlagDecodeError) && !bytes.Equal(out, raw) {
			t.Fatalf("decode error without the raw bytes")
		}
		if fl.Has(FlagBodyTruncated) && len(out) != keep {
			t.Fatalf("truncated with %d bytes kept, want %d", len(out), keep)
		}
		if w := d.Stats().Work; w > MaxCodings*limit+1 {
			t.Fatalf("layers produced %d bytes, more than %d", w, MaxCodings*limit+1)
		}
	})
}

// Copies of a body (of a message copied to be redacted, say) share its
// decoding: whichever reads first, all see the bytes and flags.
func TestBodyCopiesShareDecoding(t *testing.T) {
	d := NewDecoding(1<<10, 1<<20)
	a := d.Body([]byte("not gzip"), []string{"gzip"}, 0)
	b := a
	if b.Flags() != FlagDecodeError {
		t.Fatalf("copy: flags %v", b.Flags())
	}
	if a.Flags() != FlagDecodeError || string(a.Bytes()) != "not gzip" {
		t.Errorf("original after the copy decoded: flags %v bytes %q", a.Flags(), a.Bytes())
	}
	if n := d.Stats().Decoded; n != 1 {
		t.Errorf("decoded %d times, want once", n)
	}
}

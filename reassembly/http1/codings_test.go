package http1

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/specter-dev/specter/reassembly/message"
)

func nest(s string, enc func(string) string, n int) string {
	for range n {
		s = enc(s)
	}
	return s
}

// Long coding lists cost a decoder per layer: past message.MaxCodings the body is
// left as it came, flagged and counted.
func TestCodingsCapped(t *testing.T) {
	plain := `{"ok":true}`
	capped := []string{AnomalyTooManyCodings}
	tests := []struct {
		name      string
		in        string
		body      string
		flags     message.Flags
		anomalies []string
	}{
		{
			name: "message.MaxCodings layers decode",
			in:   respCE(strings.Repeat("gzip, ", message.MaxCodings-1)+"gzip", nest(plain, gz, message.MaxCodings)),
			body: plain,
		},
		{
			name: "identity does not count",
			in:   respCE(strings.Repeat("identity, ", 1000)+"br, gzip", gz(br(plain))),
			body: plain,
		},
		{
			name:      "one more than message.MaxCodings is left encoded",
			in:        respCE(strings.Repeat("gzip,", message.MaxCodings)+"gzip", nest(plain, gz, message.MaxCodings+1)),
			body:      nest(plain, gz, message.MaxCodings+1),
			flags:     message.FlagCodingsCapped,
			anomalies: capped,
		},
		{
			name:      "br 20000 times",
			in:        respCE(strings.TrimSuffix(strings.Repeat("br,", 20000), ","), nest(plain, br, 50)),
			body:      nest(plain, br, 50),
			flags:     message.FlagCodingsCapped,
			anomalies: capped,
		},
		{
			name:      "zstd over several fields",
			in:        "HTTP/1.1 200 OK\r\nContent-Encoding: zstd, zstd, zstd\r\nContent-Encoding: zstd, zstd\r\nContent-Length: 4\r\n\r\nabcd",
			body:      "abcd",
			flags:     message.FlagCodingsCapped,
			anomalies: capped,
		},
		{
			name: "transfer codings count too, chunked still frames",
			in: "POST /t HTTP/1.1\r\nContent-Encoding: gzip, gzip\r\nTransfer-Encoding: gzip, gzip, gzip, chunked\r\n\r\n" +
				chunk(nest(plain, gz, 5), 9),
			body:      nest(plain, gz, 5),
			flags:     message.FlagChunked | message.FlagCodingsCapped,
			anomalies: capped,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &rec{}
			p := NewParser(nil, r)
			p.Feed([]byte(tt.in), time.Unix(1, 0))
			if len(r.reqs)+len(r.resps) != 1 {
				t.Fatalf("got %q, want one message", r.msgs)
			}
			var body []byte
			var flags message.Flags
			var anomalies []string
			if len(r.reqs) == 1 {
				body, flags, anomalies = r.reqs[0].Body.Bytes(), r.reqs[0].Flags, r.reqs[0].Anomalies
			} else {
				body, flags, anomalies = r.resps[0].Body.Bytes(), r.resps[0].Flags, r.resps[0].Anomalies
			}
			if string(body) != tt.body || flags != tt.flags || !slices.Equal(anomalies, tt.anomalies) {
				t.Errorf("got body %s flags %v anomalies %v\nwant body %s flags %v anomalies %v",
					sumBody(body), flags, anomalies, sumBody([]byte(tt.body)), tt.flags, tt.anomalies)
			}
			var want int64
			if tt.flags.Has(message.FlagCodingsCapped) {
				want = 1
			}
			if got := p.Stats().CodingsCapped; got != want {
				t.Errorf("CodingsCapped = %d, want %d", got, want)
			}
		})
	}
}

// emptyBlocksGzip returns a gzip stream of n empty stored deflate blocks:
// n*5 bytes that decode to nothing.
func emptyBlocksGzip(n int) string {
	var b bytes.Buffer
	b.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	b.Write(bytes.Repeat([]byte{0, 0, 0, 0xff, 0xff}, n))
	b.Write([]byte{1, 0, 0, 0xff, 0xff})
	b.Write(make([]byte, 8)) // CRC-32 and size of nothing
	return b.String()
}

// An inner layer that expands without producing output (here a gzip
// stream of empty blocks, itself compressed) multiplies the work of
// decoding without growing the output, so MaxDecoded alone does not bound
// it: each inner layer has the same cap, and hitting it is a bomb.
func TestNestedBombCut(t *testing.T) {
	inner := emptyBlocksGzip(1 << 18) // 1.25 MiB decoding to nothing
	var w bytes.Buffer
	if _, err := gzip.NewReader(strings.NewReader(inner)); err != nil {
		t.Fatalf("inner stream: %v", err)
	}
	for _, outer := range []struct {
		name string
		enc  func(string) string
	}{{"gzip", gz}, {"deflate", zl}, {"br", br}, {"zstd", zs}} {
		t.Run(outer.name, func(t *testing.T) {
			w.Reset()
			fmt.Fprintf(&w, "gzip, %s", outer.name)
			r := &rec{}
			cfg := DefaultConfig()
			cfg.MaxDecoded = 256 << 10
			p := NewParser(&cfg, r)
			p.Feed([]byte(respCE(w.String(), outer.enc(inner))), time.Unix(1, 0))
			if len(r.resps) != 1 {
				t.Fatalf("got %q", r.msgs)
			}
			if f := r.resps[0].AllFlags(); !f.Has(message.FlagBombCut) {
				t.Errorf("flags %v, want bomb-cut", f)
			}
			st := p.Decoding().Stats()
			if st.BombsCut != 1 {
				t.Errorf("BombsCut = %d, want 1", st.BombsCut)
			}
			if st.Work > 2*int64(cfg.MaxDecoded)+1 {
				t.Errorf("layers produced %d bytes, more than 2*MaxDecoded", st.Work)
			}
		})
	}
}

// FuzzContentCodings parses a response with an arbitrary Content-Encoding
// list and body: the body stays within MaxBody, a list longer than
// message.MaxCodings leaves it undecoded and flagged, and decoding never makes
// its layers produce more than message.MaxCodings*MaxDecoded bytes, however the
// layers nest.
func FuzzContentCodings(f *testing.F) {
	plain := strings.Repeat(jsonBody, 10)
	f.Add("gzip", gz(plain))
	f.Add("br, gzip", gz(br(plain)))
	f.Add("deflate, zstd, br, gzip", gz(br(zs(zl(plain)))))
	f.Add("br,br,br,br,br", nest(plain, br, 5))
	f.Add("zstd, zstd, zstd", nest(plain, zs, 3))
	f.Add("gzip, gzip", gz(emptyBlocksGzip(8000)))
	f.Add("identity, x-gzip, Identity", gz(plain))
	f.Fuzz(func(t *testing.T, list string, body string) {
		cfg := DefaultConfig()
		cfg.MaxBody, cfg.MaxDecoded = 4<<10, 16<<10
		r := &rec{}
		p := NewParser(&cfg, r)
		p.Feed([]byte(respCE(list, body)), time.Unix(1, 0))
		for _, m := range r.resps {
			if len(m.Body.Bytes()) > cfg.MaxBody {
				t.Fatalf("body %d bytes > MaxBody", len(m.Body.Bytes()))
			}
		}
		if bound := int64(message.MaxCodings*cfg.MaxDecoded) + 1; p.Decoding().Stats().Work > bound {
			t.Fatalf("layers produced %d bytes, more than %d", p.Decoding().Stats().Work, bound)
		}
		if len(r.resps) == 0 || r.resps[0].Flags.Has(message.FlagBadFraming) || strings.ContainsAny(list, "\r\n") {
			return // the list held control bytes or line ends: not one field
		}
		m := r.resps[0]
		n := 0
		for _, e := range strings.Split(list, ",") {
			if e = strings.Trim(e, " \t"); e != "" && !strings.EqualFold(e, "identity") {
				n++
			}
		}
		if capped := m.Flags.Has(message.FlagCodingsCapped); capped != (n > message.MaxCodings) {
			t.Fatalf("%d codings, flags %v", n, m.Flags)
		}
		if n > message.MaxCodings && len(body) <= cfg.MaxBody && string(m.Body.Bytes()) != body {
			t.Fatalf("capped body changed: %s", sumBody(m.Body.Bytes()))
		}
	})
}

// BenchmarkHostileCodings parses responses whose Content-Encoding lists a
// coding 20000 times over a body nested as deep as it goes (the shape of
// the report in #12: 36 s and 1.5 GB for one 78 KB response before the
// cap): the cost must be that of parsing the head, whatever the list.
func BenchmarkHostileCodings(b *testing.B) {
	for _, c := range []struct {
		name string
		enc  func(string) string
	}{{"br", br}, {"zstd", zs}, {"gzip", gz}} {
		b.Run(c.name, func(b *testing.B) {
			list := strings.TrimSuffix(strings.Repeat(c.name+",", 20000), ",")
			msg := []byte(respCE(list, nest(jsonBody, c.enc, 64)))
			benchStream(b, msg, 1460, 1)
		})
	}
}

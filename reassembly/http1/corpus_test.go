package http1

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/specter-dev/specter/capture/corpus"
	"github.com/specter-dev/specter/reassembly/message"
)

// This file drives the parser with real captures. It holds a deliberately
// naive TCP reassembly (in order by sequence number, retransmissions
// trimmed, holes reported as gaps) that is only good enough for tests: the
// real one lives in package reassembly.

type pcapConn struct {
	dirs  [2]*pcapDir
	reqs  []*message.Request
	resps []*message.Response
	// pending request methods, for PendingMethod; popped by final responses.
	pending []string
}

type pcapDir struct {
	c       *pcapConn
	p       *Parser
	started bool
	next    uint32
	ooo     map[uint32][]byte // out-of-order segments by sequence number
	other   int
}

func (d *pcapDir) Request(r *message.Request) {
	d.c.reqs = append(d.c.reqs, r)
	d.c.pending = append(d.c.pending, r.Method)
}

func (d *pcapDir) Response(r *message.Response) {
	d.c.resps = append(d.c.resps, r)
	if r.StatusCode >= 200 && len(d.c.pending) > 0 {
		d.c.pending = d.c.pending[1:]
	}
}

func (d *pcapDir) PendingMethod() string {
	if len(d.c.pending) == 0 {
		return ""
	}
	return d.c.pending[0]
}

func (d *pcapDir) Protocol(p Protocol) {
	if p == ProtoTunnel {
		d.c.dirs[d.other].p.Tunnel()
	}
}

func (d *pcapDir) segment(seq uint32, payload []byte, syn bool, ts time.Time) {
	if syn {
		seq++
	}
	if !d.started {
		d.started, d.next = true, seq
	}
	if len(payload) == 0 {
		return
	}
	diff := int32(seq - d.next)
	switch {
	case diff > 0:
		d.ooo[seq] = bytes.Clone(payload)
		if len(d.ooo) > 16 {
			// A real reassembler gives up waiting at some point too.
			d.drain(ts, true)
		}
		return
	case diff < 0:
		if -int(diff) >= len(payload) {
			return // retransmission
		}
		payload = payload[-diff:]
	}
	d.p.Feed(payload, ts)
	d.next += uint32(len(payload))
	d.drain(ts, false)
}

// drain feeds buffered segments that have become in order; with force, it
// reports the hole before the next one as a gap.
func (d *pcapDir) drain(ts time.Time, force bool) {
	for len(d.ooo) > 0 {
		progress := false
		for seq, b := range d.ooo {
			diff := int32(seq - d.next)
			if diff > 0 {
				continue
			}
			delete(d.ooo, seq)
			progress = true
			if -int(diff) < len(b) {
				d.p.Feed(b[-diff:], ts)
				d.next += uint32(len(b) + int(diff))
			}
		}
		if progress {
			continue
		}
		if !force {
			return
		}
		lowest := uint32(0)
		first := true
		for seq := range d.ooo {
			if first || int32(seq-lowest) < 0 {
				lowest, first = seq, false
			}
		}
		d.p.Gap(int(int32(lowest-d.next)), ts)
		d.next = lowest
	}
}

type pcapResult struct {
	conns []*pcapConn
}

func (r *pcapResult) count() (reqs, resps int) {
	for _, c := range r.conns {
		reqs += len(c.reqs)
		resps += len(c.resps)
	}
	return
}

func openPcap(path string) (gopacket.PacketDataSource, layers.LinkType, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return nil, 0, err
	}
	if len(data) >= 4 && binary.BigEndian.Uint32(data) == 0x0a0d0d0a {
		r, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, 0, err
		}
		return r, r.LinkType(), nil
	}
	r, err := pcapgo.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, 0, err
	}
	return r, r.LinkType(), nil
}

// parsePcap runs every TCP connection of a capture through two Parsers.
func parsePcap(tb testing.TB, path string, cfg *Config) *pcapResult {
	src, lt, err := openPcap(path)
	if err != nil {
		tb.Skipf("%s: %v", path, err)
	}
	type key struct{ a, b string }
	conns := map[key]*pcapConn{}
	res := &pcapResult{}
	var last time.Time
	for {
		data, ci, err := src.ReadPacketData()
		if err != nil {
			break
		}
		last = ci.Timestamp
		pkt := gopacket.NewPacket(data, lt, gopacket.NoCopy)
		var net gopacket.NetworkLayer
		var tcp *layers.TCP
		for _, l := range pkt.Layers() {
			switch l := l.(type) {
			case *layers.IPv4, *layers.IPv6:
				net = l.(gopacket.NetworkLayer)
			case *layers.TCP:
				tcp = l
			}
			if tcp != nil {
				break
			}
		}
		if net == nil || tcp == nil {
			continue
		}
		src := fmt.Sprintf("%v:%d", net.NetworkFlow().Src(), tcp.SrcPort)
		dst := fmt.Sprintf("%v:%d", net.NetworkFlow().Dst(), tcp.DstPort)
		k, dir := key{src, dst}, 0
		if src > dst {
			k, dir = key{dst, src}, 1
		}
		c := conns[k]
		if c == nil || (tcp.SYN && !tcp.ACK && c.dirs[dir].started && len(c.dirs[dir].p.buf) == 0 && c.dirs[dir].next != tcp.Seq+1) {
			c = &pcapConn{}
			for i := range c.dirs {
				d := &pcapDir{c: c, ooo: map[uint32][]byte{}, other: 1 - i}
				d.p = NewParser(cfg, d)
				c.dirs[i] = d
			}
			conns[k] = c
			res.conns = append(res.conns, c)
		}
		c.dirs[dir].segment(tcp.Seq, tcp.Payload, tcp.SYN, ci.Timestamp)
	}
	for _, c := range res.conns {
		for _, d := range c.dirs {
			d.drain(last, true)
			d.p.Close(last)
		}
	}
	return res
}

func corpusFiles(tb testing.TB) (dir string, files []string) {
	dir = corpus.Dir(tb, "corpus/pcaps")
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng")) {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
		}
		return nil
	})
	slices.Sort(files)
	return dir, files
}

func tsharkCounts(tb testing.TB, dir string) map[string][2]int {
	b, err := os.ReadFile(filepath.Join(dir, "counts.tsv"))
	if err != nil {
		tb.Skip(err)
	}
	m := map[string][2]int{}
	for _, ln := range strings.Split(string(b), "\n")[1:] {
		var f string
		var q, s int
		if _, err := fmt.Sscanf(strings.ReplaceAll(ln, "\t", " "), "%s %d %d", &f, &q, &s); err == nil {
			m[f] = [2]int{q, s}
		}
	}
	return m
}

// countExceptions are the captures where the parser's counts may differ
// from tshark's, and why. Every other capture must match exactly.
var countExceptions = map[string]string{
	"arkime/gre-erspan-vxlan.pcap":                             "encapsulation this test's packet decoding does not unwrap",
	"zeek/tunnels__gre-aruba.pcap":                             "encapsulation this test's packet decoding does not unwrap",
	"zeek/tunnels__gre-over-udp-4754.pcap":                     "encapsulation this test's packet decoding does not unwrap",
	"zeek/mixed-vlan-mpls.pcap":                                "encapsulation this test's packet decoding does not unwrap",
	"zeek/nflog-http.pcap":                                     "link type this test's packet decoding does not handle",
	"zeek/erspan.pcap":                                         "mirrored traffic that this test's naive reassembly misorders",
	"arkime/wireshark-retrans.pcap":                            "retransmissions with different content; naive reassembly",
	"arkime/socks-http-example.pcap":                           "responses right after a SOCKS reply, not at a line or segment start",
	"arkime/twovlan.pcap":                                      "tshark does not dissect the response",
	"ndpi/1kxun.pcap":                                          "tshark counts SSDP (HTTP over UDP) and misses responses on other ports",
	"ndpi/netflix.pcap":                                        "tshark counts SSDP (HTTP over UDP) and misses responses on other ports",
	"suricata-verify/http-gap-simple__input.pcap":              "we recover the response after the gap",
	"suricata-verify/http-pipeline-files-with-gap__input.pcap": "we recover the responses after the gap",
	"zeek/http__bro.org.pcap":                                  "a gap inside a known-length body is survived",
	"zeek/http__http-desync-request-response-5.pcap":           "the server sends 7 responses to 5 requests; tshark pairs them",
	"zeek/http__methods.pcap":                                  "malformed request lines (no target, no spaces) are rejected",
}

// TestCorpusCounts runs every capture of the corpus and compares the
// message counts with tshark's reference counts.
func TestCorpusCounts(t *testing.T) {
	dir, files := corpusFiles(t)
	ref := tsharkCounts(t, dir)
	var sumRef, sumGot [2]int
	for _, f := range files {
		res := parsePcap(t, filepath.Join(dir, f), nil)
		q, s := res.count()
		want, ok := ref[f]
		if !ok {
			t.Errorf("%s: not in counts.tsv", f)
			continue
		}
		sumRef[0] += want[0]
		sumRef[1] += want[1]
		sumGot[0] += q
		sumGot[1] += s
		if q == want[0] && s == want[1] {
			continue
		}
		if why, ok := countExceptions[f]; ok {
			t.Logf("%s: requests %d (tshark %d), responses %d (tshark %d): %s", f, q, want[0], s, want[1], why)
			continue
		}
		t.Errorf("%s: requests %d (tshark %d), responses %d (tshark %d)", f, q, want[0], s, want[1])
	}
	t.Logf("total: requests %d (tshark %d), responses %d (tshark %d)", sumGot[0], sumRef[0], sumGot[1], sumRef[1])
}

// TestCorpusDecoding checks content decoding on real servers' bodies: raw
// deflate without a zlib header, layered gzip, brotli, x-gzip.
func TestCorpusDecoding(t *testing.T) {
	dir := corpus.Dir(t, "corpus/pcaps")
	for _, tc := range []struct {
		file, coding string
	}{
		{"zeek/http__missing-zlib-header.pcap", "deflate"},
		{"suricata-verify/bug-2511__response_identity_identity_gzip_identity_gzip_gzip.pcap", "gzip"},
		{"suricata-verify/http-brotli-ce__input.pcap", "br"},
		{"zeek/http__x-gzip.pcap", "x-gzip"},
		{"zeek/http__get-gzip.pcap", "gzip"},
		{"generated/prism-spotify-v1-gzip-chunked.pcap", "gzip"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			res := parsePcap(t, filepath.Join(dir, tc.file), nil)
			decoded := 0
			for _, c := range res.conns {
				for _, r := range c.resps {
					ce := strings.ToLower(strings.Join(r.Header["Content-Encoding"], ","))
					if !strings.Contains(ce, tc.coding) {
						continue
					}
					if r.AllFlags().Has(message.FlagDecodeError) || r.AllFlags().Has(message.FlagIncomplete) {
						t.Errorf("%d response, %q: flags %v", r.StatusCode, ce, r.Flags)
						continue
					}
					// (20 bytes is what gzip makes of an empty body.)
					if len(r.Body.Bytes()) == 0 && r.WireSize > 32 {
						t.Errorf("%q: empty body from %d bytes", ce, r.WireSize)
					}
					decoded++
				}
			}
			if decoded == 0 {
				t.Errorf("no response with Content-Encoding %s", tc.coding)
			}
			t.Logf("%d responses decoded", decoded)
		})
	}
}

// TestCorpusProtocols checks protocol detection on real streams.
func TestCorpusProtocols(t *testing.T) {
	dir := corpus.Dir(t, "corpus/pcaps")
	for _, tc := range []struct {
		file string
		want Protocol
	}{
		{"arkime/http2-nghttp2.pcap", ProtoHTTP2},
		{"suricata-verify/http2-keywords__input.pcap", ProtoHTTP2},
		{"zeek/http__websocket.pcap", ProtoTunnel},
		{"zeek/http__docker-http-upgrade.pcap", ProtoTunnel},
	} {
		t.Run(tc.file, func(t *testing.T) {
			res := parsePcap(t, filepath.Join(dir, tc.file), nil)
			found := false
			for _, c := range res.conns {
				for _, d := range c.dirs {
					if d.p.Protocol() == tc.want {
						found = true
					}
				}
			}
			if !found {
				t.Errorf("no stream recognized as %v", tc.want)
			}
		})
	}
}

func BenchmarkCorpus(b *testing.B) {
	dir := corpus.Dir(b, "corpus/pcaps")
	path := filepath.Join(dir, "generated/prism-petstore3.pcap")
	b.ReportAllocs()
	var msgs int
	for b.Loop() {
		q, s := parsePcap(b, path, nil).count()
		msgs += q + s
	}
	b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
}

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// digest names content without copying it: the corpus stays outside the
// project, only our summaries of it are kept.
func digest[T string | []byte](b T) string {
	sum := sha256.Sum256([]byte(b))
	return hex.EncodeToString(sum[:4])
}

func goldenSummary(res *pcapResult) string {
	var b strings.Builder
	for i, c := range res.conns {
		if len(c.reqs)+len(c.resps) == 0 {
			continue
		}
		fmt.Fprintf(&b, "conn %d\n", i)
		for _, r := range c.reqs {
			fmt.Fprintf(&b, "  req  %s target=%s host=%s fields=%d body=%d/%s wire=%d flags=%s\n",
				r.Method, digest(r.Target), digest(r.Authority), len(r.Header), len(r.Body.Bytes()), digest(r.Body.Bytes()), r.WireSize, r.AllFlags())
		}
		for _, r := range c.resps {
			fmt.Fprintf(&b, "  resp %d fields=%d body=%d/%s wire=%d flags=%s\n",
				r.StatusCode, len(r.Header), len(r.Body.Bytes()), digest(r.Body.Bytes()), r.WireSize, r.AllFlags())
		}
	}
	return b.String()
}

// TestCorpusGolden compares what the parser makes of every capture with
// the golden summaries in testdata/golden (go test -update rewrites them).
func TestCorpusGolden(t *testing.T) {
	dir, files := corpusFiles(t)
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			got := goldenSummary(parsePcap(t, filepath.Join(dir, f), nil))
			golden := filepath.Join("testdata", "golden", strings.ReplaceAll(f, "/", "__")+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if got != string(want) {
				gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
				for i := range max(len(gl), len(wl)) {
					g, w := "", ""
					if i < len(gl) {
						g = gl[i]
					}
					if i < len(wl) {
						w = wl[i]
					}
					if g != w {
						t.Fatalf("differs from %s at line %d:\n got %s\nwant %s", golden, i+1, g, w)
					}
				}
			}
		})
	}
}

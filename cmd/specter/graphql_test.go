package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/specter-dev/specter/infer/diff"
)

// writeHTTPPcap writes one TCP connection per request/response pair, with
// handshake and close, as a pcap file.
func writeHTTPPcap(t *testing.T, path string, pairs [][2]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65536, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	when := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	cli, srv := net.IP{10, 0, 0, 1}, net.IP{10, 0, 0, 2}
	for i, p := range pairs {
		cport := layers.TCPPort(40000 + i)
		var cseq, sseq uint32 = 1000, 5000
		frame := func(fromClient bool, syn, ack, fin bool, payload string) {
			src, dst, sp, dp, seq, ackn := cli, srv, cport, layers.TCPPort(80), cseq, sseq
			if !fromClient {
				src, dst, sp, dp, seq, ackn = srv, cli, 80, cport, sseq, cseq
			}
			ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src, DstIP: dst}
			tcp := &layers.TCP{SrcPort: sp, DstPort: dp, Seq: seq, Ack: ackn, SYN: syn, ACK: ack, FIN: fin, PSH: payload != "", Window: 65535}
			tcp.SetNetworkLayerForChecksum(ip)
			eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
			buf := gopacket.NewSerializeBuffer()
			if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
				t.Fatal(err)
			}
			when = when.Add(time.Millisecond)
			if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: when, CaptureLength: len(buf.Bytes()), Length: len(buf.Bytes())}, buf.Bytes()); err != nil {
				t.Fatal(err)
			}
			n := uint32(len(payload))
			if syn || fin {
				n++
			}
			if fromClient {
				cseq += n
			} else {
				sseq += n
			}
		}
		frame(true, true, false, false, "")
		frame(false, true, true, false, "")
		frame(true, false, true, false, "")
		frame(true, false, true, false, p[0])
		frame(false, false, true, false, p[1])
		frame(true, false, true, true, "")
		frame(false, false, true, true, "")
		frame(true, false, true, false, "")
	}
}

var anonRE = regexp.MustCompile(`anonymous-[0-9a-f]{8}`)

func graphqlPair(query, resp string) [2]string {
	body, _ := json.Marshal(map[string]string{"query": query})
	req := "POST /graphql HTTP/1.1\r\nHost: shop.test\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + string(body)
	return [2]string{req, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(resp)) + "\r\n\r\n" + resp}
}

// TestDiffGraphQLSchema runs endpoints and diff --graphql-schema over a
// capture of GraphQL traffic, with the schema as SDL.
func TestDiffGraphQLSchema(t *testing.T) {
	dir := t.TempDir()
	pcap := filepath.Join(dir, "gql.pcap")
	writeHTTPPcap(t, pcap, [][2]string{
		graphqlPair(`query Products { products { id name } }`, `{"data":{"products":[]}}`),
		graphqlPair(`query Admin { adminUsers { email } }`, `{"errors":[{"message":"Cannot query field"}]}`),
		graphqlPair(`query Old { products { id cost } }`, `{"data":{"products":[]}}`),
		graphqlPair(`{ __schema { types { name } } }`, `{"data":{"__schema":{"types":[]}}}`),
	})
	sdl := filepath.Join(dir, "shop.graphql")
	if err := os.WriteFile(sdl, []byte("type Query { products: [Product!]! }\ntype Product { id: ID! name: String cost: Float @deprecated }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errs, code := run(t, "endpoints", pcap)
	if code != 0 {
		t.Fatalf("endpoints: exit %d: %s", code, errs)
	}
	for _, want := range []string{"query Products", "query Admin", "query Old", "introspection"} {
		if !strings.Contains(out, want) {
			t.Errorf("endpoints lacks %q:\n%s", want, out)
		}
	}
	out, errs, code = run(t, "diff", "--graphql-schema", sdl, "--format", "json", pcap)
	if code != 0 {
		t.Fatalf("diff: exit %d: %s", code, errs)
	}
	rep, err := diff.ReadReport(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range rep.Findings {
		got = append(got, string(f.Kind)+" "+anonRE.ReplaceAllString(f.Rule, "anonymous-*"))
	}
	slices.Sort(got)
	want := []string{
		"introspection graphql-introspection:anonymous-*",
		"shadow graphql-undeclared-operation:Query.adminUsers",
		"zombie graphql-deprecated:Product.cost",
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q", got, want)
	}
	// Over a database, introspection is reported without a GraphQL schema.
	db := filepath.Join(dir, "gql.db")
	if _, errs, code := run(t, "analyze", "--db", db, pcap); code != 0 {
		t.Fatalf("analyze: exit %d: %s", code, errs)
	}
	out, errs, code = run(t, "diff", "--db", db, "--spec-host", "shop.test=../../testdata/shop-declared.yaml", "--format", "json")
	if code != 0 {
		t.Fatalf("diff --db: exit %d: %s", code, errs)
	}
	if rep, err = diff.ReadReport(strings.NewReader(out)); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range rep.Findings {
		if f.Kind == diff.KindIntrospection {
			n++
		}
	}
	if n != 1 {
		t.Errorf("diff --db --spec: %d introspection findings, want 1:\n%s", n, out)
	}
	if _, _, code := run(t, "diff", "--graphql-schema", filepath.Join(dir, "nope.graphql"), pcap); code != exitFatal {
		t.Errorf("missing schema: exit %d, want %d", code, exitFatal)
	}
}

// Package synth writes synthetic captures of keep-alive JSON API traffic:
// deterministic (a seed fixes every byte), with full TCP handshakes, MSS
// segmentation, gzip and chunked responses, and optional random loss. Tests
// and benchmarks use it, and so does the bundled demo capture; each capture
// comes with the truth of the exchanges it holds.
package synth

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Config shapes the traffic.
type Config struct {
	Seed int64
	// TargetBytes stops the capture once about this many bytes are written.
	TargetBytes int64
	// Conns is how many connections are open at once (interleaved).
	Conns int
	// PerConn is how many exchanges each connection carries (keep-alive).
	PerConn int
	// Loss is the probability that a data-bearing segment is left out of the
	// capture.
	Loss float64
	// Gzip and Chunked are the shares of responses sent gzip-compressed and
	// with chunked transfer coding.
	Gzip, Chunked float64
	// MSS is the largest TCP payload per segment.
	MSS int
	// VLAN tags every frame with this 802.1Q id when non-zero.
	VLAN uint16
	// Start is the first packet's timestamp.
	Start time.Time
	// Gap, when non-zero, makes the traffic come in bursts spread over
	// time, the way a day of API traffic is: once every connection of a
	// burst (Conns of them) has closed, the clock jumps between Gap/2 and
	// 3*Gap/2 before the next burst opens. Zero keeps every connection
	// slot busy, with no idle time.
	Gap time.Duration
	// Anonymous is the share of product listings (a public catalogue)
	// requested without credentials.
	Anonymous float64
	// Hostile appends, after the API traffic, what a sensor meets besides
	// it: a request framed with both Content-Length and Transfer-Encoding
	// (the request-smuggling shape), a GraphQL introspection query, and a
	// path scan of another service (ScanProbes requests answered 404).
	Hostile bool
}

// ScanProbes is how many 404 probes Hostile's path scan sends.
const ScanProbes = 80

// DefaultConfig returns a mix resembling a busy JSON API.
func DefaultConfig() Config {
	return Config{
		Seed:        1,
		TargetBytes: 10 << 20,
		Conns:       64,
		PerConn:     100,
		Gzip:        0.2,
		Chunked:     0.2,
		MSS:         1448,
		Start:       time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

// Exchange is the truth about one exchange written to the capture.
type Exchange struct {
	Conn   int    `json:"conn"`
	Method string `json:"method"`
	Path   string `json:"path"`
	Status int    `json:"status"`
	// Lost is set when any segment of the exchange was left out.
	Lost bool `json:"lost"`
}

// Truth lists what a capture holds.
type Truth struct {
	Exchanges []Exchange `json:"exchanges"`
	Packets   int        `json:"packets"`
	Bytes     int64      `json:"bytes"`
	Dropped   int        `json:"dropped"`
}

type tcpConn struct {
	idx              int
	client, server   net.IP
	cport, sport     uint16
	cseq, sseq       uint32
	left             int
	opened           bool
	clientID, orders int
}

type generator struct {
	cfg   Config
	rng   *rand.Rand
	w     *pcapgo.Writer
	buf   gopacket.SerializeBuffer
	now   time.Time
	truth Truth
	next  int
	gz    bytes.Buffer
	gzw   *gzip.Writer
}

// Write writes a pcap (Ethernet link type) of synthetic traffic to w and
// returns the truth about it.
func Write(w io.Writer, cfg Config) (*Truth, error) {
	d := DefaultConfig()
	if cfg.Conns <= 0 {
		cfg.Conns = d.Conns
	}
	if cfg.PerConn <= 0 {
		cfg.PerConn = d.PerConn
	}
	if cfg.MSS <= 0 {
		cfg.MSS = d.MSS
	}
	if cfg.TargetBytes <= 0 {
		cfg.TargetBytes = d.TargetBytes
	}
	if cfg.Start.IsZero() {
		cfg.Start = d.Start
	}
	g := &generator{
		cfg: cfg,
		rng: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eed)),
		w:   pcapgo.NewWriter(w),
		buf: gopacket.NewSerializeBuffer(),
		now: cfg.Start,
	}
	g.gzw = gzip.NewWriter(&g.gz)
	if err := g.w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return nil, err
	}
	conns := make([]*tcpConn, cfg.Conns)
	for i := range conns {
		conns[i] = g.newConn()
	}
	for g.truth.Bytes < cfg.TargetBytes {
		i := g.rng.IntN(len(conns))
		c := conns[i]
		if err := g.step(c); err != nil {
			return nil, err
		}
		if c.left == 0 {
			if err := g.close(c); err != nil {
				return nil, err
			}
			if cfg.Gap <= 0 {
				conns[i] = g.newConn()
				continue
			}
			conns[i] = conns[len(conns)-1]
			conns = conns[:len(conns)-1]
			if len(conns) == 0 {
				g.now = g.now.Add(cfg.Gap/2 + time.Duration(g.rng.Int64N(int64(cfg.Gap))))
				for range cfg.Conns {
					conns = append(conns, g.newConn())
				}
			}
		}
	}
	for _, c := range conns {
		if c.opened {
			if err := g.close(c); err != nil {
				return nil, err
			}
		}
	}
	if cfg.Hostile {
		if err := g.hostile(); err != nil {
			return nil, err
		}
	}
	return &g.truth, nil
}

// hostile writes Config.Hostile's exchanges, each connection a minute
// after the last.
func (g *generator) hostile() error {
	const shop, files = "shop.example.test", "files.example.test"
	ok := "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
	smuggle := "POST /api/v1/orders HTTP/1.1\r\nHost: " + shop + "\r\nAuthorization: Bearer tok-1\r\nContent-Type: application/json\r\n" +
		"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
	query := `{"query":"query IntrospectionQuery { __schema { queryType { name } types { name kind } } }","operationName":"IntrospectionQuery"}`
	introspect := fmt.Sprintf("POST /graphql HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer tok-1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", shop, len(query), query)
	schema := `{"data":{"__schema":{"queryType":{"name":"Query"},"types":[{"name":"Query","kind":"OBJECT"}]}}}`
	schemaResp := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(schema), schema)
	exchanges := [][4]string{
		{"POST", "/api/v1/orders", smuggle, ok},
		{"POST", "/graphql", introspect, schemaResp},
	}
	for i := range ScanProbes {
		path := fmt.Sprintf("/%s.%s", randomWord(g.rng, 4+g.rng.IntN(8)), []string{"php", "bak", "env", "git", "sql", "zip"}[i%6])
		if i%3 == 0 {
			path = fmt.Sprintf("/%s/%s", randomWord(g.rng, 5), randomWord(g.rng, 6))
		}
		exchanges = append(exchanges, [4]string{"GET", path,
			"GET " + path + " HTTP/1.1\r\nHost: " + files + "\r\nUser-Agent: scanner/0.1\r\n\r\n",
			"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nnot found"})
	}
	var c *tcpConn
	for i, x := range exchanges {
		// The first two on connections of their own, the probes on one.
		if i <= 2 {
			if c != nil {
				if err := g.close(c); err != nil {
					return err
				}
			}
			g.now = g.now.Add(time.Minute)
			c = g.newConn()
			if err := g.open(c); err != nil {
				return err
			}
		}
		lostReq, err := g.send(c, true, []byte(x[2]))
		if err != nil {
			return err
		}
		lostResp, err := g.send(c, false, []byte(x[3]))
		if err != nil {
			return err
		}
		status := 200
		if strings.HasPrefix(x[3], "HTTP/1.1 404") {
			status = 404
		}
		g.truth.Exchanges = append(g.truth.Exchanges, Exchange{Conn: c.idx, Method: x[0], Path: x[1], Status: status, Lost: lostReq || lostResp})
	}
	return g.close(c)
}

// randomWord returns n random lower-case letters.
func randomWord(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + rng.IntN(26))
	}
	return string(b)
}

// ClientAddr returns the client address and port of connection n (the
// Conn of an Exchange in the truth).
func ClientAddr(n int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + n%200)}), uint16(20000+n%40000))
}

func (g *generator) newConn() *tcpConn {
	n := g.next
	g.next++
	ca := ClientAddr(n)
	return &tcpConn{
		idx:      n,
		client:   net.IP(ca.Addr().AsSlice()),
		server:   net.IPv4(198, 51, 100, 10).To4(),
		cport:    ca.Port(),
		sport:    8080,
		cseq:     g.rng.Uint32(),
		sseq:     g.rng.Uint32(),
		left:     1 + g.rng.IntN(g.cfg.PerConn),
		clientID: 1000 + g.rng.IntN(90000),
	}
}

// packet writes one segment from the client (toServer) or the server.
func (g *generator) packet(c *tcpConn, toServer bool, flags string, payload []byte, lossy bool) (dropped bool, err error) {
	g.now = g.now.Add(time.Duration(20+g.rng.IntN(60)) * time.Microsecond)
	tcp := &layers.TCP{Window: 65535}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP}
	if toServer {
		ip.SrcIP, ip.DstIP = c.client, c.server
		tcp.SrcPort, tcp.DstPort = layers.TCPPort(c.cport), layers.TCPPort(c.sport)
		tcp.Seq, tcp.Ack = c.cseq, c.sseq
	} else {
		ip.SrcIP, ip.DstIP = c.server, c.client
		tcp.SrcPort, tcp.DstPort = layers.TCPPort(c.sport), layers.TCPPort(c.cport)
		tcp.Seq, tcp.Ack = c.sseq, c.cseq
	}
	for _, f := range flags {
		switch f {
		case 'S':
			tcp.SYN = true
		case 'A':
			tcp.ACK = true
		case 'F':
			tcp.FIN = true
		case 'P':
			tcp.PSH = true
		}
	}
	adv := uint32(len(payload))
	if tcp.SYN || tcp.FIN {
		adv++
	}
	if toServer {
		c.cseq += adv
	} else {
		c.sseq += adv
	}
	if lossy && g.cfg.Loss > 0 && g.rng.Float64() < g.cfg.Loss {
		g.truth.Dropped++
		return true, nil
	}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		return false, err
	}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ls := []gopacket.SerializableLayer{eth}
	if g.cfg.VLAN != 0 {
		eth.EthernetType = layers.EthernetTypeDot1Q
		ls = append(ls, &layers.Dot1Q{VLANIdentifier: g.cfg.VLAN, Type: layers.EthernetTypeIPv4})
	}
	ls = append(ls, ip, tcp, gopacket.Payload(payload))
	if err := gopacket.SerializeLayers(g.buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		return false, err
	}
	data := g.buf.Bytes()
	ci := gopacket.CaptureInfo{Timestamp: g.now, CaptureLength: len(data), Length: len(data)}
	if err := g.w.WritePacket(ci, data); err != nil {
		return false, err
	}
	g.truth.Packets++
	g.truth.Bytes += int64(len(data)) + 16
	return false, nil
}

// send writes a message as MSS-sized segments, then the peer's ACK.
func (g *generator) send(c *tcpConn, toServer bool, msg []byte) (lost bool, err error) {
	for len(msg) > 0 {
		n := min(len(msg), g.cfg.MSS)
		d, err := g.packet(c, toServer, "PA", msg[:n], true)
		if err != nil {
			return false, err
		}
		lost = lost || d
		msg = msg[n:]
	}
	_, err = g.packet(c, !toServer, "A", nil, false)
	return lost, err
}

func (g *generator) open(c *tcpConn) error {
	for _, p := range []struct {
		toServer bool
		flags    string
	}{{true, "S"}, {false, "SA"}, {true, "A"}} {
		if _, err := g.packet(c, p.toServer, p.flags, nil, false); err != nil {
			return err
		}
	}
	c.opened = true
	return nil
}

func (g *generator) close(c *tcpConn) error {
	if !c.opened {
		return nil
	}
	for _, p := range []struct {
		toServer bool
		flags    string
	}{{true, "FA"}, {false, "FA"}, {true, "A"}} {
		if _, err := g.packet(c, p.toServer, p.flags, nil, false); err != nil {
			return err
		}
	}
	c.opened = false
	return nil
}

func (g *generator) step(c *tcpConn) error {
	if !c.opened {
		if err := g.open(c); err != nil {
			return err
		}
	}
	method, path, reqBody, status, respBody := g.pick(c)
	var req bytes.Buffer
	fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: shop.example.test\r\nUser-Agent: synth/1\r\nAccept: application/json\r\n", method, path)
	if g.cfg.Anonymous <= 0 || !strings.HasPrefix(path, "/api/v1/products") || g.rng.Float64() >= g.cfg.Anonymous {
		fmt.Fprintf(&req, "Authorization: Bearer tok-%d\r\n", c.clientID)
	}
	if reqBody != nil {
		fmt.Fprintf(&req, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(reqBody))
	}
	req.WriteString("\r\n")
	req.Write(reqBody)
	lostReq, err := g.send(c, true, req.Bytes())
	if err != nil {
		return err
	}
	var resp bytes.Buffer
	fmt.Fprintf(&resp, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nDate: Fri, 02 Jan 2026 03:04:05 GMT\r\n", status, statusText(status))
	body := respBody
	switch {
	case status == 204:
		// No body and no framing headers: a 204 ends at its header section.
		resp.WriteString("\r\n")
	case g.rng.Float64() < g.cfg.Chunked:
		body = g.maybeGzip(&resp, body)
		resp.WriteString("Transfer-Encoding: chunked\r\n\r\n")
		for len(body) > 0 {
			n := min(len(body), 1+g.rng.IntN(2000))
			fmt.Fprintf(&resp, "%x\r\n", n)
			resp.Write(body[:n])
			resp.WriteString("\r\n")
			body = body[n:]
		}
		resp.WriteString("0\r\n\r\n")
	default:
		body = g.maybeGzip(&resp, body)
		fmt.Fprintf(&resp, "Content-Length: %d\r\n\r\n", len(body))
		resp.Write(body)
	}
	lostResp, err := g.send(c, false, resp.Bytes())
	if err != nil {
		return err
	}
	c.left--
	g.truth.Exchanges = append(g.truth.Exchanges, Exchange{Conn: c.idx, Method: method, Path: path, Status: status, Lost: lostReq || lostResp})
	return nil
}

// maybeGzip compresses body for a share of responses, adding the header.
func (g *generator) maybeGzip(resp *bytes.Buffer, body []byte) []byte {
	if g.rng.Float64() >= g.cfg.Gzip {
		return body
	}
	g.gz.Reset()
	g.gzw.Reset(&g.gz)
	g.gzw.Write(body)
	g.gzw.Close()
	resp.WriteString("Content-Encoding: gzip\r\n")
	return g.gz.Bytes()
}

func statusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 201:
		return "Created"
	case 204:
		return "No Content"
	case 404:
		return "Not Found"
	}
	return "Status"
}

var categories = []string{"books", "games", "garden", "kitchen", "toys"}

// pick chooses the next call of a small shop API, with ids drawn at random
// so that paths must be templated.
func (g *generator) pick(c *tcpConn) (method, path string, reqBody []byte, status int, respBody []byte) {
	r := g.rng
	uid := strconv.Itoa(1 + r.IntN(1_000_000))
	switch k := r.IntN(100); {
	case k < 30:
		return "GET", "/api/v1/users/" + uid, nil, 200, g.user(uid)
	case k < 40:
		return "GET", "/api/v1/users/me", nil, 200, g.user(strconv.Itoa(c.clientID))
	case k < 60:
		items := make([]map[string]any, 1+r.IntN(8))
		for i := range items {
			items[i] = g.order(i)
		}
		b, _ := json.Marshal(map[string]any{"orders": items, "total": len(items)})
		return "GET", "/api/v1/users/" + uid + "/orders?limit=" + strconv.Itoa(10*(1+r.IntN(5))), nil, 200, b
	case k < 75:
		cat := categories[r.IntN(len(categories))]
		items := make([]map[string]any, 3+r.IntN(20))
		for i := range items {
			items[i] = map[string]any{"sku": fmt.Sprintf("SKU-%06d", r.IntN(999999)), "name": "Product " + strconv.Itoa(r.IntN(5000)), "price": float64(r.IntN(100000)) / 100, "category": cat, "in_stock": r.IntN(2) == 0}
		}
		b, _ := json.Marshal(map[string]any{"items": items, "page": 1 + r.IntN(9)})
		return "GET", "/api/v1/products?category=" + cat + "&page=" + strconv.Itoa(1+r.IntN(9)), nil, 200, b
	case k < 88:
		c.orders++
		body, _ := json.Marshal(map[string]any{"user_id": c.clientID, "items": []map[string]any{{"sku": fmt.Sprintf("SKU-%06d", r.IntN(999999)), "qty": 1 + r.IntN(4)}}, "note": "leave at the door"})
		o, _ := json.Marshal(g.order(c.orders))
		return "POST", "/api/v1/orders", body, 201, o
	case k < 95:
		id := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), r.IntN(1<<12), r.Uint64()&(1<<48-1))
		return "DELETE", "/api/v1/sessions/" + id, nil, 204, nil
	default:
		return "GET", "/health", nil, 200, []byte(`{"status":"ok"}`)
	}
}

func (g *generator) user(id string) []byte {
	r := g.rng
	b, _ := json.Marshal(map[string]any{
		"id":         id,
		"name":       "User " + id,
		"email":      "user" + id + "@example.test",
		"created_at": g.cfg.Start.Add(-time.Duration(r.IntN(1e6)) * time.Second).Format(time.RFC3339),
		"roles":      []string{"customer"},
		"address":    map[string]any{"city": "Springfield", "zip": fmt.Sprintf("%05d", r.IntN(99999))},
	})
	return b
}

func (g *generator) order(i int) map[string]any {
	r := g.rng
	return map[string]any{"id": 100000 + r.IntN(900000), "status": []string{"new", "paid", "shipped"}[r.IntN(3)], "amount": float64(r.IntN(50000)) / 100, "line": i}
}

package reassembly_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/specter-dev/specter/reassembly"
)

func TestStreams(t *testing.T) {
	var got []*reassembly.Exchange
	s := reassembly.NewStreams(reassembly.DefaultConfig(), func(x *reassembly.Exchange) { got = append(got, x) })
	ts := time.Unix(100, 0)
	server := reassembly.StreamMeta{
		Local:   netip.MustParseAddrPort("127.0.0.1:8080"),
		Remote:  netip.MustParseAddrPort("127.0.0.1:50000"),
		Process: reassembly.Process{PID: 42, Comm: "api-server"},
	}
	// The server process reads requests and writes responses; chunks
	// split anywhere.
	s.Data(7, server, reassembly.Ingress, []byte("GET /users/1 HTTP/1.1\r\nHo"), ts)
	s.Data(7, server, reassembly.Ingress, []byte("st: api\r\n\r\n"), ts)
	s.Data(7, server, reassembly.Egress, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"), ts.Add(time.Millisecond))
	// A lost chunk of a second request's body: the request is flagged, the
	// response still pairs.
	s.Data(7, server, reassembly.Ingress, []byte("POST /users HTTP/1.1\r\nHost: api\r\nContent-Length: 10\r\n\r\n{\"a\""), ts.Add(2*time.Millisecond))
	s.Gap(7, server, reassembly.Ingress, 6, ts.Add(2*time.Millisecond))
	s.Data(7, server, reassembly.Egress, []byte("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"), ts.Add(3*time.Millisecond))
	// A client process on another socket, with a request never answered.
	client := reassembly.StreamMeta{
		Local:   netip.MustParseAddrPort("10.0.0.1:40000"),
		Remote:  netip.MustParseAddrPort("10.0.0.2:80"),
		Process: reassembly.Process{PID: 43, Comm: "curl"},
	}
	s.Data(8, client, reassembly.Egress, []byte("GET /x HTTP/1.1\r\nHost: b\r\n\r\n"), ts)
	s.Close(7, ts.Add(4*time.Millisecond))
	s.CloseAll(ts.Add(5 * time.Millisecond))

	if len(got) != 3 {
		t.Fatalf("got %d exchanges", len(got))
	}
	a, b, c := got[0], got[1], got[2]
	if a.Request.Target != "/users/1" || a.Response.StatusCode != 200 || a.Process == nil || a.Process.PID != 42 {
		t.Errorf("first: %+v", a)
	}
	if a.Flow.Server != server.Local || a.Flow.Client != server.Remote {
		t.Errorf("flow %+v", a.Flow)
	}
	if b.Request.Method != "POST" || b.Response.StatusCode != 201 || !b.Flags.Has(reassembly.FlagGap) {
		t.Errorf("second: %+v flags %v", b, b.Flags.Names())
	}
	if c.Request.Target != "/x" || c.Response != nil || !c.Flags.Has(reassembly.FlagUnmatchedRequest) || c.Process.Comm != "curl" {
		t.Errorf("third: %+v", c)
	}
	if c.Flow.Server != client.Remote || c.Flow.Client != client.Local {
		t.Errorf("client flow %+v", c.Flow)
	}
	if st := s.Stats(); st.Exchanges != 3 || st.Connections != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestStreamsBounded(t *testing.T) {
	cfg := reassembly.DefaultConfig()
	cfg.MaxConnections = 4
	n := 0
	s := reassembly.NewStreams(cfg, func(*reassembly.Exchange) { n++ })
	meta := reassembly.StreamMeta{Local: netip.MustParseAddrPort("127.0.0.1:1"), Remote: netip.MustParseAddrPort("127.0.0.1:2")}
	ts := time.Unix(1, 0)
	for i := uint64(0); i < 100; i++ {
		s.Data(i, meta, reassembly.Egress, []byte("GET / HTTP/1.1\r\n\r\n"), ts.Add(time.Duration(i)))
	}
	s.Flush(ts.Add(time.Hour))
	st := s.Stats()
	if st.EvictedConns != 96 || n != 100 || st.UnmatchedRequests != 100 {
		t.Errorf("evicted %d, delivered %d, stats %+v", st.EvictedConns, n, st)
	}
}

// The HTTP state held over all connections stays within MaxBufferedBytes:
// past it the least recently active connections shed theirs, delivering
// what they had.
func TestMemoryBudgetSheds(t *testing.T) {
	cfg := reassembly.DefaultConfig()
	cfg.MaxBufferedBytes = 1 << 20
	var got []*reassembly.Exchange
	s := reassembly.NewStreams(cfg, func(x *reassembly.Exchange) { got = append(got, x) })
	ts := time.Unix(1, 0)
	body := strings.Repeat("x", 100_000)
	for i := uint64(0); i < 50; i++ {
		meta := reassembly.StreamMeta{Local: netip.MustParseAddrPort("127.0.0.1:80"), Remote: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), uint16(1000+i))}
		// Half of a 200 kB body: the parser holds it while waiting.
		s.Data(i, meta, reassembly.Ingress, []byte("POST /up HTTP/1.1\r\nContent-Length: 200000\r\n\r\n"+body), ts.Add(time.Duration(i)))
	}
	st := s.Stats()
	if st.Shed == 0 {
		t.Fatalf("nothing shed: %+v", st)
	}
	// The shed ones were delivered, flagged, before the end of their body.
	if len(got) == 0 || !got[0].Flags.Has(reassembly.FlagGap) {
		t.Fatalf("shed connections delivered %d exchanges", len(got))
	}
	s.CloseAll(ts.Add(time.Second))
	if n := s.Stats().Requests; n != 50 {
		t.Errorf("%d requests delivered in all, want 50", n)
	}
}

package infer

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/http2"
	"github.com/specter-dev/specter/reassembly/message"
)

// pbMsg encodes a protobuf message from (number, value) pairs: a uint64 is
// a varint, a string or []byte length-delimited.
func pbMsg(kv ...any) []byte {
	var b []byte
	for i := 0; i+1 < len(kv); i += 2 {
		num := protowire.Number(kv[i].(int))
		switch v := kv[i+1].(type) {
		case uint64:
			b = protowire.AppendTag(b, num, protowire.VarintType)
			b = protowire.AppendVarint(b, v)
		case string:
			b = protowire.AppendTag(b, num, protowire.BytesType)
			b = protowire.AppendString(b, v)
		case []byte:
			b = protowire.AppendTag(b, num, protowire.BytesType)
			b = protowire.AppendBytes(b, v)
		}
	}
	return b
}

// grpcEx builds the exchange of one gRPC call on stream 2i+1 as the HTTP/2
// layer delivers it; status -1 leaves grpc-status out.
func grpcEx(i int, host, path string, status int, reqs, resps [][]byte) *reassembly.Exchange {
	start := t0.Add(time.Duration(i) * time.Second)
	g := &http2.GRPC{Method: path, Status: status, RequestCount: len(reqs), ResponseCount: len(resps)}
	if j := strings.LastIndexByte(path, '/'); j > 0 {
		g.Service, g.Name = path[1:j], path[j+1:]
	}
	for _, r := range reqs {
		g.Requests = append(g.Requests, http2.GRPCMessage{Length: uint32(len(r)), Data: r})
	}
	for _, r := range resps {
		g.Responses = append(g.Responses, http2.GRPCMessage{Length: uint32(len(r)), Data: r})
	}
	switch {
	case len(reqs) > 1 && len(resps) > 1:
		g.Kind = http2.BidiStreaming
	case len(reqs) > 1:
		g.Kind = http2.ClientStreaming
	case len(resps) > 1:
		g.Kind = http2.ServerStreaming
	}
	return &reassembly.Exchange{
		Flow:     reassembly.Flow{Client: netip.MustParseAddrPort("10.0.0.1:40000"), Server: netip.MustParseAddrPort("10.0.0.2:50051")},
		StreamID: uint32(2*i + 1),
		GRPC:     g,
		Request: &message.Request{Method: "POST", Target: path, Path: path, Proto: "HTTP/2", Authority: host,
			Header: http.Header{"Content-Type": {"application/grpc"}}, Start: start, End: start},
		Response: &message.Response{Proto: "HTTP/2", StatusCode: 200, Header: http.Header{"Content-Type": {"application/grpc"}},
			Start: start.Add(2 * time.Millisecond), End: start.Add(time.Duration(3+i%5) * time.Millisecond)},
	}
}

// grpcTraffic is a route_guide-like mix: unary, the three streaming
// kinds, a NOT_FOUND, a call whose trailers were lost, and a REST call on
// the same host.
func grpcTraffic() []*reassembly.Exchange {
	pt := pbMsg(1, uint64(409146138), 2, uint64(746188906))
	feature := pbMsg(1, "Berkshire Valley Management Area Trail", 2, pt)
	var xs []*reassembly.Exchange
	for i := 0; i < 5; i++ {
		xs = append(xs, grpcEx(len(xs), "rg:50051", "/routeguide.RouteGuide/GetFeature", 0, [][]byte{pt}, [][]byte{feature}))
	}
	xs = append(xs, grpcEx(len(xs), "rg:50051", "/routeguide.RouteGuide/GetFeature", 5, [][]byte{pt}, nil))
	xs = append(xs, grpcEx(len(xs), "rg:50051", "/routeguide.RouteGuide/ListFeatures", 0, [][]byte{pbMsg(1, pt, 2, pt)}, [][]byte{feature, feature, feature}))
	xs = append(xs, grpcEx(len(xs), "rg:50051", "/routeguide.RouteGuide/RecordRoute", 0, [][]byte{pt, pt, pt, pt}, [][]byte{pbMsg(1, uint64(4), 2, uint64(0), 3, uint64(12), 4, uint64(3))}))
	note := pbMsg(1, pt, 2, "alice.smith@example.com")
	xs = append(xs, grpcEx(len(xs), "rg:50051", "/routeguide.RouteGuide/RouteChat", 0, [][]byte{note, note}, [][]byte{note, note}))
	// A client-streaming call that sent one message looks unary.
	xs = append(xs, grpcEx(len(xs), "rg:50051", "/routeguide.RouteGuide/RecordRoute", -1, [][]byte{pt}, nil))
	xs = append(xs, ex(len(xs), "GET", "rg:50051", "/healthz", "", "", 200, "", ""))
	return xs
}

func TestGRPCInventory(t *testing.T) {
	m := NewModel(Config{})
	for _, x := range grpcTraffic() {
		m.Observe(x)
	}
	got := map[string]GRPCMethodSummary{}
	for _, s := range m.GRPCMethods() {
		got[s.Template] = s
	}
	tests := []struct {
		path       string
		kind       string
		count      uint64
		reqs, resp uint64
		statuses   map[string]uint64
		sensitive  []string
	}{
		{"/routeguide.RouteGuide/GetFeature", "unary", 6, 6, 5, map[string]uint64{"OK": 5, "NOT_FOUND": 1}, nil},
		{"/routeguide.RouteGuide/ListFeatures", "server_streaming", 1, 1, 3, map[string]uint64{"OK": 1}, nil},
		{"/routeguide.RouteGuide/RecordRoute", "client_streaming", 2, 5, 1, map[string]uint64{"OK": 1, "none": 1}, nil},
		{"/routeguide.RouteGuide/RouteChat", "bidi_streaming", 1, 2, 2, map[string]uint64{"OK": 1}, []string{"email"}},
	}
	if len(got) != len(tests) {
		t.Errorf("%d methods, want %d: %v", len(got), len(tests), got)
	}
	for _, tc := range tests {
		s, ok := got[tc.path]
		if !ok {
			t.Errorf("%s: not in the inventory", tc.path)
			continue
		}
		if s.Kind != tc.kind || s.Count != tc.count || s.RequestMessages != tc.reqs || s.ResponseMessages != tc.resp {
			t.Errorf("%s: kind %s count %d messages %d/%d, want %s %d %d/%d", tc.path, s.Kind, s.Count, s.RequestMessages, s.ResponseMessages, tc.kind, tc.count, tc.reqs, tc.resp)
		}
		if fmt.Sprint(s.GRPCStatuses) != fmt.Sprint(tc.statuses) {
			t.Errorf("%s: statuses %v, want %v", tc.path, s.GRPCStatuses, tc.statuses)
		}
		if s.Statuses[200] != tc.count || len(s.Statuses) != 1 {
			t.Errorf("%s: HTTP statuses %v, want 200×%d", tc.path, s.Statuses, tc.count)
		}
		if !slices.Equal(s.Sensitive, tc.sensitive) {
			t.Errorf("%s: sensitive %v, want %v", tc.path, s.Sensitive, tc.sensitive)
		}
		if s.Service != "rg:50051" || s.GRPCService != "routeguide.RouteGuide" || s.Method != "POST" || s.Protocol != "grpc" {
			t.Errorf("%s: identity %+v", tc.path, s)
		}
		if s.Latency.P50 <= 0 {
			t.Errorf("%s: no latency", tc.path)
		}
	}
	if s := got["/routeguide.RouteGuide/RouteChat"]; len(s.SensitiveFields["request.2"]) == 0 || len(s.SensitiveFields["response.2"]) == 0 {
		t.Errorf("RouteChat sensitive fields %v, want request.2 and response.2", s.SensitiveFields)
	}
	// The nested Point of GetFeature's response is a message of two varints.
	gf := m.ByName["rg:50051"].GRPC["routeguide.RouteGuide"].Methods["GetFeature"]
	if f := gf.Response.Fields; len(f) != 2 || f[0].Kind.String() != "string" || f[1].Kind.String() != "message" || len(f[1].Message.Fields) != 2 {
		t.Errorf("GetFeature response shape %+v", f)
	}
	// The REST call is an endpoint; the gRPC calls are not.
	var eps []string
	for _, e := range m.Endpoints() {
		eps = append(eps, e.Method+" "+e.Template)
	}
	if !slices.Equal(eps, []string{"GET /healthz"}) {
		t.Errorf("endpoints %v, want only GET /healthz", eps)
	}
}

// TestGRPCNotTemplated: a service with many methods must not turn into a
// REST template POST /pkg.Service/{x}, whatever the trie would decide for
// so many sibling paths; and a gRPC call whose path is unknown is counted
// and placed nowhere.
func TestGRPCNotTemplated(t *testing.T) {
	tests := []struct {
		name    string
		methods int
		path    func(i int) string
		grpc    bool
		want    int // gRPC methods listed
		unnamed uint64
	}{
		{"many methods", 60, func(i int) string { return fmt.Sprintf("/shop.Catalog/GetItem%d", i) }, true, 60, 0},
		{"id-like method names", 40, func(i int) string { return fmt.Sprintf("/shop.Catalog/%08x", i*7919) }, true, 40, 0},
		{"unknown path", 5, func(int) string { return "" }, true, 0, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewModel(Config{})
			for i := 0; i < tc.methods; i++ {
				x := grpcEx(i, "shop", tc.path(i), 0, [][]byte{pbMsg(1, uint64(i))}, [][]byte{pbMsg(1, "x")})
				m.Observe(x)
				m.Observe(x)
			}
			if n := len(m.GRPCMethods()); n != tc.want {
				t.Errorf("%d gRPC methods, want %d", n, tc.want)
			}
			if eps := m.Endpoints(); len(eps) != 0 {
				t.Errorf("gRPC calls became REST endpoints: %v %v", eps[0].Method, eps[0].Template)
			}
			if m.Stats.GRPCUnnamed != 2*tc.unnamed {
				t.Errorf("unnamed %d, want %d", m.Stats.GRPCUnnamed, 2*tc.unnamed)
			}
		})
	}
}

func TestGRPCBounds(t *testing.T) {
	cfg := Config{}
	cfg.Limits.MaxGRPCMethods = 2
	cfg.Limits.MaxGRPCServices = 1
	m := NewModel(cfg)
	for i, p := range []string{"/a.S/One", "/a.S/Two", "/a.S/Three", "/b.T/One", "/a.S/One"} {
		m.Observe(grpcEx(i, "h", p, 0, [][]byte{pbMsg(1, uint64(1))}, nil))
	}
	if n := len(m.GRPCMethods()); n != 2 {
		t.Errorf("%d methods, want 2", n)
	}
	if m.Stats.DroppedGRPC != 2 {
		t.Errorf("DroppedGRPC %d, want 2", m.Stats.DroppedGRPC)
	}
	if d := m.ByName["h"].GRPC["a.S"].DroppedMethods; d != 1 {
		t.Errorf("a.S DroppedMethods %d, want 1", d)
	}
}

// TestGRPCMergeOrder: observing everything into one model, or halves into
// two merged in either order, or through a JSON round trip (the store),
// gives the same gRPC inventory.
func TestGRPCMergeOrder(t *testing.T) {
	xs := grpcTraffic()
	state := func(m *Model) string {
		var parts []string
		for _, name := range m.Services() {
			b, err := json.Marshal(m.ByName[name].GRPC)
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, name+"="+string(b))
		}
		return strings.Join(parts, "\n")
	}
	whole := NewModel(Config{})
	for _, x := range xs {
		whole.Observe(x)
	}
	want := state(whole)
	for _, cut := range []int{0, 3, 7, len(xs)} {
		a, b := NewModel(Config{}), NewModel(Config{})
		for _, x := range xs[:cut] {
			a.Observe(x)
		}
		for _, x := range xs[cut:] {
			b.Observe(x)
		}
		for _, order := range [][2]*Model{{a, b}, {b, a}} {
			m := NewModel(Config{})
			for _, src := range order {
				// Through JSON, as the store keeps services.
				js, err := json.Marshal(src.ByName)
				if err != nil {
					t.Fatal(err)
				}
				back := NewModel(Config{})
				if err := json.Unmarshal(js, &back.ByName); err != nil {
					t.Fatal(err)
				}
				m.Merge(back)
			}
			if got := state(m); got != want {
				t.Errorf("cut %d: merged inventory differs:\n got %s\nwant %s", cut, got, want)
			}
		}
	}
}

// FuzzGRPCObserve: any message bytes and method path cost no panic, keep
// the shapes within their bounds, and survive the store's JSON round trip.
func FuzzGRPCObserve(f *testing.F) {
	f.Add("/routeguide.RouteGuide/GetFeature", pbMsg(1, uint64(1), 2, "alice@example.com"), []byte{0x0a, 0x80}, 0)
	f.Add("/a/b", []byte{0x12, 0x02, 0x0a, 0x00}, pbMsg(1, pbMsg(1, pbMsg(1, "x"))), 5)
	f.Add("", []byte(nil), []byte(nil), -1)
	f.Fuzz(func(t *testing.T, path string, req, resp []byte, status int) {
		m := NewModel(Config{})
		m.Observe(grpcEx(0, "h", path, status, [][]byte{req, resp}, [][]byte{resp}))
		m.Observe(grpcEx(1, "h", path, status, [][]byte{resp}, [][]byte{req, req}))
		if len(m.Endpoints()) != 0 {
			t.Fatal("a gRPC call became an endpoint")
		}
		for _, s := range m.ByName {
			b, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			var back Service
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("round trip: %v", err)
			}
			for _, g := range back.GRPC {
				for _, gm := range g.Methods {
					if err := gm.Request.Validate(); err != nil {
						t.Fatal(err)
					}
					if err := gm.Response.Validate(); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	})
}

// BenchmarkGRPCObserve measures what a gRPC call costs the inventory, the
// route_guide mix (unary, the three streaming kinds) observed in turn.
func BenchmarkGRPCObserve(b *testing.B) {
	xs := grpcTraffic()
	xs = xs[:len(xs)-1] // the REST call
	m := NewModel(Config{})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Observe(xs[i%len(xs)])
	}
}

// TestGRPCCompressed: messages in gzip and deflate are decoded (within
// maxDecoded) and shaped; other encodings, corrupt data and bombs are
// counted, not shaped.
func TestGRPCCompressed(t *testing.T) {
	msg := pbMsg(1, "alice@example.com", 2, uint64(7))
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	var zl bytes.Buffer
	zw := zlib.NewWriter(&zl)
	zw.Write(msg)
	zw.Close()
	tests := []struct {
		name, encoding string
		data           []byte
		shaped         bool
	}{
		{"gzip", "gzip", gz(msg), true},
		{"deflate", "deflate", zl.Bytes(), true},
		{"snappy", "snappy", msg, false},
		{"corrupt gzip", "gzip", gz(msg)[:8], false},
		{"bomb", "gzip", gz(bytes.Repeat([]byte{0x08, 0x01}, maxDecoded)), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewModel(Config{})
			x := grpcEx(0, "h", "/p.S/M", 0, [][]byte{tc.data}, nil)
			x.GRPC.Requests[0].Compressed = true
			x.GRPC.RequestEncoding = tc.encoding
			m.Observe(x)
			gm := m.ByName["h"].GRPC["p.S"].Methods["M"]
			if got := len(gm.Request.Fields) == 2; got != tc.shaped {
				t.Errorf("shaped %v (fields %d), want %v", got, len(gm.Request.Fields), tc.shaped)
			}
			if (gm.Compressed == 1) == tc.shaped {
				t.Errorf("Compressed %d", gm.Compressed)
			}
			if tc.shaped && gm.Sensitive == 0 {
				t.Error("the decoded message's email was not found")
			}
		})
	}
}

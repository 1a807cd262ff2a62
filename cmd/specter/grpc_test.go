package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bufbuild/protocompile"
	xhttp2 "golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/diff"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/http2"
	"github.com/specter-dev/specter/reassembly/message"
	"github.com/specter-dev/specter/store"
)

// routeGuideProto is the declared API of the tests: route_guide's
// messages, GetFeature, ListFeatures marked deprecated, RecordRoute (no
// traffic in the tests) and no RouteChat.
const routeGuideProto = `syntax = "proto3";
package routeguide;
service RouteGuide {
  rpc GetFeature(Point) returns (Feature);
  rpc ListFeatures(Rectangle) returns (stream Feature) { option deprecated = true; }
  rpc RecordRoute(stream Point) returns (RouteSummary);
}
message Point { int32 latitude = 1; int32 longitude = 2; }
message Rectangle { Point lo = 1; Point hi = 2; }
message Feature { string name = 1; Point location = 2; }
message RouteSummary { int32 point_count = 1; int32 feature_count = 2; int32 distance = 3; int32 elapsed_time = 4; }
`

// writeProtoset compiles src into a FileDescriptorSet file: with protoc
// when installed (make deps-h2), else with protocompile.
func writeProtoset(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "route_guide.proto"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "route_guide.protoset")
	if protoc, err := exec.LookPath("protoc"); err == nil {
		if b, err := exec.Command(protoc, "-I", dir, "--descriptor_set_out="+out, filepath.Join(dir, "route_guide.proto")).CombinedOutput(); err != nil {
			t.Fatalf("protoc: %v: %s", err, b)
		}
		return out
	}
	t.Log("protoc not installed (make deps-h2): the protoset is compiled with protocompile")
	c := protocompile.Compiler{Resolver: &protocompile.SourceResolver{ImportPaths: []string{dir}}}
	fs, err := c.Compile(context.Background(), "route_guide.proto")
	if err != nil {
		t.Fatal(err)
	}
	set := &descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{protodesc.ToFileDescriptorProto(fs[0])}}
	b, err := proto.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// compileProto compiles one exported .proto file with protocompile.
func compileProto(t *testing.T, path string) {
	t.Helper()
	c := protocompile.Compiler{Resolver: &protocompile.SourceResolver{ImportPaths: []string{filepath.Dir(path)}}}
	if _, err := c.Compile(context.Background(), filepath.Base(path)); err != nil {
		b, _ := os.ReadFile(path)
		t.Errorf("%s does not compile: %v\n%s", path, err, b)
	}
}

// wire encodes a protobuf message: a uint64 is a varint field, a string
// or []byte a length-delimited one.
func wire(kv ...any) []byte {
	var b []byte
	for i := 0; i+1 < len(kv); i += 2 {
		n := protowire.Number(kv[i].(int))
		switch v := kv[i+1].(type) {
		case uint64:
			b = protowire.AppendVarint(protowire.AppendTag(b, n, protowire.VarintType), v)
		case string:
			b = protowire.AppendString(protowire.AppendTag(b, n, protowire.BytesType), v)
		case []byte:
			b = protowire.AppendBytes(protowire.AppendTag(b, n, protowire.BytesType), v)
		}
	}
	return b
}

// grpcCall is one call of the route_guide traffic of the tests.
type grpcCall struct {
	path        string
	status      int
	reqs, resps [][]byte
}

// routeGuideCalls is unary (one NOT_FOUND), server and client streaming
// and bidirectional calls, one with an undeclared field (9) in its
// request.
func routeGuideCalls() []grpcCall {
	pt := wire(1, uint64(409146138), 2, uint64(746188906))
	feature := wire(1, "Berkshire Valley Management Area Trail", 2, pt)
	note := wire(1, pt, 2, "bob@example.com")
	return []grpcCall{
		{"/routeguide.RouteGuide/GetFeature", 0, [][]byte{pt}, [][]byte{feature}},
		{"/routeguide.RouteGuide/GetFeature", 0, [][]byte{pt}, [][]byte{feature}},
		{"/routeguide.RouteGuide/GetFeature", 5, [][]byte{wire(1, uint64(1), 9, uint64(1))}, nil},
		{"/routeguide.RouteGuide/ListFeatures", 0, [][]byte{wire(1, pt, 2, pt)}, [][]byte{feature, feature, feature}},
		{"/routeguide.RouteGuide/RouteChat", 0, [][]byte{note, note}, [][]byte{note, note}},
	}
}

// grpcExchange is a call as reassembly delivers it (the HTTP/2 contract).
func grpcExchange(i int, c grpcCall) *reassembly.Exchange {
	at := time.Date(2026, 5, 1, 0, 0, i, 0, time.UTC)
	i2 := strings.LastIndexByte(c.path, '/')
	g := &http2.GRPC{Method: c.path, Service: c.path[1:i2], Name: c.path[i2+1:], Status: c.status, RequestCount: len(c.reqs), ResponseCount: len(c.resps)}
	for _, m := range c.reqs {
		g.Requests = append(g.Requests, http2.GRPCMessage{Length: uint32(len(m)), Data: m})
	}
	for _, m := range c.resps {
		g.Responses = append(g.Responses, http2.GRPCMessage{Length: uint32(len(m)), Data: m})
	}
	switch {
	case len(c.reqs) > 1 && len(c.resps) > 1:
		g.Kind = http2.BidiStreaming
	case len(c.reqs) > 1:
		g.Kind = http2.ClientStreaming
	case len(c.resps) > 1:
		g.Kind = http2.ServerStreaming
	}
	return &reassembly.Exchange{StreamID: uint32(2*i + 1), GRPC: g,
		Request: &message.Request{Method: "POST", Path: c.path, Target: c.path, Proto: "HTTP/2", Authority: "rg.test:50051",
			Header: http.Header{"Content-Type": {"application/grpc"}}, Start: at},
		Response: &message.Response{Proto: "HTTP/2", StatusCode: 200, Header: http.Header{"Content-Type": {"application/grpc"}},
			Start: at, End: at.Add(2 * time.Millisecond)},
	}
}

// grpcDB is a database holding the route_guide calls.
func grpcDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "grpc.db")
	ctx := context.Background()
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	in, err := db.BeginRun(ctx, store.RunInfo{Inputs: []string{"test"}, Version: "test"}, store.IngestOptions{Every: 2, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range routeGuideCalls() {
		in.Observe(grpcExchange(i, c))
	}
	if err := in.Finish(ctx, store.RunTotals{Complete: true}); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkGRPCInventory runs the commands over db (a database of the
// route_guide calls) and checks what they print.
func checkGRPCInventory(t *testing.T, db string) {
	t.Helper()
	protoset := writeProtoset(t, routeGuideProto)
	// endpoints: a table of the gRPC methods, no made-up REST template.
	out := mustRun(t, "endpoints", "--db", db)
	for _, want := range []string{"GRPC SERVICE", "GetFeature", "unary", "OK×2 NOT_FOUND×1", "ListFeatures", "server_streaming", "RouteChat", "bidi_streaming", "email"} {
		if !strings.Contains(out, want) {
			t.Errorf("endpoints lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "{") {
		t.Errorf("endpoints shows a template:\n%s", out)
	}
	// endpoints --json: one array, every entry an EndpointSummary.
	out = mustRun(t, "endpoints", "--db", db, "--json")
	var eps []infer.EndpointSummary
	if err := json.Unmarshal([]byte(out), &eps); err != nil {
		t.Fatalf("endpoints --json does not decode as endpoints: %v", err)
	}
	// As endpoints, a method has its count and HTTP statuses.
	if i := slices.IndexFunc(eps, func(e infer.EndpointSummary) bool { return e.Template == "/routeguide.RouteGuide/GetFeature" }); i < 0 ||
		eps[i].Method != "POST" || eps[i].Count != 3 || eps[i].Statuses[200] != 3 {
		t.Errorf("GetFeature as an endpoint: %+v", eps)
	}
	var grpcs []infer.GRPCMethodSummary
	if err := json.Unmarshal([]byte(out), &grpcs); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, g := range grpcs {
		if g.Protocol == "grpc" {
			paths = append(paths, g.Template+" "+g.Kind)
		}
	}
	if want := []string{"/routeguide.RouteGuide/GetFeature unary", "/routeguide.RouteGuide/ListFeatures server_streaming", "/routeguide.RouteGuide/RouteChat bidi_streaming"}; !slices.Equal(paths, want) {
		t.Errorf("endpoints --json gRPC methods %v, want %v", paths, want)
	}
	// show, table and JSON, by POST or GRPC.
	out = mustRun(t, "show", "--db", db, "POST", "/routeguide.RouteGuide/GetFeature")
	for _, want := range []string{"grpc method", "/routeguide.RouteGuide/GetFeature", "3", "NOT_FOUND×1", "rpc GetFeature(GetFeatureRequest) returns (GetFeatureResponse);", "field_9 = 9;"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	out = mustRun(t, "show", "--db", db, "--json", "GRPC", "/routeguide.RouteGuide/RouteChat")
	var details []grpcDetail
	if err := json.Unmarshal([]byte(out), &details); err != nil || len(details) != 1 {
		t.Fatalf("show --json: %v: %s", err, out)
	}
	if d := details[0]; d.GRPC.Kind != "bidi_streaming" || d.GRPC.RequestMessages != 2 || !strings.Contains(d.Proto, "rpc RouteChat(stream RouteChatRequest) returns (stream RouteChatResponse);") {
		t.Errorf("show --json: %+v", d)
	}
	if _, _, code := run(t, "show", "--db", db, "POST", "/routeguide.RouteGuide/Nope"); code != exitPartial {
		t.Errorf("show of an unknown method: exit %d, want %d", code, exitPartial)
	}
	// export --format proto: a file per service that compiles, named by
	// the protoset where it declares the method.
	dir := filepath.Join(t.TempDir(), "protos")
	mustRun(t, "export", "--db", db, "--format", "proto", "-o", dir)
	file := filepath.Join(dir, "routeguide.RouteGuide.proto")
	compileProto(t, file)
	named := mustRun(t, "export", "--db", db, "--format", "proto", "--proto", protoset)
	for _, want := range []string{"rpc GetFeature(Point) returns (Feature);", "int32 latitude = 1;", "rpc RouteChat(stream RouteChatRequest) returns (stream RouteChatResponse); // not in the protoset", "message Rectangle {"} {
		if !strings.Contains(named, want) {
			t.Errorf("export --proto lacks %q:\n%s", want, named)
		}
	}
	namedFile := filepath.Join(t.TempDir(), "named.proto")
	if err := os.WriteFile(namedFile, []byte(named), 0o644); err != nil {
		t.Fatal(err)
	}
	compileProto(t, namedFile)
	// diff --proto: the findings, their exit code with --fail-on, SARIF.
	out = mustRun(t, "diff", "--db", db, "--proto", protoset, "--format", "json")
	rep, err := diff.ReadReport(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range rep.Findings {
		got = append(got, string(f.Kind)+" "+f.Path+" "+f.Rule)
	}
	slices.Sort(got)
	want := []string{
		"noncompliant_request /routeguide.RouteGuide/GetFeature grpc-request:undeclared-field:Point.field_9",
		"shadow /routeguide.RouteGuide/RouteChat grpc-undeclared-method",
		"unused /routeguide.RouteGuide/RecordRoute grpc-no-traffic",
		"zombie /routeguide.RouteGuide/ListFeatures grpc-deprecated",
	}
	if !slices.Equal(got, want) {
		t.Errorf("diff --proto findings:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, errs, code := run(t, "diff", "--db", db, "--proto", protoset, "--fail-on", "shadow"); code != exitFindings {
		t.Errorf("diff --fail-on shadow: exit %d, want %d: %s", code, exitFindings, errs)
	}
	out = mustRun(t, "diff", "--db", db, "--proto", protoset, "--format", "sarif")
	var sarif map[string]any
	if err := json.Unmarshal([]byte(out), &sarif); err != nil || !strings.Contains(out, "grpc-undeclared-method") {
		t.Errorf("diff --format sarif: %v", err)
	}
	if _, errs, code := run(t, "diff", "--db", db, "--proto", filepath.Join(dir, "routeguide.RouteGuide.proto")); code != exitFatal || !strings.Contains(errs, "FileDescriptorSet") {
		t.Errorf("--proto with a .proto source: exit %d: %s", code, errs)
	}
}

// TestGRPCCommands: endpoints, show, export --format proto and diff
// --proto over an inventory of gRPC calls.
func TestGRPCCommands(t *testing.T) {
	checkGRPCInventory(t, grpcDB(t))
}

// h2cCalls encodes the calls as one h2c (prior knowledge) connection, one
// request/response pair per call on streams 1, 3, 5…: the client's
// preface, SETTINGS, HEADERS and length-prefixed DATA; the server's
// SETTINGS, HEADERS, DATA and grpc-status trailers. Each direction has
// one HPACK encoder, so later header blocks refer to its dynamic table.
func h2cCalls(t *testing.T, calls []grpcCall) (reqs, resps []string) {
	t.Helper()
	var cbuf, sbuf, cblock, sblock bytes.Buffer
	cf, sf := xhttp2.NewFramer(&cbuf, nil), xhttp2.NewFramer(&sbuf, nil)
	cenc, senc := hpack.NewEncoder(&cblock), hpack.NewEncoder(&sblock)
	block := func(enc *hpack.Encoder, buf *bytes.Buffer, kv ...string) []byte {
		buf.Reset()
		for i := 0; i+1 < len(kv); i += 2 {
			if err := enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]}); err != nil {
				t.Fatal(err)
			}
		}
		return slices.Clone(buf.Bytes())
	}
	frames := func(msgs [][]byte) []byte {
		var b []byte
		for _, m := range msgs {
			b = append(b, 0, byte(len(m)>>24), byte(len(m)>>16), byte(len(m)>>8), byte(len(m)))
			b = append(b, m...)
		}
		return b
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range calls {
		id := uint32(2*i + 1)
		cbuf.Reset()
		sbuf.Reset()
		if i == 0 {
			cbuf.WriteString(xhttp2.ClientPreface)
			must(cf.WriteSettings())
			must(sf.WriteSettings(xhttp2.Setting{ID: xhttp2.SettingMaxConcurrentStreams, Val: 100}))
			must(sf.WriteSettingsAck())
		}
		must(cf.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: id, EndHeaders: true, BlockFragment: block(cenc, &cblock,
			":method", "POST", ":scheme", "http", ":path", c.path, ":authority", "rg.test:50051",
			"content-type", "application/grpc", "te", "trailers", "user-agent", "grpc-go/1.85.0")}))
		must(cf.WriteData(id, true, frames(c.reqs)))
		must(sf.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: id, EndHeaders: true, BlockFragment: block(senc, &sblock,
			":status", "200", "content-type", "application/grpc")}))
		for _, m := range c.resps {
			must(sf.WriteData(id, false, frames([][]byte{m})))
		}
		must(sf.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: id, EndHeaders: true, EndStream: true, BlockFragment: block(senc, &sblock,
			"grpc-status", strconv.Itoa(c.status))}))
		reqs, resps = append(reqs, cbuf.String()), append(resps, sbuf.String())
	}
	return reqs, resps
}

// TestGRPCPcapEndToEnd: a capture of route_guide calls over h2c, through
// analyze --db, endpoints, show, export --format proto and diff --proto,
// and analyze --proto. It needs reassembly to turn HTTP/2 connections into
// exchanges (the HTTP/2 wiring); until then it skips, saying so.
func TestGRPCPcapEndToEnd(t *testing.T) {
	dir := t.TempDir()
	pcap := filepath.Join(dir, "route_guide.pcap")
	reqs, resps := h2cCalls(t, routeGuideCalls())
	writeConnPcap(t, pcap, reqs, resps)
	db := filepath.Join(dir, "rg.db")
	out := mustRun(t, "analyze", "--db", db, "--json", pcap)
	var sum struct {
		Reassembly struct {
			ConnsHTTP2 uint64 `json:"conns_http2"`
			Exchanges  uint64 `json:"exchanges"`
		} `json:"reassembly"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Reassembly.Exchanges == 0 {
		if sum.Reassembly.ConnsHTTP2 == 0 {
			t.Fatalf("the capture's connection was not even recognized as HTTP/2: %s", out)
		}
		t.Skipf("reassembly recognized %d HTTP/2 connection(s) but yields no HTTP/2 exchanges yet (the HTTP/2 wiring of reassembly is not merged)", sum.Reassembly.ConnsHTTP2)
	}
	if sum.Reassembly.Exchanges != uint64(len(routeGuideCalls())) {
		t.Errorf("%d exchanges, want %d", sum.Reassembly.Exchanges, len(routeGuideCalls()))
	}
	checkGRPCInventory(t, db)
	// analyze --proto, in memory: the same findings as diff --proto.
	protoset := writeProtoset(t, routeGuideProto)
	out = mustRun(t, "analyze", "--json", "--proto", protoset, pcap)
	var rep struct {
		Findings []diff.Finding `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	kinds := map[diff.Kind]int{}
	for _, f := range rep.Findings {
		kinds[f.Kind]++
	}
	if kinds[diff.KindShadow] != 1 || kinds[diff.KindZombie] != 1 || kinds[diff.KindNoncompliantRequest] != 1 || kinds[diff.KindUnused] != 1 {
		t.Errorf("analyze --proto findings by kind %v", kinds)
	}
}

// TestH2cCallsDecode: the connection TestGRPCPcapEndToEnd captures is one
// reassembly/http2 decodes into the calls it encodes, so that the
// end-to-end test checks the wiring, not its input.
func TestH2cCallsDecode(t *testing.T) {
	calls := routeGuideCalls()
	reqs, resps := h2cCalls(t, calls)
	var got []*http2.Exchange
	c := http2.NewConn(nil, http2.HandlerFunc(func(x *http2.Exchange) { got = append(got, x) }))
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := range reqs {
		c.Feed(0, []byte(reqs[i]), at)
		c.Feed(1, []byte(resps[i]), at)
	}
	c.Close(at)
	if err := c.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(calls) {
		t.Fatalf("%d exchanges, want %d", len(got), len(calls))
	}
	for i, x := range got {
		g, want := x.GRPC, calls[i]
		if g == nil || g.Method != want.path || g.Status != want.status || g.RequestCount != len(want.reqs) || g.ResponseCount != len(want.resps) {
			t.Errorf("stream %d: %+v, want %s status %d, %d/%d messages", x.StreamID, g, want.path, want.status, len(want.reqs), len(want.resps))
		}
	}
}

// TestCheckedByProtosets: with protosets, a service whose traffic was all
// gRPC is no longer listed as unchecked; one with REST traffic too still
// is, and without protosets nothing changes.
func TestCheckedByProtosets(t *testing.T) {
	m := infer.NewModel(infer.Config{})
	for i, c := range routeGuideCalls() {
		m.Observe(grpcExchange(i, c))
	}
	mixed := grpcExchange(9, routeGuideCalls()[0])
	mixed.Request.Authority = "mixed.test"
	m.Observe(mixed)
	rest := grpcExchange(10, routeGuideCalls()[0])
	rest.GRPC, rest.Request.Authority, rest.Request.Path, rest.Request.Method = nil, "mixed.test", "/health", "GET"
	m.Observe(rest)
	protos, err := (&protoFlags{paths: []string{writeProtoset(t, routeGuideProto)}}).load()
	if err != nil {
		t.Fatal(err)
	}
	unchecked := []string{"mixed.test", "rg.test:50051", "unseen.test"}
	if got := checkedByProtosets(unchecked, m, protos); !slices.Equal(got, []string{"mixed.test", "unseen.test"}) {
		t.Errorf("with protosets: %v", got)
	}
	if got := checkedByProtosets(unchecked, m, nil); !slices.Equal(got, unchecked) {
		t.Errorf("without protosets: %v", got)
	}
}

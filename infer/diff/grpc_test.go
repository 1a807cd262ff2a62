package diff

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/grpcshape"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/http2"
	"github.com/specter-dev/specter/reassembly/message"
)

// routeGuideSet is route_guide's Point and Feature with GetFeature,
// ListFeatures (deprecated) and RecordRoute, and a service Admin nobody
// calls, as protoc --descriptor_set_out writes it.
func routeGuideSet(t *testing.T) []byte {
	t.Helper()
	field := func(name string, n int32, typ descriptorpb.FieldDescriptorProto_Type, tn string) *descriptorpb.FieldDescriptorProto {
		d := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(n), Type: typ.Enum(),
			Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), JsonName: proto.String(name)}
		if tn != "" {
			d.TypeName = proto.String(tn)
		}
		return d
	}
	method := func(name, in, out string, dep bool) *descriptorpb.MethodDescriptorProto {
		m := &descriptorpb.MethodDescriptorProto{Name: proto.String(name), InputType: proto.String(in), OutputType: proto.String(out)}
		if dep {
			m.Options = &descriptorpb.MethodOptions{Deprecated: proto.Bool(true)}
		}
		return m
	}
	const (
		i32 = descriptorpb.FieldDescriptorProto_TYPE_INT32
		str = descriptorpb.FieldDescriptorProto_TYPE_STRING
		msg = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
	)
	set := &descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{{
		Name: proto.String("route_guide.proto"), Package: proto.String("routeguide"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("Point"), Field: []*descriptorpb.FieldDescriptorProto{field("latitude", 1, i32, ""), field("longitude", 2, i32, "")}},
			{Name: proto.String("Feature"), Field: []*descriptorpb.FieldDescriptorProto{field("name", 1, str, ""), field("location", 2, msg, ".routeguide.Point")}},
		},
		Service: []*descriptorpb.ServiceDescriptorProto{
			{Name: proto.String("RouteGuide"), Method: []*descriptorpb.MethodDescriptorProto{
				method("GetFeature", ".routeguide.Point", ".routeguide.Feature", false),
				method("ListFeatures", ".routeguide.Point", ".routeguide.Feature", true),
				method("RecordRoute", ".routeguide.Point", ".routeguide.Feature", false),
			}},
			{Name: proto.String("Admin"), Method: []*descriptorpb.MethodDescriptorProto{method("Reset", ".routeguide.Point", ".routeguide.Point", false)}},
		},
	}}}
	b, err := proto.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func grpcCall(i int, path string, req, resp []byte) *reassembly.Exchange {
	at := time.Date(2026, 4, 1, 0, 0, i, 0, time.UTC)
	svc, name, _ := grpcshape.SplitPath(path)
	return &reassembly.Exchange{
		GRPC: &http2.GRPC{Method: path, Service: svc, Name: name, Status: 0, RequestCount: 1, ResponseCount: 1,
			Requests: []http2.GRPCMessage{{Length: uint32(len(req)), Data: req}}, Responses: []http2.GRPCMessage{{Length: uint32(len(resp)), Data: resp}}},
		Request:  &message.Request{Method: "POST", Path: path, Target: path, Proto: "HTTP/2", Authority: "rg:50051", Header: http.Header{}, Start: at},
		Response: &message.Response{Proto: "HTTP/2", StatusCode: 200, Header: http.Header{}, Start: at, End: at.Add(time.Millisecond)},
	}
}

func TestGRPCFindings(t *testing.T) {
	files, err := grpcshape.LoadProtoset(routeGuideSet(t))
	if err != nil {
		t.Fatal(err)
	}
	pb := func(kv ...uint64) []byte {
		var b []byte
		for i := 0; i+1 < len(kv); i += 2 {
			b = protowire.AppendVarint(protowire.AppendTag(b, protowire.Number(kv[i]), protowire.VarintType), kv[i+1])
		}
		return b
	}
	point := pb(1, 409146138, 2, 746188906)
	feature := protowire.AppendBytes(protowire.AppendTag(protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "trail"), 2, protowire.BytesType), point)
	m := infer.NewModel(infer.Config{})
	xs := []*reassembly.Exchange{
		grpcCall(0, "/routeguide.RouteGuide/GetFeature", point, feature),
		grpcCall(1, "/routeguide.RouteGuide/GetFeature", pb(1, 1, 9, 1), feature), // field 9 undeclared
		grpcCall(2, "/routeguide.RouteGuide/ListFeatures", point, feature),
		grpcCall(3, "/routeguide.RouteGuide/RouteChat", point, point),
		grpcCall(4, "/shadow.Debug/Dump", nil, nil),
	}
	for _, x := range xs {
		m.Observe(x)
	}
	got := map[string]Finding{}
	for _, f := range GRPCFindings(m, files) {
		got[string(f.Kind)+" "+f.Service+" "+f.Path+" "+f.Rule] = f
	}
	want := map[string]uint64{
		"shadow rg:50051 /routeguide.RouteGuide/RouteChat grpc-undeclared-method":                                     1,
		"shadow rg:50051 /shadow.Debug/Dump grpc-undeclared-service":                                                  1,
		"zombie rg:50051 /routeguide.RouteGuide/ListFeatures grpc-deprecated":                                         1,
		"noncompliant_request rg:50051 /routeguide.RouteGuide/GetFeature grpc-request:undeclared-field:Point.field_9": 1,
		"unused rg:50051 /routeguide.RouteGuide/RecordRoute grpc-no-traffic":                                          0,
		"unused  /routeguide.Admin/Reset grpc-no-traffic":                                                             0,
	}
	for k, n := range want {
		f, ok := got[k]
		if !ok {
			t.Errorf("missing finding %s", k)
			continue
		}
		if f.Count != n || f.Severity != severityOf(f.Kind) || f.Fingerprint == "" || f.Method != "POST" {
			t.Errorf("%s: count %d severity %s method %s, want count %d", k, f.Count, f.Severity, f.Method, n)
		}
		if f.Kind != KindShadow && f.Spec != "route_guide.proto" {
			t.Errorf("%s: spec %q", k, f.Spec)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected finding %s", k)
		}
	}
	if fs := GRPCFindings(m, nil); len(fs) != 0 {
		t.Errorf("without a protoset: %v", fs)
	}
	// The findings go through every report format.
	for _, format := range Formats() {
		var buf bytes.Buffer
		if err := Write(&buf, GRPCFindings(m, files), format, "test"); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if !strings.Contains(buf.String(), "RouteChat") {
			t.Errorf("%s report lacks RouteChat", format)
		}
	}
}

// TestCheckerSkipsGRPC: with an OpenAPI spec attached to the host, a gRPC
// call is not checked against it (it would be a shadow POST
// /pkg.Service/Method); a REST call beside it still is.
func TestCheckerSkipsGRPC(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "api.yaml")
	doc := "openapi: 3.0.3\ninfo: {title: t, version: '1'}\nservers: [{url: 'http://rg:50051'}]\npaths:\n  /health:\n    get:\n      responses: {'200': {description: ok}}\n"
	if err := os.WriteFile(spec, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	c := NewChecker([]*Spec{s}, Options{})
	c.Check(grpcCall(0, "/routeguide.RouteGuide/GetFeature", nil, nil))
	rest := grpcCall(1, "/undeclared", nil, nil)
	rest.GRPC = nil
	c.Check(rest)
	var shadows []string
	for _, f := range c.Findings() {
		if f.Kind == KindShadow {
			shadows = append(shadows, f.Path)
		}
	}
	if strings.Join(shadows, ",") != "/undeclared" {
		t.Errorf("shadow findings %v, want only /undeclared", shadows)
	}
	if n := c.Stats().GRPC; n != 1 {
		t.Errorf("Stats.GRPC %d, want 1", n)
	}
}

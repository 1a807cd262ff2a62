package grpcshape

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// compile compiles one .proto with protocompile (and with protoc when it
// is installed: make deps-h2).
func compile(t *testing.T, src string) {
	t.Helper()
	c := protocompile.Compiler{Resolver: &protocompile.SourceResolver{Accessor: protocompile.SourceAccessorFromMap(map[string]string{"x.proto": src})}}
	if _, err := c.Compile(context.Background(), "x.proto"); err != nil {
		t.Errorf("protocompile: %v\n%s", err, src)
	}
	protoc, err := exec.LookPath("protoc")
	if err != nil {
		t.Log("protoc not installed (make deps-h2): compiled with protocompile only")
		return
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.proto"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(protoc, "-I", dir, "--descriptor_set_out="+filepath.Join(dir, "x.pb"), filepath.Join(dir, "x.proto")).CombinedOutput(); err != nil {
		t.Errorf("protoc: %v: %s\n%s", err, out, src)
	}
}

// enumSet declares a message Order with an enum and a nested message type
// that no method takes as a whole, and a method whose input is named like
// the one Specter makes up for an undeclared method.
func enumSet(t *testing.T) []byte {
	t.Helper()
	f := fieldDesc
	set := &descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{{
		Name: proto.String("shop.proto"), Package: proto.String("shop"), Syntax: proto.String("proto3"),
		EnumType: []*descriptorpb.EnumDescriptorProto{{Name: proto.String("State"), Value: []*descriptorpb.EnumValueDescriptorProto{
			{Name: proto.String("STATE_NONE"), Number: proto.Int32(0)}, {Name: proto.String("STATE_PAID"), Number: proto.Int32(1)}}}},
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("Money"), Field: []*descriptorpb.FieldDescriptorProto{f("units", 1, descriptorpb.FieldDescriptorProto_TYPE_INT64, "")}},
			{Name: proto.String("Order"), Field: []*descriptorpb.FieldDescriptorProto{
				f("state", 1, descriptorpb.FieldDescriptorProto_TYPE_ENUM, ".shop.State"),
				f("total", 2, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, ".shop.Money")}},
			{Name: proto.String("GetRequest"), Field: []*descriptorpb.FieldDescriptorProto{f("id", 1, descriptorpb.FieldDescriptorProto_TYPE_STRING, "")}},
		},
		Service: []*descriptorpb.ServiceDescriptorProto{{Name: proto.String("Orders"), Method: []*descriptorpb.MethodDescriptorProto{
			{Name: proto.String("Find"), InputType: proto.String(".shop.GetRequest"), OutputType: proto.String(".shop.Order")},
		}}},
	}}}
	return marshalSet(t, set)
}

// TestWriteProtoCompiles: what WriteProto writes compiles, with and without
// a protoset, for traffic proto cannot express as it is.
func TestWriteProtoCompiles(t *testing.T) {
	shop := func() *Service {
		s := &Service{Name: "shop.Orders"}
		m := s.Method("Find")
		m.Request.Add(msg(bytesF(1, []byte("o-1")), varint(7, 1)))
		m.Response.Add(msg(varint(1, 1), bytesF(2, msg(varint(1, 99), fixed32(5, 1)))))
		// Undeclared: its made-up input name is the declared GetRequest's.
		m = s.Method("Get")
		m.Request.Add(msg(bytesF(1, []byte("o-1"))))
		m.Response.Add(msg(bytesF(1, []byte("o-1"))))
		return s
	}
	files, err := LoadProtoset(enumSet(t))
	if err != nil {
		t.Fatal(err)
	}
	rg, err := LoadProtoset(protoset(t))
	if err != nil {
		t.Fatal(err)
	}
	hostile := &Service{Name: "p.Hostile"}
	m := hostile.Method("Get-Thing")
	m.Request.Add(msg(varint(1, 1)))
	m = hostile.Method("Reserved")
	m.Request.Add(msg(varint(protowire.FirstReservedNumber, 1), varint(protowire.MaxValidNumber, 1), fixed64(3, 1)))
	m.Request.Add(msg(fixed32(3, 1))) // a conflict
	deep := &Service{Name: "Deep"}
	inner := msg(bytesF(1, []byte("leaf")))
	for range MaxDepth + 2 {
		inner = msg(bytesF(2, inner))
	}
	deep.Method("Nest").Request.Add(inner)
	// Point is GetFeature's request and nested in its response: a field
	// seen only nested must be in the one Point written.
	nested := &Service{Name: "routeguide.RouteGuide"}
	nm := nested.Method("GetFeature")
	nm.Request.Add(msg(varint(1, 1), varint(2, 2)))
	nm.Response.Add(msg(bytesF(1, []byte("n")), bytesF(2, msg(varint(1, 1), varint(3, 3)))))
	tests := []struct {
		name  string
		svc   *Service
		files *protoregistry.Files
		want  []string
	}{
		{"route guide", routeGuide(t), nil, []string{"rpc RouteChat(stream RouteChatRequest) returns (stream RouteChatResponse);"}},
		{"route guide named", routeGuide(t), rg, []string{"rpc GetFeature(Point) returns (Feature);", "int32 latitude = 1;"}},
		{"declared types referred to", shop(), files, []string{"enum State {", "message Money {", "State state = 1;", "Money total = 2;",
			"rpc Get(GetRequest_2) returns (GetResponse);", "field_5 = 5; // not in the protoset"}},
		{"declared type nested and top-level", nested, rg, []string{"int64 field_3 = 3; // not in the protoset", "// 2 message(s) observed"}},
		{"hostile names and numbers", hostile, nil, []string{`// method "Get-Thing" not written`, "// field 19000 (varint) not written", "field_536870911 = 536870911;"}},
		{"nesting past the depth bound", deep, nil, []string{"message Field2 {"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteProto(&buf, tc.svc, tc.files); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("lacks %q:\n%s", w, buf.String())
				}
			}
			compile(t, buf.String())
		})
	}
	if err := WriteProto(&bytes.Buffer{}, &Service{Name: "bad name.S"}, nil); err == nil {
		t.Error("a service name with a space was written")
	}
}

// FuzzWriteProtoCompiles: whatever messages were seen, the .proto written
// from their shapes compiles.
func FuzzWriteProtoCompiles(f *testing.F) {
	f.Add(msg(varint(1, 1), bytesF(2, msg(bytesF(1, []byte("x")))), bytesF(3, packed(1, 2, 3))), []byte{0x0a, 0x80})
	f.Add(msg(varint(protowire.FirstReservedNumber+1, 1)), msg(fixed32(1, 1)))
	f.Fuzz(func(t *testing.T, req, resp []byte) {
		svc := &Service{Name: "f.S"}
		m := svc.Method("M")
		m.Request.Add(req)
		m.Response.Add(resp)
		m.Response.Add(req)
		var buf bytes.Buffer
		if err := WriteProto(&buf, svc, nil); err != nil {
			t.Fatal(err)
		}
		c := protocompile.Compiler{Resolver: &protocompile.SourceResolver{Accessor: protocompile.SourceAccessorFromMap(map[string]string{"x.proto": buf.String()})}}
		if _, err := c.Compile(context.Background(), "x.proto"); err != nil {
			t.Fatalf("%v\n%s", err, buf.String())
		}
	})
}

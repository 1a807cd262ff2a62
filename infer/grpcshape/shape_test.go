package grpcshape

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// msg builds a wire-format message from appenders.
func msg(parts ...func([]byte) []byte) []byte {
	var b []byte
	for _, p := range parts {
		b = p(b)
	}
	return b
}

func varint(n protowire.Number, v uint64) func([]byte) []byte {
	return func(b []byte) []byte {
		return protowire.AppendVarint(protowire.AppendTag(b, n, protowire.VarintType), v)
	}
}

func bytesF(n protowire.Number, v []byte) func([]byte) []byte {
	return func(b []byte) []byte { return protowire.AppendBytes(protowire.AppendTag(b, n, protowire.BytesType), v) }
}

func fixed32(n protowire.Number, v uint32) func([]byte) []byte {
	return func(b []byte) []byte {
		return protowire.AppendFixed32(protowire.AppendTag(b, n, protowire.Fixed32Type), v)
	}
}

func fixed64(n protowire.Number, v uint64) func([]byte) []byte {
	return func(b []byte) []byte {
		return protowire.AppendFixed64(protowire.AppendTag(b, n, protowire.Fixed64Type), v)
	}
}

func packed(vals ...uint64) []byte {
	var b []byte
	for _, v := range vals {
		b = protowire.AppendVarint(b, v)
	}
	return b
}

type want struct {
	num      protowire.Number
	kind     Kind
	repeated bool
}

func TestInfer(t *testing.T) {
	point := msg(varint(1, 409146138), varint(2, 1<<63))
	tests := []struct {
		name    string
		samples [][]byte
		want    []want
	}{
		{"scalars", [][]byte{msg(varint(1, 7), fixed32(2, 1), fixed64(3, 2))},
			[]want{{1, KindVarint, false}, {2, KindFixed32, false}, {3, KindFixed64, false}}},
		{"string vs nested message", [][]byte{msg(bytesF(1, []byte("Berkshire Valley")), bytesF(2, point))},
			[]want{{1, KindString, false}, {2, KindMessage, false}}},
		{"packed repeated", [][]byte{msg(bytesF(4, packed(300, 1, 70000, 2, 5)))},
			[]want{{4, KindPacked, true}}},
		{"repeated string", [][]byte{msg(bytesF(1, []byte("a")), bytesF(1, []byte("b c")))},
			[]want{{1, KindString, true}}},
		{"merge: a message-looking value then text is text", [][]byte{msg(bytesF(1, []byte{0x08, 0x01})), msg(bytesF(1, []byte("hello")))},
			[]want{{1, KindBytes, false}}},
		{"merge: empty values refine later", [][]byte{msg(bytesF(2, nil)), msg(bytesF(2, point))},
			[]want{{2, KindMessage, false}}},
		{"wire type conflict", [][]byte{msg(varint(3, 1)), msg(fixed32(3, 1))},
			[]want{{3, KindConflict, false}}},
		{"opaque bytes", [][]byte{msg(bytesF(5, []byte{0xff, 0xfe, 0x80}))},
			[]want{{5, KindBytes, false}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s Shape
			for _, b := range tc.samples {
				if err := s.Add(b); err != nil {
					t.Fatal(err)
				}
			}
			if len(s.Fields) != len(tc.want) {
				t.Fatalf("got %d fields, want %d", len(s.Fields), len(tc.want))
			}
			for i, w := range tc.want {
				f := s.Fields[i]
				if f.Number != w.num || f.Kind != w.kind || f.Repeated != w.repeated {
					t.Errorf("field %d: got %d %s repeated=%v, want %d %s repeated=%v", i, f.Number, f.Kind, f.Repeated, w.num, w.kind, w.repeated)
				}
			}
			// Merging per-sample shapes gives the same answer as adding.
			var m Shape
			for _, b := range tc.samples {
				var one Shape
				one.Add(b)
				m.Merge(&one)
			}
			for i, f := range m.Fields {
				if f.Kind != s.Fields[i].Kind || f.Repeated != s.Fields[i].Repeated {
					t.Errorf("merged field %d: %s, added %s", f.Number, f.Kind, s.Fields[i].Kind)
				}
			}
		})
	}
}

func TestInferNested(t *testing.T) {
	var s Shape
	s.Add(msg(bytesF(2, msg(varint(1, 1), varint(2, 2)))))
	f := s.Fields[0]
	if f.Kind != KindMessage || f.Message == nil || len(f.Message.Fields) != 2 || f.Message.Fields[1].Kind != KindVarint {
		t.Fatalf("nested: %+v", f)
	}
}

func TestMalformed(t *testing.T) {
	var s Shape
	err := s.Add(msg(varint(1, 1), func(b []byte) []byte { return append(b, 0x12, 0x7f, 'x') })) // length 127, 1 byte
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "offset 2") || s.Malformed != 1 || len(s.Fields) != 0 {
		t.Fatalf("err %v, shape %+v", err, s)
	}
}

func TestBounds(t *testing.T) {
	// Nested 200 deep: inference stops at MaxDepth, the rest is bytes.
	b := msg(varint(1, 1))
	for range 200 {
		b = msg(bytesF(1, b))
	}
	var s Shape
	if err := s.Add(b); err != nil {
		t.Fatal(err)
	}
	depth := 0
	for f := s.Fields[0]; f.Kind == KindMessage; f = f.Message.Fields[0] {
		depth++
	}
	if depth != MaxDepth-1 {
		t.Errorf("nesting inferred %d deep, want %d", depth, MaxDepth-1)
	}
	// 1000 field numbers: MaxFields kept, the rest counted.
	var parts []func([]byte) []byte
	for i := range 1000 {
		parts = append(parts, varint(protowire.Number(i+1), 1))
	}
	var w Shape
	w.Add(msg(parts...))
	if len(w.Fields) != MaxFields || w.DroppedFields != 1000-MaxFields {
		t.Errorf("kept %d, dropped %d", len(w.Fields), w.DroppedFields)
	}
}

// routeGuide returns shapes as observed from route_guide's messages.
func routeGuide(t *testing.T) *Service {
	point := func(lat, lon uint64) []byte { return msg(varint(1, lat), varint(2, lon)) }
	feature := msg(bytesF(1, []byte("Berkshire Valley Management Area Trail, Jefferson, NJ, USA")), bytesF(2, point(409146138, 746188906)))
	svc := &Service{Name: "routeguide.RouteGuide"}
	m := svc.Method("GetFeature")
	m.Request.Add(point(409146138, 746188906))
	m.Response.Add(feature)
	m = svc.Method("ListFeatures")
	m.ServerStreaming = true
	m.Request.Add(msg(bytesF(1, point(400000000, 750000000)), bytesF(2, point(420000000, 730000000))))
	m.Response.Add(feature)
	m.Response.Add(feature)
	m = svc.Method("RouteChat")
	m.ClientStreaming, m.ServerStreaming = true, true
	m.Request.Add(msg(bytesF(1, point(0, 1)), bytesF(2, []byte("First message"))))
	m.Response.Add(msg(bytesF(2, []byte("First message")), varint(3, 1)))
	return svc
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n%s", p, got)
	}
}

func TestWriteProto(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteProto(&buf, routeGuide(t), nil); err != nil {
		t.Fatal(err)
	}
	golden(t, "routeguide.proto", buf.Bytes())
}

// protoset is route_guide.proto's Point/Feature/RouteNote and two methods,
// as protoc --descriptor_set_out would write it.
func protoset(t testing.TB) []byte {
	f := fieldDesc
	const (
		i32 = descriptorpb.FieldDescriptorProto_TYPE_INT32
		str = descriptorpb.FieldDescriptorProto_TYPE_STRING
		ms  = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
	)
	set := &descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{{
		Name: proto.String("route_guide.proto"), Package: proto.String("routeguide"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("Point"), Field: []*descriptorpb.FieldDescriptorProto{f("latitude", 1, i32, ""), f("longitude", 2, i32, "")}},
			{Name: proto.String("Feature"), Field: []*descriptorpb.FieldDescriptorProto{f("name", 1, str, ""), f("location", 2, ms, ".routeguide.Point")}},
		},
		Service: []*descriptorpb.ServiceDescriptorProto{{Name: proto.String("RouteGuide"), Method: []*descriptorpb.MethodDescriptorProto{
			{Name: proto.String("GetFeature"), InputType: proto.String(".routeguide.Point"), OutputType: proto.String(".routeguide.Feature")},
		}}},
	}}}
	return marshalSet(t, set)
}

// fieldDesc declares an optional field; tn names its message or enum type.
func fieldDesc(name string, n int32, typ descriptorpb.FieldDescriptorProto_Type, tn string) *descriptorpb.FieldDescriptorProto {
	d := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(n), Type: typ.Enum(),
		Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()}
	if tn != "" {
		d.TypeName = proto.String(tn)
	}
	return d
}

func marshalSet(t testing.TB, set *descriptorpb.FileDescriptorSet) []byte {
	t.Helper()
	b, err := proto.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestProtoset(t *testing.T) {
	files, err := LoadProtoset(protoset(t))
	if err != nil {
		t.Fatal(err)
	}
	md, err := FindMethod(files, "/routeguide.RouteGuide/GetFeature")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FindMethod(files, "/routeguide.RouteGuide/RouteChat"); !errors.Is(err, ErrUnknownMethod) {
		t.Errorf("RouteChat: %v", err)
	}
	tests := []struct {
		name string
		b    []byte
		ok   bool
	}{
		{"declared fields", msg(varint(1, 5), varint(2, 6)), true},
		{"undeclared field", msg(varint(1, 5), varint(9, 1)), false},
		{"wrong wire type", msg(bytesF(1, []byte("x"))), false},
	}
	for _, tc := range tests {
		if err := Check(md.Input(), tc.b); (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrNoncompliant) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if err := Check(md.Output(), msg(bytesF(2, msg(varint(3, 1))))); err == nil || !strings.Contains(err.Error(), "Feature.location") {
		t.Errorf("nested undeclared field: %v", err)
	}
	// GetFeature is declared, Shadow is not.
	svc := routeGuide(t)
	svc.Methods = svc.Methods[:1]
	svc.Method("Shadow").Request.Add(msg(fixed64(7, 1)))
	var buf bytes.Buffer
	if err := WriteProto(&buf, svc, files); err != nil {
		t.Fatal(err)
	}
	golden(t, "routeguide-named.proto", buf.Bytes())
}

func FuzzShape(f *testing.F) {
	f.Add(msg(varint(1, 1), bytesF(2, msg(bytesF(1, []byte("x")))), bytesF(3, packed(1, 2, 3))))
	f.Add([]byte{0x0a, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		var s, m Shape
		err := s.Add(b)
		if err == nil {
			m.Merge(&s)
			m.Add(b)
		}
		WriteProto(&bytes.Buffer{}, &Service{Name: "p.S", Methods: []*Method{{Name: "M", Request: s}}}, nil)
		if err != nil && len(s.Fields) != 0 {
			t.Fatal("a malformed message added fields")
		}
	})
}

func TestWrappedShortString(t *testing.T) {
	// A message whose only field is a 40-byte string is printable from its
	// second byte: it is still a message.
	inner := msg(bytesF(1, bytes.Repeat([]byte("n"), 40)))
	var s Shape
	s.Add(msg(bytesF(3, inner)))
	if f := s.Fields[0]; f.Kind != KindMessage || f.Message.Fields[0].Kind != KindString {
		t.Fatalf("got %s", f.Kind)
	}
}

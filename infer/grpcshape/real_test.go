package grpcshape

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestRealMessages infers shapes from messages protobuf-go marshals (the
// descriptors of real .proto files: deep nesting, repeated and packed
// fields, enums, strings) and checks every inferred field against the
// declared type: a wrong kind is a failure, an unknown one (bytes) is
// allowed only where the values could not tell.
func TestRealMessages(t *testing.T) {
	var s Shape
	var md protoreflect.MessageDescriptor
	for _, fd := range []protoreflect.FileDescriptor{descriptorpb.File_google_protobuf_descriptor_proto,
		structpb.File_google_protobuf_struct_proto, timestamppb.File_google_protobuf_timestamp_proto} {
		fdp := protodesc.ToFileDescriptorProto(fd)
		md = fdp.ProtoReflect().Descriptor()
		b, err := proto.Marshal(fdp)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Add(b); err != nil {
			t.Fatal(err)
		}
	}
	var walk func(s *Shape, md protoreflect.MessageDescriptor, path string)
	checked, bytesOnly := 0, 0
	walk = func(s *Shape, md protoreflect.MessageDescriptor, path string) {
		for _, f := range s.Fields {
			fd := md.Fields().ByNumber(f.Number)
			if fd == nil {
				t.Errorf("%s: field %d not declared", path, f.Number)
				continue
			}
			p := path + "." + string(fd.Name())
			checked++
			ok := false
			switch fd.Kind() {
			case protoreflect.StringKind:
				ok = f.Kind == KindString
			case protoreflect.BytesKind:
				ok = f.Kind == KindBytes || f.Kind == KindString
			case protoreflect.MessageKind, protoreflect.GroupKind:
				ok = f.Kind == KindMessage
				if ok {
					walk(f.Message, fd.Message(), p)
				}
			case protoreflect.EnumKind, protoreflect.BoolKind, protoreflect.Int32Kind, protoreflect.Int64Kind,
				protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.Sint32Kind, protoreflect.Sint64Kind:
				ok = f.Kind == KindVarint || fd.IsPacked() && f.Kind == KindPacked
			case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.FloatKind:
				ok = f.Kind == KindFixed32
			case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind, protoreflect.DoubleKind:
				ok = f.Kind == KindFixed64
			}
			if f.Kind == KindBytes && fd.Kind() != protoreflect.BytesKind {
				bytesOnly++ // could not tell (e.g. only empty values)
				ok = f.nonEmpty == 0
			}
			if !ok {
				t.Errorf("%s (%s): inferred %s", p, fd.Kind(), f.Kind)
			}
			if f.Repeated && !fd.IsList() {
				t.Errorf("%s: singular field inferred repeated", p)
			}
		}
	}
	walk(&s, md, "FileDescriptorProto")
	if checked < 20 {
		t.Fatalf("only %d fields checked", checked)
	}
	t.Logf("%d fields checked, %d undecidable", checked, bytesOnly)
}

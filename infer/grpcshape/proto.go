package grpcshape

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// Errors of protoset checks.
var (
	ErrUnknownMethod = errors.New("grpcshape: method not in the protoset")
	ErrNoncompliant  = errors.New("grpcshape: message does not match the protoset")
)

// Method is the observed shape of one gRPC method.
type Method struct {
	Name                             string
	ClientStreaming, ServerStreaming bool
	Request, Response                Shape
}

// Service groups the methods of one gRPC service.
type Service struct {
	// Name is the full service name, "routeguide.RouteGuide".
	Name    string
	Methods []*Method // by name
}

// Method returns the method named name, adding it.
func (s *Service) Method(name string) *Method {
	i, found := slices.BinarySearchFunc(s.Methods, name, func(m *Method, n string) int { return strings.Compare(m.Name, n) })
	if !found {
		s.Methods = slices.Insert(s.Methods, i, &Method{Name: name})
	}
	return s.Methods[i]
}

// SplitPath splits a gRPC path "/pkg.Service/Method" into the service's
// full name and the method name; ok is false for other paths.
func SplitPath(path string) (service, method string, ok bool) {
	if !strings.HasPrefix(path, "/") {
		return "", "", false
	}
	service, method, ok = strings.Cut(path[1:], "/")
	return service, method, ok && service != "" && method != "" && !strings.Contains(method, "/")
}

// LoadProtoset parses a FileDescriptorSet (protoc --descriptor_set_out,
// buf build -o) into a registry. Imports must be in the set.
func LoadProtoset(b []byte) (*protoregistry.Files, error) {
	return LoadProtosets(b)
}

// LoadProtosets parses several FileDescriptorSets into one registry. A file
// in more than one set must be the same in each (protoc writes imports
// into every set that needs them); two different files of one name are an
// error, as are two files declaring one name.
func LoadProtosets(sets ...[]byte) (*protoregistry.Files, error) {
	var all descriptorpb.FileDescriptorSet
	byName := map[string][]byte{}
	for i, b := range sets {
		var set descriptorpb.FileDescriptorSet
		if err := proto.Unmarshal(b, &set); err != nil {
			return nil, fmt.Errorf("grpcshape: protoset %d: %w", i+1, err)
		}
		for _, f := range set.File {
			enc, err := proto.MarshalOptions{Deterministic: true}.Marshal(f)
			if err != nil {
				return nil, fmt.Errorf("grpcshape: protoset %d: %s: %w", i+1, f.GetName(), err)
			}
			if prev, ok := byName[f.GetName()]; ok {
				if !bytes.Equal(prev, enc) {
					return nil, fmt.Errorf("grpcshape: protoset %d: %s differs from the file of that name in an earlier protoset", i+1, f.GetName())
				}
				continue
			}
			byName[f.GetName()] = enc
			all.File = append(all.File, f)
		}
	}
	files, err := protodesc.NewFiles(&all)
	if err != nil {
		return nil, fmt.Errorf("grpcshape: protoset: %w", err)
	}
	return files, nil
}

// FindMethod returns the method of path ("/pkg.Service/Method") declared in
// files.
func FindMethod(files *protoregistry.Files, path string) (protoreflect.MethodDescriptor, error) {
	svc, name, ok := SplitPath(path)
	if !ok || files == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownMethod, path)
	}
	d, err := files.FindDescriptorByName(protoreflect.FullName(svc))
	if err != nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownMethod, path)
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil, fmt.Errorf("%w: %q: %s is not a service", ErrUnknownMethod, path, svc)
	}
	md := sd.Methods().ByName(protoreflect.Name(name))
	if md == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownMethod, path)
	}
	return md, nil
}

// Check validates one message against its declared type: it must parse,
// and carry no field numbers the type does not declare (at any depth).
func Check(md protoreflect.MessageDescriptor, b []byte) error {
	m := dynamicpb.NewMessage(md)
	if err := proto.Unmarshal(b, m); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrNoncompliant, md.FullName(), err)
	}
	if path, num := unknownField(m, string(md.Name())); path != "" {
		return fmt.Errorf("%w: %s: undeclared field %d in %s", ErrNoncompliant, md.FullName(), num, path)
	}
	return nil
}

// unknownField finds a field number not declared by the message's type,
// depth first, bounded by the message's own nesting.
func unknownField(m protoreflect.Message, path string) (string, protowire.Number) {
	if u := m.GetUnknown(); len(u) > 0 {
		num, _, _ := protowire.ConsumeTag(u)
		return path, num
	}
	var p string
	var num protowire.Number
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Message() == nil || fd.IsMap() {
			return true
		}
		sub := path + "." + string(fd.Name())
		if fd.IsList() {
			l := v.List()
			for i := 0; i < l.Len() && p == ""; i++ {
				p, num = unknownField(l.Get(i).Message(), sub)
			}
		} else {
			p, num = unknownField(v.Message(), sub)
		}
		return p == ""
	})
	return p, num
}

// WriteProto writes a reconstructed .proto for svc. Fields are named
// field_N and typed from their inferred kind; with files non-nil, a method
// declared there takes its message names, and declared fields their names
// and types (observed fields the protoset lacks are marked).
func WriteProto(w io.Writer, svc *Service, files *protoregistry.Files) error {
	bw := bufio.NewWriter(w)
	pkg, name := "", svc.Name
	if i := strings.LastIndexByte(svc.Name, '.'); i >= 0 {
		pkg, name = svc.Name[:i], svc.Name[i+1:]
	}
	fmt.Fprintf(bw, "// Reconstructed by Specter from observed gRPC traffic: field names are\n// field_N unless a protoset names them; types are inferred from the wire.\nsyntax = \"proto3\";\n\n")
	if pkg != "" {
		fmt.Fprintf(bw, "package %s;\n\n", pkg)
	}
	type msgOut struct {
		name  string
		shape *Shape
		desc  protoreflect.MessageDescriptor
	}
	var msgs []msgOut
	declared := map[string]bool{}
	fmt.Fprintf(bw, "service %s {\n", name)
	for _, m := range svc.Methods {
		in, out := m.Name+"Request", m.Name+"Response"
		var ind, outd protoreflect.MessageDescriptor
		note := ""
		if md, err := FindMethod(files, "/"+svc.Name+"/"+m.Name); err == nil {
			ind, outd = md.Input(), md.Output()
			in, out = string(ind.Name()), string(outd.Name())
		} else if files != nil {
			note = " // not in the protoset"
		}
		cs, ss := "", ""
		if m.ClientStreaming {
			cs = "stream "
		}
		if m.ServerStreaming {
			ss = "stream "
		}
		fmt.Fprintf(bw, "  rpc %s(%s%s) returns (%s%s);%s\n", m.Name, cs, in, ss, out, note)
		for _, mo := range []msgOut{{in, &m.Request, ind}, {out, &m.Response, outd}} {
			if !declared[mo.name] {
				declared[mo.name] = true
				msgs = append(msgs, mo)
			} else {
				// Two methods sharing a declared type: merge what was seen.
				for i := range msgs {
					if msgs[i].name == mo.name && msgs[i].shape != mo.shape {
						merged := &Shape{}
						merged.Merge(msgs[i].shape)
						merged.Merge(mo.shape)
						msgs[i].shape = merged
					}
				}
			}
		}
	}
	fmt.Fprintf(bw, "}\n")
	for _, mo := range msgs {
		fmt.Fprintln(bw)
		writeMessage(bw, mo.name, mo.shape, mo.desc, "", 0)
	}
	return bw.Flush()
}

func writeMessage(w *bufio.Writer, name string, s *Shape, md protoreflect.MessageDescriptor, indent string, depth int) {
	fmt.Fprintf(w, "%smessage %s {\n", indent, name)
	in := indent + "  "
	if s.Samples > 0 {
		fmt.Fprintf(w, "%s// %d message(s) observed", in, s.Samples)
		if s.Malformed > 0 {
			fmt.Fprintf(w, ", %d malformed", s.Malformed)
		}
		if s.DroppedFields > 0 {
			fmt.Fprintf(w, ", %d field number(s) over the limit not shown", s.DroppedFields)
		}
		fmt.Fprintln(w)
	}
	for _, f := range s.Fields {
		var fd protoreflect.FieldDescriptor
		if md != nil {
			fd = md.Fields().ByNumber(f.Number)
		}
		if fd != nil {
			typ := fd.Kind().String()
			if fd.Message() != nil {
				typ = string(fd.Message().Name())
			}
			if fd.Enum() != nil {
				typ = string(fd.Enum().Name())
			}
			label := ""
			if fd.IsList() {
				label = "repeated "
			}
			// A declared message type is the protoset's own: not redeclared.
			fmt.Fprintf(w, "%s%s%s %s = %d;\n", in, label, typ, fd.Name(), f.Number)
			continue
		}
		typ := protoType(f)
		label := ""
		if f.Repeated && f.Kind != KindPacked {
			label = "repeated "
		}
		note := ""
		if md != nil {
			note = " // not in the protoset"
		}
		if f.Kind == KindConflict {
			note = " // values of different wire types were seen" + strings.TrimPrefix(note, " //")
		}
		if f.Kind == KindMessage && f.Message != nil && depth+1 < MaxDepth {
			typ = fmt.Sprintf("Field%d", f.Number)
			writeMessage(w, typ, f.Message, nil, in, depth+1)
		}
		fmt.Fprintf(w, "%s%s%s field_%d = %d;%s\n", in, label, typ, f.Number, f.Number, note)
	}
	fmt.Fprintf(w, "%s}\n", indent)
}

func protoType(f *Field) string {
	switch f.Kind {
	case KindVarint:
		return "int64"
	case KindFixed64:
		return "fixed64"
	case KindFixed32:
		return "fixed32"
	case KindString:
		return "string"
	case KindPacked:
		return "repeated int64"
	case KindMessage:
		return "bytes" // nested beyond MaxDepth
	}
	return "bytes"
}

package grpcshape

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
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

// ErrNotIdentifier reports a service name WriteProto cannot write: its
// parts are not proto identifiers.
var ErrNotIdentifier = errors.New("grpcshape: not a proto identifier")

// WriteProto writes a reconstructed .proto for svc that protoc compiles.
// Fields are named field_N and typed from their inferred kind; with files
// non-nil, a method declared there takes its message names, and declared
// fields their names and types (observed fields the protoset lacks are
// marked). Declared message and enum types the written messages refer to
// are written too (the observed fields of a message, every value of an
// enum), so the file stands alone. What proto cannot express is left as a
// comment: methods whose names are not identifiers, field numbers in the
// reserved range 19000-19999. A service name that is not a (dotted)
// identifier is ErrNotIdentifier.
func WriteProto(w io.Writer, svc *Service, files *protoregistry.Files) error {
	pkg, name := "", svc.Name
	if i := strings.LastIndexByte(svc.Name, '.'); i >= 0 {
		pkg, name = svc.Name[:i], svc.Name[i+1:]
	}
	if !isIdent(name) || pkg != "" && !isFullIdent(pkg) {
		return fmt.Errorf("%w: service %q", ErrNotIdentifier, svc.Name)
	}
	pw := &protoWriter{w: bufio.NewWriter(w), taken: map[string]bool{}, local: map[protoreflect.FullName]string{},
		shapes: map[protoreflect.FullName]*Shape{}, written: map[protoreflect.FullName]bool{}}
	fmt.Fprintf(pw.w, "// Reconstructed by Specter from observed gRPC traffic: field names are\n// field_N unless a protoset names them; types are inferred from the wire.\nsyntax = \"proto3\";\n\n")
	if pkg != "" {
		fmt.Fprintf(pw.w, "package %s;\n\n", pkg)
	}
	type rpc struct {
		m        *Method
		md       protoreflect.MethodDescriptor
		in, out  string
		skip     bool
		inShape  *Shape
		outShape *Shape
	}
	var rpcs []rpc
	// Declared types first, so that names made up for undeclared methods
	// never take theirs.
	for _, m := range svc.Methods {
		r := rpc{m: m, skip: !isIdent(m.Name)}
		if !r.skip {
			if md, err := FindMethod(files, "/"+svc.Name+"/"+m.Name); err == nil {
				r.md = md
				r.in, r.out = pw.name(md.Input()), pw.name(md.Output())
			}
		}
		rpcs = append(rpcs, r)
	}
	// Top-level messages in order of first use. A declared type's shape
	// is everything observed of it, as a method's message or nested in
	// another (collected before anything is written).
	type msgOut struct {
		name  string
		shape *Shape // undeclared; declared ones are in pw.shapes
		desc  protoreflect.MessageDescriptor
	}
	var msgs []msgOut
	addMsg := func(name string, s *Shape, d protoreflect.MessageDescriptor) {
		if d == nil {
			msgs = append(msgs, msgOut{name: name, shape: s})
			return
		}
		pw.collect(d, s)
		if !pw.written[d.FullName()] {
			pw.written[d.FullName()] = true
			msgs = append(msgs, msgOut{name: name, desc: d})
		}
	}
	fmt.Fprintf(pw.w, "service %s {\n", name)
	for _, r := range rpcs {
		m := r.m
		if r.skip {
			fmt.Fprintf(pw.w, "  // method %s not written: not a proto identifier\n", strconv.Quote(m.Name))
			continue
		}
		note := ""
		var ind, outd protoreflect.MessageDescriptor
		if r.md != nil {
			ind, outd = r.md.Input(), r.md.Output()
		} else {
			r.in, r.out = pw.unique(m.Name+"Request"), pw.unique(m.Name+"Response")
			if files != nil {
				note = " // not in the protoset"
			}
		}
		cs, ss := "", ""
		if m.ClientStreaming {
			cs = "stream "
		}
		if m.ServerStreaming {
			ss = "stream "
		}
		fmt.Fprintf(pw.w, "  rpc %s(%s%s) returns (%s%s);%s\n", m.Name, cs, r.in, ss, r.out, note)
		addMsg(r.in, &m.Request, ind)
		addMsg(r.out, &m.Response, outd)
	}
	fmt.Fprintf(pw.w, "}\n")
	for _, mo := range msgs {
		fmt.Fprintln(pw.w)
		if mo.desc != nil {
			mo.shape = pw.shapeOf(mo.desc)
		}
		pw.message(mo.name, mo.shape, mo.desc, "", 0)
	}
	// The declared types referred to, and those they refer to.
	for len(pw.queue) > 0 {
		d := pw.queue[0]
		pw.queue = pw.queue[1:]
		fmt.Fprintln(pw.w)
		switch d := d.(type) {
		case protoreflect.MessageDescriptor:
			pw.message(pw.local[d.FullName()], pw.shapeOf(d), d, "", 0)
		case protoreflect.EnumDescriptor:
			pw.enum(d)
		}
	}
	return pw.w.Flush()
}

// protoWriter keeps the names a .proto being written has taken.
type protoWriter struct {
	w *bufio.Writer
	// taken holds the top-level names used; local the name given to each
	// declared type.
	taken map[string]bool
	local map[protoreflect.FullName]string
	// written marks the declared types written or queued; queue holds
	// those still to write; shapes is what was observed of each (collect).
	written map[protoreflect.FullName]bool
	queue   []protoreflect.Descriptor
	shapes  map[protoreflect.FullName]*Shape
}

// name returns the local name of a declared type, its own short name
// unless another type took it.
func (pw *protoWriter) name(d protoreflect.Descriptor) string {
	if n, ok := pw.local[d.FullName()]; ok {
		return n
	}
	n := pw.unique(string(d.Name()))
	pw.local[d.FullName()] = n
	return n
}

// unique returns base, or base_2, base_3… if taken, and takes it.
func (pw *protoWriter) unique(base string) string {
	n := base
	for i := 2; pw.taken[n]; i++ {
		n = base + "_" + strconv.Itoa(i)
	}
	pw.taken[n] = true
	return n
}

// collect merges s, observed of declared type md, into pw.shapes, with
// the shapes nested in it of the declared message types of its fields.
func (pw *protoWriter) collect(md protoreflect.MessageDescriptor, s *Shape) {
	dst := pw.shapes[md.FullName()]
	if dst == nil {
		dst = &Shape{}
		pw.shapes[md.FullName()] = dst
	}
	dst.Merge(s)
	for _, f := range s.Fields {
		if fd := md.Fields().ByNumber(f.Number); fd != nil && fd.Message() != nil && f.Kind == KindMessage && f.Message != nil {
			pw.collect(fd.Message(), f.Message) // bounded: shapes nest at most MaxDepth
		}
	}
}

// shapeOf returns what was observed of declared type md (empty if nothing).
func (pw *protoWriter) shapeOf(md protoreflect.MessageDescriptor) *Shape {
	if s := pw.shapes[md.FullName()]; s != nil {
		return s
	}
	return &Shape{}
}

// use returns the local name of a declared message or enum a field refers
// to, queueing it to be written if it is not yet.
func (pw *protoWriter) use(d protoreflect.Descriptor) string {
	n := pw.name(d)
	if !pw.written[d.FullName()] {
		pw.written[d.FullName()] = true
		pw.queue = append(pw.queue, d)
	}
	return n
}

func (pw *protoWriter) enum(ed protoreflect.EnumDescriptor) {
	w := pw.w
	fmt.Fprintf(w, "enum %s {\n", pw.local[ed.FullName()])
	vals := ed.Values()
	if vals.Len() == 0 || vals.Get(0).Number() != 0 {
		// proto3 wants the first value zero.
		fmt.Fprintf(w, "  %s_UNSPECIFIED_ = 0;\n", pw.local[ed.FullName()])
	}
	if vals.Len() > 0 && hasAlias(ed) {
		fmt.Fprintf(w, "  option allow_alias = true;\n")
	}
	for i := 0; i < vals.Len(); i++ {
		v := vals.Get(i)
		fmt.Fprintf(w, "  %s = %d;\n", v.Name(), v.Number())
	}
	fmt.Fprintf(w, "}\n")
}

func hasAlias(ed protoreflect.EnumDescriptor) bool {
	seen := map[protoreflect.EnumNumber]bool{}
	for i := 0; i < ed.Values().Len(); i++ {
		n := ed.Values().Get(i).Number()
		if seen[n] {
			return true
		}
		seen[n] = true
	}
	return false
}

func (pw *protoWriter) message(name string, s *Shape, md protoreflect.MessageDescriptor, indent string, depth int) {
	w := pw.w
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
	} else if md != nil && len(s.Fields) == 0 {
		fmt.Fprintf(w, "%s// declared in the protoset; no field of it observed\n", in)
	}
	for _, f := range s.Fields {
		if f.Number >= protowire.FirstReservedNumber && f.Number <= protowire.LastReservedNumber {
			fmt.Fprintf(w, "%s// field %d (%s) not written: numbers %d-%d are reserved\n", in, f.Number, f.Kind,
				protowire.FirstReservedNumber, protowire.LastReservedNumber)
			continue
		}
		var fd protoreflect.FieldDescriptor
		if md != nil {
			fd = md.Fields().ByNumber(f.Number)
		}
		if fd != nil {
			typ := fd.Kind().String()
			if fd.Message() != nil {
				typ = pw.use(fd.Message())
			}
			if fd.Enum() != nil {
				typ = pw.use(fd.Enum())
			}
			label := ""
			if fd.IsList() || fd.IsMap() {
				label = "repeated "
			}
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
			pw.message(typ, f.Message, nil, in, depth+1)
		}
		fmt.Fprintf(w, "%s%s%s field_%d = %d;%s\n", in, label, typ, f.Number, f.Number, note)
	}
	fmt.Fprintf(w, "%s}\n", indent)
}

// isIdent reports whether s is a proto identifier: a letter or '_', then
// letters, digits and '_'.
func isIdent(s string) bool {
	if s == "" || len(s) > 512 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func isFullIdent(s string) bool {
	for _, p := range strings.Split(s, ".") {
		if !isIdent(p) {
			return false
		}
	}
	return true
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

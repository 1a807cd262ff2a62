// Package grpcshape infers the shape of protobuf messages seen on the wire
// without their .proto: for each field number, its wire type and, for
// length-delimited fields, whether the values are nested messages,
// strings, packed repeated varints or opaque bytes. Shapes of the messages
// of one gRPC method merge; a service's shapes render as .proto text with
// fields named field_N, or named and checked against a FileDescriptorSet.
//
// Inference is bounded: nesting stops at MaxDepth, a shape keeps at most
// MaxFields fields and a shape with its nested ones MaxNodes (more are
// counted in Shape.DroppedFields), and each message costs O(len × MaxDepth)
// plus O(MaxNodes).
package grpcshape

import (
	"errors"
	"fmt"
	"slices"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// Bounds of inference.
const (
	// MaxDepth bounds how deep nested messages are inferred; deeper
	// length-delimited values are kept as bytes.
	MaxDepth = 8
	// MaxFields bounds the fields a shape keeps.
	MaxFields = 256
	// MaxNodes bounds the fields of a shape and all the shapes nested in
	// it, so that messages built to nest many fields at every level cost
	// bounded memory however many are merged; fields past it are counted
	// in DroppedFields of the shape that would have held them.
	MaxNodes = 4096
)

// ErrMalformed reports a message that is not valid protobuf wire format.
var ErrMalformed = errors.New("grpcshape: malformed protobuf message")

// Kind is what a field's values were inferred to be.
type Kind uint8

// Kinds of fields. For length-delimited fields the kind is the most
// specific one every non-empty value fits, tried in the order string,
// message, packed, bytes; values that fit different ones make bytes.
const (
	KindVarint   Kind = iota // wire type 0
	KindFixed64              // wire type 1
	KindFixed32              // wire type 5
	KindBytes                // wire type 2, opaque (or only empty values seen)
	KindString               // wire type 2, printable UTF-8
	KindMessage              // wire type 2, a nested message (see Field.Message)
	KindPacked               // wire type 2, packed repeated varints
	KindConflict             // values of different wire types under one number
)

var kindNames = [...]string{"varint", "fixed64", "fixed32", "bytes", "string", "message", "packed", "conflict"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "invalid"
}

// Field is one field number's inferred shape.
type Field struct {
	Number protowire.Number
	Kind   Kind
	// Repeated: seen more than once in one message, or packed.
	Repeated bool
	// Count is how many values were seen over all samples.
	Count int
	// Message is the merged shape of the values that parsed as messages
	// (set while Kind is KindMessage).
	Message *Shape

	wire protowire.Type
	// For length-delimited values: how many non-empty values were seen
	// and how many of them fit each interpretation.
	nonEmpty, str, msg, packed int
}

// Shape is the inferred shape of one message type.
type Shape struct {
	// Fields, ordered by number.
	Fields []*Field `json:"fields,omitempty"`
	// Samples counts the messages merged; Malformed counts those that were
	// not valid wire format (they add nothing).
	Samples   int `json:"samples,omitempty"`
	Malformed int `json:"malformed,omitempty"`
	// DroppedFields counts field numbers not kept over MaxFields.
	DroppedFields int `json:"dropped_fields,omitempty"`
}

// Add infers the shape of one message and merges it. A malformed message is
// counted and returns ErrMalformed wrapped with the offset of the bad field.
func (s *Shape) Add(b []byte) error {
	budget := MaxNodes - s.Size()
	return s.add(b, 0, &budget)
}

// Size is the number of fields of s and of the shapes nested in it.
func (s *Shape) Size() int {
	n := len(s.Fields)
	for _, f := range s.Fields {
		if f.Message != nil {
			n += f.Message.Size()
		}
	}
	return n
}

// budget is what is left of MaxNodes for new fields.
func (s *Shape) add(b []byte, depth int, budget *int) error {
	if off, err := validate(b); err != nil {
		s.Malformed++
		return fmt.Errorf("%w at offset %d: %v", ErrMalformed, off, err)
	}
	s.Samples++
	seen := map[protowire.Number]int{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		b = b[n:]
		n = protowire.ConsumeFieldValue(num, typ, b)
		v := b[:n]
		b = b[n:]
		f := s.field(num, budget)
		if f == nil {
			continue
		}
		seen[num]++
		if seen[num] == 2 {
			f.Repeated = true
		}
		f.Count++
		if f.Count == 1 {
			f.wire = typ
			f.Kind = kindOfWire(typ)
		} else if f.wire != typ {
			f.Kind = KindConflict
			f.Message = nil
		}
		if typ != protowire.BytesType || f.Kind == KindConflict {
			continue
		}
		p, _ := protowire.ConsumeBytes(v)
		f.addBytes(p, depth, budget)
	}
	return nil
}

// field returns the field numbered num, adding it within MaxFields.
func (s *Shape) field(num protowire.Number, budget *int) *Field {
	i, found := slices.BinarySearchFunc(s.Fields, num, func(f *Field, n protowire.Number) int { return int(f.Number) - int(n) })
	if found {
		return s.Fields[i]
	}
	if len(s.Fields) >= MaxFields || *budget <= 0 {
		s.DroppedFields++
		return nil
	}
	*budget--
	f := &Field{Number: num}
	s.Fields = slices.Insert(s.Fields, i, f)
	return f
}

func (f *Field) addBytes(p []byte, depth int, budget *int) {
	if len(p) == 0 {
		f.refine()
		return
	}
	f.nonEmpty++
	_, err := validate(p)
	isMsg := err == nil
	// Text rarely parses as a message; but a message whose first field is
	// a short string is printable from its second byte on. A leading
	// control byte (a tag like '\n' = field 1, bytes) tips it to message.
	if printable(p) && !(isMsg && p[0] < 0x20) {
		f.str++
	}
	if isMsg && depth+1 < MaxDepth {
		f.msg++
		if f.Message == nil {
			f.Message = &Shape{}
		}
		f.Message.add(p, depth+1, budget)
	}
	if packedVarints(p) {
		f.packed++
	}
	f.refine()
}

// refine sets the kind of a length-delimited field from its counts.
func (f *Field) refine() {
	switch {
	case f.nonEmpty == 0:
		f.Kind = KindBytes
	case f.str == f.nonEmpty:
		f.Kind = KindString
	case f.msg == f.nonEmpty:
		f.Kind = KindMessage
	case f.packed == f.nonEmpty && f.str == 0: // any ASCII text is valid varints
		f.Kind = KindPacked
		f.Repeated = true
	default:
		f.Kind = KindBytes
	}
}

// Merge merges o into s (shapes of the same message type from elsewhere).
func (s *Shape) Merge(o *Shape) {
	budget := MaxNodes - s.Size()
	s.merge(o, &budget)
}

func (s *Shape) merge(o *Shape, budget *int) {
	s.Samples += o.Samples
	s.Malformed += o.Malformed
	s.DroppedFields += o.DroppedFields
	for _, of := range o.Fields {
		f := s.field(of.Number, budget)
		if f == nil {
			s.DroppedFields += of.Message.size1()
			continue
		}
		if f.Count == 0 {
			f.wire, f.Kind = of.wire, of.Kind
		} else if f.wire != of.wire || f.Kind == KindConflict || of.Kind == KindConflict {
			f.Kind, f.Message = KindConflict, nil
			f.Count += of.Count
			continue
		}
		f.Count += of.Count
		f.Repeated = f.Repeated || of.Repeated
		f.nonEmpty += of.nonEmpty
		f.str += of.str
		f.msg += of.msg
		f.packed += of.packed
		if of.Message != nil {
			if f.Message == nil {
				f.Message = &Shape{}
			}
			f.Message.merge(of.Message, budget)
		}
		if f.wire == protowire.BytesType {
			f.refine()
		}
	}
}

func kindOfWire(t protowire.Type) Kind {
	switch t {
	case protowire.VarintType:
		return KindVarint
	case protowire.Fixed64Type:
		return KindFixed64
	case protowire.Fixed32Type:
		return KindFixed32
	}
	return KindBytes
}

// size1 is the fields a dropped field's nested shape held (s may be nil).
func (s *Shape) size1() int {
	if s == nil {
		return 0
	}
	return s.Size()
}

// Valid reports whether b is well-formed protobuf wire format (no groups),
// as Add requires.
func Valid(b []byte) bool {
	_, err := validate(b)
	return err == nil
}

// validate checks that b is a sequence of well-formed fields (groups are
// refused: no current encoder writes them, and they make random bytes
// parse too easily). It returns the offset of the first bad field.
func validate(b []byte) (int, error) {
	off := 0
	for off < len(b) {
		num, typ, n := protowire.ConsumeTag(b[off:])
		if n < 0 {
			return off, protowire.ParseError(n)
		}
		if num > protowire.MaxValidNumber || num < protowire.MinValidNumber {
			return off, fmt.Errorf("field number %d", num)
		}
		if typ == protowire.StartGroupType || typ == protowire.EndGroupType {
			return off, fmt.Errorf("group (wire type %d) in field %d", typ, num)
		}
		m := protowire.ConsumeFieldValue(num, typ, b[off+n:])
		if m < 0 {
			return off, fmt.Errorf("field %d: %w", num, protowire.ParseError(m))
		}
		off += n + m
	}
	return off, nil
}

func printable(p []byte) bool {
	if !utf8.Valid(p) {
		return false
	}
	for _, r := range string(p) {
		if !unicode.IsPrint(r) && !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

func packedVarints(p []byte) bool {
	for len(p) > 0 {
		_, n := protowire.ConsumeVarint(p)
		if n < 0 {
			return false
		}
		p = p[n:]
	}
	return true
}

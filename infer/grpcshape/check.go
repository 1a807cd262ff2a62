package grpcshape

import (
	"fmt"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Problem is one way the messages of a shape break their declared type.
type Problem struct {
	// Path names the field from the message type down
	// ("Feature.location.field_7"); Number is its field number (0 for the
	// message as a whole).
	Path   string
	Number protowire.Number
	// Rule is "undeclared-field", "wire-type", "not-a-message" or
	// "malformed"; Reason says it in words.
	Rule, Reason string
	// Count is how many values (messages, for "malformed") showed it.
	Count int
}

// CheckShape compares a shape inferred from traffic with the declared
// message type, as Check does one message: a field number the type does
// not declare (at any depth), values of a wire type the declared field
// cannot take, values of a message field that do not parse as messages,
// and messages that were not protobuf at all. What a shape cannot tell
// (invalid UTF-8 in a declared string, nesting past MaxDepth) is not
// reported. Problems come in field order, depth first.
func CheckShape(md protoreflect.MessageDescriptor, s *Shape) []Problem {
	var out []Problem
	if s.Malformed > 0 {
		out = append(out, Problem{Path: string(md.Name()), Rule: "malformed", Count: s.Malformed,
			Reason: fmt.Sprintf("%d message(s) are not valid protobuf", s.Malformed)})
	}
	return checkShape(md, s, string(md.Name()), 0, out)
}

func checkShape(md protoreflect.MessageDescriptor, s *Shape, path string, depth int, out []Problem) []Problem {
	for _, f := range s.Fields {
		fd := md.Fields().ByNumber(f.Number)
		if fd == nil {
			out = append(out, Problem{Path: path + ".field_" + strconv.Itoa(int(f.Number)), Number: f.Number, Rule: "undeclared-field", Count: f.Count,
				Reason: fmt.Sprintf("field %d is not declared in %s", f.Number, md.FullName())})
			continue
		}
		fp := path + "." + string(fd.Name())
		if f.Kind == KindConflict || !wireFits(fd, f.wire) {
			out = append(out, Problem{Path: fp, Number: f.Number, Rule: "wire-type", Count: f.Count,
				Reason: fmt.Sprintf("%s (%s) carried %s", fd.FullName(), fd.Kind(), wireName(f))})
			continue
		}
		if fd.Message() == nil {
			continue
		}
		// Values of a message field must parse; message counts are kept
		// only above MaxDepth.
		if depth+1 < MaxDepth && f.msg < f.nonEmpty {
			out = append(out, Problem{Path: fp, Number: f.Number, Rule: "not-a-message", Count: f.nonEmpty - f.msg,
				Reason: fmt.Sprintf("%d value(s) of %s do not parse as %s", f.nonEmpty-f.msg, fd.FullName(), fd.Message().FullName())})
			continue
		}
		if f.Message != nil {
			out = checkShape(fd.Message(), f.Message, fp, depth+1, out)
		}
	}
	return out
}

// wireFits reports whether a field declared as fd may be encoded with wire
// type t: its own type, or length-delimited for a packed repeated scalar.
func wireFits(fd protoreflect.FieldDescriptor, t protowire.Type) bool {
	var want protowire.Type
	switch fd.Kind() {
	case protoreflect.BoolKind, protoreflect.EnumKind, protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Uint32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Uint64Kind:
		want = protowire.VarintType
	case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.FloatKind:
		want = protowire.Fixed32Type
	case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind, protoreflect.DoubleKind:
		want = protowire.Fixed64Type
	case protoreflect.GroupKind:
		return false // groups are refused by inference
	default:
		return t == protowire.BytesType
	}
	return t == want || fd.IsList() && t == protowire.BytesType
}

func wireName(f *Field) string {
	if f.Kind == KindConflict {
		return "values of different wire types"
	}
	switch f.wire {
	case protowire.VarintType:
		return "varint values"
	case protowire.Fixed32Type:
		return "fixed32 values"
	case protowire.Fixed64Type:
		return "fixed64 values"
	}
	return "length-delimited values"
}

package grpcshape

import (
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// fieldJSON is the stored form of a Field: the evidence counters too, so
// that a shape reloaded from a store keeps merging as if never stored.
type fieldJSON struct {
	Number   protowire.Number `json:"number"`
	Kind     string           `json:"kind"`
	Wire     protowire.Type   `json:"wire"`
	Repeated bool             `json:"repeated,omitempty"`
	Count    int              `json:"count"`
	Message  *Shape           `json:"message,omitempty"`
	NonEmpty int              `json:"non_empty,omitempty"`
	Str      int              `json:"str,omitempty"`
	Msg      int              `json:"msg,omitempty"`
	Packed   int              `json:"packed,omitempty"`
}

// MarshalJSON writes the field with the evidence its kind was decided from.
func (f *Field) MarshalJSON() ([]byte, error) {
	return json.Marshal(fieldJSON{Number: f.Number, Kind: f.Kind.String(), Wire: f.wire, Repeated: f.Repeated, Count: f.Count,
		Message: f.Message, NonEmpty: f.nonEmpty, Str: f.str, Msg: f.msg, Packed: f.packed})
}

// UnmarshalJSON reads what MarshalJSON wrote, refusing values no inference
// produces (a bad number, wire type, kind or negative count).
func (f *Field) UnmarshalJSON(b []byte) error {
	var j fieldJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if j.Number < protowire.MinValidNumber || j.Number > protowire.MaxValidNumber {
		return fmt.Errorf("grpcshape: field number %d out of range", j.Number)
	}
	k, ok := parseKind(j.Kind)
	if !ok {
		return fmt.Errorf("grpcshape: field %d: unknown kind %q", j.Number, j.Kind)
	}
	switch j.Wire {
	case protowire.VarintType, protowire.Fixed32Type, protowire.Fixed64Type, protowire.BytesType:
	default:
		return fmt.Errorf("grpcshape: field %d: wire type %d", j.Number, j.Wire)
	}
	if j.Count < 0 || j.NonEmpty < 0 || j.Str < 0 || j.Msg < 0 || j.Packed < 0 {
		return fmt.Errorf("grpcshape: field %d: negative count", j.Number)
	}
	*f = Field{Number: j.Number, Kind: k, Repeated: j.Repeated, Count: j.Count, Message: j.Message,
		wire: j.Wire, nonEmpty: j.NonEmpty, str: j.Str, msg: j.Msg, packed: j.Packed}
	return nil
}

func parseKind(s string) (Kind, bool) {
	for i, n := range kindNames {
		if n == s {
			return Kind(i), true
		}
	}
	return 0, false
}

// Validate checks a shape decoded from storage: fields in increasing
// number order, at most MaxFields per shape and MaxNodes in all, nesting
// within MaxDepth.
func (s *Shape) Validate() error {
	if err := s.validate(0); err != nil {
		return err
	}
	if n := s.Size(); n > MaxNodes {
		return fmt.Errorf("grpcshape: %d fields with the nested ones, more than %d", n, MaxNodes)
	}
	return nil
}

func (s *Shape) validate(depth int) error {
	if depth >= MaxDepth {
		return fmt.Errorf("grpcshape: shape nested deeper than %d", MaxDepth)
	}
	if len(s.Fields) > MaxFields {
		return fmt.Errorf("grpcshape: %d fields, more than %d", len(s.Fields), MaxFields)
	}
	if s.Samples < 0 || s.Malformed < 0 || s.DroppedFields < 0 {
		return fmt.Errorf("grpcshape: negative count")
	}
	for i, f := range s.Fields {
		if f == nil {
			return fmt.Errorf("grpcshape: field %d is null", i)
		}
		if i > 0 && s.Fields[i-1].Number >= f.Number {
			return fmt.Errorf("grpcshape: field %d after field %d: not in increasing order", f.Number, s.Fields[i-1].Number)
		}
		if f.Message != nil {
			if err := f.Message.validate(depth + 1); err != nil {
				return fmt.Errorf("field %d: %w", f.Number, err)
			}
		}
	}
	return nil
}

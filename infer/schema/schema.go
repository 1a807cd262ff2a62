package schema

import (
	"slices"

	"github.com/getkin/kin-openapi/openapi3"
)

// ExtSensitive is the schema extension listing the sensitive-data kinds seen
// in a field's values (names from package sensitive).
const ExtSensitive = "x-specter-sensitive"

// ExtTruncated is the schema extension set (to true) where inference hit a
// bound: properties dropped, contents below MaxDepth not described.
const ExtTruncated = "x-specter-truncated"

// Schema returns the schema inferred from everything observed here:
//
//   - One type per kind of value seen (boolean, integer, number, string,
//     object, array); several kinds give oneOf, one per kind, in that order.
//     Integers and numbers together are one number. null makes the schema
//     nullable rather than adding a kind; a position that saw only nulls is
//     {nullable: true}.
//   - Integers beyond int32 have format int64. Strings have the format all
//     of them share, if any (see Format).
//   - A string is an enum when it saw at least MinEnumSamples strings, at
//     most MaxEnum distinct short, unformatted, non-sensitive values, and at
//     least EnumRatio samples per distinct value.
//   - Object properties are sorted. A property is required when the object
//     was seen at least RequiredMinSamples times and the property was present
//     (null or not) in at least RequiredRatio of them; an absent property is
//     optional, which is kept apart from nullable.
//   - Where bounds were hit the schema stays open (additionalProperties,
//     empty object/array schemas) and is marked x-specter-truncated.
//   - Sensitive kinds are listed in x-specter-sensitive. No example values
//     are emitted, so nothing sensitive can leak through the schema.
func (n *Node) Schema(opts Options) *openapi3.Schema {
	if n == nil || n.Count == 0 {
		return &openapi3.Schema{}
	}
	var kinds []*openapi3.Schema
	if n.Bool > 0 {
		kinds = append(kinds, &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeBoolean}})
	}
	switch {
	case n.Number > 0:
		kinds = append(kinds, &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeNumber}})
	case n.Int > 0:
		s := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeInteger}}
		if n.Int64 > 0 {
			s.Format = "int64"
		}
		kinds = append(kinds, s)
	}
	if n.String > 0 {
		kinds = append(kinds, n.stringSchema(opts))
	}
	if n.Object > 0 {
		kinds = append(kinds, n.objectSchema(opts))
	}
	if n.Array > 0 {
		s := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeArray}}
		if n.Items != nil && n.Items.Count > 0 {
			s.Items = openapi3.NewSchemaRef("", n.Items.Schema(opts))
		} else {
			s.Items = openapi3.NewSchemaRef("", &openapi3.Schema{})
		}
		if n.Truncated > 0 {
			setExt(s, ExtTruncated, true)
		}
		kinds = append(kinds, s)
	}
	var out *openapi3.Schema
	switch len(kinds) {
	case 0:
		out = &openapi3.Schema{}
	case 1:
		out = kinds[0]
	default:
		out = &openapi3.Schema{}
		for _, k := range kinds {
			out.OneOf = append(out.OneOf, openapi3.NewSchemaRef("", k))
		}
	}
	if n.Null > 0 {
		out.Nullable = true
	}
	if n.Sensitive != 0 {
		setExt(out, ExtSensitive, n.Sensitive.Names())
	}
	return out
}

func setExt(s *openapi3.Schema, k string, v any) {
	if s.Extensions == nil {
		s.Extensions = make(map[string]any, 1)
	}
	s.Extensions[k] = v
}

func (n *Node) stringSchema(opts Options) *openapi3.Schema {
	s := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}}
	for f, c := range n.Formats {
		if c == n.String {
			s.Format = f
		}
	}
	if !n.EnumOverflow && len(n.Enum) > 0 && len(n.Enum) <= opts.MaxEnum &&
		n.String >= int64(opts.MinEnumSamples) && n.String >= int64(opts.EnumRatio)*int64(len(n.Enum)) {
		for _, v := range n.Enum {
			s.Enum = append(s.Enum, v)
		}
	}
	return s
}

func (n *Node) objectSchema(opts Options) *openapi3.Schema {
	s := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeObject}}
	if len(n.Props) > 0 {
		s.Properties = make(openapi3.Schemas, len(n.Props))
	}
	for _, k := range sortedKeys(n.Props) {
		c := n.Props[k]
		s.Properties[k] = openapi3.NewSchemaRef("", c.Schema(opts))
		if n.Object >= opts.RequiredMinSamples && n.Object > 0 &&
			float64(c.Count) >= opts.RequiredRatio*float64(n.Object) {
			s.Required = append(s.Required, k)
		}
	}
	slices.Sort(s.Required)
	if n.PropsDropped > 0 {
		t := true
		s.AdditionalProperties = openapi3.AdditionalProperties{Has: &t}
		setExt(s, ExtTruncated, true)
	}
	if n.Truncated > 0 {
		setExt(s, ExtTruncated, true)
	}
	return s
}

package schema

import (
	"math"
	"slices"

	"github.com/getkin/kin-openapi/openapi3"
)

// ExtSensitive is the schema extension listing the sensitive-data kinds seen
// in a field's values (names from package sensitive).
const ExtSensitive = "x-specter-sensitive"

// ExtMap is the schema extension set (to true) on objects inferred to be
// maps with dynamic keys; their values are described by
// additionalProperties.
const ExtMap = "x-specter-map"

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
//   - A string is an enum when it saw at least MinEnumSamples strings, two
//     to MaxEnum distinct short, unformatted, non-sensitive values, and at
//     least EnumRatio samples per distinct value (a constant is not taken
//     for an enum: one value says little about the others).
//   - Object properties are sorted. A property is required when the object
//     was seen at least RequiredMinSamples times and the property was present
//     (null or not) in at least RequiredRatio of them; an absent property is
//     optional, which is kept apart from nullable.
//   - An object position that looks like a map with dynamic keys (see
//     Options.MapMinKeys) lists only its frequent, field-like properties;
//     the others are merged into additionalProperties, and the schema is
//     marked x-specter-map.
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
	if !n.EnumOverflow && len(n.Enum) >= 2 && len(n.Enum) <= opts.MaxEnum &&
		n.String >= int64(opts.MinEnumSamples) && n.String >= int64(opts.EnumRatio)*int64(len(n.Enum)) {
		for _, v := range n.Enum {
			s.Enum = append(s.Enum, v)
		}
	}
	return s
}

func (n *Node) objectSchema(opts Options) *openapi3.Schema {
	s := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeObject}}
	keys := sortedKeys(n.Props)
	var rest *Node // values of a map's dynamic keys, merged
	if n.mapLike(opts) {
		var fixed []string
		rest = &Node{}
		unlimited := Options{MaxProperties: math.MaxInt, MaxEnum: math.MaxInt, MaxEnumLen: math.MaxInt, MaxNodes: math.MaxInt}
		for _, k := range keys {
			if c := n.Props[k]; idLike(k) || c.Count*10 <= n.Object {
				rest.MergeWith(c, unlimited)
			} else {
				fixed = append(fixed, k)
			}
		}
		keys = fixed
		setExt(s, ExtMap, true)
	}
	if len(keys) > 0 {
		s.Properties = make(openapi3.Schemas, len(keys))
	}
	for _, k := range keys {
		c := n.Props[k]
		s.Properties[k] = openapi3.NewSchemaRef("", c.Schema(opts))
		if n.Object >= opts.RequiredMinSamples && n.Object > 0 &&
			float64(c.Count) >= opts.RequiredRatio*float64(n.Object) {
			s.Required = append(s.Required, k)
		}
	}
	slices.Sort(s.Required)
	switch {
	case rest != nil:
		s.AdditionalProperties = openapi3.AdditionalProperties{Schema: openapi3.NewSchemaRef("", rest.Schema(opts))}
	case n.PropsDropped > 0:
		t := true
		s.AdditionalProperties = openapi3.AdditionalProperties{Has: &t}
	}
	if n.PropsDropped > 0 || n.Truncated > 0 {
		setExt(s, ExtTruncated, true)
	}
	return s
}

// mapLike reports whether the objects seen here are maps with dynamic keys
// (ids, names) rather than records: at least MapMinKeys distinct names, and
// nine in ten of them look like identifiers, or (over at least ten objects)
// three in four are rare, present in at most one object in ten.
func (n *Node) mapLike(opts Options) bool {
	if opts.MapMinKeys <= 0 || len(n.Props) < opts.MapMinKeys {
		return false
	}
	ids, rare := 0, 0
	for k, c := range n.Props {
		if idLike(k) {
			ids++
		}
		if n.Object >= 10 && c.Count*10 <= n.Object {
			rare++
		}
	}
	return ids*10 >= len(n.Props)*9 || rare*4 >= len(n.Props)*3
}

// idLike reports property names that are data, not field names: numbers,
// UUIDs, long hexadecimal strings, dates, e-mail addresses.
func idLike(k string) bool {
	if k == "" {
		return false
	}
	digits, hex := true, len(k) >= 8
	for i := 0; i < len(k); i++ {
		c := k[i]
		digits = digits && isDigit(c)
		hex = hex && isHex(c)
	}
	if digits || hex {
		return true
	}
	switch Format(k) {
	case FormatUUID, FormatDate, FormatDateTime, FormatEmail, FormatIPv4, FormatIPv6:
		return true
	}
	return false
}

package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/specter-dev/specter/infer/operations"
)

// GraphQLSchema is a declared GraphQL schema, checked against the GraphQL
// operations found behind the endpoints of the services it is attached to
// (see GraphQLFindings).
type GraphQLSchema struct {
	// Path is the file it was loaded from.
	Path   string
	Schema *ast.Schema
	// AttachTo restricts the schema to these services (infer.ServiceName,
	// or a host without port); empty attaches it to every service.
	AttachTo []string
}

// maxSchemaBytes bounds a schema file.
const maxSchemaBytes = 64 << 20

// LoadGraphQLSchema reads a GraphQL schema from SDL or from the JSON of an
// introspection result ({"data":{"__schema":…}} or {"__schema":…}).
func LoadGraphQLSchema(path string) (*GraphQLSchema, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > maxSchemaBytes {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d a GraphQL schema may have", path, st.Size(), maxSchemaBytes)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseGraphQLSchema(path, b)
}

// ParseGraphQLSchema parses SDL or introspection JSON; name is used in
// errors.
func ParseGraphQLSchema(name string, b []byte) (*GraphQLSchema, error) {
	sdl := string(b)
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		var err error
		if sdl, err = introspectionSDL(t); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	s, err := gqlparser.LoadSchema(&ast.Source{Name: name, Input: sdl})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &GraphQLSchema{Path: name, Schema: s}, nil
}

// IntrospectionQuery is the standard introspection query (as GraphiQL and
// graphql-js send it, less descriptions): its result, saved as JSON, is a
// schema LoadGraphQLSchema reads.
const IntrospectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
  }
}
fragment FullType on __Type {
  kind name
  fields(includeDeprecated: true) { name args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name type { ...TypeRef } defaultValue }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } }`

// The parts of an introspection result that make a schema.
type (
	introType struct {
		Kind          string       `json:"kind"`
		Name          string       `json:"name"`
		Fields        []introField `json:"fields"`
		InputFields   []introInput `json:"inputFields"`
		Interfaces    []introRef   `json:"interfaces"`
		EnumValues    []introEnum  `json:"enumValues"`
		PossibleTypes []introRef   `json:"possibleTypes"`
	}
	introField struct {
		Name              string       `json:"name"`
		Args              []introInput `json:"args"`
		Type              *introRef    `json:"type"`
		IsDeprecated      bool         `json:"isDeprecated"`
		DeprecationReason *string      `json:"deprecationReason"`
	}
	introInput struct {
		Name              string    `json:"name"`
		Type              *introRef `json:"type"`
		DefaultValue      *string   `json:"defaultValue"`
		IsDeprecated      bool      `json:"isDeprecated"`
		DeprecationReason *string   `json:"deprecationReason"`
	}
	introEnum struct {
		Name              string  `json:"name"`
		IsDeprecated      bool    `json:"isDeprecated"`
		DeprecationReason *string `json:"deprecationReason"`
	}
	introRef struct {
		Kind   string    `json:"kind"`
		Name   string    `json:"name"`
		OfType *introRef `json:"ofType"`
	}
	introSchema struct {
		QueryType        *introRef   `json:"queryType"`
		MutationType     *introRef   `json:"mutationType"`
		SubscriptionType *introRef   `json:"subscriptionType"`
		Types            []introType `json:"types"`
	}
)

// introspectionSDL writes an introspection result as SDL, for gqlparser.
func introspectionSDL(b []byte) (string, error) {
	var doc struct {
		Data *struct {
			Schema *introSchema `json:"__schema"`
		} `json:"data"`
		Schema *introSchema `json:"__schema"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return "", fmt.Errorf("introspection JSON: %w", err)
	}
	s := doc.Schema
	if s == nil && doc.Data != nil {
		s = doc.Data.Schema
	}
	if s == nil || s.QueryType == nil {
		return "", fmt.Errorf("introspection JSON: no __schema with a queryType")
	}
	var w strings.Builder
	w.WriteString("schema {\n  query: " + s.QueryType.Name + "\n")
	if s.MutationType != nil {
		w.WriteString("  mutation: " + s.MutationType.Name + "\n")
	}
	if s.SubscriptionType != nil {
		w.WriteString("  subscription: " + s.SubscriptionType.Name + "\n")
	}
	w.WriteString("}\n")
	for i, t := range s.Types {
		if strings.HasPrefix(t.Name, "__") || builtinScalar(t.Name) {
			continue
		}
		if !operations.IsName(t.Name) {
			return "", fmt.Errorf("introspection JSON: __schema.types[%d].name %q is not a GraphQL name", i, t.Name)
		}
		if err := writeIntroType(&w, t); err != nil {
			return "", fmt.Errorf("introspection JSON: type %s: %w", t.Name, err)
		}
	}
	return w.String(), nil
}

func builtinScalar(n string) bool {
	switch n {
	case "String", "Int", "Float", "Boolean", "ID":
		return true
	}
	return false
}

func writeIntroType(w *strings.Builder, t introType) error {
	switch t.Kind {
	case "SCALAR":
		w.WriteString("scalar " + t.Name + "\n")
	case "OBJECT", "INTERFACE":
		kw := "type "
		if t.Kind == "INTERFACE" {
			kw = "interface "
		}
		w.WriteString(kw + t.Name)
		for i, in := range t.Interfaces {
			if i == 0 {
				w.WriteString(" implements ")
			} else {
				w.WriteString(" & ")
			}
			w.WriteString(in.Name)
		}
		w.WriteString(" {\n")
		for _, f := range t.Fields {
			tr, err := typeRef(f.Type)
			if err != nil {
				return fmt.Errorf("field %s: %w", f.Name, err)
			}
			w.WriteString("  " + f.Name)
			if len(f.Args) > 0 {
				w.WriteString("(")
				for i, a := range f.Args {
					if i > 0 {
						w.WriteString(", ")
					}
					if err := writeInput(w, a); err != nil {
						return fmt.Errorf("field %s: %w", f.Name, err)
					}
				}
				w.WriteString(")")
			}
			w.WriteString(": " + tr + deprecated(f.IsDeprecated, f.DeprecationReason) + "\n")
		}
		w.WriteString("}\n")
	case "UNION":
		var names []string
		for _, p := range t.PossibleTypes {
			names = append(names, p.Name)
		}
		w.WriteString("union " + t.Name + " = " + strings.Join(names, " | ") + "\n")
	case "ENUM":
		w.WriteString("enum " + t.Name + " {\n")
		for _, v := range t.EnumValues {
			w.WriteString("  " + v.Name + deprecated(v.IsDeprecated, v.DeprecationReason) + "\n")
		}
		w.WriteString("}\n")
	case "INPUT_OBJECT":
		w.WriteString("input " + t.Name + " {\n")
		for _, f := range t.InputFields {
			w.WriteString("  ")
			if err := writeInput(w, f); err != nil {
				return err
			}
			w.WriteString("\n")
		}
		w.WriteString("}\n")
	default:
		return fmt.Errorf("kind %q", t.Kind)
	}
	return nil
}

func writeInput(w *strings.Builder, a introInput) error {
	tr, err := typeRef(a.Type)
	if err != nil {
		return fmt.Errorf("argument %s: %w", a.Name, err)
	}
	w.WriteString(a.Name + ": " + tr)
	if a.DefaultValue != nil {
		w.WriteString(" = " + *a.DefaultValue)
	}
	w.WriteString(deprecated(a.IsDeprecated, a.DeprecationReason))
	return nil
}

func deprecated(is bool, reason *string) string {
	if !is {
		return ""
	}
	if reason == nil {
		return " @deprecated"
	}
	// A JSON string is a GraphQL string literal.
	q, _ := json.Marshal(*reason)
	return " @deprecated(reason: " + string(q) + ")"
}

// typeRef writes an introspection type reference (NON_NULL and LIST
// wrappers around a named type), at most 16 wrappers deep.
func typeRef(r *introRef) (string, error) {
	var wrap func(r *introRef, depth int) (string, error)
	wrap = func(r *introRef, depth int) (string, error) {
		if r == nil || depth > 16 {
			return "", fmt.Errorf("type reference missing or nested past 16")
		}
		switch r.Kind {
		case "NON_NULL":
			s, err := wrap(r.OfType, depth+1)
			return s + "!", err
		case "LIST":
			s, err := wrap(r.OfType, depth+1)
			return "[" + s + "]", err
		}
		if !operations.IsName(r.Name) {
			return "", fmt.Errorf("type name %q", r.Name)
		}
		return r.Name, nil
	}
	return wrap(r, 0)
}

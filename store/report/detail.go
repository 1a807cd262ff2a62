package report

import (
	"cmp"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/specter-dev/specter/infer"
)

// maxShape bounds the length of a schema's one-line shape in a detail
// section; longer shapes end with "…".
const maxShape = 600

// Detail is the detail section of one endpoint: its parameters and body
// shapes as the OpenAPI export (infer.Model.OpenAPI) describes them.
type Detail struct {
	ID        string        `json:"id"`
	Service   string        `json:"service"`
	Method    string        `json:"method"`
	Template  string        `json:"template"`
	Count     uint64        `json:"count"`
	Latency   infer.Latency `json:"latency_ms"`
	Auth      []string      `json:"auth,omitempty"`
	Sensitive []string      `json:"sensitive,omitempty"`
	Params    []Param       `json:"params,omitempty"`
	Requests  []Body        `json:"requests,omitempty"`
	Responses []Body        `json:"responses,omitempty"`
	// Operations are the GraphQL, JSON-RPC and SOAP operations found
	// behind the endpoint, at most MaxDetailOperations; OperationsOmitted
	// counts the rest.
	Operations        []OperationDetail `json:"operations,omitempty"`
	OperationsOmitted int               `json:"operations_omitted,omitempty"`
}

// Param is one parameter of an endpoint.
type Param struct {
	In       string `json:"in"`
	Name     string `json:"name"`
	Shape    string `json:"shape"`
	Required bool   `json:"required,omitempty"`
}

// Body is the shape of the bodies of one status (responses) and media
// type.
type Body struct {
	Status string `json:"status,omitempty"`
	Media  string `json:"media,omitempty"`
	Shape  string `json:"shape"`
}

// buildDetails describes the endpoints picked (anchors by key), in page
// order. The OpenAPI document of each service is built once.
func buildDetails(m *infer.Model, eps []infer.EndpointSummary, picked map[endpointKey]string) []Detail {
	out := []Detail{}
	if m == nil || len(picked) == 0 {
		return out
	}
	docs := map[string]*openapi3.T{}
	for _, e := range eps {
		id := picked[endpointKey{e.Service, e.Method, e.Template}]
		if id == "" {
			continue
		}
		d := Detail{ID: id, Service: e.Service, Method: e.Method, Template: e.Template, Count: e.Count,
			Latency: e.Latency, Auth: e.Auth, Sensitive: e.Sensitive}
		doc, ok := docs[e.Service]
		if !ok {
			// An export error leaves the section with the summary only.
			doc, _ = m.OpenAPI(e.Service, infer.ExportOptions{})
			docs[e.Service] = doc
		}
		var op *openapi3.Operation
		if doc != nil && doc.Paths != nil {
			if pi := doc.Paths.Value(e.Template); pi != nil {
				op = pi.GetOperation(e.Method)
			}
		}
		if op != nil {
			describe(&d, op)
		}
		describeOperations(&d, e, op)
		out = append(out, d)
	}
	return out
}

func describe(d *Detail, op *openapi3.Operation) {
	for _, p := range op.Parameters {
		if p == nil || p.Value == nil {
			continue
		}
		d.Params = append(d.Params, Param{In: p.Value.In, Name: p.Value.Name, Shape: shapeOf(p.Value.Schema), Required: p.Value.Required})
	}
	order := map[string]int{"path": 0, "query": 1, "header": 2, "cookie": 3}
	slices.SortStableFunc(d.Params, func(a, b Param) int {
		return cmp.Or(cmp.Compare(order[a.In], order[b.In]), strings.Compare(a.Name, b.Name))
	})
	if rb := op.RequestBody; rb != nil && rb.Value != nil {
		d.Requests = bodies("", rb.Value.Content)
	}
	if op.Responses != nil {
		codes := make([]string, 0, op.Responses.Len())
		for code := range op.Responses.Map() {
			codes = append(codes, code)
		}
		sort.Strings(codes)
		for _, code := range codes {
			r := op.Responses.Value(code)
			if r == nil || r.Value == nil {
				continue
			}
			bs := bodies(code, r.Value.Content)
			if len(bs) == 0 {
				bs = []Body{{Status: code, Shape: "(no body)"}}
			}
			d.Responses = append(d.Responses, bs...)
		}
	}
}

func bodies(status string, c openapi3.Content) []Body {
	var out []Body
	for _, mt := range sortedKeys(c) {
		out = append(out, Body{Status: status, Media: mt, Shape: shapeOf(c[mt].Schema)})
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// shapeOf writes a schema on one line, TypeScript-like: {id: integer,
// tags: [string], note?: string|null}; optional properties end with "?".
func shapeOf(r *openapi3.SchemaRef) string {
	var b strings.Builder
	writeShape(&b, r, 0)
	if s := b.String(); len(s) > maxShape {
		cut := maxShape
		for cut > 0 && s[cut]&0xc0 == 0x80 { // not inside a UTF-8 sequence
			cut--
		}
		return s[:cut] + "…"
	}
	return b.String()
}

func writeShape(b *strings.Builder, r *openapi3.SchemaRef, depth int) {
	if b.Len() > maxShape {
		return
	}
	if r == nil || r.Value == nil {
		b.WriteString("any")
		return
	}
	s := r.Value
	if depth > 8 {
		b.WriteString("…")
		return
	}
	if len(s.OneOf) > 0 || len(s.AnyOf) > 0 {
		alts := append(slices.Clone(s.OneOf), s.AnyOf...)
		for i, a := range alts {
			if i > 0 {
				b.WriteString("|")
			}
			writeShape(b, a, depth+1)
		}
		return
	}
	var types []string
	if s.Type != nil {
		types = s.Type.Slice()
	}
	if len(types) == 0 {
		switch {
		case len(s.Properties) > 0:
			types = []string{"object"}
		case s.Items != nil:
			types = []string{"array"}
		default:
			b.WriteString("any")
			return
		}
	}
	for i, t := range types {
		if i > 0 {
			b.WriteString("|")
		}
		switch t {
		case "object":
			b.WriteString("{")
			for j, name := range sortedKeys(s.Properties) {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString(name)
				if !slices.Contains(s.Required, name) {
					b.WriteString("?")
				}
				b.WriteString(": ")
				writeShape(b, s.Properties[name], depth+1)
				if b.Len() > maxShape {
					return
				}
			}
			b.WriteString("}")
		case "array":
			b.WriteString("[")
			writeShape(b, s.Items, depth+1)
			b.WriteString("]")
		default:
			b.WriteString(t)
			if s.Format != "" {
				b.WriteString("(" + s.Format + ")")
			}
		}
	}
	if s.Nullable {
		b.WriteString("|null")
	}
}

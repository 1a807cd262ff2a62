package report

import (
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/operations"
)

// Bounds of the GraphQL, JSON-RPC and SOAP operations a report shows.
const (
	// MaxOperationRows bounds the operation sub-rows of the whole tree;
	// the rest are counted in Omitted.OperationRows.
	MaxOperationRows = 5000
	// MaxDetailOperations bounds the operations of one detail section;
	// the rest are counted in Detail.OperationsOmitted.
	MaxDetailOperations = 100
)

// OperationNode is one sub-row of the tree: a GraphQL operation, JSON-RPC
// method or SOAP action found in the bodies of its endpoint. In the tree
// its Fields, Variables and Hashes are empty: only details show them.
type OperationNode struct {
	// Kind names the protocol and type: "GraphQL query", "JSON-RPC
	// method", "SOAP 1.1 action".
	Kind string `json:"kind"`
	operations.Summary
}

// OperationDetail is one operation of a detail section: what it was
// called with and answered.
type OperationDetail struct {
	OperationNode
	// Shapes are the one-line shapes of the JSON-RPC params, result and
	// error objects, or of the GraphQL variables, data and errors.
	Shapes []OperationShape `json:"shapes,omitempty"`
}

// OperationShape is the one-line shape of one part of an operation's
// calls: "params", "result", "error"; "variables", "data", "errors".
type OperationShape struct {
	Part  string `json:"part"`
	Shape string `json:"shape"`
}

// operationKind is how the page names an operation's protocol and type.
func operationKind(s operations.Summary) string {
	switch s.Protocol {
	case operations.GraphQL:
		return "GraphQL " + s.Type
	case operations.JSONRPC:
		return "JSON-RPC method"
	case operations.SOAP:
		if s.Type != "" {
			return "SOAP " + s.Type + " action"
		}
		return "SOAP action"
	}
	return string(s.Protocol) + " " + s.Type
}

func operationNode(s operations.Summary) OperationNode {
	s.FirstSeen, s.LastSeen = s.FirstSeen.UTC(), s.LastSeen.UTC()
	return OperationNode{Kind: operationKind(s), Summary: s}
}

// operationRows gives the sub-rows of e, at most room; it returns the
// rows and how many were left out.
func operationRows(e infer.EndpointSummary, room int) ([]OperationNode, int) {
	n := min(len(e.Operations), max(room, 0))
	var out []OperationNode
	for _, s := range e.Operations[:n] {
		s.Fields, s.Variables, s.Hashes = nil, nil, nil
		out = append(out, operationNode(s))
	}
	return out, len(e.Operations) - n
}

// protocolNames are the summary card's names of the protocols, in the
// order the card lists them.
var protocolNames = []struct {
	p    operations.Protocol
	name string
}{{operations.GraphQL, "GraphQL"}, {operations.JSONRPC, "JSON-RPC"}, {operations.SOAP, "SOAP"}}

// countOperations fills the summary's operation counts: every operation
// of every endpoint, whatever the tree's bound shows.
func countOperations(s *Summary, eps []infer.EndpointSummary) {
	by := map[operations.Protocol]int{}
	for _, e := range eps {
		for _, o := range e.Operations {
			by[o.Protocol]++
			s.Operations++
		}
	}
	for _, p := range protocolNames {
		if by[p.p] > 0 {
			s.OperationsBy = append(s.OperationsBy, Count{p.name, by[p.p]})
		}
	}
}

// shapeNames name the shapes of an operation per protocol, in the order
// of the export's keys params, result and error.
var shapeNames = map[operations.Protocol][3]string{
	operations.GraphQL: {"variables", "data", "errors"},
	operations.JSONRPC: {"params", "result", "error"},
	operations.SOAP:    {"request", "response", "fault"},
}

// describeOperations gives d the operations of e, at most
// MaxDetailOperations, with the shapes the export wrote on op (nil when
// the export has no such operation).
func describeOperations(d *Detail, e infer.EndpointSummary, op *openapi3.Operation) {
	shapes := exportedShapes(op)
	for i, s := range e.Operations {
		if i >= MaxDetailOperations {
			d.OperationsOmitted = len(e.Operations) - i
			break
		}
		od := OperationDetail{OperationNode: operationNode(s)}
		names := shapeNames[s.Protocol]
		for j, sch := range shapes[string(s.Protocol)+"\x00"+s.Type+"\x00"+s.Name] {
			if sch != nil {
				od.Shapes = append(od.Shapes, OperationShape{Part: names[j], Shape: shapeOf(&openapi3.SchemaRef{Value: sch})})
			}
		}
		d.Operations = append(d.Operations, od)
	}
}

// exportedShapes reads the params, result and error schemas of the
// operations the export listed on op (infer.ExtOperations), by protocol,
// type and name.
func exportedShapes(op *openapi3.Operation) map[string][3]*openapi3.Schema {
	out := map[string][3]*openapi3.Schema{}
	if op == nil {
		return out
	}
	list, _ := op.Extensions[infer.ExtOperations].([]any)
	for _, item := range list {
		m, _ := item.(map[string]any)
		str := func(k string) string { s, _ := m[k].(string); return s }
		var shapes [3]*openapi3.Schema
		for j, k := range []string{"params", "result", "error"} {
			shapes[j], _ = m[k].(*openapi3.Schema)
		}
		out[strings.Join([]string{str("protocol"), str("type"), str("name")}, "\x00")] = shapes
	}
	return out
}

package infer

import (
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/specter-dev/specter/infer/operations"
	"github.com/specter-dev/specter/infer/schema"
)

// Extensions for the operations behind one URL (package operations).
const (
	// ExtOperations lists the GraphQL, JSON-RPC and SOAP operations found
	// in the bodies of a transport operation.
	ExtOperations = "x-specter-operations"
	// ExtOperationsLost counts the calls the inventory could not place:
	// past its bounds or malformed.
	ExtOperationsLost = "x-specter-operations-lost"
)

// rpcExtensions writes ExtOperations (and ExtOperationsLost) on o for op's
// inventory, if it has one.
func (m *Model) rpcExtensions(o *openapi3.Operation, op *Operation) {
	inv := op.RPC
	if inv == nil {
		return
	}
	var list []any
	raws := inv.Sorted()
	for i, s := range inv.Summaries() {
		e := map[string]any{"protocol": string(s.Protocol), "name": s.Name, "count": s.Count}
		if s.Type != "" {
			e["type"] = s.Type
		}
		if s.Errors > 0 {
			e["errors"] = s.Errors
		}
		if s.Notifications > 0 {
			e["notifications"] = s.Notifications
		}
		if len(s.Fields) > 0 {
			e["fields"] = s.Fields
		}
		if len(s.Variables) > 0 {
			e["variables"] = s.Variables
		}
		if len(s.Hashes) > 0 {
			e["persisted_hashes"] = s.Hashes
		}
		if s.Introspection {
			e["introspection"] = true
		}
		raw := raws[i]
		for k, n := range map[string]*schema.Node{"params": raw.Params, "result": raw.Result, "error": raw.Error} {
			if n != nil && n.Count > 0 {
				e[k] = n.Schema(m.sopts)
			}
		}
		list = append(list, e)
	}
	if len(list) > 0 {
		o.Extensions[ExtOperations] = list
	}
	lost := map[string]any{}
	for k, v := range map[string]uint64{"dropped": inv.Dropped, "too_large": inv.TooLarge, "too_deep": inv.TooDeep, "bad": inv.Bad, "batch_cut": inv.BatchCut} {
		if v > 0 {
			lost[k] = v
		}
	}
	if len(lost) > 0 {
		o.Extensions[ExtOperationsLost] = lost
	}
}

// rpcSchemas calls walk with the schemas rpcExtensions wrote on o (for
// the 3.1 rewrite).
func rpcSchemas(o *openapi3.Operation, walk func(*openapi3.Schema)) {
	list, _ := o.Extensions[ExtOperations].([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		for _, k := range []string{"params", "result", "error"} {
			if s, ok := m[k].(*openapi3.Schema); ok {
				walk(s)
			}
		}
	}
}

// rpcSummaries lists the operations behind an endpoint's operation.
func rpcSummaries(op *Operation) []operations.Summary {
	if op.RPC == nil {
		return nil
	}
	return op.RPC.Summaries()
}

// RPCEndpoint is the operation inventory of one transport endpoint.
type RPCEndpoint struct {
	Service, Method, Template string
	FirstSeen, LastSeen       time.Time
	// Inventory is the endpoint's merged inventory (the raw operations
	// under its template merged): read only.
	Inventory *operations.Inventory
}

// RPCEndpoints lists the endpoints that have GraphQL, JSON-RPC or SOAP
// operations, in the order of Endpoints.
func (m *Model) RPCEndpoints() []RPCEndpoint {
	var out []RPCEndpoint
	for _, name := range m.Services() {
		for _, ep := range m.endpoints(m.ByName[name]) {
			for _, meth := range sortedKeys(ep.ops) {
				op := ep.ops[meth]
				if op.RPC == nil || len(op.RPC.Ops) == 0 {
					continue
				}
				out = append(out, RPCEndpoint{Service: name, Method: meth, Template: ep.tmpl.Path, FirstSeen: op.FirstSeen, LastSeen: op.LastSeen, Inventory: op.RPC})
			}
		}
	}
	return out
}

package operations

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// Summary describes one operation for listings and exports.
type Summary struct {
	Protocol      Protocol  `json:"protocol"`
	Type          string    `json:"type,omitempty"`
	Name          string    `json:"name"`
	Count         uint64    `json:"count"`
	Errors        uint64    `json:"errors,omitempty"`
	Notifications uint64    `json:"notifications,omitempty"`
	FirstSeen     time.Time `json:"first_seen,omitzero"`
	LastSeen      time.Time `json:"last_seen,omitzero"`
	// Fields are the top-level fields as "name(arg1,arg2)", sorted.
	Fields []string `json:"fields,omitempty"`
	// Variables are "$name: Type", sorted.
	Variables     []string `json:"variables,omitempty"`
	Hashes        []string `json:"persisted_hashes,omitempty"`
	Introspection bool     `json:"introspection,omitempty"`
}

// Summaries lists the operations of inv, sorted by protocol, type and
// name.
func (inv *Inventory) Summaries() []Summary {
	var out []Summary
	for _, o := range inv.Sorted() {
		s := Summary{
			Protocol: o.Protocol, Type: o.Type, Name: o.Name, Count: o.Count, Errors: o.Errors,
			Notifications: o.Notifications, FirstSeen: o.FirstSeen, LastSeen: o.LastSeen,
			Hashes: slices.Clone(o.Hashes), Introspection: o.Introspection,
		}
		for _, f := range slices.Sorted(maps.Keys(o.Fields)) {
			if args := o.Fields[f]; len(args) > 0 {
				f += "(" + strings.Join(args, ",") + ")"
			}
			s.Fields = append(s.Fields, f)
		}
		for _, v := range slices.Sorted(maps.Keys(o.Variables)) {
			s.Variables = append(s.Variables, "$"+v+": "+o.Variables[v])
		}
		out = append(out, s)
	}
	return out
}

// Label is how listings name an operation after its protocol: "query
// Hero" (GraphQL), "add" (JSON-RPC), "urn:GetPrice (1.1 1.2)" (SOAP).
func (s Summary) Label() string {
	switch s.Protocol {
	case JSONRPC:
		return s.Name
	case SOAP:
		return s.Name + " (" + s.Type + ")"
	}
	return s.Type + " " + s.Name
}

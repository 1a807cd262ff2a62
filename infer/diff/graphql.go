package diff

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/operations"
)

// Rules of the GraphQL findings (see GraphQLFindings); each is followed by
// ":" and the schema coordinate (Type.field, Type.field(arg), Enum.VALUE)
// or the operation, so that each is its own finding.
const (
	RuleGraphQLUndeclaredOperation = "graphql-undeclared-operation" // shadow: root field or operation type
	RuleGraphQLUndeclaredField     = "graphql-undeclared-field"     // shadow
	RuleGraphQLUndeclaredArgument  = "graphql-undeclared-argument"  // shadow
	RuleGraphQLDeprecated          = "graphql-deprecated"           // zombie
	RuleGraphQLNoTraffic           = "graphql-no-traffic"           // unused root field
	RuleGraphQLIntrospection       = "graphql-introspection"        // introspection
	RuleGraphQLInvalid             = "graphql-invalid"              // noncompliant_request
)

// invalidRules are the gqlparser validation rules reported as
// noncompliant requests. Others are either reported more precisely
// (undeclared fields, arguments, root types) or are about the document's
// hygiene (unused fragments or variables), not about the schema.
var invalidRules = map[string]bool{
	"ValuesOfCorrectType": true, "ProvidedRequiredArguments": true, "ScalarLeafs": true,
	"VariablesInAllowedPosition": true, "KnownTypeNames": true, "PossibleFragmentSpreads": true,
	"VariablesAreInputTypes": true, "KnownDirectives": true,
}

// GraphQLFindings checks the GraphQL operations that m found behind each
// endpoint against the declared schemas attached to its service (with no
// schema, it is IntrospectionFindings):
//
//   - shadow, rule graphql-undeclared-operation: a root field (or an
//     operation type) the schema does not declare; graphql-undeclared-field
//     and graphql-undeclared-argument: a field of another type, or an
//     argument, it does not declare.
//   - zombie, rule graphql-deprecated: a field, argument or enum value
//     marked @deprecated is used.
//   - introspection, rule graphql-introspection: an operation queried
//     __schema or __type: introspection is open to this traffic.
//   - noncompliant_request, rule graphql-invalid: a document the schema's
//     validation rejects for values, required arguments, leaf selections or
//     variable types.
//   - unused, rule graphql-no-traffic: a root field no operation selected,
//     while the service had GraphQL traffic. Not reported for an endpoint
//     where some operation came as a persisted-query hash only, or had
//     documents too long to keep (Op.Unkept): which fields it used is not
//     known.
//
// Documents are the inventory's (at most Limits.Operations.MaxDocuments
// per operation, string literals blanked); counts are the operation's.
func GraphQLFindings(m *infer.Model, schemas []*GraphQLSchema) []Finding {
	if m == nil {
		return nil
	}
	if len(schemas) == 0 {
		return IntrospectionFindings(m)
	}
	byFP := map[string]*Finding{}
	add := func(f *Finding, n uint64, first, last time.Time) {
		if old := byFP[f.Fingerprint]; old != nil {
			old.Count += n
			widen(&old.FirstSeen, &old.LastSeen, first)
			widen(&old.FirstSeen, &old.LastSeen, last)
			return
		}
		f.Count = n
		widen(&f.FirstSeen, &f.LastSeen, first)
		widen(&f.FirstSeen, &f.LastSeen, last)
		byFP[f.Fingerprint] = f
	}
	for _, ep := range m.RPCEndpoints() {
		var ops []*operations.Op
		for _, op := range ep.Inventory.Sorted() {
			if op.Protocol == operations.GraphQL {
				ops = append(ops, op)
			}
		}
		if len(ops) == 0 {
			continue
		}
		for _, s := range schemas {
			if !s.attached(ep.Service) {
				continue
			}
			used := map[string]bool{}
			blind := false
			for _, op := range ops {
				newF := func(k Kind, rule, reason string) *Finding {
					f := newFinding(k, rule, ep.Service, ep.Method, ep.Template)
					f.Reason, f.Spec = reason, s.Path
					return f
				}
				label := op.Type + " " + op.Name
				if op.Introspection {
					f := newF(KindIntrospection, RuleGraphQLIntrospection+":"+op.Name, introspectionReason(op))
					add(f, op.Count, op.FirstSeen, op.LastSeen)
				}
				// Fields unknown (a persisted-query hash only) or documents
				// not kept (too long): which root fields are used is not
				// known.
				blind = blind || op.Type == "persisted" || op.Unkept > 0
				if len(op.Documents) == 0 {
					continue
				}
				seen := map[string]bool{}
				for _, doc := range op.Documents {
					for _, p := range checkDocument(s.Schema, doc, used) {
						if seen[p.rule] {
							continue
						}
						seen[p.rule] = true
						f := newF(p.kind, p.rule, label+": "+p.reason)
						f.Example = &Example{Request: ep.Method + " " + ep.Template, Body: truncate(doc)}
						add(f, op.Count, op.FirstSeen, op.LastSeen)
					}
				}
			}
			if blind {
				continue
			}
			for _, root := range []*ast.Definition{s.Schema.Query, s.Schema.Mutation, s.Schema.Subscription} {
				if root == nil {
					continue
				}
				for _, fd := range root.Fields {
					coord := root.Name + "." + fd.Name
					if strings.HasPrefix(fd.Name, "__") || used[coord] || fd.Directives.ForName("deprecated") != nil {
						continue
					}
					f := newFinding(KindUnused, RuleGraphQLNoTraffic+":"+coord, ep.Service, ep.Method, ep.Template)
					f.Reason, f.Spec = coord+" is declared but no operation selected it", s.Path
					add(f, 0, ep.FirstSeen, ep.LastSeen)
				}
			}
		}
	}
	out := make([]Finding, 0, len(byFP))
	for _, f := range byFP {
		out = append(out, *f)
	}
	Sort(out)
	return out
}

// IntrospectionFindings reports the GraphQL introspection queries m found,
// with no declared schema: the introspection findings of GraphQLFindings.
func IntrospectionFindings(m *infer.Model) []Finding {
	var out []Finding
	for _, ep := range m.RPCEndpoints() {
		for _, op := range ep.Inventory.Sorted() {
			if op.Protocol != operations.GraphQL || !op.Introspection {
				continue
			}
			f := newFinding(KindIntrospection, RuleGraphQLIntrospection+":"+op.Name, ep.Service, ep.Method, ep.Template)
			f.Reason = introspectionReason(op)
			f.seen(op.FirstSeen, op.Count)
			widen(&f.FirstSeen, &f.LastSeen, op.LastSeen)
			out = append(out, *f)
		}
	}
	Sort(out)
	return out
}

func introspectionReason(op *operations.Op) string {
	return op.Type + " " + op.Name + " queries the schema (__schema or __type): introspection is open to this traffic"
}

func (s *GraphQLSchema) attached(service string) bool {
	if len(s.AttachTo) == 0 {
		return true
	}
	return slices.Contains(s.AttachTo, service) || slices.Contains(s.AttachTo, stripPort(service))
}

// gqlProblem is one finding a document gives.
type gqlProblem struct {
	kind         Kind
	rule, reason string
}

// checkDocument validates one stored document against the schema and
// walks it (the validator fills in the definitions) for undeclared and
// deprecated fields, arguments and enum values. used collects the root
// fields selected, as "Type.field".
func checkDocument(s *ast.Schema, doc string, used map[string]bool) []gqlProblem {
	qd, err := parser.ParseQuery(&ast.Source{Input: doc})
	if err != nil {
		// Stored documents were parsed once already: not expected.
		return []gqlProblem{{KindNoncompliantRequest, RuleGraphQLInvalid + ":syntax", err.Error()}}
	}
	errs := validator.ValidateWithRules(s, qd, nil) // the default rules
	var out []gqlProblem
	for _, o := range qd.Operations {
		var root *ast.Definition
		switch o.Operation {
		case ast.Mutation:
			root = s.Mutation
		case ast.Subscription:
			root = s.Subscription
		default:
			root = s.Query
		}
		if root == nil {
			out = append(out, gqlProblem{KindShadow, RuleGraphQLUndeclaredOperation + ":" + string(o.Operation),
				fmt.Sprintf("the schema declares no %s type", o.Operation)})
			continue
		}
		w := docWalker{schema: s, root: root, used: used, frags: map[string]bool{}}
		w.selections(qd, o.SelectionSet, 0)
		out = append(out, w.out...)
	}
	for _, e := range errs {
		if invalidRules[e.Rule] {
			out = append(out, gqlProblem{KindNoncompliantRequest, RuleGraphQLInvalid + ":" + e.Rule, e.Message})
		}
	}
	return out
}

type docWalker struct {
	schema *ast.Schema
	root   *ast.Definition
	used   map[string]bool
	frags  map[string]bool // fragments walked, so that each is walked once
	out    []gqlProblem
}

func (w *docWalker) selections(qd *ast.QueryDocument, ss ast.SelectionSet, depth int) {
	if depth > 64 {
		return
	}
	for _, sel := range ss {
		switch s := sel.(type) {
		case *ast.Field:
			w.field(s)
			w.selections(qd, s.SelectionSet, depth+1)
		case *ast.InlineFragment:
			w.selections(qd, s.SelectionSet, depth+1)
		case *ast.FragmentSpread:
			if f := qd.Fragments.ForName(s.Name); f != nil && !w.frags[s.Name] {
				w.frags[s.Name] = true
				w.selections(qd, f.SelectionSet, depth+1)
			}
		}
	}
}

func (w *docWalker) field(f *ast.Field) {
	parent := f.ObjectDefinition
	if parent == nil || f.Name == "__typename" {
		// Under a field that is itself undeclared: reported there.
		return
	}
	coord := parent.Name + "." + f.Name
	if f.Definition == nil {
		if strings.HasPrefix(f.Name, "__") {
			return
		}
		rule, what := RuleGraphQLUndeclaredField, "field"
		if parent == w.root {
			rule, what = RuleGraphQLUndeclaredOperation, "root field"
		}
		w.out = append(w.out, gqlProblem{KindShadow, rule + ":" + coord, fmt.Sprintf("%s %s is not declared by the schema", what, coord)})
		return
	}
	if parent == w.root {
		w.used[coord] = true
	}
	if d := f.Definition.Directives.ForName("deprecated"); d != nil {
		w.out = append(w.out, gqlProblem{KindZombie, RuleGraphQLDeprecated + ":" + coord, fmt.Sprintf("field %s is deprecated%s", coord, deprecationReason(d))})
	}
	for _, a := range f.Arguments {
		ad := f.Definition.Arguments.ForName(a.Name)
		ac := coord + "(" + a.Name + ")"
		if ad == nil {
			w.out = append(w.out, gqlProblem{KindShadow, RuleGraphQLUndeclaredArgument + ":" + ac, fmt.Sprintf("argument %s is not declared by the schema", ac)})
			continue
		}
		if d := ad.Directives.ForName("deprecated"); d != nil {
			w.out = append(w.out, gqlProblem{KindZombie, RuleGraphQLDeprecated + ":" + ac, fmt.Sprintf("argument %s is deprecated%s", ac, deprecationReason(d))})
		}
		w.value(a.Value, 0)
	}
}

// value reports deprecated enum values in a literal.
func (w *docWalker) value(v *ast.Value, depth int) {
	if v == nil || depth > 32 {
		return
	}
	if v.Kind == ast.EnumValue && v.Definition != nil && v.Definition.Kind == ast.Enum {
		if ev := v.Definition.EnumValues.ForName(v.Raw); ev != nil {
			if d := ev.Directives.ForName("deprecated"); d != nil {
				c := v.Definition.Name + "." + v.Raw
				w.out = append(w.out, gqlProblem{KindZombie, RuleGraphQLDeprecated + ":" + c, fmt.Sprintf("enum value %s is deprecated%s", c, deprecationReason(d))})
			}
		}
	}
	for _, c := range v.Children {
		w.value(c.Value, depth+1)
	}
}

func deprecationReason(d *ast.Directive) string {
	if a := d.Arguments.ForName("reason"); a != nil && a.Value != nil && a.Value.Raw != "" {
		return ": " + a.Value.Raw
	}
	return ""
}

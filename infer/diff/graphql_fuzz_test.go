package diff

import (
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// FuzzParseGraphQLSchema feeds arbitrary SDL and introspection JSON to the
// schema loader, and checks arbitrary documents against what loaded:
// errors, never panics.
func FuzzParseGraphQLSchema(f *testing.F) {
	f.Add([]byte(shopSDL), `query P { products(sort: POPULARITY) { cost ...F } } fragment F on Product { id }`)
	f.Add([]byte(`{"__schema":{"queryType":{"name":"Q"},"types":[{"kind":"OBJECT","name":"Q","fields":[{"name":"a","args":[{"name":"x","type":{"kind":"NON_NULL","ofType":{"kind":"SCALAR","name":"Int"}},"defaultValue":"1"}],"type":{"kind":"LIST","ofType":{"kind":"SCALAR","name":"String"}},"isDeprecated":true,"deprecationReason":"r\"q"}]},{"kind":"ENUM","name":"E","enumValues":[{"name":"A"}]},{"kind":"UNION","name":"U","possibleTypes":[{"name":"Q"}]},{"kind":"INPUT_OBJECT","name":"I","inputFields":[{"name":"f","type":{"kind":"SCALAR","name":"ID"}}]}]}}`), `{ a(x: 2) }`)
	f.Fuzz(func(t *testing.T, schema []byte, doc string) {
		s, err := ParseGraphQLSchema("fuzz.graphql", schema)
		if err != nil {
			return
		}
		if _, err := parser.ParseQuery(&ast.Source{Input: doc}); err != nil {
			return
		}
		checkDocument(s.Schema, doc, map[string]bool{})
	})
}

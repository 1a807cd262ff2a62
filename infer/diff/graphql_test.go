package diff

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	graphgophers "github.com/graph-gophers/graphql-go"
	"github.com/graph-gophers/graphql-go/example/starwars"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/operations"
)

const shopSDL = `
type Query {
  product(id: ID!, legacyId: Int @deprecated(reason: "use id")): Product
  products(sort: Sort = NAME): [Product!]!
  oldSearch(q: String): [Product] @deprecated(reason: "use products")
}
type Mutation { addToCart(id: ID!): Boolean }
enum Sort { NAME PRICE POPULARITY @deprecated }
type Product { id: ID! name: String! price: Float cost: Float @deprecated }
`

func gqlModel(t *testing.T, bodies ...string) *infer.Model {
	t.Helper()
	m := infer.NewModel(infer.Config{})
	for i, b := range bodies {
		m.Observe(exch(i, "shop.example.com", "POST", "/graphql", "", b, 200, "application/json", `{"data":{}}`))
	}
	return m
}

func gqlBody(q string) string {
	b, _ := json.Marshal(map[string]any{"query": q})
	return string(b)
}

func TestGraphQLFindings(t *testing.T) {
	s, err := ParseGraphQLSchema("shop.graphql", []byte(shopSDL))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		query string
		want  []string // kind rule count
	}{
		{"declared", `query P($id: ID!) { product(id: $id) { id name price } products { id } oldSearch: products(sort: PRICE) { name } }`, nil},
		{"undeclared root field", `query Admin { adminUsers { id } }`, []string{"shadow graphql-undeclared-operation:Query.adminUsers 1"}},
		{"undeclared nested field", `query P { product(id: "1") { id supplierEmail } }`, []string{"shadow graphql-undeclared-field:Product.supplierEmail 1"}},
		{"undeclared argument", `query P { products(includeHidden: true) { id } }`, []string{"shadow graphql-undeclared-argument:Query.products(includeHidden) 1"}},
		{"deprecated field, argument and enum value", `query Z { oldSearch(q: "x") { id cost } product(id: "1", legacyId: 3) { id } products(sort: POPULARITY) { id } }`, []string{
			"zombie graphql-deprecated:Product.cost 1", "zombie graphql-deprecated:Query.oldSearch 1",
			"zombie graphql-deprecated:Query.product(legacyId) 1", "zombie graphql-deprecated:Sort.POPULARITY 1"}},
		{"deprecated through a fragment", `query F { ...Q } fragment Q on Query { products { ...P } } fragment P on Product { cost }`, []string{"zombie graphql-deprecated:Product.cost 1"}},
		{"introspection", `query IntrospectionQuery { __schema { types { name } } }`, []string{"introspection graphql-introspection:IntrospectionQuery 1"}},
		{"undeclared operation type", `subscription S { cart { id } }`, []string{"shadow graphql-undeclared-operation:subscription 1"}},
		{"invalid value", `query V { product(id: "1") { id } products(sort: CHEAPEST) { id } }`, []string{"noncompliant_request graphql-invalid:ValuesOfCorrectType 1"}},
		{"missing required argument", `query R { product { id } }`, []string{"noncompliant_request graphql-invalid:ProvidedRequiredArguments 1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := gqlModel(t, gqlBody(tc.query))
			var got []string
			for _, f := range GraphQLFindings(m, []*GraphQLSchema{s}) {
				if f.Kind == KindUnused {
					continue
				}
				if f.Method != "POST" || f.Path != "/graphql" || f.Spec != "shop.graphql" || f.Reason == "" {
					t.Errorf("finding not located: %+v", f)
				}
				got = append(got, fmt.Sprintf("%s %s %d", f.Kind, f.Rule, f.Count))
			}
			slices.Sort(got)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestGraphQLUnusedAndAttach(t *testing.T) {
	s, err := ParseGraphQLSchema("shop.graphql", []byte(shopSDL))
	if err != nil {
		t.Fatal(err)
	}
	m := gqlModel(t, gqlBody(`{ products { id } }`), gqlBody(`{ products { id } }`))
	var unused []string
	for _, f := range GraphQLFindings(m, []*GraphQLSchema{s}) {
		if f.Kind == KindUnused {
			unused = append(unused, f.Rule)
		}
	}
	// oldSearch is deprecated: not reported as unused.
	want := []string{"graphql-no-traffic:Mutation.addToCart", "graphql-no-traffic:Query.product"}
	if !reflect.DeepEqual(unused, want) {
		t.Errorf("unused %q, want %q", unused, want)
	}
	s.AttachTo = []string{"other.example.com"}
	if fs := GraphQLFindings(m, []*GraphQLSchema{s}); len(fs) != 0 {
		t.Errorf("a schema attached to another service gave %d findings", len(fs))
	}
	// A persisted query whose document was never seen hides which fields
	// are used: no unused findings then.
	s.AttachTo = nil
	m = gqlModel(t, gqlBody(`{ products { id } }`), `{"operationName":"X","extensions":{"persistedQuery":{"version":1,"sha256Hash":"`+strings.Repeat("0f", 32)+`"}}}`)
	for _, f := range GraphQLFindings(m, []*GraphQLSchema{s}) {
		if f.Kind == KindUnused {
			t.Errorf("unused reported with a persisted-only operation: %s", f.Rule)
		}
	}
	// Neither when a document was too long to keep.
	m = infer.NewModel(infer.Config{Limits: infer.Limits{Operations: operations.Limits{MaxKeptDocumentBytes: 24}}})
	m.Observe(exch(0, "shop.example.com", "POST", "/graphql", "", gqlBody(`query Long { product(id: "1") { id name } }`), 200, "application/json", `{}`))
	m.Observe(exch(1, "shop.example.com", "POST", "/graphql", "", gqlBody(`{ products { id } }`), 200, "application/json", `{}`))
	for _, f := range GraphQLFindings(m, []*GraphQLSchema{s}) {
		if f.Kind == KindUnused {
			t.Errorf("unused reported with a document not kept: %s", f.Rule)
		}
	}
}

// TestIntrospectionSchema loads the introspection result of a real server
// (graph-gophers' Star Wars example, answering the standard introspection
// query) and compares it with the same schema loaded from its SDL.
func TestIntrospectionSchema(t *testing.T) {
	srv := graphgophers.MustParseSchema(starwars.Schema, &starwars.Resolver{})
	res := srv.Exec(context.Background(), IntrospectionQuery, "", nil)
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	js, err := json.Marshal(map[string]any{"data": res.Data})
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := ParseGraphQLSchema("introspection.json", js)
	if err != nil {
		t.Fatal(err)
	}
	fromSDL, err := ParseGraphQLSchema("starwars.graphql", []byte(starwars.Schema))
	if err != nil {
		t.Fatal(err)
	}
	shape := func(s *GraphQLSchema) []string {
		var out []string
		for name, d := range s.Schema.Types {
			if strings.HasPrefix(name, "__") || d.BuiltIn {
				continue
			}
			for _, f := range d.Fields {
				if strings.HasPrefix(f.Name, "__") {
					continue
				}
				var args []string
				for _, a := range f.Arguments {
					args = append(args, a.Name+":"+a.Type.String())
				}
				dep := f.Directives.ForName("deprecated") != nil
				out = append(out, fmt.Sprintf("%s %s.%s(%s): %s deprecated=%v", d.Kind, name, f.Name, strings.Join(args, ","), f.Type.String(), dep))
			}
			for _, v := range d.EnumValues {
				out = append(out, fmt.Sprintf("%s %s.%s", d.Kind, name, v.Name))
			}
			if d.Kind == "UNION" {
				types := slices.Clone(d.Types)
				slices.Sort(types)
				out = append(out, fmt.Sprintf("UNION %s = %v", name, types))
			}
		}
		slices.Sort(out)
		return out
	}
	a, b := shape(fromJSON), shape(fromSDL)
	if len(b) < 20 {
		t.Fatalf("the SDL gave %d members: the comparison would prove nothing", len(b))
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("introspection and SDL differ:\nintrospection %q\nSDL %q", a, b)
	}
}

func TestParseGraphQLSchemaErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"SDL syntax", `type Query { a: }`, "bad.graphql"},
		{"JSON without __schema", `{"data":{}}`, "no __schema"},
		{"bad type name", `{"__schema":{"queryType":{"name":"Q"},"types":[{"kind":"OBJECT","name":"a b","fields":[]}]}}`, `types[0].name "a b"`},
		{"unknown kind", `{"__schema":{"queryType":{"name":"Q"},"types":[{"kind":"WEIRD","name":"Q"}]}}`, `kind "WEIRD"`},
		{"type wrapped too deep", `{"__schema":{"queryType":{"name":"Q"},"types":[{"kind":"OBJECT","name":"Q","fields":[{"name":"a","type":` + strings.Repeat(`{"kind":"LIST","ofType":`, 20) + `{"kind":"SCALAR","name":"Int"}` + strings.Repeat("}", 20) + `}]}]}}`, "nested past 16"},
		{"not JSON", `{"__schema":`, "introspection JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseGraphQLSchema("bad.graphql", []byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "bad.graphql") {
				t.Errorf("error %v, want one naming the file and %q", err, tc.want)
			}
		})
	}
}

func TestIntrospectionWithoutSchema(t *testing.T) {
	m := gqlModel(t, gqlBody(`{ products { id } }`), gqlBody(`query I { __type(name: "Product") { fields { name } } }`), gqlBody(`query I { __type(name: "Product") { name } }`))
	fs := GraphQLFindings(m, nil)
	if len(fs) != 1 || fs[0].Kind != KindIntrospection || fs[0].Rule != RuleGraphQLIntrospection+":I" || fs[0].Count != 2 || fs[0].FirstSeen.IsZero() {
		t.Errorf("findings %+v, want one introspection finding for I, counted twice", fs)
	}
}

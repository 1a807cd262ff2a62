package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/diff"
	"github.com/specter-dev/specter/reassembly"
)

// graphqlFlags are diff's declared GraphQL schemas.
type graphqlFlags struct {
	paths []string
}

func (f *graphqlFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.paths, "graphql-schema", nil, "declared GraphQL schema, SDL or introspection JSON: FILE (every service) or HOST=FILE (repeatable); checked against the GraphQL operations found behind each endpoint")
}

// load loads the schemas; nil without --graphql-schema.
func (f *graphqlFlags) load() ([]*diff.GraphQLSchema, error) {
	var out []*diff.GraphQLSchema
	for _, v := range f.paths {
		host, file := "", v
		if h, p, ok := strings.Cut(v, "="); ok && !strings.ContainsAny(h, "/\\") {
			host, file = strings.ToLower(strings.TrimSpace(h)), p
		}
		s, err := diff.LoadGraphQLSchema(file)
		if err != nil {
			return nil, usageError("--graphql-schema: %v", err)
		}
		if host != "" {
			s.AttachTo = []string{host}
		}
		out = append(out, s)
	}
	return out, nil
}

// graphqlModel is the inventory diff builds beside the checker when GraphQL
// schemas are given: the operations behind each endpoint come from it.
type graphqlModel struct {
	m *infer.Model
}

// observe returns emit with the model observing each exchange first (the
// checker may take the exchange over once emit has it).
func (g *graphqlModel) observe(emit func(*reassembly.Exchange)) func(*reassembly.Exchange) {
	if g == nil {
		return emit
	}
	return func(x *reassembly.Exchange) {
		g.m.Observe(x)
		if emit != nil {
			emit(x)
		}
	}
}

package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/specter-dev/specter/infer/diff"
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

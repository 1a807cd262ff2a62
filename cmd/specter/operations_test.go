package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/operations"
)

func TestPrintOperations(t *testing.T) {
	e := infer.EndpointSummary{Service: "api", Method: "POST", Template: "/graphql", Count: 5, Operations: []operations.Summary{
		{Protocol: operations.GraphQL, Type: "query", Name: "Hero", Count: 3, Fields: []string{"hero(episode)"}, Variables: []string{"$ep: Episode"}},
		{Protocol: operations.GraphQL, Type: "query", Name: "IntrospectionQuery", Count: 1, Introspection: true, Fields: []string{"__schema"}},
		{Protocol: operations.JSONRPC, Name: "log", Count: 1, Notifications: 1, Errors: 2},
	}}
	var b bytes.Buffer
	printEndpoints(&b, []infer.EndpointSummary{e})
	for _, want := range []string{"graphql    query Hero  ", "query IntrospectionQuery  1      introspection", "jsonrpc    log", "2 errors, 1 notifications"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("endpoints table lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	if err := printDetail(&b, endpointDetail{Endpoint: e}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"operations  ", "graphql query Hero", "3 calls; -; hero(episode) $ep: Episode"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("show lacks %q:\n%s", want, b.String())
		}
	}
}

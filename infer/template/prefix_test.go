package template

import (
	"slices"
	"testing"
)

func TestDottedPrefixes(t *testing.T) {
	endpointTable{
		{
			name: "values glued to a sibling route by a dot are that route's parameter",
			in: cat(
				seq("HEAD /audio/%s/stream", "101", "102"),
				seq("HEAD /audio/%s/stream.cli-gateway-ggfa", "103"),
				seq("HEAD /audio/%s/stream.edge-queue-587", "104"),
			),
			want: []string{
				"HEAD /audio/{audioId:integer/int64}/stream",
				"HEAD /audio/{audioId:integer/int64}/stream.{streamName:string}",
			},
		},
		{
			name: "a dotted route word beside its first word stays a route",
			in:   []string{"POST /api/oauth x3", "POST /api/oauth.v2.access x2"},
			want: []string{"POST /api/oauth", "POST /api/oauth.v2.access"},
		},
		{
			name: "dotted names without a sibling route are names",
			in:   seq("GET /jobs/%s", "reporting.job.7", "billing.job.12", "export.job.3"),
			want: []string{"GET /jobs/{jobName:string}"},
		},
	}.run(t)
}

// TestPriorPrefixRendered: a declared template's literal prefix inside a
// segment is part of the template (it was dropped when rendering).
func TestPriorPrefixRendered(t *testing.T) {
	tr := build(t, []string{"GET /files/v12/raw", "GET /files/v13/raw"})
	var got []string
	for _, e := range tr.Endpoints(Options{Priors: []string{"/files/v{version}/raw"}}) {
		got = append(got, e.Path)
	}
	if want := []string{"/files/v{version}/raw"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

package template

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// slugs returns n distinct rare compound values (vexo-lumi-qtra), drawn
// from a seeded generator: the values of a free-form parameter.
func slugs(seed uint64, n int) []string {
	r := rand.New(rand.NewPCG(seed, 11))
	word := func(k int) string {
		var b strings.Builder
		for range k {
			b.WriteByte(byte('a' + r.IntN(26)))
		}
		return b.String()
	}
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		s := word(4) + "-" + word(4) + "-" + word(4)
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// chainPaths returns n GETs under prefix: at each position a word of
// its set drawn by a seeded generator, or a fresh slug where the set is
// nil.
func chainPaths(seed uint64, prefix string, n int, positions ...[]string) []string {
	free := 0
	for _, p := range positions {
		if p == nil {
			free++
		}
	}
	vals := slugs(seed, n*free)
	r := rand.New(rand.NewPCG(seed, 13))
	var out []string
	for i := range n {
		var b strings.Builder
		b.WriteString("GET " + prefix)
		f := 0
		for _, p := range positions {
			b.WriteByte('/')
			if p == nil {
				b.WriteString(vals[i*free+f])
				f++
				continue
			}
			b.WriteString(p[r.IntN(len(p))])
		}
		out = append(out, b.String())
	}
	return out
}

var (
	editorKinds = []string{"all-kinds", "human", "robot", "group-robot"}
	pageKinds   = []string{"primary", "secondary", "all-pages"}
	periods     = []string{"hourly", "weekly"}
	langs       = []string{"nl", "sv", "it", "pt-PT", "fi"}
)

// postChain turns the GETs of chainPaths into POSTs.
func postChain(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = "POST" + strings.TrimPrefix(l, "GET")
	}
	return out
}

// chainCases are the cases of the chain rules (alike siblings, value
// sets recurring under several routes), checked by TestEndpoints and
// explained by TestExplainAgrees.
var chainCases = []struct {
	name string
	in   []string
	opts Options
	want []string
}{
	{
		name: "a chain of few-valued parameters under several routes",
		in: cat(
			chainPaths(1, "/stats/edits/sum", 40, nil, editorKinds, pageKinds, periods, nil, nil),
			chainPaths(2, "/stats/edits/new", 30, nil, editorKinds, pageKinds, periods, nil, nil),
			chainPaths(3, "/stats/signups/new", 20, nil, periods, nil, nil),
			chainPaths(4, "/stats/devices", 20, nil, periods, nil, nil),
		),
		want: []string{
			"GET /stats/devices/{deviceName:string}/{type:string}/{name:string}/{name2:string}",
			"GET /stats/edits/new/{newName:string}/{type:string}/{type2:string}/{type3:string}/{name:string}/{name2:string}",
			"GET /stats/edits/sum/{sumName:string}/{type:string}/{type2:string}/{type3:string}/{name:string}/{name2:string}",
			"GET /stats/signups/new/{newName:string}/{type:string}/{name:string}/{name2:string}",
		},
	},
	{
		name: "namespace-like values each leading to the same collections",
		in: cat(
			chainPaths(5, "/clusters", 24, []string{"default", "staging", "team-a", "prod"}, []string{"pods", "services", "volumes"}, nil),
		),
		want: []string{
			"GET /clusters/{cluster:string}/pods/{podName:string}",
			"GET /clusters/{cluster:string}/services/{serviceName:string}",
			"GET /clusters/{cluster:string}/volumes/{volumeName:string}",
		},
	},
	{
		name: "words recurring below each other are values taken twice",
		in: cat(
			postChain(chainPaths(11, "/convert/from", 30, langs, []string{"to"}, langs)),
			chainPaths(12, "/pairs", 20, langs, langs),
		),
		want: []string{
			"GET /pairs/{pairType:string}/{type:string}",
			"POST /convert/from/{fromType:string}/to/{toType:string}",
		},
	},
	{
		// The editor kinds route alike under /sum; under /art they are
		// followed by values, with a kind /sum never saw.
		name: "words known as values elsewhere, and a peer routing like them",
		in: cat(
			chainPaths(15, "/sum", 40, nil, editorKinds, pageKinds, periods, nil, nil),
			chainPaths(16, "/art", 30, nil, append([]string{"bot-farm"}, editorKinds...), nil),
		),
		want: []string{
			"GET /art/{artName:string}/{type:string}/{name:string}",
			// Under one route only, the periods are as often collections.
			"GET /sum/{sumName:string}/{type:string}/{type2:string}/hourly/{hourlyName:string}/{name:string}",
			"GET /sum/{sumName:string}/{type:string}/{type2:string}/weekly/{weeklyName:string}/{name:string}",
		},
	},
	{
		// Few rare values, each followed by further values: no route
		// word below them, too few for numbers alone.
		name: "a run of rare values followed by values",
		in: func() []string {
			vs, next := slugs(13, 4), slugs(14, 5)
			vs = append(vs, "core-ledger-539")
			var out []string
			for i, v := range vs {
				out = append(out, fmt.Sprintf("GET /daily/top/%s/%s/2024-0%d-1%d", v, next[i], i+1, i))
			}
			return out
		}(),
		want: []string{"GET /daily/top/{topName:string}/{name:string}/{date:string/date}"},
	},
	{
		// A rare route taking a parameter beside a frequent route.
		name: "a rare route followed by values beside routes stays static",
		in: cat(
			seq("GET /topics/private-messages/%s", "mira42", "olaf77", "tess-19"),
			[]string{"GET /topics/latest x6", "GET /topics/top x4"},
		),
		want: []string{
			"GET /topics/latest",
			"GET /topics/private-messages/{privateMessageName:string}",
			"GET /topics/top",
		},
	},
	{
		// Collections followed by ids, under one route only: the same
		// shape below is no evidence they are values.
		name: "static collections of ids stay distinct",
		in: cat(
			seq("GET /api/ipam/prefixes/%s/", "12", "907", "3310", "58"),
			seq("GET /api/ipam/vlans/%s/", "4", "61", "7720"),
			seq("GET /api/ipam/vrfs/%s/", "18", "215", "9"),
		),
		want: []string{
			"GET /api/ipam/prefixes/{prefixId:integer/int64}/",
			"GET /api/ipam/vlans/{vlanId:integer/int64}/",
			"GET /api/ipam/vrfs/{vrfId:integer/int64}/",
		},
	},
	{
		// The same leaf actions under several collections: leaves are
		// routes, not a chain.
		name: "collections sharing leaf actions stay distinct",
		in: cat(
			seq("GET /admin/users/%s x3", "search", "count", "export"),
			seq("GET /admin/groups/%s x3", "search", "count", "export"),
			seq("GET /admin/roles/%s x3", "search", "count", "export"),
		),
		want: func() []string {
			var out []string
			for _, c := range []string{"groups", "roles", "users"} {
				for _, a := range []string{"count", "export", "search"} {
					out = append(out, fmt.Sprintf("GET /admin/%s/%s", c, a))
				}
			}
			return out
		}(),
	},
	{
		// Routes with sub-routes of their own: followed by different
		// words, so they do not route alike.
		name: "routes with their own sub-routes stay distinct",
		in: cat(
			seq("GET /shop/orders/open/%s", "101", "2087", "33"),
			seq("GET /shop/orders/closed/%s", "48", "5121", "9"),
			seq("GET /shop/carts/items/%s", "7", "610", "2230"),
			seq("GET /shop/carts/coupons/%s", "14", "88"),
			seq("GET /shop/stores/hours/%s", "3", "401"),
			seq("GET /shop/stores/staff/%s", "56", "1200", "77"),
		),
		want: []string{
			"GET /shop/carts/coupons/{couponId:integer/int64}",
			"GET /shop/carts/items/{itemId:integer/int64}",
			"GET /shop/orders/closed/{closedId:integer/int64}",
			"GET /shop/orders/open/{openId:integer/int64}",
			"GET /shop/stores/hours/{hourId:integer/int64}",
			"GET /shop/stores/staff/{staffId:integer/int64}",
		},
	},
	{
		// A pair of words followed by values under one route only is as
		// often two collections: not a value set.
		name: "a word pair followed by values under one route stays static",
		in: cat(
			chainPaths(9, "/files", 12, periods, nil),
		),
		want: []string{
			"GET /files/hourly/{hourlyName:string}",
			"GET /files/weekly/{weeklyName:string}",
		},
	},
}

func init() {
	endpointCases = append(endpointCases, chainCases...)
}

// TestExplainChain: Explain names the chain rules, per segment, for a
// path of a chain of few-valued parameters and of a self-recurrent set.
func TestExplainChain(t *testing.T) {
	var chain, self []string
	for _, c := range chainCases {
		switch {
		case strings.HasPrefix(c.name, "a chain"):
			chain = c.in
		case strings.HasPrefix(c.name, "words recurring"):
			self = c.in
		}
	}
	tests := []struct {
		name  string
		in    []string
		path  string
		rules []string
	}{
		{"chain", chain, strings.TrimPrefix(chain[0], "GET "),
			[]string{RuleWord, RuleWord, RuleWord, RuleManyRare, RuleAlike, RuleAlike, RuleValueSet, RuleManyRare, RuleRareLeaves}},
		{"self-recurrent", self, strings.TrimPrefix(self[0], "POST "),
			[]string{RuleWord, RuleWord, RuleSelfSet, RuleWord, RuleSelfSet}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ex := build(t, tc.in).Explain(Options{}, tc.path)
			var got []string
			for _, e := range ex {
				got = append(got, e.Rule)
				if e.Why == "" {
					t.Errorf("%q: no evidence given", e.Value)
				}
			}
			if strings.Join(got, " ") != strings.Join(tc.rules, " ") {
				t.Errorf("rules %v, want %v", got, tc.rules)
			}
		})
	}
}

package template

import (
	"fmt"
	"slices"
	"testing"
)

// numIDs returns n integer ids.
func numIDs(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprint(1000+i*7919))
	}
	return out
}

// endpointTable is a table of request lines and the endpoints (in any
// order) they must give.
type endpointTable []struct {
	name string
	in   []string
	want []string
}

func (tab endpointTable) run(t *testing.T) {
	for _, c := range tab {
		t.Run(c.name, func(t *testing.T) {
			got := describe(build(t, c.in).Endpoints(Options{}))
			want := slices.Clone(c.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("got  %q\nwant %q", got, want)
			}
		})
	}
}

func TestShortKeysAndVariants(t *testing.T) {
	endpointTable{
		{
			name: "short keys with a digit first or inside, beside ids, are ids",
			in: cat(
				seq("GET /spaces/%s/tweets", numIDs(5)...),
				seq("GET /spaces/%s/tweets", "5sz", "i2qve", "7kp"),
			),
			want: []string{"GET /spaces/{spaceName:string}/tweets"},
		},
		{
			name: "words ending in a number beside ids stay routes",
			in: cat(
				seq("GET /spaces/%s/tweets", numIDs(5)...),
				seq("GET /spaces/%s/tweets", "utf8", "ipv4", "oauth2"),
			),
			want: []string{"GET /spaces/oauth2/tweets", "GET /spaces/utf8/tweets", "GET /spaces/ipv4/tweets", "GET /spaces/{spaceId:integer/int64}/tweets"},
		},
		{
			name: "one random-case key beside many ids is an id",
			in: cat(
				seq("GET /users/%s/likes", numIDs(loneKeyIDs)...),
				[]string{"GET /users/5JDl/likes", "GET /users/me/likes x9"},
			),
			want: []string{"GET /users/me/likes", "GET /users/{username:integer/int64}/likes"},
		},
		{
			name: "one random-case key beside few ids stays",
			in: cat(
				seq("GET /users/%s/likes", numIDs(loneKeyIDs-5)...),
				[]string{"GET /users/5JDl/likes"},
			),
			want: []string{"GET /users/5JDl/likes", "GET /users/{userId:integer/int64}/likes"},
		},
		{
			name: "a numbered variant of a route beside it is a route",
			in: cat(
				seq("GET /tweets/%s", numIDs(6)...),
				[]string{"GET /tweets/sample/stream x3", "GET /tweets/sample10/stream", "GET /tweets/search/stream"},
			),
			want: []string{"GET /tweets/sample/stream", "GET /tweets/sample10/stream", "GET /tweets/search/stream", "GET /tweets/{tweetId:integer/int64}"},
		},
		{
			name: "a name whose letters are a route with another subtree is a value",
			in: cat(
				seq("GET /people/%s/posts", "alice42", "bob_77", "carol1999"),
				[]string{"GET /people/carol/settings"},
			),
			want: []string{"GET /people/carol/settings", "GET /people/{peopleName:string}/posts"},
		},
		{
			name: "numbered names of one family stay values beside the family's word",
			in: cat(
				seq("GET /hosts/%s/status", "node10", "node11", "node12", "node13"),
				[]string{"GET /hosts/node/status"},
			),
			want: []string{"GET /hosts/node/status", "GET /hosts/{hostName:string}/status"},
		},
	}.run(t)
}

func TestLeafLookupsBesideRoutes(t *testing.T) {
	lookups := seq("POST /company/search/%s", "auth-mobile-dbpo", "core-sdk-kpif", "ledger-portal-kwkt", "sdk-ml-qrzg", "stream-ledger-kuqz")
	endpointTable{
		{
			name: "leaf words each requested once beside sub-routes are lookups by name",
			in:   cat(lookups, seq("GET /company/search/name/%s", "api-web-695", "core-core-180", "auth-web-62")),
			want: []string{"GET /company/search/name/{nameName:string}", "POST /company/search/{searchName:string}"},
		},
		{
			name: "beside a leaf route with its own requests they stay routes",
			in:   cat(lookups, []string{"GET /company/search/recent x5"}),
			want: []string{
				"GET /company/search/recent",
				"POST /company/search/auth-mobile-dbpo", "POST /company/search/core-sdk-kpif", "POST /company/search/ledger-portal-kwkt",
				"POST /company/search/sdk-ml-qrzg", "POST /company/search/stream-ledger-kuqz",
			},
		},
	}.run(t)
}

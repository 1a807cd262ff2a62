package template

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// build makes a trie from lines "METHOD /path [xN]".
func build(t testing.TB, lines []string) *Trie {
	t.Helper()
	return buildRejected(t, lines)
}

// describe renders endpoints as sorted "METHOD /template" lines, with
// each parameter's type and format appended: "{userId:integer/int64}".
func describe(eps []Endpoint) []string {
	var out []string
	for _, e := range eps {
		for m := range e.Ops {
			var b strings.Builder
			b.WriteString(m + " ")
			pi := 0
			for _, s := range e.Segments {
				b.WriteByte('/')
				if s.Param == nil {
					b.WriteString(s.Literal)
					continue
				}
				p := *s.Param
				if mp := e.MethodParams[m]; pi < len(mp) {
					p = mp[pi]
				}
				pi++
				typ := p.Type
				if p.Format != "" {
					typ += "/" + p.Format
				}
				fmt.Fprintf(&b, "%s{%s:%s}%s", s.Literal, p.Name, typ, s.Suffix)
			}
			if len(e.Segments) == 0 {
				b.WriteByte('/')
			}
			out = append(out, b.String())
		}
	}
	sort.Strings(out)
	return out
}

// expand turns "METHOD /path xN" lines into N single-request lines.
func expand(lines []string) []string {
	var out []string
	for _, l := range lines {
		f := strings.Fields(l)
		n := 1
		if len(f) == 3 && strings.HasPrefix(f[2], "x") {
			n, _ = strconv.Atoi(f[2][1:])
		}
		for range n {
			out = append(out, f[0]+" "+f[1])
		}
	}
	return out
}

func seq(format string, vals ...string) []string {
	var out []string
	for _, v := range vals {
		out = append(out, fmt.Sprintf(format, v))
	}
	return out
}

func cat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// albumPhotos are requests of a collection (photos) of sizes, each
// size addressing numbered photos, under one parent.
var albumPhotos = cat(
	seq("GET /albums/%s/photos/large/2", "101", "102"),
	seq("GET /albums/%s/photos/thumb/0", "103", "104"),
	seq("GET /albums/%s/photos/square/1", "105"),
	seq("GET /albums/%s/photos/original/3", "106"),
)

// endpointCases are the decision cases TestEndpoints checks and
// TestExplainAgrees explains.
var endpointCases = []struct {
	name string
	in   []string
	opts Options
	want []string
}{
	{
		name: "ids past 2^53 are strings of digits",
		in:   seq("GET /tweets/%s", "1460323737035677698", "20", "1212092628029698048", "7", "1349149096909668353"),
		want: []string{"GET /tweets/{tweetId:string}"},
	},
	{
		name: "me beside integer ids",
		in: cat([]string{"GET /users/me x5"},
			seq("GET /users/%s", "1", "42", "977", "13", "5120", "88")),
		want: []string{"GET /users/me", "GET /users/{userId:integer/int64}"},
	},
	{
		name: "me seen once beside ids stays static",
		in:   cat([]string{"GET /users/me"}, seq("GET /users/%s", "17", "4242")),
		want: []string{"GET /users/me", "GET /users/{userId:integer/int64}"},
	},
	{
		name: "usernames under the same prefix",
		in:   seq("GET /users/%s/repos", "alice42", "bob_x7", "carol-99", "dave2024", "erin77"),
		want: []string{"GET /users/{username:string}/repos"},
	},
	{
		name: "login beside usernames stays static even when rare",
		in: cat([]string{"GET /user/login", "GET /user/logout x3", "POST /user/createWithList x2"},
			seq("GET /user/%s", "ken584", "judy_ffi40", "rupert7479", "victor_bbo85"),
			seq("DELETE /user/%s", "mona135", "ken584")),
		want: []string{
			"DELETE /user/{username:string}", "GET /user/login", "GET /user/logout",
			"GET /user/{username:string}", "POST /user/createWithList",
		},
	},
	{
		name: "consecutive parameters",
		in:   seq("GET /repos/%s/pulls", "alice42/proj-1", "bob99/site-2", "carol_x/app-33", "dave77/lib-4"),
		want: []string{"GET /repos/{repoName:string}/{name:string}/pulls"},
	},
	{
		name: "first segment parameter",
		in: cat(seq("GET /%s/feeds/fee_Ab12Cd34Ef56", "alice42", "bob77", "carol_9x"),
			seq("GET /%s/feeds", "dave2000", "erin_55"), []string{"GET /health x3"}),
		want: []string{"GET /health", "GET /{name:string}/feeds", "GET /{name:string}/feeds/{feedId:string}"},
	},
	{
		name: "version prefixes and a .json suffix",
		in: seq("GET /2010-04-01/Accounts/%s.json", "AC0123456789abcdef0123456789abcdef",
			"ACfedcba9876543210fedcba9876543210"),
		want: []string{"GET /2010-04-01/Accounts/{accountId:string}.json"},
	},
	{
		name: "integer version prefix",
		in:   []string{"POST /1/delta x4", "GET /1/account/info x2", "POST /1/fileops/copy"},
		want: []string{"GET /1/account/info", "POST /1/delta", "POST /1/fileops/copy"},
	},
	{
		name: "slug and id with a .json suffix",
		in:   seq("GET /c/%s.json", "dev-tools-2/12", "site-feedback-7/34", "general-1/56"),
		want: []string{"GET /c/{cName:string}/{id:integer/int64}.json"},
	},
	{
		name: "single observations of id-shaped values",
		in: []string{
			"GET /commits/3f2a9c1", "GET /objects/507f1f77bcf86cd799439011",
			"GET /tracks/6rqhFgbbKwnb9MLmUQDhG6", "GET /customers/cus_8sJd2KqLmN",
			"GET /events/2024-01-31", "GET /people/ann@example.com",
			"GET /items/9b2e8f4c-3d1a-4e5b-8c7d-6f5e4d3c2b1a",
		},
		want: []string{
			"GET /commits/{commitId:string}", "GET /customers/{customerId:string}",
			"GET /events/{date:string/date}", "GET /items/{itemId:string/uuid}",
			"GET /objects/{objectId:string}", "GET /people/{email:string/email}",
			"GET /tracks/{trackId:string}",
		},
	},
	{
		name: "static words with the same structure stay static",
		in: []string{
			"GET /v1/me/albums/contains", "GET /v1/me/shows/contains", "GET /v1/me/tracks/contains",
			"PUT /v1/me/player/pause", "PUT /v1/me/player/play", "PUT /v1/me/player/seek",
		},
		want: []string{
			"GET /v1/me/albums/contains", "GET /v1/me/shows/contains", "GET /v1/me/tracks/contains",
			"PUT /v1/me/player/pause", "PUT /v1/me/player/play", "PUT /v1/me/player/seek",
		},
	},
	{
		name: "collections with ids are not merged",
		in: cat(seq("GET /api/users/%s", "1", "2", "3"), seq("GET /api/orders/%s", "7", "8"),
			seq("GET /api/items/%s", "9", "10")),
		want: []string{
			"GET /api/items/{itemId:integer/int64}", "GET /api/orders/{orderId:integer/int64}",
			"GET /api/users/{userId:integer/int64}",
		},
	},
	{
		name: "a word set recurring under several routes is an enum",
		in: cat(seq("GET /1/metadata/%s", "auto/ledger-795.txt", "sandbox/web-149.pdf", "dropbox/data-1.md"),
			seq("POST /1/search/%s", "auto/queue-858.md", "dropbox/cli-4.json"),
			seq("GET /1/revisions/%s", "sandbox/ops-2.txt", "auto/web-3.txt")),
		want: []string{
			"GET /1/metadata/{metadataType:string}/{filename:string}",
			"GET /1/revisions/{revisionType:string}/{name:string}.txt",
			"POST /1/search/{searchType:string}/{filename:string}",
		},
	},
	{
		name: "a recurring pair of words stays routes",
		in: cat(seq("POST /v1/alerts/%s", "subscribe/81234", "unsubscribe/81235", "subscribe/81236"),
			seq("POST /v1/digests/%s", "subscribe/91234", "unsubscribe/91235")),
		want: []string{
			"POST /v1/alerts/subscribe/{subscribeId:integer/int64}", "POST /v1/alerts/unsubscribe/{unsubscribeId:integer/int64}",
			"POST /v1/digests/subscribe/{subscribeId:integer/int64}", "POST /v1/digests/unsubscribe/{unsubscribeId:integer/int64}",
		},
	},
	{
		name: "words followed by one recurrent enum are an enum too",
		in: seq("GET /stats/daily/%s", "shop-north/desktop/all-agents/2024-01-01", "blog-south/desktop/user/2024-01-02",
			"wiki-east/mobile-web/spider/2024-01-03", "news-west/mobile-app/all-agents/2024-01-04",
			"docs-central/mobile-web/user/2024-01-05", "forum-high/mobile-app/spider/2024-01-06",
			"shop-low/desktop/spider/2024-01-07", "blog-mid/mobile-web/all-agents/2024-01-08",
			"wiki-far/mobile-app/user/2024-01-09"),
		want: []string{"GET /stats/daily/{dailyName:string}/{type:string}/{type2:string}/{date:string/date}"},
	},
	{
		name: "recurring report words heading long chains stay routes",
		in: cat(seq("GET /metrics/editors/%s/2024-01-01", "top-by-edits/shop-north/user/content/x1", "top-by-bytes/blog-south/bot/content/x2",
			"top-by-pages/wiki-east/user/all/x3"),
			seq("GET /metrics/pages/%s/2024-01-01", "top-by-edits/news-west/bot/all/x4", "top-by-bytes/docs-central/user/all/x5",
				"top-by-pages/forum-high/bot/content/x6")),
		want: []string{
			"GET /metrics/editors/top-by-bytes/blog-south/bot/content/x2/{date:string/date}",
			"GET /metrics/editors/top-by-edits/shop-north/user/content/x1/{date:string/date}",
			"GET /metrics/editors/top-by-pages/wiki-east/user/all/x3/{date:string/date}",
			"GET /metrics/pages/top-by-bytes/docs-central/user/all/x5/{date:string/date}",
			"GET /metrics/pages/top-by-edits/news-west/bot/all/x4/{date:string/date}",
			"GET /metrics/pages/top-by-pages/forum-high/bot/content/x6/{date:string/date}",
		},
	},
	{
		name: "many rare slugs beside names join by numbers",
		in: cat(seq("GET /orgs/%s/repos", "acme42", "globex77", "north-coast", "blue-river", "red-hill"),
			seq("GET /orgs/%s/members/alice42", "green-leaf", "iron-gate", "silver-lake"),
			seq("GET /orgs/%s/hooks", "white-sand")),
		want: []string{"GET /orgs/{orgName:string}/hooks", "GET /orgs/{orgName:string}/members/{memberName:string}", "GET /orgs/{orgName:string}/repos"},
	},
	{
		name: "twin words inside a collection are values",
		in: cat(seq("GET /api/v1/namespaces/%s/pods", "default", "kube-system", "monitoring", "staging"),
			seq("GET /api/v1/namespaces/%s", "default", "staging"),
			seq("GET /api/v1/namespaces/%s", "default/pods/web-1-x", "kube-system/pods/dns-2", "monitoring/pods/prom-0", "staging/pods/api-7")),
		want: []string{
			"GET /api/v1/namespaces/{namespace:string}", "GET /api/v1/namespaces/{namespace:string}/pods",
			"GET /api/v1/namespaces/{namespace:string}/pods/{podName:string}",
		},
	},
	{
		name: "rare word-valued ids leading to shared sub-routes",
		in: cat(seq("GET /data/metrics/%s/overall", "video_startup_time", "rebuffer_score", "page_load_time"),
			seq("GET /data/metrics/%s/breakdown", "rebuffer_percentage", "exits_before_start")),
		want: []string{
			"GET /data/metrics/{metricName:string}/breakdown", "GET /data/metrics/{metricName:string}/overall",
		},
	},
	{
		name: "a population of rare leaf words is a parameter",
		in: cat([]string{"GET /v1/search x3"},
			seq("POST /v1/search/%s", "north-coast-ltd", "blue-river-ag", "acme-tools-inc", "green_leaf_co", "red-hill-gmbh")),
		want: []string{"GET /v1/search", "POST /v1/search/{searchName:string}"},
	},
	{
		name: "few or repeated rare leaf words stay routes",
		in: cat(seq("GET /v1/phone/%s", "blocked_list", "calling_plans", "call-logs"),
			[]string{"GET /v1/phone/sms-settings x2", "POST /v1/phone/sms-settings"},
			seq("GET /v1/chat/%s", "rich-text", "read_receipts", "pinned-items"), []string{"POST /v1/chat/message-drafts"}),
		want: []string{
			"GET /v1/chat/pinned-items", "GET /v1/chat/read_receipts", "GET /v1/chat/rich-text",
			"GET /v1/phone/blocked_list", "GET /v1/phone/call-logs", "GET /v1/phone/calling_plans",
			"GET /v1/phone/sms-settings", "POST /v1/chat/message-drafts", "POST /v1/phone/sms-settings",
		},
	},
	{
		name: "a word-valued id requested a few times joins its rare peers",
		in: cat(seq("GET /data/metrics/%s/overall", "video_startup_time", "rebuffer_score", "page_load_time"),
			seq("GET /data/metrics/%s/breakdown", "rebuffer_percentage", "exits_before_start"),
			[]string{"GET /data/metrics/upscale_percentage/overall x2", "GET /data/metrics/upscale_percentage/breakdown"}),
		want: []string{
			"GET /data/metrics/{metricName:string}/breakdown", "GET /data/metrics/{metricName:string}/overall",
		},
	},
	{
		name: "rare routes taking a parameter stay static",
		in: cat(seq("GET /topics/private-messages/%s", "alice42", "bob77"),
			seq("GET /topics/private-messages-sent/%s", "carol99")),
		want: []string{
			"GET /topics/private-messages-sent/{privateMessagesSentName:string}",
			"GET /topics/private-messages/{privateMessageName:string}",
		},
	},
	{
		name: "rare compound routes among frequent ones stay static",
		in: cat([]string{"GET /api/status/summary x9", "GET /api/health/summary x7", "GET /api/jobs/summary x5"},
			seq("GET /api/%s/summary", "flag-status", "user-search")),
		want: []string{
			"GET /api/flag-status/summary", "GET /api/health/summary", "GET /api/jobs/summary",
			"GET /api/status/summary", "GET /api/user-search/summary",
		},
	},
	{
		name: "file names with several extensions",
		in:   seq("PUT /admin/backups/%s", "ops-959.md", "stream-405.json", "core-17.txt"),
		want: []string{"PUT /admin/backups/{filename:string}"},
	},
	{
		name: "trailing slash and root",
		in:   []string{"GET /", "GET /api/", "GET /api"},
		want: []string{"GET /", "GET /api", "GET /api/"},
	},
	{
		name: "escaped e-mail addresses are values, .com no extension",
		in: cat(seq("GET /v1/accounts/%s", "ann%40example.com", "bob-ops%40example.org"),
			seq("DELETE /v1/accounts/%s/aliases", "carol77%40example.com")),
		want: []string{"DELETE /v1/accounts/{email:string/email}/aliases", "GET /v1/accounts/{email:string/email}"},
	},
	{
		name: "custom-method verbs after an id",
		in: cat(seq("GET /v1/keys/%s", "key_8sJd2KqLmN", "key_Z5p9C2LWl3"),
			seq("POST /v1/keys/%s", "key_Q7w2Er9TyU:disable", "key_8sJd2KqLmN:disable", "key_M3n4B5v6Cx:enable")),
		want: []string{
			"GET /v1/keys/{keyId:string}", "POST /v1/keys/{keyId:string}:disable",
			"POST /v1/keys/{keyId:string}:enable",
		},
	},
	{
		name: "dotted method names with a version token stay routes",
		in: []string{
			"GET /rpc/files.list", "GET /rpc/files.info", "GET /rpc/auth.v2.token", "GET /rpc/chat.history",
			"POST /rpc/chat.post", "GET /rpc/team.info",
		},
		want: []string{
			"GET /rpc/auth.v2.token", "GET /rpc/chat.history", "GET /rpc/files.info", "GET /rpc/files.list",
			"GET /rpc/team.info", "POST /rpc/chat.post",
		},
	},
	{
		name: "one resource word per route is no enum",
		in: cat(seq("GET /v2/mail/users/%s/folders", "usr_Ab12Cd34Ef", "usr_Gh56Ij78Kl"),
			seq("GET /v2/calls/users/%s", "usr_Ab12Cd34Ef"),
			seq("GET /v2/stats/meetings/%s", "81234567890", "81234567891"),
			seq("GET /v2/reports/meetings/%s/attendees", "81234567892")),
		want: []string{
			"GET /v2/calls/users/{userId:string}", "GET /v2/mail/users/{userId:string}/folders",
			"GET /v2/reports/meetings/{meetingId:integer/int64}/attendees", "GET /v2/stats/meetings/{meetingId:integer/int64}",
		},
	},
	{
		name: "rare slugs join ids when several names are among them",
		in: cat([]string{"GET /api/sites x9", "POST /api/sites x4", "GET /api/forms x5"},
			seq("GET /api/%s/builds/status", "acct_Ab12Cd34Ef56", "acct_Gh78Ij90Kl12", "acct_Mn34Op56Qr78", "acct_St90Uv12Wx34", "acct_Yz56Ab78Cd90"),
			seq("GET /api/%s/members", "shop-tools-872", "web-billing-369", "cli-stream-823"),
			seq("DELETE /api/%s/members/mbr_Ab12Cd34Ef56", "north-edge-team", "blue-sky-crew", "web-billing-369")),
		want: []string{
			"DELETE /api/{apiName:string}/members/{memberId:string}", "GET /api/forms", "GET /api/sites",
			"GET /api/{apiName:string}/builds/status", "GET /api/{apiName:string}/members", "POST /api/sites",
		},
	},
	{
		name: "a popular owner followed by repository names is a value",
		in: cat(seq("GET /repos/%s/issues", "alice42/web-app", "bob_x7/cli-tool", "carol99/api-gw", "dave2024/docs-site"),
			seq("GET /repos/%s/releases/7", "alice42/web-app", "erin77/mobile-kit"),
			seq("GET /repos/%s", "acme-corp/web-shop/issues", "acme-corp/data-lake/releases/9", "acme-corp/ml-lab/hooks/git",
				"acme-corp/ops-board/collaborators/frank12/permission", "acme-corp/infra-code/issues", "acme-corp/site-kit/releases/3"),
			[]string{"GET /repos/search x4"}),
		want: []string{
			"GET /repos/search", "GET /repos/{repoName:string}/{name:string}/collaborators/{collaboratorName:string}/permission",
			"GET /repos/{repoName:string}/{name:string}/hooks/git", "GET /repos/{repoName:string}/{name:string}/issues",
			"GET /repos/{repoName:string}/{name:string}/releases/{releaseId:integer/int64}",
		},
	},
	{
		name: "numbered short names are values",
		in: cat(seq("GET /clusters/%s/nodes", "c1", "c2", "c7", "c10"), seq("DELETE /clusters/%s", "c3", "c4"),
			[]string{"GET /clusters x3"}),
		want: []string{"DELETE /clusters/{clusterName:string}", "GET /clusters", "GET /clusters/{clusterName:string}/nodes"},
	},
	{
		name: "numbered versions stay prefixes",
		in: []string{"GET /v1/teams", "GET /v2/teams/tm_Ab12Cd34Ef", "POST /v3/secrets", "GET /v9/projects x2",
			"GET /v10/projects/prj_Ab12Cd34Ef/env", "GET /v13/deployments x2"},
		want: []string{"GET /v1/teams", "GET /v10/projects/{projectId:string}/env", "GET /v13/deployments",
			"GET /v2/teams/{teamId:string}", "GET /v9/projects", "POST /v3/secrets"},
	},
	{
		name: "two words with digits stay routes",
		in:   []string{"GET /net/ipv4/routes x3", "GET /net/ipv6/routes x2", "GET /auth/oauth2/token", "GET /auth/oauth1/token"},
		want: []string{"GET /auth/oauth1/token", "GET /auth/oauth2/token", "GET /net/ipv4/routes", "GET /net/ipv6/routes"},
	},
	{
		name: "a collection word recurring under several parents takes an enum of sizes",
		in: cat(
			albumPhotos,
			seq("GET /albums/%s/photos/medium", "107"),
			seq("GET /members/%s/photos/thumb", "sam42", "kim77"),
			seq("GET /members/%s/photos/large", "ana19"),
			seq("GET /members/%s/photos/original", "lee2024"),
			seq("GET /places/%s/photos/square/4", "201"),
			seq("GET /places/%s/photos/medium/1", "202"),
			seq("GET /places/%s/photos/large", "203"),
		),
		want: []string{
			"GET /albums/{albumId:integer/int64}/photos/{photoType:string}",
			"GET /albums/{albumId:integer/int64}/photos/{photoType:string}/{id:integer/int64}",
			"GET /members/{memberName:string}/photos/{photoType:string}",
			"GET /places/{placeId:integer/int64}/photos/{photoType:string}",
			"GET /places/{placeId:integer/int64}/photos/{photoType:string}/{id:integer/int64}",
		},
	},
	{
		name: "rare words followed by different values of a collection route alike",
		in: cat(
			albumPhotos,
			seq("GET /places/%s/photos/square/4", "201"),
			seq("GET /places/%s/photos/large", "203"),
			[]string{"GET /tags/sunset-beach/photos/thumb", "GET /tags/city-night/photos/large", "GET /tags/old-town/photos/original"},
		),
		want: []string{
			"GET /albums/{albumId:integer/int64}/photos/{photoType:string}/{id:integer/int64}",
			"GET /places/{placeId:integer/int64}/photos/{photoType:string}",
			"GET /places/{placeId:integer/int64}/photos/{photoType:string}/{id:integer/int64}",
			"GET /tags/{tagName:string}/photos/{photoType:string}",
		},
	},
	{
		name: "leaf action words recurring under several parents stay routes",
		in: cat(
			seq("POST /servers/%s/actions/reboot", "11", "12"),
			seq("POST /servers/%s/actions/shutdown", "13"),
			seq("POST /servers/%s/actions/rebuild", "14"),
			seq("POST /servers/%s/actions/resize", "15"),
			seq("POST /volumes/%s/actions/resize", "21"),
			seq("POST /volumes/%s/actions/attach", "22"),
			seq("POST /volumes/%s/actions/detach", "23"),
			seq("POST /volumes/%s/actions/reboot", "24"),
			seq("POST /networks/%s/actions/attach", "31"),
			seq("POST /networks/%s/actions/detach", "32"),
			seq("POST /networks/%s/actions/resize", "33"),
		),
		want: []string{
			"POST /networks/{networkId:integer/int64}/actions/attach",
			"POST /networks/{networkId:integer/int64}/actions/detach",
			"POST /networks/{networkId:integer/int64}/actions/resize",
			"POST /servers/{serverId:integer/int64}/actions/reboot",
			"POST /servers/{serverId:integer/int64}/actions/rebuild",
			"POST /servers/{serverId:integer/int64}/actions/resize",
			"POST /servers/{serverId:integer/int64}/actions/shutdown",
			"POST /volumes/{volumeId:integer/int64}/actions/attach",
			"POST /volumes/{volumeId:integer/int64}/actions/detach",
			"POST /volumes/{volumeId:integer/int64}/actions/reboot",
			"POST /volumes/{volumeId:integer/int64}/actions/resize",
		},
	},
	{
		name: "short random-case keys beside ids are ids",
		in: cat(
			seq("GET /rooms/%s/messages", "48213", "9917", "301", "77204518"),
			seq("GET /rooms/%s/messages", "qW3x", "hTkB", "Rp9sZ", "7mVQ"),
			[]string{"GET /rooms/by/owner x2"},
		),
		want: []string{
			"GET /rooms/by/owner",
			"GET /rooms/{roomName:string}/messages",
		},
	},
	{
		name: "camel-case and one-case words beside ids stay routes",
		in: cat(
			seq("GET /devices/%s/status", "48213", "9917", "301", "77204518"),
			[]string{"GET /devices/iPhone/status", "GET /devices/byName/status", "GET /devices/HTTP/status", "GET /devices/OAuth/status"},
		),
		want: []string{
			"GET /devices/HTTP/status",
			"GET /devices/OAuth/status",
			"GET /devices/byName/status",
			"GET /devices/iPhone/status",
			"GET /devices/{deviceId:integer/int64}/status",
		},
	},
	{
		name: "rare compound values bring their route words to the population",
		in: []string{
			"GET /stats/page_views/overall", "GET /stats/error_rate/overall", "GET /stats/error_rate/breakdown",
			"GET /stats/signup_count/breakdown", "GET /stats/queue_depth/overall",
			"GET /stats/churn_ratio/overall", "GET /stats/churn_ratio/timeline x3",
			"GET /stats/load_time/timeline x3",
			"GET /stats/summary x4",
		},
		want: []string{
			"GET /stats/summary",
			"GET /stats/{statName:string}/breakdown",
			"GET /stats/{statName:string}/overall",
			"GET /stats/{statName:string}/timeline",
		},
	},
	{
		name: "priors win where they match",
		in:   cat([]string{"GET /users/me"}, seq("GET /users/%s", "17", "4242")),
		opts: Options{Priors: []string{"/users/{id}"}},
		want: []string{"GET /users/{id:string}"},
	},
	{
		name: "literal priors beat parameter priors",
		in:   cat([]string{"GET /users/me"}, seq("GET /users/%s", "17", "4242")),
		opts: Options{Priors: []string{"/users/{id}", "/users/me"}},
		want: []string{"GET /users/me", "GET /users/{id:string}"},
	},
	{
		name: "configured static values",
		in:   seq("GET /users/%s", "17", "4242", "99"),
		opts: Options{Static: []string{"99"}},
		want: []string{"GET /users/99", "GET /users/{userId:integer/int64}"},
	},
}

func TestEndpoints(t *testing.T) {
	for _, tc := range endpointCases {
		t.Run(tc.name, func(t *testing.T) {
			got := describe(build(t, tc.in).Endpoints(tc.opts))
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			// Order-independence: the same requests shuffled, and split
			// across two tries merged, give the same templates.
			lines := expand(tc.in)
			for seed := uint64(1); seed <= 3; seed++ {
				rand.New(rand.NewPCG(seed, 7)).Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
				if sh := describe(build(t, lines).Endpoints(tc.opts)); !slices.Equal(sh, got) {
					t.Errorf("seed %d: shuffled input gives %v, in order %v", seed, sh, got)
				}
				a, b := build(t, lines[:len(lines)/2]), build(t, lines[len(lines)/2:])
				a.Merge(b, func(_ string, dst, src int) (int, bool) {
					if dst >= 0 {
						return dst, true
					}
					return src, true
				})
				if mg := describe(a.Endpoints(tc.opts)); !slices.Equal(mg, got) {
					t.Errorf("seed %d: A then B merged gives %v, in order %v", seed, mg, got)
				}
			}
		})
	}
}

package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/operations"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/message"
)

// rpcExchange is one JSON POST with its JSON answer.
func rpcExchange(at time.Time, host, path, reqBody, respBody string) *reassembly.Exchange {
	return postExchange(at, host, path, "application/json", nil, reqBody, respBody)
}

// postExchange is one POST of a body of media type ct, with the extra
// request headers hdr, answered with a body of the same type.
func postExchange(at time.Time, host, path, ct string, hdr http.Header, reqBody, respBody string) *reassembly.Exchange {
	h := http.Header{"Content-Type": {ct}}
	for k, v := range hdr {
		h[k] = v
	}
	rh := http.Header{"Content-Type": {ct}}
	return &reassembly.Exchange{
		Flow: reassembly.Flow{Client: netip.MustParseAddrPort("10.1.0.1:50000"), Server: netip.MustParseAddrPort("10.1.0.3:80")},
		Request: &message.Request{Method: "POST", Target: path, Path: path, Proto: "HTTP/1.1", Authority: host, Header: h,
			Body: message.NewBody([]byte(reqBody), 0), Start: at, End: at},
		Response: &message.Response{Proto: "HTTP/1.1", StatusCode: 200, Header: rh, Body: message.NewBody([]byte(respBody), 0),
			WireSize: int64(len(respBody)), Start: at.Add(time.Millisecond), End: at.Add(2 * time.Millisecond)},
	}
}

// gqlBody is a GraphQL request body.
func gqlBody(t *testing.T, query string, vars map[string]any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// rpcTraffic is GraphQL traffic at /graphql, JSON-RPC traffic at /rpc
// and SOAP traffic at /soap of one host, one JSON-RPC method named with
// markup.
func rpcTraffic(t *testing.T, hostile string) []*reassembly.Exchange {
	t0 := time.Date(2026, 5, 6, 7, 0, 0, 0, time.UTC)
	const host = "api.example.test"
	var xs []*reassembly.Exchange
	badMethod, err := json.Marshal(hostile)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		at := t0.Add(time.Duration(i) * time.Minute)
		xs = append(xs,
			rpcExchange(at, host, "/graphql", gqlBody(t, "query Hero($id: ID!) { hero(id: $id) { name } }", map[string]any{"id": fmt.Sprint(i)}),
				`{"data":{"hero":{"name":"R2-D2"}}}`),
			rpcExchange(at, host, "/rpc", fmt.Sprintf(`{"jsonrpc":"2.0","method":"user.get","params":{"id":%d},"id":%d}`, i, i),
				fmt.Sprintf(`{"jsonrpc":"2.0","result":{"name":"u%d"},"id":%d}`, i, i)))
		if i%3 == 0 {
			xs = append(xs,
				rpcExchange(at, host, "/graphql", gqlBody(t, "mutation AddReview($stars: Int!) { createReview(episode: JEDI, stars: $stars) { stars } }", map[string]any{"stars": 5}),
					`{"errors":[{"message":"no"}],"data":null}`),
				rpcExchange(at, host, "/rpc", `{"jsonrpc":"2.0","method":`+string(badMethod)+`,"params":[1],"id":"x"}`,
					`{"jsonrpc":"2.0","error":{"code":-32601,"message":"no such method"},"id":"x"}`))
		}
		if i%10 == 0 {
			xs = append(xs, postExchange(at, host, "/soap", "text/xml", http.Header{"Soapaction": {`"urn:GetPrice"`}},
				`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetPrice><item>1</item></GetPrice></s:Body></s:Envelope>`,
				`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetPriceResponse><p>2</p></GetPriceResponse></s:Body></s:Envelope>`))
		}
		if i == 7 {
			xs = append(xs, rpcExchange(at, host, "/graphql", gqlBody(t, "query IntrospectionQuery { __schema { types { name } } }", nil),
				`{"data":{"__schema":{"types":[{"name":"Query"}]}}}`))
		}
	}
	return xs
}

// rows returns the text of the table rows of the page with the class.
func rows(t *testing.T, page []byte, class string) []string {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var text func(*html.Node, *strings.Builder)
	text = func(n *html.Node, b *strings.Builder) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			text(c, b)
		}
	}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "tr" && slices.ContainsFunc(n.Attr, func(a html.Attribute) bool {
			return a.Key == "class" && slices.Contains(strings.Fields(a.Val), class)
		}) {
			var b strings.Builder
			text(n, &b)
			out = append(out, b.String())
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

// TestOperationsInReport: a report of GraphQL and JSON-RPC traffic lists
// each operation under its endpoint in the tree and in the endpoint's
// detail, and counts them in the summary.
func TestOperationsInReport(t *testing.T) {
	hostile := "m" + xssScript
	db := ingestDB(t, filepath.Join(t.TempDir(), "rpc.db"), nil, rpcTraffic(t, hostile))
	in, err := Load(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	d := Build(in)

	// The data section.
	type opKey struct{ template, kind, name string }
	tree := map[opKey]OperationNode{}
	for _, s := range d.Services {
		for _, e := range s.Endpoints {
			for _, o := range e.Operations {
				tree[opKey{e.Template, o.Kind, o.Name}] = o
			}
		}
	}
	for _, tc := range []struct {
		key                 opKey
		count, errors       uint64
		introspection, want bool
	}{
		{opKey{"/graphql", "GraphQL query", "Hero"}, 30, 0, false, true},
		{opKey{"/graphql", "GraphQL mutation", "AddReview"}, 10, 10, false, true},
		{opKey{"/graphql", "GraphQL query", "IntrospectionQuery"}, 1, 0, true, true},
		{opKey{"/rpc", "JSON-RPC method", "user.get"}, 30, 0, false, true},
		{opKey{"/rpc", "JSON-RPC method", hostile}, 10, 10, false, true},
		{opKey{"/soap", "SOAP 1.1 action", "urn:GetPrice"}, 3, 0, false, true},
	} {
		o, ok := tree[tc.key]
		if !ok {
			t.Errorf("tree lacks %v; has %v", tc.key, tree)
			continue
		}
		if o.Count != tc.count || o.Errors != tc.errors || o.Introspection != tc.introspection {
			t.Errorf("%v: %+v, want count %d, errors %d, introspection %v", tc.key, o, tc.count, tc.errors, tc.introspection)
		}
	}
	if d.Summary.Operations != len(tree) || !slices.Equal(d.Summary.OperationsBy, []Count{{"GraphQL", 3}, {"JSON-RPC", 2}, {"SOAP", 1}}) {
		t.Errorf("summary counts %d operations %v, the tree %d", d.Summary.Operations, d.Summary.OperationsBy, len(tree))
	}
	details := map[string]Detail{}
	for _, x := range d.Details {
		details[x.Template] = x
	}
	find := func(template, name string) OperationDetail {
		for _, o := range details[template].Operations {
			if o.Name == name {
				return o
			}
		}
		t.Errorf("detail of %s lacks operation %s: %+v", template, name, details[template])
		return OperationDetail{}
	}
	shape := func(o OperationDetail, part string) string {
		for _, s := range o.Shapes {
			if s.Part == part {
				return s.Shape
			}
		}
		return ""
	}
	hero := find("/graphql", "Hero")
	if !slices.Contains(hero.Fields, "hero(id)") || !slices.Contains(hero.Variables, "$id: ID!") || !strings.Contains(shape(hero, "data"), "hero") {
		t.Errorf("Hero detail %+v", hero)
	}
	review := find("/graphql", "AddReview")
	if !slices.Contains(review.Fields, "createReview(episode,stars)") || !slices.Contains(review.Variables, "$stars: Int!") {
		t.Errorf("AddReview detail %+v", review)
	}
	get := find("/rpc", "user.get")
	if !strings.Contains(shape(get, "params"), "id") || !strings.Contains(shape(get, "result"), "name") {
		t.Errorf("user.get detail %+v", get)
	}
	if bad := find("/rpc", hostile); !strings.Contains(shape(bad, "error"), "code") {
		t.Errorf("%s detail %+v", hostile, bad)
	}
	if soap := find("/soap", "urn:GetPrice"); !slices.Contains(soap.Fields, "GetPrice(item)") {
		t.Errorf("urn:GetPrice detail %+v", soap)
	}
	checkGolden(t, "rpc.data.golden.json", d)

	// The page: one sub-row per operation, one detail row per operation,
	// the hostile name as text.
	page := render(t, in, Options{})
	for _, p := range pageProblems(t, page) {
		t.Error(p)
	}
	if strings.Contains(string(page), xssScript) {
		t.Error("the page has the method name unescaped")
	}
	if card := `<b>6</b><span>operations: 3 GraphQL, 2 JSON-RPC, 1 SOAP</span>`; !strings.Contains(string(page), card) {
		t.Errorf("page lacks the summary card %s", card)
	}
	for class, n := range map[string]int{"op": len(tree), "opd": len(tree)} {
		got := rows(t, page, class)
		if len(got) != n {
			t.Errorf("%d rows of class %s, want %d: %q", len(got), class, n, got)
		}
		for k := range tree {
			if !slices.ContainsFunc(got, func(r string) bool { return strings.Contains(r, k.kind) && strings.Contains(r, k.name) }) {
				t.Errorf("no %s row shows %s %s: %q", class, k.kind, k.name, got)
			}
		}
	}
	if !slices.ContainsFunc(rows(t, page, "op"), func(r string) bool {
		return strings.Contains(r, "IntrospectionQuery") && strings.Contains(r, "introspection")
	}) {
		t.Error("the introspection query's row does not say introspection")
	}
}

// manyOperations are n JSON-RPC operation summaries.
func manyOperations(n int) []operations.Summary {
	out := make([]operations.Summary, n)
	for i := range out {
		out[i] = operations.Summary{Protocol: operations.JSONRPC, Name: fmt.Sprintf("m%d", i), Count: 1}
	}
	return out
}

// TestOperationBounds: the tree's operation sub-rows and a detail's
// operations are bounded and the page says how many were left out.
func TestOperationBounds(t *testing.T) {
	per := MaxOperationRows/3 + 1
	var eps []infer.EndpointSummary
	for i := range 4 {
		eps = append(eps, infer.EndpointSummary{Service: "rpc.test", Method: "POST", Template: fmt.Sprintf("/rpc%d", i), Count: 1,
			Operations: manyOperations(per)})
	}
	d := Build(Input{Endpoints: eps, Model: infer.NewModel(infer.Config{})})
	shown := 0
	for _, s := range d.Services {
		for _, e := range s.Endpoints {
			shown += len(e.Operations)
		}
	}
	if shown != MaxOperationRows || d.Omitted.OperationRows != 4*per-MaxOperationRows {
		t.Errorf("%d operation rows, %d omitted; want %d, %d", shown, d.Omitted.OperationRows, MaxOperationRows, 4*per-MaxOperationRows)
	}
	if d.Summary.Operations != 4*per {
		t.Errorf("summary counts %d operations, want all %d", d.Summary.Operations, 4*per)
	}
	for _, x := range d.Details {
		if len(x.Operations) != MaxDetailOperations || x.OperationsOmitted != per-MaxDetailOperations {
			t.Errorf("detail %s: %d operations, %d omitted", x.Template, len(x.Operations), x.OperationsOmitted)
		}
	}
	var buf bytes.Buffer
	if err := Render(&buf, d, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{fmt.Sprintf("%d more GraphQL, JSON-RPC and SOAP operations are not listed", 4*per-MaxOperationRows),
		fmt.Sprintf("%d more operations are not listed (bound of %d)", per-MaxDetailOperations, MaxDetailOperations)} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// BenchmarkRenderOperations is Build and Render of a report at the
// operation bounds: 10 endpoints of 512 operations (the inventory's
// default bound), so 5,000 tree sub-rows and 10 × 100 detail rows; it
// reports the page's size.
func BenchmarkRenderOperations(b *testing.B) {
	var eps []infer.EndpointSummary
	for i := range 10 {
		ops := manyOperations(512)
		for j := range ops {
			ops[j].Fields = []string{fmt.Sprintf("field%d(a,b)", j)}
		}
		eps = append(eps, infer.EndpointSummary{Service: "rpc.test", Method: "POST", Template: fmt.Sprintf("/rpc%d", i), Count: 512,
			Operations: ops})
	}
	in := Input{Endpoints: eps, Model: infer.NewModel(infer.Config{})}
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := Render(&buf, Build(in), Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len())/1e6, "MB/page")
}

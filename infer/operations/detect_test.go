package operations

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// brief is a call reduced to what the table checks.
type brief struct {
	Protocol      Protocol
	Type, Name    string
	Fields        string // "a(x,y) b"
	Vars          string // "id:ID!"
	Introspection bool
	Notification  bool
	Failed        bool
	Result, Error string
}

func briefOf(c Call) brief {
	var fs, vs []string
	for _, f := range c.Fields {
		s := f.Name
		if len(f.Args) > 0 {
			s += "(" + strings.Join(f.Args, ",") + ")"
		}
		fs = append(fs, s)
	}
	for _, v := range c.Variables {
		vs = append(vs, v.Name+":"+v.Type)
	}
	return brief{c.Protocol, c.Type, c.Name, strings.Join(fs, " "), strings.Join(vs, " "), c.Introspection, c.Notification, c.Failed, string(c.Result), string(c.Error)}
}

func TestDetect(t *testing.T) {
	deep := strings.Repeat("{a", 40) + strings.Repeat("}", 40)
	deepXML := `<s:Envelope xmlns:s="` + soap11NS + `"><s:Body>` + strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40) + `</s:Body></s:Envelope>`
	hash := strings.Repeat("ab", 32)
	tests := []struct {
		name string
		x    Exchange
		want []brief
		err  error
	}{
		{"graphql named", Exchange{Method: "POST", Body: []byte(`{"query":"query Hero($ep: Episode!) { hero(episode: $ep) { name } }","operationName":"Hero","variables":{"ep":"JEDI"}}`),
			RespBody: []byte(`{"data":{"hero":{"name":"R2-D2"}}}`)},
			[]brief{{Protocol: GraphQL, Type: "query", Name: "Hero", Fields: "hero(episode)", Vars: "ep:Episode!", Result: `{"hero":{"name":"R2-D2"}}`}}, nil},
		{"graphql anonymous is named by its fields", Exchange{Body: []byte(`{"query":"{ b: reviews(episode: JEDI) { stars } hero { name } }"}`)},
			[]brief{{Protocol: GraphQL, Type: "query", Name: anonName("hero", "reviews"), Fields: "hero reviews(episode)"}}, nil},
		{"graphql fragments reach top-level fields", Exchange{Body: []byte(`{"query":"query Q { ...F } fragment F on Query { hero { name } ... on Query { search(text: \"x\") { __typename } } }"}`)},
			[]brief{{Protocol: GraphQL, Type: "query", Name: "Q", Fields: "hero search(text)"}}, nil},
		{"graphql mutation with errors", Exchange{Body: []byte(`{"query":"mutation M { createReview(episode: JEDI, review: {stars: 5}) { stars } }"}`),
			RespBody: []byte(`{"data":null,"errors":[{"message":"no"}]}`)},
			[]brief{{Protocol: GraphQL, Type: "mutation", Name: "M", Fields: "createReview(episode,review)", Failed: true, Error: `[{"message":"no"}]`}}, nil},
		{"graphql batch pairs replies by index", Exchange{Body: []byte(`[{"query":"query A { a }"},{"query":"query B { b }"}]`),
			RespBody: []byte(`[{"data":{"a":1}},{"data":{"b":2}}]`)},
			[]brief{{Protocol: GraphQL, Type: "query", Name: "A", Fields: "a", Result: `{"a":1}`}, {Protocol: GraphQL, Type: "query", Name: "B", Fields: "b", Result: `{"b":2}`}}, nil},
		{"graphql introspection", Exchange{Body: []byte(`{"query":"query IntrospectionQuery { __schema { types { name } } }"}`)},
			[]brief{{Protocol: GraphQL, Type: "query", Name: "IntrospectionQuery", Fields: "__schema", Introspection: true}}, nil},
		{"graphql GET", Exchange{Method: "GET", RawQuery: "query=%7Bhero%7Bname%7D%7D&operationName="},
			[]brief{{Protocol: GraphQL, Type: "query", Name: anonName("hero"), Fields: "hero"}}, nil},
		{"graphql document body", Exchange{ContentType: "application/graphql", Body: []byte(`query Hero { hero { name } }`), RespBody: []byte(`{"data":{"hero":null}}`)},
			[]brief{{Protocol: GraphQL, Type: "query", Name: "Hero", Fields: "hero", Result: `{"hero":null}`}}, nil},
		{"graphql document body that does not parse", Exchange{ContentType: "application/graphql", Body: []byte(`query Hero { hero { name }`)}, nil, ErrBad},
		{"graphql persisted query", Exchange{Body: []byte(`{"operationName":"Hero","extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + hash + `"}}}`)},
			[]brief{{Protocol: GraphQL, Type: "persisted", Name: "Hero"}}, nil},
		{"graphql operationName selects", Exchange{Body: []byte(`{"query":"query A { a } query B { b }","operationName":"B"}`)},
			[]brief{{Protocol: GraphQL, Type: "query", Name: "B", Fields: "b"}}, nil},
		{"graphql two operations without a name", Exchange{Body: []byte(`{"query":"query A { a } query B { b }","variables":{}}`)}, nil, ErrBad},
		{"graphql unknown operationName", Exchange{Body: []byte(`{"query":"query A { a }","operationName":"C"}`)}, nil, ErrBad},
		{"graphql syntax error with GraphQL members", Exchange{Body: []byte(`{"query":"query { a ","operationName":null,"variables":{}}`)}, nil, ErrBad},
		{"graphql too deep", Exchange{Body: []byte(`{"query":"` + deep + `"}`)}, nil, ErrTooDeep},
		{"search API with a query string is not GraphQL", Exchange{Body: []byte(`{"query":"red shoes","page":2}`)}, nil, nil},
		{"search DSL with a query object is not GraphQL", Exchange{Body: []byte(`{"query":{"match":{"title":"x"}}}`)}, nil, nil},
		{"GET search is not GraphQL", Exchange{Method: "GET", RawQuery: "query=red+shoes"}, nil, nil},
		{"jsonrpc request", Exchange{Body: []byte(`{"jsonrpc":"2.0","method":"add","params":[1,2],"id":7}`), RespBody: []byte(`{"jsonrpc":"2.0","result":3,"id":7}`)},
			[]brief{{Protocol: JSONRPC, Name: "add", Result: "3"}}, nil},
		{"jsonrpc batch pairs by id, notification unanswered", Exchange{
			Body:     []byte(`[{"jsonrpc":"2.0","method":"a","id":"x"},{"jsonrpc":"2.0","method":"log","params":{"m":1}},{"jsonrpc":"2.0","method":"b","id":2}]`),
			RespBody: []byte(`[{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"nope"}},{"jsonrpc":"2.0","id":"x","result":{"ok":true}}]`)},
			[]brief{{Protocol: JSONRPC, Name: "a", Result: `{"ok":true}`}, {Protocol: JSONRPC, Name: "log", Notification: true}, {Protocol: JSONRPC, Name: "b", Failed: true, Error: `{"code":-32601,"message":"nope"}`}}, nil},
		{"jsonrpc answered as an event stream (MCP)", Exchange{Body: []byte(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"search","arguments":{"q":"x"}}}`),
			RespContentType: "text/event-stream",
			RespBody:        []byte("event: message\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\r\n\r\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":3,\ndata: \"result\":{\"content\":[]}}\n\n")},
			[]brief{{Protocol: JSONRPC, Name: "tools/call", Result: `{"content":[]}`}}, nil},
		{"jsonrpc 1.0 is not 2.0", Exchange{Body: []byte(`{"method":"a","params":[],"id":1}`)}, nil, nil},
		{"jsonrpc bad params", Exchange{Body: []byte(`{"jsonrpc":"2.0","method":"a","params":3,"id":1}`)}, nil, ErrBad},
		{"jsonrpc control characters in method", Exchange{Body: []byte(`{"jsonrpc":"2.0","method":"a\u0000b","id":1}`)}, nil, ErrBad},
		{"soap 1.1 by SOAPAction", Exchange{ContentType: "text/xml; charset=utf-8", SOAPAction: `"http://example.com/GetPrice"`,
			Body:     []byte(`<?xml version="1.0"?><soap:Envelope xmlns:soap="` + soap11NS + `"><soap:Header/><soap:Body><m:GetPrice xmlns:m="urn:x"><m:Item>a</m:Item><m:Currency>b</m:Currency></m:GetPrice></soap:Body></soap:Envelope>`),
			RespBody: []byte(`<soap:Envelope xmlns:soap="` + soap11NS + `"><soap:Body><soap:Fault><faultcode>x</faultcode></soap:Fault></soap:Body></soap:Envelope>`)},
			[]brief{{Protocol: SOAP, Type: "1.1", Name: "http://example.com/GetPrice", Fields: "GetPrice(Currency,Item)", Failed: true}}, nil},
		{"soap 1.2 by action parameter", Exchange{ContentType: `application/soap+xml; charset=utf-8; action="urn:Stock/Get"`,
			Body: []byte(`<e:Envelope xmlns:e="` + soap12NS + `"><e:Body><Get/></e:Body></e:Envelope>`)},
			[]brief{{Protocol: SOAP, Type: "1.2", Name: "urn:Stock/Get", Fields: "Get"}}, nil},
		{"soap 1.2 with an unquoted action", Exchange{ContentType: `application/soap+xml;charset=UTF-8;action=urn:Stock:Get`,
			Body: []byte(`<e:Envelope xmlns:e="` + soap12NS + `"><e:Body><Get/></e:Body></e:Envelope>`)},
			[]brief{{Protocol: SOAP, Type: "1.2", Name: "urn:Stock:Get", Fields: "Get"}}, nil},
		{"soap by first Body child", Exchange{ContentType: "text/xml",
			Body: []byte(`<e:Envelope xmlns:e="` + soap11NS + `"><e:Body><Ping/><Other/></e:Body></e:Envelope>`)},
			[]brief{{Protocol: SOAP, Type: "1.1", Name: "Ping", Fields: "Ping"}}, nil},
		{"soap too deep", Exchange{ContentType: "text/xml", Body: []byte(deepXML)}, nil, ErrTooDeep},
		{"soap not well formed", Exchange{ContentType: "application/soap+xml", Body: []byte(`<e:Envelope xmlns:e="` + soap12NS + `"><e:Body><a></b></e:Body></e:Envelope>`)}, nil, ErrBad},
		{"plain XML is not SOAP", Exchange{ContentType: "application/xml", Body: []byte(`<feed><entry/></feed>`)}, nil, nil},
		{"too large", Exchange{Body: []byte(`{"jsonrpc":"2.0","method":"a","params":["` + strings.Repeat("x", 300<<10) + `"]}`)}, nil, ErrTooLarge},
		{"too large, RPC members at the end only", Exchange{Body: []byte(`{"variables":{"v":"` + strings.Repeat("x", 300<<10) + `"},"query":"{ a }"}`)}, nil, ErrTooLarge},
		{"large plain JSON is no error", Exchange{Body: []byte(`{"items":["` + strings.Repeat("x", 300<<10) + `"]}`)}, nil, nil},
		{"partial bodies are not parsed", Exchange{Body: []byte(`{"jsonrpc":"2.0","method":"a"`), Partial: true}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d Detector
			res, err := d.Detect(&tc.x)
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			var got []brief
			for _, c := range res.Calls {
				got = append(got, briefOf(c))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func anonName(fields ...string) string {
	var d Detector
	res, err := d.Detect(&Exchange{Body: []byte(fmt.Sprintf(`{"query":"{ %s }"}`, strings.Join(fields, " ")))})
	if err != nil || len(res.Calls) != 1 {
		panic(fmt.Sprint(err))
	}
	return res.Calls[0].Name
}

// TestAnonymousNameStable pins that the anonymous name depends on the set
// of top-level fields only: not on their order, aliases or sub-selections.
func TestAnonymousNameStable(t *testing.T) {
	var d Detector
	names := map[string]bool{}
	for _, q := range []string{`{ a b }`, `{ b a }`, `{ x: a { id } b(n: 1) }`, `query { b ...on Query { a } }`} {
		res, err := d.Detect(&Exchange{Body: []byte(fmt.Sprintf(`{"query":%q}`, q))})
		if err != nil || len(res.Calls) != 1 {
			t.Fatalf("%s: %v", q, err)
		}
		names[res.Calls[0].Name] = true
	}
	if len(names) != 1 {
		t.Errorf("names %v, want one", names)
	}
	res, _ := d.Detect(&Exchange{Body: []byte(`{"query":"{ a c }"}`)})
	if names[res.Calls[0].Name] {
		t.Errorf("{ a c } has the name of { a b }")
	}
}

func TestDocumentsBlankLiterals(t *testing.T) {
	var d Detector
	res, err := d.Detect(&Exchange{Body: []byte(`{"query":"query Q($e: String = \"default-secret\") { user(email: \"alice@example.com\", n: 4111111111111111, f: {x: [2.718281828]}) @include(if: true) { name } }"}`)})
	if err != nil || len(res.Calls) != 1 {
		t.Fatal(err)
	}
	doc := res.Calls[0].Document
	for _, s := range []string{"alice@example.com", "default-secret", "4111111111111111", "2.718281828"} {
		if strings.Contains(doc, s) {
			t.Errorf("document keeps %q:\n%s", s, doc)
		}
	}
	if !strings.Contains(doc, "user(email: \"\", n: 0, f: {x:[0.0]})") {
		t.Errorf("document lost its shape:\n%s", doc)
	}
}

// TestSmallDocumentLimit: limits below the internal scan window work.
func TestSmallDocumentLimit(t *testing.T) {
	d := Detector{Limits: Limits{MaxDocumentBytes: 10}}
	_, err := d.Detect(&Exchange{Body: []byte(`{"jsonrpc":"2.0","method":"a"}`)})
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("error %v, want ErrTooLarge", err)
	}
}

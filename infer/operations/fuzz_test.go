package operations

import (
	"testing"
	"time"

	"github.com/specter-dev/specter/infer/schema"
)

// FuzzDetect feeds arbitrary request and response bodies to the detectors
// and the inventory: nothing may panic, and calls stay within the bounds.
func FuzzDetect(f *testing.F) {
	for _, s := range []struct{ ct, body, resp string }{
		{"application/json", `{"query":"query A($x: Int) { a(x: $x) { ...F } } fragment F on T { b }","variables":{"x":1}}`, `{"data":{"a":{"b":1}}}`},
		{"application/json", `[{"query":"{ a }"},{"extensions":{"persistedQuery":{"sha256Hash":"0123456789abcdef"}}}]`, `[{"data":{}},{"errors":[{}]}]`},
		{"application/json", `[{"jsonrpc":"2.0","method":"a","params":[1],"id":1},{"jsonrpc":"2.0","method":"n"}]`, `[{"jsonrpc":"2.0","id":1,"result":2}]`},
		{"text/xml", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><Get><a/></Get></s:Body></s:Envelope>`, `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault/></s:Body></s:Envelope>`},
		{"application/soap+xml; action=x", `<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><a/></e:Body></e:Envelope>`, ``},
		{"", `{"query":"{ a { b { c { d } } } }"}`, ``},
	} {
		f.Add(s.ct, "", s.body, s.resp)
	}
	f.Add("", "query=%7Ba%7D&variables=%7B%7D", "", `{"data":{"a":1}}`)
	f.Add("", "", `{"jsonrpc":"2.0","method":"a","id":1}`, "event: message\ndata: {\"jsonrpc\":\"2.0\",\ndata: \"id\":1,\"result\":2}\n\n")
	f.Fuzz(func(t *testing.T, ct, rawQuery, body, resp string) {
		l := Limits{MaxOperations: 8, MaxDepth: 8, MaxBatch: 4, MaxFields: 4, MaxDocumentBytes: 1 << 10}
		d := Detector{Limits: l}
		x := Exchange{Method: "POST", RawQuery: rawQuery, ContentType: ct, Body: []byte(body), RespBody: []byte(resp), RespContentType: "text/event-stream"}
		res, err := d.Detect(&x)
		if len(res.Calls) > l.MaxBatch {
			t.Fatalf("%d calls past MaxBatch", len(res.Calls))
		}
		for _, c := range res.Calls {
			if c.Name == "" || len(c.Name) > 256 {
				t.Fatalf("call name %q", c.Name)
			}
			if len(c.Fields) > l.MaxFields {
				t.Fatalf("%d fields past MaxFields", len(c.Fields))
			}
		}
		var inv Inventory
		inv.Observe(res, err, time.Time{}, l, schema.DefaultOptions())
		inv.Observe(res, err, time.Time{}, l, schema.DefaultOptions())
		if len(inv.Ops) > l.MaxOperations {
			t.Fatalf("%d operations past MaxOperations", len(inv.Ops))
		}
		var m Inventory
		m.Merge(&inv, l, schema.DefaultOptions())
	})
}

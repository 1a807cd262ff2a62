package report

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/specter-dev/specter/infer/diff"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/message"
	"github.com/specter-dev/specter/store"
)

// Hostile values carried by the synthetic traffic: the page must show
// them as text.
// If a browser ran them, they would mark the document (data-pwned) and
// the img would be fetched.
const (
	xssScript = `<script>document.documentElement.setAttribute("data-pwned","script")</script>`
	xssAttr   = `"><img src=x onerror=document.documentElement.setAttribute('data-pwned','img')>`
)

// request is one synthetic exchange; hdr are header name/value pairs.
type request struct {
	at           time.Time
	method, host string
	target       string
	hdr          []string
	status       int
	body         string
}

func (r request) exchange() *reassembly.Exchange {
	path, query, _ := cutQuery(r.target)
	h := http.Header{}
	for i := 0; i+1 < len(r.hdr); i += 2 {
		h.Add(r.hdr[i], r.hdr[i+1])
	}
	rh := http.Header{}
	if r.body != "" {
		rh.Set("Content-Type", "application/json")
	}
	return &reassembly.Exchange{
		Flow: reassembly.Flow{Client: netip.MustParseAddrPort("10.1.0.1:50000"), Server: netip.MustParseAddrPort("10.1.0.2:80")},
		Request: &message.Request{Method: r.method, Target: r.target, Path: path, RawQuery: query, Proto: "HTTP/1.1",
			Authority: r.host, Header: h, Start: r.at, End: r.at},
		Response: &message.Response{Proto: "HTTP/1.1", StatusCode: r.status, Header: rh, Body: message.NewBody([]byte(r.body), 0),
			WireSize: int64(len(r.body)), Start: r.at.Add(2 * time.Millisecond), End: r.at.Add(4 * time.Millisecond)},
	}
}

func cutQuery(target string) (string, string, bool) {
	for i := 0; i < len(target); i++ {
		if target[i] == '?' {
			return target[:i], target[i+1:], true
		}
	}
	return target, "", false
}

// shopTraffic is two hours of a small API on two hosts, with hostile
// paths, header and query names and JSON keys on the second.
func shopTraffic() []*reassembly.Exchange {
	t0 := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	var xs []*reassembly.Exchange
	for i := range 240 {
		at := t0.Add(time.Duration(i) * 30 * time.Second)
		id := 100 + i%37
		rs := []request{
			{at, "GET", "shop.example.test", fmt.Sprintf("/v1/users/%d", id), []string{"Authorization", "Bearer abc.def.ghi"}, 200,
				fmt.Sprintf(`{"id":%d,"email":"user%d@example.org"}`, id, id)},
			{at, "GET", "shop.example.test", "/v1/legacy", nil, 200, `{"ok":true}`},
		}
		if i%3 == 0 {
			rs = append(rs, request{at, "POST", "shop.example.test", "/v1/orders", nil, 201, fmt.Sprintf(`{"order":%d}`, i)})
		}
		if i >= 120 { // appears in the second hour
			rs = append(rs, request{at, "GET", "shop.example.test", fmt.Sprintf("/v1/users/%d/orders?limit=%d", id, i%9), nil, 200, `[]`})
		}
		if i%4 == 0 {
			rs = append(rs, request{at, "GET", "evil.example.test", "/x/" + xssAttr + "?q" + xssScript + "=1",
				[]string{"X-" + "Evil", xssAttr}, 200, `{"` + xssAttr + `":"` + xssScript + `"}`})
		}
		for _, r := range rs {
			xs = append(xs, r.exchange())
		}
	}
	return xs
}

const shopSpec = `openapi: 3.0.3
info: {title: shop, version: "1"}
servers: [{url: "http://shop.example.test"}]
paths:
  /v1/users/{id}:
    get:
      operationId: getUser
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: object, required: [id], properties: {id: {type: integer}}, additionalProperties: false}
  /v1/legacy:
    get:
      operationId: legacy
      deprecated: true
      responses: {"200": {description: ok}}
  /v1/orders:
    post:
      operationId: createOrder
      responses: {"201": {description: created}}
    get:
      operationId: listOrders
      responses: {"200": {description: ok}}
`

// shopDB analyzes shopTraffic into a database with the findings of
// shopSpec and returns it with the specs.
func shopDB(t testing.TB) (*store.DB, []*diff.Spec) {
	t.Helper()
	dir := t.TempDir()
	specFile := filepath.Join(dir, "shop.yaml")
	if err := os.WriteFile(specFile, []byte(shopSpec), 0o600); err != nil {
		t.Fatal(err)
	}
	specs, err := diff.LoadSpecs(specFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		s.File = "shop.yaml" // the same in every run, for the golden file
	}
	return ingestDB(t, filepath.Join(dir, "shop.db"), specs, shopTraffic()), specs
}

// ingestDB runs xs into a new database at path as one run, with the
// findings of specs.
func ingestDB(t testing.TB, path string, specs []*diff.Spec, xs []*reassembly.Exchange) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	in, err := db.BeginRun(ctx, store.RunInfo{Inputs: []string{"synthetic"}, Version: "test"}, store.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	chk := diff.NewChecker(specs, diff.Options{})
	for _, x := range xs {
		in.Observe(x)
		chk.Check(x)
	}
	in.SetFindings(chk.Findings())
	if err := in.Finish(ctx, store.RunTotals{Complete: true}); err != nil {
		t.Fatal(err)
	}
	return db
}

// loadWithSpecs is what specter report --spec reads.
func loadWithSpecs(t testing.TB, db *store.DB, specs []*diff.Spec) Input {
	t.Helper()
	in, err := LoadAll(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	in.Findings = SpecFindings(in, specs)
	return in
}

package infer

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/specter-dev/specter/infer/template"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/message"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// ex builds an exchange. hdr is "Name: value" lines separated by "\n".
func ex(i int, method, host, target, hdr, reqBody string, status int, respCT, respBody string) *reassembly.Exchange {
	path, rawq, _ := strings.Cut(target, "?")
	h := http.Header{}
	for _, l := range strings.Split(hdr, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	start := t0.Add(time.Duration(i) * time.Second)
	x := &reassembly.Exchange{
		Flow: reassembly.Flow{
			Client: netip.MustParseAddrPort("10.0.0.1:40000"),
			Server: netip.MustParseAddrPort("10.0.0.2:8080"),
		},
		Request: &message.Request{
			Method: method, Target: target, Path: path, RawQuery: rawq, Proto: "HTTP/1.1",
			Authority: host, Header: h, Body: message.NewBody([]byte(reqBody), 0), WireSize: int64(len(reqBody)),
			Start: start, End: start,
		},
	}
	if status > 0 {
		rh := http.Header{}
		if respCT != "" {
			rh.Set("Content-Type", respCT)
		}
		x.Response = &message.Response{
			Proto: "HTTP/1.1", StatusCode: status, Header: rh, Body: message.NewBody([]byte(respBody), 0),
			WireSize: int64(len(respBody)), Start: start.Add(time.Duration(5+i%7) * time.Millisecond),
			End: start.Add(time.Duration(10+i%13) * time.Millisecond),
		}
	}
	return x
}

// shopTraffic is a small synthetic API: users with integer ids and /me,
// orders with uuids, JSON bodies, a query parameter, bearer auth and an
// unauthenticated endpoint.
func shopTraffic() []*reassembly.Exchange {
	var xs []*reassembly.Exchange
	auth := "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJzaG9wIn0.c2lnbmF0dXJl\nAccept: application/json\nX-Tenant: acme"
	for i := range 12 {
		id := fmt.Sprint(100 + i*37)
		xs = append(xs, ex(i, "GET", "shop.test:80", "/api/v1/users/"+id+"?fields=name", auth, "", 200,
			"application/json", `{"id":`+id+`,"name":"user`+id+`","email":"u`+id+`@example.com","tags":["a"],"manager":null}`))
	}
	for i := range 3 {
		xs = append(xs, ex(20+i, "GET", "shop.test", "/api/v1/users/me", auth, "", 200,
			"application/json", `{"id":1,"name":"me","email":"me@example.com"}`))
	}
	uuids := []string{"0b0e1c6a-6d3e-4c7b-9b1f-2f3a4b5c6d7e", "1c1f2d7b-7e4f-4d8c-8c2a-3a4b5c6d7e8f", "2d2a3e8c-8f5a-4e9d-9d3b-4b5c6d7e8f9a"}
	for i, u := range uuids {
		xs = append(xs, ex(30+i, "POST", "shop.test", "/api/v1/orders/"+u+"/items", auth+"\nContent-Type: application/json",
			`{"sku":"A-`+fmt.Sprint(i)+`","qty":`+fmt.Sprint(i+1)+`}`, 201, "application/json", `{"ok":true}`))
		xs = append(xs, ex(40+i, "GET", "shop.test", "/api/v1/orders/"+u, auth, "", 200, "application/json",
			`{"id":"`+u+`","total":12.5,"status":"open"}`))
	}
	xs = append(xs, ex(50, "GET", "shop.test", "/api/v1/orders/"+uuids[0], auth, "", 404, "application/json", `{"error":"not found"}`))
	for i := range 4 {
		xs = append(xs, ex(60+i, "GET", "shop.test", "/status", "Accept: */*", "", 200, "text/plain", "ok"))
	}
	return xs
}

func observeAll(m *Model, xs []*reassembly.Exchange) {
	for _, x := range xs {
		m.Observe(x)
	}
}

func render(t *testing.T, doc *openapi3.T, format string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, doc, format); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n%s", name, got)
	}
}

func TestExportGolden(t *testing.T) {
	for _, tc := range []struct {
		file    string
		opts    ExportOptions
		format  string
		service string
	}{
		{"shop-3.0.yaml", ExportOptions{Version: "3.0"}, "yaml", "shop.test"},
		{"shop-3.1.yaml", ExportOptions{Version: "3.1", Examples: true}, "yaml", "shop.test"},
		{"shop-3.0.json", ExportOptions{}, "json", "shop.test"},
		{"all-3.0.yaml", ExportOptions{}, "yaml", ""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			m := NewModel(Config{})
			observeAll(m, shopTraffic())
			m.Observe(ex(70, "GET", "other.test:8443", "/v2/things/thg_9fKq2LmZx81", "", "", 200, "application/json", `[{"a":1}]`))
			var doc *openapi3.T
			var err error
			if tc.service == "" {
				doc, err = m.OpenAPIAll(tc.opts)
			} else {
				doc, err = m.OpenAPI(tc.service, tc.opts)
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := doc.Validate(context.Background()); err != nil {
				t.Fatalf("invalid document: %v", err)
			}
			got := render(t, doc, tc.format)
			if again := render(t, doc, tc.format); !bytes.Equal(got, again) {
				t.Fatal("marshalling twice gave different bytes")
			}
			// The written document loads back and validates.
			back, err := openapi3.NewLoader().LoadFromData(got)
			if err != nil {
				t.Fatalf("reload: %v", err)
			}
			if err := back.Validate(context.Background()); err != nil {
				t.Fatalf("reloaded document invalid: %v", err)
			}
			golden(t, tc.file, got)
		})
	}
}

func TestExportContent(t *testing.T) {
	m := NewModel(Config{})
	observeAll(m, shopTraffic())
	doc, err := m.OpenAPI("shop.test", ExportOptions{Version: "3.1"})
	if err != nil {
		t.Fatal(err)
	}
	user := doc.Paths.Value("/api/v1/users/{userId}")
	if user == nil || user.Get == nil {
		t.Fatalf("no /api/v1/users/{userId}: %v", doc.Paths.InMatchingOrder())
	}
	if doc.Paths.Value("/api/v1/users/me") == nil {
		t.Error("/api/v1/users/me was swallowed by the parameter")
	}
	get := user.Get
	p := get.Parameters.GetByInAndName("path", "userId")
	if p == nil || !p.Schema.Value.Type.Is("integer") {
		t.Errorf("userId parameter: %+v", p)
	}
	if q := get.Parameters.GetByInAndName("query", "fields"); q == nil || !q.Required {
		t.Errorf("fields query parameter missing or not required: %+v", q)
	}
	if h := get.Parameters.GetByInAndName("header", "X-Tenant"); h == nil {
		t.Error("X-Tenant header parameter missing")
	}
	if h := get.Parameters.GetByInAndName("header", "Accept"); h != nil {
		t.Error("standard header Accept exported as a parameter")
	}
	if get.Security == nil || len(*get.Security) != 1 || (*get.Security)[0]["bearerAuth"] == nil {
		t.Errorf("security: %+v", get.Security)
	}
	if _, ok := doc.Components.SecuritySchemes["bearerAuth"]; !ok {
		t.Error("bearerAuth scheme missing")
	}
	if got := get.Extensions[ExtCount]; got != uint64(12) {
		t.Errorf("count = %v, want 12", got)
	}
	body := get.Responses.Status(200).Value.Content.Get("application/json").Schema.Value
	if body.Properties["email"] == nil || body.Properties["manager"] == nil {
		t.Fatalf("response properties: %v", body.Properties)
	}
	if tp := body.Properties["manager"].Value.Type; tp == nil || !tp.Includes("null") {
		t.Errorf("3.1 null-only property type = %v", tp)
	}
	status := doc.Paths.Value("/status").Get
	if status.Extensions[ExtUnauthenticated2xx] != true {
		t.Error("unauthenticated 2xx not marked on /status")
	}
	order := doc.Paths.Value("/api/v1/orders/{orderId}")
	if order == nil {
		t.Fatalf("orders: %v", doc.Paths.InMatchingOrder())
	}
	if f := order.Get.Parameters.GetByInAndName("path", "orderId").Schema.Value.Format; f != "uuid" {
		t.Errorf("orderId format = %q", f)
	}
	if order.Get.Responses.Status(404) == nil {
		t.Error("404 response missing")
	}
	var sens []string
	for _, ep := range m.Endpoints() {
		if ep.Template == "/api/v1/users/{userId}" {
			sens = ep.Sensitive
			if ep.Latency.P50 <= 0 || ep.Latency.P99 < ep.Latency.P50 {
				t.Errorf("latency %+v", ep.Latency)
			}
		}
	}
	if !strings.Contains(strings.Join(sens, ","), "email") {
		t.Errorf("sensitive tags of users = %v, want email", sens)
	}
}

// TestMergeEquivalence: observing A then B equals merging a model of A
// and a model of B, also after a JSON round trip of the parts.
func TestMergeEquivalence(t *testing.T) {
	xs := shopTraffic()
	whole := NewModel(Config{})
	observeAll(whole, xs)

	merged, a := mergedHalves(t, Config{}, xs[:len(xs)/2], xs[len(xs)/2:])

	for _, opts := range []ExportOptions{{}, {Version: "3.1"}} {
		d1, err := whole.OpenAPIAll(opts)
		if err != nil {
			t.Fatal(err)
		}
		d2, err := merged.OpenAPIAll(opts)
		if err != nil {
			t.Fatal(err)
		}
		y1, y2 := render(t, d1, "yaml"), render(t, d2, "yaml")
		if !bytes.Equal(y1, y2) {
			t.Errorf("merged model exports differently from the whole:\n--- whole\n%s\n--- merged\n%s", y1, y2)
		}
	}
	// Merging leaves the source untouched and shares nothing with it.
	before, _ := json.Marshal(a)
	merged.Observe(xs[0])
	after, _ := json.Marshal(a)
	if !bytes.Equal(before, after) {
		t.Error("observing into the merged model changed a source model")
	}
}

// mergedHalves observes xa and xb into two models, round-trips the second
// through JSON (the state is plain data, as the store keeps it) and
// merges both, A then B, into a new model. It returns the merged model
// and the model of A.
func mergedHalves(t *testing.T, cfg Config, xa, xb []*reassembly.Exchange) (merged, a *Model) {
	t.Helper()
	a, b := NewModel(cfg), NewModel(cfg)
	observeAll(a, xa)
	observeAll(b, xb)
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	b2 := NewModel(cfg)
	if err := json.Unmarshal(raw, b2); err != nil {
		t.Fatal(err)
	}
	merged = NewModel(cfg)
	merged.Merge(a)
	merged.Merge(b2)
	return merged, a
}

func TestServiceName(t *testing.T) {
	srv := netip.MustParseAddrPort("192.0.2.7:8080")
	for _, tc := range []struct{ host, want string }{
		{"api.example.com", "api.example.com"},
		{"API.Example.com:80", "api.example.com"},
		{"api.example.com:443", "api.example.com"},
		{"api.example.com.", "api.example.com"},
		{"api.example.com:8443", "api.example.com:8443"},
		{"", "192.0.2.7:8080"},
		{"bad host/name", "192.0.2.7:8080"},
		{"[2001:db8::1]:80", "[2001:db8::1]"},
	} {
		x := &reassembly.Exchange{Flow: reassembly.Flow{Server: srv}, Request: &message.Request{Authority: tc.host}}
		if got := ServiceName(x); got != tc.want {
			t.Errorf("ServiceName(%q) = %q, want %q", tc.host, got, tc.want)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	cfg, err := LoadConfig(filepath.Join("testdata", "example-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Limits.MaxServices != 256 || cfg.Limits.Trie.MaxChildren != 128 {
		t.Errorf("limits: %+v", cfg.Limits)
	}
	for _, tc := range []struct {
		host, path string
		ignored    bool
	}{
		{"db.internal", "/x", true},
		{"api.example.com", "/health", true},
		{"api.example.com", "/static/css/site.css", true},
		{"api.example.com", "/v1/ping", true},
		{"api.example.com", "/v1/users", false},
		{"api.example.com", "/healthz", false},
	} {
		if got := cfg.ignoredHost(tc.host) || cfg.ignoredPath(tc.path); got != tc.ignored {
			t.Errorf("ignored(%s %s) = %v, want %v", tc.host, tc.path, got, tc.ignored)
		}
	}
	tpl, static := cfg.serviceOptions("api.example.com")
	if len(tpl) != 2 || strings.Join(static, ",") != "me,self,current,latest" {
		t.Errorf("service options: %v %v", tpl, static)
	}
	if _, err := ParseConfig([]byte("limits: {max_servces: 3}\n"), "typo.yaml"); err == nil {
		t.Error("unknown key accepted")
	}
	if _, err := ParseConfig([]byte("ignore: {hosts: ['[']}\n"), "bad.yaml"); err == nil {
		t.Error("bad glob accepted")
	}
	if _, err := ParseConfig(nil, "empty.yaml"); err != nil {
		t.Errorf("empty config: %v", err)
	}

	// Config drives a model: ignored traffic is counted, forced templates win.
	m := NewModel(cfg)
	m.Observe(ex(1, "GET", "api.example.com", "/health", "", "", 200, "", ""))
	m.Observe(ex(2, "GET", "api.example.com", "/users/alice", "", "", 200, "", ""))
	if m.Stats.Ignored != 1 {
		t.Errorf("ignored = %d", m.Stats.Ignored)
	}
	eps := m.Endpoints()
	if len(eps) != 1 || eps[0].Template != "/users/{userId}" || !eps[0].FromSpec {
		t.Errorf("endpoints: %+v", eps)
	}
}

func TestSetPrior(t *testing.T) {
	spec := &openapi3.T{OpenAPI: "3.0.3", Servers: openapi3.Servers{{URL: "https://shop.test/api/v1"}}, Paths: openapi3.NewPaths()}
	spec.Paths.Set("/users/{id}", &openapi3.PathItem{})
	m := NewModel(Config{})
	m.SetPrior(spec, "shop.test")
	observeAll(m, shopTraffic())
	var got []string
	for _, e := range m.Endpoints() {
		got = append(got, e.Method+" "+e.Template)
	}
	want := "GET /api/v1/orders/{orderId} POST /api/v1/orders/{orderId}/items GET /api/v1/users/{id} GET /status"
	if strings.Join(got, " ") != want {
		t.Errorf("endpoints with prior:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestLimits(t *testing.T) {
	cfg := Config{}
	cfg.Limits.MaxServices = 2
	cfg.Limits.MaxOpsPerService = 3
	m := NewModel(cfg)
	for i := range 5 {
		m.Observe(ex(i, "GET", fmt.Sprintf("h%d.test", i), "/", "", "", 200, "", ""))
	}
	if len(m.Services()) != 2 || m.Stats.DroppedServices != 3 {
		t.Errorf("services %v, dropped %d", m.Services(), m.Stats.DroppedServices)
	}
	for i := range 5 {
		m.Observe(ex(i, "GET", "h0.test", fmt.Sprintf("/p%d", i), "", "", 200, "", ""))
	}
	if m.Stats.DroppedOps != 3 {
		t.Errorf("dropped ops = %d, want 3", m.Stats.DroppedOps)
	}
	m.Observe(&reassembly.Exchange{})
	if m.Stats.NoRequest != 1 {
		t.Errorf("no-request = %d", m.Stats.NoRequest)
	}
}

func TestHistogram(t *testing.T) {
	var h Histogram
	for i := 1; i <= 100; i++ {
		h.add(time.Duration(i) * time.Millisecond)
	}
	for _, tc := range []struct{ q, lo, hi float64 }{{.5, 40, 60}, {.9, 80, 105}, {.99, 90, 115}} {
		if got := h.Quantile(tc.q); got < tc.lo || got > tc.hi {
			t.Errorf("q%.2f = %.1f ms, want within [%v, %v]", tc.q, got, tc.lo, tc.hi)
		}
	}
	var empty Histogram
	if empty.Quantile(.5) != 0 {
		t.Error("empty histogram quantile not 0")
	}
}

func TestHostGroups(t *testing.T) {
	m := NewModel(Config{})
	i := 0
	for _, h := range []string{"tenant-42.api.example.com", "tenant-7.api.example.com", "tenant-1001.api.example.com", "api.example.com", "www.example.com", "docs.example.com"} {
		for _, p := range []string{"/v1/items/17", "/v1/items/29"} {
			m.Observe(ex(i, "GET", h, p, "", "", 200, "application/json", `{"id":1}`))
			i++
		}
	}
	gs := m.HostGroups()
	if len(gs) != 1 || gs[0].Pattern != "{tenant}.api.example.com" || len(gs[0].Hosts) != 3 {
		t.Fatalf("groups: %+v", gs)
	}
	doc, err := m.OpenAPIAll(ExportOptions{ConsolidateHosts: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, s := range doc.Servers {
		urls = append(urls, s.URL)
	}
	want := "http://{tenant}.api.example.com http://api.example.com http://docs.example.com http://www.example.com"
	if strings.Join(urls, " ") != want {
		t.Errorf("servers %v, want %s", urls, want)
	}
	get := doc.Paths.Value("/v1/items/{itemId}").Get
	if get.Extensions[ExtCount] != uint64(2*3) {
		t.Errorf("count = %v, want 6: the three consolidated hosts", get.Extensions[ExtCount])
	}
	if d, err := m.OpenAPI("{tenant}.api.example.com", ExportOptions{}); err != nil || d.Paths.Value("/v1/items/{itemId}") == nil {
		t.Errorf("group export: %v", err)
	}
	if _, err := m.OpenAPI("API.example.com:80", ExportOptions{}); err != nil {
		t.Errorf("host with default port: %v", err)
	}
	if _, err := m.OpenAPI("nope.example.com", ExportOptions{}); err == nil {
		t.Error("unknown service exported")
	}
	// Without consolidation every host is its own server.
	doc, _ = m.OpenAPIAll(ExportOptions{})
	if len(doc.Servers) != 6 {
		t.Errorf("%d servers without consolidation", len(doc.Servers))
	}
}

func TestProcesses(t *testing.T) {
	withProc := func(i int, target, comm string, pid uint32) *reassembly.Exchange {
		x := ex(i, "GET", "svc.test", target, "", "", 200, "", "")
		if comm != "" {
			x.Process = &reassembly.Process{PID: pid, Comm: comm}
		}
		return x
	}
	cfg := Config{}
	cfg.Limits.MaxProcesses = 2
	tests := []struct {
		name string
		xs   []*reassembly.Exchange
		want []ProcessSummary
	}{
		{"wire traffic has none", []*reassembly.Exchange{withProc(0, "/a", "", 0)}, nil},
		{"one process, pids kept once", []*reassembly.Exchange{
			withProc(0, "/a", "nginx", 10), withProc(1, "/a", "nginx", 11), withProc(2, "/a", "nginx", 10),
		}, []ProcessSummary{{Comm: "nginx", PIDs: []uint32{10, 11}, Count: 3}}},
		{"past the limit counted as other", []*reassembly.Exchange{
			withProc(0, "/a", "a", 1), withProc(1, "/a", "b", 2), withProc(2, "/a", "c", 3), withProc(3, "/a", "d", 4),
		}, []ProcessSummary{{Comm: "a", PIDs: []uint32{1}, Count: 1}, {Comm: "b", PIDs: []uint32{2}, Count: 1}, {Comm: "other", Count: 2}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			whole := NewModel(cfg)
			observeAll(whole, tc.xs)
			eps := whole.Endpoints()
			if len(eps) != 1 {
				t.Fatalf("endpoints = %+v", eps)
			}
			got, _ := json.Marshal(eps[0].Processes)
			want, _ := json.Marshal(tc.want)
			if !bytes.Equal(got, want) {
				t.Errorf("processes = %s, want %s", got, want)
			}
			// Merged halves (through JSON, as the store keeps them) agree.
			merged, _ := mergedHalves(t, cfg, tc.xs[:len(tc.xs)/2], tc.xs[len(tc.xs)/2:])
			if got2, _ := json.Marshal(merged.Endpoints()[0].Processes); !bytes.Equal(got2, want) {
				t.Errorf("merged processes = %s, want %s", got2, want)
			}
			doc, err := whole.OpenAPIAll(ExportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			_, has := doc.Paths.Find("/a").Get.Extensions[ExtProcesses]
			if has != (tc.want != nil) {
				t.Errorf("%s present = %v, want %v", ExtProcesses, has, tc.want != nil)
			}
		})
	}
}

// TestModelCaches: the cached service names, media types and sampler keys
// are what the uncached functions give, past the caches' bounds too.
func TestModelCaches(t *testing.T) {
	m := NewModel(Config{})
	srv := netip.MustParseAddrPort("10.0.0.2:8080")
	hosts := []string{"", "API.test:80", "bad host", strings.Repeat("h", 300), "a.test."}
	for i := range maxCached + 20 {
		hosts = append(hosts, fmt.Sprintf("h%d.test", i))
	}
	for round := range 2 {
		for _, h := range hosts {
			x := &reassembly.Exchange{Flow: reassembly.Flow{Server: srv}, Request: &message.Request{Authority: h}}
			if got, want := m.serviceName(x), ServiceName(x); got != want {
				t.Fatalf("round %d: host %q: %q, want %q", round, h, got, want)
			}
		}
	}
	cts := []string{"", "Application/JSON; charset=utf-8", "multipart/form-data; boundary=xyz", "bad/;;", strings.Repeat("x", 300) + "/y"}
	for i := range maxCached + 20 {
		cts = append(cts, fmt.Sprintf("application/x-%d", i))
	}
	for round := range 2 {
		for _, ct := range cts {
			mt, params := m.parseMediaType(ct, []byte(`{}`))
			wmt, wparams := NewModel(Config{}).parseMediaType(ct, []byte(`{}`))
			if mt != wmt || fmt.Sprint(params) != fmt.Sprint(wparams) {
				t.Fatalf("round %d: %q: %q %v, want %q %v", round, ct, mt, params, wmt, wparams)
			}
		}
	}
	segs := template.SplitPath("/api/items/123")
	if a, b := m.sampleKey("GET", segs), NewModel(Config{}).sampleKey("GET", segs); a != b || a != m.sampleKey("GET", segs) {
		t.Errorf("sample keys %q %q", a, b)
	}
}

// TestModelExplain: Model.Explain reports the template the inventory
// gives a path, with the configured static values applied, and nothing
// for a path never seen.
func TestModelExplain(t *testing.T) {
	m := NewModel(Config{})
	observeAll(m, shopTraffic())
	eps := m.Endpoints()
	if len(eps) == 0 {
		t.Fatal("no endpoints")
	}
	for _, e := range eps {
		if strings.Contains(e.Template, "{") {
			continue
		}
		got := m.Explain(e.Service, e.Template)
		if len(got) != 1 || got[0].Template != e.Template || !slices.Contains(got[0].Methods, e.Method) {
			t.Errorf("Explain(%s) = %+v, want template %s with %s", e.Template, got, e.Template, e.Method)
		}
	}
	got := m.Explain("", "/api/v1/users/137")
	if len(got) != 1 || got[0].Template != "/api/v1/users/{userId}" || !got[0].Segments[3].Param || got[0].Segments[2].Param {
		t.Errorf("Explain(/api/v1/users/137) = %+v", got)
	}
	if got := m.Explain("", "/never/seen/path"); len(got) != 0 {
		t.Errorf("unseen path explained: %+v", got)
	}
}

// TestConfigErrors: a bad config names the line and the key in the terms
// of the file, never a Go type.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"map for list", "services:\n  host: api.example.com\n", []string{"line 2", `"services"`, "must be a list", "not a mapping"}},
		{"string for list", "services:\n  - host: api\n    templates: /x\n", []string{"line 3", `"services[0].templates"`, "a list of strings", `not a string ("/x")`}},
		{"typo top", "servces:\n  - host: a\n", []string{"line 1", `unknown key "servces"`}},
		{"typo nested", "limits:\n  trie:\n    max_nodez: 3\n", []string{"line 3", `unknown key "limits.trie.max_nodez"`}},
		{"word for integer", "limits:\n  max_services: lots\n", []string{"line 2", `"limits.max_services"`, "an integer", `"lots"`}},
		{"list for mapping", "ignore: [a, b]\n", []string{"line 1", `"ignore"`, "must be a mapping", "not a list"}},
		{"two errors", "limits:\n  max_params: x\nstatic: 3\n", []string{"line 2", "line 3", `"static"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.src), "c.yaml")
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			for _, w := range append(tc.want, "c.yaml") {
				if !strings.Contains(msg, w) {
					t.Errorf("%q does not say %q", msg, w)
				}
			}
			for _, bad := range []string{"infer.", "interface {}", "map[", "[]string", "!!"} {
				if strings.Contains(msg, bad) {
					t.Errorf("%q speaks Go/YAML internals (%q)", msg, bad)
				}
			}
		})
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("services:\n  host: a\n"))
	f.Add([]byte("limits: {max_services: x, trie: [1]}\nstatic: {a: b}\n"))
	f.Add([]byte("ignore:\n  hosts: ['[']\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseConfig(b, "fuzz.yaml")
	})
}

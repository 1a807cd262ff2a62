package infer

import (
	"bytes"
	"strings"
	"testing"
)

func TestStaticAsset(t *testing.T) {
	for _, tc := range []struct {
		method, template string
		types            []string // media types of the bodies seen
		want             bool
	}{
		{"GET", "/dist/app.js", []string{"application/javascript"}, true},
		{"GET", "/dist/app.css", []string{"text/css"}, true},
		{"GET", "/dist/icons-4CTG3PFR.woff2", []string{"font/woff2"}, true},
		{"GET", "/favicon.ico", []string{"image/x-icon"}, true},
		{"GET", "/mailpit.svg", []string{"image/svg+xml"}, true},
		{"GET", "/static/{file}.png", []string{"image/png"}, true},
		{"GET", "/dist/app.js.map", []string{"application/json"}, true},
		{"HEAD", "/dist/app.js", []string{"text/javascript"}, true},
		// API, not a page's files.
		{"GET", "/api/v1/message/{id}/part/{partId}/thumb", []string{"image/png"}, false}, // an image endpoint
		{"GET", "/users/{id}/avatar", []string{"image/jpeg"}, false},
		{"GET", "/", []string{"text/html"}, false},               // HTML is never an asset
		{"GET", "/view/{id}.html", []string{"text/html"}, false}, // an API may render HTML
		{"GET", "/api/config.json", []string{"application/json"}, false},
		{"GET", "/dist/app.js", []string{"application/javascript", "application/json"}, false}, // one body that is not
		{"POST", "/dist/app.js", []string{"application/javascript"}, false},
		{"GET", "/dist/app.js", nil, false}, // no body seen: no evidence
	} {
		op := &Operation{Method: tc.method, Responses: map[string]*Response{}}
		for i, mt := range tc.types {
			code := []string{"200", "304", "404"}[i%3]
			if op.Responses[code] == nil {
				op.Responses[code] = &Response{Bodies: map[string]*Body{}}
			}
			op.Responses[code].Bodies[mt] = &Body{Count: 1}
		}
		if got := StaticAsset(tc.method, tc.template, op); got != tc.want {
			t.Errorf("StaticAsset(%s %s, %v) = %v, want %v", tc.method, tc.template, tc.types, got, tc.want)
		}
	}
}

// TestStaticAssetsInventory: a web UI's files beside its API are listed,
// flagged static, and left out of the exported document unless asked for.
func TestStaticAssetsInventory(t *testing.T) {
	m := NewModel(Config{})
	i := 0
	add := func(method, target string, status int, ct, body string) {
		m.Observe(ex(i, method, "ui.example.test", target, "", "", status, ct, body))
		i++
	}
	for n := 0; n < 3; n++ {
		add("GET", "/", 200, "text/html", "<html><body>app</body></html>")
		add("GET", "/dist/app.js", 200, "application/javascript", "console.log(1)")
		add("GET", "/dist/app.css", 200, "text/css", "body{margin:0}")
		add("GET", "/api/v1/messages", 200, "application/json", `{"total":3}`)
	}
	static := map[string]bool{}
	for _, e := range m.Endpoints() {
		static[e.Template] = e.Static
	}
	want := map[string]bool{"/": false, "/dist/app.js": true, "/dist/app.css": true, "/api/v1/messages": false}
	for tmpl, s := range want {
		if got, ok := static[tmpl]; !ok || got != s {
			t.Errorf("%s: listed %v, static %v; want listed, static %v", tmpl, ok, got, s)
		}
	}
	for _, inc := range []bool{false, true} {
		doc, err := m.OpenAPIAll(ExportOptions{IncludeStatic: inc})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := Write(&buf, doc, "yaml"); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if !strings.Contains(out, "/api/v1/messages:") || !strings.Contains(out, "\n  /:") {
			t.Errorf("IncludeStatic %v: the API or the page is missing:\n%s", inc, out)
		}
		if got := strings.Contains(out, "/dist/app.js:"); got != inc {
			t.Errorf("IncludeStatic %v: /dist/app.js exported %v", inc, got)
		}
	}
}

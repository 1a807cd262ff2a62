package diff

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/message"
)

// FuzzLoadSpec feeds arbitrary documents to the spec loader: errors are
// fine, panics are not.
func FuzzLoadSpec(f *testing.F) {
	for _, name := range []string{"pets.yaml", "store.swagger2.yaml", "users.oas31.json", "broken.yaml.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("swagger: '2.0'\npaths: {/a: {get: {responses: {'200': {description: x}}}}}\n"))
	f.Add([]byte("swagger: '2.0'\nhost: h\npaths:\n  /a:\n    get:\n      responses:\n        200: {description: x}\n        1.5: {description: y}\n        true: {description: z}\n"))
	f.Add([]byte("openapi: 3.0.3\npaths:\n  /a:\n    get:\n      servers: [{url: 'http://o.test'}]\n      responses: {'200': {description: x}}\n"))
	f.Add([]byte(`{"openapi":"3.0.0","servers":[{"url":"http://{h}/{b}","variables":{"h":{"default":"x"},"b":{"default":"v","enum":["v","w"]}}}],"paths":{"/{a}{b}/c":{}}}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		// One file per input: fuzz workers are processes sharing dir.
		tmp, err := os.CreateTemp(dir, "spec*.yaml")
		if err != nil {
			t.Fatal(err)
		}
		p := tmp.Name()
		defer os.Remove(p)
		_, werr := tmp.Write(data)
		if cerr := tmp.Close(); werr != nil || cerr != nil {
			t.Fatal(werr, cerr)
		}
		s, err := LoadSpec(p)
		if err != nil {
			return
		}
		c := NewChecker(s.Split(), Options{})
		c.Check(&reassembly.Exchange{Request: &message.Request{Method: "GET", Path: "/a/b", Authority: "x"}, Response: &message.Response{StatusCode: 200}})
		_ = c.Report()
	})
}

// FuzzCheck checks arbitrary requests and responses against the pets spec.
func FuzzCheck(f *testing.F) {
	pets := mustSpec(f, "pets.yaml")
	f.Add("GET", "/api/v3/pets", "limit=10", "", 200, "application/json", `[{"id":1,"name":"a"}]`)
	f.Add("POST", "/api/v3/pets", "", `{"name":"x"}`, 201, "", "")
	f.Add("GET", "/api/v3/pets/search", "q=%zz", "", 200, "text/html", "<")
	f.Add("DELETE", "/api/v3/pets/1", "a&b=&=c", `{`, 204, "", "")
	f.Add("PUT", "/api/v3/pets/mine/photos/x.jpg", "", `[1,2,{"a":[]}]`, 500, "application/json", `{"id":"x"}`)
	f.Fuzz(func(t *testing.T, method, path, query, body string, status int, ctype, rbody string) {
		// The response's content type doubles as a wire anomaly name.
		c := NewChecker([]*Spec{pets}, Options{Anomalies: func(*reassembly.Exchange) []string { return []string{ctype} }})
		h := http.Header{"Content-Type": {"application/json"}}
		for i := 0; i < 3; i++ {
			c.Check(&reassembly.Exchange{
				Request:  &message.Request{Method: method, Path: path, RawQuery: query, Authority: "pets.test", Header: h, Body: message.NewBody([]byte(body), 0)},
				Response: &message.Response{StatusCode: status, Header: http.Header{"Content-Type": {ctype}}, Body: message.NewBody([]byte(rbody), 0)},
			})
		}
		for _, f := range c.Findings() {
			if f.Fingerprint == "" || f.Kind == "" {
				t.Fatalf("incomplete finding %+v", f)
			}
		}
	})
}

// FuzzJSONShape: arbitrary bytes never panic, and equal structures hash
// equal whatever the values.
func FuzzJSONShape(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":[true,null,"x"],"c":{"d":-1.5e3}}`))
	f.Add([]byte(`"\"`))
	f.Add([]byte(`[[[[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = jsonShape(b)
	})
}

func TestJSONShape(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{`{"a":1,"b":"x"}`, `{"a": 7, "b": "yy"}`, true},
		{`{"a":1,"b":"x"}`, `{"a":1}`, false},
		{`{"a":1}`, `{"a":1.5}`, false},
		{`{"a":1}`, `{"a":"1"}`, false},
		{`{"a":[1,2]}`, `{"a":[3,4]}`, true},
		{`{"a":[1,2]}`, `{"a":[1]}`, false},
		{`{"a":{"b":true}}`, `{"a":{"b":false}}`, true},
		{`{"a":{"b":true}}`, `{"a":{"b":null}}`, false},
		{`{"a":1.5}`, `{"a":null}`, false},
	}
	for _, tt := range tests {
		ha, oka := jsonShape([]byte(tt.a))
		hb, okb := jsonShape([]byte(tt.b))
		if !oka || !okb || (ha == hb) != tt.same {
			t.Errorf("jsonShape(%s) vs (%s): same=%v, want %v", tt.a, tt.b, ha == hb, tt.same)
		}
	}
	for _, bad := range []string{`{"a":1`, `{"a":x}`, `"open`, `}`} {
		if _, ok := jsonShape([]byte(bad)); ok {
			t.Errorf("jsonShape(%s) ok", bad)
		}
	}
}

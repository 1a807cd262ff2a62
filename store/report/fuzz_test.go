package report

import (
	"bytes"
	"testing"
	"time"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/diff"
	"github.com/specter-dev/specter/infer/operations"
	"github.com/specter-dev/specter/store"
)

// FuzzRender puts arbitrary text in every field that comes from traffic
// and checks the page never gains markup, scripts or fetches from it.
func FuzzRender(f *testing.F) {
	f.Add("api.example.test", "GET", "/users/{id}", "email", "no declared spec", int64(0))
	f.Add(xssAttr, xssScript, "/"+xssScript, xssAttr, "</style><script>x()</script>", int64(-1<<62))
	f.Add("</title><svg onload=x()>", "<!--", "/a]]><b>", "javascript:alert(1)", "</textarea>{{.}}", int64(1<<62))
	f.Fuzz(func(t *testing.T, service, method, path, tag, reason string, when int64) {
		at := time.Unix(0, when).UTC()
		in := Input{
			Title: reason,
			Endpoints: []infer.EndpointSummary{{Service: service, Method: method, Template: path, Count: 3,
				FirstSeen: at, LastSeen: at, Statuses: map[int]uint64{200: 3}, Auth: []string{tag}, Sensitive: []string{tag},
				Operations: []operations.Summary{{Protocol: operations.Protocol(tag), Type: method, Name: reason, Count: 1,
					FirstSeen: at, LastSeen: at, Fields: []string{path}, Variables: []string{tag}, Hashes: []string{service}}}}},
			Findings: []diff.Finding{{Kind: diff.Kind(tag), Rule: reason, Service: service, Method: method, Path: path,
				Severity: diff.Severity(tag), Reason: reason, Pointer: path, Fingerprint: reason, Spec: service,
				Example: &diff.Example{Request: method + " " + path, Body: reason}}},
			Traffic: []store.TrafficWindow{{Service: service, Start: at, Exchanges: 1}},
			Model:   infer.NewModel(infer.Config{}), // detail sections, with the operation
		}
		var buf bytes.Buffer
		if err := Render(&buf, Build(in), Options{Version: tag}); err != nil {
			t.Fatal(err)
		}
		for _, p := range pageProblems(t, buf.Bytes()) {
			t.Error(p)
		}
	})
}

package realserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// sent is one request a real client sent, as the client saw it.
type sent struct {
	Method, Path string // Path without the query
	Status       int    // 0 when the request failed before a response
}

// recorder is an http.RoundTripper that records every request it carries,
// so that the ground truth is what the client really sent, independent of
// the capture Specter reads.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	reqs []sent
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	s := sent{Method: req.Method, Path: req.URL.EscapedPath()}
	if err == nil {
		s.Status = resp.StatusCode
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, s)
	r.mu.Unlock()
	return resp, err
}

func (r *recorder) sent() []sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sent(nil), r.reqs...)
}

// specOp is one operation of a published spec.
type specOp struct {
	method, template, id string
	deprecated           bool
	segs                 []string
	params               map[string]pathParam // by name
}

type pathParam struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Format  string `json:"format,omitempty"`
	Segment int    `json:"segment"`
}

// loadSpec reads the paths of an OpenAPI 3 or Swagger 2 document (JSON),
// with base prefixed to every path (the server's base path, such as
// "/api/v1"), and the type and format of each path parameter.
func loadSpec(doc []byte, base string) ([]specOp, error) {
	var d struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	type param struct {
		Name   string `json:"name"`
		In     string `json:"in"`
		Type   string `json:"type"`
		Format string `json:"format"`
		Schema struct {
			Type   string `json:"type"`
			Format string `json:"format"`
		} `json:"schema"`
	}
	var ops []specOp
	for p, item := range d.Paths {
		var shared []param
		if raw, ok := item["parameters"]; ok {
			_ = json.Unmarshal(raw, &shared)
		}
		for m, raw := range item {
			method := strings.ToUpper(m)
			switch method {
			case "GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS":
			default:
				continue
			}
			var op struct {
				ID         string  `json:"operationId"`
				Deprecated bool    `json:"deprecated"`
				Params     []param `json:"parameters"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("spec: %s %s: %w", method, p, err)
			}
			tmpl := base + p
			o := specOp{method: method, template: tmpl, id: op.ID, deprecated: op.Deprecated,
				segs: strings.Split(strings.Trim(tmpl, "/"), "/"), params: map[string]pathParam{}}
			for _, pp := range append(append([]param(nil), shared...), op.Params...) {
				if pp.In != "path" {
					continue
				}
				typ, format := pp.Type, pp.Format
				if typ == "" {
					typ, format = pp.Schema.Type, pp.Schema.Format
				}
				for i, s := range o.segs {
					if s == "{"+pp.Name+"}" {
						o.params[pp.Name] = pathParam{Name: pp.Name, Type: typ, Format: format, Segment: i}
					}
				}
			}
			ops = append(ops, o)
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].template != ops[j].template {
			return ops[i].template < ops[j].template
		}
		return ops[i].method < ops[j].method
	})
	return ops, nil
}

// match returns the operation a request routes to, as routers decide:
// segment by segment from the left, a static segment beats a parameter.
// A parameter matches one non-empty segment; a template whose last
// segment is a parameter named like a file path ("{filepath}") is not
// given more than one segment: requests that need it are left out of the
// truth and counted.
func match(ops []specOp, method, path string) *specOp {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var best *specOp
	var bestKey string
	for i := range ops {
		o := &ops[i]
		if o.method != method || len(o.segs) != len(segs) {
			continue
		}
		var key strings.Builder
		ok := true
		for j, s := range o.segs {
			if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
				if segs[j] == "" {
					ok = false
					break
				}
				key.WriteByte('1')
				continue
			}
			if s != segs[j] {
				ok = false
				break
			}
			key.WriteByte('0')
		}
		if ok && (best == nil || key.String() < bestKey) {
			best, bestKey = o, key.String()
		}
	}
	return best
}

// truthOp is an operation of the scorer's truth.json.
type truthOp struct {
	Host        string                    `json:"host"`
	Method      string                    `json:"method"`
	Template    string                    `json:"template"`
	OperationID string                    `json:"operation_id"`
	Deprecated  bool                      `json:"deprecated"`
	Requests    int                       `json:"requests"`
	Statuses    map[string]int            `json:"statuses"`
	PathParams  []pathParam               `json:"path_params"`
	Responses   map[string]map[string]any `json:"responses"`
	Violations  map[string]int            `json:"violations"`
}

// buildTruth writes truth.json for the requests a client sent to host,
// routed through the server's own spec; it returns how many requests no
// operation of the spec routes (left out of the truth).
func buildTruth(path, host string, ops []specOp, reqs []sent) (unrouted []sent, err error) {
	byKey := map[string]*truthOp{}
	for _, r := range reqs {
		if r.Status == 0 {
			continue
		}
		o := match(ops, r.Method, r.Path)
		if o == nil {
			unrouted = append(unrouted, r)
			continue
		}
		k := o.method + " " + o.template
		t := byKey[k]
		if t == nil {
			t = &truthOp{Host: host, Method: o.method, Template: o.template, OperationID: o.id,
				Deprecated: o.deprecated, Statuses: map[string]int{}, PathParams: []pathParam{},
				Responses: map[string]map[string]any{}, Violations: map[string]int{}}
			for _, p := range o.params {
				t.PathParams = append(t.PathParams, p)
			}
			sort.Slice(t.PathParams, func(i, j int) bool { return t.PathParams[i].Segment < t.PathParams[j].Segment })
			byKey[k] = t
		}
		t.Requests++
		t.Statuses[strconv.Itoa(r.Status)]++
	}
	out := struct {
		Generator  string         `json:"generator"`
		APIs       []any          `json:"apis"`
		Operations []*truthOp     `json:"operations"`
		Violations []any          `json:"violations"`
		Totals     map[string]int `json:"totals"`
	}{Generator: "specter realserver", APIs: []any{map[string]any{"host": host}}, Violations: []any{}}
	for _, t := range byKey {
		out.Operations = append(out.Operations, t)
	}
	sort.Slice(out.Operations, func(i, j int) bool {
		a, b := out.Operations[i], out.Operations[j]
		return a.Template+" "+a.Method < b.Template+" "+b.Method
	})
	out.Totals = map[string]int{"sent": len(reqs), "unrouted": len(unrouted)}
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		return nil, err
	}
	return unrouted, os.WriteFile(path, b, 0o644)
}

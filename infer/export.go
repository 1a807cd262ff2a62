package infer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"

	"github.com/specter-dev/specter/infer/auth"
	"github.com/specter-dev/specter/infer/operations"
	"github.com/specter-dev/specter/infer/schema"
	"github.com/specter-dev/specter/infer/sensitive"
	"github.com/specter-dev/specter/infer/template"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/message"
)

// Extensions written on operations.
const (
	ExtCount              = "x-specter-count"
	ExtFirstSeen          = "x-specter-first-seen"
	ExtLastSeen           = "x-specter-last-seen"
	ExtStatuses           = "x-specter-statuses"
	ExtLatency            = "x-specter-latency-ms"
	ExtUnauthenticated2xx = "x-specter-unauthenticated-2xx"
	ExtSensitive          = "x-specter-sensitive"
	ExtProcesses          = "x-specter-processes"
)

// ExportOptions steer OpenAPI export.
type ExportOptions struct {
	// Version is "3.0" (default) or "3.1". 3.1 writes nullable types as
	// type: [T, "null"].
	Version string
	// Examples adds the stored (redacted) body examples.
	Examples bool
	// ConsolidateHosts exports services whose hosts differ only in a
	// variable-looking first label (tenant-42.api.example.com,
	// tenant-43.api.example.com, ...; at least three, two thirds of them
	// name- or id-shaped) as one service with a server variable
	// (http://{tenant}.api.example.com), in OpenAPIAll. See HostGroups.
	ConsolidateHosts bool
}

// Latency holds latency percentiles in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
}

// EndpointSummary describes one operation of the inventory.
type EndpointSummary struct {
	Service   string         `json:"service"`
	Method    string         `json:"method"`
	Template  string         `json:"template"`
	Count     uint64         `json:"count"`
	FirstSeen time.Time      `json:"first_seen"`
	LastSeen  time.Time      `json:"last_seen"`
	Statuses  map[int]uint64 `json:"statuses"`
	Latency   Latency        `json:"latency_ms"`
	// Auth lists the security scheme names seen (auth.SchemeName).
	Auth []string `json:"auth,omitempty"`
	// Unauthenticated2xx is true when a request with no credential got a
	// 2xx answer.
	Unauthenticated2xx bool `json:"unauthenticated_2xx,omitempty"`
	// Sensitive lists the kinds of sensitive data seen (sensitive.Tag names).
	Sensitive []string `json:"sensitive,omitempty"`
	// FromSpec is true when the template came from a declared spec or a
	// configured template.
	FromSpec bool `json:"from_spec,omitempty"`
	// Processes are the processes on this host that served or sent the
	// operation's exchanges (eBPF capture), by name; empty for traffic
	// captured from a wire.
	Processes []ProcessSummary `json:"processes,omitempty"`
	// Operations are the GraphQL, JSON-RPC and SOAP operations found in
	// the bodies (package operations).
	Operations []operations.Summary `json:"operations,omitempty"`
}

// ProcessSummary is one process name seen on an operation.
type ProcessSummary struct {
	Comm  string   `json:"comm"`
	PIDs  []uint32 `json:"pids,omitempty"`
	Count uint64   `json:"count"`
}

// processSummaries lists an operation's processes by name.
func processSummaries(op *Operation) []ProcessSummary {
	var out []ProcessSummary
	for _, k := range sortedKeys(op.Processes) {
		p := op.Processes[k]
		out = append(out, ProcessSummary{Comm: k, PIDs: slices.Clone(p.PIDs), Count: p.Count})
	}
	return out
}

// endpoint is a decided template with its operations merged per method.
type endpoint struct {
	tmpl template.Endpoint
	ops  map[string]*Operation
}

// templateOptions are the priors and static values that steer a
// service's templates: the configuration's, then the declared ones.
func (m *Model) templateOptions(svc *Service) template.Options {
	priors, static := m.cfg.serviceOptions(svc.Name)
	priors = append(priors, m.Priors[""]...)
	priors = append(priors, m.Priors[svc.Name]...)
	if h := stripPort(svc.Name); h != svc.Name {
		priors = append(priors, m.Priors[h]...)
	}
	return template.Options{Priors: priors, Static: static}
}

// endpoints decides the templates of a service and merges the raw
// operations under each.
func (m *Model) endpoints(svc *Service) []endpoint {
	eps := svc.Trie.Endpoints(m.templateOptions(svc))
	out := make([]endpoint, 0, len(eps))
	for _, e := range eps {
		ep := endpoint{tmpl: e, ops: map[string]*Operation{}}
		for _, meth := range sortedKeys(e.Ops) {
			agg := newOperation(meth)
			for _, id := range e.Ops[meth] {
				if id >= 0 && id < len(svc.Ops) {
					agg.merge(svc.Ops[id], m.limits, m.sopts)
				}
			}
			ep.ops[meth] = agg
		}
		out = append(out, ep)
	}
	return out
}

// Endpoints returns every operation of every service, sorted by service,
// template and method.
func (m *Model) Endpoints() []EndpointSummary {
	var out []EndpointSummary
	for _, name := range m.Services() {
		for _, ep := range m.endpoints(m.ByName[name]) {
			for _, meth := range sortedKeys(ep.ops) {
				op := ep.ops[meth]
				s := EndpointSummary{
					Service: name, Method: meth, Template: ep.tmpl.Path, Count: op.Count,
					FirstSeen: op.FirstSeen, LastSeen: op.LastSeen, Statuses: op.StatusCounts(),
					Latency:            Latency{op.Latency.Quantile(.5), op.Latency.Quantile(.9), op.Latency.Quantile(.99)},
					Auth:               sortedKeys(op.Credentials),
					Unauthenticated2xx: op.Anonymous2xx > 0,
					Sensitive:          m.sensitiveOf(op).Names(),
					FromSpec:           ep.tmpl.Prior,
					Processes:          processSummaries(op),
					Operations:         rpcSummaries(op),
				}
				out = append(out, s)
			}
		}
	}
	return out
}

// sensitiveOf is the union of an operation's own tags and those recorded
// in its body schemas.
func (m *Model) sensitiveOf(op *Operation) sensitive.Tag {
	t := op.Sensitive
	for _, b := range op.Requests {
		t |= schemaTags(b.Schema, 0)
	}
	for _, r := range op.Responses {
		for _, b := range r.Bodies {
			t |= schemaTags(b.Schema, 0)
		}
	}
	for _, p := range op.Query {
		t |= schemaTags(p.Schema, 0)
	}
	return t
}

func schemaTags(n *schema.Node, depth int) sensitive.Tag {
	if n == nil || depth > 64 {
		return 0
	}
	t := n.Sensitive
	for _, c := range n.Props {
		t |= schemaTags(c, depth+1)
	}
	return t | schemaTags(n.Items, depth+1)
}

var methodOrder = []string{"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"}

// OpenAPI exports one service as an OpenAPI document. service is a name
// from Services (a host given with its default port or in upper case is
// found too) or a HostGroup pattern.
func (m *Model) OpenAPI(service string, opts ExportOptions) (*openapi3.T, error) {
	svc := m.ByName[service]
	if svc == nil {
		svc = m.ByName[ServiceName(&reassembly.Exchange{Request: &message.Request{Authority: service}})]
	}
	if svc == nil {
		for _, g := range m.HostGroups() {
			if g.Pattern == service {
				svc = m.mergeServices(g)
			}
		}
	}
	if svc == nil {
		return nil, fmt.Errorf("infer: no service %q", service)
	}
	doc := m.newDoc(opts, "API inferred from traffic to "+service)
	doc.Servers = openapi3.Servers{{URL: serverURL(service)}}
	ids := map[string]bool{}
	for _, ep := range m.endpoints(svc) {
		item := m.pathItem(doc, ep, ids, opts)
		if item != nil {
			doc.Paths.Set(ep.tmpl.Path, item)
		}
	}
	return finish(doc, opts)
}

// OpenAPIAll exports every service in one document: one server per
// service, and on each path the servers of the services it was seen on.
// Where several services share a template and method, the operation
// described is the first service's (consolidated groups first, then by
// name); use OpenAPI for one service's own statistics.
func (m *Model) OpenAPIAll(opts ExportOptions) (*openapi3.T, error) {
	doc := m.newDoc(opts, "API inferred from traffic")
	ids := map[string]bool{}
	type svcView struct {
		svc *Service
		srv func() *openapi3.Server
	}
	var views []svcView
	grouped := map[string]bool{}
	if opts.ConsolidateHosts {
		for _, g := range m.HostGroups() {
			merged := m.mergeServices(g)
			views = append(views, svcView{merged, func() *openapi3.Server { return groupServer(g) }})
			for _, h := range g.Hosts {
				grouped[h] = true
			}
		}
	}
	for _, name := range m.Services() {
		if !grouped[name] {
			views = append(views, svcView{m.ByName[name], func() *openapi3.Server { return &openapi3.Server{URL: serverURL(name)} }})
		}
	}
	for _, v := range views {
		doc.Servers = append(doc.Servers, v.srv())
		for _, ep := range m.endpoints(v.svc) {
			item := m.pathItem(doc, ep, ids, opts)
			if item == nil {
				continue
			}
			srv := v.srv()
			if old := doc.Paths.Value(ep.tmpl.Path); old != nil {
				old.Servers = append(old.Servers, srv)
				for _, meth := range methodOrder {
					if old.GetOperation(meth) == nil && item.GetOperation(meth) != nil {
						old.SetOperation(meth, item.GetOperation(meth))
					}
				}
				continue
			}
			item.Servers = openapi3.Servers{srv}
			doc.Paths.Set(ep.tmpl.Path, item)
		}
	}
	return finish(doc, opts)
}

// HostGroup is a set of services whose hosts differ only in their first
// label, exported as one service with a server variable.
type HostGroup struct {
	// Pattern is the host with the variable: "{tenant}.api.example.com".
	Pattern string `json:"pattern"`
	// Variable names the first label: the common alphabetic prefix of the
	// labels ("tenant-42", "tenant-43" -> "tenant"), else "host".
	Variable string `json:"variable"`
	// Hosts are the services in the group, sorted.
	Hosts []string `json:"hosts"`
}

// HostGroups returns the services that consolidate: at least three hosts
// that share everything after their first label (port included), with at
// least two thirds of those first labels name- or id-shaped (see package
// template's Classify), so that api.example.com and www.example.com never
// merge. Sorted by pattern.
func (m *Model) HostGroups() []HostGroup {
	by := map[string][]string{}
	for _, name := range m.Services() {
		label, rest, ok := strings.Cut(name, ".")
		if !ok || strings.Count(rest, ".") < 1 || label == "" || strings.HasPrefix(name, "[") {
			continue
		}
		if _, err := strconv.Atoi(label); err == nil {
			continue // an IPv4 address
		}
		by[rest] = append(by[rest], name)
	}
	var out []HostGroup
	for _, rest := range sortedKeys(by) {
		hosts := by[rest]
		if len(hosts) < 3 {
			continue
		}
		variable := 0
		var labels []string
		for _, h := range hosts {
			label, _, _ := strings.Cut(h, ".")
			labels = append(labels, label)
			if template.Classify(label).Variable() {
				variable++
			}
		}
		if variable*3 < len(hosts)*2 {
			continue
		}
		v := commonAlphaPrefix(labels)
		if v == "" {
			v = "host"
		}
		out = append(out, HostGroup{Pattern: "{" + v + "}." + rest, Variable: v, Hosts: hosts})
	}
	return out
}

func commonAlphaPrefix(ss []string) string {
	p := ss[0]
	for _, s := range ss[1:] {
		for !strings.HasPrefix(s, p) {
			p = p[:len(p)-1]
		}
	}
	i := 0
	for i < len(p) && (p[i] >= 'a' && p[i] <= 'z') {
		i++
	}
	if i < 2 {
		return ""
	}
	return p[:i]
}

func groupServer(g HostGroup) *openapi3.Server {
	first, _, _ := strings.Cut(g.Hosts[0], ".")
	return &openapi3.Server{
		URL:         serverURL(g.Pattern),
		Description: fmt.Sprintf("%d hosts seen", len(g.Hosts)),
		Variables:   map[string]*openapi3.ServerVariable{g.Variable: {Default: first}},
	}
}

// mergeServices returns a new service holding the union of a group's
// services (the model is not modified).
func (m *Model) mergeServices(g HostGroup) *Service {
	tmp := NewModel(m.cfg)
	tmp.limits = m.limits
	for _, h := range g.Hosts {
		src := &Model{ByName: map[string]*Service{g.Pattern: m.ByName[h]}}
		tmp.Merge(src)
	}
	return tmp.ByName[g.Pattern]
}

func serverURL(service string) string {
	if strings.HasSuffix(service, ":443") {
		return "https://" + strings.TrimSuffix(service, ":443")
	}
	return "http://" + service
}

func (m *Model) newDoc(opts ExportOptions, title string) *openapi3.T {
	v := "3.0.3"
	if opts.Version == "3.1" {
		v = "3.1.0"
	}
	return &openapi3.T{
		OpenAPI:    v,
		Info:       &openapi3.Info{Title: title, Version: "0.0.0-inferred"},
		Paths:      openapi3.NewPaths(),
		Components: &openapi3.Components{SecuritySchemes: openapi3.SecuritySchemes{}},
	}
}

func finish(doc *openapi3.T, opts ExportOptions) (*openapi3.T, error) {
	if len(doc.Components.SecuritySchemes) == 0 {
		doc.Components = nil
	}
	if opts.Version == "3.1" {
		to31(doc)
	} else if opts.Version != "" && opts.Version != "3.0" {
		return nil, fmt.Errorf("infer: unsupported OpenAPI version %q (want 3.0 or 3.1)", opts.Version)
	}
	return doc, nil
}

func (m *Model) pathItem(doc *openapi3.T, ep endpoint, ids map[string]bool, opts ExportOptions) *openapi3.PathItem {
	item := &openapi3.PathItem{}
	n := 0
	for _, meth := range methodOrder {
		op := ep.ops[meth]
		if op == nil {
			continue
		}
		item.SetOperation(meth, m.operation(doc, ep, op, ids, opts))
		n++
	}
	if n == 0 {
		return nil
	}
	return item
}

func (m *Model) operation(doc *openapi3.T, ep endpoint, op *Operation, ids map[string]bool, opts ExportOptions) *openapi3.Operation {
	o := openapi3.NewOperation()
	o.OperationID = operationID(op.Method, ep.tmpl.Path, ids)
	o.Summary = op.Method + " " + ep.tmpl.Path

	var pathParams []template.Param
	for _, s := range ep.tmpl.Segments {
		if s.Param != nil {
			pathParams = append(pathParams, *s.Param)
		}
	}
	if mp := ep.tmpl.MethodParams[op.Method]; len(mp) == len(pathParams) {
		pathParams = mp
	}
	for _, pp := range pathParams {
		sch := &openapi3.Schema{Type: &openapi3.Types{pp.Type}, Format: pp.Format}
		for _, e := range pp.Enum {
			sch.Enum = append(sch.Enum, e)
		}
		o.AddParameter(openapi3.NewPathParameter(pp.Name).WithSchema(sch))
	}
	addParams := func(in string, ps map[string]*Param) {
		for _, k := range sortedKeys(ps) {
			p := ps[k]
			par := &openapi3.Parameter{Name: k, In: in}
			par.Schema = openapi3.NewSchemaRef("", paramSchema(p.Schema, m.sopts))
			if float64(p.Count) >= 0.95*float64(op.Count) && op.Count >= 2 {
				par.Required = true
			}
			o.AddParameter(par)
		}
	}
	addParams(openapi3.ParameterInQuery, op.Query)
	addParams(openapi3.ParameterInHeader, op.Headers)
	addParams(openapi3.ParameterInCookie, op.Cookies)

	if len(op.Requests) > 0 {
		rb := openapi3.NewRequestBody().WithContent(openapi3.Content{})
		for _, mt := range sortedKeys(op.Requests) {
			rb.Content[mt] = m.mediaType(op.Requests[mt], opts)
		}
		rb.Required = true
		o.RequestBody = &openapi3.RequestBodyRef{Value: rb}
	}

	o.Responses = openapi3.NewResponsesWithCapacity(len(op.Responses) + 1)
	for _, code := range sortedKeys(op.Responses) {
		r := op.Responses[code]
		c, _ := strconv.Atoi(code)
		desc := http.StatusText(c)
		if desc == "" {
			desc = "Status " + code
		}
		resp := openapi3.NewResponse().WithDescription(desc)
		if len(r.Bodies) > 0 {
			resp.Content = openapi3.Content{}
			for _, mt := range sortedKeys(r.Bodies) {
				resp.Content[mt] = m.mediaType(r.Bodies[mt], opts)
			}
		}
		key := code
		if c == 0 {
			key = "default"
		}
		o.Responses.Set(key, &openapi3.ResponseRef{Value: resp})
	}
	if len(op.Responses) == 0 {
		o.Responses.Set("default", &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription("No response observed")})
	}

	if len(op.Credentials) > 0 {
		sec := openapi3.NewSecurityRequirements()
		for _, name := range sortedKeys(op.Credentials) {
			if _, ok := doc.Components.SecuritySchemes[name]; !ok {
				doc.Components.SecuritySchemes[name] = &openapi3.SecuritySchemeRef{Value: schemeOf(op.Credentials[name])}
			}
			sec.With(openapi3.NewSecurityRequirement().Authenticate(name))
		}
		if op.Anonymous > 0 {
			sec.With(openapi3.NewSecurityRequirement())
		}
		o.Security = sec
	} else {
		// Served without credentials every time: say so explicitly.
		o.Security = openapi3.NewSecurityRequirements()
	}

	o.Extensions = map[string]any{ExtCount: op.Count}
	if !op.FirstSeen.IsZero() {
		o.Extensions[ExtFirstSeen] = op.FirstSeen.UTC().Format(time.RFC3339Nano)
		o.Extensions[ExtLastSeen] = op.LastSeen.UTC().Format(time.RFC3339Nano)
	}
	if len(op.Processes) > 0 {
		ps := []any{}
		for _, p := range processSummaries(op) {
			ps = append(ps, map[string]any{"comm": p.Comm, "pids": p.PIDs, "count": p.Count})
		}
		o.Extensions[ExtProcesses] = ps
	}
	if len(op.Statuses) > 0 {
		st := map[string]any{}
		for k, v := range op.Statuses {
			st[k] = v
		}
		o.Extensions[ExtStatuses] = st
	}
	if op.Latency.Quantile(1) > 0 {
		o.Extensions[ExtLatency] = map[string]any{
			"p50": op.Latency.Quantile(.5), "p90": op.Latency.Quantile(.9), "p99": op.Latency.Quantile(.99),
		}
	}
	if op.Anonymous2xx > 0 {
		o.Extensions[ExtUnauthenticated2xx] = true
	}
	if t := m.sensitiveOf(op); t != 0 {
		o.Extensions[ExtSensitive] = t.Names()
	}
	m.rpcExtensions(o, op)
	return o
}

func schemeOf(c *Credential) *openapi3.SecurityScheme {
	return auth.SecurityScheme(c.Credential)
}

func paramSchema(n *schema.Node, opts schema.Options) *openapi3.Schema {
	if n == nil || n.Count == 0 {
		return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}}
	}
	return n.Schema(opts)
}

func (m *Model) mediaType(b *Body, opts ExportOptions) *openapi3.MediaType {
	mt := openapi3.NewMediaType()
	if b.Schema != nil && b.Schema.Count > 0 {
		mt.Schema = openapi3.NewSchemaRef("", b.Schema.Schema(m.sopts))
	} else {
		mt.Schema = openapi3.NewSchemaRef("", &openapi3.Schema{})
	}
	if opts.Examples && b.Example != "" {
		var v any
		if err := json.Unmarshal([]byte(b.Example), &v); err == nil {
			mt.Example = v
		}
	}
	return mt
}

// operationID makes a unique lowerCamel id from the method and the
// template's literal words and parameter names.
func operationID(method, path string, used map[string]bool) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	up := true
	for i := 0; i < len(path) && b.Len() < 96; i++ {
		c := path[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			if up && c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			b.WriteByte(c)
			up = false
		default:
			up = true
		}
	}
	id := b.String()
	out := id
	for i := 2; used[out]; i++ {
		out = id + strconv.Itoa(i)
	}
	used[out] = true
	return out
}

// to31 rewrites nullable schemas as type arrays with "null".
func to31(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(s *openapi3.Schema)
	walkRef := func(r *openapi3.SchemaRef) {
		if r != nil && r.Value != nil {
			walk(r.Value)
		}
	}
	walk = func(s *openapi3.Schema) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		if _, ok := s.Extensions[schema.ExtOnlyNull]; ok {
			delete(s.Extensions, schema.ExtOnlyNull)
			s.Type = &openapi3.Types{openapi3.TypeNull}
			s.Nullable = false
		}
		if s.Nullable {
			s.Nullable = false
			if s.Type != nil && len(*s.Type) > 0 {
				t := append(openapi3.Types{}, *s.Type...)
				t = append(t, openapi3.TypeNull)
				s.Type = &t
			} else if len(s.OneOf) > 0 {
				s.OneOf = append(s.OneOf, openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeNull}}))
			} else {
				s.Type = &openapi3.Types{openapi3.TypeNull}
			}
		}
		for _, p := range sortedKeys(s.Properties) {
			walkRef(s.Properties[p])
		}
		walkRef(s.Items)
		for _, r := range s.OneOf {
			walkRef(r)
		}
		for _, r := range s.AnyOf {
			walkRef(r)
		}
		for _, r := range s.AllOf {
			walkRef(r)
		}
		if s.AdditionalProperties.Schema != nil {
			walkRef(s.AdditionalProperties.Schema)
		}
	}
	content := func(c openapi3.Content) {
		for _, k := range sortedKeys(c) {
			if c[k] != nil {
				walkRef(c[k].Schema)
			}
		}
	}
	for _, p := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(p)
		for _, op := range item.Operations() {
			for _, pr := range op.Parameters {
				if pr.Value != nil {
					walkRef(pr.Value.Schema)
				}
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				content(op.RequestBody.Value.Content)
			}
			if op.Responses != nil {
				for _, r := range op.Responses.Map() {
					if r.Value != nil {
						content(r.Value.Content)
					}
				}
			}
			rpcSchemas(op, walk)
		}
	}
}

// Write writes doc as "yaml" (default when format is "") or "json". Keys
// are in a stable order, so the same document gives the same bytes.
func Write(w io.Writer, doc *openapi3.T, format string) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("infer: encoding OpenAPI: %w", err)
	}
	switch format {
	case "json":
		var buf bytes.Buffer
		if err := json.Indent(&buf, b, "", "  "); err != nil {
			return fmt.Errorf("infer: indenting JSON: %w", err)
		}
		buf.WriteByte('\n')
		_, err = w.Write(buf.Bytes())
		return err
	case "yaml", "yml", "":
		var n yaml.Node
		if err := yaml.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("infer: converting to YAML: %w", err)
		}
		plain(&n)
		enc := yaml.NewEncoder(w)
		enc.SetIndent(2)
		if err := enc.Encode(&n); err != nil {
			return fmt.Errorf("infer: writing YAML: %w", err)
		}
		return enc.Close()
	}
	return fmt.Errorf("infer: unknown format %q (want yaml or json)", format)
}

// plain turns the flow/quoted styles that JSON input gives into block
// style, quoting only where YAML needs it.
func plain(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		plain(c)
	}
}

package diff

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/auth"
	"github.com/specter-dev/specter/infer/sensitive"
	"github.com/specter-dev/specter/infer/template"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/message"
)

// Options bound what a Checker keeps and how much it validates.
type Options struct {
	// MaxBody is the largest body (after decoding) whose schema is
	// validated; larger, truncated or undecodable bodies are skipped and
	// counted in Stats.BodiesSkipped. Default 64 KiB.
	MaxBody int
	// MaxFindings caps the distinct findings (fingerprints) kept; past it
	// new fingerprints are dropped and counted in Stats.DroppedFindings,
	// while known ones keep counting. Default 10000.
	MaxFindings int
	// MaxServices caps the services whose traffic window and spec
	// attachment are remembered; exchanges of further services are not
	// checked and are counted in Stats.DroppedServices. Default 10000.
	MaxServices int
	// SampleAfter: response schemas (bodies and headers) are validated
	// for the first SampleAfter responses of each operation, then for one
	// in SampleEvery. Route, method, deprecation, undeclared query
	// parameters, status, content type and authentication are checked on
	// every exchange.
	// Default 5; negative validates every response.
	SampleAfter int
	// SampleEvery is the sampling interval past SampleAfter, and for
	// requests whose shape already validated clean (see the package
	// documentation). Default 20.
	SampleEvery int
	// ResponseEvery and ResponseBurst bound response validation overall:
	// at most one per ResponseEvery exchanges in the long run, with
	// bursts of up to ResponseBurst (a budget that refills as exchanges
	// stream by). Defaults 128 and 256. A negative SampleAfter lifts it.
	ResponseEvery, ResponseBurst int
	// Model configures the inference of undeclared (shadow) endpoints'
	// templates; its limits bound that memory.
	Model infer.Config
	// Anomalies, when set, returns the wire anomalies of an exchange
	// (reassembly's anomaly names, such as
	// "content-length-with-transfer-encoding"); each becomes an anomaly
	// finding of the exchange's service and method, rule the anomaly,
	// whether a spec is attached to the service or not. Nil: none.
	Anomalies func(*reassembly.Exchange) []string
}

func (o Options) withDefaults() Options {
	if o.MaxBody <= 0 {
		o.MaxBody = 64 << 10
	}
	if o.MaxFindings <= 0 {
		o.MaxFindings = 10000
	}
	if o.MaxServices <= 0 {
		o.MaxServices = 10000
	}
	if o.SampleAfter == 0 {
		o.SampleAfter = 5
	}
	if o.SampleEvery <= 0 {
		o.SampleEvery = 20
	}
	if o.ResponseEvery <= 0 {
		o.ResponseEvery = 128
	}
	if o.ResponseBurst <= 0 {
		o.ResponseBurst = 256
	}
	return o
}

// Stats counts what a Checker did and what its bounds dropped.
type Stats struct {
	Exchanges       uint64 `json:"exchanges"`
	NoRequest       uint64 `json:"no_request,omitempty"`       // responses without a request
	NoSpec          uint64 `json:"no_spec,omitempty"`          // services no spec is attached to
	Matched         uint64 `json:"matched"`                    // exchanges matched to a declared operation
	Undeclared      uint64 `json:"undeclared,omitempty"`       // shadow endpoint or method
	Validated       uint64 `json:"validated"`                  // requests validated against their schemas
	Responses       uint64 `json:"responses_validated"`        // responses validated against their schemas
	Sampled         uint64 `json:"sampled,omitempty"`          // response validations skipped by sampling
	RequestsSampled uint64 `json:"requests_sampled,omitempty"` // requests of a known clean shape not validated
	BodiesSkipped   uint64 `json:"bodies_skipped,omitempty"`   // bodies too large, truncated or undecodable
	DroppedFindings uint64 `json:"dropped_findings,omitempty"` // occurrences of fingerprints past MaxFindings
	DroppedServices uint64 `json:"dropped_services,omitempty"` // exchanges of services past MaxServices
}

// Checker checks exchanges against declared specs as they stream by. It
// is not safe for concurrent use.
type Checker struct {
	opts   Options
	specs  []*Spec
	global []*Spec // specs attached to every service

	attached map[string][]*Spec // service -> specs (cache)
	windows  map[string]*window // service -> traffic window
	ops      map[*openapi3.Operation]*opState
	findings map[string]*Finding  // fingerprint -> finding
	examples map[string][]Example // service+method -> shadow examples
	shadow   *infer.Model         // undeclared paths, with the specs' templates as priors
	methods  *infer.Model         // declared paths called with an undeclared method, no priors
	pos      map[posKey]*posStats
	buckets  map[string]*bucket
	bases    []string // base paths cut off shadow traffic, see observeShadow
	vopts    *openapi3filter.Options
	stats    Stats
	tokens   uint64 // response validation budget, see Options.ResponseEvery
	mbuf     matchBuf
}

type window struct {
	first, last time.Time
	count       uint64
}

// opState is what the checker caches per declared operation.
type opState struct {
	route   *routers.Route
	query   map[string]bool // declared query parameter names
	anyQ    bool            // a query parameter of object type: names are open
	secured bool            // security required (no empty alternative)
	keys    []*openapi3.SecurityScheme
	// credHeaders are headers (canonical names) that carried credentials
	// to this operation before: checked first (at most 4).
	credHeaders []string
	hits        map[string]uint64 // service -> matched exchanges
	checked     uint64            // responses seen for schema validation (sampling)
	vopts       *openapi3filter.Options
	// shapes are the shapes of requests that validated clean (see
	// requestShape), with how often each was seen (at most maxShapes).
	shapes map[uint64]uint64
}

// maxShapes bounds the clean request shapes remembered per operation.
const maxShapes = 64

// maxShadowExamples bounds the examples kept per service and method for
// shadow endpoints.
const maxShadowExamples = 16

// NewChecker returns a checker for specs. Specs with no hosts apply to
// every service.
func NewChecker(specs []*Spec, opts Options) *Checker {
	c := &Checker{
		opts: opts.withDefaults(), specs: specs,
		attached: map[string][]*Spec{}, windows: map[string]*window{},
		ops: map[*openapi3.Operation]*opState{}, findings: map[string]*Finding{},
		examples: map[string][]Example{}, shadow: infer.NewModel(opts.Model), methods: infer.NewModel(opts.Model), pos: map[posKey]*posStats{}, buckets: map[string]*bucket{},
		vopts: &openapi3filter.Options{
			MultiError:          true,
			AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
			SkipSettingDefaults: true,
		},
	}
	c.tokens = uint64(c.opts.ResponseEvery) * uint64(c.opts.ResponseBurst)
	// The undeclared traffic is templated without the specs as priors:
	// a declared template would pull undeclared paths into its shape
	// (/1/search/... read as /{id}/search/...).
	for _, s := range specs {
		if len(s.Hosts) == 0 {
			c.global = append(c.global, s)
		}
	}
	return c
}

// Stats returns the counters.
func (c *Checker) Stats() Stats { return c.stats }

// Traffic returns the exchanges per service seen so far (at most
// Options.MaxServices services), whether a spec is attached or not.
func (c *Checker) Traffic() map[string]uint64 {
	out := make(map[string]uint64, len(c.windows))
	for s, w := range c.windows {
		out[s] = w.count
	}
	return out
}

// Attachments returns which services of the traffic so far each spec is
// attached to (see the package function Attachments).
func (c *Checker) Attachments() []Attachment { return Attachments(c.specs, c.Traffic()) }

// Unchecked returns the services of the traffic so far that no spec is
// attached to.
func (c *Checker) Unchecked() []string { return Unchecked(c.specs, c.Traffic()) }

// Report returns the findings so far with the specs' attachments and the
// services no spec is attached to.
func (c *Checker) Report() Report {
	t := c.Traffic()
	return Report{Findings: c.Findings(), Specs: Attachments(c.specs, t), Unchecked: Unchecked(c.specs, t)}
}

// specsFor returns the specs attached to a service: those naming its host
// (with or without the port), then the global ones.
func (c *Checker) specsFor(service string) ([]*Spec, bool) {
	if s, ok := c.attached[service]; ok {
		return s, true
	}
	if len(c.attached) >= c.opts.MaxServices {
		return nil, false
	}
	out := specsFor(c.specs, service)
	c.attached[service] = out
	return out, true
}

func specsFor(specs []*Spec, service string) []*Spec {
	var out []*Spec
	bare := stripPort(service)
	for _, s := range specs {
		for _, h := range s.Hosts {
			if h == service || stripPort(h) == bare && (h == bare || service == bare) {
				out = append(out, s)
				break
			}
		}
	}
	for _, s := range specs {
		if len(s.Hosts) == 0 {
			out = append(out, s)
		}
	}
	return out
}

// Check checks one exchange. It never fails: what it cannot check it
// counts.
func (c *Checker) Check(x *reassembly.Exchange) {
	if x == nil {
		return
	}
	c.stats.Exchanges++
	if c.tokens < uint64(c.opts.ResponseEvery)*uint64(c.opts.ResponseBurst) {
		c.tokens++
	}
	if c.opts.Anomalies != nil {
		if as := c.opts.Anomalies(x); len(as) > 0 {
			c.anomalies(x, as)
		}
	}
	req := x.Request
	if req == nil {
		c.stats.NoRequest++
		return
	}
	service := infer.ServiceName(x)
	specs, ok := c.specsFor(service)
	if !ok {
		c.stats.DroppedServices++
		return
	}
	when := req.Start
	if when.IsZero() && x.Response != nil {
		when = x.Response.Start
	}
	// Services without a spec get a window too (bounded like attached):
	// Attachments names the services seen, for a spec that matched none.
	w := c.windows[service]
	if w == nil {
		w = &window{}
		c.windows[service] = w
	}
	w.count++
	widen(&w.first, &w.last, when)
	if len(specs) == 0 {
		c.stats.NoSpec++
		return
	}

	path := req.Path
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	method := strings.ToUpper(req.Method)
	r := matchInto(specs, method, path, &c.mbuf)
	switch {
	case r == nil:
		c.stats.Undeclared++
		c.observeShadow(c.shadow, x, service, path, specs)
		c.addShadowExample(service, method, x)
		return
	case r.Op == nil:
		// Templated by inference, without priors, at report time: a
		// router sends POST /user/createWithList to /user/{username},
		// but when the traffic's segment is one literal the undeclared
		// endpoint is that literal path.
		c.stats.Undeclared++
		c.observeShadow(c.methods, x, service, path, specs)
		c.addShadowExample(service, method, x)
		return
	}
	c.stats.Matched++
	st := c.opState(r)
	if b := c.literalBucket(service, method, path, r, when, x); b != nil {
		// Checked into the bucket; Findings decides whether it is the
		// declared operation or an undeclared static path.
		saved := c.findings
		c.findings = b.findings
		defer func() { c.findings = saved }()
	} else {
		if st.hits == nil {
			st.hits = map[string]uint64{}
		}
		st.hits[service]++
	}
	if r.Op.Deprecated {
		if f := c.finding(KindZombie, RuleDeprecated, service, method, r.Template, when); f != nil && f.Reason == "" {
			f.Reason = "operation is deprecated: true and still receives traffic"
			f.Example = ptr(example(x, nil))
			c.locate(f, r, method)
		}
	}
	c.checkExchange(x, r, st, service, method, when)
}

// maxAnomalyRule bounds the bytes of an anomaly name kept as a rule.
const maxAnomalyRule = 64

// anomalies records the wire anomalies of an exchange: one finding per
// service, method and anomaly. Its path is empty: the framing is at fault,
// not an operation; the example names the request. An exchange without a
// request (a response paired after a resync) has the service of its
// flow's server.
func (c *Checker) anomalies(x *reassembly.Exchange, as []string) {
	service, method := "", ""
	var when time.Time
	if x.Request != nil {
		service, method, when = infer.ServiceName(x), strings.ToUpper(x.Request.Method), x.Request.Start
	} else if x.Response != nil {
		when = x.Response.Start
	}
	if service == "" && x.Flow.Server.IsValid() {
		service = x.Flow.Server.String()
	}
	for i, a := range as {
		if a == "" || slices.Contains(as[:i], a) {
			continue
		}
		rule := strings.ToLower(strings.Join(strings.Fields(a), "-"))
		if len(rule) > maxAnomalyRule {
			rule = rule[:maxAnomalyRule]
		}
		f := c.finding(KindAnomaly, rule, service, method, "", when)
		if f == nil || f.Example != nil {
			continue
		}
		f.Reason = "suspicious HTTP framing: " + rule
		if x.Request != nil {
			f.Example = ptr(example(x, nil))
		} else if x.Response != nil {
			f.Example = &Example{Status: x.Response.StatusCode}
		}
	}
}

// A router sends GET /tags/search to a declared /tags/{tag} when the
// static /tags/search is not declared. To tell such undeclared static paths
// from parameter values, a request whose value at a declared parameter is a
// plain word (letters only) is checked into a bucket of its own, and the
// parameter's id-like values are counted. Findings reports a bucket as a
// shadow endpoint when the parameter also took id-like values and few
// distinct words (the words are then names of endpoints, not values);
// otherwise its findings join the declared operation's.

// maxWords is the most distinct words a parameter may take and still be
// read as undeclared static paths.
const maxWords = 4

type posKey struct {
	op      *openapi3.Operation
	service string
	pos     int
}

type posStats struct {
	idLike uint64
	words  map[string]bool
}

type bucket struct {
	service, method, template string
	key                       posKey
	count                     uint64
	first, last               time.Time
	example                   Example
	findings                  map[string]*Finding
}

// isWord reports whether a segment is a plain word: letters only.
func isWord(s string) bool {
	if len(s) < 2 || len(s) > 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// literalBucket counts the shapes of a matched request's parameter values,
// and returns the bucket the request goes to when a value is a plain word.
func (c *Checker) literalBucket(service, method, path string, r *Route, when time.Time, x *reassembly.Exchange) *bucket {
	if !strings.Contains(r.Template, "{") {
		return nil
	}
	tsegs, psegs := splitPath(r.Template), r.segs
	if r.n != nil {
		tsegs = r.n.fullPath(r.Base).segs
	}
	if psegs == nil {
		psegs = splitPath(path)
	}
	if len(tsegs) != len(psegs) {
		return nil
	}
	word := -1
	for i, t := range tsegs {
		if len(t) < 3 || t[0] != '{' || t[len(t)-1] != '}' || strings.Count(t, "{") != 1 {
			continue
		}
		k := posKey{r.Op, service, i}
		ps := c.pos[k]
		if ps == nil {
			if len(c.pos) >= c.opts.MaxFindings {
				continue
			}
			ps = &posStats{}
			c.pos[k] = ps
		}
		if isWord(psegs[i]) {
			if ps.words == nil {
				ps.words = map[string]bool{}
			}
			if len(ps.words) <= maxWords {
				ps.words[psegs[i]] = true
			}
			word = i
		} else {
			stem, _ := template.SplitExt(psegs[i])
			if template.Classify(stem).Variable() {
				ps.idLike++
			}
		}
	}
	if word < 0 {
		return nil
	}
	lit := make([]string, len(tsegs))
	copy(lit, tsegs)
	lit[word] = psegs[word]
	tmpl := "/" + strings.Join(lit, "/")
	key := service + " " + method + " " + tmpl
	b := c.buckets[key]
	if b == nil {
		if len(c.buckets) >= c.opts.MaxFindings {
			return nil
		}
		b = &bucket{service: service, method: method, template: tmpl, key: posKey{r.Op, service, word},
			example: example(x, nil), findings: map[string]*Finding{}}
		c.buckets[key] = b
	}
	b.count++
	widen(&b.first, &b.last, when)
	return b
}

// observeShadow feeds undeclared traffic to a shadow model (m), with the
// server base path of the service's specs cut off: the base is fixed by
// the server, and inference must not read "/1" in "/1/search/..." as an id.
// The base travels in the model's service name as "service~N" (N indexes
// c.bases; no host contains "~").
func (c *Checker) observeShadow(m *infer.Model, x *reassembly.Exchange, service, path string, specs []*Spec) {
	base := ""
	for _, s := range specs {
		for _, b := range s.Bases {
			if len(b) > len(base) && (path == b || strings.HasPrefix(path, b+"/")) {
				base = b
			}
		}
	}
	if base == "" {
		m.Observe(x)
		return
	}
	i := -1
	for j, b := range c.bases {
		if b == base {
			i = j
		}
	}
	if i < 0 {
		if len(c.bases) >= maxBases {
			m.Observe(x)
			return
		}
		i = len(c.bases)
		c.bases = append(c.bases, base)
	}
	req := *x.Request
	req.Path = strings.TrimPrefix(path, base)
	req.Authority = service + "~" + strconv.Itoa(i)
	y := *x
	y.Request = &req
	m.Observe(&y)
}

// maxBases bounds the distinct base paths the shadow model tells apart.
const maxBases = 256

// shadowService undoes observeShadow's naming: the service and the base.
func (c *Checker) shadowService(name, tmpl string) (string, string) {
	svc, idx, ok := strings.Cut(name, "~")
	if !ok {
		return name, tmpl
	}
	i, err := strconv.Atoi(idx)
	if err != nil || i < 0 || i >= len(c.bases) {
		return svc, tmpl
	}
	return svc, joinBase(c.bases[i], tmpl)
}

// addShadowExample keeps a few examples per service and method of
// undeclared traffic, to give its findings one.
func (c *Checker) addShadowExample(service, method string, x *reassembly.Exchange) {
	k := service + " " + method
	if ex := c.examples[k]; len(ex) < maxShadowExamples && len(c.examples) < c.opts.MaxFindings {
		c.examples[k] = append(ex, example(x, nil))
	}
}

// opState returns the cached state of the matched operation.
func (c *Checker) opState(r *Route) *opState {
	if st := c.ops[r.Op]; st != nil {
		return st
	}
	st := &opState{
		route: &routers.Route{Spec: r.Spec.Doc, Path: r.Path, PathItem: r.Item, Method: r.Method, Operation: r.Op},
		query: map[string]bool{},
	}
	if len(r.Spec.Doc.Servers) > 0 {
		st.route.Server = r.Spec.Doc.Servers[0]
	}
	// Authentication is checked by us (auth_mismatch); an operation copy
	// without security keeps kin from walking the requirements.
	opc := *r.Op
	opc.Security = &openapi3.SecurityRequirements{}
	st.route.Operation = &opc
	if r.Spec.Doc.IsOpenAPI31OrLater() && !uses2020(r.Item, r.Op) {
		// kin-openapi compiles a JSON Schema 2020-12 validator on every
		// call for 3.1 documents (~100x the cost). For schemas without
		// 2020-12 keywords kin itself falls back to its built-in
		// validator; we take that path directly through a 3.0 view.
		st.route.Spec = r.Spec.legacyView()
	}
	for _, list := range []openapi3.Parameters{r.Item.Parameters, r.Op.Parameters} {
		for _, p := range list {
			if p == nil || p.Value == nil || p.Value.In != openapi3.ParameterInQuery {
				continue
			}
			st.query[p.Value.Name] = true
			if sc := p.Value.Schema; sc != nil && sc.Value != nil && sc.Value.Type.Is(openapi3.TypeObject) {
				st.anyQ = true
			}
			if p.Value.Content != nil {
				st.anyQ = true
			}
		}
	}
	// API keys sent in the query are credentials, not parameters.
	if r.Spec.Doc.Components != nil {
		for _, ref := range r.Spec.Doc.Components.SecuritySchemes {
			if ref != nil && ref.Value != nil && ref.Value.Type == "apiKey" && ref.Value.In == "query" {
				st.query[ref.Value.Name] = true
			}
		}
	}
	sec := r.Op.Security
	if sec == nil {
		sec = &r.Spec.Doc.Security
	}
	st.secured = len(*sec) > 0
	for _, req := range *sec {
		if len(req) == 0 {
			st.secured = false // {} alternative: anonymous allowed
		}
		for name := range req {
			if r.Spec.Doc.Components != nil {
				if ref := r.Spec.Doc.Components.SecuritySchemes[name]; ref != nil && ref.Value != nil {
					st.keys = append(st.keys, ref.Value)
				}
			}
		}
	}
	// Error details marshal the schema into every message, oneOf
	// branches included; we keep only the reason and the pointer. (kin
	// refuses the option on its 2020-12 path.)
	st.vopts = c.vopts
	if !st.route.Spec.IsOpenAPI31OrLater() {
		o := *c.vopts
		o.SchemaValidationOptions = []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()}
		st.vopts = &o
	}
	c.ops[r.Op] = st
	return st
}

// finding returns the finding with this identity, created when new and
// counted at t; nil when MaxFindings is reached.
func (c *Checker) finding(k Kind, rule, service, method, path string, t time.Time) *Finding {
	fp := Fingerprint(k, service, method, path, rule)
	f := c.findings[fp]
	if f == nil {
		if len(c.findings) >= c.opts.MaxFindings {
			c.stats.DroppedFindings++
			return nil
		}
		f = newFinding(k, rule, service, method, path)
		c.findings[fp] = f
	}
	f.seen(t, 1)
	return f
}

// locate points a finding at the declared operation (or, with method "",
// at the path's first operation) in its spec file.
func (c *Checker) locate(f *Finding, r *Route, method string) {
	f.Spec = r.Spec.File
	if method != "" {
		f.SpecLine = r.Spec.Line(method, r.Path)
		if r.Op != nil {
			f.OperationID = r.Op.OperationID
		}
		return
	}
	for m := range r.Item.Operations() {
		if l := r.Spec.Line(m, r.Path); l > 0 && (f.SpecLine == 0 || l < f.SpecLine) {
			f.SpecLine = l
		}
	}
}

func ptr[T any](v T) *T { return &v }

// checkExchange runs the per-exchange checks of a matched operation.
func (c *Checker) checkExchange(x *reassembly.Exchange, r *Route, st *opState, service, method string, when time.Time) {
	req, resp := x.Request, x.Response
	add := func(k Kind, rule, reason, pointer string, body []byte) *Finding {
		f := c.finding(k, rule, service, method, r.Template, when)
		if f != nil && f.Example == nil {
			f.Reason, f.Pointer = reason, pointer
			f.Example = ptr(example(x, body))
			c.locate(f, r, method)
		}
		return f
	}

	// Undeclared query parameters: kin-openapi accepts them, we do not.
	// The finding names every one (see Finding.Params).
	if !st.anyQ && req.RawQuery != "" {
		var buf [8]string // most requests have few: no allocation
		names := buf[:0]
		cut := false
		queryNames(req.RawQuery, func(k string) {
			if !st.query[k] && !slices.Contains(names, k) {
				if len(names) < maxParams {
					names = append(names, k)
				} else {
					cut = true
				}
			}
		})
		if len(names) > 0 {
			if f := add(KindNoncompliantRequest, "query:undeclared", "", "", nil); f != nil {
				f.addParams(names, cut)
			}
		}
	}

	// Authentication: declared security, no credential, yet a 2xx.
	if st.secured && resp != nil && resp.StatusCode/100 == 2 && !hasCredential(req, st) {
		add(KindAuthMismatch, RuleUnauthenticated, "operation declares security; a request without credentials got "+strconv.Itoa(resp.StatusCode), "", nil)
	}

	// Response status and content type: cheap, on every exchange.
	var respRef *openapi3.Response
	if resp != nil && resp.StatusCode >= 200 && resp.StatusCode != http.StatusNotModified && method != http.MethodHead && st.route.Operation.Responses.Len() > 0 {
		ref := r.Op.Responses.Status(resp.StatusCode)
		if ref == nil {
			ref = r.Op.Responses.Default()
		}
		switch {
		case ref == nil:
			add(KindNoncompliantResponse, "status:"+strconv.Itoa(resp.StatusCode), "status "+strconv.Itoa(resp.StatusCode)+" is not declared", "/responses", resp.Body.Bytes())
		case ref.Value != nil:
			respRef = ref.Value
			ct := infer.HeaderValue(resp.Header, "Content-Type")
			if len(resp.Body.Bytes()) > 0 && len(respRef.Content) > 0 && respRef.Content.Get(ct) == nil {
				mt, _, _ := mime.ParseMediaType(ct)
				if mt == "" {
					mt = "(none)"
				}
				add(KindNoncompliantResponse, "content-type:"+strconv.Itoa(resp.StatusCode), "content type "+mt+" is not declared for status "+strconv.Itoa(resp.StatusCode), "/responses/"+strconv.Itoa(resp.StatusCode)+"/content", nil)
				respRef = nil // its body cannot be checked against another type's schema
			}
		}
	}

	// Request schemas, with kin-openapi's openapi3filter. A request with
	// the shape (see requestShape) of one that validated clean is
	// validated one time in SampleEvery: what differs between clients —
	// a missing field, a wrong type, a malformed id — changes the shape.
	skipBody := !c.bodyOK(req.Body.Bytes(), req.AllFlags())
	sig, sigOK := requestShape(req, r.Params, skipBody)
	if sigOK && c.opts.SampleAfter >= 0 {
		if n, seen := st.shapes[sig]; seen {
			st.shapes[sig] = n + 1
			if n%uint64(c.opts.SampleEvery) != 0 {
				c.stats.RequestsSampled++
				c.checkResponse(x, r, st, respRef, nil, add)
				return
			}
		}
	}
	c.stats.Validated++
	query, qerr := url.ParseQuery(req.RawQuery)
	hreq := httpRequest(req, r, qerr == nil)
	opts := *st.vopts
	opts.ExcludeRequestBody = skipBody
	in := &openapi3filter.RequestValidationInput{Request: hreq, PathParams: r.Params, Route: st.route, Options: &opts}
	if qerr == nil {
		in.QueryParams = query
	} else {
		in.QueryParams = url.Values{}
	}
	clean := true
	for _, p := range problems(openapi3filter.ValidateRequest(context.Background(), in)) {
		clean = false
		add(KindNoncompliantRequest, p.rule, p.reason, p.pointer, req.Body.Bytes())
	}
	if sigOK && clean {
		if st.shapes == nil {
			st.shapes = map[uint64]uint64{}
		}
		if _, ok := st.shapes[sig]; !ok && len(st.shapes) < maxShapes {
			st.shapes[sig] = 1
		}
	}
	c.checkResponse(x, r, st, respRef, in, add)
}

// checkResponse validates a response's schemas (bodies and headers: most
// of the cost): the first SampleAfter of each operation, then one in
// SampleEvery, within the global budget. in is the request's validation
// input, nil when the request was not validated.
func (c *Checker) checkResponse(x *reassembly.Exchange, r *Route, st *opState, respRef *openapi3.Response, in *openapi3filter.RequestValidationInput, add func(Kind, string, string, string, []byte) *Finding) {
	resp := x.Response
	if respRef == nil || resp == nil {
		return
	}
	// A token bucket caps the total: each exchange earns one token, a
	// validation costs ResponseEvery, the bucket holds ResponseBurst
	// validations; so long runs validate at most one response in
	// ResponseEvery exchanges, whatever the number of operations.
	n := st.checked
	st.checked++
	if a := c.opts.SampleAfter; a >= 0 && n >= uint64(a) && (n-uint64(a))%uint64(c.opts.SampleEvery) != 0 {
		c.stats.Sampled++
		return
	}
	if c.opts.SampleAfter >= 0 {
		if c.tokens < uint64(c.opts.ResponseEvery) {
			c.stats.Sampled++
			return
		}
		c.tokens -= uint64(c.opts.ResponseEvery)
	}
	c.stats.Responses++
	if in == nil {
		q, err := url.ParseQuery(x.Request.RawQuery)
		if err != nil {
			q = url.Values{}
		}
		in = &openapi3filter.RequestValidationInput{Request: httpRequest(x.Request, r, err == nil), PathParams: r.Params, Route: st.route, QueryParams: q, Options: st.vopts}
	}
	ropts := *st.vopts
	ropts.ExcludeResponseBody = !c.bodyOK(resp.Body.Bytes(), resp.AllFlags())
	ropts.IncludeResponseStatus = false
	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header, Options: &ropts,
		Body: io.NopCloser(bytes.NewReader(resp.Body.Bytes())),
	}
	if resp.Header == nil {
		rin.Header = http.Header{}
	}
	for _, p := range problems(openapi3filter.ValidateResponse(context.Background(), rin)) {
		add(KindNoncompliantResponse, "response."+p.rule, p.reason, p.pointer, resp.Body.Bytes())
	}
}

// queryNames calls fn with each parameter name of a raw query, unescaped.
func queryNames(raw string, fn func(string)) {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, _, _ := strings.Cut(kv, "=")
		if k == "" {
			continue
		}
		if strings.ContainsAny(k, "%+") {
			if u, err := url.QueryUnescape(k); err == nil {
				k = u
			}
		}
		fn(k)
	}
}

// requestShape hashes what request validation depends on, by kind rather
// than value: query names with the kinds of their values, path parameter
// value kinds, the content type, and the JSON body's structure (see
// jsonShape). ok is false when there is a body that is not JSON (or is
// skipped): such requests are always validated.
func requestShape(req *message.Request, params map[string]string, skipBody bool) (uint64, bool) {
	var sum uint64
	item := func(tag byte, a string, kind byte, b string) {
		h := fnvByte(fnvOffset, tag)
		h = fnvByte(fnvString(h, a), 0)
		sum += fnvString(fnvByte(h, kind), b) // order-independent
	}
	raw := req.RawQuery
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		item('q', k, valueKind(v), "")
	}
	for k, v := range params {
		item('p', k, valueKind(v), "")
	}
	item('c', "", 0, infer.HeaderValue(req.Header, "Content-Type"))
	if len(req.Body.Bytes()) > 0 {
		if skipBody {
			return 0, false
		}
		b, ok := jsonShape(req.Body.Bytes())
		if !ok {
			return 0, false
		}
		sum += b
	}
	return sum, true
}

// FNV-1a, inline: hash/fnv's interface value escapes to the heap.
const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)

func fnvByte(h uint64, c byte) uint64 { return (h ^ uint64(c)) * fnvPrime }

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

// valueKind classifies a parameter value: empty, integer, number,
// boolean, or the path-segment shape of a string (word, uuid, email, ...).
// It does not allocate for plain values.
func valueKind(v string) byte {
	switch {
	case v == "":
		return 'e'
	case v == "true" || v == "false":
		return 'b'
	}
	digits, dots, exp, other := 0, 0, 0, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '-' && i == 0:
		case c == '.':
			dots++
		case c == 'e' || c == 'E':
			exp++
		default:
			other++
		}
	}
	if other == 0 && digits > 0 && digits <= 18 && dots == 0 && exp == 0 {
		return 'i'
	}
	if other == 0 && digits > 0 && dots <= 1 && exp <= 1 {
		return 'n'
	}
	if strings.ContainsAny(v, "%+") {
		if u, err := url.QueryUnescape(v); err == nil {
			v = u
		}
	}
	return 'A' + byte(template.Classify(v))
}

// bodyOK reports whether a body can be validated: complete, decoded and
// within MaxBody.
func (c *Checker) bodyOK(body []byte, fl message.Flags) bool {
	if fl&(message.FlagBodyTruncated|message.FlagGap|message.FlagDecodeError|message.FlagBombCut|message.FlagIncomplete) != 0 || len(body) > c.opts.MaxBody {
		c.stats.BodiesSkipped++
		return false
	}
	return true
}

// httpRequest builds the net/http request kin-openapi validates.
func httpRequest(req *message.Request, r *Route, queryOK bool) *http.Request {
	h := req.Header
	if h == nil {
		h = http.Header{}
	}
	raw := req.RawQuery
	if !queryOK {
		raw = ""
	}
	hr := &http.Request{
		Method: r.Method, URL: &url.URL{Path: req.Path, RawQuery: raw}, Header: h, Host: req.Authority,
		Proto: req.Proto, ContentLength: int64(len(req.Body.Bytes())), Body: http.NoBody,
	}
	if len(req.Body.Bytes()) > 0 {
		hr.Body = io.NopCloser(bytes.NewReader(req.Body.Bytes()))
	}
	return hr
}

// hasCredential reports whether a request carries any credential: one
// package auth recognizes, or one in a place a declared scheme names.
// It remembers the headers that carried credentials in st.
func hasCredential(req *message.Request, st *opState) bool {
	// The common cases first: package auth's full inspection is costly.
	if infer.HeaderValue(req.Header, "Authorization") != "" {
		return true
	}
	for _, h := range st.credHeaders {
		if infer.HeaderValue(req.Header, h) != "" {
			return true
		}
	}
	query, _ := url.ParseQuery(req.RawQuery) // what parses is enough here
	if creds := auth.Inspect(req.Header, query); len(creds) > 0 {
		for _, cr := range creds {
			if cr.In == auth.InHeader && len(st.credHeaders) < 4 && !slices.Contains(st.credHeaders, cr.Name) {
				st.credHeaders = append(st.credHeaders, cr.Name)
			}
		}
		return true
	}
	keys := st.keys
	for _, s := range keys {
		if s.Type != "apiKey" || s.Name == "" {
			continue
		}
		switch s.In {
		case "header":
			if req.Header.Get(s.Name) != "" {
				return true
			}
		case "query":
			if query.Get(s.Name) != "" {
				return true
			}
		case "cookie":
			for _, v := range req.Header.Values("Cookie") {
				if strings.Contains(v, s.Name+"=") {
					return true
				}
			}
		}
	}
	return false
}

// problem is one validation failure, reduced to a stable rule.
type problem struct{ rule, reason, pointer string }

// problems flattens kin-openapi's errors into rules "<where>:<keyword>".
// Errors that say the validator cannot decode the content (an unsupported
// media type) are not the client's fault and are dropped.
func problems(err error) []problem {
	if err == nil {
		return nil
	}
	var out []problem
	var walk func(err error, where string)
	walk = func(err error, where string) {
		var me openapi3.MultiError
		if errors.As(err, &me) && len(me) > 0 {
			if _, isMulti := err.(openapi3.MultiError); isMulti {
				for _, e := range me {
					walk(e, where)
				}
				return
			}
		}
		switch e := err.(type) {
		case *openapi3filter.RequestError:
			w := where
			if e.Parameter != nil {
				w = e.Parameter.In + "." + e.Parameter.Name
			} else if e.RequestBody != nil {
				w = "body"
			}
			if e.Err == nil {
				out = append(out, problem{w + ":" + keyword(e.Reason), truncate(e.Error()), ""})
				return
			}
			walk(e.Err, w)
			return
		case *openapi3filter.ResponseError:
			if e.Err == nil {
				out = append(out, problem{"body:" + keyword(e.Reason), truncate(e.Error()), ""})
				return
			}
			walk(e.Err, "body")
			return
		case *openapi3filter.SecurityRequirementsError:
			return // authentication is checked separately
		case *openapi3filter.ParseError:
			if e.Kind == openapi3filter.KindUnsupportedFormat {
				return
			}
			out = append(out, problem{where + ":parse", truncate(where + ": " + e.Error()), ""})
			return
		case *openapi3.SchemaError:
			ptr := "/" + strings.Join(e.JSONPointer(), "/")
			if ptr == "/" {
				ptr = ""
			}
			// allOf/anyOf/oneOf: report the failure inside the branch
			// (a missing required property), under the outer pointer.
			var inner *openapi3.SchemaError
			if e.Origin != nil && errors.As(e.Origin, &inner) {
				walk(e.Origin, where+ptr)
				return
			}
			field := e.SchemaField
			if field == "" {
				field = "schema"
			}
			out = append(out, problem{where + normPointer(ptr) + ":" + field, truncate(where + ptr + ": " + e.Reason), ptr})
			return
		}
		msg := err.Error()
		if strings.Contains(msg, "unsupported content type") || strings.Contains(msg, "not supported") {
			return
		}
		if u := errors.Unwrap(err); u != nil {
			walk(u, where)
			return
		}
		out = append(out, problem{where + ":" + keyword(msg), truncate(where + ": " + msg), ""})
	}
	walk(err, "request")
	return out
}

// keyword reduces a kin-openapi reason to a short stable token.
func keyword(reason string) string {
	r := strings.ToLower(reason)
	switch {
	case strings.Contains(r, "required"):
		return "required"
	case strings.Contains(r, "content-type") || strings.Contains(r, "content type"):
		return "content-type"
	case strings.Contains(r, "empty"):
		return "empty"
	}
	return "invalid"
}

// normPointer replaces array indexes in a JSON pointer with "*", so that
// one rule covers every element.
func normPointer(p string) string {
	if p == "" {
		return ""
	}
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if _, err := strconv.Atoi(s); err == nil && s != "" {
			parts[i] = "*"
		}
	}
	return strings.Join(parts, "/")
}

// truncate returns a reason fit to store: the values kin-openapi quotes in
// it ("value sk_live_…: an invalid integer") redacted as text, then cut.
func truncate(s string) string {
	s = string(sensitive.RedactJSON([]byte(s), 2*len(s)+64))
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// example returns a redacted example of an exchange, with body (when not
// nil) redacted and cut.
func example(x *reassembly.Exchange, body []byte) Example {
	req := x.Request
	var ex Example
	target := sensitive.RedactPath(req.Path)
	if req.RawQuery != "" {
		target += "?" + sensitive.RedactQuery(req.RawQuery)
	}
	if len(target) > 512 {
		target = target[:512]
	}
	ex.Request = strings.ToUpper(req.Method) + " " + target
	if x.Response != nil {
		ex.Status = x.Response.StatusCode
	}
	if len(body) > 0 {
		ex.Body = string(sensitive.RedactJSON(body, 512))
	}
	return ex
}

// Findings returns every finding so far, sorted: those counted on
// exchanges, shadow endpoints from the undeclared traffic's inferred
// templates, and unused operations of the services that had traffic.
func (c *Checker) Findings() []Finding {
	out := make([]Finding, 0, len(c.findings))
	for _, f := range c.findings {
		out = append(out, *f)
	}
	var shadows []Finding
	shadowEps := c.shadow.Endpoints()
	var methodPaths map[infer.EndpointKey][]infer.ObservedPath
	for i, e := range append(shadowEps, c.methods.Endpoints()...) {
		key := infer.EndpointKey{Service: e.Service, Method: e.Method, Template: e.Template}
		e.Service, e.Template = c.shadowService(e.Service, e.Template)
		ss := specsFor(c.specs, e.Service)
		var f *Finding
		if r := matchTemplate(ss, e.Method, e.Template, true); r != nil {
			f = newFinding(KindShadow, RuleUndeclaredMethod, e.Service, e.Method, r.Template)
			f.Reason = "method " + e.Method + " is not declared for path " + r.Path
			c.locate(f, r, "")
		} else if i >= len(shadowEps) && matchTemplate(ss, e.Method, e.Template, false) == nil {
			// Requests routed to declared paths without their method,
			// templated over the paths' static segments
			// (/ipam/{x}/{id} over /ipam/prefixes/{id} and
			// /ipam/vlans/{id}): each concrete path is its declared path.
			if methodPaths == nil {
				methodPaths = c.methods.ObservedPaths()
			}
			shadows = append(shadows, c.methodShadows(ss, e, key.Service, methodPaths[key])...)
			continue
		} else {
			f = newFinding(KindShadow, RuleUndeclaredPath, e.Service, e.Method, e.Template)
			f.Reason = "no declared spec for this service has the path"
			if len(ss) > 0 {
				f.Spec = ss[0].File
			}
		}
		f.Count, f.FirstSeen, f.LastSeen = e.Count, e.FirstSeen, e.LastSeen
		f.Example = c.shadowExample(e.Service, e.Method, e.Template)
		shadows = append(shadows, *f)
	}
	type svcOp struct {
		service string
		op      *openapi3.Operation
	}
	bucketHits := map[svcOp]bool{}
	var joined []Finding
	for _, b := range c.buckets {
		ps := c.pos[b.key]
		if ps != nil && ps.idLike > 0 && len(ps.words) <= maxWords {
			f := newFinding(KindShadow, RuleUndeclaredPath, b.service, b.method, b.template)
			f.Count, f.FirstSeen, f.LastSeen = b.count, b.first, b.last
			f.Reason = "undeclared static path: a declared parameter took this word, and identifiers elsewhere"
			f.Example = ptr(b.example)
			if ss := specsFor(c.specs, b.service); len(ss) > 0 {
				f.Spec = ss[0].File
			}
			shadows = append(shadows, *f)
			continue
		}
		bucketHits[svcOp{b.service, b.key.op}] = true
		for _, f := range b.findings {
			joined = append(joined, *f)
		}
	}
	out = Merge(out, joined)
	// Several inferred templates may name one declared path: one finding.
	out = append(out, Merge(shadows, nil)...)
	hits := func(service string, op *openapi3.Operation) bool {
		st := c.ops[op]
		return st != nil && st.hits[service] > 0 || bucketHits[svcOp{service, op}]
	}
	svcs := make(map[string][2]time.Time, len(c.windows))
	for s, w := range c.windows {
		if len(c.attached[s]) > 0 {
			svcs[s] = [2]time.Time{w.first, w.last}
		}
	}
	out = append(out, unused(c.specs, svcs, hits)...)
	// Probes of a path scan hit undeclared paths: the shadow inventory
	// kept them out and tells the scanned services.
	out = append(out, Scans(c.shadow)...)
	Sort(out)
	return out
}

// shadowExample returns a kept example of undeclared traffic under tmpl.
func (c *Checker) shadowExample(service, method, tmpl string) *Example {
	for _, ex := range c.examples[service+" "+method] {
		p, _, _ := strings.Cut(strings.TrimPrefix(ex.Request, method+" "), "?")
		if templateCovers(tmpl, p) {
			return ptr(ex)
		}
	}
	return nil
}

// methodShadows makes the shadow-method findings of a template of the
// undeclared-method traffic that matches no declared path as a whole, path
// by path (paths as the model named them: model is its service name
// there); paths matching no declared path (folded ones) stay one shadow
// endpoint under the template, naming them.
func (c *Checker) methodShadows(ss []*Spec, e infer.EndpointSummary, model string, paths []infer.ObservedPath) []Finding {
	var out []Finding
	rest := newFinding(KindShadow, RuleUndeclaredPath, e.Service, e.Method, e.Template)
	rest.Reason = "no declared spec for this service has the path"
	if len(ss) > 0 {
		rest.Spec = ss[0].File
	}
	if len(paths) == 0 {
		rest.Count, rest.FirstSeen, rest.LastSeen = e.Count, e.FirstSeen, e.LastSeen
	}
	for _, p := range paths {
		_, full := c.shadowService(model, p.Path)
		r := matchTemplate(ss, e.Method, full, false)
		if r == nil || r.Op != nil {
			rest.addPath(full)
			rest.Count += p.Count
			widen(&rest.FirstSeen, &rest.LastSeen, p.FirstSeen)
			widen(&rest.FirstSeen, &rest.LastSeen, p.LastSeen)
			continue
		}
		f := newFinding(KindShadow, RuleUndeclaredMethod, e.Service, e.Method, r.Template)
		f.Reason = "method " + e.Method + " is not declared for path " + r.Path
		c.locate(f, r, "")
		f.Count, f.FirstSeen, f.LastSeen = p.Count, p.FirstSeen, p.LastSeen
		f.Example = c.shadowExample(e.Service, e.Method, full)
		out = append(out, *f)
	}
	if rest.Count > 0 {
		rest.Example = c.shadowExample(e.Service, e.Method, e.Template)
		out = append(out, *rest)
	}
	return out
}

// templateCovers reports whether a concrete path is an instance of tmpl.
func templateCovers(tmpl, path string) bool {
	t, p := splitPath(tmpl), splitPath(path)
	if len(t) != len(p) {
		return false
	}
	for i := range t {
		if t[i] == p[i] {
			continue
		}
		if !strings.Contains(t[i], "{") || !parseParamSeg(t[i]).match(p[i], nil) {
			return false
		}
	}
	return true
}

// unused lists the declared, non-deprecated operations with no traffic, for
// every service (with its traffic window) a spec is attached to.
func unused(specs []*Spec, services map[string][2]time.Time, hit func(service string, op *openapi3.Operation) bool) []Finding {
	names := make([]string, 0, len(services))
	for s := range services {
		names = append(names, s)
	}
	sort.Strings(names)
	var out []Finding
	for _, svc := range names {
		win := services[svc]
		for _, s := range specsFor(specs, svc) {
			if len(s.Hosts) == 0 && !specHit(s, svc, hit) {
				continue // a spec for every service: only those that used it
			}
			for _, p := range s.Paths() {
				item := s.Doc.Paths.Value(p)
				if item == nil {
					continue
				}
				for m, op := range item.Operations() {
					if op == nil || op.Deprecated || hit(svc, op) {
						continue
					}
					for _, b := range s.Bases {
						if len(s.Bases) > 1 && b == "" {
							continue
						}
						f := newFinding(KindUnused, RuleNoTraffic, svc, m, joinBase(b, p))
						f.FirstSeen, f.LastSeen = win[0], win[1]
						f.Reason = "declared, no traffic while the service had traffic (" + win[0].UTC().Format(time.RFC3339) + " to " + win[1].UTC().Format(time.RFC3339) + ")"
						f.Spec, f.SpecLine, f.OperationID = s.File, s.Line(m, p), op.OperationID
						out = append(out, *f)
						break
					}
				}
			}
		}
	}
	return out
}

// specHit reports whether any operation of s had traffic from service.
func specHit(s *Spec, service string, hit func(string, *openapi3.Operation) bool) bool {
	for _, p := range s.Paths() {
		if item := s.Doc.Paths.Value(p); item != nil {
			for _, op := range item.Operations() {
				if op != nil && hit(service, op) {
					return true
				}
			}
		}
	}
	return false
}

// uses2020 reports whether an operation's schemas use JSON Schema 2020-12
// keywords that kin-openapi's built-in validator does not know (the same
// list kin checks before falling back to it).
func uses2020(item *openapi3.PathItem, op *openapi3.Operation) bool {
	var refs []*openapi3.SchemaRef
	for _, list := range []openapi3.Parameters{item.Parameters, op.Parameters} {
		for _, p := range list {
			if p != nil && p.Value != nil {
				refs = append(refs, p.Value.Schema)
				for _, mt := range p.Value.Content {
					refs = append(refs, mt.Schema)
				}
			}
		}
	}
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		for _, mt := range op.RequestBody.Value.Content {
			refs = append(refs, mt.Schema)
		}
	}
	if op.Responses != nil {
		for _, r := range op.Responses.Map() {
			if r == nil || r.Value == nil {
				continue
			}
			for _, mt := range r.Value.Content {
				refs = append(refs, mt.Schema)
			}
			for _, h := range r.Value.Headers {
				if h != nil && h.Value != nil {
					refs = append(refs, h.Value.Schema)
				}
			}
		}
	}
	for _, ref := range refs {
		if ref == nil || ref.Value == nil {
			continue
		}
		err := ref.WalkSubtree(func(_ string, r *openapi3.SchemaRef) error {
			if r.Value != nil && has2020Keyword(r.Value) {
				return errFound
			}
			return nil
		})
		if errors.Is(err, errFound) {
			return true
		}
	}
	return false
}

var errFound = errors.New("found")

func has2020Keyword(s *openapi3.Schema) bool {
	return s.Const != nil || len(s.PrefixItems) != 0 || s.Contains != nil ||
		len(s.PatternProperties) != 0 || len(s.DependentSchemas) != 0 || s.PropertyNames != nil ||
		s.UnevaluatedItems.Has != nil || s.UnevaluatedItems.Schema != nil ||
		s.UnevaluatedProperties.Has != nil || s.UnevaluatedProperties.Schema != nil ||
		s.If != nil || s.Then != nil || s.Else != nil ||
		len(s.DependentRequired) != 0 || len(s.Defs) != 0 || s.ContentSchema != nil
}

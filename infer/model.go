// Package infer turns HTTP exchanges into an API inventory: services (by
// host), endpoint templates (see package template), and per operation the
// parameters, bodies (package schema), credentials (package auth),
// sensitive data (package sensitive) and statistics; and exports it as
// OpenAPI 3.0 or 3.1 with kin-openapi.
//
// A Model is plain, serializable data (exported structs with JSON tags) and
// merges: observing A then B gives the same inventory as observing A and B
// into two models and merging them (up to the limits and to which bodies the
// deterministic sampling picked). Templates are decided when asked for, from
// the evidence kept in each service's path trie, so they are revised as
// evidence arrives.
package infer

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/specter-dev/specter/infer/auth"
	"github.com/specter-dev/specter/infer/operations"
	"github.com/specter-dev/specter/infer/schema"
	"github.com/specter-dev/specter/infer/sensitive"
	"github.com/specter-dev/specter/infer/template"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/message"
)

// Stats counts what a Model dropped or could not use.
type Stats struct {
	Exchanges       uint64 `json:"exchanges"`
	NoRequest       uint64 `json:"no_request,omitempty"`        // responses without a request: not placeable
	Ignored         uint64 `json:"ignored,omitempty"`           // by the config's ignore rules
	DroppedServices uint64 `json:"dropped_services,omitempty"`  // exchanges past MaxServices
	DroppedOps      uint64 `json:"dropped_ops,omitempty"`       // exchanges whose operation was past MaxOpsPerService
	BadQuery        uint64 `json:"bad_query,omitempty"`         // query strings that did not parse cleanly
	BadBodies       uint64 `json:"bad_bodies,omitempty"`        // bodies whose declared type did not parse
	DroppedBudget   uint64 `json:"dropped_budget,omitempty"`    // exchanges needing a new service or operation past Limits.MaxBytes
	MinSampled      uint64 `json:"min_sampled,omitempty"`       // bodies observed outside the sampler by Limits.MinBodySamples
	MinSamplersFull uint64 `json:"min_samplers_full,omitempty"` // bodies given no minimum: their service had MaxSamplers shape, status and media type counters
	GRPCUnnamed     uint64 `json:"grpc_unnamed,omitempty"`      // gRPC calls whose method path was not known (HPACK state from before the capture)
	DroppedGRPC     uint64 `json:"dropped_grpc,omitempty"`      // gRPC calls past MaxGRPCServices or MaxGRPCMethods
	SeqRecordsCut   uint64 `json:"seq_records_cut,omitempty"`   // records of JSON sequence bodies past maxSeqRecords, not fed to schemas
}

// Service is one host's inventory.
type Service struct {
	Name      string         `json:"name"`
	Count     uint64         `json:"count"`
	FirstSeen time.Time      `json:"first_seen"`
	LastSeen  time.Time      `json:"last_seen"`
	Trie      *template.Trie `json:"trie"`
	// Ops are the raw operations the trie nodes point to (Node.Ops).
	Ops []*Operation `json:"ops"`
	// Samplers count the requests seen per method and path shape (keyed by
	// a hash; "shared" past MaxSamplers), for the deterministic body
	// sampling (schema.Options.Sample).
	Samplers map[string]int64 `json:"samplers,omitempty"`
	// Probes counts the requests kept out of the inventory as path-scan
	// probes (answered 404, of a shape the service serves no other way;
	// see Scanned). ProbeShapes counts them per shape (at most 512 shapes;
	// past that, in ProbesUnshaped).
	Probes         uint64            `json:"probes,omitempty"`
	ProbeShapes    map[string]uint32 `json:"probe_shapes,omitempty"`
	ProbesUnshaped uint64            `json:"probes_unshaped,omitempty"`
	// GRPC is the gRPC inventory, by full gRPC service name (at most
	// Limits.MaxGRPCServices): gRPC calls are recorded here, not in Trie.
	GRPC map[string]*GRPCService `json:"grpc,omitempty"`

	// bodySeen counts the bodies observed under Limits.MinBodySamples per
	// hash of sampler key, status and media type (at most MaxSamplers). It
	// is not stored: a reloaded inventory observes up to the minimum again.
	bodySeen map[uint64]int64
}

// Model is the inventory of everything observed.
type Model struct {
	ByName map[string]*Service `json:"services"`
	// Priors are declared templates per service (see SetPrior); "" applies
	// to every service.
	Priors map[string][]string `json:"priors,omitempty"`
	Stats  Stats               `json:"stats"`

	cfg    Config
	limits Limits
	sopts  schema.Options

	// Per-exchange scratch and caches, so that repeated shapes cost no
	// allocation: the path's segments, the sampler keys by hash (at most
	// maxCached, then started over), the parsed Content-Types and the
	// names of Host headers (the same).
	segs    []string
	redSegs []string // segs with secrets replaced by markers
	example []byte   // a redacted body example (at most MaxExampleBytes)
	// creds and credNames are knownCredentials' result and scratch (at
	// most MaxParams credentials per operation).
	creds      []auth.Credential
	credNames  []string
	sampleKeys map[uint64]string
	// costBytes is the inventory's estimated size (see cost), valid when
	// costKnown: Merge and decoding leave it unknown.
	costBytes int64
	costKnown bool
	media     map[string]parsedMedia
	hosts     map[string]hostResult
	// rpc finds GraphQL, JSON-RPC and SOAP calls (its document cache is
	// bounded).
	rpc operations.Detector
}

// maxCached bounds each of a Model's caches, maxCachedKey the length of
// the strings they keep.
const (
	maxCached    = 256
	maxCachedKey = 256
)

type parsedMedia struct {
	mt     string
	params map[string]string // shared by the cache's users: read only
}

// NewModel returns an empty model.
func NewModel(cfg Config) *Model {
	m := &Model{ByName: map[string]*Service{}, cfg: cfg, limits: cfg.Limits.withDefaults()}
	m.sopts = cfg.Schema
	m.rpc.Limits = m.limits.Operations
	if m.sopts.MaxDepth == 0 {
		m.sopts = schema.DefaultOptions()
		// Bodies of each method and path shape: the first 64, then 1 in 16.
		m.sopts.MaxSamples, m.sopts.SampleEvery = 64, 16
	}
	return m
}

// ServiceName returns the service an exchange belongs to: the Host header
// (lower-cased, without a trailing dot or a default port :80/:443), else
// the TLS server name (SNI) of a decrypted exchange, else the server's
// address:port.
func ServiceName(x *reassembly.Exchange) string {
	h := ""
	if x.Request != nil {
		h = x.Request.Authority
	}
	name, ok := hostName(h)
	return serviceName(x, name, ok)
}

// serviceName is ServiceName given hostName's result for x.
func serviceName(x *reassembly.Exchange, name string, ok bool) string {
	if !ok && x.TLS != nil {
		name, ok = hostName(x.TLS.SNI)
	}
	if ok {
		return name
	}
	if x.Flow.Server.IsValid() {
		return x.Flow.Server.String()
	}
	return "unknown"
}

// hostName returns the service name a Host header gives, and false when it
// gives none.
func hostName(h string) (string, bool) {
	h = strings.TrimSpace(strings.ToLower(h))
	h = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(h, ":80"), ":443"), ".")
	if h == "" || len(h) > 255 || strings.ContainsAny(h, " /\\\"'<>{}|^`\x00\t\r\n") {
		return "", false
	}
	return h, true
}

// serviceName is ServiceName, with the Host headers' names cached.
func (m *Model) serviceName(x *reassembly.Exchange) string {
	h := ""
	if x.Request != nil {
		h = x.Request.Authority
	}
	hn, ok := m.hosts[h]
	if !ok {
		hn.name, hn.ok = hostName(h)
		if len(h) > maxCachedKey {
			return serviceName(x, hn.name, hn.ok)
		}
		if m.hosts == nil || len(m.hosts) >= maxCached {
			m.hosts = make(map[string]hostResult)
		}
		m.hosts[h] = hn
	}
	return serviceName(x, hn.name, hn.ok)
}

type hostResult struct {
	name string
	ok   bool
}

// Observe records one exchange. It does no I/O and keeps only bounded,
// sampled state: bodies, parameter values and examples are looked at for
// the first schema.Options.MaxSamples requests of each method and path
// shape, then one in SampleEvery; counts, statuses, latency and
// credentials are recorded for every request.
func (m *Model) Observe(x *reassembly.Exchange) {
	if x == nil {
		return
	}
	m.Stats.Exchanges++
	req := x.Request
	if req == nil {
		m.Stats.NoRequest++
		return
	}
	p := req.Path
	if p == "" {
		p = "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	name := m.serviceName(x)
	if m.cfg.ignoredHost(name) || m.cfg.ignoredPath(p) {
		m.Stats.Ignored++
		return
	}
	svc := m.ByName[name]
	if svc == nil {
		if len(m.ByName) >= m.limits.MaxServices {
			m.Stats.DroppedServices++
			return
		}
		if m.overBudget() {
			m.Stats.DroppedBudget++
			return
		}
		svc = &Service{Name: name, Trie: template.NewTrie(m.limits.Trie), Samplers: map[string]int64{}}
		m.ByName[name] = svc
		m.costBytes += costService + costNode
	}
	when := req.Start
	if when.IsZero() && x.Response != nil {
		when = x.Response.Start
	}
	svc.Count++
	widen(&svc.FirstSeen, &svc.LastSeen, when)
	if x.GRPC != nil {
		m.observeGRPC(svc, x, when)
		return
	}

	m.segs = template.AppendSplitPath(m.segs[:0], p)
	segs := m.segs
	// Secrets in paths (reset and magic-link tokens, keys) never reach the
	// trie, which is stored: their markers are strong values, so the
	// templates come out as they would with the secrets.
	m.redSegs = sensitive.AppendRedacted(m.redSegs[:0], segs)
	method := normMethod(req.Method)
	key := m.sampleKey(method, m.redSegs)
	if m.probe(svc, x, key, m.redSegs) {
		return
	}
	nodes := svc.Trie.Stats.Nodes
	rejected := x.Response != nil && template.RejectedStatus(x.Response.StatusCode)
	node := svc.Trie.InsertRejected(m.redSegs, rejected)
	m.costBytes += int64(svc.Trie.Stats.Nodes-nodes) * costNode
	id, ok := node.Ops[method]
	if !ok {
		if len(svc.Ops) >= m.limits.MaxOpsPerService {
			m.Stats.DroppedOps++
			return
		}
		if m.overBudget() {
			m.Stats.DroppedBudget++
			return
		}
		m.costBytes += costOp
		id = len(svc.Ops)
		svc.Ops = append(svc.Ops, newOperation(method))
		if node.Ops == nil {
			node.Ops = map[string]int{}
		}
		node.Ops[method] = id
	}
	op := svc.Ops[id]
	sampled := m.sopts.Sample(svc.sampler(key, m.limits.MaxSamplers))
	m.record(op, x, when, sampled, segs, shapeOf{svc, key})
}

// sampleKey returns the sampler key of a request: a hash of its method and
// path shape (variable-looking segments blanked).
func (m *Model) sampleKey(method string, segs []string) string {
	h := fnvMix(fnvOffset, method)
	for _, seg := range segs {
		stem, ext := template.SplitExt(seg)
		if template.Classify(stem).Variable() {
			h = fnvMix(h, "\x00*"+ext)
		} else {
			h = fnvMix(h, seg)
		}
	}
	if k, ok := m.sampleKeys[h]; ok {
		return k
	}
	k := strconv.FormatUint(h, 16)
	if m.sampleKeys == nil || len(m.sampleKeys) >= maxCached {
		m.sampleKeys = make(map[uint64]string)
	}
	m.sampleKeys[h] = k
	return k
}

// fnvOffset starts an FNV-1a hash (see fnvMix).
const fnvOffset = 14695981039346656037

// fnvMix adds str and a separator to the FNV-1a hash h, with no
// allocation (hash/fnv takes bytes and a heap hasher).
func fnvMix(h uint64, str string) uint64 {
	const prime = 1099511628211
	for i := 0; i < len(str); i++ {
		h ^= uint64(str[i])
		h *= prime
	}
	h ^= '/'
	return h * prime
}

// sampler returns the 0-based number of this request among those with the
// same sampler key (see sampleKey), and counts it.
func (s *Service) sampler(k string, limit int) int64 {
	if s.Samplers == nil {
		s.Samplers = map[string]int64{}
	}
	n, ok := s.Samplers[k]
	if !ok && len(s.Samplers) >= limit {
		n = s.Samplers["shared"]
		s.Samplers["shared"] = n + 1
		return n
	}
	s.Samplers[k] = n + 1
	return n
}

// normMethod upper-cases a method; anything that is not a short token is
// "OTHER", so hostile bytes cannot become map keys or YAML.
func normMethod(s string) string {
	if s == "" || len(s) > 16 {
		return "OTHER"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '-' || c == '_') {
			return "OTHER"
		}
	}
	return strings.ToUpper(s)
}

// ignoredHeaders are request headers that say nothing about the API:
// standard, hop-by-hop, caching, tracing and proxy headers. Credentials are
// handled as security, not as parameters.
var ignoredHeaders = map[string]bool{
	"Host": true, "User-Agent": true, "Accept": true, "Accept-Encoding": true, "Accept-Language": true,
	"Accept-Charset": true, "Content-Type": true, "Content-Length": true, "Content-Encoding": true,
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Transfer-Encoding": true, "Te": true,
	"Trailer": true, "Upgrade": true, "Via": true, "Date": true, "Origin": true, "Referer": true,
	"Cache-Control": true, "Pragma": true, "Expect": true, "Cookie": true, "Authorization": true,
	"Proxy-Authorization": true, "Forwarded": true, "X-Forwarded-For": true, "X-Forwarded-Host": true,
	"X-Forwarded-Proto": true, "X-Forwarded-Port": true, "X-Real-Ip": true, "Dnt": true, "Priority": true,
	"Upgrade-Insecure-Requests": true, "Traceparent": true, "Tracestate": true, "B3": true,
	"X-Request-Id": true, "X-Correlation-Id": true, "X-Amzn-Trace-Id": true, "Content-Md5": true,
	"If-Match": true, "If-None-Match": true, "If-Modified-Since": true, "If-Unmodified-Since": true,
	"If-Range": true, "Max-Forwards": true, "Http2-Settings": true,
}

func ignoredHeader(h string) bool {
	return ignoredHeaders[h] || strings.HasPrefix(h, "Sec-") || strings.HasPrefix(h, "X-B3-") ||
		strings.HasPrefix(h, "Accept-") || strings.HasPrefix(h, "Access-Control-Request-")
}

// widen stretches the window from *first to *last to take in t; a zero t
// (time unknown) leaves it as it is.
func widen(first, last *time.Time, t time.Time) {
	if t.IsZero() {
		return
	}
	if first.IsZero() || t.Before(*first) {
		*first = t
	}
	if t.After(*last) {
		*last = t
	}
}

func (m *Model) record(op *Operation, x *reassembly.Exchange, when time.Time, sampled bool, segs []string, shape shapeOf) {
	req := x.Request
	op.Count++
	if p := x.Process; p != nil {
		op.addProcess(p.Comm, 1, []uint32{p.PID}, m.limits.MaxProcesses)
	}
	widen(&op.FirstSeen, &op.LastSeen, when)
	resp := x.Response
	status := 0
	if resp != nil {
		status = resp.StatusCode
		op.addStatus(itoa(status), 1, m.limits.MaxStatuses)
		if !req.Start.IsZero() && !resp.End.IsZero() && resp.End.After(req.Start) {
			op.Latency.add(resp.End.Sub(req.Start))
		}
	}

	var query url.Values // nil, as empty as ParseQuery's, for no query
	if req.RawQuery != "" {
		var err error
		if query, err = url.ParseQuery(req.RawQuery); err != nil {
			m.Stats.BadQuery++
		}
	}
	creds := m.knownCredentials(op, req.Header, query, sampled)
	if creds == nil {
		creds = auth.Inspect(req.Header, query)
	}
	// The names credentials were found under: read as empty (nil) when
	// there are none.
	var credQuery, credHeader, credCookie map[string]bool
	if len(creds) > 0 {
		credQuery, credHeader, credCookie = map[string]bool{}, map[string]bool{}, map[string]bool{}
	}
	for _, c := range creds {
		name := auth.SchemeName(c)
		if op.Credentials == nil {
			op.Credentials = map[string]*Credential{}
		}
		if cc := op.Credentials[name]; cc != nil {
			cc.Count++
		} else if len(op.Credentials) < m.limits.MaxParams {
			op.Credentials[name] = &Credential{Count: 1, Credential: c}
		}
		switch c.In {
		case auth.InQuery:
			credQuery[c.Name] = true
		case auth.InHeader:
			credHeader[message.CanonicalKey(c.Name)] = true
		case auth.InCookie:
			credCookie[c.Name] = true
		}
	}
	if len(creds) == 0 {
		op.Anonymous++
		if status >= 200 && status < 300 {
			op.Anonymous2xx++
		}
	}

	for _, k := range sortedKeys(query) {
		if credQuery[k] {
			continue
		}
		m.observeParam(op, &op.Query, k, query[k], sampled)
	}
	observeHeader := func(k string, vs []string) {
		ck := message.CanonicalKey(k)
		if !ignoredHeader(ck) && !credHeader[ck] {
			m.observeParam(op, &op.Headers, ck, vs, sampled)
		}
	}
	if len(req.Header)+len(op.Headers) > m.limits.MaxParams {
		// The cap may be hit: keep the names in a deterministic order.
		for _, k := range sortedKeys(req.Header) {
			observeHeader(k, req.Header[k])
		}
	} else {
		for k, vs := range req.Header {
			observeHeader(k, vs)
		}
	}
	if cs := req.Header["Cookie"]; len(cs) > 0 {
		hdr := http.Header{"Cookie": cs}
		r := http.Request{Header: hdr}
		for i, c := range r.Cookies() {
			if i >= m.limits.MaxParams {
				break
			}
			if credCookie[c.Name] {
				continue
			}
			m.observeParam(op, &op.Cookies, c.Name, []string{c.Value}, sampled)
		}
	}
	if sampled {
		for _, s := range segs {
			if strings.IndexByte(s, '@') > 0 || len(s) >= 9 {
				op.Sensitive |= sensitive.Classify("", s)
			}
		}
	}

	if ct := HeaderValue(req.Header, "Content-Type"); len(req.Body.Bytes()) > 0 || ct != "" && req.WireSize > 0 {
		mt, params := m.parseMediaType(ct, req.Body.Bytes())
		if op.Requests == nil {
			op.Requests = map[string]*Body{}
		}
		b := op.Requests[mt]
		if b == nil && len(op.Requests) < m.limits.MaxMediaTypes {
			b = &Body{}
			op.Requests[mt] = b
		}
		if b == nil {
			op.BodiesDropped++
		} else {
			b.Count++
			if m.sampleBody(shape, "request", mt, sampled) {
				m.observeBody(op, b, mt, params, req.Body.Bytes(), req.AllFlags()&partialBody != 0)
			}
		}
	}
	m.observeRPC(op, x, when)
	if resp != nil {
		code := itoa(status)
		if op.Responses == nil {
			op.Responses = map[string]*Response{}
		}
		r := op.Responses[code]
		if r == nil {
			if len(op.Responses) >= m.limits.MaxStatuses {
				return
			}
			r = &Response{}
			op.Responses[code] = r
		}
		r.Count++
		if len(resp.Body.Bytes()) > 0 {
			mt, params := m.parseMediaType(HeaderValue(resp.Header, "Content-Type"), resp.Body.Bytes())
			if r.Bodies == nil {
				r.Bodies = map[string]*Body{}
			}
			b := r.Bodies[mt]
			if b == nil && len(r.Bodies) < m.limits.MaxMediaTypes {
				b = &Body{}
				r.Bodies[mt] = b
			}
			if b == nil {
				op.BodiesDropped++
			} else {
				b.Count++
				if m.sampleBody(shape, code, mt, sampled) {
					m.observeBody(op, b, mt, params, resp.Body.Bytes(), resp.AllFlags()&partialBody != 0)
				}
			}
		}
	}
}

// shapeOf names the sampler of a request: its service and sampler key
// (method and path shape, see sampleKey).
type shapeOf struct {
	svc *Service
	key string
}

// sampleBody reports whether a body is observed: when its request is
// sampled, or when it is among the first Limits.MinBodySamples bodies of
// its method and path shape, status code (where; "request" for a request
// body) and media type. The sampler counts requests per shape, so without the
// minimum a status answering a few requests in hundreds would mostly miss
// the sample and lose its schema.
func (m *Model) sampleBody(shape shapeOf, where, mt string, sampled bool) bool {
	if m.limits.MinBodySamples <= 0 {
		return sampled
	}
	h := fnvMix(fnvMix(fnvMix(fnvOffset, shape.key), where), mt)
	svc := shape.svc
	n, ok := svc.bodySeen[h]
	if !ok {
		// Bounded like the samplers: past MaxSamplers keys, further
		// statuses and media types get no minimum.
		if len(svc.bodySeen) >= m.limits.MaxSamplers {
			if !sampled {
				m.Stats.MinSamplersFull++
			}
			return sampled
		}
		if svc.bodySeen == nil {
			svc.bodySeen = map[uint64]int64{}
		}
	}
	if n >= int64(m.limits.MinBodySamples) {
		return sampled
	}
	// Sampled bodies count toward the minimum too: it is a floor, not
	// extra bodies on top of the sampler's.
	svc.bodySeen[h] = n + 1
	if !sampled {
		m.Stats.MinSampled++
	}
	return true
}

// observeRPC records the GraphQL, JSON-RPC and SOAP calls of an exchange
// on its transport operation. Every exchange is looked at, not only the
// sampled ones, so that a rarely called operation behind a busy URL is not
// missed; the operations' own schemas are sampled per operation.
func (m *Model) observeRPC(op *Operation, x *reassembly.Exchange, when time.Time) {
	req := x.Request
	if len(req.Body.Bytes()) == 0 && req.RawQuery == "" {
		return
	}
	ox := operations.Exchange{
		Method: req.Method, RawQuery: req.RawQuery,
		ContentType: HeaderValue(req.Header, "Content-Type"), SOAPAction: HeaderValue(req.Header, "Soapaction"),
		Body: req.Body.Bytes(), Partial: req.AllFlags()&partialBody != 0,
	}
	if resp := x.Response; resp != nil {
		ox.RespContentType, ox.RespBody, ox.RespPartial = HeaderValue(resp.Header, "Content-Type"), resp.Body.Bytes(), resp.AllFlags()&partialBody != 0
	}
	res, err := m.rpc.Calls(&ox)
	if len(res.Calls) == 0 && err == nil {
		return
	}
	if op.RPC == nil {
		op.RPC = &operations.Inventory{}
	}
	op.RPC.Observe(res, err, when, m.limits.Operations, m.sopts)
}

// knownCredentials is the fast path of credential detection for requests
// that are not sampled: when the operation has seen credentials and the
// request carries all of them in the same places, it returns them without
// decoding tokens again. Otherwise it returns nil and the caller inspects
// the request fully. The result is scratch of m's, valid until the next
// call: it runs for most requests, so it allocates nothing.
func (m *Model) knownCredentials(op *Operation, h http.Header, query url.Values, sampled bool) []auth.Credential {
	if sampled || len(op.Credentials) == 0 {
		return nil
	}
	m.credNames = m.credNames[:0]
	for name := range op.Credentials {
		m.credNames = append(m.credNames, name)
	}
	slices.Sort(m.credNames)
	out := m.creds[:0]
	for _, name := range m.credNames {
		c := op.Credentials[name].Credential
		ok := false
		switch c.In {
		case auth.InQuery:
			ok = query.Get(c.Name) != ""
		case auth.InCookie:
			for _, v := range h["Cookie"] {
				if strings.Contains(v, c.Name+"=") {
					ok = true
				}
			}
		default:
			v := h.Get(c.Name)
			switch c.Scheme {
			case auth.SchemeAPIKey:
				ok = strings.TrimSpace(v) != ""
			default:
				ok = len(v) > len(c.Scheme) && strings.EqualFold(v[:len(c.Scheme)], c.Scheme) && v[len(c.Scheme)] == ' '
			}
		}
		if !ok {
			m.creds = out[:0]
			return nil
		}
		out = append(out, c)
	}
	m.creds = out[:0]
	return out
}

// partialBody flags a body that is not the whole message as sent: its
// schema is not inferred (it would not parse, or mislead).
const partialBody = message.FlagBodyTruncated | message.FlagGap | message.FlagDecodeError | message.FlagBombCut | message.FlagIncomplete

func (m *Model) observeParam(op *Operation, dst *map[string]*Param, name string, vals []string, sampled bool) {
	if len(name) > 128 {
		op.ParamsDropped++
		return
	}
	if (*dst)[name] == nil {
		// A name that is a secret itself (?<token>=1) is kept as its marker.
		if r, ok := sensitive.RedactName(name); ok {
			name = r
		}
	}
	p := addParam(dst, name, m.limits.MaxParams)
	if p == nil {
		op.ParamsDropped++
		return
	}
	p.Count++
	if !sampled {
		return
	}
	for i, v := range vals {
		if i >= 8 {
			break
		}
		p.Schema.ObserveNamedString(name, v, m.sopts)
		op.Sensitive |= sensitive.Classify(name, v)
	}
}

// parseMediaType returns the lower-cased media type of a body and its
// parameters; a body without a (parsable) Content-Type is
// application/octet-stream. Parsed Content-Types are cached.
func (m *Model) parseMediaType(ct string, body []byte) (string, map[string]string) {
	if ct == "" {
		if json.Valid(bytes.TrimSpace(body)) && len(body) > 0 && (body[0] == '{' || body[0] == '[') {
			return "application/json", nil
		}
		return "application/octet-stream", nil
	}
	if p, ok := m.media[ct]; ok {
		return p.mt, p.params
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || len(mt) > 100 {
		mt, params = "application/octet-stream", nil
	} else {
		mt = strings.ToLower(mt)
	}
	if len(ct) > maxCachedKey {
		return mt, params
	}
	if m.media == nil || len(m.media) >= maxCached {
		m.media = make(map[string]parsedMedia)
	}
	m.media[ct] = parsedMedia{mt, params}
	return mt, params
}

func isJSON(mt string) bool {
	return mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "text/json"
}

// observeBody feeds a sampled body to the schema of its media type and
// keeps the first redacted example. Partial bodies are not parsed.
func (m *Model) observeBody(op *Operation, b *Body, mt string, params map[string]string, body []byte, partial bool) {
	if partial {
		return
	}
	switch {
	case isJSONSeq(mt):
		if b.Schema == nil {
			b.Schema = &schema.Node{}
		}
		if err := m.observeJSONSeq(b.Schema, body); err != nil {
			m.Stats.BadBodies++
		}
	case isJSON(mt):
		if b.Schema == nil {
			b.Schema = &schema.Node{}
		}
		if err := b.Schema.ObserveJSON(body, m.sopts); err != nil {
			// A stream sent as JSON: the schema of its records.
			if !streamedJSON(body) || m.observeJSONSeq(b.Schema, body) != nil {
				m.Stats.BadBodies++
			}
			return
		}
		if b.Example == "" && m.limits.MaxExampleBytes > 0 {
			// Only a redacted body that fits whole is kept: a larger one
			// is redacted no further than the cap (see AppendRedactedJSON).
			var ok bool
			if m.example, ok = sensitive.AppendRedactedJSON(m.example[:0], body, m.limits.MaxExampleBytes); ok {
				b.Example = string(m.example)
			}
		}
	case mt == "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(body))
		if err != nil {
			m.Stats.BadBodies++
		}
		if b.Schema == nil {
			b.Schema = &schema.Node{}
		}
		b.Schema.ObserveForm(v, m.sopts)
		for k, vs := range v {
			for _, s := range vs {
				op.Sensitive |= sensitive.Classify(k, s)
			}
		}
	case mt == "multipart/form-data":
		if b.Schema == nil {
			b.Schema = &schema.Node{}
		}
		if err := b.Schema.ObserveMultipart(body, params["boundary"], m.sopts); err != nil {
			m.Stats.BadBodies++
		}
	}
}

// HeaderValue is Header.Get for a canonical key, without canonicalizing
// (the key is looked up as is, as Get would after canonicalizing it).
func HeaderValue(h http.Header, canonical string) string {
	if v := h[canonical]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func itoa(n int) string {
	if n >= 100 && n <= 999 {
		return statusCodes[n-100]
	}
	return "other"
}

// statusCodes are the strings of the status codes 100 to 999.
var statusCodes = func() (s [900]string) {
	for i := range s {
		s[i] = strconv.Itoa(100 + i)
	}
	return s
}()

// Merge adds everything o observed into m, within m's limits. o is not
// modified and shares no memory with m afterwards.
func (m *Model) Merge(o *Model) {
	if o == nil {
		return
	}
	m.Stats.Exchanges += o.Stats.Exchanges
	m.Stats.NoRequest += o.Stats.NoRequest
	m.Stats.Ignored += o.Stats.Ignored
	m.Stats.DroppedServices += o.Stats.DroppedServices
	m.Stats.DroppedOps += o.Stats.DroppedOps
	m.Stats.BadQuery += o.Stats.BadQuery
	m.Stats.BadBodies += o.Stats.BadBodies
	m.Stats.DroppedBudget += o.Stats.DroppedBudget
	m.Stats.MinSampled += o.Stats.MinSampled
	m.Stats.MinSamplersFull += o.Stats.MinSamplersFull
	m.Stats.GRPCUnnamed += o.Stats.GRPCUnnamed
	m.Stats.DroppedGRPC += o.Stats.DroppedGRPC
	m.Stats.SeqRecordsCut += o.Stats.SeqRecordsCut
	m.costKnown = false
	for _, h := range sortedKeys(o.Priors) {
		m.addPriors(h, o.Priors[h])
	}
	for _, name := range sortedKeys(o.ByName) {
		src := o.ByName[name]
		dst := m.ByName[name]
		if dst == nil {
			if len(m.ByName) >= m.limits.MaxServices {
				m.Stats.DroppedServices += src.Count
				continue
			}
			dst = &Service{Name: name, Trie: template.NewTrie(m.limits.Trie), Samplers: map[string]int64{}}
			m.ByName[name] = dst
		}
		dst.Count += src.Count
		mergeProbes(dst, src)
		m.mergeGRPC(dst, src)
		if !src.FirstSeen.IsZero() && (dst.FirstSeen.IsZero() || src.FirstSeen.Before(dst.FirstSeen)) {
			dst.FirstSeen = src.FirstSeen
		}
		if src.LastSeen.After(dst.LastSeen) {
			dst.LastSeen = src.LastSeen
		}
		for _, k := range sortedKeys(src.Samplers) {
			if _, ok := dst.Samplers[k]; ok || len(dst.Samplers) < m.limits.MaxSamplers {
				dst.Samplers[k] += src.Samplers[k]
			} else {
				dst.Samplers["shared"] += src.Samplers[k]
			}
		}
		for k, n := range src.bodySeen {
			// Past the bound the minimum is simply not remembered: the
			// merged model may observe a few more bodies of those shapes.
			if _, ok := dst.bodySeen[k]; ok || len(dst.bodySeen) < m.limits.MaxSamplers {
				if dst.bodySeen == nil {
					dst.bodySeen = map[uint64]int64{}
				}
				dst.bodySeen[k] += n
			}
		}
		dst.Trie.Merge(src.Trie, func(method string, dstID, srcID int) (int, bool) {
			if srcID < 0 || srcID >= len(src.Ops) {
				return 0, false
			}
			if dstID < 0 {
				if len(dst.Ops) >= m.limits.MaxOpsPerService {
					m.Stats.DroppedOps += src.Ops[srcID].Count
					return 0, false
				}
				dstID = len(dst.Ops)
				dst.Ops = append(dst.Ops, newOperation(method))
			}
			dst.Ops[dstID].merge(src.Ops[srcID], m.limits, m.sopts)
			return dstID, true
		})
	}
}

// SetPrior makes a declared spec's templates win where traffic matches
// them, for service host ("" for every service). Paths are prefixed with
// the path of the spec's first server URL (its base path).
func (m *Model) SetPrior(spec *openapi3.T, host string) {
	if spec == nil || spec.Paths == nil {
		return
	}
	base := ""
	if len(spec.Servers) > 0 && spec.Servers[0] != nil {
		raw := spec.Servers[0].URL
		for k, v := range spec.Servers[0].Variables {
			if v != nil {
				raw = strings.ReplaceAll(raw, "{"+k+"}", v.Default)
			}
		}
		if u, err := url.Parse(raw); err == nil {
			base = strings.TrimRight(u.Path, "/")
		}
	}
	var ts []string
	for _, p := range spec.Paths.InMatchingOrder() {
		ts = append(ts, base+p)
	}
	sort.Strings(ts)
	m.addPriors(strings.ToLower(host), ts)
}

func (m *Model) addPriors(host string, ts []string) {
	if m.Priors == nil {
		m.Priors = map[string][]string{}
	}
	seen := map[string]bool{}
	for _, t := range m.Priors[host] {
		seen[t] = true
	}
	for _, t := range ts {
		if !seen[t] {
			seen[t] = true
			m.Priors[host] = append(m.Priors[host], t)
		}
	}
	sort.Strings(m.Priors[host])
}

// Services returns the service names, sorted.
func (m *Model) Services() []string { return sortedKeys(m.ByName) }

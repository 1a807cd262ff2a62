package infer

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"io"
	"sort"
	"strconv"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/specter-dev/specter/infer/grpcshape"
	"github.com/specter-dev/specter/infer/sensitive"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/http2"
)

// GRPCService is the inventory of one gRPC service ("routeguide.RouteGuide")
// as served by one Service (host). A gRPC call is recorded here and never
// in the service's path trie: a method path is an RPC name, not a REST
// resource, and templating /pkg.Service/GetA, /pkg.Service/GetB into
// /pkg.Service/{x} would both hide the methods and invent an endpoint.
type GRPCService struct {
	Methods map[string]*GRPCMethod `json:"methods"`
	// DroppedMethods counts calls of methods past Limits.MaxGRPCMethods.
	DroppedMethods uint64 `json:"dropped_methods,omitempty"`
}

// GRPCMethod is what was observed of one gRPC method.
type GRPCMethod struct {
	Count     uint64    `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Kinds counts the calls by the kind their traffic showed
	// (http2.StreamKind names): a client-streaming call that sent one
	// message looks unary, so the method's kind is decided from all calls
	// (see Kind).
	Kinds map[string]uint64 `json:"kinds,omitempty"`
	// RequestMessages and ResponseMessages count the messages of each
	// direction over all calls.
	RequestMessages  uint64 `json:"request_messages"`
	ResponseMessages uint64 `json:"response_messages"`
	// Statuses counts the calls by grpc-status name ("OK", "NOT_FOUND";
	// "none" when no grpc-status was seen, "other" past MaxStatuses).
	Statuses map[string]uint64 `json:"statuses,omitempty"`
	// HTTPStatuses counts the calls by HTTP :status ("200"; "other" past
	// MaxStatuses): a proxy in front of the server answers 502 or 503
	// without any grpc-status.
	HTTPStatuses map[string]uint64 `json:"http_statuses,omitempty"`
	Latency      Histogram         `json:"latency"`
	// Request and Response are the inferred shapes of the sampled messages
	// (schema.Options.Sample per direction).
	Request  grpcshape.Shape `json:"request"`
	Response grpcshape.Shape `json:"response"`
	// Truncated counts messages whose shape could not be inferred because
	// they were cut; Compressed sampled messages in an encoding not decoded
	// (gzip and deflate are), corrupt, or over maxDecoded decompressed.
	Truncated  uint64 `json:"truncated,omitempty"`
	Compressed uint64 `json:"compressed,omitempty"`
	// FramingLost counts calls where bytes were lost inside a message:
	// their message counts may be low.
	FramingLost uint64 `json:"framing_lost,omitempty"`
	// Sensitive collects the kinds of sensitive data found in string
	// fields; SensitiveFields says where, by field path ("request.1.3")
	// with at most maxSensitiveFields paths (more counted in
	// SensitiveFieldsDropped).
	Sensitive              sensitive.Tag            `json:"sensitive,omitempty"`
	SensitiveFields        map[string]sensitive.Tag `json:"sensitive_fields,omitempty"`
	SensitiveFieldsDropped uint64                   `json:"sensitive_fields_dropped,omitempty"`
}

// maxSensitiveFields bounds GRPCMethod.SensitiveFields.
const maxSensitiveFields = 32

// statusNames are the gRPC status codes' names (grpc/codes, as in the
// gRPC documentation and grpc-status-details).
var statusNames = [...]string{"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
	"UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"}

// GRPCStatusName names a grpc-status code: "OK", "NOT_FOUND"…, "none" for
// -1 (not seen), "CODE_n" for codes gRPC does not define.
func GRPCStatusName(code int) string {
	switch {
	case code < 0:
		return "none"
	case code < len(statusNames):
		return statusNames[code]
	}
	return "CODE_" + strconv.Itoa(code)
}

// Kind is the method's streaming kind over all its calls: client
// streaming when some call sent several messages, server streaming when
// some call received several, bidirectional when both were seen.
func (gm *GRPCMethod) Kind() http2.StreamKind {
	client := gm.Kinds[http2.ClientStreaming.String()] > 0 || gm.Kinds[http2.BidiStreaming.String()] > 0
	server := gm.Kinds[http2.ServerStreaming.String()] > 0 || gm.Kinds[http2.BidiStreaming.String()] > 0
	switch {
	case client && server:
		return http2.BidiStreaming
	case client:
		return http2.ClientStreaming
	case server:
		return http2.ServerStreaming
	}
	return http2.Unary
}

// observeGRPC records a gRPC call on its host's service. Calls whose
// method is unknown (a :path from an HPACK entry of before the capture)
// are counted, not placed: no name is guessed.
func (m *Model) observeGRPC(svc *Service, x *reassembly.Exchange, when time.Time) {
	g := x.GRPC
	service, name, ok := grpcshape.SplitPath(g.Method)
	if !ok || len(g.Method) > maxCachedKey {
		m.Stats.GRPCUnnamed++
		return
	}
	if svc.GRPC == nil {
		svc.GRPC = map[string]*GRPCService{}
	}
	gs := svc.GRPC[service]
	if gs == nil {
		if len(svc.GRPC) >= m.limits.MaxGRPCServices {
			m.Stats.DroppedGRPC++
			return
		}
		gs = &GRPCService{Methods: map[string]*GRPCMethod{}}
		svc.GRPC[service] = gs
	}
	gm := gs.Methods[name]
	if gm == nil {
		if len(gs.Methods) >= m.limits.MaxGRPCMethods {
			gs.DroppedMethods++
			m.Stats.DroppedGRPC++
			return
		}
		if m.overBudget() {
			m.Stats.DroppedBudget++
			return
		}
		m.costBytes += costOp
		gm = &GRPCMethod{}
		gs.Methods[name] = gm
	}
	gm.Count++
	widen(&gm.FirstSeen, &gm.LastSeen, when)
	if gm.Kinds == nil {
		gm.Kinds = map[string]uint64{}
	}
	gm.Kinds[g.Kind.String()]++
	if g.FramingLost {
		gm.FramingLost++
	}
	gm.Statuses = addCount(gm.Statuses, GRPCStatusName(g.Status), 1, m.limits.MaxStatuses)
	if x.Response != nil {
		gm.HTTPStatuses = addCount(gm.HTTPStatuses, itoa(x.Response.StatusCode), 1, m.limits.MaxStatuses)
	}
	if req, resp := x.Request, x.Response; req != nil && resp != nil && !req.Start.IsZero() && resp.End.After(req.Start) {
		gm.Latency.add(resp.End.Sub(req.Start))
	}
	m.observeMessages(gm, &gm.Request, &gm.RequestMessages, "request", g.RequestEncoding, g.Requests, g.RequestCount)
	m.observeMessages(gm, &gm.Response, &gm.ResponseMessages, "response", g.ResponseEncoding, g.Responses, g.ResponseCount)
}

// observeMessages counts a direction's messages and infers the shape of
// the sampled ones; encoding is the direction's grpc-encoding, for the
// messages flagged compressed.
func (m *Model) observeMessages(gm *GRPCMethod, shape *grpcshape.Shape, count *uint64, dir, encoding string, msgs []http2.GRPCMessage, n int) {
	for _, msg := range msgs {
		seen := int64(*count)
		*count++
		n--
		if msg.Truncated {
			gm.Truncated++
			continue
		}
		if !m.sopts.Sample(seen) {
			continue
		}
		data := msg.Data
		if msg.Compressed {
			var ok bool
			if data, ok = decompress(encoding, data); !ok {
				gm.Compressed++
				continue
			}
		}
		if shape.Add(data) == nil {
			gm.classify(dir, data, 0)
		}
	}
	if n > 0 {
		*count += uint64(n) // messages past http2's MaxGRPCMessages: counted, not kept
	}
}

// maxDecoded bounds a decompressed gRPC message: a compression bomb is
// cut there, and its shape not inferred.
const maxDecoded = 1 << 20

// decompress decodes a message flagged compressed in the gzip or deflate
// (zlib) grpc-encoding, within maxDecoded; false for other encodings
// (snappy, zstd, custom), corrupt data and bombs.
func decompress(encoding string, b []byte) ([]byte, bool) {
	var r io.Reader
	var err error
	switch encoding {
	case "gzip":
		r, err = gzip.NewReader(bytes.NewReader(b))
	case "deflate":
		r, err = zlib.NewReader(bytes.NewReader(b))
	default:
		return nil, false
	}
	if err != nil {
		return nil, false
	}
	out, err := io.ReadAll(io.LimitReader(r, maxDecoded+1))
	if err != nil || len(out) > maxDecoded {
		return nil, false
	}
	return out, true
}

// classify runs the sensitive-data rules over the string-looking values
// of a valid message, nested messages included (to grpcshape.MaxDepth).
func (gm *GRPCMethod) classify(path string, b []byte, depth int) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return
		}
		b = b[n:]
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return
		}
		v := b[:n]
		b = b[n:]
		if typ != protowire.BytesType {
			continue
		}
		p, _ := protowire.ConsumeBytes(v)
		fp := path + "." + strconv.Itoa(int(num))
		if t := sensitive.ClassifyBytes(nil, p); t != 0 {
			gm.addSensitive(fp, t)
		}
		// As grpcshape decides: a value that parses and starts with a
		// control byte (a tag) is a nested message, not text.
		if depth+1 < grpcshape.MaxDepth && len(p) > 0 && p[0] < 0x20 && grpcshape.Valid(p) {
			gm.classify(fp, p, depth+1)
		}
	}
}

func (gm *GRPCMethod) addSensitive(path string, t sensitive.Tag) {
	gm.Sensitive |= t
	if _, ok := gm.SensitiveFields[path]; !ok && len(gm.SensitiveFields) >= maxSensitiveFields {
		gm.SensitiveFieldsDropped++
		return
	}
	if gm.SensitiveFields == nil {
		gm.SensitiveFields = map[string]sensitive.Tag{}
	}
	gm.SensitiveFields[path] |= t
}

// addCount adds n to counts[name], under "other" when name is new and
// counts holds limit names, and returns counts (made if nil).
func addCount(counts map[string]uint64, name string, n uint64, limit int) map[string]uint64 {
	if counts == nil {
		counts = map[string]uint64{}
	}
	if _, ok := counts[name]; !ok && len(counts) >= limit {
		name = "other"
	}
	counts[name] += n
	return counts
}

// merge adds o into gm (order-independent up to the bounds, which are
// filled in sorted key order).
func (gm *GRPCMethod) merge(o *GRPCMethod, l Limits) {
	widen(&gm.FirstSeen, &gm.LastSeen, o.FirstSeen)
	widen(&gm.FirstSeen, &gm.LastSeen, o.LastSeen)
	gm.Count += o.Count
	for _, k := range sortedKeys(o.Kinds) {
		if gm.Kinds == nil {
			gm.Kinds = map[string]uint64{}
		}
		gm.Kinds[k] += o.Kinds[k]
	}
	gm.RequestMessages += o.RequestMessages
	gm.ResponseMessages += o.ResponseMessages
	for _, k := range sortedKeys(o.Statuses) {
		gm.Statuses = addCount(gm.Statuses, k, o.Statuses[k], l.MaxStatuses)
	}
	for _, k := range sortedKeys(o.HTTPStatuses) {
		gm.HTTPStatuses = addCount(gm.HTTPStatuses, k, o.HTTPStatuses[k], l.MaxStatuses)
	}
	gm.Latency.merge(&o.Latency)
	gm.Request.Merge(&o.Request)
	gm.Response.Merge(&o.Response)
	gm.Truncated += o.Truncated
	gm.Compressed += o.Compressed
	gm.FramingLost += o.FramingLost
	gm.Sensitive |= o.Sensitive
	gm.SensitiveFieldsDropped += o.SensitiveFieldsDropped
	for _, k := range sortedKeys(o.SensitiveFields) {
		gm.addSensitive(k, o.SensitiveFields[k])
	}
}

// mergeGRPC merges the gRPC inventory of src into dst.
func (m *Model) mergeGRPC(dst, src *Service) {
	for _, sname := range sortedKeys(src.GRPC) {
		sg := src.GRPC[sname]
		if dst.GRPC == nil {
			dst.GRPC = map[string]*GRPCService{}
		}
		dg := dst.GRPC[sname]
		if dg == nil {
			if len(dst.GRPC) >= m.limits.MaxGRPCServices {
				for _, gm := range sg.Methods {
					m.Stats.DroppedGRPC += gm.Count
				}
				continue
			}
			dg = &GRPCService{Methods: map[string]*GRPCMethod{}}
			dst.GRPC[sname] = dg
		}
		dg.DroppedMethods += sg.DroppedMethods
		for _, mname := range sortedKeys(sg.Methods) {
			sm := sg.Methods[mname]
			dm := dg.Methods[mname]
			if dm == nil {
				if len(dg.Methods) >= m.limits.MaxGRPCMethods {
					dg.DroppedMethods += sm.Count
					m.Stats.DroppedGRPC += sm.Count
					continue
				}
				dm = &GRPCMethod{}
				dg.Methods[mname] = dm
			}
			dm.merge(sm, m.limits)
		}
	}
}

// GRPCMethodSummary is one gRPC method of one service (host), as listed by
// GRPCMethods. Its service, method, template, count and first/last seen
// mean what they mean in EndpointSummary (method "POST", template the
// method path), so that one listing holds both.
type GRPCMethodSummary struct {
	Service   string    `json:"service"`
	Protocol  string    `json:"protocol"` // "grpc"
	Method    string    `json:"method"`   // "POST"
	Template  string    `json:"template"` // "/pkg.Service/Method"
	Count     uint64    `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// GRPCService is the full service name, RPC the method's name.
	GRPCService string `json:"grpc_service"`
	RPC         string `json:"rpc"`
	// Kind is the streaming kind (GRPCMethod.Kind).
	Kind             string `json:"kind"`
	RequestMessages  uint64 `json:"request_messages"`
	ResponseMessages uint64 `json:"response_messages"`
	// GRPCStatuses counts the calls by grpc-status name; Statuses by HTTP
	// status code, as in EndpointSummary ("other" left out).
	GRPCStatuses map[string]uint64 `json:"grpc_statuses"`
	Statuses     map[int]uint64    `json:"statuses"`
	Latency      Latency           `json:"latency_ms"`
	// RequestFields and ResponseFields count the top-level field numbers
	// inferred.
	RequestFields  int `json:"request_fields"`
	ResponseFields int `json:"response_fields"`
	// Sensitive lists the kinds of sensitive data seen (sensitive.Tag
	// names); SensitiveFields where, by field path.
	Sensitive       []string            `json:"sensitive,omitempty"`
	SensitiveFields map[string][]string `json:"sensitive_fields,omitempty"`
	// Unshaped counts messages whose shape was not inferred (cut or
	// compressed); Malformed those that were not valid protobuf.
	Unshaped  uint64 `json:"unshaped,omitempty"`
	Malformed int    `json:"malformed,omitempty"`
}

// Summary summarizes gm, the method path of service (host) svc.
func (gm *GRPCMethod) Summary(svc, grpcService, rpc string) GRPCMethodSummary {
	s := GRPCMethodSummary{
		Service: svc, Protocol: "grpc", Method: "POST", Template: "/" + grpcService + "/" + rpc,
		Count: gm.Count, FirstSeen: gm.FirstSeen, LastSeen: gm.LastSeen,
		GRPCService: grpcService, RPC: rpc, Kind: gm.Kind().String(),
		RequestMessages: gm.RequestMessages, ResponseMessages: gm.ResponseMessages,
		GRPCStatuses:   map[string]uint64{},
		Statuses:       map[int]uint64{},
		Latency:        Latency{gm.Latency.Quantile(.5), gm.Latency.Quantile(.9), gm.Latency.Quantile(.99)},
		RequestFields:  len(gm.Request.Fields),
		ResponseFields: len(gm.Response.Fields),
		Sensitive:      gm.Sensitive.Names(),
		Unshaped:       gm.Truncated + gm.Compressed,
		Malformed:      gm.Request.Malformed + gm.Response.Malformed,
	}
	for k, v := range gm.Statuses {
		s.GRPCStatuses[k] = v
	}
	for k, v := range gm.HTTPStatuses {
		if c, err := strconv.Atoi(k); err == nil {
			s.Statuses[c] = v
		}
	}
	for k, t := range gm.SensitiveFields {
		if s.SensitiveFields == nil {
			s.SensitiveFields = map[string][]string{}
		}
		s.SensitiveFields[k] = t.Names()
	}
	return s
}

// Endpoint is the method as an endpoint summary (method POST, template
// the method path, HTTP statuses), for listings of endpoints.
func (g GRPCMethodSummary) Endpoint() EndpointSummary {
	return EndpointSummary{Service: g.Service, Method: g.Method, Template: g.Template, Count: g.Count,
		FirstSeen: g.FirstSeen, LastSeen: g.LastSeen, Statuses: g.Statuses, Latency: g.Latency, Sensitive: g.Sensitive}
}

// GRPCMethods lists the gRPC methods of every service (host), sorted by
// service, then method path.
func (m *Model) GRPCMethods() []GRPCMethodSummary {
	var out []GRPCMethodSummary
	for _, name := range m.Services() {
		out = append(out, m.ByName[name].GRPCMethods(name)...)
	}
	return out
}

// GRPCMethods lists the service's gRPC methods, sorted by method path;
// name is the service's name.
func (s *Service) GRPCMethods(name string) []GRPCMethodSummary {
	var out []GRPCMethodSummary
	for _, gname := range sortedKeys(s.GRPC) {
		gs := s.GRPC[gname]
		for _, mname := range sortedKeys(gs.Methods) {
			out = append(out, gs.Methods[mname].Summary(name, gname, mname))
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Template < out[j].Template })
	return out
}

// GRPCServices merges the gRPC services seen on every service (host), or
// on host alone when it is not "", into grpcshape services: the input of
// grpcshape.WriteProto, one per gRPC service name, sorted by name. A
// method's streaming flags are its observed kind.
func (m *Model) GRPCServices(host string) []*grpcshape.Service {
	byName := map[string]*grpcshape.Service{}
	for _, name := range m.Services() {
		if host != "" && name != host {
			continue
		}
		for _, gname := range sortedKeys(m.ByName[name].GRPC) {
			gs := m.ByName[name].GRPC[gname]
			out := byName[gname]
			if out == nil {
				out = &grpcshape.Service{Name: gname}
				byName[gname] = out
			}
			for _, mname := range sortedKeys(gs.Methods) {
				gm := gs.Methods[mname]
				om := out.Method(mname)
				k := gm.Kind()
				om.ClientStreaming = om.ClientStreaming || k == http2.ClientStreaming || k == http2.BidiStreaming
				om.ServerStreaming = om.ServerStreaming || k == http2.ServerStreaming || k == http2.BidiStreaming
				om.Request.Merge(&gm.Request)
				om.Response.Merge(&gm.Response)
			}
		}
	}
	out := make([]*grpcshape.Service, 0, len(byName))
	for _, k := range sortedKeys(byName) {
		out = append(out, byName[k])
	}
	return out
}

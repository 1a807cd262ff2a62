package operations

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strings"
)

// Errors the detectors wrap: a body that looked like an RPC but was past a
// bound or did not parse.
var (
	ErrTooLarge = errors.New("document too large")
	ErrTooDeep  = errors.New("document nested too deep")
	ErrBad      = errors.New("malformed document")
)

func isErr(err, target error) bool { return errors.Is(err, target) }

// Exchange is what the detectors read of one HTTP exchange.
type Exchange struct {
	Method   string
	RawQuery string
	// ContentType and SOAPAction are the request's Content-Type and
	// SOAPAction headers.
	ContentType string
	SOAPAction  string
	Body        []byte
	// Partial is true when Body is not the whole request body as sent:
	// it is not parsed.
	Partial bool
	// The response, if any; RespPartial as Partial.
	RespContentType string
	RespBody        []byte
	RespPartial     bool
}

// Field is a top-level GraphQL field (or a SOAP Body element) with the
// names of its arguments (child elements).
type Field struct {
	Name string
	Args []string
}

// Variable is a GraphQL variable definition.
type Variable struct {
	Name, Type string
}

// Call is one operation call found in an exchange.
type Call struct {
	Protocol Protocol
	// Type and Name identify the operation with Protocol (see Op).
	Type, Name    string
	Fields        []Field
	Variables     []Variable
	Hash          string // persisted-query hash
	Document      string // the GraphQL document, string and number literals blanked
	Introspection bool
	Notification  bool
	// Failed is true when the response carried an error for this call.
	Failed bool
	// Params, Result and Error are JSON values: the JSON-RPC params or
	// GraphQL variables, the result or data, the error object(s).
	Params, Result, Error []byte

	// What pairs the call with its reply: the JSON-RPC id, or the GraphQL
	// request's position in the batch plus one.
	pairID    string
	pairIndex int
}

// Result is what Detect found.
type Result struct {
	Calls []Call
	// BatchCut counts calls of a batch past Limits.MaxBatch, not returned.
	BatchCut int

	// The response and the request's shape, until paired.
	resp  *response
	batch bool
}

// Detector finds operation calls in exchanges. It caches parsed GraphQL
// documents (a bounded cache, started over when full), so it is not safe
// for concurrent use; the zero value is ready.
type Detector struct {
	Limits Limits
	docs   map[string]*document
}

// maxCachedDocs bounds the Detector's cache; documents longer than
// maxCachedDocBytes are parsed each time.
const (
	maxCachedDocs     = 256
	maxCachedDocBytes = 16 << 10
)

// Detect returns the operation calls in x: GraphQL requests (JSON bodies
// with a query document or a persisted-query hash, batched arrays, GET
// ?query=), JSON-RPC 2.0 requests, notifications and batches, and SOAP
// 1.1/1.2 envelopes, with the response paired to each call. A body that is
// none of these gives no calls and no error; one that looked like one but
// was past a bound or malformed gives an error wrapping ErrTooLarge,
// ErrTooDeep or ErrBad that names the protocol and the offset or field.
func (d *Detector) Detect(x *Exchange) (Result, error) {
	res, err := d.Calls(x)
	res.pair()
	return res, err
}

// Calls is Detect without decoding the response: Inventory.Observe decodes
// it only when the calls' shapes are sampled or the response may carry an
// error, so that large responses cost no decoding on most exchanges.
func (d *Detector) Calls(x *Exchange) (Result, error) {
	l := d.Limits.WithDefaults()
	if x.Partial {
		return Result{}, nil
	}
	body := bytes.TrimSpace(x.Body)
	switch {
	case len(body) > 0 && isGraphQLMedia(x.ContentType):
		// The document itself as the body (express-graphql, Apollo).
		if len(body) > l.MaxDocumentBytes {
			return Result{}, fmt.Errorf("graphql body of %d bytes (limit %d): %w", len(body), l.MaxDocumentBytes, ErrTooLarge)
		}
		e := envelope{Query: mustJSON(string(body))}
		// The media type says GraphQL: a document that does not parse is
		// malformed, not some other API's.
		e.Variables = json.RawMessage("{}")
		cs, err := d.graphQLCalls(&e, "application/graphql body", l)
		for i := range cs {
			cs[i].Params, cs[i].pairIndex = nil, 1
		}
		return Result{Calls: cs, resp: respOf(x, l)}, err
	case len(body) > 0 && (body[0] == '{' || body[0] == '['):
		if len(body) > l.MaxDocumentBytes {
			// Not parsed: only its ends are looked at, so that a large
			// body of some other API costs no full scan.
			n := min(edge, len(body))
			if looksRPC(body[:n]) || looksRPC(body[len(body)-n:]) {
				return Result{}, fmt.Errorf("JSON body of %d bytes (limit %d): %w", len(body), l.MaxDocumentBytes, ErrTooLarge)
			}
			return Result{}, nil
		}
		if !looksRPC(body) {
			return Result{}, nil
		}
		return d.detectJSON(body, x, l)
	case len(body) > 0 && body[0] == '<':
		mt, params := mediaType(x.ContentType)
		if !looksSOAP(body, mt, x.SOAPAction) {
			return Result{}, nil
		}
		if len(body) > l.MaxDocumentBytes {
			return Result{}, fmt.Errorf("SOAP envelope of %d bytes (limit %d): %w", len(body), l.MaxDocumentBytes, ErrTooLarge)
		}
		return detectSOAP(body, mt, params, x, l)
	case len(body) == 0 && x.RawQuery != "":
		return d.detectGET(x, l)
	}
	return Result{}, nil
}

// edge is how much of each end of a body past MaxDocumentBytes is looked
// at to tell whether it was an RPC call.
const edge = 4 << 10

// isGraphQLMedia reports whether a Content-Type is application/graphql,
// without parsing the common ones that are not.
func isGraphQLMedia(ct string) bool {
	const p = "application/graphql"
	if len(ct) < len(p) || !strings.EqualFold(ct[:len(p)], p) {
		return false
	}
	mt, _ := mediaType(ct)
	return mt == p
}

// mediaType parses a Content-Type; one that mime.ParseMediaType refuses
// (clients send action=urn:x:y unquoted) is split leniently on ';' and
// '=', so that the action is not lost.
func mediaType(ct string) (string, map[string]string) {
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil {
		return strings.ToLower(mt), params
	}
	parts := strings.Split(ct, ";")
	params = map[string]string{}
	for _, p := range parts[1:] {
		if k, v, ok := strings.Cut(p, "="); ok {
			params[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return strings.ToLower(strings.TrimSpace(parts[0])), params
}

// looksRPC is the cheap test that a JSON body may hold a GraphQL or
// JSON-RPC request, before decoding it.
func looksRPC(b []byte) bool {
	return bytes.Contains(b, []byte(`"jsonrpc"`)) || bytes.Contains(b, []byte(`"query"`)) ||
		bytes.Contains(b, []byte(`"persistedQuery"`))
}

// envelope is one element of a JSON request body: the members of a
// GraphQL request and of a JSON-RPC request.
type envelope struct {
	Query         json.RawMessage `json:"query"`
	OperationName json.RawMessage `json:"operationName"`
	Variables     json.RawMessage `json:"variables"`
	Extensions    json.RawMessage `json:"extensions"`

	JSONRPC json.RawMessage `json:"jsonrpc"`
	Method  json.RawMessage `json:"method"`
	Params  json.RawMessage `json:"params"`
	ID      json.RawMessage `json:"id"`
}

// reply is one element of a JSON response body.
type reply struct {
	Data   json.RawMessage `json:"data"`
	Errors json.RawMessage `json:"errors"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
	ID     json.RawMessage `json:"id"`
}

// elements splits a JSON body into its elements: the array's, or the one
// object. batch is true for an array.
func elements(b []byte) (els []json.RawMessage, batch bool, err error) {
	if b[0] == '[' {
		err = json.Unmarshal(b, &els)
		return els, true, err
	}
	return []json.RawMessage{b}, false, nil
}

func (d *Detector) detectJSON(body []byte, x *Exchange, l Limits) (Result, error) {
	els, batch, err := elements(body)
	if err != nil {
		// A JSON array that does not decode: not ours to judge unless an
		// element looked like a call, which we cannot tell.
		return Result{}, nil
	}
	res := Result{resp: respOf(x, l), batch: batch}
	var firstErr error
	for i, raw := range els {
		if len(res.Calls) >= l.MaxBatch {
			res.BatchCut = len(els) - i
			break
		}
		var e envelope
		if err := json.Unmarshal(raw, &e); err != nil {
			continue
		}
		where := "body"
		if batch {
			where = fmt.Sprintf("body[%d]", i)
		}
		switch {
		case isString(e.Method) && jsonString(e.JSONRPC) == "2.0":
			c, err := jsonRPCCall(&e, where)
			if err != nil {
				firstErr = cmpErr(firstErr, err)
				continue
			}
			c.pairID = compactID(e.ID)
			res.Calls = append(res.Calls, c)
		case isString(e.Query) || hasPersisted(e.Extensions):
			cs, err := d.graphQLCalls(&e, where, l)
			if err != nil {
				firstErr = cmpErr(firstErr, err)
				continue
			}
			for j := range cs {
				cs[j].pairIndex = i + 1
			}
			res.Calls = append(res.Calls, cs...)
		}
	}
	return res, firstErr
}

// respOf is the response body the calls of x are paired with: nil when
// absent, partial or past MaxDocumentBytes.
func respOf(x *Exchange, l Limits) *response {
	r := bytes.TrimSpace(x.RespBody)
	if len(r) == 0 || x.RespPartial || len(r) > l.MaxDocumentBytes {
		return nil
	}
	return &response{body: r, ct: x.RespContentType, max: l.MaxBatch}
}

// response is a response body not decoded yet.
type response struct {
	body []byte
	ct   string
	max  int
}

// mayFail is the cheap test that a JSON response may carry an error
// ("error" or "errors"), before decoding it.
func (r *response) mayFail() bool {
	return r != nil && bytes.Contains(r.body, []byte(`"error`))
}

// pair decodes the response and fills each call's Result, Error and
// Failed: JSON-RPC calls by id, GraphQL calls by their position in the
// batch (or the one reply of a single request). It is done once.
func (res *Result) pair() {
	r := res.resp
	res.resp = nil
	if r == nil || len(res.Calls) == 0 || res.Calls[0].Protocol == SOAP {
		return
	}
	var replies []reply
	for _, msg := range responseMessages(r.body, r.ct, r.max) {
		if rels, _, err := elements(msg); err == nil {
			for _, e := range rels {
				var rp reply
				if json.Unmarshal(e, &rp) == nil {
					replies = append(replies, rp)
				}
			}
		}
	}
	var byID map[string]*reply
	for i := range replies {
		if id := compactID(replies[i].ID); id != "" {
			if byID == nil {
				byID = map[string]*reply{}
			}
			byID[id] = &replies[i]
		}
	}
	for i := range res.Calls {
		c := &res.Calls[i]
		switch {
		case c.Protocol == JSONRPC && c.pairID != "":
			if rp := byID[c.pairID]; rp != nil {
				c.Failed, c.Result, c.Error = present(rp.Error), nonNull(rp.Result), nonNull(rp.Error)
			}
		case c.Protocol == GraphQL && c.pairIndex > 0:
			k := c.pairIndex - 1
			if k < len(replies) && (res.batch || len(replies) == 1) {
				rp := &replies[k]
				c.Result = nonNull(rp.Data)
				if present(rp.Errors) && !bytes.HasPrefix(rp.Errors, []byte("[]")) {
					c.Failed, c.Error = true, rp.Errors
				}
			}
		}
	}
}

func nonNull(raw json.RawMessage) []byte {
	if present(raw) {
		return raw
	}
	return nil
}

func mustJSON(s string) json.RawMessage {
	b, _ := json.Marshal(s) // a string always marshals
	return b
}

// responseMessages splits a response body into its JSON messages: the body
// itself, or the data of each event of a text/event-stream (the MCP
// streamable HTTP transport answers JSON-RPC so), at most max of them.
func responseMessages(r []byte, ct string, max int) [][]byte {
	if r[0] == '{' || r[0] == '[' {
		return [][]byte{r}
	}
	if mt, _ := mediaType(ct); mt != "text/event-stream" {
		return nil
	}
	var out [][]byte
	var data []byte
	flush := func() {
		if d := bytes.TrimSpace(data); len(d) > 0 && (d[0] == '{' || d[0] == '[') && len(out) < max {
			out = append(out, d)
		}
		data = nil
	}
	for line := range bytes.Lines(r) {
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			flush()
			continue
		}
		if v, ok := bytes.CutPrefix(line, []byte("data:")); ok {
			// Lines of one event's data join with a newline.
			if data != nil {
				data = append(data, '\n')
			}
			data = append(data, bytes.TrimPrefix(v, []byte(" "))...)
		}
	}
	flush()
	return out
}

// cmpErr keeps the first error.
func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

func isString(raw json.RawMessage) bool { return len(raw) > 0 && raw[0] == '"' }

// jsonString decodes a JSON string; anything else is "".
func jsonString(raw json.RawMessage) string {
	var s string
	if !isString(raw) || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// compactID is a JSON-RPC id in a canonical form for pairing, "" when
// absent.
func compactID(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return ""
	}
	return b.String()
}

// present is true for a JSON value that is there and not null.
func present(raw json.RawMessage) bool {
	return len(raw) > 0 && !bytes.Equal(raw, []byte("null"))
}

func (d *Detector) detectGET(x *Exchange, l Limits) (Result, error) {
	// Most query strings name neither: no parsing for them.
	if !strings.Contains(x.RawQuery, "query=") && !strings.Contains(x.RawQuery, "extensions=") {
		return Result{}, nil
	}
	if len(x.RawQuery) > l.MaxDocumentBytes {
		return Result{}, fmt.Errorf("query string of %d bytes (limit %d): %w", len(x.RawQuery), l.MaxDocumentBytes, ErrTooLarge)
	}
	q, err := url.ParseQuery(x.RawQuery)
	if err != nil && len(q) == 0 {
		return Result{}, nil
	}
	if q.Get("query") == "" && q.Get("extensions") == "" {
		return Result{}, nil
	}
	var e envelope
	if s := q.Get("query"); s != "" {
		e.Query = mustJSON(s)
	}
	if s := q.Get("operationName"); s != "" {
		e.OperationName = mustJSON(s)
	}
	for _, p := range []struct {
		name string
		dst  *json.RawMessage
	}{{"variables", &e.Variables}, {"extensions", &e.Extensions}} {
		if s := q.Get(p.name); s != "" {
			if !json.Valid([]byte(s)) {
				if e.Query == nil {
					return Result{}, nil
				}
				return Result{}, fmt.Errorf("graphql GET: query parameter %q is not JSON: %w", p.name, ErrBad)
			}
			*p.dst = json.RawMessage(s)
		}
	}
	if e.Query == nil && !hasPersisted(e.Extensions) {
		return Result{}, nil
	}
	cs, err := d.graphQLCalls(&e, "query string", l)
	for i := range cs {
		cs[i].pairIndex = 1
	}
	return Result{Calls: cs, resp: respOf(x, l)}, err
}

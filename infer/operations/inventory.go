// Package operations finds the operations that RPC-style APIs put behind a
// single URL — GraphQL documents, JSON-RPC 2.0 methods and SOAP actions —
// by the content of the exchanges, not by path names, and keeps a bounded,
// mergeable inventory of them per transport endpoint.
//
// An Inventory is plain data (exported fields with JSON tags) like the rest
// of infer's state: observing A then B gives the same inventory as
// observing A and B into two inventories and merging them, up to the limits
// and to which bodies the deterministic sampling picked.
//
// Bounds (Limits) and what happens when they are hit:
//   - MaxOperations per inventory: calls of further operations are counted
//     in Inventory.Dropped and not recorded.
//   - MaxDocumentBytes: bodies, GraphQL documents and SOAP envelopes longer
//     than this are not parsed; counted in Inventory.TooLarge.
//   - MaxDepth: GraphQL selection nesting or XML element nesting deeper
//     than this stops parsing; counted in Inventory.TooDeep.
//   - MaxBatch: calls of a batch past it are counted in Inventory.BatchCut.
//   - MaxFields, MaxDocuments, MaxHashes per operation: further names are
//     counted in Op.Dropped.
//   - MaxKeptDocumentBytes: longer GraphQL documents are identified and
//     counted but not kept for checking against a schema; counted in
//     Op.Unkept.
package operations

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/specter-dev/specter/infer/schema"
)

// Protocol is the RPC protocol of an operation.
type Protocol string

// The protocols detected.
const (
	GraphQL Protocol = "graphql"
	JSONRPC Protocol = "jsonrpc"
	SOAP    Protocol = "soap"
)

// Limits bound an inventory and the detectors. Zero fields take the
// DefaultLimits values.
type Limits struct {
	MaxOperations    int `yaml:"max_operations" json:"max_operations,omitempty"`
	MaxDocumentBytes int `yaml:"max_document_bytes" json:"max_document_bytes,omitempty"`
	MaxDepth         int `yaml:"max_depth" json:"max_depth,omitempty"`
	MaxBatch         int `yaml:"max_batch" json:"max_batch,omitempty"`
	MaxFields        int `yaml:"max_fields" json:"max_fields,omitempty"`
	MaxDocuments     int `yaml:"max_documents" json:"max_documents,omitempty"`
	MaxHashes        int `yaml:"max_hashes" json:"max_hashes,omitempty"`
	// MaxKeptDocumentBytes bounds a document kept in Op.Documents.
	MaxKeptDocumentBytes int `yaml:"max_kept_document_bytes" json:"max_kept_document_bytes,omitempty"`
}

// DefaultLimits returns the limits used for zero fields.
func DefaultLimits() Limits {
	return Limits{
		MaxOperations:    512,
		MaxDocumentBytes: 256 << 10,
		MaxDepth:         32,
		MaxBatch:         64,
		MaxFields:        64,
		MaxDocuments:     4,
		MaxHashes:        4,
		// 512 operations × 4 documents × 16 KiB: at most 32 MiB of
		// documents per endpoint.
		MaxKeptDocumentBytes: 16 << 10,
	}
}

// WithDefaults returns l with zero fields set to the defaults.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits()
	set := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	set(&l.MaxOperations, d.MaxOperations)
	set(&l.MaxDocumentBytes, d.MaxDocumentBytes)
	set(&l.MaxDepth, d.MaxDepth)
	set(&l.MaxBatch, d.MaxBatch)
	set(&l.MaxFields, d.MaxFields)
	set(&l.MaxDocuments, d.MaxDocuments)
	set(&l.MaxHashes, d.MaxHashes)
	set(&l.MaxKeptDocumentBytes, d.MaxKeptDocumentBytes)
	return l
}

// Inventory is the operations seen behind one transport endpoint (one
// method at one path), keyed by Op.Key.
type Inventory struct {
	Ops map[string]*Op `json:"ops,omitempty"`
	// Dropped counts calls of operations past MaxOperations.
	Dropped uint64 `json:"dropped,omitempty"`
	// TooLarge, TooDeep and Bad count bodies that looked like an RPC but
	// were past MaxDocumentBytes, past MaxDepth, or did not parse.
	TooLarge uint64 `json:"too_large,omitempty"`
	TooDeep  uint64 `json:"too_deep,omitempty"`
	Bad      uint64 `json:"bad,omitempty"`
	// BatchCut counts calls of batches past MaxBatch.
	BatchCut uint64 `json:"batch_cut,omitempty"`
	// Persisted maps persisted-query hashes to the key of the operation
	// whose document was seen with them, so that later hash-only calls
	// count for that operation (at most MaxOperations entries).
	Persisted map[string]string `json:"persisted,omitempty"`
}

// Op is one operation: a GraphQL operation (type and name, or a hash of its
// top-level fields when anonymous), a JSON-RPC method or a SOAP action.
type Op struct {
	Protocol Protocol `json:"protocol"`
	// Type is the GraphQL operation type (query, mutation, subscription;
	// "persisted" when only a hash was seen) or the SOAP versions seen
	// ("1.1", "1.2" or "1.1 1.2"); empty for JSON-RPC.
	Type      string    `json:"type,omitempty"`
	Name      string    `json:"name"`
	Count     uint64    `json:"count"`
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	// Errors counts calls answered with an error (GraphQL errors, a
	// JSON-RPC error object, a SOAP Fault); Notifications counts JSON-RPC
	// calls without an id.
	Errors        uint64 `json:"errors,omitempty"`
	Notifications uint64 `json:"notifications,omitempty"`
	// Fields are the top-level GraphQL fields (or the SOAP Body element)
	// with the argument names given to them.
	Fields map[string][]string `json:"fields,omitempty"`
	// Variables are the GraphQL variables with their declared types.
	Variables map[string]string `json:"variables,omitempty"`
	// Hashes are persisted-query hashes seen for the operation.
	Hashes []string `json:"hashes,omitempty"`
	// Introspection is true when the operation queries __schema or __type.
	Introspection bool `json:"introspection,omitempty"`
	// Documents are distinct GraphQL documents of the operation, string
	// and number literals blanked, for checking against a declared schema
	// (the MaxDocuments smallest).
	Documents []string `json:"documents,omitempty"`
	// Params, Result and Error are the shapes of the JSON-RPC params, the
	// GraphQL variables (Params) and data (Result), and of error objects.
	Params *schema.Node `json:"params,omitempty"`
	Result *schema.Node `json:"result,omitempty"`
	Error  *schema.Node `json:"error,omitempty"`
	// Dropped counts field, argument, document and hash names past the
	// per-operation limits.
	Dropped uint64 `json:"dropped,omitempty"`
	// Unkept counts calls whose document was past MaxKeptDocumentBytes.
	Unkept uint64 `json:"unkept,omitempty"`
}

// Key is the identity of an operation within an inventory.
func (o *Op) Key() string { return key(o.Protocol, o.Type, o.Name) }

// key is the identity: GraphQL operations by type and name, JSON-RPC
// methods and SOAP actions by name (the SOAP versions seen are in Type).
func key(p Protocol, typ, name string) string {
	if p != GraphQL {
		return string(p) + " " + name
	}
	return string(p) + " " + typ + " " + name
}

// addVersion adds a SOAP version to the space-separated sorted set in
// o.Type.
func (o *Op) addVersion(v string) {
	if o.Protocol != SOAP || v == "" {
		return
	}
	vs := strings.Fields(o.Type)
	if !slices.Contains(vs, v) {
		vs = append(vs, v)
		slices.Sort(vs)
		o.Type = strings.Join(vs, " ")
	}
}

// Observe records what Detect (or Calls) found in one exchange and its
// error, if any. when is the exchange's time (zero if unknown); request
// and response shapes are fed to the schemas of an operation's calls
// chosen by opts.Sample over the operation's own count. A response Calls
// left undecoded is decoded here only when some call's shapes are sampled
// or it may carry an error.
func (inv *Inventory) Observe(res Result, err error, when time.Time, l Limits, opts schema.Options) {
	l = l.WithDefaults()
	inv.count(err)
	inv.BatchCut += uint64(res.BatchCut)
	if len(res.Calls) > l.MaxBatch {
		inv.BatchCut += uint64(len(res.Calls) - l.MaxBatch)
		res.Calls = res.Calls[:l.MaxBatch]
	}
	ops := make([]*Op, len(res.Calls))
	sampled := false
	for i := range res.Calls {
		op := inv.op(&res.Calls[i], l, opts)
		ops[i] = op
		if op == nil || sampled {
			continue
		}
		// The op's count when this call is recorded: earlier calls of
		// the batch to the same op come first.
		n := int64(op.Count)
		for _, o := range ops[:i] {
			if o == op {
				n++
			}
		}
		sampled = opts.Sample(n)
	}
	if res.resp != nil && (sampled || res.resp.mayFail()) {
		res.pair()
	}
	for i, op := range ops {
		if op != nil {
			op.observe(&res.Calls[i], when, l, opts)
		}
	}
}

// op returns the operation a call counts for, created if the bounds allow
// (else nil, counted in Dropped).
func (inv *Inventory) op(c *Call, l Limits, opts schema.Options) *Op {
	k := key(c.Protocol, c.Type, c.Name)
	if c.Protocol == GraphQL && c.Hash != "" {
		if c.Document == "" {
			if known, ok := inv.Persisted[c.Hash]; ok {
				k = known
			} else if named := inv.named(c.Name); named != "" {
				k = named
			}
		} else if _, ok := inv.Persisted[c.Hash]; !ok && len(inv.Persisted) < l.MaxOperations {
			if inv.Persisted == nil {
				inv.Persisted = map[string]string{}
			}
			inv.Persisted[c.Hash] = k
			defer inv.fold(c.Hash, l, opts)
		}
	}
	op := inv.Ops[k]
	if op == nil {
		if len(inv.Ops) >= l.MaxOperations {
			inv.Dropped++
			return nil
		}
		op = &Op{Protocol: c.Protocol, Type: c.Type, Name: c.Name}
		if inv.Ops == nil {
			inv.Ops = map[string]*Op{}
		}
		inv.Ops[k] = op
	}
	return op
}

// fold moves the hash-only operations seen with hash before its document
// (an automatic persisted query's first, failed try) into the operation
// the document names, so that the inventory does not depend on which came
// first.
func (inv *Inventory) fold(hash string, l Limits, opts schema.Options) {
	k := inv.Persisted[hash]
	dst := inv.Ops[k]
	if dst == nil {
		return
	}
	for _, pk := range slices.Sorted(maps.Keys(inv.Ops)) {
		o := inv.Ops[pk]
		if pk == k || o.Protocol != GraphQL || o.Type != "persisted" || !slices.Contains(o.Hashes, hash) {
			continue
		}
		dst.merge(o, l, opts)
		delete(inv.Ops, pk)
	}
}

// named is the key of the GraphQL operation with a document called name,
// if there is one, for hash-only calls of a persisted query whose hash was
// not seen with its document.
func (inv *Inventory) named(name string) string {
	best := ""
	for k, o := range inv.Ops {
		// The smallest key of those named so: deterministic.
		if o.Protocol == GraphQL && o.Name == name && o.Type != "persisted" && (best == "" || k < best) {
			best = k
		}
	}
	return best
}

func (inv *Inventory) count(err error) {
	switch {
	case err == nil:
	case isErr(err, ErrTooLarge):
		inv.TooLarge++
	case isErr(err, ErrTooDeep):
		inv.TooDeep++
	default:
		inv.Bad++
	}
}

func (o *Op) observe(c *Call, when time.Time, l Limits, opts schema.Options) {
	sampled := opts.Sample(int64(o.Count))
	o.Count++
	o.addVersion(c.Type)
	widen(&o.FirstSeen, &o.LastSeen, when)
	if c.Failed {
		o.Errors++
	}
	if c.Notification {
		o.Notifications++
	}
	o.Introspection = o.Introspection || c.Introspection
	for _, f := range c.Fields {
		o.addField(f.Name, f.Args, l)
	}
	for _, v := range c.Variables {
		o.addVariable(v.Name, v.Type, l)
	}
	o.Hashes = addBounded(o.Hashes, c.Hash, l.MaxHashes, &o.Dropped)
	if len(c.Document) > l.MaxKeptDocumentBytes {
		o.Unkept++
	} else {
		o.Documents = addBounded(o.Documents, c.Document, l.MaxDocuments, &o.Dropped)
	}
	if !sampled {
		return
	}
	observe := func(dst **schema.Node, raw []byte) {
		if len(raw) == 0 {
			return
		}
		if *dst == nil {
			*dst = &schema.Node{}
		}
		// The bytes were decoded as JSON by the detector already.
		_ = (*dst).ObserveJSON(raw, opts)
	}
	observe(&o.Params, c.Params)
	observe(&o.Result, c.Result)
	observe(&o.Error, c.Error)
}

func (o *Op) addField(name string, args []string, l Limits) {
	have, ok := o.Fields[name]
	if !ok {
		if len(o.Fields) >= l.MaxFields {
			o.Dropped++
			return
		}
		if o.Fields == nil {
			o.Fields = map[string][]string{}
		}
	}
	for _, a := range args {
		if slices.Contains(have, a) {
			continue
		}
		if len(have) >= l.MaxFields {
			o.Dropped++
			continue
		}
		have = append(have, a)
	}
	sort.Strings(have)
	if have == nil {
		have = []string{}
	}
	o.Fields[name] = have
}

// addVariable records a variable's type: the first one seen.
func (o *Op) addVariable(name, typ string, l Limits) {
	if _, ok := o.Variables[name]; ok {
		return
	}
	if len(o.Variables) >= l.MaxFields {
		o.Dropped++
		return
	}
	if o.Variables == nil {
		o.Variables = map[string]string{}
	}
	o.Variables[name] = typ
}

// addBounded adds s to the sorted set list unless it is empty or present.
// The list keeps the max smallest strings seen, so that which are kept
// does not depend on the order of observation or merging; one that does
// not fit (s, or the largest it evicts) counts in *dropped.
func addBounded(list []string, s string, max int, dropped *uint64) []string {
	if s == "" {
		return list
	}
	i, found := slices.BinarySearch(list, s)
	if found {
		return list
	}
	if len(list) >= max {
		*dropped++
		if i >= len(list) {
			return list
		}
		list = list[:len(list)-1]
	}
	return slices.Insert(list, i, s)
}

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

// Merge adds everything o holds into inv, within l. o is not modified and
// shares no memory with inv afterwards.
func (inv *Inventory) Merge(o *Inventory, l Limits, opts schema.Options) {
	if o == nil {
		return
	}
	l = l.WithDefaults()
	inv.Dropped += o.Dropped
	inv.TooLarge += o.TooLarge
	inv.TooDeep += o.TooDeep
	inv.Bad += o.Bad
	inv.BatchCut += o.BatchCut
	for _, h := range slices.Sorted(maps.Keys(o.Persisted)) {
		if _, ok := inv.Persisted[h]; !ok && len(inv.Persisted) < l.MaxOperations {
			if inv.Persisted == nil {
				inv.Persisted = map[string]string{}
			}
			inv.Persisted[h] = o.Persisted[h]
		}
	}
	for _, k := range slices.Sorted(maps.Keys(o.Ops)) {
		src := o.Ops[k]
		dst := inv.Ops[k]
		if dst == nil {
			if len(inv.Ops) >= l.MaxOperations {
				inv.Dropped += src.Count
				continue
			}
			dst = &Op{Protocol: src.Protocol, Type: src.Type, Name: src.Name}
			if inv.Ops == nil {
				inv.Ops = map[string]*Op{}
			}
			inv.Ops[k] = dst
		}
		dst.merge(src, l, opts)
	}
	for _, h := range slices.Sorted(maps.Keys(inv.Persisted)) {
		inv.fold(h, l, opts)
	}
}

func (o *Op) merge(s *Op, l Limits, opts schema.Options) {
	o.Count += s.Count
	for _, v := range strings.Fields(s.Type) {
		o.addVersion(v)
	}
	widen(&o.FirstSeen, &o.LastSeen, s.FirstSeen)
	widen(&o.FirstSeen, &o.LastSeen, s.LastSeen)
	o.Errors += s.Errors
	o.Notifications += s.Notifications
	o.Introspection = o.Introspection || s.Introspection
	o.Dropped += s.Dropped
	o.Unkept += s.Unkept
	for _, f := range slices.Sorted(maps.Keys(s.Fields)) {
		o.addField(f, s.Fields[f], l)
	}
	for _, v := range slices.Sorted(maps.Keys(s.Variables)) {
		o.addVariable(v, s.Variables[v], l)
	}
	for _, h := range s.Hashes {
		o.Hashes = addBounded(o.Hashes, h, l.MaxHashes, &o.Dropped)
	}
	for _, d := range s.Documents {
		if len(d) > l.MaxKeptDocumentBytes {
			o.Unkept++
			continue
		}
		o.Documents = addBounded(o.Documents, d, l.MaxDocuments, &o.Dropped)
	}
	mergeNode := func(dst **schema.Node, src *schema.Node) {
		if src == nil {
			return
		}
		if *dst == nil {
			*dst = &schema.Node{}
		}
		(*dst).MergeWith(src, opts)
	}
	mergeNode(&o.Params, s.Params)
	mergeNode(&o.Result, s.Result)
	mergeNode(&o.Error, s.Error)
}

// Sorted returns the operations ordered by protocol, type and name.
func (inv *Inventory) Sorted() []*Op {
	if inv == nil {
		return nil
	}
	out := make([]*Op, 0, len(inv.Ops))
	for _, k := range slices.Sorted(maps.Keys(inv.Ops)) {
		out = append(out, inv.Ops[k])
	}
	return out
}

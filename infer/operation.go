package infer

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/specter-dev/specter/infer/auth"
	"github.com/specter-dev/specter/infer/operations"
	"github.com/specter-dev/specter/infer/schema"
	"github.com/specter-dev/specter/infer/sensitive"
)

// Operation is what was observed for one method at one concrete trie
// position. Templated operations are merges of these. It is plain data:
// exported fields with JSON tags, merged field by field.
type Operation struct {
	Method    string            `json:"method"`
	Count     uint64            `json:"count"`
	FirstSeen time.Time         `json:"first_seen"`
	LastSeen  time.Time         `json:"last_seen"`
	Statuses  map[string]uint64 `json:"statuses,omitempty"` // "200": n; "other" past MaxStatuses
	Latency   Histogram         `json:"latency"`

	Query   map[string]*Param `json:"query,omitempty"`
	Headers map[string]*Param `json:"headers,omitempty"`
	Cookies map[string]*Param `json:"cookies,omitempty"`
	// ParamsDropped counts parameter occurrences past MaxParams.
	ParamsDropped uint64 `json:"params_dropped,omitempty"`

	// Requests by media type; Responses by status code.
	Requests  map[string]*Body     `json:"requests,omitempty"`
	Responses map[string]*Response `json:"responses,omitempty"`
	// BodiesDropped counts bodies of media types past MaxMediaTypes.
	BodiesDropped uint64 `json:"bodies_dropped,omitempty"`

	// Credentials by security scheme name (auth.SchemeName).
	Credentials map[string]*Credential `json:"credentials,omitempty"`
	// Anonymous counts requests with no credential, Anonymous2xx those of
	// them answered with a 2xx.
	Anonymous    uint64 `json:"anonymous,omitempty"`
	Anonymous2xx uint64 `json:"anonymous_2xx,omitempty"`
	// Sensitive collects the kinds of sensitive data seen in the path,
	// query, headers and bodies.
	Sensitive sensitive.Tag `json:"sensitive,omitempty"`
	// Processes are the processes on this host that served or sent the
	// exchanges (eBPF capture), by process name (comm); at most
	// Limits.MaxProcesses names, later ones counted under "other".
	Processes map[string]*ProcessSeen `json:"processes,omitempty"`
	// RPC holds the GraphQL, JSON-RPC and SOAP operations found in the
	// bodies, for endpoints that put many operations behind one URL.
	RPC *operations.Inventory `json:"operations,omitempty"`
}

// maxPIDs bounds the process ids remembered per process name: a restarted
// or forking server gets new ones, and the first few identify it enough.
const maxPIDs = 8

// ProcessSeen counts the exchanges of one process name and keeps the first
// process ids seen with it (at most 8).
type ProcessSeen struct {
	Count uint64   `json:"count"`
	PIDs  []uint32 `json:"pids,omitempty"`
}

// addProcess records n exchanges of process comm with the given pids.
func (op *Operation) addProcess(comm string, n uint64, pids []uint32, limit int) {
	if comm == "" {
		comm = "?"
	}
	if op.Processes == nil {
		op.Processes = make(map[string]*ProcessSeen)
	}
	p := op.Processes[comm]
	if p == nil {
		if len(op.Processes) >= limit {
			// Past the limit the names are lost, the counts are not.
			comm, pids = "other", nil
			if p = op.Processes[comm]; p == nil {
				p = &ProcessSeen{}
				op.Processes[comm] = p
			}
		} else {
			p = &ProcessSeen{}
			op.Processes[comm] = p
		}
	}
	p.Count += n
	for _, pid := range pids {
		if len(p.PIDs) >= maxPIDs {
			break
		}
		if !slices.Contains(p.PIDs, pid) {
			p.PIDs = append(p.PIDs, pid)
		}
	}
}

// Param is one query parameter, header or cookie: how often it was present
// and what its values looked like.
type Param struct {
	Count  uint64       `json:"count"`
	Schema *schema.Node `json:"schema"`
}

// Body is the accumulated schema of the bodies of one media type.
type Body struct {
	Count  uint64       `json:"count"`
	Schema *schema.Node `json:"schema,omitempty"`
	// Example is the first sampled body, redacted and cut at
	// MaxExampleBytes.
	Example string `json:"example,omitempty"`
}

// Response is what was answered with one status code.
type Response struct {
	Count  uint64           `json:"count"`
	Bodies map[string]*Body `json:"bodies,omitempty"`
}

// Credential is a kind of credential seen on an operation.
type Credential struct {
	Count      uint64          `json:"count"`
	Credential auth.Credential `json:"credential"`
}

// Histogram is a latency histogram with fixed log-scale buckets, so that
// histograms merge by adding counts. Bucket i holds durations in
// [2^(i/4), 2^((i+1)/4)) microseconds (about 19 % wide); bucket 0 holds
// everything under 1 µs and the last everything above ~4.5 hours.
type Histogram struct {
	Buckets [histBuckets]uint64 `json:"buckets"`
}

const histBuckets = 96

func (h *Histogram) add(d time.Duration) {
	us := float64(d) / float64(time.Microsecond)
	i := 0
	if us >= 1 {
		i = int(math.Log2(us)*4) + 1
	}
	if i >= histBuckets {
		i = histBuckets - 1
	}
	if i < 0 {
		i = 0
	}
	h.Buckets[i]++
}

func (h *Histogram) merge(o *Histogram) {
	for i := range h.Buckets {
		h.Buckets[i] += o.Buckets[i]
	}
}

// Quantile returns the q-quantile (0..1) in milliseconds, using the
// geometric middle of the bucket it falls in; 0 when empty.
func (h *Histogram) Quantile(q float64) float64 {
	var total uint64
	for _, c := range h.Buckets {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	if rank == 0 {
		rank = 1
	}
	var acc uint64
	for i, c := range h.Buckets {
		acc += c
		if acc >= rank {
			if i == 0 {
				return 0.0005
			}
			us := math.Pow(2, (float64(i-1)+0.5)/4)
			return math.Round(us) / 1000
		}
	}
	return 0
}

func newOperation(method string) *Operation {
	return &Operation{Method: method}
}

func addParam(m *map[string]*Param, name string, limit int) *Param {
	if *m == nil {
		*m = make(map[string]*Param)
	}
	p := (*m)[name]
	if p == nil {
		if len(*m) >= limit {
			return nil
		}
		p = &Param{Schema: &schema.Node{}}
		(*m)[name] = p
	}
	return p
}

func mergeParams(dst *map[string]*Param, src map[string]*Param, limit int, dropped *uint64, opts schema.Options) {
	for _, k := range sortedKeys(src) {
		s := src[k]
		d := addParam(dst, k, limit)
		if d == nil {
			*dropped += s.Count
			continue
		}
		d.Count += s.Count
		if s.Schema != nil {
			d.Schema.MergeWith(s.Schema, opts)
		}
	}
}

func mergeBody(d, s *Body, opts schema.Options) {
	d.Count += s.Count
	if s.Schema != nil {
		if d.Schema == nil {
			d.Schema = &schema.Node{}
		}
		d.Schema.MergeWith(s.Schema, opts)
	}
	// Keep the smaller example so that the result does not depend on the
	// merge order.
	if s.Example != "" && (d.Example == "" || s.Example < d.Example) {
		d.Example = s.Example
	}
}

func mergeBodies(dst *map[string]*Body, src map[string]*Body, limit int, dropped *uint64, opts schema.Options) {
	for _, k := range sortedKeys(src) {
		s := src[k]
		if *dst == nil {
			*dst = make(map[string]*Body)
		}
		d := (*dst)[k]
		if d == nil {
			if len(*dst) >= limit {
				*dropped += s.Count
				continue
			}
			d = &Body{}
			(*dst)[k] = d
		}
		mergeBody(d, s, opts)
	}
}

// merge adds o into op. It is commutative and associative up to the
// limits (kept sets are filled in sorted key order).
func (op *Operation) merge(o *Operation, l Limits, opts schema.Options) {
	if o == nil {
		return
	}
	if op.Count == 0 || (!o.FirstSeen.IsZero() && o.FirstSeen.Before(op.FirstSeen)) {
		op.FirstSeen = o.FirstSeen
	}
	if o.LastSeen.After(op.LastSeen) {
		op.LastSeen = o.LastSeen
	}
	op.Count += o.Count
	for _, k := range sortedKeys(o.Statuses) {
		op.addStatus(k, o.Statuses[k], l.MaxStatuses)
	}
	op.Latency.merge(&o.Latency)
	op.ParamsDropped += o.ParamsDropped
	mergeParams(&op.Query, o.Query, l.MaxParams, &op.ParamsDropped, opts)
	mergeParams(&op.Headers, o.Headers, l.MaxParams, &op.ParamsDropped, opts)
	mergeParams(&op.Cookies, o.Cookies, l.MaxParams, &op.ParamsDropped, opts)
	op.BodiesDropped += o.BodiesDropped
	mergeBodies(&op.Requests, o.Requests, l.MaxMediaTypes, &op.BodiesDropped, opts)
	for _, k := range sortedKeys(o.Responses) {
		s := o.Responses[k]
		if op.Responses == nil {
			op.Responses = make(map[string]*Response)
		}
		d := op.Responses[k]
		if d == nil {
			d = &Response{}
			op.Responses[k] = d
		}
		d.Count += s.Count
		mergeBodies(&d.Bodies, s.Bodies, l.MaxMediaTypes, &op.BodiesDropped, opts)
	}
	for _, k := range sortedKeys(o.Credentials) {
		if op.Credentials == nil {
			op.Credentials = make(map[string]*Credential)
		}
		if d := op.Credentials[k]; d != nil {
			d.Count += o.Credentials[k].Count
		} else {
			c := *o.Credentials[k]
			op.Credentials[k] = &c
		}
	}
	op.Anonymous += o.Anonymous
	op.Anonymous2xx += o.Anonymous2xx
	op.Sensitive |= o.Sensitive
	if o.RPC != nil {
		if op.RPC == nil {
			op.RPC = &operations.Inventory{}
		}
		op.RPC.Merge(o.RPC, l.Operations, opts)
	}
	for _, k := range sortedKeys(o.Processes) {
		op.addProcess(k, o.Processes[k].Count, o.Processes[k].PIDs, l.MaxProcesses)
	}
}

func (op *Operation) addStatus(code string, n uint64, limit int) {
	if op.Statuses == nil {
		op.Statuses = make(map[string]uint64)
	}
	if _, ok := op.Statuses[code]; !ok && len(op.Statuses) >= limit {
		code = "other"
	}
	op.Statuses[code] += n
}

// StatusCounts returns the status counts as integers (the "other" bucket
// is left out).
func (op *Operation) StatusCounts() map[int]uint64 {
	out := make(map[int]uint64, len(op.Statuses))
	for k, v := range op.Statuses {
		if c, err := strconv.Atoi(k); err == nil {
			out[c] = v
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

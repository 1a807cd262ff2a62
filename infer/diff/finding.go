package diff

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Kind is what a finding is about. See the package documentation for the
// exact definitions.
type Kind string

// The finding kinds.
const (
	KindShadow               Kind = "shadow"
	KindZombie               Kind = "zombie"
	KindUnused               Kind = "unused"
	KindNoncompliantRequest  Kind = "noncompliant_request"
	KindNoncompliantResponse Kind = "noncompliant_response"
	KindAuthMismatch         Kind = "auth_mismatch"
	// KindAnomaly is an exchange whose wire form is suspicious (framing a
	// request-smuggling attempt uses, a response paired after a resync);
	// its rule is the anomaly (see Options.Anomalies).
	KindAnomaly Kind = "anomaly"
	// KindScan is a path-scanned service (infer.Service.Scanned): one
	// finding with the counts instead of an endpoint per probe.
	KindScan Kind = "scan"
	// KindIntrospection is a GraphQL introspection query seen in the
	// traffic (see GraphQLFindings).
	KindIntrospection Kind = "introspection"
)

// Kinds returns every kind, in report order (introspection, added last,
// keeps the earlier kinds' SARIF rule indexes).
func Kinds() []Kind {
	return []Kind{KindShadow, KindAuthMismatch, KindAnomaly, KindZombie, KindNoncompliantRequest, KindNoncompliantResponse, KindUnused, KindScan, KindIntrospection}
}

// ParseKind accepts a kind name (also "shadow-method" style dashes).
func ParseKind(s string) (Kind, bool) {
	s = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_")
	for _, k := range Kinds() {
		if string(k) == s {
			return k, true
		}
	}
	return "", false
}

// Rules of the kinds that have a single rule; noncompliance rules are
// "<where>:<failed keyword>" such as "query.limit:type" or
// "body:required".
const (
	RuleUndeclaredPath   = "undeclared-path"   // shadow endpoint
	RuleUndeclaredMethod = "undeclared-method" // shadow method
	RuleDeprecated       = "deprecated"        // zombie
	RuleNoTraffic        = "no-traffic"        // unused
	RuleUnauthenticated  = "unauthenticated-2xx"
	RuleNotFoundProbes   = "not-found-probes" // scan
)

// Severity ranks findings for triage.
type Severity string

// Severities, most severe first.
const (
	SeverityHigh   Severity = "high"
	SeverityMedium Severity = "medium"
	SeverityLow    Severity = "low"
	SeverityInfo   Severity = "info"
)

// severityOf is the severity of each kind: undeclared surface, missing
// authentication and smuggling-shaped framing are what attackers use;
// contract drift is medium;
// response drift low; unused declarations informational.
func severityOf(k Kind) Severity {
	switch k {
	case KindShadow, KindAuthMismatch, KindAnomaly:
		return SeverityHigh
	case KindZombie, KindNoncompliantRequest, KindScan, KindIntrospection:
		return SeverityMedium
	case KindNoncompliantResponse:
		return SeverityLow
	}
	return SeverityInfo
}

// Example is one redacted exchange that produced a finding.
type Example struct {
	// Request is "METHOD /path?query" with sensitive query values redacted.
	Request string `json:"request"`
	Status  int    `json:"status,omitempty"`
	// Body is the offending body (request or response), redacted and cut.
	Body string `json:"body,omitempty"`
}

// Finding is one difference between the declared specs and the traffic.
// Findings are plain values: they serialize to JSON and merge by
// fingerprint (see Merge), so a store can persist and accumulate them.
type Finding struct {
	Kind Kind `json:"kind"`
	// Rule is the failed rule within the kind (see the Rule constants;
	// noncompliance rules are "<where>:<keyword>").
	Rule string `json:"rule"`
	// Service is the service name (infer.ServiceName); Host is its host
	// without a port.
	Service  string   `json:"service"`
	Host     string   `json:"host"`
	Method   string   `json:"method"`
	Path     string   `json:"path"` // template, server base path included
	Severity Severity `json:"severity"`
	Count    uint64   `json:"count"`
	// FirstSeen and LastSeen bound the exchanges counted; for unused they
	// are the service's traffic window.
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	// Reason says briefly what failed, with the JSON pointer when there is
	// one.
	Reason  string `json:"reason"`
	Pointer string `json:"pointer,omitempty"`
	// Params are the undeclared query parameter names (rule
	// query:undeclared), every one seen, sorted; at most maxParams, and
	// ParamsCut says names were left out past it.
	Params    []string `json:"params,omitempty"`
	ParamsCut bool     `json:"params_cut,omitempty"`
	// Paths are concrete request paths behind a shadow finding over
	// stored data (see Inventory), sorted, at most maxNamedPaths; PathsMore
	// counts those left out.
	Paths     []string `json:"paths,omitempty"`
	PathsMore int      `json:"paths_more,omitempty"`
	Example   *Example `json:"example,omitempty"`
	// Spec and SpecLine locate the declared operation (or path) when there
	// is one.
	Spec        string `json:"spec,omitempty"`
	SpecLine    int    `json:"spec_line,omitempty"`
	OperationID string `json:"operation_id,omitempty"`
	// Fingerprint identifies the finding across runs: a hash of kind,
	// service, method, template and rule, never of counts or times.
	Fingerprint string `json:"fingerprint"`
}

// Fingerprint computes the stable identity of a finding.
func Fingerprint(k Kind, service, method, template, rule string) string {
	h := sha256.New()
	for _, s := range []string{string(k), service, method, template, rule} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// newFinding fills the identity fields and the fingerprint.
func newFinding(k Kind, rule, service, method, path string) *Finding {
	return &Finding{
		Kind: k, Rule: rule, Service: service, Host: stripPort(service), Method: method, Path: path,
		Severity: severityOf(k), Fingerprint: Fingerprint(k, service, method, path, rule),
	}
}

// seen counts one more occurrence at t.
func (f *Finding) seen(t time.Time, n uint64) {
	f.Count += n
	widen(&f.FirstSeen, &f.LastSeen, t)
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

// maxParams bounds the parameter names a finding lists, and maxParamName
// the bytes of one name.
const (
	maxParams    = 64
	maxParamName = 128
)

// addParams adds parameter names to f.Params (sorted, unique, bounded)
// and rewrites the reason to name them all. It reports whether f changed.
func (f *Finding) addParams(names []string, cut bool) bool {
	changed := false
	for _, n := range names {
		if len(n) > maxParamName {
			n = n[:maxParamName]
		}
		i, found := slices.BinarySearch(f.Params, n)
		if found {
			continue
		}
		if len(f.Params) >= maxParams {
			cut = true
			continue
		}
		f.Params = slices.Insert(f.Params, i, n)
		changed = true
	}
	if cut && !f.ParamsCut {
		f.ParamsCut, changed = true, true
	}
	if changed {
		quoted := make([]string, len(f.Params))
		for i, p := range f.Params {
			quoted[i] = strconv.Quote(p)
		}
		f.Reason = "undeclared query parameter " + strings.Join(quoted, ", ")
		if len(quoted) > 1 {
			f.Reason = "undeclared query parameters " + strings.Join(quoted, ", ")
		}
		if f.ParamsCut {
			f.Reason += fmt.Sprintf(" (and more: the first %d are named)", maxParams)
		}
	}
	return changed
}

// addPath adds a concrete path to f.Paths (sorted, unique, bounded).
func (f *Finding) addPath(p string) {
	i, found := slices.BinarySearch(f.Paths, p)
	switch {
	case found:
	case len(f.Paths) >= maxNamedPaths:
		f.PathsMore++
	default:
		f.Paths = slices.Insert(f.Paths, i, p)
	}
}

// merge adds o (same fingerprint) into f: counts add, the time window
// widens, the earliest example is kept, parameter names and paths are
// united.
func (f *Finding) merge(o *Finding) {
	if len(o.Params) > 0 || o.ParamsCut {
		f.Params = slices.Clone(f.Params)
		f.addParams(o.Params, o.ParamsCut)
	}
	if len(o.Paths) > 0 || o.PathsMore > 0 {
		f.Paths = slices.Clone(f.Paths)
		for _, p := range o.Paths {
			f.addPath(p)
		}
		f.PathsMore += o.PathsMore
	}
	f.Count += o.Count
	if !o.FirstSeen.IsZero() && (f.FirstSeen.IsZero() || o.FirstSeen.Before(f.FirstSeen)) {
		f.FirstSeen = o.FirstSeen
		if o.Example != nil {
			f.Example = o.Example
		}
	}
	if o.LastSeen.After(f.LastSeen) {
		f.LastSeen = o.LastSeen
	}
	if f.Example == nil {
		f.Example = o.Example
	}
}

// Merge combines the findings of two runs: findings with the same
// fingerprint become one (counts summed, window widened, earliest example
// kept). The result is sorted (see Sort); the inputs are not modified.
func Merge(a, b []Finding) []Finding {
	idx := map[string]int{}
	out := make([]Finding, 0, len(a)+len(b))
	for _, list := range [][]Finding{a, b} {
		for _, f := range list {
			if i, ok := idx[f.Fingerprint]; ok {
				out[i].merge(&f)
				continue
			}
			idx[f.Fingerprint] = len(out)
			out = append(out, f)
		}
	}
	Sort(out)
	return out
}

// Sort orders findings by kind (as in Kinds()), service, path, method, rule.
func Sort(fs []Finding) {
	rank := map[Kind]int{}
	for i, k := range Kinds() {
		rank[k] = i
	}
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := &fs[i], &fs[j]
		if a.Kind != b.Kind {
			return rank[a.Kind] < rank[b.Kind]
		}
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Method != b.Method {
			return a.Method < b.Method
		}
		return a.Rule < b.Rule
	})
}

// Report is the JSON report: {"findings":[...], "specs":[...]}.
type Report struct {
	Findings []Finding `json:"findings"`
	// Specs says which services each spec was attached to; a spec
	// attached to none checked nothing.
	Specs []Attachment `json:"specs,omitempty"`
	// Unchecked lists services of the traffic no spec is attached to.
	Unchecked []string `json:"unchecked_services,omitempty"`
	// Baseline says what a baseline suppressed, when one was given.
	Baseline *Baseline `json:"baseline,omitempty"`
}

// Baseline is what a baseline report suppressed (see Suppress).
type Baseline struct {
	File       string `json:"file"`
	Suppressed int    `json:"suppressed"`
}

// String says it for people: "12 findings suppressed by the baseline F".
func (b *Baseline) String() string {
	n := "findings"
	if b.Suppressed == 1 {
		n = "finding"
	}
	return fmt.Sprintf("%d %s suppressed by the baseline %s", b.Suppressed, n, b.File)
}

// ReadReport reads a JSON report, as written with --format json.
func ReadReport(r io.Reader) (Report, error) {
	var rep Report
	if err := json.NewDecoder(r).Decode(&rep); err != nil {
		return Report{}, fmt.Errorf("report: %w", err)
	}
	return rep, nil
}

// Suppress returns the findings whose fingerprint is not in baseline.
func Suppress(fs []Finding, baseline []Finding) []Finding {
	known := make(map[string]bool, len(baseline))
	for _, f := range baseline {
		known[f.Fingerprint] = true
	}
	out := fs[:0:0]
	for _, f := range fs {
		if !known[f.Fingerprint] {
			out = append(out, f)
		}
	}
	return out
}

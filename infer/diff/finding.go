package diff

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
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
	// KindIntrospection is a GraphQL introspection query seen in the
	// traffic (see GraphQLFindings).
	KindIntrospection Kind = "introspection"
)

// Kinds returns every kind, in report order (introspection, added last,
// keeps the earlier kinds' SARIF rule indexes).
func Kinds() []Kind {
	return []Kind{KindShadow, KindAuthMismatch, KindZombie, KindNoncompliantRequest, KindNoncompliantResponse, KindUnused, KindIntrospection}
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

// severityOf is the severity of each kind: undeclared surface and missing
// authentication are what attackers use; contract drift is medium;
// response drift low; unused declarations informational.
func severityOf(k Kind) Severity {
	switch k {
	case KindShadow, KindAuthMismatch:
		return SeverityHigh
	case KindZombie, KindNoncompliantRequest, KindIntrospection:
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
	Reason  string   `json:"reason"`
	Pointer string   `json:"pointer,omitempty"`
	Example *Example `json:"example,omitempty"`
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

// merge adds o (same fingerprint) into f: counts add, the time window
// widens, the earliest example is kept.
func (f *Finding) merge(o *Finding) {
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

// Report is the JSON report: {"findings":[...]}.
type Report struct {
	Findings []Finding `json:"findings"`
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

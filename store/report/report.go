// Package report renders Specter's inventory as one self-contained HTML
// file: summary cards, the service → path tree, the spec-diff findings
// with their evidence, the sensitive-data matrix, traffic and new
// endpoints over time (inline SVG drawn here), and per-endpoint detail.
//
// The page needs no network (CSS and script inlined, a Content Security
// Policy that forbids fetching anything), reads without JavaScript (the
// script only filters and sorts the tree), prints, and is deterministic:
// the same inventory gives the same bytes. Every value from traffic is
// escaped by html/template.
//
// Build collects the data section (Data) from an inventory; Render writes
// the page; Handler serves it live from a database.
package report

import (
	"cmp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/diff"
	"github.com/specter-dev/specter/store"
)

// Bounds of what one report shows. Past each, the rest is counted in
// Data.Omitted and the page says so.
const (
	// MaxTreeRows bounds the endpoint rows of the tree.
	MaxTreeRows = 20000
	// MaxFindings bounds the findings listed (most severe first).
	MaxFindings = 5000
	// MaxMatrixRows bounds the rows of the sensitive-data matrix.
	MaxMatrixRows = 2000
	// MaxDetails bounds the endpoints given a detail section: those with
	// findings, then with sensitive data, then the busiest.
	MaxDetails = 500
	// MaxSeries bounds the services drawn apart in the traffic chart; the
	// others are stacked as "other".
	MaxSeries = 8
	// MaxBuckets bounds the bars of a chart.
	MaxBuckets = 60
)

// Input is what a report is built from.
type Input struct {
	// Title names the report; "" means "Specter API inventory".
	Title string
	// Endpoints are the inventory's endpoint summaries.
	Endpoints []infer.EndpointSummary
	// Model, when not nil, gives the per-endpoint detail (parameters,
	// schemas per status).
	Model *infer.Model
	// Findings are the spec-diff findings.
	Findings []diff.Finding
	// Runs are the runs that fed the inventory.
	Runs []store.Run
	// Traffic is the per-minute traffic per service; TrafficPruned the
	// windows the store's bound deleted.
	Traffic       []store.TrafficWindow
	TrafficPruned uint64
}

// Data is the report's data section: everything the page shows, in the
// order it shows it. It is plain, sorted data, so that it can be compared
// (golden tests) and rendered deterministically.
type Data struct {
	Title        string         `json:"title"`
	Summary      Summary        `json:"summary"`
	Services     []ServiceNode  `json:"services"`
	Findings     []diff.Finding `json:"findings"`
	Sensitive    Matrix         `json:"sensitive"`
	Traffic      Chart          `json:"traffic"`
	NewEndpoints Chart          `json:"new_endpoints"`
	Details      []Detail       `json:"details"`
	Omitted      Omitted        `json:"omitted"`
}

// Omitted counts what the bounds left out of the page.
type Omitted struct {
	TreeRows      int    `json:"tree_rows,omitempty"`
	OperationRows int    `json:"operation_rows,omitempty"`
	Findings      int    `json:"findings,omitempty"`
	MatrixRows    int    `json:"matrix_rows,omitempty"`
	Details       int    `json:"details,omitempty"`
	TrafficPruned uint64 `json:"traffic_windows_pruned,omitempty"`
}

// Summary is the cards at the top.
type Summary struct {
	Services  int       `json:"services"`
	Endpoints int       `json:"endpoints"`
	Exchanges uint64    `json:"exchanges"`
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	// ByKind counts findings per kind in diff.Kinds order, BySeverity per
	// severity, most severe first; both list every kind and severity.
	ByKind     []Count `json:"by_kind"`
	BySeverity []Count `json:"by_severity"`
	Runs       int     `json:"runs"`
	// RunsIncomplete counts runs interrupted or with input errors.
	RunsIncomplete int `json:"runs_incomplete"`
	// Sensors are the capture interfaces and merged databases the runs
	// came from, sorted; "files" for runs that read capture files.
	Sensors  []string `json:"sensors,omitempty"`
	Drops    uint64   `json:"drops"`
	Unauth2x int      `json:"unauthenticated_2xx_endpoints"`
	// Operations counts the GraphQL, JSON-RPC and SOAP operations found
	// behind the endpoints; OperationsBy per protocol, those seen only.
	Operations   int     `json:"operations"`
	OperationsBy []Count `json:"operations_by_protocol,omitempty"`
}

// Count is a named count.
type Count struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// ServiceNode is one service of the tree with its endpoints sorted by
// template then method.
type ServiceNode struct {
	Name      string         `json:"name"`
	Exchanges uint64         `json:"exchanges"`
	FirstSeen time.Time      `json:"first_seen,omitzero"`
	LastSeen  time.Time      `json:"last_seen,omitzero"`
	Endpoints []EndpointNode `json:"endpoints"`
}

// EndpointNode is one row of the tree.
type EndpointNode struct {
	Method   string `json:"method"`
	Template string `json:"template"`
	// Depth is the number of the service's templates that are path
	// prefixes of this one (the tree's indentation).
	Depth     int       `json:"depth"`
	Count     uint64    `json:"count"`
	Statuses  []Count   `json:"statuses"`
	Auth      []string  `json:"auth,omitempty"`
	Unauth2xx bool      `json:"unauthenticated_2xx,omitempty"`
	Sensitive []string  `json:"sensitive,omitempty"`
	FromSpec  bool      `json:"from_spec,omitempty"`
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	Findings  int       `json:"findings,omitempty"`
	// Detail is the anchor of the endpoint's detail section, "" when it
	// has none.
	Detail string `json:"detail,omitempty"`
	// Operations are the sub-rows of the GraphQL, JSON-RPC and SOAP
	// operations found behind the endpoint.
	Operations []OperationNode `json:"operations,omitempty"`
}

// Matrix is the sensitive-data matrix: endpoints × kinds of sensitive
// data, only the endpoints and kinds that have any.
type Matrix struct {
	Kinds []string    `json:"kinds"`
	Rows  []MatrixRow `json:"rows"`
}

// MatrixRow is one endpoint of the matrix; Has[i] is whether Kinds[i] was
// seen.
type MatrixRow struct {
	Service  string `json:"service"`
	Method   string `json:"method"`
	Template string `json:"template"`
	Has      []bool `json:"has"`
}

// endpointKey identifies an endpoint across summaries and findings.
type endpointKey struct{ service, method, template string }

// Build collects the data section of a report.
func Build(in Input) *Data {
	d := &Data{Title: cmp.Or(in.Title, "Specter API inventory")}
	eps := slices.Clone(in.Endpoints)
	slices.SortStableFunc(eps, func(a, b infer.EndpointSummary) int {
		return cmp.Or(strings.Compare(a.Service, b.Service), strings.Compare(a.Template, b.Template), strings.Compare(a.Method, b.Method))
	})
	findingsOf := findingsByEndpoint(in.Findings)
	d.Summary = summarize(eps, in.Findings, in.Runs)
	// Detail sections need the model (parameters, schemas).
	details := map[endpointKey]string{}
	if in.Model != nil {
		details = pickDetails(eps, findingsOf)
	}
	d.Services, d.Omitted.TreeRows, d.Omitted.OperationRows = tree(eps, findingsOf, details)
	d.Findings, d.Omitted.Findings = sortedFindings(in.Findings)
	d.Sensitive, d.Omitted.MatrixRows = matrix(eps)
	d.Traffic, d.NewEndpoints = charts(in.Traffic, eps)
	d.Omitted.TrafficPruned = in.TrafficPruned
	d.Details = buildDetails(in.Model, eps, details)
	d.Omitted.Details = max(len(eps)-len(details), 0)
	return d
}

// findingsByEndpoint counts the findings of each endpoint.
func findingsByEndpoint(fs []diff.Finding) map[endpointKey]int {
	out := map[endpointKey]int{}
	for _, f := range fs {
		out[endpointKey{f.Service, f.Method, f.Path}]++
	}
	return out
}

func summarize(eps []infer.EndpointSummary, fs []diff.Finding, runs []store.Run) Summary {
	var s Summary
	s.Endpoints = len(eps)
	services := map[string]bool{}
	for _, e := range eps {
		services[e.Service] = true
		s.Exchanges += e.Count
		if !e.FirstSeen.IsZero() && (s.FirstSeen.IsZero() || e.FirstSeen.Before(s.FirstSeen)) {
			s.FirstSeen = e.FirstSeen
		}
		if e.LastSeen.After(s.LastSeen) {
			s.LastSeen = e.LastSeen
		}
		if e.Unauthenticated2xx {
			s.Unauth2x++
		}
	}
	s.Services = len(services)
	countOperations(&s, eps)
	s.FirstSeen, s.LastSeen = s.FirstSeen.UTC(), s.LastSeen.UTC()
	byKind := map[diff.Kind]int{}
	bySev := map[diff.Severity]int{}
	for _, f := range fs {
		byKind[f.Kind]++
		bySev[f.Severity]++
	}
	for _, k := range diff.Kinds() {
		s.ByKind = append(s.ByKind, Count{string(k), byKind[k]})
	}
	for _, v := range severities {
		s.BySeverity = append(s.BySeverity, Count{string(v), bySev[v]})
	}
	sensors := map[string]bool{}
	for _, r := range runs {
		s.Runs++
		if r.Status != store.StatusComplete {
			s.RunsIncomplete++
		}
		s.Drops += r.Drops
		switch {
		case r.Source != "":
			sensors["merged: "+r.Source] = true
		case r.Interface != "":
			sensors[r.Interface] = true
		default:
			sensors["files"] = true
		}
	}
	for k := range sensors {
		s.Sensors = append(s.Sensors, k)
	}
	sort.Strings(s.Sensors)
	return s
}

var severities = []diff.Severity{diff.SeverityHigh, diff.SeverityMedium, diff.SeverityLow, diff.SeverityInfo}

func severityRank(s diff.Severity) int {
	if i := slices.Index(severities, s); i >= 0 {
		return i
	}
	return len(severities)
}

// sortedFindings orders findings most severe first, then by kind, service,
// path, method and rule, and keeps MaxFindings.
func sortedFindings(fs []diff.Finding) ([]diff.Finding, int) {
	out := slices.Clone(fs)
	kinds := diff.Kinds()
	slices.SortStableFunc(out, func(a, b diff.Finding) int {
		return cmp.Or(cmp.Compare(severityRank(a.Severity), severityRank(b.Severity)),
			cmp.Compare(slices.Index(kinds, a.Kind), slices.Index(kinds, b.Kind)),
			strings.Compare(a.Service, b.Service), strings.Compare(a.Path, b.Path),
			strings.Compare(a.Method, b.Method), strings.Compare(a.Rule, b.Rule),
			strings.Compare(a.Fingerprint, b.Fingerprint))
	})
	if out == nil {
		out = []diff.Finding{}
	}
	if len(out) > MaxFindings {
		return out[:MaxFindings], len(out) - MaxFindings
	}
	return out, 0
}

// tree groups the sorted endpoints by service and computes each
// template's depth: the number of shorter templates of the service on its
// path (a stack over the sorted templates). It returns the endpoint rows
// and the operation sub-rows left out by MaxTreeRows and MaxOperationRows
// (the operations of an endpoint left out are left out too).
func tree(eps []infer.EndpointSummary, findingsOf map[endpointKey]int, details map[endpointKey]string) ([]ServiceNode, int, int) {
	out := []ServiceNode{}
	omitted, opsOmitted := 0, 0
	var stack []string
	rows, opRows := 0, 0
	for _, e := range eps {
		if len(out) == 0 || out[len(out)-1].Name != e.Service {
			out = append(out, ServiceNode{Name: e.Service, Endpoints: []EndpointNode{}})
			stack = stack[:0]
		}
		svc := &out[len(out)-1]
		svc.Exchanges += e.Count
		if !e.FirstSeen.IsZero() && (svc.FirstSeen.IsZero() || e.FirstSeen.Before(svc.FirstSeen)) {
			svc.FirstSeen = e.FirstSeen.UTC()
		}
		if e.LastSeen.After(svc.LastSeen) {
			svc.LastSeen = e.LastSeen.UTC()
		}
		if rows >= MaxTreeRows {
			omitted++
			opsOmitted += len(e.Operations)
			continue
		}
		rows++
		for len(stack) > 0 && !underPath(e.Template, stack[len(stack)-1]) {
			stack = stack[:len(stack)-1]
		}
		depth := len(stack)
		if len(stack) > 0 && stack[len(stack)-1] == e.Template {
			depth-- // another method of the same template
		} else {
			stack = append(stack, e.Template)
		}
		k := endpointKey{e.Service, e.Method, e.Template}
		ops, cut := operationRows(e, MaxOperationRows-opRows)
		opRows += len(ops)
		opsOmitted += cut
		svc.Endpoints = append(svc.Endpoints, EndpointNode{
			Method: e.Method, Template: e.Template, Depth: depth, Count: e.Count,
			Statuses: statusCounts(e.Statuses), Auth: e.Auth, Unauth2xx: e.Unauthenticated2xx,
			Sensitive: e.Sensitive, FromSpec: e.FromSpec,
			FirstSeen: e.FirstSeen.UTC(), LastSeen: e.LastSeen.UTC(),
			Findings: findingsOf[k], Detail: details[k], Operations: ops,
		})
	}
	return out, omitted, opsOmitted
}

// underPath reports whether template t is parent or t itself.
func underPath(t, parent string) bool {
	if t == parent || parent == "/" {
		return true
	}
	return strings.HasPrefix(t, parent) && t[len(parent)] == '/'
}

func statusCounts(m map[int]uint64) []Count {
	out := make([]Count, 0, len(m))
	for code, n := range m {
		out = append(out, Count{strconv.Itoa(code), int(n)})
	}
	slices.SortFunc(out, func(a, b Count) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func matrix(eps []infer.EndpointSummary) (Matrix, int) {
	kinds := map[string]bool{}
	for _, e := range eps {
		for _, k := range e.Sensitive {
			kinds[k] = true
		}
	}
	m := Matrix{Kinds: []string{}, Rows: []MatrixRow{}}
	for k := range kinds {
		m.Kinds = append(m.Kinds, k)
	}
	sort.Strings(m.Kinds)
	omitted := 0
	for _, e := range eps {
		if len(e.Sensitive) == 0 {
			continue
		}
		if len(m.Rows) >= MaxMatrixRows {
			omitted++
			continue
		}
		r := MatrixRow{Service: e.Service, Method: e.Method, Template: e.Template, Has: make([]bool, len(m.Kinds))}
		for i, k := range m.Kinds {
			r.Has[i] = slices.Contains(e.Sensitive, k)
		}
		m.Rows = append(m.Rows, r)
	}
	return m, omitted
}

// pickDetails chooses the endpoints given a detail section, at most
// MaxDetails: those with findings, then with sensitive data,
// unauthenticated 2xx answers or operations behind one URL (whose detail
// lists them), then the busiest; it returns their anchors.
func pickDetails(eps []infer.EndpointSummary, findingsOf map[endpointKey]int) map[endpointKey]string {
	idx := make([]int, len(eps))
	for i := range idx {
		idx[i] = i
	}
	rank := func(e infer.EndpointSummary) int {
		switch {
		case findingsOf[endpointKey{e.Service, e.Method, e.Template}] > 0:
			return 0
		case len(e.Sensitive) > 0 || e.Unauthenticated2xx || len(e.Operations) > 0:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		x, y := eps[a], eps[b]
		// Ties by identity, not input order: Load and Build pick the same.
		return cmp.Or(cmp.Compare(rank(x), rank(y)), cmp.Compare(y.Count, x.Count), strings.Compare(x.Service, y.Service),
			strings.Compare(x.Template, y.Template), strings.Compare(x.Method, y.Method), cmp.Compare(a, b))
	})
	if len(idx) > MaxDetails {
		idx = idx[:MaxDetails]
	}
	slices.Sort(idx) // anchors in input order: page order in Build
	out := map[endpointKey]string{}
	for n, i := range idx {
		e := eps[i]
		out[endpointKey{e.Service, e.Method, e.Template}] = "ep-" + strconv.Itoa(n+1)
	}
	return out
}

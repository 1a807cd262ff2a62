package diff

import (
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/specter-dev/specter/infer"
)

// Inventory computes the findings that need only the inventory — shadow
// endpoints and methods, zombies and unused operations — from a model's
// endpoints, for a report over stored data. Inferred templates are matched
// to declared paths segment by segment: an inferred parameter matches only
// a declared parameter, a literal matches a literal or a parameter. Counts
// and times are the endpoints'; the unused window is each service's first
// to last request in the model. Services no spec is attached to are left
// out. Noncompliance needs the exchanges: see Checker.
func Inventory(m *infer.Model, specs []*Spec) []Finding {
	if m == nil {
		return nil
	}
	type key struct {
		svc string
		op  *openapi3.Operation
	}
	hits := map[key]bool{}
	var out []Finding
	eps := m.Endpoints()
	// Positions where the inventory has a parameter, per service and
	// prefix: a literal beside one is a path of its own to the inference
	// (/users/me beside /users/{userId}), so a declared parameter there
	// must not swallow it.
	paramAt := map[string]bool{}
	for _, e := range eps {
		segs := splitPath(e.Template)
		for i, seg := range segs {
			if strings.HasPrefix(seg, "{") {
				paramAt[e.Service+"\x00"+strings.Join(segs[:i], "/")] = true
			}
		}
	}
	besideParam := func(e infer.EndpointSummary) bool {
		segs := splitPath(e.Template)
		for i, seg := range segs {
			if !strings.HasPrefix(seg, "{") && paramAt[e.Service+"\x00"+strings.Join(segs[:i], "/")] {
				return true
			}
		}
		return false
	}
	for _, e := range eps {
		ss := specsFor(specs, e.Service)
		if len(ss) == 0 {
			continue
		}
		r := matchTemplate(ss, e.Method, e.Template, false)
		var f *Finding
		switch {
		case r != nil && r.Op != nil && besideParam(e) && matchTemplate(ss, e.Method, e.Template, true) == nil:
			f = newFinding(KindShadow, RuleUndeclaredPath, e.Service, e.Method, e.Template)
			f.Reason = "undeclared static path: the traffic shows it apart from the identifiers a declared parameter takes (" + r.Template + ")"
			f.Spec = r.Spec.File
		case r == nil:
			f = newFinding(KindShadow, RuleUndeclaredPath, e.Service, e.Method, e.Template)
			f.Reason = "no declared spec for this service has the path"
			f.Spec = ss[0].File
		case r.Op == nil:
			f = newFinding(KindShadow, RuleUndeclaredMethod, e.Service, e.Method, r.Template)
			f.Reason = "method " + e.Method + " is not declared for path " + r.Path
			f.Spec = r.Spec.File
		default:
			hits[key{e.Service, r.Op}] = true
			if !r.Op.Deprecated {
				continue
			}
			f = newFinding(KindZombie, RuleDeprecated, e.Service, e.Method, r.Template)
			f.Reason = "operation is deprecated: true and still receives traffic"
			f.Spec, f.SpecLine, f.OperationID = r.Spec.File, r.Spec.Line(e.Method, r.Path), r.Op.OperationID
		}
		f.Count, f.FirstSeen, f.LastSeen = e.Count, e.FirstSeen, e.LastSeen
		out = append(out, *f)
	}
	// Several inferred templates can land on one declared operation (or
	// path, for shadow methods): merge them by fingerprint.
	out = Merge(out, nil)
	svcs := map[string][2]time.Time{}
	for _, name := range m.Services() {
		s := m.ByName[name]
		svcs[name] = [2]time.Time{s.FirstSeen, s.LastSeen}
	}
	out = append(out, unused(specs, svcs, func(svc string, op *openapi3.Operation) bool { return hits[key{svc, op}] })...)
	out = append(out, Scans(m)...)
	Sort(out)
	return out
}

// Scans returns one scan finding per path-scanned service of m
// (infer.Model.Scans), specs or not: Count is the probes kept out of the
// inventory, the reason has the counts.
func Scans(m *infer.Model) []Finding {
	var out []Finding
	for _, s := range m.Scans() {
		f := newFinding(KindScan, RuleNotFoundProbes, s.Service, "*", "/*")
		f.Count, f.FirstSeen, f.LastSeen = s.Probes, s.FirstSeen, s.LastSeen
		f.Reason = s.Reason()
		out = append(out, *f)
	}
	return out
}

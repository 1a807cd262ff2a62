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
	var observed map[infer.EndpointKey][]infer.ObservedPath
	for _, e := range eps {
		ss := specsFor(specs, e.Service)
		if len(ss) == 0 {
			continue
		}
		r := matchTemplate(ss, e.Method, e.Template, false)
		if r == nil {
			// The template may merge declared static routes
			// (/ipam/{x}/{id} over /ipam/prefixes/{id} and
			// /ipam/vlans/{id}): each concrete path observed under it
			// is matched on its own.
			if observed == nil {
				observed = m.ObservedPaths()
			}
			out = append(out, byPath(ss, e, observed[infer.EndpointKey{Service: e.Service, Method: e.Method, Template: e.Template}], func(op *openapi3.Operation) {
				hits[key{e.Service, op}] = true
			})...)
			continue
		}
		var f *Finding
		switch {
		case r.Op != nil && besideParam(e) && matchTemplate(ss, e.Method, e.Template, true) == nil:
			f = newFinding(KindShadow, RuleUndeclaredPath, e.Service, e.Method, e.Template)
			f.Reason = "undeclared static path: the traffic shows it apart from the identifiers a declared parameter takes (" + r.Template + ")"
			f.Spec = r.Spec.File
		default:
			if f = routed(e, r, func(op *openapi3.Operation) { hits[key{e.Service, op}] = true }); f == nil {
				continue
			}
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

// ModelTraffic returns the requests per service of a model, for
// Attachments over stored data.
func ModelTraffic(m *infer.Model) map[string]uint64 {
	out := map[string]uint64{}
	if m == nil {
		return out
	}
	for _, name := range m.Services() {
		out[name] = m.ByName[name].Count
	}
	return out
}

// maxNamedPaths bounds the concrete paths a shadow finding names.
const maxNamedPaths = 16

// byPath makes the findings of an inferred template that matches no
// declared path as a whole, from the concrete paths observed under it:
// those matching a declared operation are hits (zombies when it is
// deprecated), those matching a declared path without the method are
// shadow methods, and the rest, when there are any, one shadow endpoint
// under the template that names them. Without path evidence (a model from
// elsewhere) the whole template is shadow.
func byPath(ss []*Spec, e infer.EndpointSummary, paths []infer.ObservedPath, hit func(*openapi3.Operation)) []Finding {
	var out []Finding
	shadow := newFinding(KindShadow, RuleUndeclaredPath, e.Service, e.Method, e.Template)
	shadow.Reason = "no declared spec for this service has the path"
	shadow.Spec = ss[0].File
	if len(paths) == 0 {
		shadow.Count, shadow.FirstSeen, shadow.LastSeen = e.Count, e.FirstSeen, e.LastSeen
		return []Finding{*shadow}
	}
	for _, p := range paths {
		// A folded segment is a parameter: it matches only a declared
		// parameter, like a template's.
		r := matchTemplate(ss, e.Method, p.Path, false)
		var f *Finding
		switch {
		case r == nil:
			shadow.addPath(p.Path)
			shadow.Count += p.Count
			widen(&shadow.FirstSeen, &shadow.LastSeen, p.FirstSeen)
			widen(&shadow.FirstSeen, &shadow.LastSeen, p.LastSeen)
			continue
		default:
			if f = routed(e, r, hit); f == nil {
				continue
			}
			if f.Kind == KindShadow {
				f.addPath(p.Path)
			}
		}
		f.Count, f.FirstSeen, f.LastSeen = p.Count, p.FirstSeen, p.LastSeen
		out = append(out, *f)
	}
	if shadow.Count > 0 || len(shadow.Paths) > 0 {
		if len(shadow.Paths) < len(paths) {
			shadow.Reason = "no declared spec for this service has these paths (the others under the template are declared)"
		}
		out = append(out, *shadow)
	}
	return out
}

// routed is the finding of traffic (e) matched to a declared path (r): a
// shadow method when the path lacks the method, a zombie when the
// operation is deprecated, else none (hit is told of the operation).
func routed(e infer.EndpointSummary, r *Route, hit func(*openapi3.Operation)) *Finding {
	if r.Op == nil {
		f := newFinding(KindShadow, RuleUndeclaredMethod, e.Service, e.Method, r.Template)
		f.Reason = "method " + e.Method + " is not declared for path " + r.Path
		f.Spec = r.Spec.File
		return f
	}
	hit(r.Op)
	if !r.Op.Deprecated {
		return nil
	}
	f := newFinding(KindZombie, RuleDeprecated, e.Service, e.Method, r.Template)
	f.Reason = "operation is deprecated: true and still receives traffic"
	f.Spec, f.SpecLine, f.OperationID = r.Spec.File, r.Spec.Line(e.Method, r.Path), r.Op.OperationID
	return f
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

package infer

import (
	"fmt"
	"sort"
	"time"

	"github.com/specter-dev/specter/infer/template"
	"github.com/specter-dev/specter/reassembly"
)

// Path scans. A scanner sends each host hundreds of paths the service does
// not serve, and the service answers 404: made endpoints, they bury the API
// under junk and cost memory for nothing. So a request answered 404 whose
// method and path shape (as for body sampling: identifier-looking segments
// blanked, words kept) the service has not served otherwise is a probe: it
// is counted in Service.Probes and kept out of the trie and the operations.
// The second probe of one shape with a literal segment is taken as an
// endpoint that answers 404 (GET /orders/{id} for missing orders) and
// recorded from then on; a shape of identifier-looking segments only is
// what random probes share, and stays a probe. A
// service most of whose requests are probes is reported as scanned (see
// Service.Scanned), once, with the counts.
const (
	// maxProbeShapes bounds the probe shapes remembered per service; past
	// it probes are counted only (ProbesUnshaped), never admitted.
	maxProbeShapes = 512
	// minScanProbes and scanShare decide Scanned: at least that many
	// probes, making at least that share of the service's requests.
	minScanProbes = 50
	scanShare     = 0.8
)

// Estimated bytes of the inventory, for Limits.MaxBytes: a service with its
// maps, one trie node, one operation as it stands after its first samples
// (statuses, latency sketch, a schema, an example). Measured with
// BenchmarkInventoryCost (go test ./infer -run '^$' -bench InventoryCost);
// operations that collect many parameters or media types cost more, within
// their own limits.
const (
	costService = 4 << 10
	costNode    = 320
	costOp      = 6 << 10
)

// probe reports whether the request x, with path segments segs and
// sampler key (method and path shape, see sampleKey), is a probe of svc
// (see the package's path-scan rules), and counts it if so.
func (m *Model) probe(svc *Service, x *reassembly.Exchange, key string, segs []string) bool {
	if x.Response == nil || x.Response.StatusCode != 404 {
		return false
	}
	if _, served := svc.Samplers[key]; served {
		return false
	}
	// A shape of identifier-looking segments only (/x7k2p9q, /a1b2/c3d4)
	// is what random probes have in common: it never repeats into an
	// endpoint.
	literal := false
	for _, seg := range segs {
		stem, _ := template.SplitExt(seg)
		if !template.Classify(stem).Variable() {
			literal = true
			break
		}
	}
	n, known := svc.ProbeShapes[key]
	switch {
	case known && n >= 1 && literal:
		// The same shape again: an endpoint that answers 404.
		delete(svc.ProbeShapes, key)
		return false
	case known || len(svc.ProbeShapes) < maxProbeShapes:
		if svc.ProbeShapes == nil {
			svc.ProbeShapes = map[string]uint32{}
		}
		svc.ProbeShapes[key] = n + 1
	default:
		svc.ProbesUnshaped++
	}
	svc.Probes++
	return true
}

// Scanned reports whether the service looks path-scanned: at least 50
// probes (requests answered 404 at paths of shapes it served no other
// way), making at least 80% of its requests.
func (s *Service) Scanned() bool {
	return s.Probes >= minScanProbes && float64(s.Probes) >= scanShare*float64(s.Count)
}

// Scan describes a path-scanned service.
type Scan struct {
	Service   string
	Requests  uint64 // all of the service's requests
	Probes    uint64 // of them, probes kept out of the inventory
	Shapes    int    // distinct probe shapes remembered (at most 512)
	Unshaped  uint64 // probes past the shapes remembered
	FirstSeen time.Time
	LastSeen  time.Time
}

// Reason says what the scan was, with its counts.
func (s Scan) Reason() string {
	more := ""
	if s.Unshaped > 0 {
		more = fmt.Sprintf(", %d more probes past them", s.Unshaped)
	}
	return fmt.Sprintf("path scan: %d of %d requests were answered 404 at paths of shapes the service serves no other way (%d distinct shapes%s); they are not endpoints",
		s.Probes, s.Requests, s.Shapes, more)
}

// Scans returns the scanned services, sorted by name.
func (m *Model) Scans() []Scan {
	var out []Scan
	for _, s := range m.ByName {
		if s.Scanned() {
			out = append(out, Scan{Service: s.Name, Requests: s.Count, Probes: s.Probes, Shapes: len(s.ProbeShapes),
				Unshaped: s.ProbesUnshaped, FirstSeen: s.FirstSeen, LastSeen: s.LastSeen})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Service < out[j].Service })
	return out
}

// mergeProbes adds src's probe counts to dst, within maxProbeShapes.
func mergeProbes(dst, src *Service) {
	dst.Probes += src.Probes
	dst.ProbesUnshaped += src.ProbesUnshaped
	for _, k := range sortedKeys(src.ProbeShapes) {
		if _, ok := dst.ProbeShapes[k]; !ok && len(dst.ProbeShapes) >= maxProbeShapes {
			dst.ProbesUnshaped += uint64(src.ProbeShapes[k])
			continue
		}
		if dst.ProbeShapes == nil {
			dst.ProbeShapes = map[string]uint32{}
		}
		dst.ProbeShapes[k] += src.ProbeShapes[k]
	}
}

// cost returns the estimated bytes of the inventory (see costService),
// computed once and then kept up to date by Observe.
func (m *Model) cost() int64 {
	if !m.costKnown {
		m.costBytes = 0
		for _, s := range m.ByName {
			m.costBytes += costService + int64(len(s.Ops))*costOp
			for _, g := range s.GRPC {
				m.costBytes += int64(len(g.Methods)) * costOp
			}
			if s.Trie != nil {
				m.costBytes += int64(s.Trie.Stats.Nodes) * costNode
			}
		}
		m.costKnown = true
	}
	return m.costBytes
}

// overBudget reports whether the inventory's estimated size has reached
// Limits.MaxBytes.
func (m *Model) overBudget() bool { return m.cost() >= m.limits.MaxBytes }

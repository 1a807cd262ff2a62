package diff

import (
	"fmt"
	"strings"
	"testing"

	"github.com/specter-dev/specter/infer"
)

// TestScanFinding: a path-scanned service is one scan finding with the
// counts, from the inventory (no spec needed) and from the checker,
// instead of an endpoint (or a shadow finding) per probe.
func TestScanFinding(t *testing.T) {
	m := infer.NewModel(infer.Config{})
	chk := NewChecker([]*Spec{mustSpec(t, "pets.yaml")}, Options{})
	for i := range 200 {
		// Paths a scanner tries: words and tokens, each once, all 404.
		x := exch(i, "pets.test", "GET", fmt.Sprintf("/%s%d/x%dq%d.php", strings.Repeat("w", 1+i%7), i, i*7, i%13), "", "", 404, "text/plain", "not found")
		m.Observe(x)
		chk.Check(x)
	}
	for _, x := range petTraffic() {
		m.Observe(x)
		chk.Check(x)
	}
	for name, fs := range map[string][]Finding{"inventory": Inventory(m, nil), "checker": chk.Findings()} {
		var scans []Finding
		for _, f := range fs {
			switch {
			case f.Kind == KindScan:
				scans = append(scans, f)
			case f.Kind == KindShadow && strings.HasSuffix(f.Path, ".php"):
				t.Errorf("%s: probe reported as %s %s", name, f.Kind, f.Path)
			}
		}
		if len(scans) != 1 {
			t.Fatalf("%s: %d scan findings, want 1: %+v", name, len(scans), scans)
		}
		f := scans[0]
		if f.Service != "pets.test" || f.Count != 200 || f.Severity != SeverityMedium || f.Rule != RuleNotFoundProbes ||
			!strings.Contains(f.Reason, "200 of") || f.Fingerprint != Fingerprint(KindScan, "pets.test", "*", "/*", RuleNotFoundProbes) {
			t.Errorf("%s: scan finding %+v", name, f)
		}
	}
	if k, ok := ParseKind("scan"); !ok || k != KindScan {
		t.Errorf("ParseKind(scan) = %v, %v", k, ok)
	}
}

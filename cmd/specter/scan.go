package main

import (
	"fmt"
	"io"

	"github.com/specter-dev/specter/infer"
)

// maxScanNotes is how many scanned services noteScans names one by one.
const maxScanNotes = 5

// noteScans tells on w which services of m look path-scanned: their probes
// are not in the endpoint list, and saying nothing would read as a quiet
// service. Past maxScanNotes services, one line sums up the rest.
func noteScans(w io.Writer, m *infer.Model) {
	scans := m.Scans()
	var probes uint64
	for i, s := range scans {
		if i < maxScanNotes {
			fmt.Fprintf(w, "specter: %s: %s\n", s.Service, s.Reason())
			continue
		}
		probes += s.Probes
	}
	if n := len(scans) - maxScanNotes; n > 0 {
		fmt.Fprintf(w, "specter: %d more services look path-scanned (%d probes, not endpoints); specter diff reports each as a scan finding\n", n, probes)
	}
}

package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/message"
)

func TestNoteScans(t *testing.T) {
	for _, hosts := range []int{0, 2, maxScanNotes + 3} {
		m := infer.NewModel(infer.Config{})
		at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		for h := range hosts {
			for i := range 60 {
				path := fmt.Sprintf("/probe%c%c/%d.php", 'a'+i%26, 'a'+i/26, i)
				m.Observe(&reassembly.Exchange{
					Request:  &message.Request{Method: "GET", Path: path, Target: path, Authority: fmt.Sprintf("h%d.test", h), Start: at},
					Response: &message.Response{StatusCode: 404, Start: at},
				})
			}
		}
		var w bytes.Buffer
		noteScans(&w, m)
		lines := strings.Split(strings.TrimSpace(w.String()), "\n")
		switch {
		case hosts == 0:
			if w.Len() != 0 {
				t.Errorf("no scan, noted %q", w.String())
			}
		case hosts <= maxScanNotes:
			if len(lines) != hosts || !strings.Contains(lines[0], "h0.test: path scan: 60 of 60 requests") {
				t.Errorf("%d scanned hosts noted as %q", hosts, w.String())
			}
		default:
			if len(lines) != maxScanNotes+1 || !strings.Contains(lines[maxScanNotes], "3 more services look path-scanned (180 probes") {
				t.Errorf("%d scanned hosts noted as %q", hosts, w.String())
			}
		}
	}
}

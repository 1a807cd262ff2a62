package reassembly_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/specter-dev/specter/capture/corpus"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/http1"
)

// countDiff documents, for a capture in ../shared/corpus/pcaps, why our
// request/response counts differ from tshark's reference counts. Each entry
// gives our counts and the reason; the test fails if the reason no longer
// applies (the counts changed) as much as when a new difference appears.
type countDiff struct {
	requests, responses int
	why                 string
}

var countDiffs = map[string]countDiff{}

func TestCorpusCounts(t *testing.T) {
	dir := corpus.Dir(t, "corpus/pcaps")
	f, err := os.Open(filepath.Join(dir, "counts.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 3 {
			continue
		}
		name := cols[0]
		wantReq, _ := strconv.Atoi(cols[1])
		wantResp, _ := strconv.Atoi(cols[2])
		t.Run(name, func(t *testing.T) {
			got, st := analyze(t, reassembly.DefaultConfig(), filepath.Join(dir, name))
			req, resp := 0, 0
			for _, x := range got {
				if x.Request != nil {
					req++
				}
				// tshark counts a response only once it has seen all of it;
				// we also deliver responses the capture cut short, flagged
				// incomplete: leave those out of the comparison.
				if x.Response != nil && !x.Response.Flags.Has(http1.FlagIncomplete) {
					resp++
				}
				// tshark counts interim responses (100 Continue) as
				// responses; so do we, for the comparison.
				resp += len(x.Interim)
			}
			if d, ok := countDiffs[name]; ok {
				if req != d.requests || resp != d.responses {
					t.Errorf("got %d/%d, documented difference says %d/%d (%s); tshark %d/%d", req, resp, d.requests, d.responses, d.why, wantReq, wantResp)
				}
				return
			}
			if req != wantReq || resp != wantResp {
				t.Errorf("requests/responses: got %d/%d, tshark %d/%d (stats %+v)", req, resp, wantReq, wantResp, st)
			}
		})
	}
}

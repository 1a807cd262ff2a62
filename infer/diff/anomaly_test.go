package diff

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/message"
)

// An exchange the hook reports anomalous is an anomaly finding (high), for
// services with or without a spec, one per service, method and anomaly.
func TestAnomalyFindings(t *testing.T) {
	long := strings.Repeat("x", 300)
	respOnly := &reassembly.Exchange{
		Flow:     reassembly.Flow{Server: netip.MustParseAddrPort("10.0.0.2:8080")},
		Response: &message.Response{StatusCode: 200, Start: t0},
	}
	tests := []struct {
		name string
		xs   []*reassembly.Exchange
		as   [][]string // anomalies per exchange
		want []string   // service method rule count
	}{
		{"none", []*reassembly.Exchange{exch(0, "pets.test", "GET", "/api/v3/pets", bearer, "", 200, "application/json", "[]")}, [][]string{nil}, nil},
		{"cl+te on a declared operation",
			[]*reassembly.Exchange{exch(0, "pets.test", "POST", "/api/v3/pets", bearer, `{"name":"a"}`, 201, "", ""), exch(1, "pets.test", "POST", "/api/v3/pets", bearer, `{"name":"b"}`, 201, "", "")},
			[][]string{{"content-length-with-transfer-encoding"}, {"content-length-with-transfer-encoding", "content-length-with-transfer-encoding"}},
			[]string{"pets.test POST content-length-with-transfer-encoding 2"}},
		{"service without a spec", []*reassembly.Exchange{exch(0, "other.test", "GET", "/x", "", "", 200, "", "")},
			[][]string{{"invalid-content-length", "unpaired-after-bad-framing"}},
			[]string{"other.test GET invalid-content-length 1", "other.test GET unpaired-after-bad-framing 1"}},
		{"response without a request", []*reassembly.Exchange{respOnly}, [][]string{{"unpaired-after-bad-framing"}},
			[]string{"10.0.0.2:8080  unpaired-after-bad-framing 1"}},
		{"hostile name is bounded", []*reassembly.Exchange{exch(0, "pets.test", "GET", "/api/v3/pets", bearer, "", 200, "application/json", "[]")},
			[][]string{{"Weird Name\n" + long, ""}}, []string{"pets.test GET weird-name-" + long[:maxAnomalyRule-len("weird-name-")] + " 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			byX := map[*reassembly.Exchange][]string{}
			for i, x := range tt.xs {
				byX[x] = tt.as[i]
			}
			c := NewChecker([]*Spec{mustSpec(t, "pets.yaml")}, Options{Anomalies: func(x *reassembly.Exchange) []string { return byX[x] }})
			for _, x := range tt.xs {
				c.Check(x)
			}
			var got []string
			fs := c.Findings()
			for _, f := range fs {
				if f.Kind != KindAnomaly {
					continue
				}
				if f.Severity != SeverityHigh || f.Reason == "" || f.Example == nil {
					t.Errorf("finding %+v", f)
				}
				got = append(got, strings.Join([]string{f.Service, f.Method, f.Rule, strconv.FormatUint(f.Count, 10)}, " "))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("anomalies:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if len(tt.want) > 0 {
				var b bytes.Buffer
				_ = Write(&b, fs, "table", "")
				if !strings.Contains(b.String(), "ANOMALY (") {
					t.Errorf("table lacks the anomalies:\n%s", b.String())
				}
			}
		})
	}
	if k, ok := ParseKind("Anomaly"); !ok || k != KindAnomaly {
		t.Error("ParseKind(anomaly)")
	}
}

package operations

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/specter-dev/specter/infer/schema"
)

// BenchmarkDetect measures what infer pays per exchange (Calls, then
// Inventory.Observe with infer's sampling) per request kind, and for a
// plain JSON body (no RPC): the price every exchange pays.
func BenchmarkDetect(b *testing.B) {
	var distinct []Exchange
	for i := 0; i < 1000; i++ {
		distinct = append(distinct, Exchange{Body: []byte(fmt.Sprintf(`{"query":"query Op%d($id: ID!) { item(id: $id) { id name owner { login } } }","variables":{"id":"%d"}}`, i, i)),
			RespBody: []byte(`{"data":{"item":{"id":"1","name":"x","owner":{"login":"o"}}}}`)})
	}
	cases := []struct {
		name string
		xs   []Exchange
	}{
		{"graphql-repeated", []Exchange{{Body: []byte(`{"query":"query Hero($ep: Episode) { hero(episode: $ep) { name friends { name } } }","variables":{"ep":"JEDI"}}`),
			RespBody: []byte(`{"data":{"hero":{"name":"R2-D2","friends":[{"name":"Luke"}]}}}`)}}},
		{"graphql-distinct", distinct},
		{"graphql-64KiB-response", []Exchange{{Body: []byte(`{"query":"query List { items { id name } }"}`),
			RespBody: []byte(`{"data":{"items":[` + strings.TrimSuffix(strings.Repeat(`{"id":"8c7b1a52-6f37-4c38-9d6a-0e1f2a3b4c5d","name":"some descriptive item name"},`, 900), ",") + `]}}`)}}},
		{"jsonrpc-batch", []Exchange{{Body: []byte(`[{"jsonrpc":"2.0","method":"a","params":[1,2],"id":1},{"jsonrpc":"2.0","method":"b","params":{"x":1},"id":2},{"jsonrpc":"2.0","method":"log"}]`),
			RespBody: []byte(`[{"jsonrpc":"2.0","result":3,"id":1},{"jsonrpc":"2.0","error":{"code":-1,"message":"m"},"id":2}]`)}}},
		{"soap", []Exchange{{ContentType: "text/xml", SOAPAction: `"urn:Get"`, Body: []byte(`<s:Envelope xmlns:s="` + soap11NS + `"><s:Header/><s:Body><Get xmlns="urn:x"><id>1</id><n>2</n></Get></s:Body></s:Envelope>`)}}},
		{"plain-json", []Exchange{{Body: []byte(`{"id":1,"name":"` + strings.Repeat("x", 200) + `","tags":["a","b"],"owner":{"login":"o"}}`)}}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var d Detector
			var inv Inventory
			opts := schema.DefaultOptions()
			opts.MaxSamples, opts.SampleEvery = 64, 16
			b.ReportAllocs()
			cpu0 := cpuSeconds()
			for i := 0; i < b.N; i++ {
				res, err := d.Calls(&tc.xs[i%len(tc.xs)])
				inv.Observe(res, err, time.Time{}, Limits{}, opts)
			}
			// CPU time per call: steadier than wall time on a shared
			// machine.
			b.ReportMetric((cpuSeconds()-cpu0)*1e9/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuSeconds is the CPU time (user and system) the process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

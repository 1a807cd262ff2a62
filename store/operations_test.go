package store

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/reassembly"
)

// rpcExchanges is n GraphQL, JSON-RPC and SOAP calls behind three URLs.
func rpcExchanges(n int, t0 time.Time) []*reassembly.Exchange {
	var out []*reassembly.Exchange
	for i := 0; i < n; i++ {
		at := t0.Add(time.Duration(i) * time.Second)
		k := i % 7
		switch i % 3 {
		case 0:
			out = append(out, exchange(at, "POST", "api.example.com", "/graphql", "",
				fmt.Sprintf(`{"query":"query Op%d($id: ID!) { item%d(id: $id) { name } }","variables":{"id":"%d"}}`, k, k, i), 200,
				fmt.Sprintf(`{"data":{"item%d":{"name":"n%d"}}}`, k, i)))
		case 1:
			out = append(out, exchange(at, "POST", "api.example.com", "/rpc", "",
				fmt.Sprintf(`[{"jsonrpc":"2.0","method":"m%d","params":[%d],"id":%d},{"jsonrpc":"2.0","method":"log"}]`, k, i, i), 200,
				fmt.Sprintf(`[{"jsonrpc":"2.0","result":{"v":%d},"id":%d}]`, i, i)))
		default:
			x := exchange(at, "POST", "api.example.com", "/soap", fmt.Sprintf(`SOAPAction: "urn:Act%d"`, k),
				`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><Act><a>1</a></Act></s:Body></s:Envelope>`, 200, "")
			x.Request.Header.Set("Content-Type", "text/xml")
			out = append(out, x)
		}
	}
	return out
}

// TestOperationsPersist: the operations behind one URL survive the store,
// and A then B in two runs (with checkpoints) gives the inventory of A+B.
func TestOperationsPersist(t *testing.T) {
	xs := rpcExchanges(300, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	mem := infer.NewModel(infer.Config{})
	for _, x := range xs {
		mem.Observe(x)
	}
	wantEps, wantDoc := modelInventory(t, mem)
	for _, s := range []string{`"name": "Op6"`, `"name": "m6"`, `"name": "log"`, `"name": "urn:Act6"`} {
		if !strings.Contains(wantEps, s) {
			t.Fatalf("in-memory inventory lacks %s: the comparison would prove nothing", s)
		}
	}
	if !strings.Contains(wantDoc, infer.ExtOperations) {
		t.Fatalf("export lacks %s", infer.ExtOperations)
	}
	seq := openTemp(t, "seq.db")
	ingest(t, seq, 41, xs[:170])
	ingest(t, seq, 29, xs[170:])
	eps, doc := inventory(t, seq)
	sameInventory(t, "A then B vs A+B", eps, doc, wantEps, wantDoc)
}

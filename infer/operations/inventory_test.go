package operations

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/specter-dev/specter/infer/schema"
)

// exchanges generates n GraphQL and JSON-RPC exchanges over k operations.
func exchanges(n, k int) []Exchange {
	var out []Exchange
	for i := 0; i < n; i++ {
		j := (i / 2) % k
		if i%2 == 0 {
			out = append(out, Exchange{
				Body:     []byte(fmt.Sprintf(`{"query":"query Op%d($v: Int) { f%d(n: $v) { id } }","variables":{"v":%d}}`, j, j, i)),
				RespBody: []byte(fmt.Sprintf(`{"data":{"f%d":{"id":"%d"}}}`, j, i)),
			})
		} else {
			out = append(out, Exchange{
				Body:     []byte(fmt.Sprintf(`{"jsonrpc":"2.0","method":"m%d","params":{"a":%d},"id":%d}`, j, i, i)),
				RespBody: []byte(fmt.Sprintf(`{"jsonrpc":"2.0","result":[%d],"id":%d}`, i, i)),
			})
		}
	}
	return out
}

func observeAll(inv *Inventory, xs []Exchange, l Limits) { observeFrom(inv, xs, 0, l) }

// observeFrom observes xs as the exchanges from number first on.
func observeFrom(inv *Inventory, xs []Exchange, first int, l Limits) {
	var d Detector
	d.Limits = l
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range xs {
		res, err := d.Detect(&xs[i])
		inv.Observe(res, err, t0.Add(time.Duration(first+i)*time.Second), l, schema.DefaultOptions())
	}
}

func TestMergeEqualsSequential(t *testing.T) {
	xs := exchanges(200, 10)
	l := Limits{}
	var seq, a, b, merged Inventory
	observeAll(&seq, xs, l)
	observeAll(&a, xs[:120], l)
	observeFrom(&b, xs[120:], 120, l)
	merged.Merge(&a, l, schema.DefaultOptions())
	merged.Merge(&b, l, schema.DefaultOptions())
	js, _ := json.Marshal(&seq)
	jm, _ := json.Marshal(&merged)
	if string(js) != string(jm) {
		t.Errorf("merged differs from sequential:\n%s\n%s", js, jm)
	}
	// Merging shares no memory: changing the merge leaves a unchanged.
	before, _ := json.Marshal(&a)
	for _, op := range merged.Ops {
		for k := range op.Fields {
			op.Fields[k] = append(op.Fields[k][:0], "changed")
		}
	}
	after, _ := json.Marshal(&a)
	if string(before) != string(after) {
		t.Error("Merge shares memory with its source")
	}
	if got := len(seq.Ops); got != 20 {
		t.Errorf("%d operations, want 20", got)
	}
	if op := seq.Ops["graphql query Op3"]; op == nil || op.Result == nil || op.Params == nil || !reflect.DeepEqual(op.Fields, map[string][]string{"f3": {"n"}}) {
		t.Errorf("Op3 = %+v", op)
	}
}

func TestInventoryBounds(t *testing.T) {
	l := Limits{MaxOperations: 5, MaxBatch: 3, MaxDocuments: 1}
	var inv Inventory
	observeAll(&inv, exchanges(40, 20), l)
	if len(inv.Ops) != 5 || inv.Dropped != 35 || inv.Ops["jsonrpc m0"] == nil {
		t.Fatalf("%d operations, %d dropped; want 5 and 35, with m0", len(inv.Ops), inv.Dropped)
	}
	var d Detector
	d.Limits = l
	batch := []byte(`[` + `{"jsonrpc":"2.0","method":"m0"},{"jsonrpc":"2.0","method":"m0"},{"jsonrpc":"2.0","method":"m0"},{"jsonrpc":"2.0","method":"m0"},{"jsonrpc":"2.0","method":"m0"}]`)
	res, err := d.Detect(&Exchange{Body: batch})
	inv.Observe(res, err, time.Time{}, l, schema.DefaultOptions())
	if inv.BatchCut != 2 || inv.Ops["jsonrpc m0"].Notifications != 3 {
		t.Errorf("batch cut %d, notifications %d; want 2 and 3", inv.BatchCut, inv.Ops["jsonrpc m0"].Notifications)
	}
	for _, body := range []string{`{"query":"query Op0 { f0 { x } }"}`, `{"query":"query Op0 { f0 { y } }"}`} {
		res, err := d.Detect(&Exchange{Body: []byte(body)})
		inv.Observe(res, err, time.Time{}, l, schema.DefaultOptions())
	}
	if op := inv.Ops["graphql query Op0"]; len(op.Documents) != 1 || op.Dropped != 2 {
		t.Errorf("documents %d, dropped %d; want 1 and 2", len(op.Documents), op.Dropped)
	}
	long := Limits{MaxKeptDocumentBytes: 40}
	res, err = d.Detect(&Exchange{Body: []byte(`{"query":"query Long { f0 { ` + strings.Repeat("x ", 30) + `} }"}`)})
	inv.Observe(res, err, time.Time{}, long, schema.DefaultOptions())
	if op := inv.Ops["graphql query Long"]; op == nil || op.Count != 1 || op.Unkept != 1 || len(op.Documents) != 0 {
		t.Errorf("a document past MaxKeptDocumentBytes: %+v", op)
	}
	res, err = d.Detect(&Exchange{Body: []byte(`{"query":"{ a ","variables":{}}`)})
	inv.Observe(res, err, time.Time{}, l, schema.DefaultOptions())
	if inv.Bad != 1 {
		t.Errorf("bad %d, want 1", inv.Bad)
	}
}

func TestPersistedHashFollowsDocument(t *testing.T) {
	hash := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	xs := []Exchange{
		{Body: []byte(`{"query":"query Hero { hero { name } }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + hash + `"}}}`)},
		{Body: []byte(`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + hash + `"}}}`)},
		{Body: []byte(`{"operationName":"Hero","extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + hash[:60] + `ffff"}}}`)},
	}
	var inv Inventory
	observeAll(&inv, xs, Limits{})
	if len(inv.Ops) != 1 || inv.Ops["graphql query Hero"].Count != 3 {
		t.Errorf("ops %v, want Hero counted 3 times", inv.Ops)
	}
}

// TestBoundedSetsIndependentOfOrder: past MaxDocuments, the documents kept
// are the same whatever order the calls came in, and so under merging.
func TestBoundedSetsIndependentOfOrder(t *testing.T) {
	l := Limits{MaxDocuments: 2}
	var xs []Exchange
	for _, f := range []string{"c", "a", "d", "b"} {
		xs = append(xs, Exchange{Body: []byte(`{"query":"query Q { q { ` + f + ` } }"}`)})
	}
	var fwd, rev, merged, a, b Inventory
	observeAll(&fwd, xs, l)
	observeAll(&rev, []Exchange{xs[3], xs[2], xs[1], xs[0]}, l)
	observeAll(&a, xs[:2], l)
	observeAll(&b, xs[2:], l)
	merged.Merge(&b, l, schema.DefaultOptions())
	merged.Merge(&a, l, schema.DefaultOptions())
	want := fwd.Ops["graphql query Q"]
	if len(want.Documents) != 2 || want.Dropped != 2 {
		t.Fatalf("documents %q, dropped %d; want 2 and 2", want.Documents, want.Dropped)
	}
	for name, inv := range map[string]*Inventory{"reversed": &rev, "merged": &merged} {
		got := inv.Ops["graphql query Q"]
		if !reflect.DeepEqual(got.Documents, want.Documents) || got.Dropped != want.Dropped {
			t.Errorf("%s: documents %q dropped %d; want %q %d", name, got.Documents, got.Dropped, want.Documents, want.Dropped)
		}
	}
}

// TestSOAPVersionsOneOperation: an action called over SOAP 1.1 and 1.2 is
// one operation, with both versions, observed or merged.
func TestSOAPVersionsOneOperation(t *testing.T) {
	env := func(ns string) []byte {
		return []byte(`<e:Envelope xmlns:e="` + ns + `"><e:Body><Get/></e:Body></e:Envelope>`)
	}
	xs := []Exchange{
		{ContentType: "application/soap+xml; action=urn:Get", Body: env(soap12NS)},
		{ContentType: "text/xml", SOAPAction: "urn:Get", Body: env(soap11NS)},
	}
	var seq, a, b, merged Inventory
	observeAll(&seq, xs, Limits{})
	observeAll(&a, xs[:1], Limits{})
	observeAll(&b, xs[1:], Limits{})
	merged.Merge(&a, Limits{}, schema.DefaultOptions())
	merged.Merge(&b, Limits{}, schema.DefaultOptions())
	for name, inv := range map[string]*Inventory{"observed": &seq, "merged": &merged} {
		op := inv.Ops["soap urn:Get"]
		if len(inv.Ops) != 1 || op == nil || op.Type != "1.1 1.2" || op.Count != 2 {
			t.Errorf("%s: %v", name, inv.Ops)
		}
	}
}

// TestLazyPairing: observing Calls (the response decoded only when
// needed) gives the inventory that Detect gives, errors counted on every
// call, sampled or not.
func TestLazyPairing(t *testing.T) {
	xs := exchanges(300, 3)
	for i := range xs {
		if i%5 == 0 {
			if xs[i].Body[0] == '{' && xs[i].Body[2] == 'q' {
				xs[i].RespBody = []byte(`{"data":null,"errors":[{"message":"denied"}]}`)
			} else {
				xs[i].RespBody = []byte(fmt.Sprintf(`{"jsonrpc":"2.0","error":{"code":-1,"message":"m"},"id":%d}`, i))
			}
		}
	}
	opts := schema.DefaultOptions()
	opts.MaxSamples, opts.SampleEvery = 4, 1000
	var eager, lazy Inventory
	var d Detector
	for i := range xs {
		res, err := d.Detect(&xs[i])
		eager.Observe(res, err, time.Time{}, Limits{}, opts)
		res, err = d.Calls(&xs[i])
		lazy.Observe(res, err, time.Time{}, Limits{}, opts)
	}
	je, _ := json.Marshal(&eager)
	jl, _ := json.Marshal(&lazy)
	if string(je) != string(jl) {
		t.Errorf("lazy pairing differs:\n%s\n%s", je, jl)
	}
	errs := uint64(0)
	for _, op := range lazy.Ops {
		errs += op.Errors
	}
	if errs != 60 {
		t.Errorf("%d errors counted, want 60", errs)
	}
}

// TestAutomaticPersistedQuery: an automatic persisted query's first try
// (hash only, unknown to the server), the retry with the document, and
// later hash-only calls are one operation, observed in order or merged.
func TestAutomaticPersistedQuery(t *testing.T) {
	hash := strings.Repeat("a1", 32)
	ext := `"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + hash + `"}}`
	xs := []Exchange{
		{Body: []byte(`{"operationName":"Greeting",` + ext + `}`), RespBody: []byte(`{"errors":[{"message":"PersistedQueryNotFound"}]}`)},
		{Body: []byte(`{"operationName":"Greeting","query":"query Greeting { greeting }",` + ext + `}`), RespBody: []byte(`{"data":{"greeting":"hi"}}`)},
		{Body: []byte(`{"operationName":"Greeting",` + ext + `}`), RespBody: []byte(`{"data":{"greeting":"hi"}}`)},
		// Without operationName, a hash never seen with a document.
		{Body: []byte(`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + strings.Repeat("b2", 32) + `"}}}`)},
	}
	var seq, a, b, merged Inventory
	observeAll(&seq, xs, Limits{})
	observeAll(&a, xs[:1], Limits{})
	observeFrom(&b, xs[1:], 1, Limits{})
	merged.Merge(&a, Limits{}, schema.DefaultOptions())
	merged.Merge(&b, Limits{}, schema.DefaultOptions())
	for name, inv := range map[string]*Inventory{"observed": &seq, "merged": &merged} {
		op := inv.Ops["graphql query Greeting"]
		if len(inv.Ops) != 2 || op == nil || op.Count != 3 || op.Errors != 1 || !slices.Equal(op.Hashes, []string{hash}) {
			t.Errorf("%s: %d operations, Greeting %+v", name, len(inv.Ops), op)
		}
		if o := inv.Ops["graphql persisted persisted-"+strings.Repeat("b2", 6)]; o == nil || o.Count != 1 {
			t.Errorf("%s: the unknown hash's operation is %+v", name, o)
		}
	}
	js, _ := json.Marshal(&seq)
	jm, _ := json.Marshal(&merged)
	if string(js) != string(jm) {
		t.Errorf("merged differs from observed:\n%s\n%s", js, jm)
	}
}

package infer

import (
	"fmt"
	"strings"
	"testing"
)

// bigBody is a JSON document whose redaction is far larger than the
// default MaxExampleBytes, so that it is never kept as an example.
func bigBody(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"item %d","email":"user%d@example.com","created":"2024-01-02T03:04:05Z"}`, i, i, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// TestExampleRedactionStopsAtTheCap: a body too large to be kept as an
// example is not redacted in full each time it is sampled (redaction
// used to run on every sampled body until one fitted, allocating its
// output each time); once the schema has seen the body's shape, observing
// it again allocates nothing.
func TestExampleRedactionStopsAtTheCap(t *testing.T) {
	m := NewModel(Config{})
	body := bigBody(200)
	op, b := &Operation{}, &Body{}
	m.observeBody(op, b, "application/json", nil, body, false)
	if b.Example != "" {
		t.Fatalf("a %d-byte body was kept as an example (cap %d)", len(body), m.limits.MaxExampleBytes)
	}
	allocs := testing.AllocsPerRun(10, func() {
		m.observeBody(op, b, "application/json", nil, body, false)
	})
	if allocs != 0 {
		t.Errorf("observing a known shape again: %v allocations, want 0", allocs)
	}
	// The first body that fits is still the example, as before.
	small := []byte(`{"items":[{"id":1,"name":"item 1","email":"user1@example.com","created":"2024-01-02T03:04:05Z"}]}`)
	m.observeBody(op, b, "application/json", nil, small, false)
	if want := `{"items":[{"id":1,"name":"item 1","email":"<redacted:email>","created":"2024-01-02T03:04:05Z"}]}`; b.Example != want {
		t.Errorf("example %s, want %s", b.Example, want)
	}
}

// TestKnownCredentialsNoAlloc: the fast path of credential detection, which
// runs for most requests, allocates nothing once an operation's
// credentials are known.
func TestKnownCredentialsNoAlloc(t *testing.T) {
	m := NewModel(Config{})
	auth := "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJzaG9wIn0.c2lnbmF0dXJl\nX-Api-Key: k_0123456789abcdef"
	x := ex(0, "GET", "shop.test", "/api/v1/users/1", auth, "", 200, "application/json", `{"id":1}`)
	m.Observe(x)
	op := m.ByName["shop.test"].Ops[0]
	if len(op.Credentials) < 2 {
		t.Fatalf("credentials %v, want the bearer token and the API key", op.Credentials)
	}
	var got int
	allocs := testing.AllocsPerRun(20, func() {
		got = len(m.knownCredentials(op, x.Request.Header, nil, false))
	})
	if got != len(op.Credentials) {
		t.Fatalf("%d credentials known, want %d", got, len(op.Credentials))
	}
	if allocs != 0 {
		t.Errorf("%v allocations per request, want 0", allocs)
	}
}

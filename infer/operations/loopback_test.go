package operations_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creachadair/jrpc2"
	"github.com/creachadair/jrpc2/handler"
	"github.com/creachadair/jrpc2/jhttp"
	graphgophers "github.com/graph-gophers/graphql-go"
	"github.com/graph-gophers/graphql-go/example/starwars"
	"github.com/graph-gophers/graphql-go/relay"
	"github.com/machinebox/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/specter-dev/specter/capture"
	"github.com/specter-dev/specter/capture/live"
	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/diff"
	"github.com/specter-dev/specter/infer/operations"
	"github.com/specter-dev/specter/reassembly"
)

// counted wraps a handler to count the requests it answered, so that the
// capture can wait for as many exchanges.
type counted struct {
	h http.Handler
	n *atomic.Int64
}

func (c counted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.h.ServeHTTP(w, r)
	c.n.Add(1)
}

// serve starts h on a loopback port and returns its URL base and port.
func serve(t *testing.T, h http.Handler) (string, int) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	return "http://127.0.0.1:" + strconv.Itoa(port), port
}

// captureLoopback captures the TCP traffic of port on the loopback
// interface with specter's live capture while send runs, reassembles it and
// returns the model inferred from it. answered is the number of requests
// the server answered: the capture waits for as many exchanges.
func captureLoopback(t *testing.T, port int, answered *atomic.Int64, send func()) *infer.Model {
	return captureLoopbackN(t, port, answered.Load, send)
}

// captureLoopbackN is captureLoopback waiting for want() exchanges.
func captureLoopbackN(t *testing.T, port int, want func() int64, send func()) *infer.Model {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture on lo needs root (CAP_NET_RAW)")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// lo hands every frame to packet sockets twice (out and in): dedup.
	src, err := live.Open(ctx, live.Options{Interfaces: []string{"lo"}, Filter: fmt.Sprintf("tcp port %d", port), RingSizeMB: 8, Dedup: true})
	if err != nil {
		t.Skipf("cannot capture on lo: %v", err)
	}
	defer src.Close()
	m := infer.NewModel(infer.Config{})
	var mu sync.Mutex
	seen := 0
	pipe := reassembly.New(reassembly.DefaultConfig(), func(x *reassembly.Exchange) {
		mu.Lock()
		m.Observe(x)
		seen++
		mu.Unlock()
	})
	pumped := make(chan error, 1)
	go func() {
		// Cancelling ctx stops src, which then returns what its rings
		// held and io.EOF.
		dec := capture.NewDecoder(capture.DecoderOptions{})
		var pkt capture.Packet
		for {
			f, err := src.Next()
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				pumped <- err
				return
			}
			if ok, _ := dec.Decode(f, &pkt); ok {
				pipe.Add(&pkt)
			}
		}
	}()
	send()
	// Not a timing assertion: the deadline only keeps a broken capture
	// from hanging the test; the exchange count is checked below.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := seen
		mu.Unlock()
		if int64(n) >= want() {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-pumped; err != nil {
		t.Fatalf("capture: %v", err)
	}
	pipe.Close()
	mu.Lock()
	defer mu.Unlock()
	if int64(seen) < want() {
		t.Errorf("captured %d exchanges, the server answered %d", seen, want())
	}
	return m
}

// inventory merges the operation inventories of every endpoint of m.
func inventory(m *infer.Model) map[string]operations.Summary {
	out := map[string]operations.Summary{}
	for _, ep := range m.Endpoints() {
		for _, s := range ep.Operations {
			out[string(s.Protocol)+" "+s.Label()] = s
		}
	}
	return out
}

// enumValue is a GraphQL enum value: bare in a literal, a string in JSON.
type enumValue string

// valueFor makes a value of type t from the schema's definitions.
func valueFor(s *ast.Schema, t *ast.Type, depth int) any {
	if t.Elem != nil {
		return []any{valueFor(s, t.Elem, depth+1)}
	}
	def := s.Types[t.NamedType]
	switch {
	case def == nil:
		return nil
	case def.Kind == ast.Enum:
		return enumValue(def.EnumValues[0].Name)
	case def.Kind == ast.InputObject:
		obj := map[string]any{}
		for _, f := range def.Fields {
			if f.Type.NonNull || depth < 2 {
				obj[f.Name] = valueFor(s, f.Type, depth+1)
			}
		}
		return obj
	}
	switch t.NamedType {
	case "Int":
		return 5
	case "Float":
		return 1.5
	case "Boolean":
		return true
	case "ID":
		return "1000"
	}
	return "Luke"
}

// literal writes v as a GraphQL value literal.
func literal(v any) string {
	switch v := v.(type) {
	case enumValue:
		return string(v)
	case string:
		return strconv.Quote(v)
	case []any:
		var parts []string
		for _, e := range v {
			parts = append(parts, literal(e))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(v)) {
			parts = append(parts, k+": "+literal(v[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// exercise is one operation the client sends, and what the inventory
// must then hold for it.
type exercise struct {
	typ, name string // name "" for an anonymous operation
	fields    []string
	vars      []string
	req       *graphql.Request
}

// exercises builds, from the server's own schema, two operations per root
// field of Query and Mutation: a named one passing every argument as a
// variable, and an anonymous one with literal arguments.
func exercises(s *ast.Schema) []exercise {
	var out []exercise
	for _, root := range []*ast.Definition{s.Query, s.Mutation} {
		if root == nil {
			continue
		}
		typ := "query"
		if root == s.Mutation {
			typ = "mutation"
		}
		for _, f := range root.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			sel := ""
			if d := s.Types[f.Type.Name()]; d != nil && (d.Kind == ast.Object || d.Kind == ast.Interface || d.Kind == ast.Union) {
				sel = " { __typename }"
			}
			var defs, named, lits, argNames, vars []string
			vals := map[string]any{}
			for i, a := range f.Arguments {
				v := fmt.Sprintf("a%d", i)
				defs = append(defs, "$"+v+": "+a.Type.String())
				vars = append(vars, "$"+v+": "+a.Type.String())
				named = append(named, a.Name+": $"+v)
				val := valueFor(s, a.Type, 0)
				vals[v] = val
				lits = append(lits, a.Name+": "+literal(val))
				argNames = append(argNames, a.Name)
			}
			sort.Strings(argNames)
			sort.Strings(vars)
			field := f.Name
			if len(argNames) > 0 {
				field += "(" + strings.Join(argNames, ",") + ")"
			}
			name := "Exercise" + strings.ToUpper(f.Name[:1]) + f.Name[1:]
			q := typ + " " + name
			args, litArgs := "", ""
			if len(defs) > 0 {
				q += "(" + strings.Join(defs, ", ") + ")"
				args = "(" + strings.Join(named, ", ") + ")"
				litArgs = "(" + strings.Join(lits, ", ") + ")"
			}
			req := graphql.NewRequest(q + " { " + f.Name + args + sel + " }")
			for k, v := range vals {
				req.Var(k, v)
			}
			out = append(out, exercise{typ: typ, name: name, fields: []string{field}, vars: vars, req: req})
			anon := "{ " + f.Name + litArgs + sel + " }"
			if typ == "mutation" {
				anon = "mutation " + anon
			}
			out = append(out, exercise{typ: typ, fields: []string{field}, req: graphql.NewRequest(anon)})
		}
	}
	return out
}

// TestGraphQLLoopback drives graph-gophers/graphql-go's Star Wars example
// server (as its example main serves it) with machinebox/graphql's client
// on loopback, captures the traffic live and scores the operations found
// against the operations exercised, which are derived from the server's
// own schema.
func TestGraphQLLoopback(t *testing.T) {
	s, err := gqlparser.LoadSchema(&ast.Source{Name: "starwars", Input: starwars.Schema})
	if err != nil {
		t.Fatal(err)
	}
	var answered atomic.Int64
	mux := http.NewServeMux()
	mux.Handle("POST /query", &relay.Handler{Schema: graphgophers.MustParseSchema(starwars.Schema, &starwars.Resolver{})})
	base, port := serve(t, counted{mux, &answered})
	ex := exercises(s)
	introspection := graphql.NewRequest(diff.IntrospectionQuery)
	// An operation the schema does not declare: the server rejects it, the
	// traffic still shows it.
	sneaky := graphql.NewRequest(`query Sneaky { hero { name secretNote } }`)
	var introspected map[string]any
	m := captureLoopback(t, port, &answered, func() {
		hc := &http.Client{Transport: &http.Transport{}}
		c := graphql.NewClient(base+"/query", graphql.WithHTTPClient(hc))
		for _, e := range ex {
			var resp map[string]any
			if err := c.Run(context.Background(), e.req, &resp); err != nil {
				t.Errorf("%s %s: %v", e.typ, e.name, err)
			}
		}
		if err := c.Run(context.Background(), introspection, &introspected); err != nil {
			t.Errorf("introspection: %v", err)
		}
		var resp map[string]any
		if err := c.Run(context.Background(), sneaky, &resp); err == nil {
			t.Error("the server answered an undeclared field without an error")
		}
		hc.CloseIdleConnections()
	})
	inv := inventory(m)
	found := 0
	for _, e := range ex {
		var got *operations.Summary
		for _, s := range inv {
			if s.Protocol != operations.GraphQL || s.Type != e.typ {
				continue
			}
			if e.name == "" && strings.HasPrefix(s.Name, "anonymous-") && slices.Equal(s.Fields, e.fields) || e.name != "" && s.Name == e.name {
				got = &s
				break
			}
		}
		switch {
		case got == nil:
			t.Errorf("not found: %s %s %v", e.typ, e.name, e.fields)
		case !slices.Equal(got.Fields, e.fields) || !slices.Equal(got.Variables, e.vars) || got.Count != 1:
			t.Errorf("%s %s: fields %v variables %v count %d; want %v %v 1", e.typ, got.Name, got.Fields, got.Variables, got.Count, e.fields, e.vars)
		default:
			found++
		}
	}
	score := float64(found) / float64(len(ex))
	t.Logf("graphql: %d operations found of %d exercised (%.3f); %d in the inventory", found, len(ex), score, len(inv))
	if score < 0.95 {
		t.Errorf("score %.3f < 0.95", score)
	}
	if in := inv["graphql query IntrospectionQuery"]; !in.Introspection {
		t.Errorf("the introspection query is not marked: %+v", in)
	}
	if len(inv) != len(ex)+2 {
		t.Errorf("%d operations in the inventory, want %d", len(inv), len(ex)+2)
	}

	// Against the server's own schema, as SDL and as the introspection
	// result it sent over the wire: the undeclared field and the
	// introspection query are the only findings (every root field was
	// exercised, nothing is deprecated).
	wire, err := json.Marshal(map[string]any{"data": introspected})
	if err != nil {
		t.Fatal(err)
	}
	fromWire, err := diff.ParseGraphQLSchema("introspection.json", wire)
	if err != nil {
		t.Fatal(err)
	}
	fromSDL, err := diff.ParseGraphQLSchema("starwars.graphql", []byte(starwars.Schema))
	if err != nil {
		t.Fatal(err)
	}
	for _, sch := range []*diff.GraphQLSchema{fromSDL, fromWire} {
		var got []string
		for _, f := range diff.GraphQLFindings(m, []*diff.GraphQLSchema{sch}) {
			got = append(got, fmt.Sprintf("%s %s %d", f.Kind, f.Rule, f.Count))
		}
		want := []string{"shadow graphql-undeclared-field:Character.secretNote 1", "introspection graphql-introspection:IntrospectionQuery 1"}
		if !slices.Equal(got, want) {
			t.Errorf("%s: findings %q, want %q", sch.Path, got, want)
		}
	}
}

// TestJSONRPCLoopback drives creachadair/jrpc2's HTTP bridge server with
// its own HTTP channel client on loopback: calls, a notification, a batch
// mixing both, an error and an unknown method; the capture must find every
// method called, scored against the methods exercised.
func TestJSONRPCLoopback(t *testing.T) {
	methods := handler.Map{
		"Arith.Add": handler.New(func(_ context.Context, ns []int) int {
			sum := 0
			for _, n := range ns {
				sum += n
			}
			return sum
		}),
		"Arith.Div": handler.New(func(_ context.Context, p struct{ A, B int }) (int, error) {
			if p.B == 0 {
				return 0, errors.New("division by zero")
			}
			return p.A / p.B, nil
		}),
		"Text.Echo": handler.New(func(_ context.Context, ss []string) []string { return ss }),
		"Log.Event": handler.New(func(_ context.Context, ev map[string]any) error { return nil }),
	}
	bridge := jhttp.NewBridge(methods, nil)
	defer bridge.Close()
	var answered atomic.Int64
	base, port := serve(t, counted{bridge, &answered})
	exercised := []string{"Arith.Add", "Arith.Div", "Text.Echo", "Log.Event", "No.Such"}
	m := captureLoopback(t, port, &answered, func() {
		hc := &http.Client{Transport: &http.Transport{}}
		cli := jrpc2.NewClient(jhttp.NewChannel(base+"/rpc", &jhttp.ChannelOptions{Client: hc}), nil)
		defer cli.Close()
		ctx := context.Background()
		var sum int
		if err := cli.CallResult(ctx, "Arith.Add", []int{1, 2, 3}, &sum); err != nil || sum != 6 {
			t.Errorf("Arith.Add: %d, %v", sum, err)
		}
		if _, err := cli.Call(ctx, "Arith.Div", map[string]int{"A": 1, "B": 0}); err == nil {
			t.Error("Arith.Div by zero: no error")
		}
		if err := cli.Notify(ctx, "Log.Event", map[string]any{"level": "info"}); err != nil {
			t.Errorf("Log.Event: %v", err)
		}
		if _, err := cli.Batch(ctx, []jrpc2.Spec{
			{Method: "Text.Echo", Params: []string{"a", "b"}},
			{Method: "Arith.Div", Params: map[string]int{"A": 6, "B": 3}},
			{Method: "Log.Event", Params: map[string]any{"level": "debug"}, Notify: true},
		}); err != nil {
			t.Errorf("batch: %v", err)
		}
		if _, err := cli.Call(ctx, "No.Such", nil); err == nil {
			t.Error("No.Such: no error")
		}
		hc.CloseIdleConnections()
	})
	inv := inventory(m)
	found := 0
	for _, name := range exercised {
		if s, ok := inv["jsonrpc "+name]; ok && s.Count > 0 {
			found++
		} else {
			t.Errorf("method %s not found in %v", name, inv)
		}
	}
	score := float64(found) / float64(len(exercised))
	t.Logf("jsonrpc: %d methods found of %d exercised (%.3f)", found, len(exercised), score)
	if score < 0.95 {
		t.Errorf("score %.3f < 0.95", score)
	}
	for _, name := range methods.Names() {
		if _, ok := inv["jsonrpc "+name]; !ok {
			t.Errorf("server method %s not in the inventory", name)
		}
	}
	if s := inv["jsonrpc Log.Event"]; s.Notifications != 2 || s.Count != 2 {
		t.Errorf("Log.Event: %+v, want 2 notifications", s)
	}
	if s := inv["jsonrpc Arith.Div"]; s.Count != 2 || s.Errors != 1 {
		t.Errorf("Arith.Div: %+v, want 2 calls, 1 error", s)
	}
	if s := inv["jsonrpc No.Such"]; s.Errors != 1 {
		t.Errorf("No.Such: %+v, want 1 error", s)
	}
}

package operations_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	gqlgen "github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/specter-dev/specter/infer/operations"
)

// TestPersistedQueryLoopback runs gqlgen's server with its automatic
// persisted query extension on loopback and speaks the APQ protocol to it
// (hash only, PersistedQueryNotFound, retry with the document, hash only
// again by POST, then by GET); the capture must show one operation per
// endpoint, with the hash, counted for every call.
func TestPersistedQueryLoopback(t *testing.T) {
	sdl := `type Query { greeting(name: String): String! }`
	s := gqlparser.MustLoadSchema(&ast.Source{Name: "greeting.graphql", Input: sdl})
	es := &gqlgen.ExecutableSchemaMock{
		SchemaFunc:     func() *ast.Schema { return s },
		ComplexityFunc: func(context.Context, string, string, int, map[string]any) (int, bool) { return 0, false },
		ExecFunc: func(ctx context.Context) gqlgen.ResponseHandler {
			return gqlgen.OneShot(&gqlgen.Response{Data: json.RawMessage(`{"greeting":"hello"}`)})
		},
	}
	srv := handler.New(es)
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	var answered atomic.Int64
	base, port := serve(t, counted{srv, &answered})

	query := `query Greeting($name: String) { greeting(name: $name) }`
	sum := sha256.Sum256([]byte(query))
	hash := hex.EncodeToString(sum[:])
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
	post := func(body map[string]any) map[string]any {
		b, _ := json.Marshal(body)
		resp, err := http.Post(base+"/query", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return out
	}
	m := captureLoopback(t, port, &answered, func() {
		first := post(map[string]any{"operationName": "Greeting", "variables": map[string]any{"name": "a"}, "extensions": ext})
		if b, _ := json.Marshal(first); !strings.Contains(string(b), "PersistedQueryNotFound") {
			t.Errorf("first try: %s, want PersistedQueryNotFound", b)
		}
		post(map[string]any{"operationName": "Greeting", "query": query, "variables": map[string]any{"name": "a"}, "extensions": ext})
		post(map[string]any{"operationName": "Greeting", "variables": map[string]any{"name": "b"}, "extensions": ext})
		e, _ := json.Marshal(ext)
		resp, err := http.Get(base + "/query?operationName=Greeting&extensions=" + string(bytes.ReplaceAll(e, []byte(`"`), []byte("%22"))))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		http.DefaultClient.CloseIdleConnections()
	})
	byMethod := map[string][]operations.Summary{}
	for _, ep := range m.Endpoints() {
		byMethod[ep.Method] = append(byMethod[ep.Method], ep.Operations...)
	}
	posted, got := byMethod["POST"], byMethod["GET"]
	if len(posted) != 1 {
		t.Fatalf("POST operations %+v, want one", posted)
	}
	op := posted[0]
	if op.Type != "query" || op.Name != "Greeting" || op.Count != 3 || op.Errors != 1 || !slices.Equal(op.Hashes, []string{hash}) ||
		strings.Join(op.Fields, " ") != "greeting(name)" || strings.Join(op.Variables, " ") != "$name: String" {
		t.Errorf("POST: %+v, want query Greeting counted 3 times (the first try failed) with the hash", op)
	}
	// Each endpoint has its own inventory: GET saw only the hash, so its
	// operation is the persisted one, named by operationName, with the
	// same hash.
	if len(got) != 1 || got[0].Type != "persisted" || got[0].Name != "Greeting" || got[0].Count != 1 || !slices.Equal(got[0].Hashes, []string{hash}) {
		t.Errorf("GET: %+v, want the persisted Greeting with the hash", got)
	}
}

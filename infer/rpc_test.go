package infer

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestExportOperations: the operations behind one URL are exported on the
// transport operation, their schemas in the version's dialect.
func TestExportOperations(t *testing.T) {
	m := NewModel(Config{})
	for i, body := range []string{
		`{"jsonrpc":"2.0","method":"user.get","params":{"id":1},"id":1}`,
		`{"jsonrpc":"2.0","method":"user.get","params":{"id":2},"id":2}`,
		`[{"jsonrpc":"2.0","method":"log"},{"jsonrpc":"2.0","method":"bad","id":3}]`,
	} {
		resp := []string{
			`{"jsonrpc":"2.0","result":{"name":"a","nick":null},"id":1}`,
			`{"jsonrpc":"2.0","result":{"name":"b","nick":"x"},"id":2}`,
			`[{"jsonrpc":"2.0","error":{"code":-32601,"message":"no"},"id":3}]`,
		}[i]
		m.Observe(ex(i, "POST", "rpc.test", "/rpc", "", body, 200, "application/json", resp))
	}
	for _, v := range []string{"3.0", "3.1"} {
		doc, err := m.OpenAPI("rpc.test", ExportOptions{Version: v})
		if err != nil {
			t.Fatal(err)
		}
		op := doc.Paths.Value("/rpc").Post
		b, err := json.Marshal(op.Extensions[ExtOperations])
		if err != nil {
			t.Fatal(err)
		}
		got := string(b)
		for _, want := range []string{`"name":"bad"`, `"errors":1`, `"name":"log"`, `"notifications":1`, `"name":"user.get"`, `"count":2`} {
			if !strings.Contains(got, want) {
				t.Errorf("%s: %s lacks %s: %s", v, ExtOperations, want, got)
			}
		}
		nullable := strings.Contains(got, `"nullable":true`)
		typeNull := strings.Contains(got, `"null"`)
		if v == "3.0" && (!nullable || typeNull) || v == "3.1" && (nullable || !typeNull) {
			t.Errorf("%s: nullable result not in the %s dialect: %s", v, v, got)
		}
	}
}

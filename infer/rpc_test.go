package infer

import (
	"encoding/json"
	"strconv"
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

// TestOperationsLimitsConfig: limits.operations is read from the config
// file and bounds the inventory.
func TestOperationsLimitsConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte("limits:\n  operations:\n    max_operations: 2\n    max_batch: 3\n"), "specter.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := NewModel(cfg)
	for i := range 5 {
		m.Observe(ex(i, "POST", "rpc.test", "/rpc", "", `{"jsonrpc":"2.0","method":"m`+strconv.Itoa(i)+`","id":1}`, 200, "application/json", `{}`))
	}
	inv := m.ByName["rpc.test"].Ops[0].RPC
	if len(inv.Ops) != 2 || inv.Dropped != 3 {
		t.Errorf("%d operations, %d dropped; want 2 and 3", len(inv.Ops), inv.Dropped)
	}
	if _, err := ParseConfig([]byte("limits:\n  operations:\n    max_operation: 2\n"), "specter.yaml"); err == nil {
		t.Error("an unknown operations limit was accepted")
	}
}

package infer

import (
	"slices"
	"strings"
	"testing"

	"github.com/specter-dev/specter/reassembly"
)

// API keys sent in headers, whatever their spelling, are security, not a
// (required, password-tagged) header parameter.
func TestAPIKeyHeaders(t *testing.T) {
	for _, name := range []string{"api_key", "x-api-key", "apikey", "x-auth-token", "X_API_KEY", "x_auth_token", "api-token", "Auth-Token"} {
		t.Run(name, func(t *testing.T) {
			m := NewModel(Config{})
			for i := range 12 {
				observeAll(m, []*reassembly.Exchange{ex(i, "GET", "shop.test", "/api/items", name+": k3y-"+strings.Repeat("a1", 8), "", 200, "application/json", `{"ok":true}`)})
			}
			doc, err := m.OpenAPI("shop.test", ExportOptions{Version: "3.1"})
			if err != nil {
				t.Fatal(err)
			}
			get := doc.Paths.Value("/api/items").Get
			for _, p := range get.Parameters {
				if p.Value.In == "header" {
					t.Errorf("header parameter %q exported: %+v", p.Value.Name, p.Value)
				}
			}
			if get.Security == nil || len(*get.Security) != 1 {
				t.Fatalf("security: %+v", get.Security)
			}
			var scheme string
			for k := range (*get.Security)[0] {
				scheme = k
			}
			ss := doc.Components.SecuritySchemes[scheme]
			if ss == nil || ss.Value.Type != "apiKey" || ss.Value.In != "header" || !strings.EqualFold(ss.Value.Name, name) {
				t.Errorf("scheme %q: %+v", scheme, ss)
			}
			for _, ep := range m.Endpoints() {
				if slices.Contains(ep.Sensitive, "password") {
					t.Errorf("%s tagged password: %v", ep.Template, ep.Sensitive)
				}
			}
		})
	}
}

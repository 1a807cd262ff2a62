package infer

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/specter-dev/specter/infer/template"
)

// ObservedPaths gives, per endpoint, the concrete paths behind its
// template with their counts; folded values are rendered by shape. A model
// that went through JSON (the store) keeps them.
func TestObservedPaths(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		n      int
		want   string // paths of GET /items/{itemId}
		folded bool
	}{
		{"kept", Config{}, 3, "/items/101:2 /items/102:1 /items/103:1", false},
		{"folded past the limit", Config{Limits: Limits{Trie: template.Limits{MaxChildren: 2}}}, 4, "/items/101:2 /items/102:1 /items/{integer}:2", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewModel(tt.cfg)
			for i := range tt.n {
				m.Observe(ex(i, "GET", "shop.test", fmt.Sprintf("/items/%d", 101+i), "", "", 200, "", ""))
			}
			m.Observe(ex(9, "GET", "shop.test", "/items/101", "", "", 200, "", ""))
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			back := NewModel(tt.cfg)
			if err := json.Unmarshal(b, back); err != nil {
				t.Fatal(err)
			}
			for _, mm := range []*Model{m, back} {
				eps := mm.Endpoints()
				if len(eps) != 1 {
					t.Fatalf("endpoints %+v", eps)
				}
				ps := mm.ObservedPaths()[EndpointKey{eps[0].Service, eps[0].Method, eps[0].Template}]
				var got []string
				folded := false
				for _, p := range ps {
					got = append(got, fmt.Sprintf("%s:%d", p.Path, p.Count))
					folded = folded || p.Folded
				}
				if strings.Join(got, " ") != tt.want || folded != tt.folded {
					t.Errorf("%s: paths %v (folded %v), want %s (%v)", eps[0].Template, got, folded, tt.want, tt.folded)
				}
			}
		})
	}
}

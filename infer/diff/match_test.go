package diff

import (
	"fmt"
	"path/filepath"
	"testing"
)

func mustSpec(t testing.TB, name string) *Spec {
	t.Helper()
	s, err := LoadSpec(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMatch(t *testing.T) {
	pets := mustSpec(t, "pets.yaml")
	users := mustSpec(t, "users.oas31.json")
	store := mustSpec(t, "store.swagger2.yaml")
	tests := []struct {
		specs    []*Spec
		method   string
		path     string
		template string // "" = no match
		op       bool
		params   string
	}{
		{[]*Spec{pets}, "GET", "/api/v3/pets", "/api/v3/pets", true, "map[]"},
		{[]*Spec{pets}, "GET", "/api/v3/pets/", "/api/v3/pets", true, "map[]"},
		// A static segment wins over a parameter.
		{[]*Spec{pets}, "GET", "/api/v3/pets/mine", "/api/v3/pets/mine", true, "map[]"},
		{[]*Spec{pets}, "GET", "/api/v3/pets/42", "/api/v3/pets/{petId}", true, "map[petId:42]"},
		// Backtracking: "mine" is static, but /mine/photos/... only exists under {petId}.
		{[]*Spec{pets}, "GET", "/api/v3/pets/mine/photos/a%20b.jpg", "/api/v3/pets/{petId}/photos/{photoId}.jpg", true, "map[petId:mine photoId:a b]"},
		{[]*Spec{pets}, "GET", "/api/v3/pets/1/photos/x.png", "", false, ""},
		{[]*Spec{pets}, "PUT", "/api/v3/pets/42", "/api/v3/pets/{petId}", false, "map[petId:42]"},
		{[]*Spec{pets}, "GET", "/pets/42", "", false, ""},      // base path required
		{[]*Spec{pets}, "GET", "/api/v3x/pets", "", false, ""}, // at a segment boundary
		{[]*Spec{pets}, "GET", "/api/v3/owners/ann/pets", "/api/v3/owners/{ownerName}/pets", true, "map[ownerName:ann]"},
		// Server variables: default and enum values.
		{[]*Spec{users}, "GET", "/v2/users/u1", "/v2/users/{id}", true, "map[id:u1]"},
		{[]*Spec{users}, "GET", "/v1/users/u1", "/v1/users/{id}", true, "map[id:u1]"},
		{[]*Spec{users}, "GET", "/v3/users/u1", "", false, ""},
		// Several specs: an operation match wins over a path-only match.
		{[]*Spec{store, pets}, "GET", "/v1/orders/7", "/v1/orders/{orderId}", true, "map[orderId:7]"},
		{[]*Spec{store, pets}, "DELETE", "/v1/orders/7", "/v1/orders/{orderId}", false, "map[orderId:7]"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := Match(tt.specs, tt.method, tt.path)
			if tt.template == "" {
				if r != nil {
					t.Fatalf("matched %s, want no match", r.Template)
				}
				return
			}
			if r == nil {
				t.Fatalf("no match, want %s", tt.template)
			}
			if r.Template != tt.template || (r.Op != nil) != tt.op || fmt.Sprint(r.Params) != tt.params {
				t.Fatalf("got %s op=%v %v, want %s op=%v %s", r.Template, r.Op != nil, r.Params, tt.template, tt.op, tt.params)
			}
		})
	}
}

func TestMatchTemplate(t *testing.T) {
	pets := mustSpec(t, "pets.yaml")
	tests := []struct {
		tmpl   string
		strict bool
		want   string
	}{
		{"/api/v3/pets/{id}", false, "/api/v3/pets/{petId}"},
		{"/api/v3/pets/mine", false, "/api/v3/pets/mine"},
		{"/api/v3/pets/77", false, "/api/v3/pets/{petId}"},
		{"/api/v3/pets/77", true, ""},
		{"/api/v3/owners/{x}/pets", true, "/api/v3/owners/{ownerName}/pets"},
		{"/api/v3/{x}/mine", false, ""},
	}
	for _, tt := range tests {
		r := matchTemplate([]*Spec{pets}, "GET", tt.tmpl, tt.strict)
		got := ""
		if r != nil {
			got = r.Template
		}
		if got != tt.want {
			t.Errorf("matchTemplate(%s, strict=%v) = %q, want %q", tt.tmpl, tt.strict, got, tt.want)
		}
	}
}

func FuzzMatch(f *testing.F) {
	pets := mustSpec(f, "pets.yaml")
	for _, s := range []string{"/api/v3/pets/1", "/api/v3/pets/mine/photos/x.jpg", "//", "/api/v3/pets/%zz", "/api/v3/pets/{petId}", "/api/v3/pets/.jpg/photos/.jpg"} {
		f.Add("GET", s)
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		r := Match([]*Spec{pets}, method, path)
		if r != nil && r.Item == nil {
			t.Fatal("route without path item")
		}
		_ = matchTemplate([]*Spec{pets}, method, path, false)
		_ = templateCovers(path, path)
	})
}

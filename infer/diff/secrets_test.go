package diff

import (
	"encoding/json"
	"strings"
	"testing"
)

// Finding examples are stored: secret-shaped path segments and query values
// in them are redacted as the inventory redacts them.
func TestExampleRedactsSecrets(t *testing.T) {
	const h = "pets.test"
	const token = "9f8a3c71d2e04b5f8a6c9d1e2f3a4b5c6d7e8f9012345678"
	const key = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
	c := NewChecker([]*Spec{mustSpec(t, "pets.yaml")}, Options{})
	for i, target := range []string{
		"/api/v3/password/reset/" + token,
		"/api/v3/pets/" + key + "?limit=10",
		"/api/v3/pets?limit=10&debug=" + key,
	} {
		c.Check(exch(i, h, "GET", target, bearer, "", 200, "application/json", `[]`))
	}
	all, err := json.Marshal(c.Findings())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(all), token) || strings.Contains(string(all), key) {
		t.Errorf("the findings hold a secret: %s", all)
	}
	n := 0
	for _, f := range c.Findings() {
		if f.Example == nil {
			continue
		}
		n++
		if s := f.Example.Request; strings.Contains(s, token) || strings.Contains(s, key) {
			t.Errorf("%s %s: the example holds a secret: %q", f.Kind, f.Path, s)
		}
	}
	if n == 0 {
		t.Fatal("no finding with an example: the test checks nothing")
	}
}

package schema

import (
	"encoding/json"
	"strings"
	"testing"
)

// Property names that are sensitive data themselves are stored as their
// markers, whichever way the object was observed.
func TestSensitivePropertyNames(t *testing.T) {
	const token = "70idqjQiUT1G3tNc83I9gQovi8yCM14M"
	const email = "alice@example.com"
	body := `{"by_token":{"` + token + `":{"ip":"x"}},"by_mail":{"` + email + `":1},"plain":{"name":"x"}}`
	for _, how := range []string{"json", "value"} {
		n := &Node{}
		opts := DefaultOptions()
		switch how {
		case "json":
			if err := n.ObserveJSON([]byte(body), opts); err != nil {
				t.Fatal(err)
			}
		case "value":
			var v any
			if err := json.Unmarshal([]byte(body), &v); err != nil {
				t.Fatal(err)
			}
			n.ObserveValue(v, opts)
		}
		b, err := json.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if strings.Contains(s, token) || strings.Contains(s, email) {
			t.Errorf("%s: the node keeps a sensitive name: %s", how, s)
		}
		if n.Props["by_token"] == nil || n.Props["by_token"].Props["<redacted:random-token>"] == nil ||
			n.Props["by_mail"].Props["<redacted:email>"] == nil || n.Props["plain"].Props["name"] == nil {
			t.Errorf("%s: properties not kept under their markers: %s", how, s)
		}
	}
}

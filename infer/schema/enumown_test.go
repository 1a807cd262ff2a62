package schema

import (
	"encoding/json"
	"testing"

	"github.com/specter-dev/specter/infer/sensitive"
)

// TestKnownEnumValues: a string seen again at a position whose enum holds
// it skips the value checks only when this process put it there; enum
// values decoded (or merged) from elsewhere may predate today's rules and
// are checked as any value is.
func TestKnownEnumValues(t *testing.T) {
	opts := DefaultOptions()
	for _, tc := range []struct {
		name   string
		stored string // a Node as a database holds it ("" for a fresh one)
		merged bool   // the stored Node is merged into a fresh one rather than observed into
		docs   []string
		tag    sensitive.Tag
		over   bool
	}{
		{name: "fresh enum", docs: []string{`"on"`, `"off"`, `"on"`, `"on"`}},
		{name: "fresh, then a sensitive value", docs: []string{`"on"`, `"on"`, `"alice@example.com"`}, tag: sensitive.Email, over: true},
		{name: "decoded enum holding a value today's rules flag", stored: `{"count":1,"string":1,"enum":["alice@example.com"]}`,
			docs: []string{`"alice@example.com"`}, tag: sensitive.Email, over: true},
		{name: "merged enum holding a value today's rules flag", stored: `{"count":1,"string":1,"enum":["alice@example.com"]}`, merged: true,
			docs: []string{`"on"`, `"alice@example.com"`}, tag: sensitive.Email, over: true},
		{name: "name rules still apply to known values", docs: []string{`{"password":"true"}`, `{"password":"true"}`, `{"password":"hunter22"}`},
			tag: sensitive.Password, over: true},
		{name: "an array's name rules apply to its items", docs: []string{`{"access_token":["short"]}`, `{"access_token":["short","abcdefgh12345"]}`},
			tag: sensitive.BearerToken, over: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := &Node{}
			if tc.stored != "" {
				var s Node
				if err := json.Unmarshal([]byte(tc.stored), &s); err != nil {
					t.Fatal(err)
				}
				if tc.merged {
					n.MergeWith(&s, opts)
				} else {
					n = &s
				}
			}
			for _, d := range tc.docs {
				if err := n.ObserveJSON([]byte(d), opts); err != nil {
					t.Fatal(err)
				}
			}
			leaf := n
			if p := n.Props["password"]; p != nil {
				leaf = p
			}
			if p := n.Props["access_token"]; p != nil {
				leaf = p.Items
			}
			if leaf.Sensitive != tc.tag || leaf.EnumOverflow != tc.over {
				t.Errorf("sensitive %v overflow %v, want %v %v (enum %q)", leaf.Sensitive, leaf.EnumOverflow, tc.tag, tc.over, leaf.Enum)
			}
		})
	}
}

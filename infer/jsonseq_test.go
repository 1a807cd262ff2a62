package infer

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestJSONSequenceBodies: streamed JSON responses (NDJSON, JSON text
// sequences, documents concatenated under a JSON type) get the schema of
// their records; a body that is neither one document nor a sequence is
// a bad body; records past maxSeqRecords are counted, not observed.
func TestJSONSequenceBodies(t *testing.T) {
	records := func(n int, sep string) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, `%s{"id":%d,"text":"t%d"}`+"\n", sep, i, i)
		}
		return b.String()
	}
	cases := []struct {
		name, ct, body string
		wantProps      []string
		wantBad        uint64
		wantCut        uint64
	}{
		{"ndjson", "application/x-ndjson", records(3, ""), []string{"id", "text"}, 0, 0},
		{"json lines with a charset", "application/jsonl; charset=utf-8", records(2, ""), []string{"id", "text"}, 0, 0},
		{"json-seq", "application/json-seq", records(3, "\x1e"), []string{"id", "text"}, 0, 0},
		{"a stream sent as JSON", "application/json", records(4, "") + `{"id":9,"extra":true}`, []string{"extra", "id", "text"}, 0, 0},
		{"records past the bound are counted", "application/x-ndjson", records(maxSeqRecords+5, ""), []string{"id", "text"}, 0, 5},
		{"a broken record is a bad body, the records before it kept", "application/x-ndjson", records(2, "") + `{"id":`, []string{"id", "text"}, 1, 0},
		{"one broken JSON document is a bad body", "application/json", `{"id":1,`, nil, 1, 0},
		{"an empty sequence is a bad body", "application/x-ndjson", "\n\n", nil, 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := NewModel(Config{})
			m.Observe(ex(1, "GET", "api.test", "/2/tweets/stream", "", "", 200, tc.ct, tc.body))
			var props []string
			for _, op := range m.ByName["api.test"].Ops {
				for _, b := range op.Responses["200"].Bodies {
					if b.Schema != nil {
						for k := range b.Schema.Props {
							props = append(props, k)
						}
					}
				}
			}
			slices.Sort(props)
			if !slices.Equal(props, tc.wantProps) {
				t.Errorf("record properties %q, want %q", props, tc.wantProps)
			}
			if m.Stats.BadBodies != tc.wantBad {
				t.Errorf("BadBodies = %d, want %d", m.Stats.BadBodies, tc.wantBad)
			}
			if m.Stats.SeqRecordsCut != tc.wantCut {
				t.Errorf("SeqRecordsCut = %d, want %d", m.Stats.SeqRecordsCut, tc.wantCut)
			}
		})
	}
}

// FuzzJSONSequence: any body under a JSON sequence type is observed
// without panicking, within the record bound.
func FuzzJSONSequence(f *testing.F) {
	f.Add("{\"a\":1}\n{\"a\":2}\n")
	f.Add("\x1e{\"a\":[1,2]}\n\x1e\"x\"\n")
	f.Add("{\"a\":")
	f.Add("")
	f.Fuzz(func(t *testing.T, body string) {
		m := NewModel(Config{})
		m.Observe(ex(1, "POST", "api.test", "/stream", "", "", 200, "application/x-ndjson", body))
		m.Observe(ex(2, "POST", "api.test", "/stream", "", "", 200, "application/json", body))
		if m.Stats.SeqRecordsCut > uint64(len(body)) {
			t.Fatalf("cut %d records of a %d-byte body", m.Stats.SeqRecordsCut, len(body))
		}
	})
}

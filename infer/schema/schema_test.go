package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func observeAll(t testing.TB, opts Options, docs ...string) *Node {
	t.Helper()
	n := &Node{}
	for _, d := range docs {
		if err := n.ObserveJSON([]byte(d), opts); err != nil {
			t.Fatalf("ObserveJSON(%q): %v", d, err)
		}
	}
	return n
}

func schemaJSON(t testing.TB, n *Node, opts Options) string {
	t.Helper()
	b, err := json.Marshal(n.Schema(opts))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func repeat(n int, f func(i int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func TestSchema(t *testing.T) {
	def := DefaultOptions()
	tight := def
	tight.MaxProperties = 2
	tight.MaxDepth = 1
	tests := []struct {
		name string
		opts Options
		docs []string
		want string
	}{
		{"scalar int", def, []string{`1`, `-2`}, `{"type":"integer"}`},
		{"int64", def, []string{`1`, `3000000000`}, `{"format":"int64","type":"integer"}`},
		{"int and number merge", def, []string{`1`, `2.5`}, `{"type":"number"}`},
		{"beyond int64 is number", def, []string{`18446744073709551616`}, `{"type":"number"}`},
		{"exponent is number", def, []string{`1e3`}, `{"type":"number"}`},
		{"only null", def, []string{`null`}, `{"nullable":true}`},
		{"nullable string", def, []string{`"a"`, `null`}, `{"nullable":true,"type":"string"}`},
		{"mixed types oneOf", def, []string{`"a"`, `1`, `true`},
			`{"oneOf":[{"type":"boolean"},{"type":"integer"},{"type":"string"}]}`},
		{"format shared by all", def, []string{`"2024-01-02"`, `"2024-03-04"`}, `{"format":"date","type":"string"}`},
		{"format not shared", def, []string{`"2024-01-02"`, `"soon"`}, `{"type":"string"}`},
		{"required vs optional vs nullable", def,
			[]string{`{"a":1,"b":null,"c":"x"}`, `{"a":2,"b":"y"}`},
			`{"properties":{"a":{"type":"integer"},"b":{"nullable":true,"type":"string"},"c":{"type":"string"}},"required":["a","b"],"type":"object"}`},
		{"one sample requires nothing", def, []string{`{"a":1}`},
			`{"properties":{"a":{"type":"integer"}},"type":"object"}`},
		{"nested arrays of objects merged", def,
			[]string{`{"items":[{"id":1},{"id":2,"x":true}]}`, `{"items":[]}`},
			`{"properties":{"items":{"items":{"properties":{"id":{"type":"integer"},"x":{"type":"boolean"}},"required":["id"],"type":"object"},"type":"array"}},"required":["items"],"type":"object"}`},
		{"empty array", def, []string{`[]`}, `{"items":{},"type":"array"}`},
		{"enum", def, repeat(12, func(i int) string { return fmt.Sprintf(`"%s"`, []string{"on", "off", "idle"}[i%3]) }),
			`{"enum":["idle","off","on"],"type":"string"}`},
		{"a constant is no enum", def, repeat(12, func(int) string { return `"user"` }), `{"type":"string"}`},
		{"too few samples for enum", def, repeat(9, func(i int) string { return fmt.Sprintf(`"%s"`, []string{"on", "off", "idle"}[i%3]) }),
			`{"type":"string"}`},
		{"too many distinct for enum", def, repeat(40, func(i int) string { return fmt.Sprintf(`"v%d"`, i%20) }),
			`{"type":"string"}`},
		{"sensitive tagged, never an enum", def, repeat(12, func(i int) string { return `{"contact":"alice@example.com"}` }),
			`{"properties":{"contact":{"format":"email","type":"string","x-specter-sensitive":["email"]}},"required":["contact"],"type":"object"}`},
		{"password by name", def, []string{`{"password":"hunter2!"}`},
			`{"properties":{"password":{"type":"string","x-specter-sensitive":["password"]}},"type":"object"}`},
		{"property bound", tight, []string{`{"c":1,"a":1,"b":1}`},
			`{"additionalProperties":true,"properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"type":"object","x-specter-truncated":true}`},
		{"depth bound", tight, []string{`{"a":{"b":1},"c":[1]}`},
			`{"properties":{"a":{"type":"object","x-specter-truncated":true},"c":{"items":{},"type":"array","x-specter-truncated":true}},"type":"object"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := observeAll(t, tt.opts, tt.docs...)
			if got := schemaJSON(t, n, tt.opts); got != tt.want {
				t.Errorf("schema:\n got %s\nwant %s", got, tt.want)
			}
			if err := n.Schema(tt.opts).Validate(t.Context()); err != nil {
				t.Errorf("invalid OpenAPI schema: %v", err)
			}
		})
	}
}

func TestObserveJSONInvalidRecordsNothing(t *testing.T) {
	for _, in := range []string{``, ` `, `{`, `{"a":1,}`, `[1,]`, `01`, `1.`, `-`, `"\x"`, "\"a\x01\"", `tru`, `{"a" 1}`, `1 2`, `{"a":1}}`, `"\ud83d`, `nul`} {
		n := &Node{}
		err := n.ObserveJSON([]byte(in), DefaultOptions())
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("ObserveJSON(%q) = %v, want a *SyntaxError", in, err)
		}
		if !reflect.DeepEqual(n, &Node{}) {
			t.Errorf("ObserveJSON(%q) recorded %+v", in, n)
		}
		if json.Valid([]byte(in)) {
			t.Errorf("test case %q is valid JSON", in)
		}
	}
}

func TestObserveJSONEscapes(t *testing.T) {
	n := observeAll(t, DefaultOptions(), `{"e\u006dail":"alice\u0040example.com","s":"\ud83d\ude00\"q\"\\\/"}`)
	if n.Props["email"] == nil || n.Props["email"].Formats[FormatEmail] != 1 {
		t.Fatalf("escaped key/value not decoded: %+v", n.Props)
	}
	if got := n.Props["s"].Enum; len(got) != 1 || got[0] != "😀\"q\"\\/" {
		t.Errorf("unescaped value = %q", got)
	}
}

func TestArrayItemsBound(t *testing.T) {
	opts := DefaultOptions()
	opts.MaxArrayItems = 2
	n := observeAll(t, opts, `[1,"a",{"x":[1,2,3]},true]`)
	if n.Items.Count != 2 || n.ItemsSkipped != 2 || n.Items.Int != 1 || n.Items.String != 1 {
		t.Errorf("items = %+v, skipped %d", n.Items, n.ItemsSkipped)
	}
}

func TestObserveString(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"42", `{"type":"integer"}`},
		{"-42", `{"type":"integer"}`},
		{"3000000000", `{"format":"int64","type":"integer"}`},
		{"99999999999999999999", `{"type":"string"}`}, // beyond int64: an identifier
		{"007", `{"type":"string"}`},
		{"1.25", `{"type":"number"}`},
		{"1.2.3", `{"type":"string"}`},
		{"1e5", `{"type":"string"}`},
		{"true", `{"type":"boolean"}`},
		{"True", `{"type":"string"}`},
		{"", `{"type":"string"}`},
		{"2024-01-02", `{"format":"date","type":"string"}`},
		{"8c7b1a52-6f37-4c38-9d6a-0e1f2a3b4c5d", `{"format":"uuid","type":"string"}`},
	}
	for _, tt := range tests {
		n := &Node{}
		n.ObserveString(tt.in, DefaultOptions())
		if got := schemaJSON(t, n, DefaultOptions()); got != tt.want {
			t.Errorf("ObserveString(%q): got %s want %s", tt.in, got, tt.want)
		}
	}
	n := &Node{}
	n.ObserveNamedString("api_key", "abc123def456", DefaultOptions())
	if got := n.Sensitive.String(); got != "password" {
		t.Errorf("ObserveNamedString(api_key) sensitive = %q", got)
	}
}

func TestObserveForm(t *testing.T) {
	n := &Node{}
	opts := DefaultOptions()
	for _, q := range []string{"limit=10&tag=a&tag=b&q=x", "limit=20&q=y"} {
		v, err := url.ParseQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		n.ObserveForm(v, opts)
	}
	want := `{"properties":{"limit":{"type":"integer"},"q":{"type":"string"},"tag":{"items":{"type":"string"},"type":"array"}},"required":["limit","q"],"type":"object"}`
	if got := schemaJSON(t, n, opts); got != want {
		t.Errorf("form schema:\n got %s\nwant %s", got, want)
	}
}

func TestObserveMultipart(t *testing.T) {
	body := strings.ReplaceAll(`--XB
Content-Disposition: form-data; name="title"

hello
--XB
Content-Disposition: form-data; name="count"

3
--XB
Content-Disposition: form-data; name="file"; filename="a.png"
Content-Type: image/png

PNGDATA
--XB--
`, "\n", "\r\n")
	n := &Node{}
	opts := DefaultOptions()
	if err := n.ObserveMultipart([]byte(body), "XB", opts); err != nil {
		t.Fatal(err)
	}
	want := `{"properties":{"count":{"type":"integer"},"file":{"format":"binary","type":"string"},"title":{"type":"string"}},"type":"object"}`
	if got := schemaJSON(t, n, opts); got != want {
		t.Errorf("multipart schema:\n got %s\nwant %s", got, want)
	}
	// Truncated: an error, nothing recorded.
	m := &Node{}
	if err := m.ObserveMultipart([]byte(body[:len(body)/2]), "XB", opts); err == nil {
		t.Error("truncated multipart: no error")
	}
	if !reflect.DeepEqual(m, &Node{}) {
		t.Errorf("truncated multipart recorded %+v", m)
	}
	if err := m.ObserveMultipart([]byte(body), "", opts); err == nil {
		t.Error("no boundary: no error")
	}
}

func TestObserveValueMatchesJSON(t *testing.T) {
	doc := `{"a":[1,2.5,"x",null,{"b":true}],"c":"2024-01-02T03:04:05Z","d":{"e":[]},"f":-7,"g":3000000000}`
	opts := DefaultOptions()
	a := observeAll(t, opts, doc)
	var v any
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	b := &Node{}
	b.ObserveValue(v, opts)
	if dump(a) != dump(b) {
		t.Errorf("ObserveValue differs from ObserveJSON:\n%s\n%s", dump(a), dump(b))
	}
}

// dump is a Node's stored form, which is what equality of Nodes means
// (the unexported name cache is derived data).
func dump(n *Node) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestSample(t *testing.T) {
	o := DefaultOptions()
	o.MaxSamples, o.SampleEvery = 3, 4
	var got []int64
	for i := int64(0); i < 16; i++ {
		if o.Sample(i) {
			got = append(got, i)
		}
	}
	if want := []int64{0, 1, 2, 3, 7, 11, 15}; !reflect.DeepEqual(got, want) {
		t.Errorf("sampled %v, want %v", got, want)
	}
}

func TestNodeJSONRoundTrip(t *testing.T) {
	opts := DefaultOptions()
	n := observeAll(t, opts, `{"a":[1,"x"],"b":{"c":"alice@example.com"}}`, `{"a":null}`)
	b, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	var back Node
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if dump(n) != dump(&back) {
		t.Errorf("round trip differs:\n%s\n%s", dump(n), dump(&back))
	}
	if c := n.Clone(); dump(n) != dump(c) {
		t.Errorf("Clone differs:\n%s\n%s", dump(n), dump(c))
	}
}

func TestMapLike(t *testing.T) {
	opts := DefaultOptions()
	// Identifier keys: a map even in one sample.
	var b strings.Builder
	b.WriteString(`{"users":{`)
	for i := 0; i < 20; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"%d":{"name":"n","age":%d}`, 1000+i, i)
	}
	b.WriteString(`}}`)
	n := observeAll(t, opts, b.String())
	want := `{"properties":{"users":{"additionalProperties":{"properties":{"age":{"type":"integer"},"name":{"type":"string"}},"required":["age","name"],"type":"object"},"type":"object","x-specter-map":true}},"type":"object"}`
	if got := schemaJSON(t, n, opts); got != want {
		t.Errorf("id map:\n got %s\nwant %s", got, want)
	}
	// Invented names, each rare, next to a field present in every sample.
	docs := repeat(40, func(i int) string { return fmt.Sprintf(`{"spotify":"u","extra_%d":%d}`, i, i) })
	n = observeAll(t, opts, docs...)
	want = `{"additionalProperties":{"type":"integer"},"properties":{"spotify":{"type":"string"}},"required":["spotify"],"type":"object","x-specter-map":true}`
	if got := schemaJSON(t, n, opts); got != want {
		t.Errorf("rare-key map:\n got %s\nwant %s", got, want)
	}
	// A record with many optional fields is not a map.
	docs = repeat(40, func(i int) string {
		var b strings.Builder
		b.WriteString(`{"id":1`)
		for j := 0; j < 20; j++ {
			if (i+j)%2 == 0 {
				fmt.Fprintf(&b, `,"field_%c":true`, 'a'+j)
			}
		}
		b.WriteString(`}`)
		return b.String()
	})
	n = observeAll(t, opts, docs...)
	if s := n.Schema(opts); s.Extensions[ExtMap] != nil || len(s.Properties) != 21 {
		t.Errorf("record taken for a map: %s", schemaJSON(t, n, opts))
	}
}

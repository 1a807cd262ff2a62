package schema_test

import (
	"encoding/json"
	"fmt"

	"github.com/specter-dev/specter/infer/schema"
)

func ExampleNode_ObserveJSON() {
	opts := schema.DefaultOptions()
	var n schema.Node
	for _, body := range []string{
		`{"id":1,"email":"alice@example.com","tags":["a"],"note":null}`,
		`{"id":2,"email":"bob@example.com","tags":[]}`,
	} {
		if err := n.ObserveJSON([]byte(body), opts); err != nil {
			fmt.Println(err)
		}
	}
	out, _ := json.Marshal(n.Schema(opts))
	fmt.Println(string(out))
	// Output:
	// {"properties":{"email":{"format":"email","type":"string","x-specter-sensitive":["email"]},"id":{"type":"integer"},"note":{"nullable":true},"tags":{"items":{"type":"string"},"type":"array"}},"required":["email","id","tags"],"type":"object"}
}

func ExampleNode_Merge() {
	opts := schema.DefaultOptions()
	var a, b schema.Node
	_ = a.ObserveJSON([]byte(`{"x":1}`), opts)
	_ = b.ObserveJSON([]byte(`{"x":2.5,"y":"2024-01-02"}`), opts)
	a.MergeWith(&b, opts)
	out, _ := json.Marshal(a.Schema(opts))
	fmt.Println(string(out))
	// Output:
	// {"properties":{"x":{"type":"number"},"y":{"format":"date","type":"string"}},"required":["x"],"type":"object"}
}

func ExampleFormat() {
	for _, s := range []string{"2024-01-02T03:04:05Z", "8c7b1a52-6f37-4c38-9d6a-0e1f2a3b4c5d", "::1", "hello"} {
		fmt.Printf("%q\n", schema.Format(s))
	}
	// Output:
	// "date-time"
	// "uuid"
	// "ipv6"
	// ""
}

package schema

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"testing"
	"unicode/utf8"
)

// hasDuplicateKeys reports whether a valid JSON document repeats a key in
// one object (encoding/json keeps the last; the scanner counts both).
func hasDuplicateKeys(b []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		obj   bool
		keys  map[string]bool
		isKey bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return false
		}
		if err != nil {
			return true // cannot tell; skip the comparison
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				if top != nil && top.obj {
					top.isKey = true
				}
				stack = append(stack, &frame{obj: d == '{', keys: map[string]bool{}, isKey: true})
			default:
				stack = stack[:len(stack)-1]
			}
			continue
		}
		if top != nil && top.obj {
			if top.isKey {
				k := tok.(string)
				if top.keys[k] {
					return true
				}
				top.keys[k] = true
				top.isKey = false
			} else {
				top.isKey = true
			}
		}
	}
}

func FuzzObserveJSON(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":[true,null,"x"],"c":{"d":2.5e3}}`, `[]`, `{}`, `"\u00e9\ud83d\ude00"`, `-0.0E+1`,
		`{"a":{"a":{"a":{"a":[[[[1]]]]}}}}`, `[1,2,3,4,5,6,7,8,9,10]`, `{"e\u006dail":"x@example.com"}`,
		`{"a":1,"a":2}`, `1 `, ` {"x":"2024-01-02T03:04:05Z"}`, `{"a":`, `[1,]`, "\"\xff\"", `"\ud800"`,
		`18446744073709551616`, `-9223372036854775808`, `9223372036854775808`,
	} {
		f.Add([]byte(s))
	}
	opts := DefaultOptions()
	opts.MaxDepth, opts.MaxProperties, opts.MaxEnum, opts.MaxArrayItems = 4, 4, 3, 3
	f.Fuzz(func(t *testing.T, body []byte) {
		n := &Node{}
		err := n.ObserveJSON(body, opts)
		if valid := json.Valid(body); valid != (err == nil) {
			t.Fatalf("ObserveJSON error %v, json.Valid %v", err, valid)
		}
		if Valid(body) != (err == nil) {
			t.Fatal("Valid disagrees with ObserveJSON")
		}
		if err != nil {
			if !reflect.DeepEqual(n, &Node{}) {
				t.Fatalf("invalid JSON recorded %s", dump(n))
			}
			return
		}
		checkBounds(t, n, opts, 0)
		if err := n.Schema(opts).Validate(t.Context()); err != nil {
			t.Fatalf("invalid OpenAPI schema: %v", err)
		}
		if n.Count != 1 {
			t.Fatalf("root Count = %d", n.Count)
		}
		// Differential: the tree walk of encoding/json's result must give the
		// same Node, where the two can agree (UTF-8 text, no repeated keys).
		if !utf8.Valid(body) || hasDuplicateKeys(body) {
			return
		}
		var v any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		m := &Node{}
		m.ObserveValue(v, opts)
		if dump(n) != dump(m) {
			t.Fatalf("scanner and encoding/json disagree:\n%s\n%s", dump(n), dump(m))
		}
	})
}

func FuzzObserveString(f *testing.F) {
	for _, s := range []string{"1", "-1", "1.5", "true", "2024-01-02", "x@example.com", "99999999999999999999", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := &Node{}
		n.ObserveString(s, DefaultOptions())
		if n.Count != 1 || n.Bool+n.Int+n.Number+n.String != 1 {
			t.Fatalf("ObserveString(%q) = %s", s, dump(n))
		}
		_ = n.Schema(DefaultOptions())
	})
}

func FuzzObserveMultipart(f *testing.F) {
	f.Add([]byte("--XB\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XB--\r\n"), "XB")
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\nDATA\r\n--b--\r\n"), "b")
	opts := DefaultOptions()
	opts.MaxParts, opts.MaxPartBytes = 4, 16
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		n := &Node{}
		if err := n.ObserveMultipart(body, boundary, opts); err != nil {
			if !reflect.DeepEqual(n, &Node{}) {
				t.Fatalf("error %v but recorded %s", err, dump(n))
			}
			return
		}
		if len(n.Props) > opts.MaxParts {
			t.Fatalf("%d props > MaxParts", len(n.Props))
		}
		_ = n.Schema(opts)
	})
}

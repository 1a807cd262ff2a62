package infer

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzObserve feeds arbitrary exchanges to a model and checks that nothing
// panics, that the export is always a valid OpenAPI document in 3.0 and
// 3.1, and that it is deterministic.
func FuzzObserve(f *testing.F) {
	f.Add("GET", "api.test", "/users/42?x=1&y=2", "Authorization: Bearer abc.def.ghi\nX-Key: 1", "", "", 200, "application/json", `{"a":[1,2,{"b":null}]}`)
	f.Add("POST", "api.test:8080", "/orders/cus_8sJd2KqLmN/items", "Content-Type: application/json", "application/json", `{"sku":"x","email":"a@b.co"}`, 201, "", "")
	f.Add("PUT", "", "/f", "Content-Type: multipart/form-data; boundary=X", "multipart/form-data; boundary=X", "--X\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\nhi\r\n--X--\r\n", 204, "", "")
	f.Add("GET", "h", "/{x}/%7B/ü/\xff", "Cookie: sid=1; theme=dark", "", "", 0, "", "")
	f.Add("DELETE", "h", "/a?b=%zz", "", "application/x-www-form-urlencoded", "a=1&a=2&b", 500, "text/html", "<html>")
	f.Fuzz(func(t *testing.T, method, host, target, hdr, reqCT, reqBody string, status int, respCT, respBody string) {
		if len(target) > 0 && target[0] != '/' {
			target = "/" + target
		}
		x := ex(1, method, host, target, hdr, reqBody, status%1000, respCT, respBody)
		if reqCT != "" {
			x.Request.Header.Set("Content-Type", reqCT)
		}
		m := NewModel(Config{})
		m.Observe(x)
		// A second, related exchange exercises merging of operations.
		y := ex(2, method, host, strings.Replace(target, "/", "/9/", 1), hdr, reqBody, 200, "application/json", `{"k":1}`)
		m.Observe(y)
		for _, v := range []string{"3.0", "3.1"} {
			doc, err := m.OpenAPIAll(ExportOptions{Version: v, Examples: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := doc.Validate(context.Background()); err != nil {
				t.Fatalf("invalid %s document: %v", v, err)
			}
			var a, b bytes.Buffer
			if err := Write(&a, doc, "yaml"); err != nil {
				t.Fatal(err)
			}
			if err := Write(&b, doc, "yaml"); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatal("export not deterministic")
			}
		}
		if _, err := json.Marshal(m); err != nil {
			t.Fatalf("model does not marshal: %v", err)
		}
		_ = m.Endpoints()
	})
}

package infer_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/message"
)

func Example() {
	m := infer.NewModel(infer.Config{})
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, p := range []string{"/users/me", "/users/17", "/users/4242", "/users/977"} {
		m.Observe(&reassembly.Exchange{
			Request: &message.Request{Method: "GET", Path: p, Authority: "api.example.com", Header: http.Header{},
				Start: at.Add(time.Duration(i) * time.Second)},
			Response: &message.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
				Body: message.NewBody([]byte(`{"id":1}`), 0), End: at.Add(time.Duration(i)*time.Second + 20*time.Millisecond)},
		})
	}
	for _, e := range m.Endpoints() {
		fmt.Println(e.Service, e.Method, e.Template, e.Count)
	}
	doc, err := m.OpenAPI("api.example.com", infer.ExportOptions{Version: "3.1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	p := doc.Paths.Value("/users/{userId}").Get.Parameters.GetByInAndName("path", "userId")
	fmt.Println(p.Name, p.Schema.Value.Type.Slice(), p.Schema.Value.Format)
	for _, path := range doc.Paths.InMatchingOrder() {
		fmt.Println(path)
	}
	// Output:
	// api.example.com GET /users/me 1
	// api.example.com GET /users/{userId} 3
	// userId [integer] int64
	// /users/me
	// /users/{userId}
}

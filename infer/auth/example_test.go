package auth_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/specter-dev/specter/infer/auth"
)

func ExampleInspect() {
	h := http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}, "Cookie": {"theme=dark; JSESSIONID=abc"}}
	q := url.Values{"api_key": {"k-123"}}
	for _, c := range auth.Inspect(h, q) {
		s, _ := json.Marshal(auth.SecurityScheme(c))
		fmt.Println(auth.SchemeName(c), string(s))
	}
	// Output:
	// cookie_JSESSIONID {"in":"cookie","name":"JSESSIONID","type":"apiKey"}
	// basicAuth {"scheme":"basic","type":"http"}
	// apiKeyQuery_api_key {"in":"query","name":"api_key","type":"apiKey"}
}

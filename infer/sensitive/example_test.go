package sensitive_test

import (
	"fmt"

	"github.com/specter-dev/specter/infer/sensitive"
)

func ExampleRedactJSON() {
	body := []byte(`{"user": {"email": "alice@example.com", "password": "hunter2", "card": "4111 1111 1111 1111", "order": "4111111111111112"}}`)
	fmt.Println(string(sensitive.RedactJSON(body, 1<<10)))
	// Output:
	// {"user":{"email":"<redacted:email>","password":"<redacted:password>","card":"<redacted:card>","order":"4111111111111112"}}
}

func ExampleRedactHeader() {
	fmt.Println(sensitive.RedactHeader("Authorization", "Bearer eyJhbGciOi..."))
	fmt.Println(sensitive.RedactHeader("Set-Cookie", "sid=abc; Path=/; HttpOnly"))
	// Output:
	// Bearer <redacted>
	// sid=<redacted>; Path=/; HttpOnly
}

package sensitive

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	if got := Redact("alice@example.com", Email); got != "<redacted:email>" {
		t.Errorf("Redact = %q", got)
	}
	if got := Redact("x", Card|SSN); got != "<redacted:card,ssn>" {
		t.Errorf("Redact = %q", got)
	}
	if got := Redact("plain", 0); got != "plain" {
		t.Errorf("Redact untagged = %q", got)
	}
}

func TestRedactHeader(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"Authorization", "Bearer abc.def.ghi", "Bearer <redacted>"},
		{"authorization", "Basic dXNlcjpwYXNz", "Basic <redacted>"},
		{"Authorization", "AWS4-HMAC-SHA256 Credential=AKIA/2024, Signature=abc", "AWS4-HMAC-SHA256 <redacted>"},
		{"Authorization", "opaque-token-value", "<redacted>"},
		{"Proxy-Authorization", "Digest username=\"a\"", "Digest <redacted>"},
		{"Cookie", "sid=abc123; theme=dark", "sid=<redacted>; theme=<redacted>"},
		{"Set-Cookie", "sid=abc123; Path=/; HttpOnly", "sid=<redacted>; Path=/; HttpOnly"},
		{"Cookie", "bare-value; a=1", "<redacted>; a=<redacted>"},
		{"X-Api-Key", "k-123", "<redacted>"},
		{"api_key", "k-123", "<redacted>"},
		{"X_Auth_Token", "t", "<redacted>"},
		{"Token", "t-123", "<redacted>"},
		{"X-Custom-Token", "t-123", "<redacted>"},
		{"X-Hub-Signature-256", "sha256=abc", "<redacted>"},
		{"Idempotency-Key", "7f3a", "7f3a"},
		{"Content-Type", "application/json", "application/json"},
		{"X-Contact", "alice@example.com", "<redacted:email>"},
		{"Authorization", "", ""},
	}
	for _, tt := range tests {
		if got := RedactHeader(tt.name, tt.value); got != tt.want {
			t.Errorf("RedactHeader(%q, %q) = %q, want %q", tt.name, tt.value, got, tt.want)
		}
	}
	h := http.Header{"Authorization": {"Bearer x"}, "Accept": {"*/*"}}
	want := http.Header{"Authorization": {"Bearer <redacted>"}, "Accept": {"*/*"}}
	if got := RedactHeaders(h); !reflect.DeepEqual(got, want) {
		t.Errorf("RedactHeaders = %v", got)
	}
}

func TestRedactJSON(t *testing.T) {
	tests := []struct {
		name, in, want string
		max            int
	}{
		{"values", `{"email": "alice@example.com", "n": 1, "ok": true, "x": null}`,
			`{"email":"<redacted:email>","n":1,"ok":true,"x":null}`, 1000},
		{"by name any type", `{"password":12345,"api_key":{"a":[1,2]},"token":"abcdefghijk","secret":null}`,
			`{"password":"<redacted:password>","api_key":"<redacted:password>","token":"<redacted:bearer-token>","secret":null}`, 1000},
		{"arrays take the name", `{"cards":["4111 1111 1111 1111","x"],"phones":["+1 415 555 2671"]}`,
			`{"cards":["<redacted:card>","x"],"phones":["<redacted:phone>"]}`, 1000},
		{"escaped value", `{"e":"alice\u0040example.com","s":"a\"b"}`,
			`{"e":"<redacted:email>","s":"a\"b"}`, 1000},
		{"sensitive key", `{"alice@example.com":1}`, `{"<redacted:email>":1}`, 1000},
		{"nested", `[{"u":{"ssn":"123-45-6789"}}]`, `[{"u":{"ssn":"<redacted:ssn>"}}]`, 1000},
		{"cut", `{"a":"bcdefgh"}`, `{"a":"bc`, 8},
		{"cut after redaction", `{"e":"alice@example.com"}`, `{"e":"<redac`, 12},
		{"invalid: text", `{"email":"alice@example.com","pw`, `{"email":"<redacted:email>","pw`, 1000},
		{"invalid: form", `password=hunter22&user=bob`, `password=<redacted:password>&user=bob`, 1000},
		{"invalid: bearer", `Authorization: Bearer abcdefghijklmnop`, `Authorization: Bearer <redacted:bearer-token>`, 1000},
		{"invalid: key", "x -----BEGIN RSA PRIVATE KEY-----\nAAA\n-----END RSA PRIVATE KEY----- y", "x <redacted:private-key> y", 1000},
		{"invalid cut", `not json at all`, `not j`, 5},
		{"zero max", `{}`, ``, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(RedactJSON([]byte(tt.in), tt.max)); got != tt.want {
				t.Errorf("RedactJSON(%q, %d)\n got %s\nwant %s", tt.in, tt.max, got, tt.want)
			}
		})
	}
}

func TestUnescapeJSON(t *testing.T) {
	for in, want := range map[string]string{
		`\ud83d\ude00x`: "😀x", `\ud83dx`: "\uFFFDx", `a\u0040b\n\/`: "a@b\n/", `\"\\`: `"\`,
	} {
		if got := string(UnescapeJSON(nil, []byte(in))); got != want {
			t.Errorf("UnescapeJSON(%s) = %q, want %q", in, got, want)
		}
	}
}

func FuzzRedactJSON(f *testing.F) {
	for _, s := range []string{
		`{"email":"alice@example.com","password":1,"a":[{"b":"4111 1111 1111 1111"}]}`,
		`{"e":"\u0040\ud83d\ude00"}`, `[1,2,"x"]`, `password=abc&x=y`, `Bearer abcdefghijklm`,
		`{"token":{"a":1}}`, "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----", `{"a":`, `"\ud800"`,
	} {
		f.Add([]byte(s), 64)
		f.Add([]byte(s), 4096)
	}
	f.Fuzz(func(t *testing.T, body []byte, max int) {
		max = max % (1 << 16)
		out := RedactJSON(body, max)
		if len(out) > max && !(max <= 0 && len(out) == 0) {
			t.Fatalf("output %d bytes > max %d", len(out), max)
		}
		if max < len(body)*2+64 || !json.Valid(body) {
			return
		}
		// Not cut: valid JSON in, valid JSON out, and redacting again
		// changes nothing.
		if !json.Valid(out) {
			t.Fatalf("valid JSON redacted to invalid %q", out)
		}
		if again := RedactJSON(out, max); string(again) != string(out) {
			t.Fatalf("not idempotent:\n%s\n%s", out, again)
		}
		// Every string left is not sensitive by value.
		var v any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatal(err)
		}
		walkStrings(v, func(s string) {
			if !strings.HasPrefix(s, "<redacted") && classifyValue(s) != 0 {
				t.Fatalf("sensitive string %q left in %s", s, out)
			}
		})
	})
}

func walkStrings(v any, f func(string)) {
	switch x := v.(type) {
	case string:
		f(x)
	case []any:
		for _, e := range x {
			walkStrings(e, f)
		}
	case map[string]any:
		for k, e := range x {
			f(k)
			walkStrings(e, f)
		}
	}
}

package auth

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func jwt(t testing.TB, header, payload map[string]any) string {
	t.Helper()
	enc := func(v map[string]any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(header) + "." + enc(payload) + ".c2lnbmF0dXJl"
}

func TestInspect(t *testing.T) {
	tok := jwt(t, map[string]any{"alg": "RS256", "typ": "JWT", "kid": "k1"},
		map[string]any{"iss": "https://issuer.example", "aud": []any{"b", "a", "a"}, "scope": "write read", "exp": 1700000000, "sub": "secret-user"})
	tests := []struct {
		name  string
		h     http.Header
		query string
		want  []Credential
	}{
		{"none", http.Header{"Accept": {"*/*"}}, "", nil},
		{"basic", http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, "",
			[]Credential{{Scheme: "basic", In: "header", Name: "Authorization"}}},
		{"opaque bearer", http.Header{"Authorization": {"bearer dGVzdC10b2tlbg"}}, "",
			[]Credential{{Scheme: "bearer", In: "header", Name: "Authorization"}}},
		{"jwt bearer", http.Header{"Authorization": {"Bearer " + tok}}, "",
			[]Credential{{Scheme: "bearer", In: "header", Name: "Authorization", JWT: &Claims{
				Alg: "RS256", Typ: "JWT", Kid: true, Issuer: "https://issuer.example",
				Audience: []string{"a", "b"}, Scope: []string{"read", "write"}, HasExpiry: true}}}},
		{"digest", http.Header{"Authorization": {`Digest username="u", realm="r"`}}, "",
			[]Credential{{Scheme: "digest", In: "header", Name: "Authorization"}}},
		{"aws sigv4", http.Header{"Authorization": {"AWS4-HMAC-SHA256 Credential=AKIA/x, Signature=y"}}, "",
			[]Credential{{Scheme: "aws4-hmac-sha256", In: "header", Name: "Authorization"}}},
		{"github token", http.Header{"Authorization": {"token ghp_abc"}}, "",
			[]Credential{{Scheme: "token", In: "header", Name: "Authorization"}}},
		{"bare key in authorization", http.Header{"Authorization": {"k-123456"}}, "",
			[]Credential{{Scheme: "apiKey", In: "header", Name: "Authorization"}}},
		{"api key headers", http.Header{"X-Api-Key": {"k"}, "X-Custom-Token": {"t"}, "Idempotency-Key": {"i"}, "X-Csrf-Token": {"c"}, "X-Empty-Token": {""}}, "",
			[]Credential{{Scheme: "apiKey", In: "header", Name: "X-Api-Key"}, {Scheme: "apiKey", In: "header", Name: "X-Custom-Token"}}},
		{"lower-case header map", http.Header{"x-api-key": {"k"}}, "",
			[]Credential{{Scheme: "apiKey", In: "header", Name: "X-Api-Key"}}},
		{"query", nil, "api_key=k&page=2&access_token=t&key=",
			[]Credential{{Scheme: "apiKey", In: "query", Name: "access_token"}, {Scheme: "apiKey", In: "query", Name: "api_key"}}},
		{"cookies", http.Header{"Cookie": {"theme=dark; JSESSIONID=abc; connect.sid=s%3Ax", "app_session=1; csrftoken=x"}}, "",
			[]Credential{{Scheme: "cookie", In: "cookie", Name: "JSESSIONID"}, {Scheme: "cookie", In: "cookie", Name: "app_session"}, {Scheme: "cookie", In: "cookie", Name: "connect.sid"}}},
		{"jwt cookie", http.Header{"Cookie": {"token=" + tok}}, "",
			[]Credential{{Scheme: "cookie", In: "cookie", Name: "token", JWT: &Claims{
				Alg: "RS256", Typ: "JWT", Kid: true, Issuer: "https://issuer.example",
				Audience: []string{"a", "b"}, Scope: []string{"read", "write"}, HasExpiry: true}}}},
		{"bad jwt", http.Header{"Authorization": {"Bearer eyJub3QiOiJqc29u.eyJ4IjoxfQ.sig-sig-sig"}}, "",
			[]Credential{{Scheme: "bearer", In: "header", Name: "Authorization"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got := Inspect(tt.h, q)
			if !reflect.DeepEqual(got, tt.want) {
				gb, _ := json.Marshal(got)
				wb, _ := json.Marshal(tt.want)
				t.Errorf("Inspect:\n got %s\nwant %s", gb, wb)
			}
		})
	}
}

func TestClaimsKeepNoSecrets(t *testing.T) {
	tok := jwt(t, map[string]any{"alg": "HS256"}, map[string]any{"sub": "user-42", "email": "a@example.com", "scp": []any{"x"}})
	c := Inspect(http.Header{"Authorization": {"Bearer " + tok}}, nil)
	b, _ := json.Marshal(c)
	for _, secret := range []string{"user-42", "a@example.com", "c2lnbmF0dXJl", tok[:20]} {
		if strings.Contains(string(b), secret) {
			t.Errorf("credential %s keeps %q", b, secret)
		}
	}
	if c[0].JWT == nil || !reflect.DeepEqual(c[0].JWT.Scope, []string{"x"}) || c[0].JWT.HasExpiry {
		t.Errorf("claims = %+v", c[0].JWT)
	}
}

func TestSchemes(t *testing.T) {
	tests := []struct {
		c      Credential
		name   string
		scheme string // JSON of the security scheme
	}{
		{Credential{Scheme: "basic", In: "header", Name: "Authorization"}, "basicAuth", `{"scheme":"basic","type":"http"}`},
		{Credential{Scheme: "bearer", In: "header", Name: "Authorization"}, "bearerAuth", `{"scheme":"bearer","type":"http"}`},
		{Credential{Scheme: "bearer", In: "header", Name: "Authorization", JWT: &Claims{Alg: "RS256"}}, "bearerAuth",
			`{"bearerFormat":"JWT","scheme":"bearer","type":"http"}`},
		{Credential{Scheme: "apiKey", In: "header", Name: "X-Api-Key"}, "apiKey_X-Api-Key", `{"in":"header","name":"X-Api-Key","type":"apiKey"}`},
		{Credential{Scheme: "apiKey", In: "query", Name: "api_key"}, "apiKeyQuery_api_key", `{"in":"query","name":"api_key","type":"apiKey"}`},
		{Credential{Scheme: "cookie", In: "cookie", Name: "connect.sid"}, "cookie_connect.sid", `{"in":"cookie","name":"connect.sid","type":"apiKey"}`},
		{Credential{Scheme: "digest", In: "header", Name: "Authorization"}, "digestAuth", `{"scheme":"digest","type":"http"}`},
		{Credential{Scheme: "apiKey", In: "header", Name: "X Weird/Name"}, "apiKey_X_Weird_Name", `{"in":"header","name":"X Weird/Name","type":"apiKey"}`},
	}
	for _, tt := range tests {
		if got := SchemeName(tt.c); got != tt.name {
			t.Errorf("SchemeName(%+v) = %q, want %q", tt.c, got, tt.name)
		}
		b, err := json.Marshal(SecurityScheme(tt.c))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.scheme {
			t.Errorf("SecurityScheme(%+v) = %s, want %s", tt.c, b, tt.scheme)
		}
		if err := SecurityScheme(tt.c).Validate(t.Context()); err != nil {
			t.Errorf("SecurityScheme(%+v) invalid: %v", tt.c, err)
		}
	}
}

func FuzzInspect(f *testing.F) {
	f.Add("Bearer eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4Iiwic2NvcGUiOlsiYSJdfQ.", "sid=1; a=b", "api_key=1")
	f.Add("Basic x", "", "token=eyJhbGciOiJub25lIn0.eyJhdWQiOjF9.")
	f.Add("", "jwt=eyJhbGciOiJub25lIn0.e30.", "")
	f.Fuzz(func(t *testing.T, authz, cookie, query string) {
		h := http.Header{"Authorization": {authz}, "Cookie": {cookie}, "X-Api-Key": {authz}}
		q, _ := url.ParseQuery(query)
		got := Inspect(h, q)
		again := Inspect(h, q)
		if !reflect.DeepEqual(got, again) {
			t.Fatal("not deterministic")
		}
		b, _ := json.Marshal(got)
		for _, c := range got {
			if c.Scheme == "" || c.In == "" || c.Name == "" {
				t.Fatalf("incomplete credential %+v", c)
			}
			if c.JWT != nil && (len(c.JWT.Scope) > maxClaimList || len(c.JWT.Audience) > maxClaimList) {
				t.Fatalf("unbounded claims %+v", c.JWT)
			}
			_ = SecurityScheme(c)
			_ = SchemeName(c)
		}
		// No credential value may be kept verbatim (long enough to matter).
		if len(authz) >= 24 && !strings.HasPrefix(authz, "eyJ") && strings.Contains(string(b), authz) {
			t.Fatalf("kept the Authorization value: %s", b)
		}
	})
}

// TestIsKeyHeaderLower: the header names are lowered as strings.ToLower
// does, without an allocation for ASCII ones.
func TestIsKeyHeaderLower(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"X-Api-Key", true}, {"X-API-KEY", true}, {"Host", false}, {"My-Service-Token", true},
		{"X-Csrf-Token", false}, {"X-Api-\u212aey", true}, // the Kelvin sign lowers to k
		{strings.Repeat("X", 70) + "-Token", true}, {"", false},
		// Underscores spell dashes.
		{"Api_key", true}, {"api_key", true}, {"X_Api_Key", true}, {"X_Auth_Token", true}, {"Apikey", true},
		{"X-Auth-Token", true}, {"Token", true}, {"X_Csrf_Token", false}, {"Idempotency_Key", false},
		{strings.Repeat("x", 70) + "_token", true},
	} {
		if got := isKeyHeader(tc.name); got != tc.want {
			t.Errorf("isKeyHeader(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { isKeyHeader("Content-Type") }); n != 0 {
		t.Errorf("%v allocations per ASCII name", n)
	}
}

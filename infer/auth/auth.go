// Package auth recognizes the authentication a request carries (HTTP
// Authorization schemes, API keys in headers or the query, session cookies)
// and describes it as OpenAPI security schemes. It keeps no secrets: a
// Credential names where a credential was, and for JWTs only non-secret
// claims.
package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/specter-dev/specter/reassembly/message"
)

// Schemes of a Credential.
const (
	SchemeBasic  = "basic"
	SchemeBearer = "bearer"
	SchemeAPIKey = "apiKey"
	SchemeCookie = "cookie"
)

// Places of a Credential.
const (
	InHeader = "header"
	InQuery  = "query"
	InCookie = "cookie"
)

// Credential is one credential seen in a request, without its value.
type Credential struct {
	// Scheme is "basic", "bearer", "apiKey", "cookie", or the lower-case name
	// of another Authorization scheme ("digest", "token",
	// "aws4-hmac-sha256", "negotiate", ...).
	Scheme string `json:"scheme"`
	// In is where it was: "header", "query" or "cookie".
	In string `json:"in"`
	// Name is the header, query parameter or cookie name, in canonical form
	// for headers ("Authorization", "X-Api-Key").
	Name string `json:"name"`
	// JWT holds the non-secret claims when the credential is a JWT.
	JWT *Claims `json:"jwt,omitempty"`
}

// Claims are the non-secret facts of a JWT: never the signature, the
// subject or the token itself.
type Claims struct {
	Alg       string   `json:"alg"`
	Typ       string   `json:"typ,omitempty"`
	Kid       bool     `json:"kid,omitempty"` // a key id is present (its value is not kept)
	Issuer    string   `json:"iss,omitempty"`
	Audience  []string `json:"aud,omitempty"`
	Scope     []string `json:"scope,omitempty"` // from "scope" (space-separated) or "scp"
	HasExpiry bool     `json:"has_exp,omitempty"`
}

// Limits on what is examined, so that hostile input stays cheap.
const (
	maxTokenLen  = 16 << 10 // a longer bearer token is not decoded as a JWT
	maxClaimList = 32       // audiences and scopes kept per token
	maxClaimLen  = 256      // longest issuer, audience or scope kept
	maxCookies   = 64       // cookies examined per request
)

// Inspect returns the credentials in a request's headers and query, sorted
// by (In, Name, Scheme) so that the order is deterministic. Each place
// appears once.
func Inspect(h http.Header, query url.Values) []Credential {
	var out []Credential
	for name, vals := range h {
		if len(vals) == 0 {
			continue
		}
		cname := message.CanonicalKey(name)
		switch {
		case cname == "Authorization" || cname == "Proxy-Authorization":
			if c, ok := authorization(cname, vals[0]); ok {
				out = append(out, c)
			}
		case cname == "Cookie":
			out = append(out, cookies(vals)...)
		case isKeyHeader(cname) && strings.TrimSpace(vals[0]) != "":
			c := Credential{Scheme: SchemeAPIKey, In: InHeader, Name: cname}
			if tok := strings.TrimSpace(vals[0]); looksJWT(tok) {
				c.JWT = parseJWT(tok)
			}
			out = append(out, c)
		}
	}
	for name, vals := range query {
		if len(vals) == 0 || vals[0] == "" || !isKeyParam(name) {
			continue
		}
		c := Credential{Scheme: SchemeAPIKey, In: InQuery, Name: name}
		if looksJWT(vals[0]) {
			c.JWT = parseJWT(vals[0])
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Credential) int {
		if c := strings.Compare(a.In, b.In); c != 0 {
			return c
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Scheme, b.Scheme)
	})
	return slices.CompactFunc(out, func(a, b Credential) bool {
		return a.In == b.In && a.Name == b.Name && a.Scheme == b.Scheme
	})
}

// authorization parses an Authorization header value: scheme, then
// credentials.
func authorization(name, v string) (Credential, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return Credential{}, false
	}
	scheme, rest, _ := strings.Cut(v, " ")
	rest = strings.TrimSpace(rest)
	c := Credential{In: InHeader, Name: name}
	switch ls := strings.ToLower(scheme); {
	case ls == "basic":
		c.Scheme = SchemeBasic
	case ls == "bearer":
		c.Scheme = SchemeBearer
		if looksJWT(rest) {
			c.JWT = parseJWT(rest)
		}
	case rest == "" && looksJWT(scheme):
		// A bare token without a scheme: treat as bearer, as servers do.
		c.Scheme = SchemeBearer
		c.JWT = parseJWT(scheme)
	case rest == "":
		// A bare opaque value: an API key carried in Authorization.
		c.Scheme = SchemeAPIKey
	case isToken(ls) && len(ls) <= 32:
		c.Scheme = ls
	default:
		c.Scheme = SchemeAPIKey
	}
	return c, true
}

// isToken reports whether s is an RFC 9110 token (what a scheme name is).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// isKeyHeader: the header names API keys and tokens travel in. Names ending
// in -Key or -Token count, except the well-known ones that are not
// credentials. Underscores count as dashes: api_key and X_Auth_Token are
// spellings of api-key and X-Auth-Token that proxies pass on.
func isKeyHeader(h string) bool {
	var buf [64]byte
	b := lowerASCII(buf[:0], h)
	for i, c := range b {
		if c == '_' {
			b[i] = '-'
		}
	}
	return isKeyHeaderLower(b)
}

// lowerASCII appends to dst the lower case of s, as strings.ToLower
// would; only names of ASCII letters fit the stack buffers it is given,
// others are lowered by strings.ToLower.
func lowerASCII(dst []byte, s string) []byte {
	if len(s) > cap(dst) {
		return append(dst, strings.ToLower(s)...)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return append(dst[:0], strings.ToLower(s)...)
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func isKeyHeaderLower(b []byte) bool {
	switch string(b) {
	case "x-api-key", "api-key", "apikey", "x-apikey", "x-auth-token", "x-access-token",
		"x-auth", "x-session-token", "x-goog-api-key", "x-amz-security-token",
		"x-functions-key", "ocp-apim-subscription-key", "x-rapidapi-key", "private-token",
		"x-private-token", "x-vault-token", "x-consul-token",
		"x-shopify-access-token", "x-figma-token", "x-secret", "x-api-secret", "x-api-token",
		"token", "apitoken", "authtoken", "accesstoken", "api-secret":
		return true
	case "idempotency-key", "x-idempotency-key", "sec-websocket-key", "x-request-key", "cache-key",
		"x-csrf-token", "x-xsrf-token", "csrf-token", "xsrf-token", "x-csrftoken":
		// Not credentials: request ids and anti-forgery tokens.
		return false
	}
	return bytes.HasSuffix(b, []byte("-token")) || bytes.HasSuffix(b, []byte("-api-key")) ||
		bytes.HasSuffix(b, []byte("-apikey")) || bytes.HasSuffix(b, []byte("-auth-key")) ||
		bytes.HasSuffix(b, []byte("-access-key")) || bytes.HasSuffix(b, []byte("-secret-key"))
}

// isKeyParam: query parameters that carry credentials.
func isKeyParam(p string) bool {
	switch strings.ToLower(p) {
	case "api_key", "apikey", "api-key", "key", "access_token", "accesstoken", "token",
		"auth", "auth_token", "authtoken", "api_token", "apitoken", "client_secret",
		"sig", "signature", "x-api-key", "jwt", "id_token", "session", "sessionid", "session_id",
		"x-amz-signature", "x-amz-security-token", "x-goog-signature":
		return true
	}
	return false
}

// sessionCookie reports cookie names that hold sessions or auth tokens.
func sessionCookie(name string) bool {
	l := strings.ToLower(name)
	switch l {
	case "session", "sessionid", "session_id", "sid", "jsessionid", "phpsessid", "asp.net_sessionid",
		"connect.sid", "laravel_session", "_session_id", "token", "auth", "auth_token", "access_token",
		"id_token", "jwt", "remember_token", "rack.session", "ci_session", "cfid", "cftoken":
		return true
	}
	return strings.HasSuffix(l, "_session") || strings.HasSuffix(l, ".session") ||
		strings.HasSuffix(l, "-session") || strings.HasSuffix(l, "sessid") ||
		strings.HasSuffix(l, "_token") || strings.HasSuffix(l, "-token") ||
		strings.HasPrefix(l, "__secure-") || strings.HasPrefix(l, "__host-") ||
		strings.HasSuffix(l, "_auth") || strings.HasSuffix(l, "-auth") || strings.HasSuffix(l, "_jwt")
}

func cookies(vals []string) []Credential {
	var out []Credential
	n := 0
	for _, line := range vals {
		for part := range strings.SplitSeq(line, ";") {
			if n++; n > maxCookies {
				return out
			}
			name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok || name == "" || !sessionCookie(name) {
				continue
			}
			c := Credential{Scheme: SchemeCookie, In: InCookie, Name: name}
			val = strings.Trim(val, `"`)
			if looksJWT(val) {
				c.JWT = parseJWT(val)
			}
			out = append(out, c)
		}
	}
	return out
}

// looksJWT: three base64url segments, the first starting like a JSON object.
func looksJWT(tok string) bool {
	return len(tok) >= 20 && len(tok) <= maxTokenLen && strings.HasPrefix(tok, "eyJ") &&
		strings.Count(tok, ".") == 2
}

// parseJWT decodes the header and payload of a JWS compact token and keeps
// the non-secret claims. It returns nil when the header is not a JSON object
// with "alg".
func parseJWT(tok string) *Claims {
	hseg, rest, _ := strings.Cut(tok, ".")
	pseg, _, _ := strings.Cut(rest, ".")
	var hdr struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
		Kid any    `json:"kid"`
	}
	if !decodeSeg(hseg, &hdr) || hdr.Alg == "" {
		return nil
	}
	c := &Claims{Alg: clip(hdr.Alg), Typ: clip(hdr.Typ), Kid: hdr.Kid != nil}
	var p struct {
		Iss   any `json:"iss"`
		Aud   any `json:"aud"`
		Scope any `json:"scope"`
		Scp   any `json:"scp"`
		Exp   any `json:"exp"`
	}
	if !decodeSeg(pseg, &p) {
		return c // an encrypted or opaque payload: the header is all we know
	}
	if s, ok := p.Iss.(string); ok {
		c.Issuer = clip(s)
	}
	c.Audience = stringList(p.Aud, false)
	c.Scope = stringList(p.Scope, true)
	if c.Scope == nil {
		c.Scope = stringList(p.Scp, true)
	}
	c.HasExpiry = p.Exp != nil
	return c
}

func decodeSeg(seg string, v any) bool {
	seg = strings.TrimRight(seg, "=")
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil || len(b) == 0 || b[0] != '{' {
		return false
	}
	return json.Unmarshal(b, v) == nil
}

// stringList turns a string or an array of strings into a sorted, bounded
// list; split says a single string is space-separated (OAuth scope).
func stringList(v any, split bool) []string {
	var out []string
	add := func(s string) {
		if s != "" && len(out) < maxClaimList {
			out = append(out, clip(s))
		}
	}
	switch x := v.(type) {
	case string:
		if split {
			for f := range strings.FieldsSeq(x) {
				add(f)
			}
		} else {
			add(x)
		}
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok {
				add(s)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func clip(s string) string {
	if len(s) > maxClaimLen {
		return s[:maxClaimLen]
	}
	return s
}

// SchemeName returns a stable name for c's security scheme, for
// components.securitySchemes: "basicAuth", "bearerAuth", "apiKey_<Name>"
// (header), "apiKeyQuery_<name>", "cookie_<name>", or "<scheme>Auth" for
// other Authorization schemes. Characters outside [A-Za-z0-9._-] become '_'.
func SchemeName(c Credential) string {
	switch c.Scheme {
	case SchemeBasic:
		return "basicAuth"
	case SchemeBearer:
		if c.Name == "Proxy-Authorization" {
			return "proxyBearerAuth"
		}
		return "bearerAuth"
	case SchemeAPIKey:
		if c.In == InQuery {
			return "apiKeyQuery_" + sanitize(c.Name)
		}
		return "apiKey_" + sanitize(c.Name)
	case SchemeCookie:
		return "cookie_" + sanitize(c.Name)
	}
	return sanitize(c.Scheme) + "Auth"
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || c == '.' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	return string(b)
}

// SecurityScheme returns the OpenAPI security scheme for c: http basic,
// http bearer (bearerFormat JWT when it was one), apiKey in header, query or
// cookie, and http with the scheme's name for other Authorization schemes.
func SecurityScheme(c Credential) *openapi3.SecurityScheme {
	switch c.Scheme {
	case SchemeBasic:
		return &openapi3.SecurityScheme{Type: "http", Scheme: "basic"}
	case SchemeBearer:
		s := &openapi3.SecurityScheme{Type: "http", Scheme: "bearer"}
		if c.JWT != nil {
			s.BearerFormat = "JWT"
		}
		return s
	case SchemeAPIKey:
		return &openapi3.SecurityScheme{Type: "apiKey", In: c.In, Name: c.Name}
	case SchemeCookie:
		return &openapi3.SecurityScheme{Type: "apiKey", In: InCookie, Name: c.Name}
	}
	return &openapi3.SecurityScheme{Type: "http", Scheme: c.Scheme}
}

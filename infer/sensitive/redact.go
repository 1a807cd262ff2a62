package sensitive

import (
	"net/http"
	"strings"
)

// Redact returns value with its secret removed when t is not empty: the
// marker "<redacted:KINDS>" (kinds as in Tag.String). With an empty t it
// returns value unchanged. The output depends only on t.
func Redact(value string, t Tag) string {
	if t == 0 {
		return value
	}
	return marker(t)
}

func marker(t Tag) string { return "<redacted:" + t.String() + ">" }

// RedactName returns the marker that stands for a property or field name
// that is itself sensitive data (an e-mail address, a card number or a
// token used as a key), and true; for any other name "" and false.
func RedactName[V text](name V) (string, bool) {
	t := classifyValue(name)
	if t == 0 && ContainsRandom(name) {
		t = RandomToken
	}
	if t == 0 {
		return "", false
	}
	return marker(t), true
}

// redactedOpaque replaces a value known to be a credential by where it was
// found rather than by its shape.
const redactedOpaque = "<redacted>"

// RedactHeader returns a header value safe to store: credentials in
// Authorization-like headers keep their scheme ("Bearer <redacted>"),
// cookies their names ("sid=<redacted>"), Set-Cookie its attributes, API-key
// headers are replaced whole, and any other value is classified (with the
// header name) and redacted if sensitive.
func RedactHeader(name, value string) string {
	l := strings.ToLower(name)
	switch {
	case l == "authorization" || l == "proxy-authorization":
		v := strings.TrimSpace(value)
		if scheme, _, ok := strings.Cut(v, " "); ok && isSchemeName(scheme) {
			return scheme + " " + redactedOpaque
		}
		if v == "" {
			return value
		}
		return redactedOpaque
	case l == "cookie":
		return redactCookies(value, false)
	case l == "set-cookie":
		return redactCookies(value, true)
	case secretHeader(l):
		if strings.TrimSpace(value) == "" {
			return value
		}
		return redactedOpaque
	}
	return Redact(value, Classify(name, value))
}

func isSchemeName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// secretHeader: header names (lower case) whose whole value is a
// credential. Underscores count as dashes (api_key is api-key).
func secretHeader(l string) bool {
	l = strings.ReplaceAll(l, "_", "-")
	switch l {
	case "x-api-key", "api-key", "apikey", "x-apikey", "x-auth-token", "x-access-token", "x-auth",
		"x-amz-security-token", "x-goog-api-key", "x-functions-key", "ocp-apim-subscription-key",
		"x-rapidapi-key", "private-token", "x-session-token", "x-csrf-token", "x-xsrf-token",
		"x-vault-token", "x-secret", "x-api-secret", "x-hub-signature", "x-hub-signature-256",
		"token", "apitoken", "authtoken", "accesstoken", "api-secret":
		return true
	case "idempotency-key", "x-idempotency-key", "sec-websocket-key", "sec-websocket-accept":
		return false
	}
	return strings.HasSuffix(l, "-token") || strings.HasSuffix(l, "-api-key") ||
		strings.HasSuffix(l, "-apikey") || strings.HasSuffix(l, "-secret") ||
		strings.HasSuffix(l, "-password") || strings.HasSuffix(l, "-signature") ||
		strings.HasSuffix(l, "-access-key") || strings.HasSuffix(l, "-secret-key")
}

// redactCookies keeps cookie names (and, for Set-Cookie, the attributes
// after the first pair) and drops every value.
func redactCookies(v string, set bool) string {
	var b strings.Builder
	for i, part := range strings.Split(v, ";") {
		if i > 0 {
			b.WriteString(";")
		}
		if set && i > 0 {
			b.WriteString(part) // Path, Domain, Expires, HttpOnly...: not secret
			continue
		}
		name, _, ok := strings.Cut(part, "=")
		switch {
		case ok:
			b.WriteString(name + "=" + redactedOpaque)
		case strings.TrimSpace(part) != "":
			// A nameless cookie: the part is the value.
			b.WriteString(redactedOpaque)
		default:
			b.WriteString(part)
		}
	}
	return b.String()
}

// RedactHeaders returns a copy of h with every value passed through
// RedactHeader.
func RedactHeaders(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		rv := make([]string, len(vs))
		for i, v := range vs {
			rv[i] = RedactHeader(k, v)
		}
		out[k] = rv
	}
	return out
}

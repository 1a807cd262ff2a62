package sensitive

import (
	"net/url"
	"strings"
)

// Secrets are the kinds a path segment is redacted for: credentials and
// checksum-validated account numbers. E-mail addresses and telephone
// numbers in paths are identifiers the templates type (and name) by shape;
// they are tagged, not replaced.
const Secrets = JWT | AWSAccessKey | AWSSecret | GCPAPIKey | GitHubToken | SlackToken | PrivateKey |
	Password | BearerToken | Card | SSN | IBAN

// ClassifySegment returns the secret kinds (see Secrets) of one path
// segment.
func ClassifySegment(seg string) Tag {
	if len(seg) < 6 {
		return 0
	}
	return classifyValue(seg) & Secrets
}

// RedactSegment returns seg, or its marker when ClassifySegment finds a
// secret in it.
func RedactSegment(seg string) string {
	if t := ClassifySegment(seg); t != 0 {
		return marker(t)
	}
	return seg
}

// RedactPath returns a request path with every segment that holds a secret
// replaced by its marker (see RedactSegment); the other segments, the
// slashes and any query are kept as they are.
func RedactPath(p string) string {
	var b strings.Builder
	changed := false
	for i := 0; i <= len(p); {
		j := strings.IndexByte(p[i:], '/')
		if j < 0 {
			j = len(p) - i
		}
		seg := p[i : i+j]
		r := RedactSegment(seg)
		if r != seg && !changed {
			changed = true
			b.Grow(len(p))
			b.WriteString(p[:i])
		}
		if changed {
			b.WriteString(r)
			if i+j < len(p) {
				b.WriteByte('/')
			}
		}
		i += j + 1
	}
	if !changed {
		return p
	}
	return b.String()
}

// RedactQuery returns a raw query string with the values that classify
// (by value, or by a secret-like parameter name) replaced by their marker;
// names, order and the other values are kept as sent.
func RedactQuery(raw string) string {
	var b strings.Builder
	for i, kv := range strings.Split(raw, "&") {
		if i > 0 {
			b.WriteByte('&')
		}
		k, v, ok := strings.Cut(kv, "=")
		b.WriteString(k)
		if !ok {
			continue
		}
		b.WriteByte('=')
		dk, _ := url.QueryUnescape(k)
		dv, err := url.QueryUnescape(v)
		if err != nil {
			dv = v
		}
		if t := Classify(dk, dv); t != 0 {
			b.WriteString(marker(t))
		} else {
			b.WriteString(v)
		}
	}
	return b.String()
}

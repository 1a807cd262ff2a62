package sensitive

import (
	"net/url"
	"strings"
)

// Secrets are the kinds a path segment is redacted for: credentials,
// checksum-validated account numbers and random tokens. E-mail addresses
// and telephone numbers in paths are identifiers the templates type (and
// name) by shape; they are tagged, not replaced.
const Secrets = JWT | AWSAccessKey | AWSSecret | GCPAPIKey | GitHubToken | SlackToken | PrivateKey |
	Password | BearerToken | Card | SSN | IBAN | APIKey | RandomToken

// ClassifySegment returns the secret kinds (see Secrets) of one path
// segment; prev is the segment before it ("" for the first). A segment is
// a RandomToken when it looks random (LooksRandom), or when it is opaque (16
// or more of [A-Za-z0-9_-] with a digit: UUIDs too) after a word that says
// a token follows (reset, verify, magic, invite, token, session, ...).
func ClassifySegment(prev, seg string) Tag {
	if len(seg) < 6 {
		return 0
	}
	if len(seg) > maxValueLen {
		seg = seg[:maxValueLen] // judged by its start, as the trie keeps it
	}
	if t := classifyValue(seg) & Secrets; t != 0 {
		return t
	}
	if stem, _ := splitExt(seg); LooksRandom(stem) || contextWord(prev) && opaque(stem) {
		return RandomToken
	}
	return 0
}

// splitExt splits a file extension (".json": a dot, then one to five
// letters and digits starting with a letter) off a segment.
func splitExt(s string) (stem, ext string) {
	for i := len(s) - 1; i > 0 && len(s)-i <= 6; i-- {
		if s[i] == '.' {
			if i < len(s)-1 && isAlpha(s[i+1]) {
				for j := i + 2; j < len(s); j++ {
					if !isAlnum(s[j]) {
						return s, ""
					}
				}
				return s[:i], s[i:]
			}
			return s, ""
		}
	}
	return s, ""
}

// RedactSegment returns seg, or its marker when ClassifySegment finds a
// secret in it. A file extension is kept ("<redacted:random-token>.json"), as
// the templates keep it.
func RedactSegment(prev, seg string) string {
	t := ClassifySegment(prev, seg)
	if t == 0 {
		return seg
	}
	if t == RandomToken {
		_, ext := splitExt(seg)
		return marker(t) + ext
	}
	return marker(t)
}

// AppendRedacted appends segs to dst with every segment that holds a
// secret replaced by its marker (see RedactSegment); the others are
// appended as they are, so that nothing is allocated for paths without
// secrets.
func AppendRedacted(dst, segs []string) []string {
	for i, s := range segs {
		prev := ""
		if i > 0 {
			prev = segs[i-1]
		}
		dst = append(dst, RedactSegment(prev, s))
	}
	return dst
}

// RedactPath returns a request path with every segment that holds a secret
// replaced by its marker (see RedactSegment); the other segments, the
// slashes and any query are kept as they are.
func RedactPath(p string) string {
	var b strings.Builder
	changed := false
	prev := ""
	for i := 0; i <= len(p); {
		j := strings.IndexByte(p[i:], '/')
		if j < 0 {
			j = len(p) - i
		}
		seg := p[i : i+j]
		r := RedactSegment(prev, seg)
		prev = seg
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

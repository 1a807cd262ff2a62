package message

import (
	"net/http"
	"net/textproto"
	"sort"
	"strings"
)

// Field is one header field as it was sent.
type Field struct {
	Name, Value string
}

// Fields returns the header fields of a message with their names as sent
// and in wire order: those of raw (its RawHeader), then those of h whose
// names raw does not hold (trailer fields, or every field of a message
// built without a raw head), sorted by name. raw is read as the HTTP/1
// parser reads a header section: up to the empty line or the first line
// that is not a field; obs-fold continuations join their field's value
// with a space. The work is done here, when asked, not when the message is
// parsed: most messages are never asked.
func Fields(raw string, h http.Header) []Field {
	var out []Field
	for raw != "" {
		ln, rest, _ := strings.Cut(raw, "\n")
		raw = rest
		if ln = strings.TrimSuffix(ln, "\r"); ln == "" {
			break
		}
		if ln[0] == ' ' || ln[0] == '\t' {
			if len(out) == 0 {
				break
			}
			if v, last := TrimOWS(ln), &out[len(out)-1]; last.Value == "" {
				last.Value = v
			} else if v != "" {
				last.Value += " " + v
			}
			continue
		}
		colon := strings.IndexByte(ln, ':')
		if colon <= 0 {
			break
		}
		if valid, _ := ScanName(ln[:colon]); !valid {
			break
		}
		out = append(out, Field{ln[:colon], TrimOWS(ln[colon+1:])})
	}
	if len(h) == 0 {
		return out
	}
	seen := make(map[string]bool, len(out))
	for _, f := range out {
		seen[CanonicalKey(f.Name)] = true
	}
	var rest []string
	for k := range h {
		if !seen[CanonicalKey(k)] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		for _, v := range h[k] {
			out = append(out, Field{k, v})
		}
	}
	return out
}

// The lexical rules below (RFC 9110 section 5) are shared by the parsers
// and Fields, so that both read a field line the same way.

// tokenChars marks the RFC 9110 token characters.
var tokenChars = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// IsTokenChar reports whether c may appear in an RFC 9110 token (a method
// or a field name).
func IsTokenChar(c byte) bool { return tokenChars[c] }

// CanonicalKey is textproto.CanonicalMIMEHeaderKey (and
// http.CanonicalHeaderKey) without its per-byte checks for names that are
// already canonical, as most parsed names are: such names are returned as
// they are, which is what CanonicalMIMEHeaderKey returns for them.
func CanonicalKey(name string) string {
	if IsCanonical(name) {
		return name
	}
	return textproto.CanonicalMIMEHeaderKey(name)
}

// ScanName reports whether a field name is a valid token and, if so,
// whether it is canonical (see IsCanonical), in one pass.
func ScanName(name string) (valid, canonical bool) {
	canonical = true
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !tokenChars[c] {
			return false, false
		}
		if upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
			canonical = false
		}
		upper = c == '-'
	}
	return name != "", canonical
}

// IsCanonical reports whether the token name is already in canonical MIME
// form: upper case after '-' and at the start, lower case elsewhere.
func IsCanonical(name string) bool {
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case upper && 'a' <= c && c <= 'z', !upper && 'A' <= c && c <= 'Z':
			return false
		}
		upper = c == '-'
	}
	return true
}

// TrimOWS trims the optional white space (SP, HTAB) around a field value.
func TrimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

package http1

import (
	"net/http"
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
// built without a raw head), sorted by name. raw is read as the parser
// read it: up to the empty line or the first line that is not a field;
// obs-fold continuations join their field's value with a space.
func Fields(raw string, h http.Header) []Field {
	var out []Field
	for raw != "" {
		var ln string
		if ln, raw = nextLine(raw); ln == "" {
			break
		}
		if ln[0] == ' ' || ln[0] == '\t' {
			if len(out) == 0 {
				break
			}
			if v, last := trimOWS(ln), &out[len(out)-1]; last.Value == "" {
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
		if valid, _ := scanName(ln[:colon]); !valid {
			break
		}
		out = append(out, Field{ln[:colon], trimOWS(ln[colon+1:])})
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

// nextLine splits the first line (without its CR LF or LF) off s.
func nextLine(s string) (line, rest string) {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return trimCR(s[:i]), s[i+1:]
	}
	return trimCR(s), ""
}

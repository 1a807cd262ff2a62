package sensitive

import (
	"encoding/json"
	"unicode/utf8"
)

// maxNesting is encoding/json's nesting limit: deeper input is not JSON.
const maxNesting = 10000

// RedactJSON returns body with every sensitive value replaced by its marker
// (see Redact), at most maxBytes long. String values are classified by value
// and by the name of their property (array elements take the array's name),
// and values holding a random token (ContainsRandom) are replaced too;
// any value under a secret-like name (password, api_key, access_token, ...)
// is replaced whole, whatever its type. Property names that are themselves
// sensitive (an e-mail used as a key) are replaced too. Insignificant white
// space is dropped. Output longer than maxBytes is cut (it is then no longer
// valid JSON; no secret is ever cut in half, since values are redacted
// before they are written).
//
// Invalid JSON (a truncated body, another format) is treated as text: every
// word that classifies or holds a random token, and every value after a
// secret-like "name=" or "name:", is replaced, and the result is cut at
// maxBytes.
func RedactJSON(body []byte, maxBytes int) []byte {
	if maxBytes <= 0 {
		return []byte{}
	}
	r := redactor{b: body, max: maxBytes, out: make([]byte, 0, min(len(body), maxBytes))}
	r.ws()
	ok := r.value(nil, 0, true)
	r.ws()
	if !ok || r.i != len(body) {
		return redactText(body, maxBytes)
	}
	return r.out
}

// AppendRedactedJSON appends RedactJSON(body, maxBytes) to dst and reports
// true when body is valid JSON and that result is valid JSON too: the
// whole redacted document fits in maxBytes. Otherwise it returns dst with
// its length unchanged (its capacity may have grown, for reuse) and false
// (invalid JSON is not redacted as text), and it stops
// early: once the output of an object or array is cut, it can no longer be
// valid. A caller keeping the first redacted body that fits as an example
// (package infer) so pays for a large body only up to maxBytes of output.
func AppendRedactedJSON(dst, body []byte, maxBytes int) ([]byte, bool) {
	if maxBytes <= 0 {
		return dst, false // RedactJSON gives empty output: never valid JSON
	}
	r := redactor{b: body, max: len(dst) + maxBytes, out: dst, fit: true}
	r.ws()
	container := r.i < len(body) && (body[r.i] == '{' || body[r.i] == '[')
	ok := r.value(nil, 0, true)
	r.ws()
	if !ok || r.i != len(body) || (r.full && container) || !json.Valid(r.out[len(dst):]) {
		return r.out[:len(dst)], false
	}
	return r.out, true
}

type redactor struct {
	b       []byte
	i       int
	out     []byte
	max     int
	scratch []byte
	// fit (AppendRedactedJSON) gives up once the output is cut: full is
	// then set and value reports failure.
	fit, full bool
}

func (r *redactor) emit(p []byte) { emitCapped(r, p) }

func (r *redactor) emitByte(c byte) {
	if len(r.out) < r.max {
		r.out = append(r.out, c)
	} else {
		r.full = r.fit
	}
}

func (r *redactor) emitString(p string) { emitCapped(r, p) }

// emitCapped appends p to the output, cut where it reaches max.
func emitCapped[S []byte | string](r *redactor, p S) {
	room := r.max - len(r.out)
	if len(p) > room {
		r.full = r.fit
		p = p[:max(room, 0)]
	}
	r.out = append(r.out, p...)
}

// emitMarker writes the JSON string of marker(t) without building it.
func (r *redactor) emitMarker(t Tag) {
	r.emitString(`"<redacted:`)
	first := true
	for i := 0; i < numTags; i++ {
		if t&(1<<i) != 0 {
			if !first {
				r.emitByte(',')
			}
			r.emitString(tagNames[i])
			first = false
		}
	}
	r.emitString(`>"`)
}

func (r *redactor) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// nameTag is the tag a secret-like name gives any non-empty value.
func nameTag(name []byte) Tag {
	if len(name) == 0 {
		return 0
	}
	return classifyName(name, "xxxxxxxx")
}

// value copies (or, with emit false, only checks) the value at r.i; name is
// the raw property name it belongs to. It reports whether the value was
// valid JSON.
func (r *redactor) value(name []byte, depth int, emit bool) bool {
	if r.i >= len(r.b) || r.full {
		return false
	}
	c := r.b[r.i]
	if emit && c != '"' && c != 'n' && c != 't' && c != 'f' {
		if t := nameTag(name); t != 0 {
			// A secret-like name: the whole value goes, whatever it is.
			r.emitMarker(t)
			return r.value(name, depth, false)
		}
	}
	switch c {
	case '{', '[':
		if depth >= maxNesting {
			return false
		}
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		r.i++
		if emit {
			r.emitByte(c)
		}
		r.ws()
		if r.i < len(r.b) && r.b[r.i] == closer {
			r.i++
			if emit {
				r.emitByte(closer)
			}
			return true
		}
		for {
			child := name
			if c == '{' {
				if r.i >= len(r.b) || r.b[r.i] != '"' {
					return false
				}
				raw, text, ok := r.str()
				if !ok {
					return false
				}
				if emit {
					t := classifyValue(text)
					if t == 0 && ContainsRandom(text) {
						t = RandomToken
					}
					if t != 0 {
						r.emitMarker(t)
					} else {
						r.emitByte('"')
						r.emit(raw)
						r.emitByte('"')
					}
				}
				child = raw
				r.ws()
				if r.i >= len(r.b) || r.b[r.i] != ':' {
					return false
				}
				r.i++
				if emit {
					r.emitByte(':')
				}
				r.ws()
			}
			if !r.value(child, depth+1, emit) {
				return false
			}
			r.ws()
			if r.i >= len(r.b) {
				return false
			}
			switch r.b[r.i] {
			case ',':
				r.i++
				if emit {
					r.emitByte(',')
				}
				r.ws()
			case closer:
				r.i++
				if emit {
					r.emitByte(closer)
				}
				return true
			default:
				return false
			}
		}
	case '"':
		raw, text, ok := r.str()
		if !ok {
			return false
		}
		if emit {
			t := classify(name, text)
			if t == 0 && ContainsRandom(text) {
				t = RandomToken // a reset token, an OAuth code: not reported, not kept either
			}
			if t != 0 {
				r.emitMarker(t)
			} else {
				r.emitByte('"')
				r.emit(raw)
				r.emitByte('"')
			}
		}
		return true
	case 't', 'f', 'n':
		want := "null"
		if c == 't' {
			want = "true"
		} else if c == 'f' {
			want = "false"
		}
		if len(r.b)-r.i < len(want) || string(r.b[r.i:r.i+len(want)]) != want {
			return false
		}
		r.i += len(want)
		if emit {
			r.emitString(want)
		}
		return true
	default:
		start := r.i
		if !r.num() {
			return false
		}
		if emit {
			r.emit(r.b[start:r.i])
		}
		return true
	}
}

// str reads the string at r.i and returns its raw contents (between the
// quotes), its decoded text (raw itself when it has no escapes) and whether
// it was valid.
func (r *redactor) str() (raw, text []byte, ok bool) {
	r.i++
	start := r.i
	escaped := false
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			raw = r.b[start:r.i]
			r.i++
			if !escaped {
				return raw, raw, true
			}
			r.scratch = UnescapeJSON(r.scratch[:0], raw)
			return raw, r.scratch, true
		case c == '\\':
			escaped = true
			if r.i+1 >= len(r.b) {
				return nil, nil, false
			}
			switch r.b[r.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				r.i += 2
			case 'u':
				if r.i+6 > len(r.b) {
					return nil, nil, false
				}
				for _, h := range r.b[r.i+2 : r.i+6] {
					if !isHexDigit(h) {
						return nil, nil, false
					}
				}
				r.i += 6
			default:
				return nil, nil, false
			}
		case c < 0x20:
			return nil, nil, false
		default:
			r.i++
		}
	}
	return nil, nil, false
}

func isHexDigit(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

func (r *redactor) num() bool {
	b := r.b
	if r.i < len(b) && b[r.i] == '-' {
		r.i++
	}
	if r.i >= len(b) || !isDigit(b[r.i]) {
		return false
	}
	if b[r.i] == '0' {
		r.i++
	} else {
		for r.i < len(b) && isDigit(b[r.i]) {
			r.i++
		}
	}
	if r.i < len(b) && b[r.i] == '.' {
		r.i++
		if r.i >= len(b) || !isDigit(b[r.i]) {
			return false
		}
		for r.i < len(b) && isDigit(b[r.i]) {
			r.i++
		}
	}
	if r.i < len(b) && (b[r.i] == 'e' || b[r.i] == 'E') {
		r.i++
		if r.i < len(b) && (b[r.i] == '+' || b[r.i] == '-') {
			r.i++
		}
		if r.i >= len(b) || !isDigit(b[r.i]) {
			return false
		}
		for r.i < len(b) && isDigit(b[r.i]) {
			r.i++
		}
	}
	return true
}

// UnescapeJSON appends the decoded form of a valid JSON string body (the
// bytes between the quotes) to dst. Lone surrogates decode to U+FFFD, as
// in encoding/json. Package schema shares it.
func UnescapeJSON(dst, raw []byte) []byte {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' || i+1 >= len(raw) {
			dst = append(dst, c)
			continue
		}
		i++
		switch raw[i] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(raw[i+1:])
			if !ok {
				return dst
			}
			i += 4
			if r >= 0xD800 && r < 0xDC00 && i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
				if r2, ok := hex4(raw[i+3:]); ok && r2 >= 0xDC00 && r2 < 0xE000 {
					r = (r-0xD800)<<10 + (r2 - 0xDC00) + 0x10000
					i += 6
				}
			}
			if r >= 0xD800 && r < 0xE000 {
				r = utf8.RuneError // a lone surrogate, as encoding/json decodes it
			}
			dst = utf8.AppendRune(dst, r)
		default:
			dst = append(dst, raw[i])
		}
	}
	return dst
}

// hex4 decodes four hexadecimal digits.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, h := range b[:4] {
		r <<= 4
		switch {
		case isDigit(h):
			r |= rune(h - '0')
		case 'a' <= h && h <= 'f':
			r |= rune(h - 'a' + 10)
		case 'A' <= h && h <= 'F':
			r |= rune(h - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

// redactText redacts free text: words (runs between white space, quotes and
// punctuation) that classify, and the value after a secret-like name
// followed by '=' or ':'. The result is cut at maxBytes.
func redactText(b []byte, maxBytes int) []byte {
	out := make([]byte, 0, min(len(b), maxBytes))
	emit := func(p []byte) {
		if room := maxBytes - len(out); room < len(p) {
			p = p[:max(room, 0)]
		}
		out = append(out, p...)
	}
	var prevName []byte
	bearer := false
	i := 0
	for i < len(b) && len(out) < maxBytes {
		if isDelim(b[i]) {
			emit(b[i : i+1])
			i++
			continue
		}
		j := i
		for j < len(b) && !isDelim(b[j]) {
			j++
		}
		word := b[i:j]
		// "-----BEGIN ... PRIVATE KEY-----": redact through the END line.
		if hasPrefix(b[i:], "-----BEGIN ") && isPrivateKey(b[i:min(len(b), i+64)]) {
			end := indexFrom(b, i+11, "-----END ")
			stop := len(b)
			if end >= 0 {
				if k := indexFrom(b, end+9, "-----"); k >= 0 {
					stop = k + 5
				}
			}
			emit([]byte(marker(PrivateKey)))
			i = stop
			prevName, bearer = nil, false
			continue
		}
		t := classifyValue(word)
		if t == 0 && ContainsRandom(word) {
			t = RandomToken
		}
		if bearer && len(word) >= 8 {
			t |= BearerToken
		}
		if prevName != nil {
			t |= classifyName(prevName, word)
		}
		if t != 0 {
			emit([]byte(marker(t)))
		} else {
			emit(word)
		}
		bearer = len(word) == 6 && hasPrefixFold(word, "bearer")
		prevName = nil
		// name= or name: (possibly quoted, with spaces) makes word a name.
		k := j
		for k < len(b) && (b[k] == '"' || b[k] == '\'' || b[k] == ' ') {
			k++
		}
		if k < len(b) && (b[k] == '=' || b[k] == ':') {
			prevName = word
		}
		i = j
	}
	return out
}

func isDelim(c byte) bool { return delims[c] }

// delims are the bytes between words of free text: a table, since every
// byte of every string value is looked up.
var delims = func() (t [256]bool) {
	for _, c := range []byte(" \t\r\n\"',;&{}[]<>=:\\") {
		t[c] = true
	}
	return t
}()

func indexFrom(b []byte, from int, sub string) int {
	for i := from; i+len(sub) <= len(b); i++ {
		if string(b[i:i+len(sub)]) == sub {
			return i
		}
	}
	return -1
}

package template

import (
	"net/url"
	"strings"

	"github.com/specter-dev/specter/infer/schema"
)

// Shape is what a single path segment value looks like on its own.
type Shape uint8

// Shapes, from "looks like a fixed word" to "clearly an identifier". Strong
// shapes are parameters even when seen once; ShapeName is weak evidence that
// needs siblings; ShapeWord needs strong structural evidence.
const (
	ShapeWord     Shape = iota // letters, dashes, underscores, camelCase: could be static
	ShapeEmpty                 // the empty segment of a trailing slash
	ShapeVersion               // v1, v2.1, 2.0: version prefixes
	ShapeName                  // letters mixed with digits: usernames, slugs, file names
	ShapeInteger               // decimal digits
	ShapeUUID                  // 8-4-4-4-12 hex, any version
	ShapeHex                   // hex strings with digits (shas, object ids)
	ShapeDate                  // 2024-01-31
	ShapeDateTime              // 2024-01-31T10:00:00Z
	ShapeEmail                 // a@b.c
	ShapePrefixed              // cus_8sJd2..., t_LZuD2kxL: a short prefix, "_" or "-", an opaque id
	ShapeToken                 // long mixed base62/base64url ids
	numShapes
)

var shapeNames = [...]string{"word", "empty", "version", "name", "integer", "uuid", "hex", "date", "date-time", "email", "prefixed", "token"}

// String returns the shape's lower-case name.
func (s Shape) String() string {
	if int(s) < len(shapeNames) {
		return shapeNames[s]
	}
	return "invalid"
}

// Strong reports whether a value of this shape is a parameter even when it is
// the only value ever seen at its position.
func (s Shape) Strong() bool { return s >= ShapeInteger }

// Variable reports whether the shape is evidence of a parameter at all
// (strong, or a name that needs siblings).
func (s Shape) Variable() bool { return s >= ShapeName }

// maxIntDigits is the most digits an integer value has: 2^53, the
// largest integer a JSON number (a float64) holds exactly, has 16, so
// APIs send ids that long as strings of digits, and so are they typed.
const maxIntDigits = 15

// Classify returns the shape of one path segment value (without extension
// handling: see SplitExt).
func Classify(s string) Shape {
	if s == "" {
		return ShapeEmpty
	}
	if strings.HasPrefix(s, "<redacted") {
		// A secret the model replaced by its marker before it reached the
		// trie (package sensitive): it was a value, a strong one.
		return ShapeToken
	}
	// The value is what the escapes encode: ann%40example.com is an
	// e-mail address, not an opaque token.
	if strings.IndexByte(s, '%') >= 0 {
		if u, err := url.PathUnescape(s); err == nil && u != "" {
			s = u
		}
	}
	var digits, lower, upper, dash, under, dot, other, hexLetters int
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'a' && c <= 'z':
			lower++
			if c <= 'f' {
				hexLetters++
			}
		case c >= 'A' && c <= 'Z':
			upper++
			if c <= 'F' {
				hexLetters++
			}
		case c == '-':
			dash++
		case c == '_':
			under++
		case c == '.':
			dot++
		default:
			other++
		}
	}
	n := len(s)
	letters := lower + upper
	switch {
	case digits == n && n > maxIntDigits:
		return ShapeToken // a digit string past what a JSON number holds exactly
	case digits == n:
		return ShapeInteger
	case strings.IndexByte(s, '@') > 0 && strings.IndexByte(s[strings.IndexByte(s, '@'):], '.') > 0:
		return ShapeEmail
	case len(s) == 36 && schema.Format(s) == schema.FormatUUID:
		return ShapeUUID
	case isDateTime(s):
		return ShapeDateTime
	case isDate(s):
		return ShapeDate
	case isVersion(s):
		return ShapeVersion
	}
	if other > 0 {
		// Percent-escapes, '~', '+', ':' and friends: ids and encoded values,
		// not route words. ":token" style literals stay words (they are what a
		// client sent verbatim from a template).
		if s[0] == ':' || s[0] == '{' || s[0] == '$' {
			return ShapeWord
		}
		if digits > 0 || n >= 16 {
			return ShapeToken
		}
		return ShapeWord
	}
	if digits > 0 && letters == hexLetters && dash == 0 && under == 0 && dot == 0 && n >= 7 {
		return ShapeHex // git shas (7 or 40), 24-hex object ids
	}
	if (dash > 0 || under > 0) && isPrefixed(s) { // a prefix ends at '_' or '-'
		return ShapePrefixed
	}
	if dash == 0 && under == 0 && dot == 0 && n >= 10 && digits > 0 && letters > 0 {
		// Opaque base62/base36 ids: mixed case with a digit, or long with
		// several digits (base36 lower-case ids).
		if (upper > 0 && lower > 0) || n >= 16 || digits >= 3 {
			return ShapeToken
		}
	}
	if n >= 24 && digits > 0 && dot == 0 {
		return ShapeToken // long base64url tokens with - and _
	}
	if digits > 0 && letters > 0 && isName(s, digits) {
		return ShapeName
	}
	if digits > 0 && letters == 0 {
		return ShapeName // 12-34, 1_2: numeric compounds
	}
	return ShapeWord
}

// isName reports whether a letters-and-digits value reads like a generated
// name (alice42, ops-959, bob_xop66) rather than a word that happens to hold
// a digit (oauth2, s3, ipv4, utf8).
func isName(s string, digits int) bool {
	run, maxRun := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			run++
			maxRun = max(maxRun, run)
		} else {
			run = 0
		}
	}
	if strings.IndexByte(s, '.') > 0 && !strings.ContainsAny(s, "-_") && versionTokenDigits(s) {
		return false // oauth.v2.access: a dotted method name with a version in it
	}
	if maxRun >= 2 || strings.ContainsAny(s, "-_") {
		return true // alice42, cli-4, web_7
	}
	letters := len(s) - digits
	return letters >= 6 || digits >= 2 && letters >= 2 // 1b2aa9, x509
}

// versionTokenDigits reports whether every digit of a dotted value is in
// a version-like token (v2, v1beta1) between the dots.
func versionTokenDigits(s string) bool {
	for tok := range strings.SplitSeq(s, ".") {
		if strings.ContainsAny(tok, "0123456789") && !isVersion(tok) {
			return false
		}
	}
	return true
}

func digitsAt(s string, i, n int) bool {
	if i+n > len(s) {
		return false
	}
	for j := i; j < i+n; j++ {
		if s[j] < '0' || s[j] > '9' {
			return false
		}
	}
	return true
}

// isDate matches YYYY-MM-DD.
func isDate(s string) bool {
	return len(s) == 10 && digitsAt(s, 0, 4) && s[4] == '-' && digitsAt(s, 5, 2) && s[7] == '-' && digitsAt(s, 8, 2)
}

// isDateTime matches an RFC 3339 date-time, loosely (any time suffix after T).
func isDateTime(s string) bool {
	return len(s) > 11 && isDate(s[:10]) && (s[10] == 'T' || s[10] == 't') && digitsAt(s, 11, 2)
}

// isVersion matches v1, V2, v1.2, v2beta1, 1.0, 2.0.1.
func isVersion(s string) bool {
	if len(s) >= 2 && (s[0] == 'v' || s[0] == 'V') && s[1] >= '0' && s[1] <= '9' {
		rest := s[1:]
		for i := 0; i < len(rest); i++ {
			c := rest[i]
			if !(c >= '0' && c <= '9' || c == '.' || c >= 'a' && c <= 'z') {
				return false
			}
		}
		return len(s) <= 12
	}
	// 1.0, 2.0.1: digits separated by dots.
	if len(s) < 3 || len(s) > 9 {
		return false
	}
	dots := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			if i == 0 || i == len(s)-1 || s[i-1] == '.' {
				return false
			}
			dots++
		case c < '0' || c > '9':
			return false
		}
	}
	return dots > 0
}

// isPrefixed matches cus_8sJd2KqL, t_LZuD2kxL3vPx, sk-live-...: a short
// lower-case alphabetic prefix, '_' or '-', then an opaque alphanumeric tail
// that holds a digit or mixed case and is long enough to be an id.
func isPrefixed(s string) bool {
	i := strings.IndexAny(s, "_-")
	if i < 1 || i > 8 {
		return false
	}
	for j := 0; j < i; j++ {
		if c := s[j]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	tail := s[i+1:]
	if len(tail) < 6 {
		return false
	}
	var digits, lower, upper int
	for j := 0; j < len(tail); j++ {
		switch c := tail[j]; {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'a' && c <= 'z':
			lower++
		case c >= 'A' && c <= 'Z':
			upper++
		default:
			return false
		}
	}
	if digits == len(tail) {
		return true // ord_123456
	}
	return (upper > 0 && lower > 0) || (digits >= 2 && len(tail) >= 8)
}

// SplitExt splits a file-like extension off a segment: "42.json" ->
// ("42", ".json"). The extension is a dot, a letter and up to four more
// letters or digits, after a non-empty stem; versions and emails have none.
func SplitExt(s string) (stem, ext string) {
	i := strings.LastIndexByte(s, '.')
	if i <= 0 || i == len(s)-1 || len(s)-i > 6 {
		return s, ""
	}
	if c := s[i+1]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return s, ""
	}
	for j := i + 2; j < len(s); j++ {
		if c := s[j]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return s, ""
		}
	}
	if strings.IndexByte(s, '@') >= 0 || strings.Contains(s, "%40") {
		return s, "" // an e-mail address (escaped or not): .com is its domain
	}
	return s[:i], s[i:]
}

// SplitVerb splits a custom-method suffix off a segment:
// "key_8sJd2KqLmN:disable" -> ("key_8sJd2KqLmN", ":disable"), the
// /resources/{id}:verb style of Google-like APIs. The verb is ASCII
// letters after the last ':'; the stem must look like a value (a name or
// an id), so that literal words with a colon are left whole.
func SplitVerb(s string) (stem, verb string) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 || len(s)-i < 3 || len(s)-i > 33 {
		return s, ""
	}
	for j := i + 1; j < len(s); j++ {
		if c := s[j]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return s, ""
		}
	}
	if !Classify(s[:i]).Variable() {
		return s, ""
	}
	return s[:i], s[i:]
}

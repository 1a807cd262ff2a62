package schema

import (
	"net/netip"

	"github.com/specter-dev/specter/infer/sensitive"
)

// text is what the matchers accept, so that the JSON scanner can test the
// bytes it holds without allocating a string per value.
type text interface{ ~string | ~[]byte }

// String formats reported by Format.
const (
	FormatDateTime = "date-time"
	FormatDate     = "date"
	FormatEmail    = "email"
	FormatUUID     = "uuid"
	FormatURI      = "uri"
	FormatIPv4     = "ipv4"
	FormatIPv6     = "ipv6"
	// FormatBinary is never returned by Format: it marks file parts of
	// multipart bodies.
	FormatBinary = "binary"
)

// Format returns the OpenAPI format of a string value: "uuid", "date",
// "date-time" (RFC 3339), "email", "uri" (absolute, with "://", or urn:/
// mailto:), "ipv4", "ipv6", or "" when it has none of them. It is the one
// definition of formats used by schema inference everywhere.
func Format(s string) string { return format(s) }

func format[T text](s T) string {
	n := len(s)
	if n < 2 || n > 2048 {
		return ""
	}
	c := s[0]
	switch {
	case n == 36 && isUUID(s):
		return FormatUUID
	case n == 10 && isDigit(c) && isDate(s):
		return FormatDate
	case n >= 20 && isDigit(c) && isDateTime(s):
		return FormatDateTime
	}
	at, colon, dot := false, false, false
	for i := 0; i < n; i++ {
		switch s[i] {
		case '@':
			at = true
		case ':':
			colon = true
		case '.':
			dot = true
		}
	}
	if at && sensitive.IsEmail(s) {
		return FormatEmail
	}
	if colon && isAlpha(c) && isURI(s) {
		return FormatURI
	}
	if (dot || colon) && n <= 45 {
		switch ipVersion(s) {
		case 4:
			return FormatIPv4
		case 6:
			return FormatIPv6
		}
	}
	return ""
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlpha(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }
func isHex(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// isUUID: 8-4-4-4-12 hexadecimal digits, any version or variant.
func isUUID[T text](s T) bool {
	for i := 0; i < 36; i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

func num[T text](s T, i, n int) (int, bool) {
	v := 0
	for j := i; j < i+n; j++ {
		if !isDigit(s[j]) {
			return 0, false
		}
		v = v*10 + int(s[j]-'0')
	}
	return v, true
}

// isDate: full-date of RFC 3339 (YYYY-MM-DD) with a day valid for the month.
func isDate[T text](s T) bool {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	y, ok1 := num(s, 0, 4)
	m, ok2 := num(s, 5, 2)
	d, ok3 := num(s, 8, 2)
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m-1]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return d <= days
}

// isDateTime: RFC 3339 date-time: full-date "T" partial-time [frac]
// (Z | ±hh:mm). A space instead of T is not accepted (not RFC 3339 strict).
func isDateTime[T text](s T) bool {
	if len(s) < 20 || !isDate(s) || (s[10] != 'T' && s[10] != 't') {
		return false
	}
	if s[13] != ':' || s[16] != ':' {
		return false
	}
	h, ok1 := num(s, 11, 2)
	mi, ok2 := num(s, 14, 2)
	se, ok3 := num(s, 17, 2)
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || se > 60 {
		return false
	}
	i := 19
	if s[i] == '.' {
		i++
		start := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == start || i-start > 9 {
			return false
		}
	}
	if i >= len(s) {
		return false
	}
	switch s[i] {
	case 'Z', 'z':
		return i+1 == len(s)
	case '+', '-':
		if len(s)-i != 6 || s[i+3] != ':' {
			return false
		}
		oh, ok1 := num(s, i+1, 2)
		om, ok2 := num(s, i+4, 2)
		return ok1 && ok2 && oh <= 23 && om <= 59
	}
	return false
}

// isURI: scheme ":" and then either "//" with a non-empty authority, or the
// urn:/mailto: schemes; no spaces or control characters anywhere. Bare
// "a:b" strings (namespaced ids, times) are not URIs for this purpose.
func isURI[T text](s T) bool {
	i := 0
	for i < len(s) && (isAlpha(s[i]) || (i > 0 && (isDigit(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))) {
		i++
	}
	if i == 0 || i >= len(s) || s[i] != ':' || i > 32 {
		return false
	}
	for j := i; j < len(s); j++ {
		switch c := s[j]; {
		case c <= ' ' || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' || c == '{' || c == '}' || c == '|' || c == '^' || c == '`':
			return false
		case c == '%':
			// Percent-encoding: two hexadecimal digits.
			if j+2 >= len(s) || !isHex(s[j+1]) || !isHex(s[j+2]) {
				return false
			}
		}
	}
	rest := s[i+1:]
	if len(rest) > 2 && rest[0] == '/' && rest[1] == '/' {
		end := 2
		for end < len(rest) && rest[end] != '/' && rest[end] != '?' && rest[end] != '#' {
			end++
		}
		return validAuthority(rest[2:end])
	}
	scheme := s[:i]
	return (len(scheme) == 3 && lowerEq(scheme, "urn") || len(scheme) == 6 && lowerEq(scheme, "mailto")) && len(rest) > 0
}

// validAuthority checks [userinfo@]host[:port]: a non-empty registered name
// (unreserved and sub-delimiter characters, no percent-encoding) or a
// bracketed IP literal, and a decimal port.
func validAuthority[T text](a T) bool {
	for j := len(a) - 1; j >= 0; j-- {
		if a[j] == '@' {
			a = a[j+1:]
			break
		}
	}
	if len(a) == 0 {
		return false
	}
	port := a[:0]
	if a[0] == '[' {
		end := -1
		for j := 1; j < len(a); j++ {
			if a[j] == ']' {
				end = j
				break
			}
		}
		if end < 0 || ipVersion(a[1:end]) != 6 {
			return false
		}
		if rest := a[end+1:]; len(rest) > 0 {
			if rest[0] != ':' {
				return false
			}
			port = rest[1:]
		}
	} else {
		host := a
		for j := len(a) - 1; j >= 0; j-- {
			if a[j] == ':' {
				host, port = a[:j], a[j+1:]
				break
			}
		}
		if len(host) == 0 {
			return false
		}
		for j := 0; j < len(host); j++ {
			c := host[j]
			if !(isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '!' || c == '$' ||
				c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' || c == '+' || c == ',' || c == ';' || c == '=') {
				return false
			}
		}
	}
	for j := 0; j < len(port); j++ {
		if !isDigit(port[j]) {
			return false
		}
	}
	return true
}

func lowerEq[T text](s T, want string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != want[i] {
			return false
		}
	}
	return true
}

// ipVersion returns 4 or 6 when s is an IPv4 address (dotted quad) or an
// IPv6 address without zone, else 0.
func ipVersion[T text](s T) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isHex(c) || c == '.' || c == ':') {
			return 0
		}
	}
	a, err := netip.ParseAddr(string(s))
	switch {
	case err != nil:
		return 0
	case a.Is4():
		return 4
	case a.Zone() == "":
		return 6
	}
	return 0
}

package sensitive

import "encoding/base64"

// text is what the matchers accept, so that callers holding bytes (a JSON
// scanner) need not allocate a string per value.
type text interface{ ~string | ~[]byte }

// maxValueLen bounds the values the value rules look at: longer values are
// documents, not identifiers (private keys are checked by prefix only).
const maxValueLen = 4096

// Classify returns the kinds of sensitive data that value is, given the name
// of the field, parameter or header it was found under (may be "").
// Value rules check shape and checksums; name rules apply only to
// secret-like names (password, secret, api_key, access_token, ...) and only
// when value is not empty.
func Classify(name, value string) Tag {
	return classify(name, value)
}

// ClassifyBytes is Classify for callers that hold bytes; it does not allocate.
func ClassifyBytes(name, value []byte) Tag {
	return classify(name, value)
}

// ClassifyNameBytes is the name rules of ClassifyBytes alone, for a name
// of the given rule (NameRuleBytes): the kinds value is because of the
// name it was found under (empty values are none).
func ClassifyNameBytes(rule NameRule, value []byte) Tag {
	if len(value) > 0 {
		return rule.tag(value)
	}
	return 0
}

// ClassifyValueBytes is ClassifyBytes for a value whose name's rule is
// already known (NameRuleBytes(name)): callers seeing many values under
// one name (a JSON property in every element of an array) look the name
// up once.
func ClassifyValueBytes(rule NameRule, value []byte) Tag {
	var t Tag
	if len(value) > 0 {
		t = rule.tag(value)
	}
	return t | classifyValue(value)
}

func classify[N, V text](name N, value V) Tag {
	var t Tag
	if len(value) > 0 && len(name) > 0 {
		t = classifyName(name, value)
	}
	return t | classifyValue(value)
}

// classifyName applies the field-name rules.
func classifyName[N, V text](name N, value V) Tag {
	return ruleTag(nameRule(name), value)
}

// NameRule is which field-name rule a name falls under, before its value
// is looked at (see Classify): secret-like names flag their values.
type NameRule uint8

// The field-name rules; NoNameRule for the names no rule applies to.
const (
	NoNameRule NameRule = iota
	ruleAWSSecret
	ruleCVV
	rulePassword
	ruleKey
	ruleToken
)

// NameRuleBytes returns the rule name falls under; "" falls under none.
func NameRuleBytes(name []byte) NameRule { return nameRule(name) }

func nameRule[N text](name N) NameRule {
	// Normalize: lower case without separators, keeping the last 48 bytes
	// (suffixes carry the meaning: newPassword, client_secret).
	var buf [48]byte
	n := 0
	for i := len(name) - 1; i >= 0 && n < len(buf); i-- {
		c := name[i]
		switch {
		case c == '_' || c == '-' || c == '.' || c == ' ':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		n++
		buf[len(buf)-n] = c
	}
	k := string(buf[len(buf)-n:]) // does not escape; compared only
	switch {
	case contains(k, "aws") && contains(k, "secret"):
		return ruleAWSSecret
	case k == "cvv" || k == "cvc" || k == "cvv2" || k == "cvc2" || hasSuffix(k, "cvv") || hasSuffix(k, "cvc") ||
		hasSuffix(k, "cvv2") || hasSuffix(k, "cvc2") || hasSuffix(k, "securitycode") || contains(k, "cardverification"):
		return ruleCVV
	case k == "password" || k == "passwd" || k == "pwd" || k == "pass" || k == "passphrase" ||
		k == "secret" || hasSuffix(k, "password") || hasSuffix(k, "passwd") || hasSuffix(k, "secret"):
		return rulePassword
	case k == "apikey" || k == "apisecret" || k == "secretkey" || k == "privatekey" ||
		hasSuffix(k, "apikey") || hasSuffix(k, "secretkey") || hasSuffix(k, "privatekey"):
		return ruleKey
	case k == "token" || k == "accesstoken" || k == "refreshtoken" || k == "idtoken" ||
		k == "authtoken" || k == "sessiontoken" || k == "bearertoken" || k == "bearer" ||
		hasSuffix(k, "accesstoken") || hasSuffix(k, "refreshtoken") || hasSuffix(k, "authtoken"):
		return ruleToken
	}
	return NoNameRule
}

// tag is the kind a value under a name of rule r is.
func (r NameRule) tag(value []byte) Tag { return ruleTag(r, value) }

func ruleTag[V text](r NameRule, value V) Tag {
	switch r {
	case ruleAWSSecret:
		return AWSSecret
	case ruleCVV:
		// Card verification codes: any value (PCI DSS forbids storing them).
		if isPlaceholder(value) {
			return 0
		}
		return CVV
	case rulePassword:
		// Passwords may be anything, spaces included.
		if isPlaceholder(value) {
			return 0
		}
		return Password
	case ruleKey:
		// Keys are one word; prose under such a name is a description.
		if isPlaceholder(value) || hasSpace(value) {
			return 0
		}
		return Password
	case ruleToken:
		if len(value) >= 8 && !hasSpace(value) {
			return BearerToken
		}
	}
	return 0
}

// isPlaceholder reports values that are obviously not a secret (booleans),
// so that {"has_password": "true"}-like fields are not flagged.
func isPlaceholder[V text](v V) bool {
	s := v
	return string(s) == "true" || string(s) == "false" || string(s) == "null"
}

func hasSpace[T text](s T) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '\t' || s[i] == '\n' {
			return true
		}
	}
	return false
}

func contains[T text](s T, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if string(s[i:i+len(sub)]) == sub {
			return true
		}
	}
	return false
}

func hasSuffix[T text](s T, suf string) bool {
	return len(s) >= len(suf) && string(s[len(s)-len(suf):]) == suf
}

func hasPrefix[T text](s T, pre string) bool {
	return len(s) >= len(pre) && string(s[:len(pre)]) == pre
}

func hasPrefixFold[T text](s T, pre string) bool {
	if len(s) < len(pre) {
		return false
	}
	for i := 0; i < len(pre); i++ {
		if lower(s[i]) != lower(pre[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// classifyValue applies the value rules: to the whole value, and to the
// words of free text (see classifyText).
func classifyValue[V text](v V) Tag {
	if len(v) < 6 {
		return 0
	}
	if hasPrefix(v, "-----BEGIN ") {
		if isPrivateKey(v) {
			return PrivateKey
		}
		return 0
	}
	if t := classifyWord(v); t != 0 {
		return t
	}
	if indexDelim(v) >= 0 {
		return classifyText(v)
	}
	return 0
}

// textKinds are the kinds classifyText reports: the secrets that have a
// shape of their own. Numbers in prose (order ids, amounts) are not read as
// cards or telephone numbers.
const textKinds = JWT | AWSAccessKey | GCPAPIKey | GitHubToken | SlackToken | PrivateKey | APIKey |
	Password | AWSSecret | BearerToken | CVV

// classifyText finds secrets inside free text ("my key is sk_live_…",
// "token=…", a PEM block in a message): each word (a run between white
// space, quotes and punctuation, as in redactText) by the value rules, a
// word after a secret-like "name=" or "name:" by the name rules, and a
// private key block anywhere. It reads any length: a secret at the start
// of a long text is as secret.
func classifyText[V text](v V) Tag {
	var t Tag
	var prev V // the word before '=' or ':', if any
	named, bearer := false, false
	for i := 0; i < len(v); {
		if isDelim(v[i]) {
			i++
			continue
		}
		j := i
		for j < len(v) && !isDelim(v[j]) {
			j++
		}
		w := v[i:j]
		if hasPrefix(w, "-----BEGIN") && isPrivateKey(v[i:min(len(v), i+64)]) {
			t |= PrivateKey
		}
		t |= classifyWord(w)
		if named && isAlpha(prev[len(prev)-1]) {
			// Names end in a letter (password, api_key): "10:30" is no name.
			t |= classifyName(prev, w)
		}
		if bearer && isToken68(w) {
			t |= BearerToken
		}
		bearer = len(w) == 6 && hasPrefixFold(w, "bearer")
		named = false
		if k := skipQuotes(v, j); k < len(v) && (v[k] == '=' || v[k] == ':') {
			prev, named = w, true
		}
		i = j
	}
	return t & textKinds
}

func skipQuotes[V text](v V, k int) int {
	for k < len(v) && (v[k] == '"' || v[k] == '\'' || v[k] == ' ') {
		k++
	}
	return k
}

func indexDelim[V text](v V) int {
	for i := 0; i < len(v); i++ {
		if isDelim(v[i]) {
			return i
		}
	}
	return -1
}

// classifyWord applies the value rules to one value as a whole.
func classifyWord[V text](v V) Tag {
	if len(v) < 6 || len(v) > maxValueLen {
		return 0
	}
	if isAPIKey(v) {
		return APIKey
	}
	switch c := v[0]; {
	case c == 'B' || c == 'b':
		if hasPrefixFold(v, "bearer ") && isToken68(v[7:]) {
			t := BearerToken
			if IsJWT(v[7:]) {
				t |= JWT
			}
			return t
		}
	case c == 'e':
		if IsJWT(v) {
			return JWT
		}
	case c == 'A':
		if isAWSAccessKey(v) {
			return AWSAccessKey
		}
		if isGCPKey(v) {
			return GCPAPIKey
		}
	case c == 'g':
		if isGitHubToken(v) {
			return GitHubToken
		}
	case c == 'x':
		if isSlackToken(v) {
			return SlackToken
		}
	}
	if c := v[0]; isAlpha(c) && !(len(v) >= 15 && isIBANStart(v)) {
		// Text: of the remaining kinds only an e-mail address can start
		// with a letter (IBANs start with two capitals and two digits).
		if indexByte(v, '@') >= 0 && IsEmail(v) {
			return Email
		}
		return 0
	}
	var t Tag
	at, digits, other, letters := 0, 0, 0, 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case '0' <= c && c <= '9':
			digits++
		case c == '@':
			at++
		case ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z'):
			letters++
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '+':
		default:
			other++
		}
	}
	if at == 1 && IsEmail(v) {
		return Email
	}
	if at > 0 {
		return 0
	}
	if letters == 0 && other == 0 && digits >= 8 {
		if isCard(v, digits) {
			t |= Card
		} else if isSSN(v) {
			t |= SSN
		} else if isPhone(v, digits) {
			t |= Phone
		}
		return t
	}
	if other == 0 && letters >= 2 && digits >= 2 && isIBAN(v) {
		return IBAN
	}
	return 0
}

func isIBANStart[V text](v V) bool {
	return 'A' <= v[0] && v[0] <= 'Z' && 'A' <= v[1] && v[1] <= 'Z' && isDigit(v[2]) && isDigit(v[3])
}

func indexByte[V text](v V, c byte) int {
	for i := 0; i < len(v); i++ {
		if v[i] == c {
			return i
		}
	}
	return -1
}

// IsEmail reports whether s is an e-mail address (addr-spec with a dotted
// domain and an alphabetic top-level label; no display names, no quoted
// local parts).
func IsEmail[V text](s V) bool {
	if len(s) < 6 || len(s) > 254 {
		return false
	}
	at := -1
	for i := 0; i < len(s); i++ {
		if s[i] == '@' {
			if at >= 0 {
				return false
			}
			at = i
		}
	}
	if at < 1 || at > 64 || at >= len(s)-4 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	prev := byte('.')
	for i := 0; i < len(local); i++ {
		c := local[i]
		switch {
		case isAlnum(c) || c == '_' || c == '-' || c == '+' || c == '%' || c == '\'':
		case c == '.':
			if prev == '.' {
				return false // leading or double dot
			}
		default:
			return false
		}
		prev = c
	}
	if prev == '.' {
		return false
	}
	labels, labelLen := 0, 0
	for i := 0; i <= len(domain); i++ {
		if i == len(domain) || domain[i] == '.' {
			if labelLen == 0 || labelLen > 63 || domain[i-1] == '-' || domain[i-labelLen] == '-' {
				return false
			}
			labels++
			labelLen = 0
			continue
		}
		c := domain[i]
		if !isAlnum(c) && c != '-' {
			return false
		}
		labelLen++
	}
	if labels < 2 {
		return false
	}
	// The top-level label: letters only, at least two.
	last := 0
	for i := len(domain) - 1; i >= 0 && domain[i] != '.'; i-- {
		if !isAlpha(domain[i]) {
			return false
		}
		last++
	}
	return last >= 2
}

func isAlpha(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlnum(c byte) bool { return isAlpha(c) || isDigit(c) }
func isB64URL(c byte) bool {
	return isAlnum(c) || c == '-' || c == '_'
}

// IsJWT reports whether s is a JWS compact serialization whose header is a
// JSON object with an "alg" member. The signature segment may be empty
// (alg none); the header must decode.
func IsJWT[V text](s V) bool {
	if len(s) < 20 || !hasPrefix(s, "eyJ") {
		return false
	}
	dots := [2]int{-1, -1}
	nd := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			if nd == 2 {
				return false
			}
			dots[nd] = i
			nd++
			continue
		}
		if !isB64URL(c) && c != '=' {
			return false
		}
	}
	if nd != 2 || dots[0] < 4 || dots[1]-dots[0] < 2 {
		return false
	}
	return jwtHeaderHasAlg(s[:dots[0]])
}

func jwtHeaderHasAlg[V text](seg V) bool {
	var in [512]byte
	var out [384]byte
	if len(seg) > len(in) {
		return false
	}
	n := copy(in[:], seg)
	for n > 0 && in[n-1] == '=' {
		n--
	}
	m, err := base64.RawURLEncoding.Decode(out[:], in[:n])
	if err != nil {
		return false
	}
	h := out[:m]
	return len(h) > 2 && h[0] == '{' && contains(h, `"alg"`)
}

// isToken68 reports whether s is an RFC 9110 token68 (the credentials of an
// Authorization scheme) of a credible length: one word of
// [A-Za-z0-9-._~+/] with optional trailing '='.
func isToken68[V text](s V) bool {
	if len(s) < 12 {
		return false
	}
	eq := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '=':
			eq = true
		case eq:
			return false
		case isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/':
		default:
			return false
		}
	}
	return true
}

func isAWSAccessKey[V text](s V) bool {
	if len(s) != 20 || !(hasPrefix(s, "AKIA") || hasPrefix(s, "ASIA")) {
		return false
	}
	for i := 4; i < len(s); i++ {
		c := s[i]
		if !(('A' <= c && c <= 'Z') || ('2' <= c && c <= '7') || isDigit(c)) {
			return false
		}
	}
	return true
}

func isGCPKey[V text](s V) bool {
	if len(s) != 39 || !hasPrefix(s, "AIza") {
		return false
	}
	for i := 4; i < len(s); i++ {
		if !isB64URL(s[i]) {
			return false
		}
	}
	return true
}

func isGitHubToken[V text](s V) bool {
	rest := 0
	switch {
	case hasPrefix(s, "github_pat_"):
		rest = len(s) - 11
		if rest < 50 {
			return false
		}
		for i := 11; i < len(s); i++ {
			if !isAlnum(s[i]) && s[i] != '_' {
				return false
			}
		}
		return true
	case len(s) == 40 && (hasPrefix(s, "ghp_") || hasPrefix(s, "gho_") || hasPrefix(s, "ghu_") ||
		hasPrefix(s, "ghs_") || hasPrefix(s, "ghr_")):
		for i := 4; i < len(s); i++ {
			if !isAlnum(s[i]) {
				return false
			}
		}
		return true
	}
	return false
}

func isSlackToken[V text](s V) bool {
	if len(s) < 15 || !(hasPrefix(s, "xoxb-") || hasPrefix(s, "xoxp-") || hasPrefix(s, "xoxa-") ||
		hasPrefix(s, "xoxo-") || hasPrefix(s, "xoxs-") || hasPrefix(s, "xoxr-") || hasPrefix(s, "xapp-")) {
		return false
	}
	digits := 0
	for i := 5; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '-' {
			return false
		}
		if isDigit(c) {
			digits++
		}
	}
	return digits >= 4
}

func isPrivateKey[V text](s V) bool {
	// "-----BEGIN [RSA |EC |OPENSSH |ENCRYPTED ]PRIVATE KEY-----"
	end := -1
	for i := 11; i+5 <= len(s) && i < 64; i++ {
		if string(s[i:i+5]) == "-----" {
			end = i
			break
		}
	}
	return end > 0 && hasSuffix(s[:end], "PRIVATE KEY")
}

// isCard: 13-19 digits, optionally grouped by single spaces or dashes,
// a known issuer prefix, and a valid Luhn check digit.
func isCard[V text](s V, digits int) bool {
	if digits < 13 || digits > 19 {
		return false
	}
	var d [19]byte
	n := 0
	var sep byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isDigit(c) {
			d[n] = c - '0'
			n++
			continue
		}
		if c != ' ' && c != '-' || i == 0 || !isDigit(s[i-1]) || (sep != 0 && c != sep) {
			return false
		}
		sep = c
	}
	if !knownIIN(d[:n]) {
		return false
	}
	same := true
	for i := 1; i < n; i++ {
		if d[i] != d[0] {
			same = false
		}
	}
	if same {
		return false
	}
	sum := 0
	for i := 0; i < n; i++ {
		x := int(d[n-1-i])
		if i%2 == 1 {
			x *= 2
			if x > 9 {
				x -= 9
			}
		}
		sum += x
	}
	return sum%10 == 0
}

// knownIIN checks the issuer identification prefix against the major
// networks (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay,
// Maestro), which removes most Luhn-valid identifiers that are not cards.
func knownIIN(d []byte) bool {
	p2 := int(d[0])*10 + int(d[1])
	p4 := p2*100 + int(d[2])*10 + int(d[3])
	n := len(d)
	switch {
	case d[0] == 4:
		return n == 13 || n == 16 || n == 19 // Visa
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720:
		return n == 16 // Mastercard
	case p2 == 34 || p2 == 37:
		return n == 15 // Amex
	case p4 == 6011 || p2 == 65 || (p4/10 >= 644 && p4/10 <= 649):
		return n >= 16 // Discover
	case p4 >= 3528 && p4 <= 3589:
		return n >= 16 // JCB
	case p2 == 36 || p2 == 38 || (p4/10 >= 300 && p4/10 <= 305):
		return n >= 14 // Diners
	case p2 == 62:
		return n >= 16 // UnionPay
	case p2 == 50 || (p2 >= 56 && p2 <= 69):
		return n >= 12 // Maestro
	}
	return false
}

// isSSN: AAA-GG-SSSS (dashes or spaces, not bare nine digits, which any
// identifier can be), with the SSA validity rules: area not 000, 666 or
// 900-999; group not 00; serial not 0000.
func isSSN[V text](s V) bool {
	if len(s) != 11 || (s[3] != '-' && s[3] != ' ') || s[6] != s[3] {
		return false
	}
	var x [9]int
	n := 0
	for i := 0; i < 11; i++ {
		if i == 3 || i == 6 {
			continue
		}
		if !isDigit(s[i]) {
			return false
		}
		x[n] = int(s[i] - '0')
		n++
	}
	area := x[0]*100 + x[1]*10 + x[2]
	group := x[3]*10 + x[4]
	serial := x[5]*1000 + x[6]*100 + x[7]*10 + x[8]
	return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

// isPhone: E.164-like "+" and 8-15 digits with common separators, or a
// NANP number written with separators: (NXX) NXX-XXXX, NXX-NXX-XXXX,
// NXX.NXX.XXXX, NXX NXX XXXX. Bare digit runs are not phones.
func isPhone[V text](s V, digits int) bool {
	if s[0] == '+' {
		if digits < 8 || digits > 15 || len(s) < 2 || s[1] < '1' || s[1] > '9' {
			return false
		}
		parens := 0
		for i := 1; i < len(s); i++ {
			c := s[i]
			switch c {
			case '+':
				return false
			case '(':
				parens++
			case ')':
				parens--
			case ' ', '-', '.':
				if !isDigit(s[i-1]) && s[i-1] != ')' {
					return false // no doubled separators
				}
			}
			if parens < 0 || parens > 1 {
				return false
			}
		}
		return parens == 0
	}
	if digits != 10 {
		return false
	}
	var g [3]int // digit-group lengths
	groups := 0
	inGroup := false
	var sep byte
	paren := s[0] == '('
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isDigit(c) {
			if !inGroup {
				if groups == 3 {
					return false
				}
				groups++
				inGroup = true
			}
			g[groups-1]++
			continue
		}
		inGroup = false
		switch {
		case c == '(' && i == 0, c == ')' && paren && i == 4:
		case c == ' ' && paren && i == 5:
		case c == '-' || c == '.' || c == ' ':
			if sep != 0 && c != sep && !(paren && i == 9) {
				return false
			}
			if !paren {
				sep = c
			}
		default:
			return false
		}
	}
	if groups != 3 || g[0] != 3 || g[1] != 3 || g[2] != 4 {
		return false
	}
	// Area code and exchange start with 2-9.
	first := func(k int) byte {
		seen := 0
		for i := 0; i < len(s); i++ {
			if isDigit(s[i]) {
				if seen == k {
					return s[i]
				}
				seen++
			}
		}
		return 0
	}
	return first(0) >= '2' && first(3) >= '2'
}

// ibanLen is the IBAN length by country (ISO 13616 registry, main countries).
var ibanLen = map[string]int{
	"AD": 24, "AE": 23, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
	"CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "ES": 24,
	"FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
	"HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
	"LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
	"MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25,
	"QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TN": 24,
	"TR": 26, "UA": 29, "VG": 24, "XK": 20,
}

// isIBAN: country code, two check digits, the country's length (spaces in
// groups of four allowed), and the ISO 7064 mod-97 check.
func isIBAN[V text](s V) bool {
	if len(s) < 15 || len(s) > 42 {
		return false
	}
	var b [34]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			continue
		}
		if n == len(b) || !(isDigit(c) || ('A' <= c && c <= 'Z')) {
			return false
		}
		b[n] = c
		n++
	}
	if n < 15 || !isAlpha(b[0]) || !isAlpha(b[1]) || !isDigit(b[2]) || !isDigit(b[3]) {
		return false
	}
	if want, ok := ibanLen[string(b[:2])]; !ok || want != n {
		return false
	}
	rem := 0
	for i := 0; i < n; i++ {
		c := b[(i+4)%n]
		if isDigit(c) {
			rem = (rem*10 + int(c-'0')) % 97
		} else {
			v := int(c-'A') + 10
			rem = (rem*100 + v) % 97
		}
	}
	return rem == 1
}

// apiKeyPrefixes are the prefixes services give their secret keys, with the
// length of the random tail that must follow (at least).
var apiKeyPrefixes = []struct {
	prefix string
	tail   int
}{
	{"sk_live_", 16}, {"sk_test_", 16}, {"rk_live_", 16}, {"rk_test_", 16}, {"whsec_", 16}, // Stripe
	{"sk-ant-", 20}, {"sk-proj-", 20}, // Anthropic, OpenAI
	{"glpat-", 20},                                                 // GitLab
	{"npm_", 36},                                                   // npm
	{"shpat_", 32}, {"shpss_", 32}, {"shpca_", 32}, {"shppa_", 32}, // Shopify
	{"dop_v1_", 64}, // DigitalOcean
	{"pypi-AgE", 50},
}

// minAPIKeyLen is the shortest prefix and tail of apiKeyPrefixes.
const minAPIKeyLen = 22

// isAPIKey reports a known service's secret key: its prefix, then a tail of
// [A-Za-z0-9_-], at least as long as listed, holding a digit.
func isAPIKey[V text](s V) bool {
	if len(s) < minAPIKeyLen {
		return false
	}
	switch s[0] {
	case 's', 'r', 'w', 'g', 'n', 'd', 'p':
	default:
		return false
	}
	for _, k := range apiKeyPrefixes {
		if len(s) < len(k.prefix)+k.tail || !hasPrefix(s, k.prefix) {
			continue
		}
		digits := 0
		for i := len(k.prefix); i < len(s); i++ {
			c := s[i]
			if !isB64URL(c) {
				return false
			}
			if isDigit(c) {
				digits++
			}
		}
		return digits > 0
	}
	return false
}

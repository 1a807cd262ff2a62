package sensitive

// Lengths a value must reach to be taken for a random token: a run without
// '-' or '_' of minRandomPart (or of minRandomRun in a value of at least
// minRandomSplit with separators: base64url), and minRandomHex for hex
// (24-digit object ids are ids; md5, sha1 and sha256 sized values are
// tokens).
const (
	minRandomPart  = 20
	minRandomRun   = 12
	minRandomSplit = 32
	minRandomHex   = 32
)

// LooksRandom reports whether v is a long random token (a password reset
// or magic link token, an OAuth code, a session id): only [A-Za-z0-9_-],
// letters and digits mixed, long enough (see minRandomPart), with enough
// distinct characters, and changing between lower case, upper case and
// digits as often as random text does. Slugs and identifiers run in words
// ("2024-annual-report-v3", "getUserSettingsV2"); UUIDs are identifiers.
func LooksRandom[V text](v V) bool {
	n := len(v)
	if n < minRandomPart || n > maxValueLen {
		return false
	}
	if n == 36 && v[8] == '-' && v[13] == '-' && v[18] == '-' && v[23] == '-' {
		return false // a UUID
	}
	var seen [128]bool
	hex := true
	run, best, seps := 0, 0, 0
	distinct, digits, letters, changes, pairs, uppers, wordStarts, capLower := 0, 0, 0, 0, 0, 0, 0, 0
	prev := byte(0) // the previous character, 0 after a separator
	for i := 0; i < n; i++ {
		c := v[i]
		if !isB64URL(c) {
			return false
		}
		if c == '-' || c == '_' {
			seps++
			run, prev = 0, 0
			continue
		}
		run++
		best = max(best, run)
		hex = hex && isHexDigit(c)
		if !seen[c] {
			seen[c] = true
			distinct++
		}
		if isDigit(c) {
			digits++
		} else {
			letters++
		}
		if 'A' <= c && c <= 'Z' {
			uppers++
			if i+1 < n && charClass(v[i+1]) == 1 {
				capLower++
				if i+2 < n && charClass(v[i+2]) == 1 {
					wordStarts++
				}
			}
		}
		if prev != 0 {
			pairs++
			if charClass(c) != charClass(prev) {
				changes++
			}
		}
		prev = c
	}
	switch {
	case hex && seps == 0:
		if n < minRandomHex {
			return false
		}
	case best < minRandomPart && !(seps > 0 && n >= minRandomSplit && best >= minRandomRun):
		return false
	}
	if uppers >= 2 && (wordStarts*10 >= uppers*7 || capLower*10 >= uppers*9) {
		// camelCase: capitals start words, of two letters or more (in
		// random base62 fewer than half the capitals are followed by a
		// lower-case letter, a fifth by two).
		return false
	}
	// Random base62 changes class at 62% of its characters, base36 and hex
	// at about 45%; words with a number in them at a few.
	return digits > 0 && letters > 0 && distinct*3 >= min(digits+letters, 30) && changes*4 >= pairs
}

// ContainsRandom reports whether v holds a random token (LooksRandom)
// anywhere: as a whole, or as a run of [A-Za-z0-9_-] inside it, such as the
// token of a reset link ("https://h/reset/9f8a…") or of "code=…".
func ContainsRandom[V text](v V) bool {
	if len(v) < minRandomPart {
		return false
	}
	for i := 0; i < len(v); {
		if !isB64URL(v[i]) {
			i++
			continue
		}
		j := i
		for j < len(v) && isB64URL(v[j]) {
			j++
		}
		// A run longer than LooksRandom reads is judged by its start.
		if j-i >= minRandomPart && LooksRandom(v[i:min(j, i+maxValueLen)]) {
			return true
		}
		i = j
	}
	return false
}

func charClass(c byte) byte {
	switch {
	case isDigit(c):
		return 0
	case 'a' <= c && c <= 'z':
		return 1
	}
	return 2
}

// contextWords are path segments after which a long opaque segment is a
// secret however it looks (a UUID after /password/reset/ is a reset
// token), compared without case, '-' and '_'.
var contextWords = map[string]bool{
	"reset": true, "resetpassword": true, "passwordreset": true, "recover": true, "recovery": true,
	"verify": true, "verification": true, "confirm": true, "confirmation": true,
	"activate": true, "activation": true, "magic": true, "magiclink": true, "magiclinks": true,
	"invite": true, "invites": true, "invitation": true, "invitations": true, "unsubscribe": true,
	"token": true, "tokens": true, "secret": true, "secrets": true, "otp": true, "signin": true,
	"login": true, "session": true, "sessions": true, "share": true, "shared": true,
}

func contextWord(s string) bool {
	if len(s) < 3 || len(s) > 24 {
		return false
	}
	var buf [24]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == '_':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		buf[n] = c
		n++
	}
	return contextWords[string(buf[:n])]
}

// opaque reports a segment that can be a token after a context word: at
// least 16 of [A-Za-z0-9_-] with a digit.
func opaque(s string) bool {
	if len(s) < 16 {
		return false
	}
	digits := 0
	for i := 0; i < len(s); i++ {
		if !isB64URL(s[i]) {
			return false
		}
		if isDigit(s[i]) {
			digits++
		}
	}
	return digits > 0
}

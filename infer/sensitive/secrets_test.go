package sensitive

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestClassifySecrets(t *testing.T) {
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
	pem := "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg\n-----END EC PRIVATE KEY-----"
	tests := []struct {
		name, value string
		want        Tag
	}{
		// card verification codes, by name, any value
		{"cvv", "123", CVV}, {"CVC", "0042", CVV}, {"cvv2", "987", CVV}, {"card_cvc", "1", CVV},
		{"security_code", "321", CVV}, {"securityCode", "321", CVV}, {"card_verification", "654", CVV},
		{"cardVerificationValue", "654", CVV}, {"cvv", "false", 0}, {"cvv", "", 0},
		// service keys, by prefix
		{"", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", APIKey},
		{"", "rk_test_51HqLyjWDarjtT1zdp7dcAb", APIKey},
		{"", "glpat-xYz12345678901234567", APIKey},
		{"", "whsec_abcdefghij123456", APIKey}, // the shortest listed
		{"", "npm_abcdefghijklmnopqrstuvwxyz0123456789", APIKey},
		{"", "sk_live_short1", 0},                  // tail too short
		{"", "sk_live_abcdefghijklmnopqrstuv", 0},  // no digit: a name
		{"", "sk_live_abcdefghij.lmnopqrstu1v", 0}, // not one word
		// secrets inside free text
		{"note", "my key is sk_live_4eC39HqLyjWDarjtT1zdp7dc, can you rotate it?", APIKey},
		{"", "creds: AKIAIOSFODNN7EXAMPLE in the config", AWSAccessKey},
		{"", "the token was " + jwt + " yesterday", JWT},
		{"", "see " + pem + " attached", PrivateKey},
		{"", "use ghp_0123456789abcdefghijABCDEFGHIJ012345 for CI", GitHubToken},
		{"", "login with password=hunter22 today", Password},
		{"", "header Authorization: Bearer abcdefghijklmnop", BearerToken},
		{"", `{"api_key": "k-12345678"}`, Password},
		// free text without secrets
		{"", "the order 4111111111111111 shipped", 0}, // numbers in prose are not read
		{"", "call alice@example.com at 10:30", 0},
		{"", "2024-01-31T10:00:00Z", 0},
		{"", "a perfectly ordinary sentence, with punctuation: yes", 0},
		{"", strings.Repeat("words and more words ", 400) + "sk_live_4eC39HqLyjWDarjtT1zdp7dc", APIKey}, // past maxValueLen
	}
	for _, tt := range tests {
		if got := Classify(tt.name, tt.value); got != tt.want {
			t.Errorf("Classify(%q, %.60q) = %v, want %v", tt.name, tt.value, got, tt.want)
		}
		if got := ClassifyBytes([]byte(tt.name), []byte(tt.value)); got != tt.want {
			t.Errorf("ClassifyBytes(%q, %.60q) = %v, want %v", tt.name, tt.value, got, tt.want)
		}
	}
}

func TestLooksRandom(t *testing.T) {
	tests := []struct {
		v    string
		want bool
	}{
		{"9f8a3c71d2e04b5f8a6c9d1e2f3a4b5c", true},                           // 32 hex
		{"9f8a3c71d2e04b5f8a6c9d1e2f3a4b5c6d7e8f90", true},                   // sha1
		{"nab3WwGlt8JxtntpTTxkpHHz10OikEkUZ-iJer9ZvUb", true},                // base64url
		{"70idqjQiUT1G3tNc83I9gQovi8yCM14M", true},                           // base62
		{"k3j5h2l0p9x8c7v6b5n4m3q2w1e0r9t8", true},                           // base36
		{"507f1f77bcf86cd799439011", false},                                  // an object id
		{"d19898ae-619d-430d-a8e5-70e2a8072864", false},                      // a UUID
		{"2024-annual-report-final-v3-draft", false},                         // a slug
		{"getUserAccountSettingsV2xyz", false},                               // an identifier
		{"release20240131build000123", false},                                // words and numbers
		{"abcdefghijklmnopqrstuvwxyz", false},                                // no digit
		{"12345678901234567890123", false},                                   // no letter
		{"a1a1a1a1a1a1a1a1a1a1a1a1", false},                                  // repetitive
		{"short1A", false},                                                   // short
		{"nab3WwGlt8JxtntpTTxkpHHz.10OikEkUZ", false},                        // not one token
		{"how-to-configure-kubernetes-2024-for-production-use-cases", false}, // a long slug
	}
	for _, tt := range tests {
		if got := LooksRandom(tt.v); got != tt.want {
			t.Errorf("LooksRandom(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

func TestClassifySegment(t *testing.T) {
	tests := []struct {
		prev, seg string
		want      Tag
	}{
		{"reset", "9f8a3c71d2e04b5f8a6c9d1e2f3a4b5c", RandomToken},
		{"verify", "d19898ae-619d-430d-a8e5-70e2a8072864", RandomToken}, // a UUID after a context word
		{"users", "d19898ae-619d-430d-a8e5-70e2a8072864", 0},            // a UUID id
		{"Magic-Link", "abc123def456ghi789", RandomToken},
		{"password_reset", "abc123def456ghi789.json", RandomToken},
		{"users", "abc123def456ghi789", 0},
		{"invites", "short12", 0},
		{"files", "70idqjQiUT1G3tNc83I9gQovi8yCM14M.pdf", RandomToken},
		{"", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", APIKey},
		{"users", "alice@example.com", 0},
		{"", "<redacted:random-token>", 0},
		{"", strings.Repeat("70idqjQiUT1G3tNc83I9gQovi8yCM14M", 200), RandomToken}, // longer than the value rules read
	}
	for _, tt := range tests {
		if got := ClassifySegment(tt.prev, tt.seg); got != tt.want {
			t.Errorf("ClassifySegment(%q, %q) = %v, want %v", tt.prev, tt.seg, got, tt.want)
		}
	}
	if got := RedactPath("/password/reset/9f8a3c71d2e04b5f8a6c9d1e2f3a4b5c.json"); got != "/password/reset/<redacted:random-token>.json" {
		t.Errorf("RedactPath kept no extension: %q", got)
	}
}

func TestRedactJSONSecrets(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"cvv":"123","cvc":456,"note":"my key is sk_live_4eC39HqLyjWDarjtT1zdp7dc","ok":"fine words"}`,
			`{"cvv":"<redacted:cvv>","cvc":"<redacted:cvv>","note":"<redacted:api-key>","ok":"fine words"}`},
		{`{"code":"70idqjQiUT1G3tNc83I9gQovi8yCM14M","id":"507f1f77bcf86cd799439011"}`,
			`{"code":"<redacted:random-token>","id":"507f1f77bcf86cd799439011"}`},
		{`{"link":"https://h.test/reset/9f8a3c71d2e04b5f8a6c9d1e2f3a4b5c?x=1","home":"https://h.test/2024-annual-report"}`,
			`{"link":"<redacted:random-token>","home":"https://h.test/2024-annual-report"}`},
		{`not json: code=70idqjQiUT1G3tNc83I9gQovi8yCM14M ok`, `not json: code=<redacted:random-token> ok`},
	}
	for _, tt := range tests {
		if got := string(RedactJSON([]byte(tt.in), 1000)); got != tt.want {
			t.Errorf("RedactJSON(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestContainsRandom(t *testing.T) {
	tests := []struct {
		v    string
		want bool
	}{
		{"https://h.test/magic/nab3WwGlt8JxtntpTTxkpHHz10OikEkUZ-iJer9ZvUb", true},
		{"code=70idqjQiUT1G3tNc83I9gQovi8yCM14M&state=x", true},
		{"70idqjQiUT1G3tNc83I9gQovi8yCM14M", true},
		{"https://example.com/docs/getting-started/installation", false},
		{"/users/507f1f77bcf86cd799439011/orders", false},
		{"short", false},
		{"x=" + strings.Repeat("70idqjQiUT1G3tNc83I9gQovi8yCM14M", 200), true},
	}
	for _, tt := range tests {
		if got := ContainsRandom(tt.v); got != tt.want {
			t.Errorf("ContainsRandom(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

func FuzzRandom(f *testing.F) {
	f.Add("70idqjQiUT1G3tNc83I9gQovi8yCM14M")
	f.Add("d19898ae-619d-430d-a8e5-70e2a8072864")
	f.Add("https://h/reset/9f8a3c71d2e04b5f8a6c9d1e2f3a4b5c?x=1")
	f.Fuzz(func(t *testing.T, v string) {
		r, c := LooksRandom(v), ContainsRandom(v)
		if r && !c {
			t.Fatalf("LooksRandom(%q) but not ContainsRandom", v)
		}
		if r != LooksRandom([]byte(v)) || c != ContainsRandom([]byte(v)) {
			t.Fatalf("%q: string and bytes disagree", v)
		}
		if m, ok := RedactName(v); ok != (m != "") || ok && !strings.HasPrefix(m, "<redacted:") {
			t.Fatalf("RedactName(%q) = %q, %v", v, m, ok)
		}
		for prev := range 2 {
			p := []string{"", "reset"}[prev]
			if s := RedactSegment(p, v); s != v && !strings.HasPrefix(s, "<redacted:") {
				t.Fatalf("RedactSegment(%q, %q) = %q", p, v, s)
			}
		}
	})
}

// minAPIKeyLen is a shortcut: no listed prefix and tail is shorter.
func TestMinAPIKeyLen(t *testing.T) {
	for _, k := range apiKeyPrefixes {
		if n := len(k.prefix) + k.tail; n < minAPIKeyLen {
			t.Errorf("%s: %d bytes, below minAPIKeyLen %d", k.prefix, n, minAPIKeyLen)
		}
	}
}

// TestLooksRandomRates measures the detector on generated values (seeded,
// so the figures are fixed): random tokens of the usual alphabets are
// found, slugs and identifiers built from words are not.
func TestLooksRandomRates(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	const b62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	gen := func(alphabet string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	syllables := []string{"ac", "count", "set", "tings", "re", "port", "fi", "nal", "user", "pro", "file", "data", "sync", "in", "voice", "ment", "or", "der", "ship", "ping"}
	word := func() string {
		var b strings.Builder
		for range 1 + r.IntN(3) {
			b.WriteString(syllables[r.IntN(len(syllables))])
		}
		return b.String()
	}
	slug := func() string {
		parts := []string{word(), word(), word(), word()}
		parts[r.IntN(4)] += fmt.Sprint(r.IntN(3000))
		return strings.Join(parts, []string{"-", "_"}[r.IntN(2)])
	}
	camel := func() string {
		var b strings.Builder
		b.WriteString(word())
		for range 3 + r.IntN(3) {
			w := word()
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
		b.WriteString(fmt.Sprint(r.IntN(100)))
		return b.String()
	}
	tests := []struct {
		name string
		gen  func() string
		min  float64 // share LooksRandom must find
		max  float64 // share it may find
	}{
		{"base62 x24", func() string { return gen(b62, 24) }, 0.95, 1},
		{"base62 x32", func() string { return gen(b62, 32) }, 0.98, 1},
		{"base64url x43", func() string { return gen(b62+"-_", 43) }, 0.98, 1},
		{"base36 x26", func() string { return gen("abcdefghijklmnopqrstuvwxyz0123456789", 26) }, 0.85, 1},
		{"hex x32", func() string { return gen("0123456789abcdef", 32) }, 0.95, 1},
		{"hex x64", func() string { return gen("0123456789abcdef", 64) }, 0.99, 1},
		{"slugs", slug, 0, 0.01},
		{"camelCase", camel, 0, 0.01},
	}
	for _, tt := range tests {
		const n = 2000
		hit := 0
		for range n {
			if v := tt.gen(); LooksRandom(v) {
				hit++
				if tt.max < 0.5 && hit < 6 {
					t.Logf("%s: flagged %q", tt.name, v)
				}
			}
		}
		if share := float64(hit) / n; share < tt.min || share > tt.max {
			t.Errorf("%s: LooksRandom for %.3f, want [%.2f, %.2f]", tt.name, share, tt.min, tt.max)
		} else {
			t.Logf("%s: %.3f", tt.name, share)
		}
	}
}

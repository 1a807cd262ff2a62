// Package sensitive detects sensitive data (personal data, credentials,
// secrets) in observed values and redacts it.
//
// Detection favours precision over recall: a security team ignores a noisy
// tool, so every value rule checks shape and, where one exists, a checksum
// (Luhn for cards, mod-97 for IBANs, area/group/serial rules for SSNs).
// Field-name rules are used only for secret-like names (password, secret,
// api_key, tokens, cvv), where the name alone says the value is sensitive.
// Free text is read word by word for the secrets that have a shape of their
// own (keys, tokens, PEM blocks). Random tokens (LooksRandom: reset and
// magic-link tokens, OAuth codes, random ids) cannot be told from random
// identifiers, so they are redacted wherever values are kept (RedactJSON,
// RedactPath, enum sets) but never reported as sensitive data.
package sensitive

import "strings"

// Tag is a set of kinds of sensitive data, one bit each.
type Tag uint32

// Kinds of sensitive data.
const (
	Email        Tag = 1 << iota // an e-mail address
	Phone                        // a telephone number (international or common national shape)
	Card                         // a payment card number (Luhn-valid PAN, 13-19 digits)
	SSN                          // a US social security number
	IBAN                         // an international bank account number (mod-97 valid)
	JWT                          // a JSON Web Token
	AWSAccessKey                 // an AWS access key id (AKIA…, ASIA…)
	AWSSecret                    // an AWS secret access key (by field name)
	GCPAPIKey                    // a Google Cloud API key (AIza…)
	GitHubToken                  // a GitHub token (ghp_…, github_pat_…)
	SlackToken                   // a Slack token (xoxb-…)
	PrivateKey                   // a PEM private key
	Password                     // a password or secret (by field name)
	BearerToken                  // a bearer/access token ("Bearer …" or by field name)
	CVV                          // a card verification code (by field name: cvv, cvc, security_code)
	APIKey                       // a service's secret key by its prefix (sk_live_…, glpat-…, npm_…)
	RandomToken                  // a long random token (reset and magic links, OAuth codes): redacted, never reported (see LooksRandom)

	numTags = iota
)

var tagNames = [numTags]string{
	"email", "phone", "card", "ssn", "iban", "jwt", "aws-access-key",
	"aws-secret", "gcp-api-key", "github-token", "slack-token",
	"private-key", "password", "bearer-token", "cvv", "api-key", "random-token",
}

// Names returns the names of the kinds in t, in bit order.
func (t Tag) Names() []string {
	var out []string
	for i := 0; i < numTags; i++ {
		if t&(1<<i) != 0 {
			out = append(out, tagNames[i])
		}
	}
	return out
}

// String returns the names of the kinds in t joined by commas, "" for none.
func (t Tag) String() string {
	return strings.Join(t.Names(), ",")
}

// Has reports whether all kinds in u are in t.
func (t Tag) Has(u Tag) bool { return t&u == u }

// ParseTag returns the Tag named name ("email", "card", ...) and whether the
// name is known.
func ParseTag(name string) (Tag, bool) {
	for i, n := range tagNames {
		if n == name {
			return 1 << i, true
		}
	}
	return 0, false
}

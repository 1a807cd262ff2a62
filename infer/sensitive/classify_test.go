package sensitive

import (
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name, value string
		want        Tag
	}{
		// email
		{"", "alice@example.com", Email},
		{"", "first.last+tag@mail.example.co.uk", Email},
		{"", "alice@localhost", 0},
		{"", "not an @ email", 0},
		{"", "@handle", 0},
		{"", "alice@example", 0},
		// phone
		{"", "+1 415 555 2671", Phone},
		{"", "+44 20 7946 0958", Phone},
		{"", "+4915123456789", Phone},
		{"", "(415) 555-2671", Phone},
		{"", "415-555-2671", Phone},
		{"", "415.555.2671", Phone},
		{"", "4155552671", 0},      // bare digits: an id
		{"", "+1234567", 0},        // too short
		{"", "+0 415 555 2671", 0}, // no country code 0
		{"", "123-555-2671", 0},    // area code starts 2-9
		{"", "2024-01-15", 0},      // a date
		{"", "1.2.3.4", 0},
		// card
		{"", "4111111111111111", Card},
		{"", "4111 1111 1111 1111", Card},
		{"", "5500-0000-0000-0004", Card},
		{"", "378282246310005", Card},
		{"", "6011111111111117", Card},
		{"", "4111111111111112", 0},    // Luhn fails: an order id
		{"", "1234567812345670", 0},    // Luhn-valid, no known issuer
		{"", "4111 1111-1111 1111", 0}, // mixed separators
		{"", "0000000000000000", 0},
		{"", "4444444444444448", Card},
		// ssn
		{"", "123-45-6789", SSN},
		{"", "078 05 1121", SSN},
		{"", "000-45-6789", 0},
		{"", "666-45-6789", 0},
		{"", "900-45-6789", 0},
		{"", "123-00-6789", 0},
		{"", "123-45-0000", 0},
		{"", "123456789", 0}, // bare nine digits
		{"", "123-45 6789", 0},
		// iban
		{"", "DE89370400440532013000", IBAN},
		{"", "GB82 WEST 1234 5698 7654 32", IBAN},
		{"", "FR1420041010050500013M02606", IBAN},
		{"", "DE89370400440532013001", 0}, // check fails
		{"", "DE8937040044053201300", 0},  // length for DE
		{"", "ZZ89370400440532013000", 0}, // no such country
		// jwt
		{"", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", JWT},
		{"", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", JWT},
		{"", "eyJmb28iOiJiYXIifQ.eyJzdWIiOiIxIn0.abc", 0}, // header without alg
		{"", "eyJhbGciOiJIUzI1NiJ9.payload", 0},           // two segments
		// bearer
		{"", "Bearer abcdefghijklmnop", BearerToken},
		{"", "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", BearerToken | JWT},
		{"", "Bearer of bad news", 0},
		{"access_token", "abcdefghijklmnop", BearerToken},
		{"refreshToken", "abcdefghijklmnop", BearerToken},
		{"token", "short", 0},
		{"token", "officia ut magna", 0}, // prose is not a token
		{"apiKey", "dolore dolor amet", 0},
		{"password", "correct horse battery", Password},
		{"token_type", "bearer-token-type", 0},
		// cloud keys
		{"", "AKIAIOSFODNN7EXAMPLE", AWSAccessKey},
		{"", "ASIAY34FZKBOKMUTVV7A", AWSAccessKey},
		{"", "AKIAIOSFODNN7EXAMPL", 0},
		{"", "AKIAiosfodnn7example", 0},
		{"aws_secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", AWSSecret},
		{"AWS-Secret", "x", AWSSecret},
		{"", "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe", GCPAPIKey},
		{"", "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQ", 0},
		{"", "ghp_16C7e42F292c6912E7710c838347Ae178B4a", GitHubToken},
		{"", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345", GitHubToken},
		{"", "ghp_short", 0},
		{"", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", SlackToken},
		{"", "xoxb-nodigits-here", 0},
		{"", "-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----", PrivateKey},
		{"", "-----BEGIN PRIVATE KEY-----\nMIIE", PrivateKey},
		{"", "-----BEGIN CERTIFICATE-----\nMIIE", 0},
		{"", "-----BEGIN PUBLIC KEY-----\nMIIE", 0},
		// password by name
		{"password", "hunter2", Password},
		{"newPassword", "hunter2", Password},
		{"user_passwd", "x", Password},
		{"client_secret", "abc", Password},
		{"X-Api-Key", "abc", Password},
		{"pwd", "abc", Password},
		{"password", "", 0},
		{"has_password", "true", 0},
		{"password_hint", "first pet", 0},
		{"passwordLength", "12", 0},
		{"secretary", "Alice", 0},
		// plain values
		{"", "hello world", 0},
		{"", "8c7b1a52-6f37-4c38-9d6a-0e1f2a3b4c5d", 0},
		{"", "2024-01-02T03:04:05Z", 0},
		{"", "https://example.com/a/b", 0},
		{"id", "1234567890123456789", 0},
		{"", "", 0},
	}
	for _, tt := range tests {
		if got := Classify(tt.name, tt.value); got != tt.want {
			t.Errorf("Classify(%q, %q) = %q, want %q", tt.name, tt.value, got, tt.want)
		}
		if got := ClassifyBytes([]byte(tt.name), []byte(tt.value)); got != tt.want {
			t.Errorf("ClassifyBytes(%q, %q) = %q, want %q", tt.name, tt.value, got, tt.want)
		}
	}
}

func TestTagNames(t *testing.T) {
	if got := (Email | Card | BearerToken).String(); got != "email,card,bearer-token" {
		t.Errorf("String = %q", got)
	}
	if got := Tag(0).String(); got != "" {
		t.Errorf("empty String = %q", got)
	}
	for i := 0; i < numTags; i++ {
		tag := Tag(1) << i
		back, ok := ParseTag(tag.String())
		if !ok || back != tag {
			t.Errorf("ParseTag(%q) = %v, %v", tag.String(), back, ok)
		}
	}
	if _, ok := ParseTag("nope"); ok {
		t.Error("ParseTag(nope) ok")
	}
}

func TestClassifyBytesNoAlloc(t *testing.T) {
	name, val := []byte("email"), []byte("alice@example.com")
	if a := testing.AllocsPerRun(100, func() { ClassifyBytes(name, val) }); a != 0 {
		t.Errorf("ClassifyBytes allocates %v times", a)
	}
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{"alice@example.com", "+1 415 555 2671", "4111 1111 1111 1111", "123-45-6789",
		"DE89370400440532013000", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", "AKIAIOSFODNN7EXAMPLE", "Bearer abcdefghijk",
		"-----BEGIN PRIVATE KEY-----", "(415) 555-2671"} {
		f.Add("", s)
		f.Add("password", s)
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		tag := Classify(name, value)
		if tag2 := ClassifyBytes([]byte(name), []byte(value)); tag2 != tag {
			t.Fatalf("Classify %v, ClassifyBytes %v", tag, tag2)
		}
		if tag >= 1<<numTags {
			t.Fatalf("unknown bits in %b", tag)
		}
		r := Redact(value, tag)
		if tag != 0 && (r == value || Classify(name, r)&^classifyName(name, r) != 0) {
			t.Fatalf("Redact(%q, %v) = %q", value, tag, r)
		}
		if tag == 0 && r != value {
			t.Fatalf("Redact changed an untagged value")
		}
	})
}

package schema

import (
	"net/mail"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"123e4567-e89b-12d3-a456-426614174000", FormatUUID},
		{"123E4567-E89B-72D3-C456-426614174000", FormatUUID}, // any version/variant
		{"123e4567e89b12d3a456426614174000", ""},
		{"123e4567-e89b-12d3-a456-42661417400g", ""},
		{"2024-02-29", FormatDate},
		{"2023-02-29", ""}, // not a leap year
		{"2024-13-01", ""},
		{"2024-1-01", ""},
		{"2024-01-02T03:04:05Z", FormatDateTime},
		{"2024-01-02t03:04:05.123456z", FormatDateTime},
		{"2024-01-02T03:04:05+05:30", FormatDateTime},
		{"2024-01-02T03:04:05", ""},        // no offset: not RFC 3339
		{"2024-01-02 03:04:05Z", ""},       // space
		{"2024-01-02T24:04:05Z", ""},       // hour
		{"2024-01-02T03:04:05.Z", ""},      // empty fraction
		{"2024-01-02T03:04:05+0530", ""},   // offset without colon
		{"alice@example.com", FormatEmail}, // email
		{"a.b+tag@sub.example.co.uk", FormatEmail},
		{"alice@localhost", ""},
		{"alice@@example.com", ""},
		{"@example.com", ""},
		{"alice@example.c0m", ""},
		{"alice.@example.com", ""},
		{"https://example.com/a?b=c", FormatURI},
		{"ftp://files.example.com", FormatURI},
		{"urn:isbn:0451450523", FormatURI},
		{"mailto:alice@example.com", FormatURI},
		{"http:///nohost", ""},
		{"http://user@example.com:8080/x", FormatURI},
		{"http://[2001:db8::1]:443/", FormatURI},
		{"http://a:b/", ""},      // port
		{"http://[::1/", ""},     // bracket
		{"http://%41:8080/", ""}, // escaped host
		{"http://a%zz", ""},      // bad escape
		{"http://a/%41%42", FormatURI},
		{"spotify:track:123", ""},
		{"12:30", ""},
		{"https://exa mple.com", ""},
		{"192.168.0.1", FormatIPv4},
		{"255.255.255.255", FormatIPv4},
		{"256.1.1.1", ""},
		{"1.2.3", ""},
		{"01.2.3.4", ""},
		{"::1", FormatIPv6},
		{"2001:db8::8a2e:370:7334", FormatIPv6},
		{"fe80::1%eth0", ""},
		{"1.5", ""},
		{"hello", ""},
		{"", ""},
		{"12345", ""},
	}
	for _, tt := range tests {
		if got := Format(tt.in); got != tt.want {
			t.Errorf("Format(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := format([]byte(tt.in)); got != tt.want {
			t.Errorf("format([]byte(%q)) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzFormat(f *testing.F) {
	for _, s := range []string{"2024-01-02T03:04:05Z", "2024-01-02", "a@b.co", "::1", "1.2.3.4", "urn:x", "8c7b1a52-6f37-4c38-9d6a-0e1f2a3b4c5d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Format(s)
		if got != format([]byte(s)) {
			t.Fatal("string and bytes disagree")
		}
		// Each format's defining checks, re-done independently.
		switch got {
		case FormatDate:
			if _, err := time.Parse(time.DateOnly, s); err != nil {
				t.Fatalf("%q is no date: %v", s, err)
			}
		case FormatDateTime:
			if s[17:19] == "60" {
				return // a leap second: RFC 3339 allows it, time.Parse does not
			}
			if _, err := time.Parse(time.RFC3339Nano, strings.ToUpper(s)); err != nil {
				t.Fatalf("%q is no date-time: %v", s, err)
			}
		case FormatIPv4, FormatIPv6:
			a, err := netip.ParseAddr(s)
			if err != nil || a.Is4() != (got == FormatIPv4) {
				t.Fatalf("%q is no %s", s, got)
			}
		case FormatEmail:
			if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
				t.Fatalf("%q is no e-mail address: %v", s, err)
			}
		case FormatUUID:
			if len(s) != 36 || strings.Count(s, "-") != 4 {
				t.Fatalf("%q is no UUID", s)
			}
		case FormatURI:
			if u, err := url.Parse(s); err != nil || u.Scheme == "" {
				t.Fatalf("%q is no absolute URI: %v", s, err)
			}
		}
	})
}

package sensitive

import (
	"strings"
	"testing"
)

func TestRedactPath(t *testing.T) {
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
	tests := []struct{ in, want string }{
		{"/", "/"},
		{"", ""},
		{"/users/42/orders", "/users/42/orders"},
		{"/users/alice@example.com", "/users/alice@example.com"}, // an identifier, tagged not replaced
		{"/auth/" + jwt + "/x", "/auth/<redacted:jwt>/x"},
		{"/keys/AKIAIOSFODNN7EXAMPLE", "/keys/<redacted:aws-access-key>"},
		{"/pay/4111111111111111/", "/pay/<redacted:card>/"},
		{"//double//slash", "//double//slash"},
	}
	for _, tt := range tests {
		if got := RedactPath(tt.in); got != tt.want {
			t.Errorf("RedactPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactQuery(t *testing.T) {
	tests := []struct{ in, want string }{
		{"page=2&sort=name", "page=2&sort=name"},
		{"access_token=abcdefghijkl&page=2", "access_token=<redacted:bearer-token>&page=2"},
		{"email=alice%40example.com", "email=<redacted:email>"},
		{"flag&password=hunter22", "flag&password=<redacted:password>"},
		{"bad=%zz", "bad=%zz"},
	}
	for _, tt := range tests {
		if got := RedactQuery(tt.in); got != tt.want {
			t.Errorf("RedactQuery(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzRedactPath(f *testing.F) {
	f.Add("/users/42")
	f.Add("/auth/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl/")
	f.Add("//AKIAIOSFODNN7EXAMPLE")
	f.Fuzz(func(t *testing.T, p string) {
		got := RedactPath(p)
		in, out := strings.Split(p, "/"), strings.Split(got, "/")
		if len(in) != len(out) {
			t.Fatalf("RedactPath(%q) = %q: %d segments, want %d", p, got, len(out), len(in))
		}
		for i, s := range out {
			if want := RedactSegment(prevOf(in, i), in[i]); s != want {
				t.Fatalf("segment %d of %q became %q, want %q", i, p, s, want)
			}
			if s == in[i] && ClassifySegment(prevOf(in, i), s) != 0 {
				t.Fatalf("RedactPath(%q) = %q keeps secret segment %q", p, got, s)
			}
		}
	})
}

func prevOf(segs []string, i int) string {
	if i == 0 {
		return ""
	}
	return segs[i-1]
}

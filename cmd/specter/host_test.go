package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestUnknownHostError: the error names the host and the services seen,
// sorted, at most maxHostNames of them, and the note.
func TestUnknownHostError(t *testing.T) {
	// Unsorted on purpose: s25.test first.
	var many []string
	for i := maxHostNames + 5; i > 0; i-- {
		many = append(many, fmt.Sprintf("s%02d.test", i))
	}
	for _, tc := range []struct {
		host     string
		services []string
		note     string
		want     string // "" for no error
	}{
		{"", []string{"a.test"}, "", ""},
		{"a.test", []string{"b.test", "a.test"}, "", ""},
		{"c.test", []string{"b.test", "a.test"}, "", `--host "c.test": no such service; the services seen are a.test, b.test`},
		{"c.test", nil, "", `--host "c.test": no such service; no service was seen`},
		{"x.test", many, "3 dropped", "s01.test, s02.test"},
		{"x.test", many, "3 dropped", "s20.test and 5 more; 3 dropped"},
	} {
		err := unknownHost(tc.host, tc.services, tc.note)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q in %q: %v", tc.host, tc.services, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q in %q: %v, want %q", tc.host, tc.services, err, tc.want)
		}
	}
}

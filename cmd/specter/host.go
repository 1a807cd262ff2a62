package main

import (
	"fmt"
	"slices"
	"strings"
)

// maxHostNames bounds the services an unknown --host error names.
const maxHostNames = 20

// unknownHost returns the error of a --host that none of services (the
// services of the traffic or inventory, in any order) is, or nil when it
// is one of them or host is empty. A mistyped --host must not read as
// "this service has no findings": the error names the host and the
// services seen. note, when not empty, follows (what the bounds left
// out, say).
func unknownHost(host string, services []string, note string) error {
	if host == "" || slices.Contains(services, host) {
		return nil
	}
	seen := "no service was seen"
	if len(services) > 0 {
		s := slices.Sorted(slices.Values(services))
		more := ""
		if len(s) > maxHostNames {
			more = fmt.Sprintf(" and %d more", len(s)-maxHostNames)
			s = s[:maxHostNames]
		}
		seen = "the services seen are " + strings.Join(s, ", ") + more
	}
	if note != "" {
		seen += "; " + note
	}
	return partialError(fmt.Errorf("--host %q: no such service; %s", host, seen))
}

package diff

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Attachment says which services a spec checked. A spec that checked none
// (its servers name no host seen in the traffic) found nothing because it
// looked at nothing: "no findings" then means nothing, and the command
// line treats it as an error (see Unattached).
type Attachment struct {
	// Spec is the file the spec was loaded from.
	Spec string `json:"spec"`
	// Servers are the server URLs the spec (document, path items or
	// operations) declares, or "--spec-host HOST" for explicit ones.
	Servers []string `json:"servers,omitempty"`
	// Hosts are the services the spec is for (see Spec.Hosts); empty means
	// every service.
	Hosts []string `json:"hosts,omitempty"`
	// Services are the services with traffic that the spec checked, sorted.
	Services []string `json:"services"`
	// Exchanges counts those services' exchanges.
	Exchanges uint64 `json:"exchanges"`
	// UnattachedServers are, in a spec attached to some service, the
	// servers of the path items (Split) attached to none: their paths
	// were checked against nothing.
	UnattachedServers []string `json:"unattached_servers,omitempty"`
}

// Attached reports whether the spec checked any service.
func (a *Attachment) Attached() bool { return len(a.Services) > 0 }

// String describes the attachment in one line, for people.
func (a *Attachment) String() string {
	servers := "no servers: every service"
	if len(a.Servers) > 0 {
		servers = "servers " + strings.Join(a.Servers, ", ")
	}
	if !a.Attached() {
		return fmt.Sprintf("spec %s (%s) attached to no service seen", a.Spec, servers)
	}
	s := fmt.Sprintf("spec %s (%s) attached to %s (%d exchanges)", a.Spec, servers, strings.Join(a.Services, ", "), a.Exchanges)
	if len(a.UnattachedServers) > 0 {
		s += "; the paths under " + strings.Join(a.UnattachedServers, ", ") + " attached to no service"
	}
	return s
}

// maxAttachedNames bounds the services listed per attachment; the count of
// exchanges still covers all of them.
const maxAttachedNames = 100

// Attachments lists, per spec file, the services of traffic (service name
// to exchanges) it is attached to (see the package documentation). The
// views one file splits into (Split) are one attachment. Sorted by file.
func Attachments(specs []*Spec, traffic map[string]uint64) []Attachment {
	byFile := map[string]*Attachment{}
	var files []string
	svcs := map[string]map[string]bool{}
	for _, s := range specs {
		a := byFile[s.File]
		if a == nil {
			a = &Attachment{Spec: s.File, Services: []string{}}
			byFile[s.File] = a
			svcs[s.File] = map[string]bool{}
			files = append(files, s.File)
		}
		a.Servers = appendNew(a.Servers, s.Servers...)
		a.Hosts = appendNew(a.Hosts, s.Hosts...)
	}
	names := make([]string, 0, len(traffic))
	for n := range traffic {
		names = append(names, n)
	}
	sort.Strings(names)
	used := map[*Spec]bool{}
	for _, svc := range names {
		for _, s := range specsFor(specs, svc) {
			used[s] = true
			if seen := svcs[s.File]; !seen[svc] {
				seen[svc] = true
				a := byFile[s.File]
				a.Exchanges += traffic[svc]
				if len(a.Services) < maxAttachedNames {
					a.Services = append(a.Services, svc)
				}
			}
		}
	}
	for _, s := range specs {
		if a := byFile[s.File]; !used[s] && a.Attached() {
			if len(s.Servers) == 0 {
				a.UnattachedServers = appendNew(a.UnattachedServers, "(no servers)")
			}
			a.UnattachedServers = appendNew(a.UnattachedServers, s.Servers...)
		}
	}
	sort.Strings(files)
	out := make([]Attachment, 0, len(files))
	for _, f := range files {
		out = append(out, *byFile[f])
	}
	return out
}

// Unattached returns the attachments of specs that checked no service.
func Unattached(as []Attachment) []Attachment {
	var out []Attachment
	for _, a := range as {
		if !a.Attached() {
			out = append(out, a)
		}
	}
	return out
}

// appendNew appends the values of vs not in list yet.
func appendNew(list []string, vs ...string) []string {
	for _, v := range vs {
		if !slices.Contains(list, v) {
			list = append(list, v)
		}
	}
	return list
}

// Unchecked returns the services of the traffic that no spec is attached
// to, sorted (at most maxAttachedNames).
func Unchecked(specs []*Spec, traffic map[string]uint64) []string {
	var out []string
	for svc := range traffic {
		if len(specsFor(specs, svc)) == 0 {
			out = append(out, svc)
		}
	}
	sort.Strings(out)
	if len(out) > maxAttachedNames {
		out = out[:maxAttachedNames]
	}
	return out
}

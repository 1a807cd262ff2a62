// Package redact makes copies of exchanges that are safe to print or save:
// the secrets and sensitive values in their targets, headers and bodies are
// replaced by markers, with the rules the inventory applies to what it
// stores (package sensitive), so that an exchange written out reveals no
// more than the database does.
package redact

import (
	"strings"

	"github.com/specter-dev/specter/infer/sensitive"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/message"
)

// Exchange returns a redacted copy of x; x is not modified. The copy shares
// the parts that hold nothing to redact (addresses, times, the process).
//
// Paths lose the segments that hold secrets (sensitive.RedactPath), queries
// the values that classify (sensitive.RedactQuery), headers their
// credentials and sensitive values (sensitive.RedactHeader), bodies their
// sensitive values (sensitive.RedactJSON, which treats what is not JSON as
// text; JSON loses its insignificant white space). A redacted body is
// bounded by bodyCap; one cut there has message.FlagBodyTruncated in its
// Body.Flags.
func Exchange(x *reassembly.Exchange) *reassembly.Exchange {
	y := *x
	if r := x.Request; r != nil {
		c := *r
		c.Path = sensitive.RedactPath(r.Path)
		if r.RawQuery != "" {
			c.RawQuery = sensitive.RedactQuery(r.RawQuery)
		}
		c.Target = target(r, c.Path, c.RawQuery)
		c.Header = sensitive.RedactHeaders(r.Header)
		c.RawHeader = rawHeader(r.RawHeader)
		c.Body = body(r.Body)
		y.Request = &c
	}
	if r := x.Response; r != nil {
		c := *r
		c.Header = sensitive.RedactHeaders(r.Header)
		c.RawHeader = rawHeader(r.RawHeader)
		c.Body = body(r.Body)
		y.Response = &c
	}
	return &y
}

// rawHeader rebuilds a raw header section with every value redacted,
// keeping the names as sent and their order (obs-folds are joined).
func rawHeader(raw string) string {
	if raw == "" {
		return ""
	}
	var b strings.Builder
	for _, f := range message.Fields(raw, nil) {
		b.WriteString(f.Name)
		b.WriteString(": ")
		b.WriteString(sensitive.RedactHeader(f.Name, f.Value))
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// target rebuilds the request target around the redacted path and query:
// an absolute-form target keeps its scheme and authority.
func target(r *message.Request, path, query string) string {
	orig := r.Path
	if r.RawQuery != "" {
		orig += "?" + r.RawQuery
	}
	red := path
	if query != "" {
		red += "?" + query
	}
	if red == orig {
		return r.Target
	}
	if prefix, ok := strings.CutSuffix(r.Target, orig); ok {
		return prefix + red
	}
	// A target the path was not split from as usual ("*", authority-form):
	// nothing of it is kept.
	return red
}

// bodyCap bounds a redacted body of n bytes. Markers can be longer than the
// values they replace ("1" under a secret name becomes
// "<redacted:password>"), so the output may grow; up to four times for
// a body of nothing but short secrets, and it is then cut.
func bodyCap(n int) int { return 2*n + 4096 }

func body(in message.Body) message.Body {
	b, f := in.Bytes(), in.Flags()
	if len(b) == 0 {
		return in
	}
	limit := bodyCap(len(b))
	out := sensitive.RedactJSON(b, limit)
	if len(out) >= limit {
		f |= message.FlagBodyTruncated
	}
	return message.NewBody(out, f)
}

package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/operations"
)

// operationNotes says what a listing adds after an operation's count:
// errors, notifications, introspection.
func operationNotes(s operations.Summary) string {
	var notes []string
	if s.Errors > 0 {
		notes = append(notes, fmt.Sprintf("%d errors", s.Errors))
	}
	if s.Notifications > 0 {
		notes = append(notes, fmt.Sprintf("%d notifications", s.Notifications))
	}
	if s.Introspection {
		notes = append(notes, "introspection")
	}
	if len(notes) == 0 {
		return "-"
	}
	return strings.Join(notes, ", ")
}

// printOperationRows writes, under an endpoint's row of the endpoints
// table, one row per GraphQL, JSON-RPC or SOAP operation found behind it.
func printOperationRows(w io.Writer, e infer.EndpointSummary) {
	for _, s := range e.Operations {
		fmt.Fprintf(w, "\t%s\t  %s\t%d\t%s\n", s.Protocol, s.Label(), s.Count, operationNotes(s))
	}
}

// printOperationDetail writes the operations section of `specter show`.
func printOperationDetail(w io.Writer, e infer.EndpointSummary) {
	if len(e.Operations) == 0 {
		return
	}
	fmt.Fprintf(w, "operations\t%d\n", len(e.Operations))
	for _, s := range e.Operations {
		fields := strings.Join(s.Fields, " ")
		if len(s.Variables) > 0 {
			fields += " " + strings.Join(s.Variables, " ")
		}
		fmt.Fprintf(w, "  %s %s\t%d calls; %s; %s\n", s.Protocol, s.Label(), s.Count, operationNotes(s), dash(strings.TrimSpace(fields)))
	}
}

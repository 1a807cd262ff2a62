package diff

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/mattn/go-runewidth"

	"github.com/specter-dev/specter/infer/table"
)

// Formats returns the report formats Write knows.
func Formats() []string { return []string{"table", "json", "sarif", "markdown"} }

// Write writes findings in a format: "table" (human, grouped by kind),
// "json" ({"findings":[...]}), "sarif" (SARIF 2.1.0) or "markdown" (for a
// pull-request comment). toolVersion goes into SARIF.
func Write(w io.Writer, fs []Finding, format, toolVersion string) error {
	return WriteReport(w, Report{Findings: fs}, format, toolVersion)
}

// WriteReport is Write with the whole report: in "json" its specs'
// attachments come along, in "sarif" they are tool configuration
// notifications (error level for a spec attached to no service). "table"
// and "markdown" show the findings only (the command line prints the
// attachments on standard error).
func WriteReport(w io.Writer, rep Report, format, toolVersion string) error {
	return WriteReportWidth(w, rep, format, toolVersion, 0)
}

// WriteReportWidth is WriteReport with the "table" format fitted to width
// columns of display width (a terminal's; 0: nothing is cut), cells cut
// between characters, never inside a UTF-8 sequence.
func WriteReportWidth(w io.Writer, rep Report, format, toolVersion string, width int) error {
	fs := rep.Findings
	switch format {
	case "table", "":
		return writeTable(w, rep, width)
	case "json":
		if rep.Findings == nil {
			rep.Findings = []Finding{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	case "sarif":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		log := sarifOf(fs, toolVersion)
		if len(rep.Specs) > 0 || len(rep.Unchecked) > 0 || rep.Baseline != nil {
			log.Runs[0].Invocations = []sarifInvocation{sarifAttachments(rep)}
		}
		return enc.Encode(log)
	case "markdown", "md":
		return writeMarkdown(w, rep)
	}
	return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats(), ", "))
}

// groups splits sorted findings by kind, in Kinds order.
func groups(fs []Finding) map[Kind][]Finding {
	g := map[Kind][]Finding{}
	for _, f := range fs {
		g[f.Kind] = append(g[f.Kind], f)
	}
	return g
}

func label(f *Finding) string {
	if f.Kind == KindShadow && f.Rule == RuleUndeclaredMethod {
		return "shadow method"
	}
	if f.Kind == KindShadow && strings.HasPrefix(f.Rule, "graphql-") {
		return "shadow graphql " + strings.TrimPrefix(strings.TrimPrefix(f.Rule[:strings.IndexByte(f.Rule+":", ':')], "graphql-"), "undeclared-")
	}
	if f.Kind == KindShadow {
		return "shadow endpoint"
	}
	return strings.ReplaceAll(string(f.Kind), "_", " ")
}

func writeTable(w io.Writer, rep Report, width int) error {
	fs := rep.Findings
	if len(fs) == 0 {
		msg := "no findings"
		if rep.Baseline != nil {
			msg += " (" + rep.Baseline.String() + ")"
		}
		if n := len(Unattached(rep.Specs)); n > 0 {
			msg += fmt.Sprintf(" — but %d spec(s) attached to no service checked nothing", n)
		}
		_, err := fmt.Fprintln(w, msg)
		return err
	}
	g := groups(fs)
	tw := table.New(w, width)
	first := true
	for _, k := range Kinds() {
		list := g[k]
		if len(list) == 0 {
			continue
		}
		if !first {
			fmt.Fprintln(tw)
		}
		first = false
		fmt.Fprintf(tw, "%s (%d)\n", strings.ToUpper(strings.ReplaceAll(string(k), "_", " ")), len(list))
		fmt.Fprintln(tw, "  SEVERITY\tSERVICE\tMETHOD\tPATH\tCOUNT\tRULE\tREASON")
		for _, f := range list {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%s\t%s\n", f.Severity, f.Service, f.Method, f.Path, f.Count, f.Rule, reasonText(&f, 100))
		}
	}
	if rep.Baseline != nil {
		fmt.Fprintf(tw, "\n%s\n", rep.Baseline)
	}
	return tw.Flush()
}

// reasonText is a finding's reason on one line, cut at n columns unless it
// names parameters: every one of those is shown.
func reasonText(f *Finding, n int) string {
	if len(f.Paths) > 0 {
		return oneLine(f.Reason, n) + " " + pathsText(f)
	}
	if len(f.Params) > 0 {
		return oneLine(f.Reason, len(f.Reason))
	}
	return oneLine(f.Reason, n)
}

// pathsText names the concrete paths behind a finding: "(paths: a, b and
// 3 more)".
func pathsText(f *Finding) string {
	s := "(paths: " + strings.Join(f.Paths, ", ")
	if f.PathsMore > 0 {
		s += fmt.Sprintf(" and %d more", f.PathsMore)
	}
	return s + ")"
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	// Cut by display width, between characters: never inside UTF-8.
	return runewidth.Truncate(s, n+1, "…")
}

func mdEscape(s string) string {
	r := strings.NewReplacer("|", "\\|", "`", "'", "\n", " ", "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}

func writeMarkdown(w io.Writer, rep Report) error {
	fs := rep.Findings
	var b strings.Builder
	b.WriteString("## Specter API diff\n\n")
	if rep.Baseline != nil {
		b.WriteString(mdEscape(rep.Baseline.String()) + ".\n\n")
	}
	if n := len(Unattached(rep.Specs)); n > 0 {
		fmt.Fprintf(&b, "**%d spec(s) attached to no service of the traffic: they checked nothing.**\n\n", n)
	}
	if len(fs) == 0 {
		b.WriteString("No findings: the traffic matches the declared specs.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	g := groups(fs)
	b.WriteString("| kind | findings | exchanges |\n|---|---:|---:|\n")
	for _, k := range Kinds() {
		var n uint64
		for _, f := range g[k] {
			n += f.Count
		}
		if len(g[k]) > 0 {
			fmt.Fprintf(&b, "| %s | %d | %d |\n", k, len(g[k]), n)
		}
	}
	for _, k := range Kinds() {
		if len(g[k]) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n### %s (%d)\n\n", k, len(g[k]))
		b.WriteString("| severity | service | operation | count | reason |\n|---|---|---|---:|---|\n")
		for _, f := range g[k] {
			fmt.Fprintf(&b, "| %s | %s | `%s %s` | %d | %s |\n", f.Severity, mdEscape(f.Service), f.Method, mdEscape(f.Path), f.Count, mdEscape(reasonText(&f, 160)))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// SARIF types: the subset of SARIF 2.1.0 the report uses.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool        sarifTool         `json:"tool"`
		Invocations []sarifInvocation `json:"invocations,omitempty"`
		Results     []sarifResult     `json:"results"`
	}
	sarifInvocation struct {
		ExecutionSuccessful bool                `json:"executionSuccessful"`
		Notifications       []sarifNotification `json:"toolConfigurationNotifications,omitempty"`
	}
	sarifNotification struct {
		Descriptor sarifDescriptor `json:"descriptor"`
		Level      string          `json:"level"`
		Message    sarifText       `json:"message"`
		Locations  []sarifLocation `json:"locations,omitempty"`
	}
	sarifDescriptor struct {
		ID string `json:"id"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version,omitempty"`
		InformationURI string      `json:"informationUri,omitempty"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string      `json:"id"`
		Name                 string      `json:"name"`
		ShortDescription     sarifText   `json:"shortDescription"`
		FullDescription      sarifText   `json:"fullDescription"`
		DefaultConfiguration sarifConfig `json:"defaultConfiguration"`
	}
	sarifConfig struct {
		Level string `json:"level"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifResult struct {
		RuleID              string            `json:"ruleId"`
		RuleIndex           int               `json:"ruleIndex"`
		Level               string            `json:"level"`
		Message             sarifText         `json:"message"`
		Locations           []sarifLocation   `json:"locations,omitempty"`
		PartialFingerprints map[string]string `json:"partialFingerprints"`
		Properties          map[string]any    `json:"properties,omitempty"`
	}
	sarifLocation struct {
		PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
		LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           *sarifRegion  `json:"region,omitempty"`
	}
	sarifArtifact struct {
		URI string `json:"uri"`
	}
	sarifRegion struct {
		StartLine int `json:"startLine"`
	}
	sarifLogical struct {
		Name               string `json:"name"`
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Kind               string `json:"kind"`
	}
)

// kindText describes each kind for SARIF rules.
var kindText = map[Kind][2]string{
	KindShadow:               {"ShadowAPI", "Traffic to an endpoint (path, or method of a declared path) that no declared spec for the service has."},
	KindAuthMismatch:         {"AuthMismatch", "The operation declares security, yet a request without credentials got a 2xx response."},
	KindAnomaly:              {"WireAnomaly", "An exchange's HTTP framing is suspicious: Content-Length with Transfer-Encoding or other request-smuggling shapes, or a message paired after the parser resynchronized."},
	KindZombie:               {"ZombieAPI", "A declared operation marked deprecated: true still receives traffic."},
	KindNoncompliantRequest:  {"NoncompliantRequest", "Path, query, header or cookie parameters, or the body of a request, violate the declared schema, or an undeclared query parameter was sent."},
	KindNoncompliantResponse: {"NoncompliantResponse", "A response has an undeclared status code or content type, or a body violating the declared schema."},
	KindUnused:               {"UnusedAPI", "A declared operation received no traffic while its service had traffic."},
	KindScan:                 {"PathScan", "Most requests to the service were answered 404 at paths of shapes it serves no other way: a path scan, kept out of the inventory."},
	KindIntrospection:        {"GraphQLIntrospection", "A GraphQL introspection query (__schema or __type) was seen in the traffic: the schema is open to its clients."},
}

func sarifLevel(s Severity) string {
	switch s {
	case SeverityHigh:
		return "error"
	case SeverityMedium:
		return "warning"
	}
	return "note"
}

// SARIF returns findings as a SARIF 2.1.0 log, each result located in the
// declared spec file (at the operation's line) where there is one.
func SARIF(fs []Finding, toolVersion string) any { return sarifOf(fs, toolVersion) }

// sarifAttachments reports each spec's attachment as a notification:
// "spec-attached" (note) or "spec-unattached" (error), located at the
// spec file; services no spec is attached to are one warning.
func sarifAttachments(rep Report) sarifInvocation {
	inv := sarifInvocation{ExecutionSuccessful: true}
	for _, a := range rep.Specs {
		n := sarifNotification{Descriptor: sarifDescriptor{"spec-attached"}, Level: "note", Message: sarifText{a.String()},
			Locations: []sarifLocation{{PhysicalLocation: &sarifPhysical{ArtifactLocation: sarifArtifact{URI: filepath.ToSlash(a.Spec)}}}}}
		switch {
		case !a.Attached():
			n.Descriptor.ID, n.Level = "spec-unattached", "error"
		case len(a.UnattachedServers) > 0:
			n.Descriptor.ID, n.Level = "spec-partly-attached", "warning"
		}
		inv.Notifications = append(inv.Notifications, n)
	}
	if rep.Baseline != nil {
		inv.Notifications = append(inv.Notifications, sarifNotification{Descriptor: sarifDescriptor{"baseline-suppressed"}, Level: "note",
			Message: sarifText{rep.Baseline.String()}})
	}
	if len(rep.Unchecked) > 0 {
		inv.Notifications = append(inv.Notifications, sarifNotification{Descriptor: sarifDescriptor{"service-unchecked"}, Level: "warning",
			Message: sarifText{"no spec is attached to " + strings.Join(rep.Unchecked, ", ")}})
	}
	return inv
}

func sarifOf(fs []Finding, toolVersion string) sarifLog {
	drv := sarifDriver{Name: "specter", Version: toolVersion, InformationURI: "https://github.com/specter-dev/specter"}
	idx := map[Kind]int{}
	for i, k := range Kinds() {
		idx[k] = i
		t := kindText[k]
		drv.Rules = append(drv.Rules, sarifRule{
			ID: string(k), Name: t[0], ShortDescription: sarifText{t[0]}, FullDescription: sarifText{t[1]},
			DefaultConfiguration: sarifConfig{sarifLevel(severityOf(k))},
		})
	}
	results := []sarifResult{}
	for _, f := range fs {
		i, ok := idx[f.Kind]
		if !ok {
			continue
		}
		op := f.Method + " " + f.Path
		loc := sarifLocation{LogicalLocations: []sarifLogical{{Name: op, FullyQualifiedName: f.Service + " " + op, Kind: "function"}}}
		if f.Spec != "" {
			loc.PhysicalLocation = &sarifPhysical{ArtifactLocation: sarifArtifact{URI: filepath.ToSlash(f.Spec)}}
			if f.SpecLine > 0 {
				loc.PhysicalLocation.Region = &sarifRegion{StartLine: f.SpecLine}
			}
		}
		msg := fmt.Sprintf("%s: %s on %s (%d exchanges)", label(&f), op, f.Service, f.Count)
		if f.Reason != "" {
			msg += ": " + f.Reason
		}
		if len(f.Paths) > 0 {
			msg += " " + pathsText(&f)
		}
		results = append(results, sarifResult{
			RuleID: string(f.Kind), RuleIndex: i, Level: sarifLevel(f.Severity), Message: sarifText{msg},
			Locations: []sarifLocation{loc}, PartialFingerprints: map[string]string{"specter/v1": f.Fingerprint},
			Properties: map[string]any{"service": f.Service, "method": f.Method, "path": f.Path, "rule": f.Rule, "count": f.Count},
		})
	}
	return sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{{Tool: sarifTool{Driver: drv}, Results: results}}}
}

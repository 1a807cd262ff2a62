package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/specter-dev/specter/infer"
)

// showOptions are show's resolved flags and arguments.
type showOptions struct {
	Method, Path string
	lookupOptions
}

func newShowCmd() *cobra.Command {
	opts := &showOptions{}
	var pf pipelineFlags
	cmd := &cobra.Command{
		Use:   "show [flags] METHOD PATH [FILE|DIR|- ...]",
		Short: "Show one endpoint in detail: parameters, schemas, statuses, latency, examples",
		Long: `Show prints one endpoint of the inventory: its counts, first and last seen,
statuses, latency percentiles, authentication and sensitive-data tags, and
its OpenAPI operation (parameters, request and response schemas, redacted
examples). PATH is a template (/users/{id}) or a concrete path (/users/42)
matched to the template that covers it. The inventory is the database given
with --db (specter.db by convention), else the captures named after PATH.
When several services have a matching endpoint, each is shown; --host picks
one.`,
		Example: `  specter show --db specter.db GET /users/42
  specter show --host api.example.com POST '/orders/{orderId}/items' capture.pcap`,
		Args: methodPathArgs("show", &opts.DBPath),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Method, opts.Path = strings.ToUpper(args[0]), args[1]
			if !strings.HasPrefix(opts.Path, "/") {
				return usageError("PATH %q must start with /", opts.Path)
			}
			opts.Inputs = inputOptions{Paths: args[2:], Reassembly: pf.config()}
			return runShow(cmd.Context(), streamsOf(cmd), opts)
		},
	}
	registerLookupFlags(cmd, &pf, &opts.Infer, &opts.Host, &opts.JSON, &opts.DBPath)
	return cmd
}

// runShow prints the endpoints of the inventory matching the method and
// path, with their operations.
func runShow(ctx context.Context, ios ioStreams, opts *showOptions) error {
	var m *infer.Model
	var sum summary
	var runErr error
	var err error
	if opts.DBPath != "" {
		m, err = showStored(ctx, opts)
	} else {
		m, sum, runErr, err = inventory(ctx, ios, opts.Inputs, &opts.Infer, "", opts.Host)
	}
	if err != nil {
		return err
	}
	if runErr != nil && sum.Packets == 0 {
		return outcome(sum, runErr)
	}
	found := findEndpoints(m.Endpoints(), opts.Method, opts.Path, opts.Host)
	if len(found) == 0 {
		return partialError(fmt.Errorf("no endpoint %s %s in the inventory", opts.Method, opts.Path))
	}
	var details []endpointDetail
	for _, e := range found {
		d := endpointDetail{Endpoint: e}
		doc, err := m.OpenAPI(e.Service, infer.ExportOptions{Examples: true})
		if err != nil {
			return fatalError(err)
		}
		if pi := doc.Paths.Value(e.Template); pi != nil {
			d.Operation = pi.GetOperation(e.Method)
		}
		details = append(details, d)
	}
	if opts.JSON {
		enc := json.NewEncoder(ios.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(details); err != nil {
			return err
		}
	} else {
		for i, d := range details {
			if i > 0 {
				fmt.Fprintln(ios.Out)
			}
			if err := printDetail(ios.Out, d); err != nil {
				return fatalError(err)
			}
		}
	}
	return outcome(sum, runErr)
}

// showStored returns the model of the services of the database that have
// an endpoint matching opts: the summary rows find them, and only their
// state is decoded.
func showStored(ctx context.Context, opts *showOptions) (*infer.Model, error) {
	cfg, err := opts.Infer.inferConfig()
	if err != nil {
		return nil, err
	}
	db, err := openStored(ctx, opts.DBPath, cfg)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var names []string // nil: every service
	if opts.Infer.config == "" && len(opts.Infer.specs) == 0 {
		eps, err := db.Endpoints(ctx, opts.Host)
		if err != nil {
			return nil, fatalError(err)
		}
		names = []string{}
		for _, e := range findEndpoints(eps, opts.Method, opts.Path, opts.Host) {
			names = append(names, e.Service)
		}
		if len(names) == 0 {
			return nil, partialError(fmt.Errorf("no endpoint %s %s in the inventory", opts.Method, opts.Path))
		}
	} else if opts.Host != "" {
		names = []string{opts.Host}
	}
	m, err := db.Model(ctx, names...)
	if err != nil {
		return nil, fatalError(err)
	}
	if err := opts.Infer.addSpecs(m); err != nil {
		return nil, err
	}
	return m, nil
}

// endpointDetail is what show prints for one endpoint.
type endpointDetail struct {
	Endpoint  infer.EndpointSummary `json:"endpoint"`
	Operation *openapi3.Operation   `json:"operation,omitempty"`
}

// findEndpoints returns the endpoints of method whose template is path, or,
// when none is, whose template matches path as a concrete path.
func findEndpoints(eps []infer.EndpointSummary, method, path, host string) []infer.EndpointSummary {
	var exact, matched []infer.EndpointSummary
	for _, e := range eps {
		if e.Method != method || host != "" && e.Service != host {
			continue
		}
		if e.Template == path {
			exact = append(exact, e)
		} else if templateMatches(e.Template, path) {
			matched = append(matched, e)
		}
	}
	if len(exact) > 0 {
		return exact
	}
	return matched
}

// templateMatches reports whether a concrete path is one of a template's:
// segment by segment, literals equal and each {param} at least one
// character without a slash.
func templateMatches(tmpl, path string) bool {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	ts, ps := strings.Split(tmpl, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i, t := range ts {
		if !strings.Contains(t, "{") {
			if t != ps[i] {
				return false
			}
			continue
		}
		if !segmentPattern(t).MatchString(ps[i]) {
			return false
		}
	}
	return true
}

var paramRe = regexp.MustCompile(`\{[^{}/]*\}`)

// segmentPattern turns a template segment ("{id}.json") into a pattern.
func segmentPattern(seg string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	last := 0
	for _, loc := range paramRe.FindAllStringIndex(seg, -1) {
		b.WriteString(regexp.QuoteMeta(seg[last:loc[0]]))
		b.WriteString("[^/]+")
		last = loc[1]
	}
	b.WriteString(regexp.QuoteMeta(seg[last:]))
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func printDetail(w io.Writer, d endpointDetail) error {
	e := d.Endpoint
	tw := newTable(w)
	row := func(k string, v any) { fmt.Fprintf(tw, "%s\t%v\n", k, v) }
	row("service", e.Service)
	row("endpoint", e.Method+" "+e.Template)
	row("requests", e.Count)
	row("first seen", e.FirstSeen.UTC().Format("2006-01-02T15:04:05Z07:00"))
	row("last seen", e.LastSeen.UTC().Format("2006-01-02T15:04:05Z07:00"))
	st := statusCounts(e.Statuses)
	row("statuses", strings.Join(st, " "))
	row("latency", fmt.Sprintf("p50 %.2f ms, p90 %.2f ms, p99 %.2f ms", e.Latency.P50, e.Latency.P90, e.Latency.P99))
	row("auth", dash(strings.Join(e.Auth, ", ")))
	row("unauthenticated 2xx", e.Unauthenticated2xx)
	row("sensitive", dash(strings.Join(e.Sensitive, ", ")))
	if e.FromSpec {
		row("template from", "declared spec or config")
	}
	printOperationDetail(tw, e)
	if err := tw.Flush(); err != nil {
		return err
	}
	if d.Operation == nil {
		return nil
	}
	// The operation as YAML, through its JSON (kin-openapi's marshalling,
	// with extensions) so that keys keep their order.
	js, err := d.Operation.MarshalJSON()
	if err != nil {
		return err
	}
	var n yaml.Node
	if err := yaml.Unmarshal(js, &n); err != nil {
		return err
	}
	plain(&n)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	body := strings.ReplaceAll(strings.TrimSuffix(buf.String(), "\n"), "\n", "\n  ")
	_, err = fmt.Fprintf(w, "\noperation:\n  %s\n", body)
	return err
}

// plain drops the flow and quoting styles a JSON source gives YAML nodes.
func plain(n *yaml.Node) {
	n.Style = 0
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && strings.ContainsAny(n.Value, "\n") {
		n.Style = yaml.LiteralStyle
	}
	for _, c := range n.Content {
		plain(c)
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/spf13/cobra"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/diff"
)

// inferFlags are the options of every command that infers the API.
type inferFlags struct {
	config string
	specs  []string
}

func (f *inferFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.config, "config", "", "YAML file forcing templates, keeping segments static, ignoring hosts or paths (see README)")
	cmd.Flags().StringArrayVar(&f.specs, "spec", nil, "declared OpenAPI/Swagger spec (file or directory, repeatable): its templates win where traffic matches them")
}

// model builds an inference model with the config and declared specs.
func (f *inferFlags) model() (*infer.Model, error) {
	cfg := infer.Config{}
	if f.config != "" {
		c, err := infer.LoadConfig(f.config)
		if err != nil {
			return nil, usageError("%v", err)
		}
		cfg = c
	}
	m := infer.NewModel(cfg)
	specs, err := diff.LoadSpecs(f.specs...)
	if err != nil {
		return nil, usageError("%v", err)
	}
	for _, s := range specs {
		hosts := s.Hosts
		if len(hosts) == 0 {
			hosts = []string{""}
		}
		for _, h := range hosts {
			m.SetPrior(s.Doc, h)
		}
	}
	return m, nil
}

// inferFromFiles runs the captures through the pipeline into the model.
func inferFromFiles(cmd *cobra.Command, paths []string, pf *pipelineFlags, m *infer.Model) (summary, error) {
	return runWithProgress(cmd, paths, pf.config(), m.Observe)
}

func newExportCmd() *cobra.Command {
	var pf pipelineFlags
	var inf inferFlags
	var host, format, version, output string
	var examples bool
	cmd := &cobra.Command{
		Use:   "export [flags] FILE|DIR|- ...",
		Short: "Infer the API from captures and write it as an OpenAPI document",
		Long: `Export infers every endpoint the captured traffic reached — path templates,
parameters with their types, request and response schemas, authentication,
sensitive data — and writes it as OpenAPI 3.0 or 3.1, one document per
service (--host) or all services in one document with a server each.
Examples in the document are redacted.`,
		Example: `  specter export -o api.yaml capture.pcap
  specter export --host api.example.com --format json --openapi 3.1 captures/
  specter export --spec declared.yaml --config specter.yaml capture.pcap`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "yaml" && format != "json" {
				return usageError("unknown --format %q (want yaml or json)", format)
			}
			if version != "3.0" && version != "3.1" {
				return usageError("unknown --openapi %q (want 3.0 or 3.1)", version)
			}
			m, err := inf.model()
			if err != nil {
				return err
			}
			sum, runErr := inferFromFiles(cmd, args, &pf, m)
			if runErr != nil && sum.Packets == 0 {
				return outcome(sum, runErr)
			}
			opts := infer.ExportOptions{Version: version, Examples: examples}
			var doc *openapi3.T
			if host != "" {
				doc, err = m.OpenAPI(host, opts)
			} else {
				doc, err = m.OpenAPIAll(opts)
			}
			if err != nil {
				return &exitError{code: exitFatal, err: err}
			}
			var w io.Writer = cmd.OutOrStdout()
			if output != "" && output != "-" {
				f, err := os.Create(output)
				if err != nil {
					return usageError("%v", err)
				}
				defer f.Close()
				w = f
			}
			if err := infer.Write(w, doc, format); err != nil {
				return &exitError{code: exitFatal, err: err}
			}
			for _, e := range sum.Errors {
				fmt.Fprintf(cmd.ErrOrStderr(), "error: %s\n", e)
			}
			return outcome(sum, runErr)
		},
	}
	pf.register(cmd)
	inf.register(cmd)
	cmd.Flags().StringVar(&host, "host", "", "export only this service (Host header, or address:port)")
	cmd.Flags().StringVar(&format, "format", "yaml", "yaml or json")
	cmd.Flags().StringVar(&version, "openapi", "3.0", "OpenAPI version: 3.0 or 3.1")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of standard output")
	cmd.Flags().BoolVar(&examples, "examples", false, "include redacted body examples")
	return cmd
}

func newEndpointsCmd() *cobra.Command {
	var pf pipelineFlags
	var inf inferFlags
	var host string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "endpoints [flags] FILE|DIR|- ...",
		Short: "List the API endpoints seen in captures",
		Long: `Endpoints infers the API from the captures and lists every endpoint: service,
method, path template, request count, first and last seen, the statuses
answered, the authentication seen and the kinds of sensitive data carried.`,
		Example: `  specter endpoints capture.pcap
  specter endpoints --json --host api.example.com captures/ | jq '.[].template'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := inf.model()
			if err != nil {
				return err
			}
			sum, runErr := inferFromFiles(cmd, args, &pf, m)
			if runErr != nil && sum.Packets == 0 {
				return outcome(sum, runErr)
			}
			eps := m.Endpoints()
			if host != "" {
				kept := eps[:0]
				for _, e := range eps {
					if e.Service == host {
						kept = append(kept, e)
					}
				}
				eps = kept
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if eps == nil {
					eps = []infer.EndpointSummary{}
				}
				if err := enc.Encode(eps); err != nil {
					return err
				}
			} else {
				printEndpoints(cmd.OutOrStdout(), eps)
			}
			return outcome(sum, runErr)
		},
	}
	pf.register(cmd)
	inf.register(cmd)
	cmd.Flags().StringVar(&host, "host", "", "only this service")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}

func printEndpoints(w io.Writer, eps []infer.EndpointSummary) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tMETHOD\tTEMPLATE\tCOUNT\tSTATUSES\tFIRST SEEN\tLAST SEEN\tAUTH\tSENSITIVE")
	for _, e := range eps {
		codes := make([]int, 0, len(e.Statuses))
		for c := range e.Statuses {
			codes = append(codes, c)
		}
		sort.Ints(codes)
		var st []string
		for _, c := range codes {
			st = append(st, fmt.Sprintf("%d×%d", c, e.Statuses[c]))
		}
		auth := strings.Join(e.Auth, ",")
		if e.Unauthenticated2xx {
			auth += " (2xx without credentials!)"
		}
		if auth == "" {
			auth = "-"
		}
		sens := strings.Join(e.Sensitive, ",")
		if sens == "" {
			sens = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", e.Service, e.Method, e.Template, e.Count,
			strings.Join(st, " "), e.FirstSeen.UTC().Format(time.RFC3339), e.LastSeen.UTC().Format(time.RFC3339), strings.TrimSpace(auth), sens)
	}
	tw.Flush()
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
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
	f.registerConfig(cmd)
	cmd.Flags().StringArrayVar(&f.specs, "prior", nil, "OpenAPI/Swagger spec (file or directory, repeatable) whose templates win where traffic matches them (a prior for inference; --spec is for checking)")
	refuseSpecAsPrior(cmd)
}

// registerConfig registers --config alone, for commands whose --spec is
// registered by specFlags (and serves as the prior too).
func (f *inferFlags) registerConfig(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.config, "config", "", "YAML file forcing templates, keeping segments static, ignoring hosts or paths (see README)")
	// A bad config is an error even where this run would not read it
	// (analyze without --db): it will be read by the next one.
	preRun(cmd, func() error { _, err := f.inferConfig(); return err })
}

// inferConfig loads the --config file, if any.
func (f *inferFlags) inferConfig() (infer.Config, error) {
	if f.config == "" {
		return infer.Config{}, nil
	}
	c, err := infer.LoadConfig(f.config)
	if err != nil {
		return infer.Config{}, usageError("%v", err)
	}
	return c, nil
}

// model builds an inference model with the config and declared specs.
func (f *inferFlags) model() (*infer.Model, error) {
	cfg, err := f.inferConfig()
	if err != nil {
		return nil, err
	}
	m := infer.NewModel(cfg)
	if err := f.addSpecs(m); err != nil {
		return nil, err
	}
	return m, nil
}

// addSpecs declares the --prior documents' templates on m.
func (f *inferFlags) addSpecs(m *infer.Model) error {
	specs, err := diff.LoadSpecs(f.specs...)
	if err != nil {
		return usageError("%v", err)
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
	return nil
}

// inferFromFiles runs the captures through the pipeline into the model.
func inferFromFiles(cmd *cobra.Command, paths []string, pf *pipelineFlags, m *infer.Model) (summary, error) {
	return runWithProgress(cmd, paths, pf.config(), m.Observe)
}

func newExportCmd() *cobra.Command {
	var pf pipelineFlags
	var inf inferFlags
	var host, format, version, output, dbPath string
	var examples bool
	cmd := &cobra.Command{
		Use:   "export [flags] FILE|DIR|- ...  |  export --db PATH [flags]",
		Short: "Infer the API from captures and write it as an OpenAPI document",
		Long: `Export infers every endpoint the captured traffic reached — path templates,
parameters with their types, request and response schemas, authentication,
sensitive data — and writes it as OpenAPI 3.0 or 3.1, one document per
service (--host) or all services in one document with a server each.
Examples in the document are redacted. With --db the inventory is read from
a database written by "specter analyze --db" instead of from captures.`,
		Example: `  specter export -o api.yaml capture.pcap
  specter export --db specter.db --host api.example.com
  specter export --host api.example.com --format json --openapi 3.1 captures/
  specter export --prior declared.yaml --config specter.yaml capture.pcap`,
		Args: dbOrFiles(&dbPath),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "yaml" && format != "json" {
				return usageError("unknown --format %q (want yaml or json)", format)
			}
			if version != "3.0" && version != "3.1" {
				return usageError("unknown --openapi %q (want 3.0 or 3.1)", version)
			}
			m, sum, runErr, err := inventory(cmd, args, &pf, &inf, dbPath, host)
			if err != nil {
				return err
			}
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
			w, closeOut, err := outputFile(cmd.OutOrStdout(), output)
			if err != nil {
				return err
			}
			defer closeOut()
			if err := infer.Write(w, doc, format); err != nil {
				return &exitError{code: exitFatal, err: err}
			}
			return outcome(sum, runErr)
		},
	}
	pf.register(cmd)
	registerKeylog(cmd)
	inf.register(cmd)
	cmd.Flags().StringVar(&host, "host", "", "export only this service (Host header, or address:port)")
	cmd.Flags().StringVar(&format, "format", "yaml", "yaml or json")
	cmd.Flags().StringVar(&version, "openapi", "3.0", "OpenAPI version: 3.0 or 3.1")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of standard output")
	cmd.Flags().BoolVar(&examples, "examples", false, "include redacted body examples")
	registerDB(cmd, &dbPath, "read the inventory from this database instead of captures")
	return cmd
}

func newEndpointsCmd() *cobra.Command {
	var pf pipelineFlags
	var inf inferFlags
	var host, dbPath string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "endpoints [flags] FILE|DIR|- ...  |  endpoints --db PATH [flags]",
		Short: "List the API endpoints seen in captures",
		Long: `Endpoints infers the API from the captures and lists every endpoint: service,
method, path template, request count, first and last seen, the statuses
answered, the authentication seen and the kinds of sensitive data carried.
With --db it lists the inventory stored by "specter analyze --db" (from the
summary rows, without re-deciding templates unless --config or --prior is
given).`,
		Example: `  specter endpoints capture.pcap
  specter endpoints --db specter.db --host api.example.com
  specter endpoints --json --host api.example.com captures/ | jq '.[].template'`,
		Args: dbOrFiles(&dbPath),
		RunE: func(cmd *cobra.Command, args []string) error {
			var eps []infer.EndpointSummary
			var sum summary
			var runErr error
			if dbPath != "" && inf.config == "" && len(inf.specs) == 0 {
				var err error
				if eps, err = storedEndpoints(cmd, dbPath, host); err != nil {
					return err
				}
			} else {
				var m *infer.Model
				var err error
				m, sum, runErr, err = inventory(cmd, args, &pf, &inf, dbPath, host)
				if err != nil {
					return err
				}
				if runErr != nil && sum.Packets == 0 {
					return outcome(sum, runErr)
				}
				eps = m.Endpoints()
				noteScans(cmd.ErrOrStderr(), m)
			}
			if host != "" {
				kept := eps[:0]
				for _, e := range eps {
					if e.Service == host {
						kept = append(kept, e)
					}
				}
				eps = kept
			}
			if host != "" && len(eps) == 0 {
				// A mistyped --host must not read as "this service has no
				// endpoints"; show and export refuse it the same way.
				return &exitError{code: exitPartial, err: fmt.Errorf("no service %q in the inventory", host)}
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
				if err := printTLSServices(cmd, dbPath, host, sum); err != nil {
					return err
				}
			}
			return outcome(sum, runErr)
		},
	}
	pf.register(cmd)
	registerKeylog(cmd)
	inf.register(cmd)
	cmd.Flags().StringVar(&host, "host", "", "only this service")
	registerOutput(cmd, &asJSON)
	registerDB(cmd, &dbPath, "list the inventory stored in this database instead of reading captures")
	return cmd
}

func printEndpoints(w io.Writer, eps []infer.EndpointSummary) {
	tw := newTable(w)
	// The processes column only for eBPF-captured inventories.
	procs := false
	for _, e := range eps {
		procs = procs || len(e.Processes) > 0
	}
	head := "SERVICE\tMETHOD\tTEMPLATE\tCOUNT\tSTATUSES\tFIRST SEEN\tLAST SEEN\tAUTH\tSENSITIVE"
	if procs {
		head += "\tPROCESSES"
	}
	fmt.Fprintln(tw, head)
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s", e.Service, e.Method, e.Template, e.Count,
			strings.Join(st, " "), e.FirstSeen.UTC().Format(time.RFC3339), e.LastSeen.UTC().Format(time.RFC3339), strings.TrimSpace(auth), sens)
		if procs {
			p := sortedProcesses(e.Processes)
			if p == "" {
				p = "-"
			}
			fmt.Fprintf(tw, "\t%s", p)
		}
		fmt.Fprintln(tw)
		printOperationRows(tw, e)
	}
	tw.Flush()
}

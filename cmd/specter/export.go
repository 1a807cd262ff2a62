package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
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

// exportOptions are export's resolved flags.
type exportOptions struct {
	Inputs   inputOptions
	Infer    inferFlags
	Host     string
	Format   string // yaml or json
	OpenAPI  string // 3.0 or 3.1
	Output   string
	Examples bool
	// IncludeStatic keeps a web page's files (scripts, stylesheets,
	// fonts, icons) in the document.
	IncludeStatic bool
	DBPath        string
	// Protos are the protosets naming the messages of Format proto.
	Protos protoFlags
}

func newExportCmd() *cobra.Command {
	opts := &exportOptions{}
	var pf pipelineFlags
	cmd := &cobra.Command{
		Use:   "export [flags] FILE|DIR|- ...  |  export --db PATH [flags]",
		Short: "Infer the API from captures and write it as an OpenAPI document",
		Long: `Export infers every endpoint the captured traffic reached — path templates,
parameters with their types, request and response schemas, authentication,
sensitive data — and writes it as OpenAPI 3.0 or 3.1, one document per
service (--host) or all services in one document with a server each.
Examples in the document are redacted. The GETs that serve a web page's
files (scripts, stylesheets, fonts, icons) stay in the inventory but are
left out of the document unless --include-static. With --db the inventory
is read from a database written by "specter analyze --db" instead of from
captures.

With --format proto it writes a reconstructed .proto per gRPC service seen
instead: the methods with their observed streaming kinds, and the request
and response messages inferred from the wire (fields field_N, typed by wire
type; nested messages, strings and packed repeated fields told apart).
--proto FILE.protoset (a FileDescriptorSet: protoc --descriptor_set_out,
buf build -o) names the declared methods' messages and fields. With -o DIR
each service goes to DIR/<package.Service>.proto; on standard output the
files follow one another, each after a "// ==> NAME.proto <==" line.`,
		Example: `  specter export -o api.yaml capture.pcap
  specter export --db specter.db --host api.example.com
  specter export --host api.example.com --format json --openapi 3.1 captures/
  specter export --prior declared.yaml --config specter.yaml capture.pcap
  specter export --db specter.db --format proto -o protos/
  specter export --db specter.db --format proto --proto api.protoset`,
		Args: dbOrFiles(&opts.DBPath),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Inputs = inputOptions{Paths: args, Reassembly: pf.config()}
			if err := opts.resolve(); err != nil {
				return err
			}
			return runExport(cmd.Context(), streamsOf(cmd), opts)
		},
	}
	pf.register(cmd)
	registerKeylog(cmd)
	opts.Infer.register(cmd)
	cmd.Flags().StringVar(&opts.Host, "host", "", "export only this service (Host header, or address:port)")
	cmd.Flags().StringVar(&opts.Format, "format", "yaml", "yaml or json (OpenAPI), or proto (a .proto per gRPC service)")
	opts.Protos.register(cmd, "with --format proto: a FileDescriptorSet (repeatable) whose declarations name the messages and fields")
	cmd.Flags().StringVar(&opts.OpenAPI, "openapi", "3.0", "OpenAPI version: 3.0 or 3.1")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "write to this file instead of standard output (with --format proto: this directory)")
	cmd.Flags().BoolVar(&opts.Examples, "examples", false, "include redacted body examples")
	cmd.Flags().BoolVar(&opts.IncludeStatic, "include-static", false, "also export the GETs that serve a web page's scripts, stylesheets, fonts and icons")
	registerDB(cmd, &opts.DBPath, "read the inventory from this database instead of captures")
	return cmd
}

// resolve checks --format and --openapi.
func (o *exportOptions) resolve() error {
	if o.Format != "yaml" && o.Format != "json" && o.Format != "proto" {
		return usageError("unknown --format %q (want yaml, json or proto)", o.Format)
	}
	if len(o.Protos.paths) > 0 && o.Format != "proto" {
		return usageError("--proto names the messages of --format proto")
	}
	if o.OpenAPI != "3.0" && o.OpenAPI != "3.1" {
		return usageError("unknown --openapi %q (want 3.0 or 3.1)", o.OpenAPI)
	}
	return nil
}

// runExport writes the inventory of the inputs (or the database) as an
// OpenAPI document.
func runExport(ctx context.Context, ios ioStreams, opts *exportOptions) error {
	m, sum, runErr, err := inventory(ctx, ios, opts.Inputs, &opts.Infer, opts.DBPath, opts.Host)
	if err != nil {
		return err
	}
	if runErr != nil && sum.Packets == 0 {
		return outcome(sum, runErr)
	}
	if opts.Format == "proto" {
		files, err := opts.Protos.load()
		if err != nil {
			return err
		}
		if err := writeProtos(ios.Out, ios.ErrOut, m, opts.Host, files, opts.Output); err != nil {
			return err
		}
		return outcome(sum, runErr)
	}
	eo := infer.ExportOptions{Version: opts.OpenAPI, Examples: opts.Examples, IncludeStatic: opts.IncludeStatic}
	var doc *openapi3.T
	if opts.Host != "" {
		doc, err = m.OpenAPI(opts.Host, eo)
	} else {
		doc, err = m.OpenAPIAll(eo)
	}
	if err != nil {
		return fatalError(err)
	}
	w, closeOut, err := outputFile(ios.Out, opts.Output)
	if err != nil {
		return err
	}
	defer closeOut()
	if err := infer.Write(w, doc, opts.Format); err != nil {
		return fatalError(err)
	}
	return outcome(sum, runErr)
}

// lookupOptions are the resolved flags of the verbs that read an
// inventory, from captures or --db, and list or look up its endpoints.
type lookupOptions struct {
	Inputs inputOptions
	Infer  inferFlags
	Host   string // only this service
	DBPath string
	JSON   bool
}

func newEndpointsCmd() *cobra.Command {
	opts := &lookupOptions{}
	var pf pipelineFlags
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
		Args: dbOrFiles(&opts.DBPath),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Inputs = inputOptions{Paths: args, Reassembly: pf.config()}
			return runEndpoints(cmd.Context(), streamsOf(cmd), opts)
		},
	}
	pf.register(cmd)
	registerKeylog(cmd)
	opts.Infer.register(cmd)
	cmd.Flags().StringVar(&opts.Host, "host", "", "only this service")
	registerOutput(cmd, &opts.JSON)
	registerDB(cmd, &opts.DBPath, "list the inventory stored in this database instead of reading captures")
	return cmd
}

// runEndpoints lists the endpoints of the inputs (or the database).
func runEndpoints(ctx context.Context, ios ioStreams, opts *lookupOptions) error {
	var eps []infer.EndpointSummary
	var grpcs []infer.GRPCMethodSummary
	var sum summary
	var runErr error
	if opts.DBPath != "" && opts.Infer.config == "" && len(opts.Infer.specs) == 0 {
		var err error
		if eps, grpcs, err = storedEndpointsAndGRPC(ctx, opts.DBPath, opts.Host); err != nil {
			return err
		}
	} else {
		m, s, rerr, err := inventory(ctx, ios, opts.Inputs, &opts.Infer, opts.DBPath, opts.Host)
		if err != nil {
			return err
		}
		if sum, runErr = s, rerr; runErr != nil && sum.Packets == 0 {
			return outcome(sum, runErr)
		}
		eps = m.Endpoints()
		grpcs = m.GRPCMethods()
		noteScans(ios.ErrOut, m)
	}
	if opts.Host != "" {
		eps = slices.DeleteFunc(eps, func(e infer.EndpointSummary) bool { return e.Service != opts.Host })
		grpcs = grpcOnly(grpcs, opts.Host)
		if len(eps) == 0 && len(grpcs) == 0 {
			// A mistyped --host must not read as "this service has no
			// endpoints"; show and export refuse it the same way.
			return partialError(fmt.Errorf("no service %q in the inventory", opts.Host))
		}
	}
	if opts.JSON {
		enc := json.NewEncoder(ios.Out)
		enc.SetIndent("", "  ")
		if eps == nil {
			eps = []infer.EndpointSummary{}
		}
		if err := enc.Encode(endpointsJSON(eps, grpcs)); err != nil {
			return err
		}
	} else {
		if len(eps) > 0 || len(grpcs) == 0 {
			printEndpoints(ios.Out, eps)
		}
		if len(grpcs) > 0 {
			if len(eps) > 0 {
				fmt.Fprintln(ios.Out)
			}
			printGRPCMethods(ios.Out, grpcs)
		}
		if err := printTLSServices(ctx, ios.Out, opts.DBPath, opts.Host, sum); err != nil {
			return err
		}
	}
	return outcome(sum, runErr)
}

// statusCounts returns "status×count" per status, in status order.
func statusCounts(statuses map[int]uint64) []string {
	var st []string
	for _, c := range slices.Sorted(maps.Keys(statuses)) {
		st = append(st, fmt.Sprintf("%d×%d", c, statuses[c]))
	}
	return st
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
		st := statusCounts(e.Statuses)
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

package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/diff"
	"github.com/specter-dev/specter/reassembly"
)

// specFlags are the declared-spec options of diff and analyze.
type specFlags struct {
	specs           []string
	specHosts       []string
	allowUnattached bool
}

func (f *specFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.specs, "spec", nil, "declared OpenAPI 3.x / Swagger 2.0 spec (file or directory, repeatable); attached to the services its servers (host) name")
	cmd.Flags().StringArrayVar(&f.specHosts, "spec-host", nil, "attach a spec to a service explicitly: HOST=FILE (repeatable; overrides the spec's servers)")
	cmd.Flags().BoolVar(&f.allowUnattached, "allow-unattached", false, "do not fail when a spec is attached to no service of the traffic, or a --spec directory holds no spec")
}

// load loads the specs, attaching --spec-host ones to their hosts. A
// --spec directory without any spec is an error unless --allow-unattached.
func (f *specFlags) load() ([]*diff.Spec, error) {
	var specs []*diff.Spec
	for _, p := range f.specs {
		ss, err := diff.LoadSpecs(p)
		if err != nil {
			return nil, usageError("%v", err)
		}
		if len(ss) == 0 && !f.allowUnattached {
			return nil, usageError("--spec %s: no OpenAPI 3 or Swagger 2.0 document in it (--allow-unattached to go on)", p)
		}
		specs = append(specs, ss...)
	}
	// A file may be several specs (path-level servers): --spec-host
	// attaches all of them.
	byFile := map[string][]*diff.Spec{}
	for _, s := range specs {
		k := filepath.Clean(s.File)
		byFile[k] = append(byFile[k], s)
	}
	hosts := map[*diff.Spec][]string{}
	var order []*diff.Spec
	for _, v := range f.specHosts {
		host, file, err := diff.ParseSpecHost(v)
		if err != nil {
			return nil, usageError("--spec-host %q: %v", v, err)
		}
		k := filepath.Clean(file)
		if byFile[k] == nil {
			s, err := diff.LoadSpec(file)
			if err != nil {
				return nil, usageError("%v", err)
			}
			byFile[k] = []*diff.Spec{s}
			specs = append(specs, s)
		}
		for _, s := range byFile[k] {
			if hosts[s] == nil {
				order = append(order, s)
			}
			hosts[s] = append(hosts[s], host)
		}
	}
	for _, s := range order {
		s.AttachTo(hosts[s]...)
	}
	return specs, nil
}

// attachments prints on w which services each spec was attached to, and
// returns an error naming every spec attached to none (it checked nothing:
// its "no findings" would be a lie) unless --allow-unattached.
func (f *specFlags) attachments(w io.Writer, as []diff.Attachment, unchecked []string) error {
	for i := range as {
		fmt.Fprintf(w, "specter: %s\n", as[i].String())
	}
	if len(unchecked) > 0 {
		fmt.Fprintf(w, "specter: no spec is attached to %s\n", strings.Join(unchecked, ", "))
	}
	bad := diff.Unattached(as)
	if len(bad) == 0 || f.allowUnattached {
		return nil
	}
	var names []string
	for _, a := range bad {
		servers := "no servers"
		if len(a.Servers) > 0 {
			servers = "servers " + strings.Join(a.Servers, ", ")
		}
		names = append(names, a.Spec+" ("+servers+")")
	}
	svcs := map[string]bool{}
	for _, a := range as {
		for _, s := range a.Services {
			svcs[s] = true
		}
	}
	for _, s := range unchecked {
		svcs[s] = true
	}
	seen := "no HTTP traffic was seen"
	if len(svcs) > 0 {
		seen = "the traffic's services are " + strings.Join(slices.Sorted(maps.Keys(svcs)), ", ")
	}
	return fatalError(fmt.Errorf("%d spec(s) attached to no service, so they checked nothing: %s; %s (match the servers, attach with --spec-host HOST=FILE, or --allow-unattached)",
		len(bad), strings.Join(names, "; "), seen))
}

// any reports whether specs are declared (--spec or --spec-host).
func (f *specFlags) any() bool { return len(f.specs) > 0 || len(f.specHosts) > 0 }

// loadAny loads the specs when any are declared, else returns nil.
func (f *specFlags) loadAny() ([]*diff.Spec, error) {
	if !f.any() {
		return nil, nil
	}
	return f.load()
}

// checkerOptions are the options of the spec checkers of diff, analyze and
// capture. Options.Anomalies is where reassembly's wire anomalies of an
// exchange reach the checker as anomaly findings.
func checkerOptions() diff.Options {
	return diff.Options{Anomalies: exchangeAnomalies}
}

// exchangeAnomalies hands the checker what reassembly flagged on the wire
// (bad framing, the request-smuggling shape, capped codings).
func exchangeAnomalies(x *reassembly.Exchange) []string { return x.Anomalies }

// printFindingsSummary is what analyze --spec prints after its summary:
// the count per kind, then the findings table.
func printFindingsSummary(w io.Writer, fs []diff.Finding) {
	n := map[diff.Kind]int{}
	for _, f := range fs {
		n[f.Kind]++
	}
	var parts []string
	for _, k := range diff.Kinds() {
		parts = append(parts, fmt.Sprintf("%s %d", k, n[k]))
	}
	fmt.Fprintf(w, "\nfindings: %s\n\n", strings.Join(parts, ", "))
	_ = diff.WriteReportWidth(w, diff.Report{Findings: fs}, "table", version, terminalWidth(w))
}

// diffOptions are diff's resolved flags.
type diffOptions struct {
	Inputs   inputOptions
	Specs    specFlags
	GraphQL  graphqlFlags
	gqls     []*diff.GraphQLSchema // GraphQL loaded
	Protos   protoFlags
	protos   *protoregistry.Files // Protos loaded
	Format   string
	Output   string
	FailOn   string
	fail     []diff.Kind // FailOn parsed
	Baseline string
	known    []diff.Finding // the baseline's findings
	DBPath   string
	Host     string
}

func newDiffCmd() *cobra.Command {
	opts := &diffOptions{}
	var pf pipelineFlags
	cmd := &cobra.Command{
		Use:   "diff [--spec SPEC] [flags] FILE|DIR|- ...",
		Short: "Compare the traffic in captures with the declared OpenAPI specs",
		Long: `Diff checks every HTTP exchange in the captures against the declared specs
and reports shadow endpoints and methods (undeclared), zombies (deprecated
but called), unused operations, noncompliant requests and responses, and
authentication mismatches (see the README, "Findings").

Each spec is attached to the services its servers (Swagger: host) name, or
to every service when it names none; --spec-host HOST=FILE attaches it
explicitly. Server base paths are part of the match.

With --db PATH instead of captures, the report is over the stored
inventory: shadow, zombie and unused findings are computed from the
endpoints the database holds (over the window of its runs), and the
noncompliance and auth findings are those recorded by earlier
"specter analyze --db PATH --spec ..." runs.

With --graphql-schema (SDL or introspection JSON; HOST=FILE for one
service), the GraphQL operations found behind each endpoint are checked
against it: undeclared root fields, fields and arguments are shadow,
deprecated ones used are zombie, introspection queries are a finding of
their own, and root fields no operation selected are unused. With --db,
introspection queries are reported without --graphql-schema too.

With --proto FILE.protoset (a FileDescriptorSet: protoc --descriptor_set_out,
buf build -o; repeatable), the gRPC methods of the traffic are checked
against it: methods no protoset declares are shadow, methods declared
deprecated are zombie, declared methods never called are unused, and
messages whose inferred fields break the declared message type are
noncompliant requests or responses. gRPC calls are never checked against
OpenAPI specs.

Without any --spec, --spec-host, --graphql-schema or --proto, diff reports the
findings that need no spec: wire anomalies (request-smuggling shapes, bad
framing), path scans and GraphQL introspection queries.

--host NAME reports one service; a NAME that no service of the traffic
(or inventory) is, is an error naming the services seen (exit 1).

Exit status: 0 on success, 1 when some input was bad but results were
produced, 2 on usage errors or when nothing could be read, 3 when findings
of a --fail-on kind remain after --baseline.`,
		Example: `  specter diff --spec api.yaml capture.pcap
  specter diff --spec specs/ --format sarif -o diff.sarif captures/
  specter diff --spec api.yaml --baseline known.json --fail-on shadow,auth_mismatch capture.pcap
  specter diff --spec api.yaml --db specter.db --format markdown
  specter diff --graphql-schema schema.graphql capture.pcap
  specter diff --proto api.protoset --db specter.db
  specter diff capture.pcap    # anomalies, scans and introspection only`,
		Args: dbOrFiles(&opts.DBPath),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Inputs = inputOptions{Paths: args, Reassembly: pf.config()}
			if err := opts.resolve(); err != nil {
				return err
			}
			return runDiff(cmd.Context(), streamsOf(cmd), opts)
		},
	}
	pf.register(cmd)
	registerKeylog(cmd)
	opts.Specs.register(cmd)
	opts.GraphQL.register(cmd)
	opts.Protos.register(cmd, "declared gRPC API, a FileDescriptorSet (protoc --descriptor_set_out, buf build -o; repeatable); checked against the gRPC methods of the traffic")
	registerDB(cmd, &opts.DBPath, "report over the inventory stored in this database instead of captures")
	cmd.Flags().StringVar(&opts.Format, "format", "table", "report format: "+strings.Join(diff.Formats(), ", "))
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "write the report to this file instead of standard output")
	cmd.Flags().StringVar(&opts.FailOn, "fail-on", "", "exit with status 3 when findings of these kinds (comma-separated) remain")
	cmd.Flags().StringVar(&opts.Host, "host", "", "report only the findings of this service")
	cmd.Flags().StringVar(&opts.Baseline, "baseline", "", "a previous --format json report: its findings (by fingerprint) are not reported")
	return cmd
}

// resolve loads the GraphQL schemas and the baseline and checks --fail-on
// and --format. Its errors are usage errors.
func (o *diffOptions) resolve() error {
	var err error
	if o.gqls, err = o.GraphQL.load(); err != nil {
		return err
	}
	if o.protos, err = o.Protos.load(); err != nil {
		return err
	}
	o.fail = nil
	for _, k := range strings.Split(o.FailOn, ",") {
		if strings.TrimSpace(k) == "" {
			continue
		}
		kind, ok := diff.ParseKind(k)
		if !ok {
			return usageError("--fail-on: unknown kind %q", k)
		}
		o.fail = append(o.fail, kind)
	}
	if !slices.Contains(diff.Formats(), o.Format) {
		return usageError("unknown --format %q (want %s)", o.Format, strings.Join(diff.Formats(), ", "))
	}
	if o.Baseline != "" {
		f, err := os.Open(o.Baseline)
		if err != nil {
			return usageError("%v", err)
		}
		rep, err := diff.ReadReport(f)
		f.Close()
		if err != nil {
			return usageError("--baseline %s: %v", o.Baseline, err)
		}
		o.known = rep.Findings
	}
	return nil
}

// specless reports whether diff has nothing declared to check against.
func (o *diffOptions) specless() bool {
	return !o.Specs.any() && len(o.GraphQL.paths) == 0 && len(o.Protos.paths) == 0
}

// runDiff writes the findings of the inputs (or the database) against the
// declared specs and schemas.
func runDiff(ctx context.Context, ios ioStreams, opts *diffOptions) error {
	var rep diff.Report
	var res filesResult
	var seen []string // the services of the traffic or inventory, for --host
	var seenNote string
	var err error
	if opts.DBPath != "" {
		rep, seen, err = storedReport(ctx, &opts.Specs, opts.DBPath, opts.gqls, opts.protos)
	} else {
		rep, seen, seenNote, res, err = filesReport(ctx, ios, opts)
	}
	if err != nil {
		return err
	}
	if res.RunErr != nil && res.Summary.Packets == 0 {
		return outcome(res.Summary, res.RunErr)
	}
	if opts.specless() {
		fmt.Fprintln(ios.ErrOut, "specter: no --spec, --spec-host, --graphql-schema or --proto: reporting only wire anomalies, path scans and GraphQL introspection queries")
	}
	if err := unknownHost(opts.Host, seen, seenNote); err != nil {
		return err
	}
	rep.Findings = onlyService(rep.Findings, opts.Host)
	all := len(rep.Findings)
	rep.Findings = diff.Suppress(rep.Findings, opts.known)
	if opts.Baseline != "" {
		rep.Baseline = &diff.Baseline{File: opts.Baseline, Suppressed: all - len(rep.Findings)}
		fmt.Fprintf(ios.ErrOut, "specter: %s\n", rep.Baseline)
	}
	attachErr := opts.Specs.attachments(ios.ErrOut, rep.Specs, rep.Unchecked)
	if err := writeDiff(ios.Out, opts.Output, opts.Format, rep); err != nil {
		return err
	}
	if err := outcome(res.Summary, res.RunErr); err != nil {
		return err
	}
	if attachErr != nil {
		return attachErr
	}
	return failOn(rep.Findings, opts.fail, opts.FailOn)
}

// filesReport checks the inputs' exchanges: the findings, the services
// seen (with a note on those past the checker's bound), and the run.
func filesReport(ctx context.Context, ios ioStreams, opts *diffOptions) (diff.Report, []string, string, filesResult, error) {
	// Without a spec the checker still turns wire anomalies into findings
	// and counts the services; the scans and introspection queries come
	// from an inventory of the traffic.
	res, err := consumeFiles(ctx, ios, opts.Inputs, sinkOptions{inf: &inferFlags{}, sf: &opts.Specs,
		alwaysCheck: true, keepModel: len(opts.gqls) > 0 || opts.protos != nil || opts.specless()})
	if err != nil || res.RunErr != nil && res.Summary.Packets == 0 {
		return diff.Report{}, nil, "", res, err
	}
	chk, m := res.Sink.Checker(), res.Sink.Model()
	rep := chk.Report()
	seen := slices.Collect(maps.Keys(chk.Traffic()))
	var note string
	if n := chk.Stats().DroppedServices; n > 0 {
		note = fmt.Sprintf("%d exchanges of services past the checker's bound were not checked", n)
	}
	if m != nil {
		rep.Findings = diff.Merge(rep.Findings, diff.GraphQLFindings(m, opts.gqls))
		rep.Findings = diff.Merge(rep.Findings, diff.GRPCFindings(m, opts.protos))
		rep.Unchecked = checkedByProtosets(rep.Unchecked, m, opts.protos)
	}
	if !opts.Specs.any() {
		// With a spec the checker's undeclared traffic tells the scans.
		rep.Findings = diff.Merge(rep.Findings, diff.Scans(m))
	}
	return rep, seen, note, res, nil
}

// writeDiff writes the report to output (standard output for "" or "-").
func writeDiff(stdout io.Writer, output, format string, rep diff.Report) error {
	w, closeOut, err := outputFile(stdout, output)
	if err != nil {
		return err
	}
	defer closeOut()
	if err := diff.WriteReportWidth(w, rep, format, version, terminalWidth(w)); err != nil {
		return fatalError(fmt.Errorf("writing report: %w", err))
	}
	return nil
}

// failOn returns the findings error when fs holds any of the kinds of
// fail (--fail-on spec, as given, for the message); a kind named twice
// counts twice, as it always has.
func failOn(fs []diff.Finding, fail []diff.Kind, spec string) error {
	n := 0
	for _, f := range fs {
		for _, k := range fail {
			if f.Kind == k {
				n++
			}
		}
	}
	if n > 0 {
		return findingsError(fmt.Errorf("%d finding(s) of kind %s", n, spec))
	}
	return nil
}

// storedReport is diff over a database, with the services of the stored
// inventory: shadow, zombie and unused from the inventory and the specs as
// given now; noncompliance, auth mismatches and wire anomalies as the
// analyze runs that checked exchanges recorded them; scans from the
// inventory; GraphQL findings against the schemas (without one, the
// introspection queries); gRPC findings against the protosets. Without
// any spec or schema only the findings
// that need none are reported: anomalies, scans and introspection.
func storedReport(ctx context.Context, sf *specFlags, dbPath string, gqls []*diff.GraphQLSchema, protos *protoregistry.Files) (diff.Report, []string, error) {
	withSpecs := len(sf.specs) > 0 || len(sf.specHosts) > 0
	var specs []*diff.Spec
	if withSpecs {
		var err error
		if specs, err = sf.load(); err != nil {
			return diff.Report{}, nil, err
		}
	}
	db, err := openStored(ctx, dbPath, infer.Config{})
	if err != nil {
		return diff.Report{}, nil, err
	}
	defer db.Close()
	m, err := db.Model(ctx)
	if err != nil {
		return diff.Report{}, nil, fatalError(err)
	}
	recorded, err := db.Findings(ctx)
	if err != nil {
		return diff.Report{}, nil, fatalError(err)
	}
	var perExchange []diff.Finding
	for _, f := range recorded {
		switch {
		case f.Kind == diff.KindShadow, f.Kind == diff.KindZombie, f.Kind == diff.KindUnused, f.Kind == diff.KindScan:
			// The inventory answers these, with the specs given now.
		case withSpecs || f.Kind == diff.KindAnomaly:
			perExchange = append(perExchange, f)
		}
	}
	var rep diff.Report
	if withSpecs {
		traffic := diff.ModelTraffic(m)
		rep.Findings = diff.Inventory(m, specs) // with the scans
		rep.Specs, rep.Unchecked = diff.Attachments(specs, traffic), diff.Unchecked(specs, traffic)
	} else {
		rep.Findings = diff.Scans(m)
	}
	rep.Findings = diff.Merge(rep.Findings, perExchange)
	rep.Findings = diff.Merge(rep.Findings, diff.GraphQLFindings(m, gqls))
	rep.Findings = diff.Merge(rep.Findings, diff.GRPCFindings(m, protos))
	rep.Unchecked = checkedByProtosets(rep.Unchecked, m, protos)
	return rep, m.Services(), nil
}

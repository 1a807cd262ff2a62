package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/diff"
	"github.com/specter-dev/specter/reassembly"
)

// exitFindings is the exit status when --fail-on kinds were found.
const exitFindings = 3

// specFlags are the declared-spec options of diff and analyze.
type specFlags struct {
	specs     []string
	specHosts []string
}

func (f *specFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.specs, "spec", nil, "declared OpenAPI 3.x / Swagger 2.0 spec (file or directory, repeatable); attached to the services its servers (host) name")
	cmd.Flags().StringArrayVar(&f.specHosts, "spec-host", nil, "attach a spec to a service explicitly: HOST=FILE (repeatable; overrides the spec's servers)")
}

// load loads the specs, attaching --spec-host ones to their hosts.
func (f *specFlags) load() ([]*diff.Spec, error) {
	specs, err := diff.LoadSpecs(f.specs...)
	if err != nil {
		return nil, usageError("%v", err)
	}
	// A file may be several specs (path-level servers): --spec-host
	// attaches all of them.
	byFile := map[string][]*diff.Spec{}
	for _, s := range specs {
		k := filepath.Clean(s.File)
		byFile[k] = append(byFile[k], s)
	}
	attached := map[*diff.Spec]bool{}
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
			if !attached[s] {
				attached[s] = true
				s.AttachTo(host)
			} else {
				s.Hosts = append(s.Hosts, host)
			}
		}
	}
	return specs, nil
}

// checker returns a checker for the declared specs, or nil without --spec.
func (f *specFlags) checker() (*asyncChecker, error) {
	if len(f.specs) == 0 && len(f.specHosts) == 0 {
		return nil, nil
	}
	specs, err := f.load()
	if err != nil {
		return nil, err
	}
	return newAsyncChecker(diff.NewChecker(specs, diff.Options{})), nil
}

// asyncQueue bounds the exchanges waiting for the checker; when it is full
// the pipeline waits (backpressure), so memory stays bounded.
const asyncQueue = 512

// asyncChecker runs a diff.Checker on its own goroutine, so that checking
// overlaps reassembly instead of adding to the pipeline's merge step. The
// pipeline does not touch an exchange after emitting it, so it can be
// handed over.
type asyncChecker struct {
	c    *diff.Checker
	ch   chan *reassembly.Exchange
	done chan struct{}
	shut bool
}

func newAsyncChecker(c *diff.Checker) *asyncChecker {
	a := &asyncChecker{c: c, ch: make(chan *reassembly.Exchange, asyncQueue), done: make(chan struct{})}
	go func() {
		for x := range a.ch {
			c.Check(x)
		}
		close(a.done)
	}()
	return a
}

// Check queues an exchange.
func (a *asyncChecker) Check(x *reassembly.Exchange) { a.ch <- x }

// Findings waits for the queued exchanges and returns the findings. No
// Check may follow.
func (a *asyncChecker) Findings() []diff.Finding {
	if !a.shut {
		a.shut = true
		close(a.ch)
		<-a.done
	}
	return a.c.Findings()
}

// withChecker chains the checker (when there is one) after emit.
func withChecker(emit func(*reassembly.Exchange), c *asyncChecker) func(*reassembly.Exchange) {
	if c == nil {
		return emit
	}
	return func(x *reassembly.Exchange) { emit(x); c.Check(x) }
}

// printFindingsSummary is what analyze --spec prints after its summary:
// the count per kind, then the findings table.
func printFindingsSummary(w io.Writer, c *asyncChecker) {
	if c == nil {
		return
	}
	fs := c.Findings()
	n := map[diff.Kind]int{}
	for _, f := range fs {
		n[f.Kind]++
	}
	var parts []string
	for _, k := range diff.Kinds() {
		parts = append(parts, fmt.Sprintf("%s %d", k, n[k]))
	}
	fmt.Fprintf(w, "\nfindings: %s\n\n", strings.Join(parts, ", "))
	_ = diff.Write(w, fs, "table", version)
}

func newDiffCmd() *cobra.Command {
	var pf pipelineFlags
	var sf specFlags
	var format, output, failOn, baseline, dbPath, host string
	cmd := &cobra.Command{
		Use:   "diff --spec SPEC [flags] FILE|DIR|- ...",
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

Exit status: 0 on success, 1 when some input was bad but results were
produced, 2 on usage errors or when nothing could be read, 3 when findings
of a --fail-on kind remain after --baseline.`,
		Example: `  specter diff --spec api.yaml capture.pcap
  specter diff --spec specs/ --format sarif -o diff.sarif captures/
  specter diff --spec api.yaml --baseline known.json --fail-on shadow,auth_mismatch capture.pcap
  specter diff --spec api.yaml --db specter.db --format markdown`,
		Args: dbOrFiles(&dbPath),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(sf.specs) == 0 && len(sf.specHosts) == 0 {
				return usageError("diff needs at least one --spec or --spec-host")
			}
			var fail []diff.Kind
			for _, k := range strings.Split(failOn, ",") {
				if strings.TrimSpace(k) == "" {
					continue
				}
				kind, ok := diff.ParseKind(k)
				if !ok {
					return usageError("--fail-on: unknown kind %q", k)
				}
				fail = append(fail, kind)
			}
			okFormat := false
			for _, f := range diff.Formats() {
				okFormat = okFormat || f == format
			}
			if !okFormat {
				return usageError("unknown --format %q (want %s)", format, strings.Join(diff.Formats(), ", "))
			}
			var known []diff.Finding
			if baseline != "" {
				f, err := os.Open(baseline)
				if err != nil {
					return usageError("%v", err)
				}
				rep, err := diff.ReadReport(f)
				f.Close()
				if err != nil {
					return usageError("--baseline %s: %v", baseline, err)
				}
				known = rep.Findings
			}
			var fs []diff.Finding
			var sum summary
			var runErr error
			if dbPath != "" {
				stored, err := storedFindings(cmd, &sf, dbPath)
				if err != nil {
					return err
				}
				fs = stored
			} else {
				chk, err := sf.checker()
				if err != nil {
					return err
				}
				sum, runErr = runWithProgress(cmd, args, pf.config(), chk.Check)
				if runErr != nil && sum.Packets == 0 {
					return outcome(sum, runErr)
				}
				fs = chk.Findings()
			}
			fs = onlyService(diff.Suppress(fs, known), host)
			w, closeOut, err := outputFile(cmd.OutOrStdout(), output)
			if err != nil {
				return err
			}
			defer closeOut()
			if err := diff.Write(w, fs, format, version); err != nil {
				return &exitError{code: exitFatal, err: fmt.Errorf("writing report: %w", err)}
			}
			if err := outcome(sum, runErr); err != nil {
				return err
			}
			n := 0
			for _, f := range fs {
				for _, k := range fail {
					if f.Kind == k {
						n++
					}
				}
			}
			if n > 0 {
				return &exitError{code: exitFindings, err: fmt.Errorf("%d finding(s) of kind %s", n, failOn)}
			}
			return nil
		},
	}
	pf.register(cmd)
	sf.register(cmd)
	registerDB(cmd, &dbPath, "report over the inventory stored in this database instead of captures")
	cmd.Flags().StringVar(&format, "format", "table", "report format: "+strings.Join(diff.Formats(), ", "))
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the report to this file instead of standard output")
	cmd.Flags().StringVar(&failOn, "fail-on", "", "exit with status 3 when findings of these kinds (comma-separated) remain")
	cmd.Flags().StringVar(&host, "host", "", "report only the findings of this service")
	cmd.Flags().StringVar(&baseline, "baseline", "", "a previous --format json report: its findings (by fingerprint) are not reported")
	return cmd
}

// storedFindings is diff over a database: shadow, zombie and unused from
// the stored inventory and the specs as given now; noncompliance and auth
// mismatches as the analyze runs that checked exchanges recorded them.
func storedFindings(cmd *cobra.Command, sf *specFlags, dbPath string) ([]diff.Finding, error) {
	specs, err := sf.load()
	if err != nil {
		return nil, err
	}
	db, err := openStored(cmd.Context(), dbPath, infer.Config{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	m, err := db.Model(cmd.Context())
	if err != nil {
		return nil, &exitError{code: exitFatal, err: err}
	}
	recorded, err := db.Findings(cmd.Context())
	if err != nil {
		return nil, &exitError{code: exitFatal, err: err}
	}
	var perExchange []diff.Finding
	for _, f := range recorded {
		switch f.Kind {
		case diff.KindShadow, diff.KindZombie, diff.KindUnused:
			// The inventory answers these, with the specs given now.
		default:
			perExchange = append(perExchange, f)
		}
	}
	return diff.Merge(diff.Inventory(m, specs), perExchange), nil
}

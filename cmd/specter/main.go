// Command specter is a passive traffic analyzer for shadow API discovery:
// it reads HTTP traffic from captures, infers the API its services serve,
// and compares that with what their OpenAPI specs declare.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"

	"github.com/spf13/cobra"
	xterm "golang.org/x/term"

	"github.com/specter-dev/specter/reassembly"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes, for scripts and CI to gate on.
const (
	exitOK      = 0 // success
	exitPartial = 1 // errors in the input, but results were produced
	exitFatal   = 2 // usage error or nothing could be done
	// exitFindings: diff found findings of a --fail-on kind.
	exitFindings = 3
	// exitWrite: writing the results failed (disk or quota full, I/O
	// error). What was committed to a database before is kept; the run
	// is incomplete. It wins over every other code: the results are not
	// all where they were asked to go.
	exitWrite = 4
)

// exitError carries an exit code out of a command: usageError,
// fatalError, partialError and findingsError make them, exitStatus reads
// them.
type exitError struct {
	code int
	err  error // nil: nothing to say on stderr
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	if os.Getenv("GOGC") == "" {
		// The heap is small and bounded (connections, not packets); a
		// lazier collector buys throughput for a few tens of MB.
		debug.SetGCPercent(200)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// A soft ceiling: when the machine is busy the collector can fall
		// behind and let the heap overshoot; near this it works harder.
		// The live heap is bounded far below it by the reassembly limits.
		debug.SetMemoryLimit(256 << 20)
	}
	ctx, stop := signalContext()
	code := execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// execute runs the command line args and returns the exit code. It is main
// without the process, for tests.
func execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ran, err := root.ExecuteContextC(ctx)
	code, msg := exitStatus(ctx, ran, err)
	if msg != "" {
		fmt.Fprintf(stderr, "specter: %s\n", msg)
	}
	return code
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "specter",
		Short: "Discover the APIs your services really serve, from their traffic",
		Long: `Specter watches HTTP traffic passively (capture files, a mirror port, eBPF)
and tells you what your services actually serve: every endpoint, its
parameters and schemas, its authentication and the sensitive data it
carries, compared with the OpenAPI specs your teams declared.

Exit status: 0 success; 1 partial (some input was bad, results were
produced from the rest); 2 usage error or nothing could be read; 3 findings
of a --fail-on kind (diff); 4 writing failed (disk or quota full, I/O
error): what a database had committed before is kept, the run is marked
incomplete.`,
		Example: `  specter analyze traffic.pcap
  specter exchanges --format har -o traffic.har traffic.pcapng.gz`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newAnalyzeCmd(), newExchangesCmd(), newEndpointsCmd(), newExportCmd(), newDiffCmd(),
		newShowCmd(), newExplainCmd(), newMergeCmd(), newPruneCmd(), newRunsCmd(), newCaptureCmd(), newReportCmd(), newServeCmd(), newVersionCmd(),
		newAggregateCmd(), newSensorsCmd())
	// --version without cobra's -v shorthand: -v means verbose to most
	// tools, and "specter version" is the verb.
	root.Flags().Bool("version", false, "print the version")
	root.SetVersionTemplate("specter {{.Version}}\n")
	var cpuProfile string
	var profFile *os.File
	root.PersistentFlags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile to this file")
	_ = root.PersistentFlags().MarkHidden("cpuprofile")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if cpuProfile == "" {
			return nil
		}
		f, err := createPrivate(cpuProfile, os.O_TRUNC)
		if err != nil {
			return usageError("%v", err)
		}
		profFile = f
		return pprof.StartCPUProfile(f)
	}
	root.PersistentPostRun = func(cmd *cobra.Command, args []string) {
		if profFile != nil {
			pprof.StopCPUProfile()
			profFile.Close()
		}
	}
	return root
}

// pipelineFlags are the reassembly bounds every command that reads traffic
// accepts.
type pipelineFlags struct {
	workers  int
	maxBody  int
	maxConns int
	maxHalf  int
	noDecode bool
}

func (f *pipelineFlags) register(cmd *cobra.Command) {
	d := reassembly.DefaultConfig()
	cmd.Flags().IntVar(&f.workers, "workers", d.Workers, "reassembly workers (flows are sharded across them)")
	cmd.Flags().IntVar(&f.maxBody, "max-body", d.HTTP.MaxBody, "bytes of each body kept (the rest is counted, flagged truncated)")
	cmd.Flags().IntVar(&f.maxConns, "max-conns", d.MaxConnections, "TCP connections tracked at once (the least recently active are closed early)")
	cmd.Flags().IntVar(&f.maxHalf, "max-half-open", d.MaxHalfOpen, "flows that sent only SYNs held at once, apart from --max-conns (the oldest are forgotten)")
	cmd.Flags().BoolVar(&f.noDecode, "no-decode", false, "keep bodies as sent (no gzip/deflate/br/zstd decoding)")
	preRun(cmd, f.validate)
}

// validate refuses negative bounds, which would otherwise be taken as
// "the default" or "none" without a word.
func (f *pipelineFlags) validate() error {
	for _, v := range []struct {
		name string
		n    int
	}{{"--workers", f.workers}, {"--max-body", f.maxBody}, {"--max-conns", f.maxConns}} {
		if v.n < 0 {
			return usageError("%s %d: must not be negative", v.name, v.n)
		}
	}
	return nil
}

func (f *pipelineFlags) config() reassembly.Config {
	c := reassembly.DefaultConfig()
	c.Workers = f.workers
	c.MaxConnections = f.maxConns
	c.MaxHalfOpen = f.maxHalf
	if f.maxBody > 0 {
		c.HTTP.MaxBody = f.maxBody
		if c.HTTP.MaxDecoded < f.maxBody {
			c.HTTP.MaxDecoded = f.maxBody
		}
	}
	c.HTTP.Decode = !f.noDecode
	return c
}

func term(f *os.File) bool { return xterm.IsTerminal(int(f.Fd())) }

// outputFile returns where a command with -o writes: stdout for "" or "-",
// else the named file, created (mode 0600) or truncated.
func outputFile(stdout io.Writer, path string) (io.Writer, func() error, error) {
	if path == "" || path == "-" {
		return stdout, func() error { return nil }, nil
	}
	f, err := createPrivate(path, os.O_TRUNC)
	if err != nil {
		return nil, nil, usageError("%v", err)
	}
	return f, f.Close, nil
}

package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/specter-dev/specter/infer/diff"
)

// outputFlags are the output options of the verbs that print a table or
// JSON: --format (table or json), --json (an alias for --format json, kept
// for scripts) and -o FILE.
type outputFlags struct {
	format string
	json   bool
	output string
}

// registerOutput adds --format, --json and -o to cmd, and sets *asJSON
// before cmd runs. What cmd writes to its standard output goes to the -o
// file instead.
func registerOutput(cmd *cobra.Command, asJSON *bool) {
	f := &outputFlags{}
	cmd.Flags().StringVar(&f.format, "format", "table", "output format: table or json")
	cmd.Flags().BoolVar(&f.json, "json", false, "print JSON (same as --format json)")
	cmd.Flags().StringVarP(&f.output, "output", "o", "", "write to this file instead of standard output")
	preRun(cmd, func() error {
		switch {
		case f.json && cmd.Flags().Changed("format") && f.format != "json":
			return usageError("--json and --format %s disagree", f.format)
		case f.json || f.format == "json":
			*asJSON = true
		case f.format == "table":
		default:
			return usageError("unknown --format %q (want table or json)", f.format)
		}
		return nil
	})
	run := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		w, closeOut, err := outputFile(c.OutOrStdout(), f.output)
		if err != nil {
			return err
		}
		c.SetOut(w)
		err = run(c, args)
		if cerr := closeOut(); cerr != nil && err == nil {
			err = fatalError(fmt.Errorf("writing %s: %w", f.output, cerr))
		}
		return err
	}
}

// refuseSpecAsPrior registers --spec on the verbs where a spec is an
// inference prior (--prior), only to say so: --spec means "check against"
// everywhere it is accepted.
func refuseSpecAsPrior(cmd *cobra.Command) {
	var specs []string
	cmd.Flags().StringArrayVar(&specs, "spec", nil, "")
	_ = cmd.Flags().MarkHidden("spec")
	preRun(cmd, func() error {
		if len(specs) > 0 {
			return usageError("--spec checks traffic against a spec (specter diff, analyze --spec); %s takes a spec's templates as --prior %s", cmd.Name(), strings.Join(specs, " --prior "))
		}
		return nil
	})
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of specter",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "specter %s\n", version)
			return err
		},
	}
}

// onlyService keeps the findings of service host, all of them when host
// is empty.
func onlyService(fs []diff.Finding, host string) []diff.Finding {
	if host == "" {
		return fs
	}
	kept := make([]diff.Finding, 0, len(fs))
	for _, f := range fs {
		if f.Service == host {
			kept = append(kept, f)
		}
	}
	return kept
}

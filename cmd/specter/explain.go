package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/specter-dev/specter/infer"
)

func newExplainCmd() *cobra.Command {
	var pf pipelineFlags
	var inf inferFlags
	var host, dbPath string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "explain [flags] METHOD PATH [FILE|DIR|- ...]",
		Short: "Explain why each segment of a path became a parameter or stayed static",
		Long: `Explain takes a concrete path as seen on the wire (/users/42/repos) and
prints, per segment, what the template made of it and why: the value's
shape, the requests that went through it, the distinct values seen at that
position, and the rule that decided, with its evidence. Use it to trust a
template or to override it (--config: static segments, forced templates).
The inventory is the database given with --db, else the captures named
after PATH. Every service that saw the path is explained; --host picks one.`,
		Example: `  specter explain --db specter.db GET /users/42/repos
  specter explain --json POST /v1/keys/key_8sJd2KqLmN:disable capture.pcap`,
		Args: methodPathArgs("explain", &dbPath),
		RunE: func(cmd *cobra.Command, args []string) error {
			method, path := strings.ToUpper(args[0]), args[1]
			if !strings.HasPrefix(path, "/") {
				return usageError("PATH %q must start with /", path)
			}
			if strings.ContainsAny(path, "{}") {
				return usageError("PATH %q is a template; explain takes a concrete path as observed (/users/42)", path)
			}
			in := inputOptions{Paths: args[2:], Reassembly: pf.config()}
			m, sum, runErr, err := inventory(cmd.Context(), streamsOf(cmd), in, &inf, dbPath, host)
			if err != nil {
				return err
			}
			if runErr != nil && sum.Packets == 0 && dbPath == "" {
				return outcome(sum, runErr)
			}
			found := m.Explain(host, path)
			if len(found) == 0 {
				return partialError(fmt.Errorf("no service observed %s", path))
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(found); err != nil {
					return err
				}
			} else if err := printExplanations(out, method, found); err != nil {
				return fatalError(err)
			}
			return outcome(sum, runErr)
		},
	}
	registerLookupFlags(cmd, &pf, &inf, &host, &asJSON, &dbPath)
	return cmd
}

// methodPathArgs checks the arguments of a verb taking METHOD PATH, then
// capture files unless the inventory comes from --db.
func methodPathArgs(verb string, dbPath *string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if *dbPath != "" && len(args) != 2 {
			return usageError("with --db, %s takes METHOD PATH (got %d arguments)", verb, len(args))
		}
		if *dbPath == "" && len(args) < 3 {
			return usageError("%s takes METHOD PATH and capture files, or METHOD PATH with --db", verb)
		}
		return nil
	}
}

// registerLookupFlags adds the flags of the verbs that look one path up
// in the inventory (show, explain).
func registerLookupFlags(cmd *cobra.Command, pf *pipelineFlags, inf *inferFlags, host *string, asJSON *bool, dbPath *string) {
	pf.register(cmd)
	inf.register(cmd)
	cmd.Flags().StringVar(host, "host", "", "only this service")
	registerOutput(cmd, asJSON)
	registerDB(cmd, dbPath, "read the inventory from this database instead of captures")
}

// printExplanations writes one block per service: the template, whether
// method was seen under it, and a row per segment.
func printExplanations(w io.Writer, method string, es []infer.PathExplanation) error {
	for i, e := range es {
		if i > 0 {
			fmt.Fprintln(w)
		}
		seen := "not observed"
		for _, m := range e.Methods {
			if m == method {
				seen = "observed"
			}
		}
		fmt.Fprintf(w, "%s %s %s -> %s (%s %s; methods %s)\n", e.Service, method, e.Path, e.Template, method, seen, strings.Join(e.Methods, ","))
		tw := newTable(w)
		fmt.Fprintln(tw, "#\tVALUE\tSEGMENT\tSHAPE\tREQUESTS\tSIBLINGS\tRULE\tWHY")
		for j, s := range e.Segments {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", j+1, s.Value, s.Segment, s.Shape, s.Count, s.Siblings, s.Rule, s.Why)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

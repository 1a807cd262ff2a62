package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/specter-dev/specter/store"
)

func newRunsCmd() *cobra.Command {
	var dbPath string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "runs [flags]",
		Short: "List the runs recorded in a database (provenance of the inventory)",
		Long: `Runs lists what fed the inventory: each run's inputs (files or interface),
the capture time it covered, packets, bytes, exchanges, drops and input
errors, the specter version, when it started and finished, and its status:
running, complete, or incomplete (interrupted, killed, or an input failed;
what it checkpointed before is kept).`,
		Example: `  specter runs --db specter.db`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return listStored(cmd, dbPath, asJSON, (*store.DB).Runs, printRuns)
		},
	}
	cmd.Flags().StringVar(&dbPath, "db", defaultDB, "the database")
	registerOutput(cmd, &asJSON)
	return cmd
}

func printRuns(w io.Writer, runs []store.Run) {
	tw := newTable(w)
	fmt.Fprintln(tw, "ID\tSTATUS\tSTARTED\tSECONDS\tINPUTS\tCAPTURE FROM\tCAPTURE TO\tEXCHANGES\tPACKETS\tBYTES\tDROPS\tERRORS")
	ts := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, r := range runs {
		secs := "-"
		if !r.FinishedAt.IsZero() {
			secs = fmt.Sprintf("%.1f", r.FinishedAt.Sub(r.StartedAt).Seconds())
		}
		in := strings.Join(r.Inputs, ",")
		if r.Interface != "" {
			in = "iface:" + r.Interface
		}
		if r.Source != "" {
			in += " (from " + r.Source + ")"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%d\t%d\n", r.ID, r.Status, ts(r.StartedAt), secs, dash(in),
			ts(r.CaptureStart), ts(r.CaptureEnd), r.Exchanges, r.Packets, humanBytes(int64(r.Bytes)), r.Drops, r.Errors)
	}
	tw.Flush()
}

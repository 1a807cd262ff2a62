package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/specter-dev/specter/store"
)

func newPruneCmd() *cobra.Command {
	var dbPath, olderThan string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "prune [flags]",
		Short: "Drop old statistics and examples from a database, keeping endpoint history",
		Long: `Prune removes what is old from the database without losing the inventory.

For every operation last seen longer ago than --older-than it deletes the
redacted body examples and clears the latency histogram; the records of runs
finished before that are deleted.

It keeps every endpoint (service, method, template) with its request count,
first and last seen, statuses, parameters and schemas, authentication and
sensitive-data tags, and all the path evidence templates are decided from,
so later traffic still revises them. Durations take the units of Go
(h, m, s) plus d for days.`,
		Example: `  specter prune --db specter.db --older-than 30d`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			age, err := parseAge(olderThan)
			if err != nil {
				return usageError("--older-than: %v", err)
			}
			ctx := cmd.Context()
			// Pruning a database that is not there is a mistake (a typo in
			// --db), not a request for an empty one.
			if _, err := os.Stat(dbPath); err != nil {
				return usageError("--db: %v", err)
			}
			db, err := store.Open(ctx, dbPath, store.Options{})
			if err != nil {
				return fatalError(err)
			}
			defer db.Close()
			st, err := db.Prune(ctx, time.Now().Add(-age))
			if err != nil {
				return fatalError(err)
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(st)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "pruned %d examples and %d latency histograms of %d operations, %d runs\n",
				st.Examples, st.Latencies, st.Operations, st.Runs)
			return nil
		},
	}
	cmd.Flags().StringVar(&dbPath, "db", defaultDB, "the database to prune")
	cmd.Flags().StringVar(&olderThan, "older-than", "", "age past which statistics and examples go (e.g. 30d, 12h)")
	registerOutput(cmd, &asJSON)
	_ = cmd.MarkFlagRequired("older-than")
	return cmd
}

// parseAge parses a Go duration or a whole number of days ("30d").
func parseAge(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 || n > 100000 {
			return 0, fmt.Errorf("bad number of days %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	age, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if age < 0 {
		return 0, fmt.Errorf("negative age %q", s)
	}
	return age, nil
}

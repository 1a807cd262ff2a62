package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/specter-dev/specter/cmd/internal/pipeline"
	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/store"
)

// defaultDB is the conventional database name the help texts suggest.
const defaultDB = "specter.db"

// registerDB adds the --db flag.
func registerDB(cmd *cobra.Command, path *string, usage string) {
	cmd.Flags().StringVar(path, "db", "", usage+" (SQLite; "+defaultDB+" by convention)")
}

// dbOrFiles accepts no arguments with --db and at least one without.
func dbOrFiles(dbPath *string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if *dbPath != "" {
			if len(args) > 0 {
				return usageError("with --db the inventory comes from the database; add captures with \"specter analyze --db %s FILE...\"", *dbPath)
			}
			return nil
		}
		return cobra.MinimumNArgs(1)(cmd, args)
	}
}

// openStored opens an existing database for reading; a database this
// process cannot write is read without creating anything beside it.
func openStored(ctx context.Context, path string, cfg infer.Config) (*store.DB, error) {
	db, err := store.OpenReadOnly(ctx, path, cfg)
	if err != nil {
		return nil, &exitError{code: exitFatal, err: err}
	}
	return db, nil
}

// inventory returns the model of the captures in args, or of the database
// at dbPath (only service host when host is set) when it is not empty.
func inventory(cmd *cobra.Command, args []string, pf *pipelineFlags, inf *inferFlags, dbPath, host string) (*infer.Model, summary, error, error) {
	if dbPath == "" {
		m, err := inf.model()
		if err != nil {
			return nil, summary{}, nil, err
		}
		sum, runErr := inferFromFiles(cmd, args, pf, m)
		return m, sum, runErr, nil
	}
	cfg, err := inf.inferConfig()
	if err != nil {
		return nil, summary{}, nil, err
	}
	db, err := openStored(cmd.Context(), dbPath, cfg)
	if err != nil {
		return nil, summary{}, nil, err
	}
	defer db.Close()
	var hosts []string
	if host != "" {
		hosts = []string{host}
	}
	m, err := db.Model(cmd.Context(), hosts...)
	if err != nil {
		return nil, summary{}, nil, &exitError{code: exitFatal, err: err}
	}
	if err := inf.addSpecs(m); err != nil {
		return nil, summary{}, nil, err
	}
	return m, summary{}, nil, nil
}

// storedEndpoints lists the endpoint rows of a database.
func storedEndpoints(cmd *cobra.Command, dbPath, host string) ([]infer.EndpointSummary, error) {
	db, err := openStored(cmd.Context(), dbPath, infer.Config{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	eps, err := db.Endpoints(cmd.Context(), host)
	if err != nil {
		return nil, &exitError{code: exitFatal, err: err}
	}
	return eps, nil
}

// checkpointFlags steer how often analyze --db commits what it learned.
type checkpointFlags struct {
	every    int
	interval time.Duration
	publish  func(context.Context, []byte) error // with --publish
}

func (f *checkpointFlags) register(cmd *cobra.Command) {
	cmd.Flags().IntVar(&f.every, "checkpoint-every", 200000, "with --db, commit what was learned every this many exchanges")
	cmd.Flags().DurationVar(&f.interval, "checkpoint-interval", 30*time.Second, "with --db, commit what was learned at least this often")
}

// analyzeIntoDB runs the captures into the database at dbPath as one run.
// The run is recorded complete only when every input was read.
func analyzeIntoDB(cmd *cobra.Command, args []string, pf *pipelineFlags, inf *inferFlags, ck *checkpointFlags, dbPath string, chk *asyncChecker) (summary, error, error) {
	cfg, err := inf.inferConfig()
	if err != nil {
		return summary{}, nil, err
	}
	priors, err := inf.model()
	if err != nil {
		return summary{}, nil, err
	}
	ctx := cmd.Context()
	db, err := store.Open(ctx, dbPath, store.Options{Config: cfg})
	if err != nil {
		return summary{}, nil, &exitError{code: exitFatal, err: err}
	}
	defer db.Close()
	var prog progress
	in, err := db.BeginRun(ctx, store.RunInfo{Inputs: args, Version: version},
		store.IngestOptions{Every: ck.every, Interval: ck.interval, Priors: priors,
			Progress: func() (uint64, uint64) { return prog.Packets.Load(), prog.Bytes.Load() },
			Publish:  ck.publish})
	if err != nil {
		return summary{}, nil, &exitError{code: exitFatal, err: err}
	}
	sum, runErr := runWithProgressOf(cmd, args, pf.config(), withChecker(in.Observe, chk), &prog)
	r := sum.Reassembly
	t := store.RunTotals{
		Packets:  sum.Packets,
		Bytes:    sum.Bytes,
		Drops:    pipeline.ReassemblyDrops(r) + sum.Decode.FragmentsDropped,
		Errors:   uint64(len(sum.Errors)),
		Complete: runErr == nil && len(sum.Errors) == 0,
	}
	switch {
	case runErr != nil:
		t.Error = runErr.Error()
	case len(sum.Errors) > 0:
		t.Error = fmt.Sprintf("%d input error(s), first: %s", len(sum.Errors), sum.Errors[0])
	}
	if chk != nil {
		in.SetFindings(chk.Findings())
	}
	// An interrupt cancelled ctx; what was read is still committed.
	if err := in.Finish(context.WithoutCancel(ctx), t); err != nil {
		return sum, runErr, &exitError{code: exitFatal, err: err}
	}
	if err := db.AddTLSServices(context.WithoutCancel(ctx), sum.TLSServices); err != nil {
		return sum, runErr, &exitError{code: exitFatal, err: err}
	}
	return sum, runErr, nil
}

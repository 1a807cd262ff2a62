package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

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
		return nil, fatalError(err)
	}
	return db, nil
}

// inventory returns the model of the inputs, or of the database at dbPath
// (only service host when host is set) when it is not empty, with the
// run's summary and input error over files.
func inventory(ctx context.Context, ios ioStreams, in inputOptions, inf *inferFlags, dbPath, host string) (*infer.Model, summary, error, error) {
	if dbPath == "" {
		res, err := consumeFiles(ctx, ios, in, sinkOptions{inf: inf, sf: &specFlags{}, keepModel: true})
		if err != nil {
			return nil, summary{}, nil, err
		}
		return res.Sink.Model(), res.Summary, res.RunErr, nil
	}
	cfg, err := inf.inferConfig()
	if err != nil {
		return nil, summary{}, nil, err
	}
	db, err := openStored(ctx, dbPath, cfg)
	if err != nil {
		return nil, summary{}, nil, err
	}
	defer db.Close()
	var hosts []string
	if host != "" {
		hosts = []string{host}
	}
	m, err := db.Model(ctx, hosts...)
	if err != nil {
		return nil, summary{}, nil, fatalError(err)
	}
	if err := inf.addSpecs(m); err != nil {
		return nil, summary{}, nil, err
	}
	return m, summary{}, nil, nil
}

// storedEndpoints lists the endpoint rows of a database.
func storedEndpoints(ctx context.Context, dbPath, host string) ([]infer.EndpointSummary, error) {
	db, err := openStored(ctx, dbPath, infer.Config{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	eps, err := db.Endpoints(ctx, host)
	if err != nil {
		return nil, fatalError(err)
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

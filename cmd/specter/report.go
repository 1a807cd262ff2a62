package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/specter-dev/specter/infer/diff"
	"github.com/specter-dev/specter/store"
	"github.com/specter-dev/specter/store/report"
)

func newReportCmd() *cobra.Command {
	var pf pipelineFlags
	var inf inferFlags
	var sf specFlags
	var dbPath, output, title string
	cmd := &cobra.Command{
		Use:   "report [--db FILE | FILE|DIR|- ...] [--spec SPEC] [-o report.html]",
		Short: "Write the inventory and its findings as one self-contained HTML file",
		Long: `Report writes one HTML file to attach to a ticket or archive from CI:
summary cards, the service → path tree (filterable and sortable), the
findings against the declared specs with their evidence, the
sensitive-data matrix, traffic and new endpoints over time, and
per-endpoint detail. The file needs no network (everything is inlined),
reads without JavaScript, prints, and is the same bytes for the same
inventory.

The inventory is the database given with --db, else the captures named,
analyzed as "specter analyze --db" would into a temporary database.
With --spec, findings are computed as "specter diff" computes them.

Exit status: 0 on success, 1 when some input was bad but a report was
written, 2 on usage errors or when nothing could be read.`,
		Example: `  specter report --db specter.db --spec api.yaml -o report.html
  specter report --spec specs/ -o report.html capture.pcap`,
		Args: dbOrFiles(&dbPath),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var specs []*diff.Spec
			if len(sf.specs) > 0 || len(sf.specHosts) > 0 {
				var err error
				if specs, err = sf.load(); err != nil {
					return err
				}
			}
			var sum summary
			var runErr error
			if dbPath == "" {
				tmp, err := os.MkdirTemp("", "specter-report-")
				if err != nil {
					return fatalError(err)
				}
				defer os.RemoveAll(tmp)
				dbPath = filepath.Join(tmp, "report.db")
				res, err := consumeFiles(ctx, streamsOf(cmd), inputOptions{Paths: args, Reassembly: pf.config()}, sinkOptions{
					inf: &inf, sf: &sf, dbPath: dbPath, run: store.RunInfo{Inputs: args, Version: version},
					checkpointEvery: 200000, checkpointInterval: 30 * time.Second})
				if err != nil {
					return err
				}
				sum, runErr = res.Summary, res.RunErr
				if runErr != nil && sum.Packets == 0 {
					return outcome(sum, runErr)
				}
			}
			cfg, err := inf.inferConfig()
			if err != nil {
				return err
			}
			db, err := openStored(ctx, dbPath, cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			d, err := reportData(ctx, db, specs, title)
			if err != nil {
				return fatalError(err)
			}
			if err := writeReport(cmd, output, d, report.Options{Version: version, HaveSpecs: len(specs) > 0}); err != nil {
				return err
			}
			for _, e := range sum.Errors {
				fmt.Fprintf(cmd.ErrOrStderr(), "error: %s\n", e)
			}
			return outcome(sum, runErr)
		},
	}
	pf.register(cmd)
	inf.registerConfig(cmd)
	sf.register(cmd)
	registerDB(cmd, &dbPath, "report the inventory stored in this database instead of captures")
	cmd.Flags().StringVarP(&output, "output", "o", "report.html", `write the report to this file ("-" for standard output)`)
	cmd.Flags().StringVar(&title, "title", "", "the report's title (default \"Specter API inventory\")")
	return cmd
}

// reportData reads the report's data from db, with the findings against
// specs when there are any.
func reportData(ctx context.Context, db *store.DB, specs []*diff.Spec, title string) (*report.Data, error) {
	load := report.Load
	if len(specs) > 0 {
		load = report.LoadAll // the inventory findings need every service
	}
	in, err := load(ctx, db)
	if err != nil {
		return nil, err
	}
	if len(specs) > 0 {
		in.Findings = report.SpecFindings(in, specs)
	}
	in.Title = title
	return report.Build(in), nil
}

// writeReport renders d to path: through a temporary file renamed into
// place, so that a reader never sees half a report.
func writeReport(cmd *cobra.Command, path string, d *report.Data, opts report.Options) error {
	if path == "-" {
		w := bufio.NewWriter(cmd.OutOrStdout())
		if err := report.Render(w, d, opts); err != nil {
			return fatalError(err)
		}
		return w.Flush()
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return usageError("%v", err)
	}
	defer os.Remove(f.Name())
	w := bufio.NewWriter(f)
	err = report.Render(w, d, opts)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fatalError(fmt.Errorf("writing %s: %w", path, err))
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: %d services, %d endpoints, %d findings\n", path, d.Summary.Services, d.Summary.Endpoints, len(d.Findings))
	return nil
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/store"
	"github.com/specter-dev/specter/store/fleet"
)

func newAggregateCmd() *cobra.Command {
	var inf inferFlags
	var nf natsFlags
	var from, dbPath, metrics string
	var o fleet.AggregatorOptions
	var maxMB int64
	cmd := &cobra.Command{
		Use:   "aggregate --from nats://HOST:PORT --db central.db",
		Short: "Merge the inventory deltas that sensors publish to NATS JetStream into one database",
		Long: `Aggregate is the central side of a fleet of sensors (analyze or capture with
--publish): it consumes their inventory deltas from a JetStream stream
(created, or its limits updated, here) with a durable consumer and merges
each into the database as a checkpoint would, so the database holds the
inventory of all the sensors' traffic together; endpoints, diff, export and
report read it as any other.

Each delta is merged in one transaction together with its sensor's
sequence, and acknowledged only once committed: an aggregator killed at
any point loses nothing (the delta is delivered again) and doubles nothing
(a delta already applied is skipped, also after the stream's
de-duplication window). Deltas that do not parse are rejected (logged,
counted) and never merged. Several aggregators may run on one --durable
for availability: the one holding its lease (a key of --lease-bucket that
expires --lease-ttl after its last renewal) consumes, the others log
"standby" and take over once the key is gone. "specter sensors --db" lists each sensor's
provenance. It runs until interrupted.`,
		Example: `  specter aggregate --from nats://nats.internal:4222 --db central.db --metrics :9465
  specter sensors --db central.db`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if from == "" || dbPath == "" {
				return usageError("aggregate needs --from nats://HOST:PORT and --db PATH")
			}
			if o.Batch <= 0 {
				return usageError("--batch must be positive")
			}
			if maxMB < 0 {
				return usageError("--stream-max-mb must not be negative")
			}
			o.Stream.MaxBytes = maxMB << 20
			nopts, err := nf.options()
			if err != nil {
				return err
			}
			cfg, err := inf.inferConfig()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			db, err := store.Open(ctx, dbPath, store.Options{Config: cfg})
			if err != nil {
				return fatalError(err)
			}
			defer db.Close()
			stderr := cmd.ErrOrStderr()
			o.Logf = func(format string, args ...any) { fmt.Fprintf(stderr, "specter: "+format+"\n", args...) }
			var st fleet.AggregatorStats
			if metrics != "" {
				addr, stop, err := serveAggregateMetrics(metrics, &st)
				if err != nil {
					return usageError("--metrics %s: %v", metrics, err)
				}
				defer stop()
				fmt.Fprintf(stderr, "metrics on http://%s/metrics\n", addr)
			}
			nc, err := nats.Connect(from, append([]nats.Option{nats.Name("specter aggregate"),
				nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1), nats.ReconnectWait(500 * time.Millisecond)}, nopts...)...)
			if err != nil {
				return fatalError(fmt.Errorf("connecting to %s: %w", from, err))
			}
			defer nc.Close()
			fmt.Fprintf(stderr, "aggregating the deltas of %s into %s\n", from, dbPath)
			err = fleet.Aggregate(ctx, nc, db, o, &st)
			fmt.Fprintf(stderr, "applied %d deltas, skipped %d duplicates, rejected %d\n", st.Applied.Load(), st.Duplicates.Load(), st.Rejected.Load())
			if err != nil {
				return fatalError(err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "the NATS server (nats://HOST:PORT; several comma-separated)")
	registerDB(cmd, &dbPath, "merge the deltas into the inventory in this database")
	f.StringVar(&metrics, "metrics", "", "serve Prometheus metrics on ADDR/metrics (a port alone binds 127.0.0.1)")
	f.StringVar(&o.Stream.Name, "stream", fleet.DefaultStream, "the JetStream stream of the deltas")
	f.StringVar(&o.Durable, "durable", fleet.DefaultDurable, "the durable consumer's name (of the aggregators sharing it, the lease holder consumes)")
	f.Int64Var(&maxMB, "stream-max-mb", 1024, "bound the stream to this many MiB; when full, sensors keep their deltas in their spools")
	f.DurationVar(&o.Stream.MaxAge, "stream-max-age", 0, "drop deltas not consumed after this long (0: keep them)")
	f.DurationVar(&o.Stream.Duplicates, "dedup-window", 2*time.Minute, "the stream's de-duplication window by message id")
	f.IntVar(&o.Stream.Replicas, "stream-replicas", 1, "replicas of the stream in a NATS cluster")
	f.DurationVar(&o.AckWait, "ack-wait", time.Minute, "redeliver a delta not acknowledged after this long (a restarted aggregator waits this long for what its predecessor left unacknowledged)")
	f.IntVar(&o.Batch, "batch", 64, "merge up to this many deltas in one transaction")
	f.DurationVar(&o.Lease.TTL, "lease-ttl", fleet.DefaultLeaseTTL, "one aggregator per --durable consumes, the others stand by: a standby takes over this long after the active one stopped renewing (a negative value disables the lease)")
	f.StringVar(&o.Lease.Bucket, "lease-bucket", fleet.DefaultLeaseBucket, "the JetStream key-value bucket of the leases")
	f.StringVar(&o.Lease.ID, "aggregator-id", "", "this aggregator's name in the lease (default host-pid-random)")
	inf.registerConfig(cmd)
	nf.register(cmd)
	// It runs until stopped: a signal is its normal end (exit 0).
	cmd.Annotations = map[string]string{untilSignal: "yes"}
	return cmd
}

// serveAggregateMetrics serves an aggregator's counters on addr/metrics.
func serveAggregateMetrics(addr string, st *fleet.AggregatorStats) (string, func(), error) {
	reg := prometheus.NewRegistry()
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "specter", Subsystem: "aggregate", Name: name, Help: help}, f)
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "specter", Subsystem: "aggregate", Name: name, Help: help}, f)
	}
	for _, c := range []prometheus.Collector{
		counter("deltas_applied_total", "Inventory deltas merged into the database.", func() float64 { return float64(st.Applied.Load()) }),
		counter("duplicates_skipped_total", "Deltas delivered again and skipped (already applied).", func() float64 { return float64(st.Duplicates.Load()) }),
		counter("deltas_rejected_total", "Deltas that did not parse, terminated without being merged.", func() float64 { return float64(st.Rejected.Load()) }),
		gauge("lag_seconds", "From the sensor closing the window to the commit, for the last delta applied.", func() float64 { return time.Duration(st.LagNanos.Load()).Seconds() }),
		gauge("pending_deltas", "Deltas in the stream not yet delivered, at the last fetch.", func() float64 { return float64(st.Pending.Load()) }),
		gauge("active", "1 while this aggregator holds the lease and consumes, 0 while it stands by.", func() float64 {
			if st.Active.Load() {
				return 1
			}
			return 0
		}),
		counter("leases_acquired_total", "Times this aggregator became the active one.", func() float64 { return float64(st.LeasesAcquired.Load()) }),
		counter("leases_lost_total", "Lease renewals that failed, after which it stopped consuming.", func() float64 { return float64(st.LeasesLost.Load()) }),
	} {
		if err := reg.Register(c); err != nil {
			return "", nil, err
		}
	}
	return serveRegistry(addr, reg)
}

// serveRegistry serves reg on addr/metrics; an address without a host binds
// 127.0.0.1.
func serveRegistry(addr string, reg *prometheus.Registry) (string, func(), error) {
	if !strings.Contains(addr, ":") {
		addr = ":" + addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", nil, err
	}
	if host == "" {
		host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return ln.Addr().String(), stop, nil
}

func newSensorsCmd() *cobra.Command {
	var dbPath string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "sensors [flags]",
		Short: "List the sensors whose deltas an aggregator merged into a database",
		Long: `Sensors lists, for a database fed by specter aggregate, each sensor's id,
host and version, the deltas and exchanges merged from it, the duplicates
skipped, the deltas its spool dropped (as it last reported: those are
missing from the inventory), the sequence of its last delta, when that was
applied, and its lag (from the sensor closing the window to the commit).`,
		Example: `  specter sensors --db central.db`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return listStored(cmd, dbPath, asJSON, (*store.DB).Sensors, printSensors)
		},
	}
	cmd.Flags().StringVar(&dbPath, "db", defaultDB, "the database")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}

// listStored prints what list reads from the database at dbPath: JSON (an
// empty array for nothing) or the table of print.
func listStored[T any](cmd *cobra.Command, dbPath string, asJSON bool, list func(*store.DB, context.Context) ([]T, error), print func(io.Writer, []T)) error {
	db, err := openStored(cmd.Context(), dbPath, infer.Config{})
	if err != nil {
		return err
	}
	defer db.Close()
	items, err := list(db, cmd.Context())
	if err != nil {
		return fatalError(err)
	}
	if asJSON {
		if items == nil {
			items = []T{}
		}
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(items)
	}
	print(cmd.OutOrStdout(), items)
	return nil
}

func printSensors(w io.Writer, ss []store.Sensor) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SENSOR\tHOST\tVERSION\tDELTAS\tEXCHANGES\tDUPLICATES\tSPOOL DROPPED\tLAST SEQ\tLAST SEEN\tLAG")
	for _, s := range ss {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", s.Sensor, dash(s.Hostname), dash(s.Version), s.Deltas, s.Exchanges,
			s.Duplicates, s.SpoolDropped, s.LastSeq, s.LastSeen.UTC().Format(time.RFC3339), s.Lag.Round(time.Millisecond))
	}
	tw.Flush()
}

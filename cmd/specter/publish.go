package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/specter-dev/specter/store"
	"github.com/specter-dev/specter/store/fleet"
)

// natsFlags are the connection options of a NATS client: credentials and
// TLS, as nats.go supports them.
type natsFlags struct {
	creds, tlsCert, tlsKey, tlsCA string
	tls                           bool
}

func (f *natsFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.creds, "nats-creds", "", "NATS credentials file (JWT and NKey seed)")
	fl.BoolVar(&f.tls, "nats-tls", false, "require TLS to the NATS server (implied by the other --nats-tls-* flags and tls:// URLs)")
	fl.StringVar(&f.tlsCert, "nats-tls-cert", "", "client certificate (PEM) for NATS mutual TLS; needs --nats-tls-key")
	fl.StringVar(&f.tlsKey, "nats-tls-key", "", "client key (PEM) for --nats-tls-cert")
	fl.StringVar(&f.tlsCA, "nats-tls-ca", "", "CA certificates (PEM) that sign the NATS server's certificate")
}

// options returns the nats.go options of the flags.
func (f *natsFlags) options() ([]nats.Option, error) {
	var o []nats.Option
	for _, p := range []struct{ flag, path string }{{"--nats-creds", f.creds}, {"--nats-tls-cert", f.tlsCert}, {"--nats-tls-key", f.tlsKey}, {"--nats-tls-ca", f.tlsCA}} {
		if p.path == "" {
			continue
		}
		if _, err := os.Stat(p.path); err != nil {
			return nil, usageError("%s: %v", p.flag, err)
		}
	}
	if f.creds != "" {
		o = append(o, nats.UserCredentials(f.creds))
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return nil, usageError("--nats-tls-cert and --nats-tls-key go together")
	}
	if f.tlsCert != "" {
		o = append(o, nats.ClientCert(f.tlsCert, f.tlsKey))
	}
	if f.tlsCA != "" {
		o = append(o, nats.RootCAs(f.tlsCA))
	}
	if f.tls || f.tlsCert != "" || f.tlsCA != "" {
		o = append(o, nats.Secure())
	}
	return o, nil
}

// publishFlags make analyze and capture a sensor of a fleet: each
// checkpoint's inventory delta is published to NATS JetStream.
type publishFlags struct {
	url        string
	nats       natsFlags
	stateDir   string
	sensorID   string
	spoolMB    int64
	timeout    time.Duration
	checkpoint func(context.Context, []byte) error // set by start
	p          *fleet.Publisher                    // set by start
}

// collectors are the publisher's metrics for --metrics; none without
// --publish.
func (f *publishFlags) collectors() []prometheus.Collector {
	if f.p == nil {
		return nil
	}
	gauge := func(name, help string, v func(fleet.PublisherStats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "specter", Subsystem: "publish", Name: name, Help: help},
			func() float64 { return v(f.p.Stats()) })
	}
	counter := func(name, help string, v func(fleet.PublisherStats) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "specter", Subsystem: "publish", Name: name, Help: help},
			func() float64 { return v(f.p.Stats()) })
	}
	return []prometheus.Collector{
		gauge("spool_deltas", "Deltas waiting in the spool for the NATS server.", func(s fleet.PublisherStats) float64 { return float64(s.SpoolDeltas) }),
		gauge("spool_bytes", "Bytes of the deltas waiting in the spool.", func(s fleet.PublisherStats) float64 { return float64(s.SpoolBytes) }),
		counter("deltas_total", "Deltas published (spooled).", func(s fleet.PublisherStats) float64 { return float64(s.Published) }),
		counter("deltas_sent_total", "Deltas the stream acknowledged.", func(s fleet.PublisherStats) float64 { return float64(s.Sent) }),
		counter("spool_dropped_total", "Deltas dropped by the spool limit (missing from the central inventory).", func(s fleet.PublisherStats) float64 { return float64(s.Dropped) }),
	}
}

func (f *publishFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.url, "publish", "", "publish each checkpoint's inventory delta to this NATS JetStream server (nats://HOST:PORT) for specter aggregate; without --db the inventory is kept in memory")
	fl.StringVar(&f.stateDir, "sensor-state", "", "with --publish, the directory of the sensor's id, sequence and spool (default: $XDG_STATE_HOME/specter/sensor or ~/.local/state/specter/sensor)")
	fl.StringVar(&f.sensorID, "sensor-id", "", "with --publish, this sensor's id (default: the one in --sensor-state, generated the first time)")
	fl.Int64Var(&f.spoolMB, "spool-limit-mb", fleet.DefaultSpoolLimit>>20, "with --publish, bound the spool of deltas waiting for the server to this many MiB (past it the oldest are dropped, counted)")
	fl.DurationVar(&f.timeout, "publish-timeout", 15*time.Second, "with --publish, how long to wait at the end for the spool to be sent (what is left is sent by the next run)")
	f.nats.register(cmd)
}

// defaultStateDir is where a sensor keeps its state without --sensor-state.
func defaultStateDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "specter", "sensor"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", usageError("--publish: no --sensor-state and no home directory: %v", err)
	}
	return filepath.Join(home, ".local", "state", "specter", "sensor"), nil
}

// start opens the publisher when --publish is set, pointing *dbPath at an
// in-memory database when it is empty, and returns what ends it: it waits
// (up to --publish-timeout) for the spool to be sent and reports on stderr.
func (f *publishFlags) start(stderr io.Writer, dbPath *string) (finish func(error) error, err error) {
	if f.url == "" {
		return func(err error) error { return err }, nil
	}
	if f.spoolMB <= 0 {
		return nil, usageError("--spool-limit-mb must be positive")
	}
	if f.sensorID != "" {
		if err := fleet.ValidSensorID(f.sensorID); err != nil {
			return nil, usageError("--sensor-id: %v", err)
		}
	}
	opts, err := f.nats.options()
	if err != nil {
		return nil, err
	}
	dir := f.stateDir
	if dir == "" {
		if dir, err = defaultStateDir(); err != nil {
			return nil, err
		}
	}
	host, _ := os.Hostname()
	p, err := fleet.NewPublisher(fleet.PublisherOptions{URL: f.url, NATS: opts, StateDir: dir, SensorID: f.sensorID,
		Hostname: host, Version: version, SpoolLimit: f.spoolMB << 20,
		Logf: func(format string, args ...any) { fmt.Fprintf(stderr, "specter: "+format+"\n", args...) }})
	if err != nil {
		return nil, fatalError(err)
	}
	if *dbPath == "" {
		*dbPath = store.Memory
	}
	f.checkpoint, f.p = p.Publish, p
	return func(runErr error) error {
		ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
		defer cancel()
		cerr := p.Close(ctx)
		s := p.Stats()
		fmt.Fprintf(stderr, "published %d deltas to %s as sensor %s: %d sent, %d waiting in the spool, %d dropped by its limit\n",
			s.Published, f.url, s.SensorID, s.Sent, s.SpoolDeltas, s.Dropped)
		if cerr != nil {
			// Not lost: the next run with this --sensor-state sends it.
			fmt.Fprintf(stderr, "specter: %v\n", cerr)
		}
		return runErr
	}, nil
}

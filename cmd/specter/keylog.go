package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/tlsdecrypt"
	"github.com/specter-dev/specter/store"
)

// keylogKey keys a run's Decryptor in the command's context.
type keylogKey struct{}

// keylogPoll is how often capture -i reads what was appended to its key
// logs.
const keylogPoll = 500 * time.Millisecond

// registerKeylog adds --keylog (repeatable) to cmd. Before the command
// runs, every file is read into one key log (capture follows them as they
// grow, from an interface); the Decryptor over it goes in the command's
// context, where runFiles and the live source take it (decryptorFrom).
// Keys of pcapng Decryption Secrets Blocks join the same key log as the
// capture is read. The files are read, never copied; their secrets are
// never printed or stored.
func registerKeylog(cmd *cobra.Command) {
	var files []string
	cmd.Flags().StringArrayVar(&files, "keylog", nil, "TLS key log file (SSLKEYLOGFILE format; repeatable) to decrypt TLS connections with; capture -i follows it as it grows")
	preRun(cmd, func() error {
		dec, err := openKeylogs(cmd.Context(), cmd.ErrOrStderr(), files, cmd.Name() == "capture")
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		cmd.SetContext(context.WithValue(ctx, keylogKey{}, dec))
		return nil
	})
}

// openKeylogs reads the key log files into a new Decryptor. A file that
// cannot be read is a usage error, except when following (capture -i),
// where it may not be written yet: it is reported and watched until ctx
// ends. Malformed lines are reported (file, line and field, never the
// secret) and skipped.
func openKeylogs(ctx context.Context, stderr io.Writer, files []string, follow bool) (*tlsdecrypt.Decryptor, error) {
	keys := tlsdecrypt.NewKeyLog(0)
	for _, path := range files {
		f := keys.Follow(path)
		err := f.Poll()
		for err == nil && f.Backlog() >= tlsdecrypt.DefaultMaxPollBytes {
			err = f.Poll()
		}
		switch {
		case err == nil:
		case errors.Is(err, tlsdecrypt.ErrMalformed):
			fmt.Fprintf(stderr, "specter: --keylog: %v (such lines are skipped)\n", err)
		case follow && errors.Is(err, fs.ErrNotExist):
			fmt.Fprintf(stderr, "specter: --keylog %s: not there yet; following it\n", path)
		default:
			return nil, usageError("--keylog: %v", err)
		}
		if follow && ctx != nil {
			go f.Watch(ctx, keylogPoll, func(err error) {
				if !errors.Is(err, fs.ErrNotExist) {
					fmt.Fprintf(stderr, "specter: --keylog: %v\n", err)
				}
			})
		}
	}
	// Records wait for keys within tlsdecrypt's bounds (1 MiB a
	// connection, 64 MiB in all): a followed file, or a Decryption
	// Secrets Block further on in a capture, may bring them.
	return tlsdecrypt.New(keys, tlsdecrypt.Config{}), nil
}

// decryptorFrom returns the Decryptor registerKeylog put in ctx, or nil.
func decryptorFrom(ctx context.Context) *tlsdecrypt.Decryptor {
	if ctx == nil {
		return nil
	}
	d, _ := ctx.Value(keylogKey{}).(*tlsdecrypt.Decryptor)
	return d
}

// tlsCollectors returns the metrics of the Decryptor in ctx, if any.
func tlsCollectors(ctx context.Context) []prometheus.Collector {
	if dec := decryptorFrom(ctx); dec != nil {
		return []prometheus.Collector{newTLSCollector(dec)}
	}
	return nil
}

// tlsRows adds the TLS lines of a run's summary.
func tlsRows(row func(k string, v any), r reassembly.Stats) {
	t := r.TLS
	if t.Seen == 0 && r.ConnsTLS == 0 {
		return
	}
	row("  tls seen/with keys/decrypted", fmt.Sprintf("%d/%d/%d (%d http/1, %d http/2)", t.Seen, t.WithKeys, t.Decrypted, r.TLSHTTP1, r.TLSHTTP2))
	if len(t.Failed) > 0 {
		row("  tls not decrypted", tlsFailures(t))
	}
	if t.PendingDropped > 0 {
		row("  tls bytes dropped waiting for keys", t.PendingDropped)
	}
}

// tlsFailures says why connections were not decrypted, reason by reason,
// naming the unsupported suites.
func tlsFailures(t tlsdecrypt.Stats) string {
	var parts []string
	for _, r := range []tlsdecrypt.Reason{tlsdecrypt.ReasonNoKey, tlsdecrypt.ReasonUnsupportedSuite, tlsdecrypt.ReasonAuth, tlsdecrypt.ReasonGap, tlsdecrypt.ReasonNoHandshake, tlsdecrypt.ReasonPendingOverflow} {
		n := t.Failed[r]
		if n == 0 {
			continue
		}
		p := fmt.Sprintf("%d %s", n, strings.ReplaceAll(string(r), "_", " "))
		if r == tlsdecrypt.ReasonUnsupportedSuite {
			var names []string
			for _, s := range t.UnsupportedNames() {
				names = append(names, fmt.Sprintf("%s ×%d", s, t.Unsupported[s]))
			}
			p += " (" + strings.Join(names, ", ") + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

// tlsCollector exports a Decryptor's counters to Prometheus:
// specter_tls_connections_total by state (seen, with_keys, decrypted) and
// specter_tls_failed_total by reason and, for unsupported suites, suite.
type tlsCollector struct {
	dec         *tlsdecrypt.Decryptor
	conns, fail *prometheus.Desc
}

func newTLSCollector(dec *tlsdecrypt.Decryptor) *tlsCollector {
	return &tlsCollector{
		dec:   dec,
		conns: prometheus.NewDesc("specter_tls_connections_total", "TLS connections closed, by state: seen, with keys in the key log, decrypted.", []string{"state"}, nil),
		fail:  prometheus.NewDesc("specter_tls_failed_total", "TLS connections not decrypted, by reason (and suite, for unsupported suites).", []string{"reason", "suite"}, nil),
	}
}

func (c *tlsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.conns; ch <- c.fail }

func (c *tlsCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.dec.Stats()
	for _, s := range []struct {
		state string
		n     uint64
	}{{"seen", st.Seen}, {"with_keys", st.WithKeys}, {"decrypted", st.Decrypted}} {
		ch <- prometheus.MustNewConstMetric(c.conns, prometheus.CounterValue, float64(s.n), s.state)
	}
	for r, n := range st.Failed {
		if r == tlsdecrypt.ReasonUnsupportedSuite {
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.fail, prometheus.CounterValue, float64(n), string(r), "")
	}
	for name, n := range st.Unsupported {
		ch <- prometheus.MustNewConstMetric(c.fail, prometheus.CounterValue, float64(n), string(tlsdecrypt.ReasonUnsupportedSuite), name)
	}
}

// printTLSServices lists, after the endpoints, the services TLS
// handshakes named (by SNI, with or without keys): those of the captures
// read, or, with --db alone, those stored. With host, only that name's.
func printTLSServices(ctx context.Context, w io.Writer, dbPath, host string, sum summary) error {
	var svcs []store.TLSService
	if len(sum.Files) > 0 {
		for _, s := range sum.TLSServices {
			st := store.TLSService{SNI: s.SNI, Server: s.Server.String(), ALPN: s.ALPN, Conns: s.Conns, Decrypted: s.Decrypted}
			for _, v := range s.Versions {
				st.Versions = append(st.Versions, tlsdecrypt.VersionName(v))
			}
			svcs = append(svcs, st)
		}
	} else if dbPath != "" {
		db, err := openStored(ctx, dbPath, infer.Config{})
		if err != nil {
			return err
		}
		defer db.Close()
		if svcs, _, err = db.TLSServices(ctx); err != nil {
			return fatalError(err)
		}
	}
	if host != "" {
		svcs = slices.DeleteFunc(svcs, func(s store.TLSService) bool { return s.SNI != host })
	}
	if len(svcs) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nTLS services (from the handshakes, with or without keys):")
	tw := newTable(w)
	fmt.Fprintln(tw, "SNI\tSERVER\tALPN\tVERSIONS\tCONNECTIONS\tDECRYPTED")
	for _, s := range svcs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\n", dash(s.SNI), s.Server, dash(strings.Join(s.ALPN, ",")), dash(strings.Join(s.Versions, ",")), s.Conns, s.Decrypted)
	}
	return tw.Flush()
}

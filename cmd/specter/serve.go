package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/diff"
	"github.com/specter-dev/specter/store/report"
)

// serveTokenEnv names the environment variable that may hold serve's
// token, so that it stays out of the process list.
const serveTokenEnv = "SPECTER_SERVE_TOKEN"

func newServeCmd() *cobra.Command {
	var sf specFlags
	var dbPath, listen, token, basic, title string
	var refresh, poll time.Duration
	cmd := &cobra.Command{
		Use:   "serve --db FILE [--listen 127.0.0.1:8080]",
		Short: "Serve the report's views live from an inventory database",
		Long: `Serve answers GET / with the report of "specter report", built from the
database a running "specter capture --db" or "analyze --db" writes to,
which it opens read-only (a WAL reader: it never blocks the writer). It
checks every --poll whether a checkpoint committed and only then rebuilds
the page; requests get the last page built, and the page reloads itself
every --refresh.

It binds the loopback interface by default. Any other --listen address
needs a --token (or ` + serveTokenEnv + `; sent as "Authorization: Bearer
TOKEN" or ?token=TOKEN) or --basic-auth USER:PASSWORD. Serve does not
terminate TLS: put it behind a proxy that does for anything beyond a
trusted network. The metrics of capture (--metrics) stay separate.`,
		Example: `  specter serve --db specter.db
  ` + serveTokenEnv + `=$(openssl rand -hex 16) specter serve --db specter.db --listen 0.0.0.0:8080 --spec api.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if dbPath == "" {
				return usageError("serve needs --db")
			}
			if token == "" {
				token = os.Getenv(serveTokenEnv)
			}
			var user, pass string
			if basic != "" {
				var ok bool
				user, pass, ok = strings.Cut(basic, ":")
				if !ok || user == "" || pass == "" {
					return usageError("--basic-auth wants USER:PASSWORD")
				}
			}
			if !report.IsLoopback(listen) && token == "" && user == "" {
				return usageError("--listen %s is not a loopback address: give --token (or %s) or --basic-auth", listen, serveTokenEnv)
			}
			var specs []*diff.Spec
			if len(sf.specs) > 0 || len(sf.specHosts) > 0 {
				var err error
				if specs, err = sf.load(); err != nil {
					return err
				}
			}
			ctx := cmd.Context()
			db, err := openStored(ctx, dbPath, infer.Config{})
			if err != nil {
				return err
			}
			defer db.Close()
			stderr := cmd.ErrOrStderr()
			live := &report.Live{
				Build:    func(ctx context.Context) (*report.Data, error) { return reportData(ctx, db, specs, title) },
				Version:  db.DataVersion,
				Options:  report.Options{Version: version, Refresh: refresh, HaveSpecs: len(specs) > 0},
				Interval: poll,
				OnError:  func(err error) { fmt.Fprintf(stderr, "specter serve: %v (serving the last good page)\n", err) },
			}
			var h http.Handler = live
			if token != "" || user != "" {
				h = report.RequireAuth(h, token, user, pass)
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return usageError("%v", err)
			}
			srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
				WriteTimeout: time.Minute, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10}
			runCtx, stop := context.WithCancel(ctx)
			defer stop()
			go live.Run(runCtx)
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ln) }()
			fmt.Fprintf(stderr, "serving the report of %s on http://%s/\n", dbPath, ln.Addr())
			select {
			case <-ctx.Done():
			case err := <-done:
				if !errors.Is(err, http.ErrServerClosed) {
					return fatalError(err)
				}
			}
			shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return srv.Shutdown(shut)
		},
	}
	sf.register(cmd)
	registerDB(cmd, &dbPath, "the inventory database to serve (opened read-only)")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "address to listen on (host:port); non-loopback addresses need --token or --basic-auth")
	cmd.Flags().StringVar(&token, "token", "", "require this bearer token (also ?token=); default $"+serveTokenEnv)
	cmd.Flags().StringVar(&basic, "basic-auth", "", "require HTTP basic authentication with USER:PASSWORD")
	cmd.Flags().DurationVar(&refresh, "refresh", 30*time.Second, "how often the page reloads itself in the browser")
	cmd.Flags().DurationVar(&poll, "poll", 2*time.Second, "how often the database is checked for new checkpoints")
	cmd.Flags().StringVar(&title, "title", "", "the report's title")
	// It runs until stopped: a signal is its normal end (exit 0).
	cmd.Annotations = map[string]string{untilSignal: "yes"}
	return cmd
}

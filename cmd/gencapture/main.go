// Command gencapture writes a synthetic capture of keep-alive JSON API
// traffic (see package synth), for the demo and for benchmarks:
//
//	gencapture -size 100000000 -o /tmp/api.pcap [-truth truth.json] [-loss 0.01]
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/specter-dev/specter/capture/synth"
)

func main() {
	cfg := synth.DefaultConfig()
	out := flag.String("o", "", "output pcap file (required)")
	truth := flag.String("truth", "", "also write the truth about the exchanges as JSON here")
	flag.Int64Var(&cfg.TargetBytes, "size", cfg.TargetBytes, "approximate capture size in bytes")
	flag.Int64Var(&cfg.Seed, "seed", cfg.Seed, "random seed (same seed, same bytes)")
	flag.IntVar(&cfg.Conns, "conns", cfg.Conns, "concurrent connections")
	flag.Float64Var(&cfg.Loss, "loss", 0, "probability that a data segment is missing from the capture")
	flag.IntVar(&cfg.PerConn, "per-conn", cfg.PerConn, "most exchanges per connection (keep-alive)")
	flag.DurationVar(&cfg.Gap, "gap", 0, "mean idle time between bursts of -conns connections (0: no bursts, no idle time)")
	flag.Float64Var(&cfg.Anonymous, "anonymous", 0, "share of product listings requested without credentials")
	flag.BoolVar(&cfg.Hostile, "hostile", false, "append a request-smuggling-shaped request, a GraphQL introspection query and a path scan of another service")
	vlan := flag.Uint("vlan", 0, "802.1Q VLAN id to tag frames with")
	flag.Parse()
	cfg.VLAN = uint16(*vlan)
	if *out == "" {
		fmt.Fprintln(os.Stderr, "gencapture: -o FILE is required")
		os.Exit(2)
	}
	if err := run(*out, *truth, cfg); err != nil {
		fmt.Fprintf(os.Stderr, "gencapture: %v\n", err)
		os.Exit(1)
	}
}

func run(out, truthPath string, cfg synth.Config) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	t, err := synth.Write(bw, cfg)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", out, err)
	}
	if truthPath != "" {
		b, err := json.MarshalIndent(t, "", " ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(truthPath, b, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "%s: %d packets, %d bytes, %d exchanges, %d segments dropped\n", out, t.Packets, t.Bytes, len(t.Exchanges), t.Dropped)
	return nil
}

//go:build linux

package bpf_test

import (
	"context"
	"fmt"
	"log"
	"os/signal"
	"syscall"

	"github.com/specter-dev/specter/bpf"
)

// Print what every process named nginx reads and writes over TCP, TLS
// plaintext included, until interrupted.
func ExampleOpen() {
	if err := bpf.Check().Err(); err != nil {
		log.Fatal(err) // e.g. "bpf: missing capability CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN): ..."
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT)
	defer stop()
	tr, err := bpf.Open(ctx, bpf.Options{Comm: "nginx"})
	if err != nil {
		log.Fatal(err)
	}
	defer tr.Close()
	for {
		c, err := tr.Read()
		if err != nil {
			break // bpf.ErrClosed once ctx is cancelled
		}
		if c.Kind == bpf.KindData {
			fmt.Printf("%s pid %d %s conn %d %s %s->%s tls=%v %d bytes\n",
				c.Time.Format("15:04:05.000000"), c.PID, c.Comm, c.Conn, c.Dir, c.Local, c.Remote, c.TLS, c.Len)
		}
	}
	st := tr.Stats()
	fmt.Printf("%d records, %d lost\n", st.Records, st.Lost)
}

package pipeline_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/specter-dev/specter/capture"
	"github.com/specter-dev/specter/capture/live"
	"github.com/specter-dev/specter/cmd/internal/pipeline"
	"github.com/specter-dev/specter/reassembly"
)

// A sensor on two mirror ports, stopped by SIGINT or SIGTERM: what the rings
// hold when the signal comes is still reassembled, and Close flushes every
// connection.
func ExamplePump() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	src, err := live.Open(ctx, live.Options{
		Interfaces: []string{"eth1", "eth2"},
		Filter:     "tcp port 80 or tcp port 8080 or udp port 4789",
		Promisc:    true,
		Dedup:      true,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	pipe := reassembly.New(reassembly.DefaultConfig(), func(x *reassembly.Exchange) {
		if x.Request != nil {
			fmt.Println(x.Request.Method, x.Request.Target)
		}
	})
	dec := capture.NewDecoder(capture.DecoderOptions{})
	if err := pipeline.Pump(ctx, src, dec, pipe, time.Second); err != nil {
		log.Print(err)
	}
	pipe.Close()
	st := src.Stats()
	log.Printf("%d frames, %d kernel drops, %d duplicates", st.Packets, st.KernelDrops, st.Duplicates)
}

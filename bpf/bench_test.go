//go:build linux

package bpf

import (
	"context"
	"io"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkTracer writes size-byte messages over a loopback TCP connection
// in this process, traced, and reads them back: each iteration is two
// syscalls and two chunks. It reports the bytes per second, untraced and
// traced, and the share of chunks that reached Read. The reader runs in the
// same process, so its allocations count in the traced B/op.
func BenchmarkTracer(b *testing.B) {
	if os.Geteuid() != 0 || Check().Err() != nil {
		b.Skip("needs root and a kernel that can trace (see Check)")
	}
	for _, bc := range []struct {
		size   int
		traced bool
	}{{128, false}, {128, true}, {4096, false}, {4096, true}} {
		size := bc.size
		name := strconv.Itoa(size) + "B/untraced"
		if bc.traced {
			name = strconv.Itoa(size) + "B/traced"
		}
		b.Run(name, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			client, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer client.Close()
			server, err := ln.Accept()
			if err != nil {
				b.Fatal(err)
			}
			defer server.Close()

			var chunks, bytes atomic.Int64
			done := make(chan struct{})
			msg := make([]byte, size)
			buf := make([]byte, size)
			if !bc.traced {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := client.Write(msg); err != nil {
						b.Fatal(err)
					}
					if _, err := io.ReadFull(server, buf); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)*float64(size)/b.Elapsed().Seconds()/1e6, "MB/s")
				return
			}
			tr, err := Open(context.Background(), Options{PID: uint32(os.Getpid()), NoTLS: true})
			if err != nil {
				b.Fatal(err)
			}
			go func() {
				defer close(done)
				for {
					c, err := tr.Read()
					if err != nil {
						return
					}
					if c.Kind == KindData {
						chunks.Add(1)
						bytes.Add(int64(len(c.Data)))
					}
				}
			}()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := client.Write(msg); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(server, buf); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			// Drain: wait until the reader stops finding records.
			for prev := int64(-1); chunks.Load() != prev; {
				prev = chunks.Load()
				time.Sleep(50 * time.Millisecond)
			}
			st := tr.Stats()
			tr.Close()
			<-done
			b.ReportMetric(float64(b.N)*float64(size)/b.Elapsed().Seconds()/1e6, "MB/s")
			b.ReportMetric(float64(chunks.Load())/b.Elapsed().Seconds(), "chunks/s")
			b.ReportMetric(100*float64(chunks.Load())/float64(2*b.N), "%captured")
			b.ReportMetric(float64(st.Lost), "lost")
		})
	}
}

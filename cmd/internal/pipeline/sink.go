package pipeline

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/specter-dev/specter/reassembly"
)

// Sink consumes exchanges: the inventory (infer.Model), the store's
// ingest, the spec checker. Observe is called by one goroutine at a time
// and must not keep x past the call unless it owns it (exchanges are not
// reused). Flush hands on what the sink buffers; Close flushes and ends the
// sink, after which Observe must not be called.
type Sink interface {
	Observe(x *reassembly.Exchange)
	Flush() error
	Close() error
}

// SinkFunc is a Sink that calls itself on each exchange and buffers
// nothing.
type SinkFunc func(*reassembly.Exchange)

// Observe calls f(x).
func (f SinkFunc) Observe(x *reassembly.Exchange) { f(x) }

// Flush does nothing.
func (SinkFunc) Flush() error { return nil }

// Close does nothing.
func (SinkFunc) Close() error { return nil }

// Fanout hands every exchange to each of its sinks, in order.
type Fanout []Sink

// Observe hands x to each sink.
func (f Fanout) Observe(x *reassembly.Exchange) {
	for _, s := range f {
		s.Observe(x)
	}
}

// Flush flushes each sink, and returns their errors joined.
func (f Fanout) Flush() error {
	var errs []error
	for _, s := range f {
		errs = append(errs, s.Flush())
	}
	return errors.Join(errs...)
}

// Close closes each sink, and returns their errors joined.
func (f Fanout) Close() error {
	var errs []error
	for _, s := range f {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// Async runs a sink on its own goroutine behind a queue of a bounded
// number of exchanges, so that a slow consumer (the spec checker) overlaps
// reassembly. When the queue is full Observe blocks: the source slows down
// (a live source then drops in the kernel, where it is counted), memory
// never grows; Waits counts those blocked calls.
type Async struct {
	s     Sink
	ch    chan asyncItem
	done  chan struct{}
	err   error // the sink's Close error, set before done is closed
	once  sync.Once
	waits atomic.Uint64
}

// asyncItem is an exchange, or (x nil) a flush whose result goes to flushed.
type asyncItem struct {
	x       *reassembly.Exchange
	flushed chan error
}

// NewAsync starts s behind a queue of queue exchanges (at least 1).
func NewAsync(s Sink, queue int) *Async {
	a := &Async{s: s, ch: make(chan asyncItem, max(queue, 1)), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		for it := range a.ch {
			if it.x == nil {
				it.flushed <- s.Flush()
				continue
			}
			s.Observe(it.x)
		}
		a.err = s.Close()
	}()
	return a
}

// Observe queues x, waiting while the queue is full.
func (a *Async) Observe(x *reassembly.Exchange) {
	if x == nil {
		return
	}
	select {
	case a.ch <- asyncItem{x: x}:
	default:
		a.waits.Add(1)
		a.ch <- asyncItem{x: x}
	}
}

// Flush waits until the exchanges queued so far were observed, then
// flushes the sink.
func (a *Async) Flush() error {
	done := make(chan error, 1)
	a.ch <- asyncItem{flushed: done}
	return <-done
}

// Close waits until every queued exchange was observed, closes the sink
// and returns its error. It may be called more than once.
func (a *Async) Close() error {
	a.once.Do(func() { close(a.ch) })
	<-a.done
	return a.err
}

// Waits returns the number of Observe calls that found the queue full.
func (a *Async) Waits() uint64 { return a.waits.Load() }

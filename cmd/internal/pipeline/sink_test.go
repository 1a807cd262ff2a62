package pipeline

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/specter-dev/specter/reassembly"
)

// recorder is a Sink that records what it was handed, optionally blocking
// each Observe until release is closed.
type recorder struct {
	mu       sync.Mutex
	seen     []*reassembly.Exchange
	flushes  int
	closed   int
	closeErr error
	release  chan struct{}
}

func (r *recorder) Observe(x *reassembly.Exchange) {
	if r.release != nil {
		<-r.release
	}
	r.mu.Lock()
	r.seen = append(r.seen, x)
	r.mu.Unlock()
}

func (r *recorder) Flush() error {
	r.mu.Lock()
	r.flushes++
	r.mu.Unlock()
	return nil
}

func (r *recorder) Close() error {
	r.mu.Lock()
	r.closed++
	r.mu.Unlock()
	return r.closeErr
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
}

func exchanges(n int) []*reassembly.Exchange {
	xs := make([]*reassembly.Exchange, n)
	for i := range xs {
		xs[i] = &reassembly.Exchange{ConnID: uint64(i)}
	}
	return xs
}

func TestSinkFanout(t *testing.T) {
	errA, errB := errors.New("a"), errors.New("b")
	a, b := &recorder{closeErr: errA}, &recorder{closeErr: errB}
	var fn int
	f := Fanout{a, b, SinkFunc(func(*reassembly.Exchange) { fn++ })}
	xs := exchanges(3)
	for _, x := range xs {
		f.Observe(x)
	}
	if err := f.Flush(); err != nil {
		t.Errorf("Flush: %v", err)
	}
	err := f.Close()
	if !errors.Is(err, errA) || !errors.Is(err, errB) {
		t.Errorf("Close = %v, want both errors", err)
	}
	for i, r := range []*recorder{a, b} {
		if len(r.seen) != 3 || r.seen[0] != xs[0] || r.seen[2] != xs[2] || r.flushes != 1 || r.closed != 1 {
			t.Errorf("sink %d: %d seen, %d flushes, %d closes", i, len(r.seen), r.flushes, r.closed)
		}
	}
	if fn != 3 {
		t.Errorf("SinkFunc called %d times", fn)
	}
}

func TestAsync(t *testing.T) {
	for _, queue := range []int{0, 1, 4, 64} {
		t.Run(fmt.Sprint(queue), func(t *testing.T) {
			r := &recorder{release: make(chan struct{})}
			a := NewAsync(r, queue)
			xs := exchanges(20)
			sent := make(chan struct{})
			go func() {
				defer close(sent)
				for _, x := range xs {
					a.Observe(x)
				}
			}()
			// The consumer is stuck: at most the queue (and the one
			// exchange being observed) can have been taken.
			bound := max(queue, 1) + 1
			for a.Waits() == 0 && queue < len(xs) {
				select {
				case <-sent:
					t.Fatalf("all %d exchanges queued past a bound of %d", len(xs), queue)
				default:
				}
			}
			if len(a.ch) > max(queue, 1) || r.count() > bound {
				t.Errorf("queued %d, observed %d: bound %d", len(a.ch), r.count(), queue)
			}
			close(r.release)
			<-sent
			if err := a.Flush(); err != nil {
				t.Fatal(err)
			}
			if r.count() != len(xs) || r.flushes != 1 {
				t.Fatalf("after Flush: %d observed, %d flushes", r.count(), r.flushes)
			}
			for i, x := range r.seen {
				if x != xs[i] {
					t.Fatalf("exchange %d out of order", i)
				}
			}
			r.closeErr = errors.New("closing")
			if err := a.Close(); !errors.Is(err, r.closeErr) {
				t.Errorf("Close = %v", err)
			}
			if err := a.Close(); !errors.Is(err, r.closeErr) || r.closed != 1 {
				t.Errorf("second Close = %v, sink closed %d times", err, r.closed)
			}
		})
	}
}

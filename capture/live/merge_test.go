package live

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
)

// mergeSource is a Source with no sockets, fed by hand.
func mergeSource(lanes, limit int) *Source {
	return &Source{
		queue: make(chan *batch, 16),
		free:  make(chan *batch, 16),
		kill:  make(chan struct{}),
		merge: newMerger(lanes, limit),
	}
}

func mkBatch(sock int, base time.Time, frames ...int) *batch {
	b := &batch{sock: sock}
	for _, f := range frames {
		off := len(b.buf)
		b.buf = append(b.buf, byte(f))
		b.frames = append(b.frames, frameRec{off: off, n: 1, info: gopacket.CaptureInfo{Timestamp: base.Add(time.Duration(f) * time.Millisecond)}})
	}
	return b
}

func drain(t *testing.T, s *Source) []int {
	t.Helper()
	var got []int
	for {
		f, err := s.Next()
		if errors.Is(err, io.EOF) {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, int(f.Data[0]))
	}
}

func TestMergeOrder(t *testing.T) {
	base := time.Unix(1700000000, 0)
	tests := []struct {
		name    string
		limit   int
		batches []*batch
		want    []int
	}{
		{"interleaved", 8, []*batch{mkBatch(0, base, 1, 3, 5), mkBatch(1, base, 2, 4)}, []int{1, 2, 3, 4, 5}},
		{"one lane", 8, []*batch{mkBatch(1, base, 1, 2), mkBatch(1, base, 3)}, []int{1, 2, 3}},
		{"three lanes", 8, []*batch{mkBatch(2, base, 3, 9), mkBatch(0, base, 1, 2, 10), mkBatch(1, base, 4, 5), mkBatch(1, base, 6)}, []int{1, 2, 3, 4, 5, 6, 9, 10}},
		{"empty batch", 8, []*batch{mkBatch(0, base), mkBatch(1, base, 7)}, []int{7}},
		// Over the bound the oldest held frame goes first, even if a later
		// batch has older ones: bounded memory wins over order.
		{"bound", 2, []*batch{mkBatch(0, base, 5), mkBatch(0, base, 6), mkBatch(1, base, 1)}, []int{5, 1, 6}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mergeSource(3, tc.limit)
			for _, b := range tc.batches {
				s.queue <- b
			}
			close(s.queue)
			got := drain(t, s)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// TestMergeWaits checks that a frame is held back while another interface
// may still deliver older ones: the older frame, arriving later, comes out
// first.
func TestMergeWaits(t *testing.T) {
	now := time.Now()
	s := mergeSource(2, 8)
	// Far in the future: it can only go once lane 1 has something or the
	// queue ends.
	s.queue <- mkBatch(0, now.Add(time.Hour), 50)
	got := make(chan int)
	go func() {
		for {
			f, err := s.Next()
			if err != nil {
				close(got)
				return
			}
			got <- int(f.Data[0])
		}
	}()
	s.queue <- mkBatch(1, now, 1, 2)
	for _, want := range []int{1, 2} {
		if g := <-got; g != want {
			t.Fatalf("got frame %d, want %d", g, want)
		}
	}
	close(s.queue)
	if g := <-got; g != 50 {
		t.Fatalf("got frame %d, want 50", g)
	}
	if _, ok := <-got; ok {
		t.Fatal("frames after the end")
	}
}

func TestMergeClose(t *testing.T) {
	s := mergeSource(2, 8)
	s.queue <- mkBatch(0, time.Now().Add(time.Hour), 1)
	done := make(chan error)
	go func() {
		_, err := s.Next()
		done <- err
	}()
	close(s.kill)
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after kill: %v", err)
	}
}

package live

import (
	"time"

	"github.com/specter-dev/specter/capture"
)

// reorderDelay is how long a frame from one interface waits for frames of
// the others that may be older. A reader hands a batch on within
// blockTimeout+pollTimeout of its first frame on a quiet link, sooner under
// load, so this covers the worst case with a margin.
const reorderDelay = 50 * time.Millisecond

// merger puts the frames of several interfaces back in timestamp order.
// When a mirrored link's two directions arrive on two ports, a response
// read from one port's ring before its request was read from the other's
// would be taken for a response without a request; so Next hands out the
// oldest frame among the interfaces, and holds a frame back until every
// interface has something queued or the frame is reorderDelay old.
//
// It holds at most limit batches: past that the oldest frame goes out
// without waiting (order may then suffer, nothing is lost).
type merger struct {
	lanes   []lane // per socket
	held    int    // batches in lanes
	limit   int
	eof     bool
	release *batch // emptied by the last frame returned, recycled next call
	timer   *time.Timer
}

type lane struct {
	batches []*batch
	pos     int // in batches[0]
}

func newMerger(sockets, limit int) *merger {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &merger{lanes: make([]lane, sockets), limit: limit, timer: t}
}

func (m *merger) add(b *batch) {
	if len(b.frames) == 0 {
		return
	}
	l := &m.lanes[b.sock]
	l.batches = append(l.batches, b)
	m.held++
}

// oldest returns the lane whose head frame is the oldest, -1 if all are
// empty, and how many lanes have a frame.
func (m *merger) oldest() (best, nonEmpty int) {
	best = -1
	var bestTS time.Time
	for i := range m.lanes {
		l := &m.lanes[i]
		if len(l.batches) == 0 {
			continue
		}
		nonEmpty++
		ts := l.batches[0].frames[l.pos].info.Timestamp
		if best < 0 || ts.Before(bestTS) {
			best, bestTS = i, ts
		}
	}
	return best, nonEmpty
}

// ready returns the lane to take the next frame from, or -1 and how long to
// wait before the oldest head may go.
func (m *merger) ready(now time.Time) (int, time.Duration) {
	i, nonEmpty := m.oldest()
	if i < 0 {
		return -1, 0
	}
	if m.eof || m.held >= m.limit || nonEmpty == len(m.lanes) {
		return i, 0
	}
	l := &m.lanes[i]
	wait := l.batches[0].frames[l.pos].info.Timestamp.Add(reorderDelay).Sub(now)
	if wait <= 0 {
		return i, 0
	}
	return -1, wait
}

// take removes the head frame of lane i.
func (m *merger) take(i int) (*batch, frameRec) {
	l := &m.lanes[i]
	b := l.batches[0]
	r := b.frames[l.pos]
	l.pos++
	if l.pos == len(b.frames) {
		// Shift rather than reslice, so the slice keeps its capacity:
		// a lane holds a handful of batches.
		n := copy(l.batches, l.batches[1:])
		l.batches[n] = nil
		l.batches = l.batches[:n]
		l.pos = 0
		m.held--
		m.release = b
	}
	return b, r
}

func (s *Source) nextMerged(tick <-chan time.Time) (capture.Frame, error) {
	m := s.merge
	for {
		if m.release != nil {
			s.putBatch(m.release)
			m.release = nil
		}
		select {
		case <-s.kill:
			return capture.Frame{}, ErrClosed
		default:
		}
		// Take what is queued, without blocking, up to the bound.
	fill:
		for !m.eof && m.held < m.limit {
			select {
			case b, ok := <-s.queue:
				if !ok {
					m.eof = true
					break fill
				}
				m.add(b)
			default:
				break fill
			}
		}
		i, wait := m.ready(time.Now())
		if i >= 0 {
			b, r := m.take(i)
			if f, ok := s.frame(b, r); ok {
				return f, nil
			}
			continue
		}
		if m.eof && m.held == 0 {
			return capture.Frame{}, s.endErr()
		}
		var timeout <-chan time.Time
		if wait > 0 {
			m.timer.Reset(wait)
			timeout = m.timer.C
		}
		select {
		case b, ok := <-s.queue:
			if ok {
				m.add(b)
			} else {
				m.eof = true
			}
		case <-s.kill:
			return capture.Frame{}, ErrClosed
		case <-tick:
			return capture.Frame{}, ErrTick
		case <-timeout:
		}
		if timeout != nil {
			m.timer.Stop()
		}
	}
}

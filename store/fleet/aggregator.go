package fleet

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/store"
)

// StreamOptions size the stream the aggregator creates (or updates).
type StreamOptions struct {
	Name string // DefaultStream when ""
	// MaxBytes bounds the stream; when full, sensors' publishes are
	// refused and their deltas wait in their spools. 0 means 1 GiB.
	MaxBytes int64
	// MaxAge drops deltas older than this (0: kept until consumed).
	MaxAge time.Duration
	// Duplicates is the de-duplication window by message id; 0 means
	// 2 minutes. Beyond it, the aggregator's sequences still skip resends.
	Duplicates time.Duration
	Replicas   int // 1 when 0
}

// EnsureStream creates the deltas' stream, or updates its limits. It is a
// work queue: a delta leaves the stream once the aggregator acknowledged
// it, so the stream holds only what is not merged yet.
func EnsureStream(ctx context.Context, js jetstream.JetStream, o StreamOptions) (jetstream.Stream, error) {
	if o.Name == "" {
		o.Name = DefaultStream
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 1 << 30
	}
	if o.Duplicates <= 0 {
		o.Duplicates = 2 * time.Minute
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        o.Name,
		Description: "Specter sensors' inventory deltas",
		Subjects:    []string{SubjectPrefix + ">"},
		Retention:   jetstream.WorkQueuePolicy,
		Discard:     jetstream.DiscardNew,
		MaxBytes:    o.MaxBytes,
		MaxAge:      o.MaxAge,
		Duplicates:  o.Duplicates,
		Replicas:    o.Replicas,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("fleet: stream %s: %w", o.Name, err)
	}
	return s, nil
}

// AggregatorOptions configure Aggregate.
type AggregatorOptions struct {
	Stream  StreamOptions
	Durable string // DefaultDurable when ""
	// AckWait is how long a delivered delta may stay unacknowledged
	// before it is delivered again; 0 means 1 minute.
	AckWait time.Duration
	// Logf reports rejected deltas; nil discards.
	Logf func(format string, args ...any)
}

// AggregatorStats are an aggregator's counters, safe to read while it runs.
type AggregatorStats struct {
	Applied    atomic.Uint64 // deltas merged
	Duplicates atomic.Uint64 // deltas skipped as already applied
	Rejected   atomic.Uint64 // deltas that did not parse (terminated, logged)
	// LagNanos is, for the last delta applied, the time from the sensor
	// closing its window to the commit.
	LagNanos atomic.Int64
	// Pending is the deltas in the stream not yet delivered, at the last
	// fetch.
	Pending atomic.Uint64
}

// Aggregate consumes the deltas' stream with a durable pull consumer and
// merges each into db (store.DB.ApplyDelta), acknowledging a delta only
// once its merge committed, until ctx is done. Deltas are taken one at a
// time (MaxAckPending 1) so that each sensor's are merged in their order
// even across redeliveries. A delta that does not parse is terminated and
// counted; a database error stops Aggregate, leaving the delta for the
// next start.
func Aggregate(ctx context.Context, nc *nats.Conn, db *store.DB, o AggregatorOptions, st *AggregatorStats) error {
	if o.Durable == "" {
		o.Durable = DefaultDurable
	}
	if o.AckWait <= 0 {
		o.AckWait = time.Minute
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if st == nil {
		st = &AggregatorStats{}
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	s, err := EnsureStream(ctx, js, o.Stream)
	if err != nil {
		return err
	}
	cons, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       o.Durable,
		Description:   "specter aggregate",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       o.AckWait,
		MaxAckPending: 1,
		MaxDeliver:    -1,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return fmt.Errorf("fleet: consumer %s: %w", o.Durable, err)
	}
	for ctx.Err() == nil {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			// The connection is away: nats.go reconnects meanwhile.
			o.Logf("fleet: fetching: %v", err)
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
			continue
		}
		for msg := range batch.Messages() {
			if md, err := msg.Metadata(); err == nil {
				st.Pending.Store(md.NumPending)
			}
			if err := apply(ctx, db, msg, o, st); err != nil {
				return err
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && ctx.Err() == nil {
			o.Logf("fleet: fetching: %v", err)
		}
	}
	return nil
}

// apply merges one delivered delta and acknowledges it.
func apply(ctx context.Context, db *store.DB, msg jetstream.Msg, o AggregatorOptions, st *AggregatorStats) error {
	where := func() string {
		if md, err := msg.Metadata(); err == nil {
			return fmt.Sprintf("stream %s sequence %d", md.Stream, md.Sequence.Stream)
		}
		return "a delta"
	}
	h, err := parseHeader(msg.Headers())
	var d *infer.Model
	if err == nil {
		var raw []byte
		if raw, err = decompress(msg.Data()); err == nil {
			d, err = store.DecodeDelta(raw)
		}
	}
	if err != nil {
		st.Rejected.Add(1)
		o.Logf("fleet: %s (subject %s) rejected, not merged: %v", where(), msg.Subject(), err)
		if terr := msg.Term(); terr != nil {
			o.Logf("fleet: terminating %s: %v", where(), terr)
		}
		return nil
	}
	applied, err := db.ApplyDelta(ctx, store.DeltaInfo{Sensor: h.Sensor, Hostname: h.Hostname, Version: h.Version,
		Seq: h.Seq, Sent: h.Sent, SpoolDropped: h.SpoolDropped}, d)
	if err != nil {
		if ctx.Err() != nil {
			return nil // interrupted: not committed, delivered again later
		}
		_ = msg.Nak()
		return fmt.Errorf("fleet: %s: %w", where(), err)
	}
	if applied {
		st.Applied.Add(1)
		st.LagNanos.Store(int64(time.Since(h.Sent)))
	} else {
		st.Duplicates.Add(1)
	}
	// Committed: an ack lost now only brings a redelivery, skipped.
	ackCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := msg.DoubleAck(ackCtx); err != nil {
		o.Logf("fleet: acknowledging %s: %v (it will be delivered again and skipped)", where(), err)
	}
	return nil
}

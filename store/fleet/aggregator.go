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
	// Batch is the most deltas merged in one transaction (and taken
	// unacknowledged at once); 0 means 64.
	Batch int
	// Wait is how long a fetch waits to fill a batch; 0 means 200 ms.
	Wait time.Duration
	// Lease makes this aggregator one of several sharing Durable, with
	// one active at a time (see LeaseOptions); on by default.
	Lease LeaseOptions
	// Logf reports rejected deltas and the lease's changes; nil discards.
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
	// Active is whether this aggregator holds the lease and takes deltas
	// (false: standby, or stopping).
	Active atomic.Bool
	// LeasesAcquired counts the times it became active; LeasesLost the
	// times a renewal failed and it stopped consuming.
	LeasesAcquired atomic.Uint64
	LeasesLost     atomic.Uint64
}

// Aggregate consumes the deltas' stream with a durable pull consumer and
// merges them into db (store.DB.ApplyDeltas, a batch of up to Batch per
// transaction), acknowledging a delta only once its merge committed, until
// ctx is done. Deltas are merged in stream order, hence each sensor's in
// the order it sent them, also across a restart (see consume). A delta
// that does not parse is terminated and counted; a database error stops
// Aggregate, leaving the delta for the next start.
//
// Unless o.Lease.TTL is negative, it consumes only while it holds the
// durable's leader lease (see LeaseOptions): standing by until then, back
// to standby if a renewal fails, and releasing the lease when it returns.
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
	if o.Batch <= 0 {
		o.Batch = 64
	}
	if o.Wait <= 0 {
		o.Wait = 200 * time.Millisecond
	}
	if st == nil {
		st = &AggregatorStats{}
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	s, err := ensureStreamRetrying(ctx, js, o.Stream, o.Logf)
	if err != nil {
		return err
	}
	if o.Lease.TTL < 0 {
		cons, err := ensureConsumer(ctx, s, o)
		if err != nil {
			return err
		}
		st.Active.Store(true)
		defer st.Active.Store(false)
		return consume(ctx, cons, db, o, st)
	}
	l, err := newLease(ctx, js, o.Lease, o.Durable, o.Stream.Replicas, o.Logf)
	if err != nil {
		return err
	}
	for {
		if err := l.acquire(ctx, o.Logf); err != nil {
			return nil // ctx done while standing by
		}
		st.LeasesAcquired.Add(1)
		st.Active.Store(true)
		actx, stop := context.WithCancelCause(ctx)
		kept := make(chan struct{})
		// Lost or stopping, it is standby at once and takes nothing more:
		// a merge in flight is cancelled, and one already committing is
		// covered by the next holder's wait for unacknowledged deltas
		// (AckWait, far above the lease's margin of TTL/3).
		lost := func(err error) { st.LeasesLost.Add(1); stop(err) }
		go func() { defer close(kept); l.keep(actx, lost) }()
		go func() { <-actx.Done(); st.Active.Store(false) }()
		// Only the holder sets the consumer's configuration (a standby's
		// flags must not change the active one's ack wait or batch).
		cons, err := ensureConsumer(actx, s, o)
		if err == nil {
			err = consume(actx, cons, db, o, st)
		} else if actx.Err() != nil {
			err = nil // lease lost or stopping while creating it
		}
		stop(nil)
		<-kept
		if cause := context.Cause(actx); err == nil && errors.Is(cause, errLeaseLost) && ctx.Err() == nil {
			// Whatever it took and did not commit is delivered again to
			// the next holder, who waits for it (see consume).
			o.Logf("fleet: aggregator %s stopped consuming: %v; standby", l.id, cause)
			continue
		}
		if rerr := l.release(); rerr != nil {
			o.Logf("%v (a standby takes over within %s)", rerr, l.ttl)
		} else {
			o.Logf("fleet: aggregator %s released the lease", l.id)
		}
		return err
	}
}

// ensureConsumer creates the durable consumer, or updates it to o.
func ensureConsumer(ctx context.Context, s jetstream.Stream, o AggregatorOptions) (jetstream.Consumer, error) {
	cons, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       o.Durable,
		Description:   "specter aggregate",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       o.AckWait,
		MaxAckPending: o.Batch,
		MaxDeliver:    -1,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("fleet: consumer %s: %w", o.Durable, err)
	}
	return cons, nil
}

// consume fetches and merges deltas until ctx is done or the database
// fails.
func consume(ctx context.Context, cons jetstream.Consumer, db *store.DB, o AggregatorOptions, st *AggregatorStats) error {
	// Deltas an earlier aggregator took and did not acknowledge must be
	// merged before any later delta of their sensors (or the sequence
	// check would skip them): they come back first, once their ack wait
	// is over, and nothing new is taken meanwhile.
	if info, err := cons.Info(ctx); err == nil && info.NumAckPending > 0 {
		o.Logf("fleet: %d delta(s) taken by an earlier aggregator and not acknowledged: waiting %s for their redelivery", info.NumAckPending, o.AckWait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(o.AckWait + time.Second):
		}
	}
	for ctx.Err() == nil {
		batch, err := cons.Fetch(o.Batch, jetstream.FetchMaxWait(o.Wait))
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
		var msgs []jetstream.Msg
		for msg := range batch.Messages() {
			msgs = append(msgs, msg)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && ctx.Err() == nil {
			o.Logf("fleet: fetching: %v", err)
		}
		if len(msgs) == 0 {
			continue
		}
		if md, err := msgs[len(msgs)-1].Metadata(); err == nil {
			st.Pending.Store(md.NumPending)
		}
		if ctx.Err() != nil {
			nakAll(msgs) // lease lost or stopping: the next holder takes them
			break
		}
		if err := applyBatch(ctx, db, msgs, o, st); err != nil {
			return err
		}
	}
	return nil
}

// nakAll hands deltas taken but not merged back for an immediate
// redelivery.
func nakAll(msgs []jetstream.Msg) {
	for _, msg := range msgs {
		_ = msg.Nak()
	}
}

// where names a delivered delta in logs.
func where(msg jetstream.Msg) string {
	if md, err := msg.Metadata(); err == nil {
		return fmt.Sprintf("stream %s sequence %d", md.Stream, md.Sequence.Stream)
	}
	return "a delta"
}

// applyBatch merges the deltas of one fetch in one transaction and then
// acknowledges them; deltas that do not parse are terminated.
func applyBatch(ctx context.Context, db *store.DB, msgs []jetstream.Msg, o AggregatorOptions, st *AggregatorStats) error {
	var infos []store.DeltaInfo
	var ds []*infer.Model
	var ok []jetstream.Msg
	for _, msg := range msgs {
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
			o.Logf("fleet: %s (subject %s) rejected, not merged: %v", where(msg), msg.Subject(), err)
			if terr := msg.Term(); terr != nil {
				o.Logf("fleet: terminating %s: %v", where(msg), terr)
			}
			continue
		}
		infos = append(infos, store.DeltaInfo{Sensor: h.Sensor, Hostname: h.Hostname, Version: h.Version,
			Seq: h.Seq, Sent: h.Sent, SpoolDropped: h.SpoolDropped})
		ds = append(ds, d)
		ok = append(ok, msg)
	}
	if len(ok) == 0 {
		return nil
	}
	applied, err := db.ApplyDeltas(ctx, infos, ds)
	if err != nil {
		if ctx.Err() != nil {
			nakAll(ok) // interrupted: not committed, delivered again
			return nil
		}
		nakAll(ok)
		return fmt.Errorf("fleet: %s and %d after it: %w", where(ok[0]), len(ok)-1, err)
	}
	for i, a := range applied {
		if a {
			st.Applied.Add(1)
			st.LagNanos.Store(int64(time.Since(infos[i].Sent)))
		} else {
			st.Duplicates.Add(1)
		}
	}
	// Committed: an ack lost now only brings a redelivery, skipped.
	ackCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for _, msg := range ok {
		if err := msg.DoubleAck(ackCtx); err != nil {
			o.Logf("fleet: acknowledging %s: %v (it will be delivered again and skipped)", where(msg), err)
		}
	}
	return nil
}

// ensureStreamRetrying is EnsureStream for a long-running aggregator: a
// JetStream server that does not answer in time (still starting, a
// cluster electing its meta leader, a loaded machine) is asked again,
// with a growing pause, until ctx is done; any other error (a stream
// config the server refuses) is returned at once.
func ensureStreamRetrying(ctx context.Context, js jetstream.JetStream, o StreamOptions, logf func(string, ...any)) (jetstream.Stream, error) {
	pause := 250 * time.Millisecond
	for {
		s, err := EnsureStream(ctx, js, o)
		if err == nil || ctx.Err() != nil || !transient(err) {
			return s, err
		}
		logf("fleet: JetStream did not answer (%v); asking again in %v", err, pause)
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// transient reports whether err is JetStream not answering in time, as
// opposed to refusing.
func transient(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrJetStreamNotEnabled)
}

package fleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Defaults of the leader lease.
const (
	// DefaultLeaseBucket is the JetStream key-value bucket of the leases,
	// one key per durable consumer.
	DefaultLeaseBucket = "specter_aggregators"
	// DefaultLeaseTTL is how long a lease outlives its holder's last
	// renewal: the longest a standby waits after an active aggregator
	// was killed.
	DefaultLeaseTTL = 10 * time.Second
	// MinLeaseTTL keeps renewals (every TTL/3) well above a round trip.
	MinLeaseTTL = 300 * time.Millisecond
)

// LeaseOptions configure the leader lease that lets several aggregators
// share one durable consumer with exactly one of them consuming: the
// active one holds a key of a key-value bucket whose values expire after
// TTL and renews it every TTL/3; the others stand by and take over once
// the key is gone (expired, or deleted by a clean shutdown).
type LeaseOptions struct {
	Bucket string // DefaultLeaseBucket when ""
	// TTL is the lease's life after its last renewal; 0 means
	// DefaultLeaseTTL, negative disables the lease (then nothing stops
	// two aggregators consuming at once). It is the bucket's: an
	// existing bucket's TTL is used instead (and logged).
	TTL time.Duration
	// ID names this aggregator in the lease; "" means host-pid-random.
	ID string
}

// LeaseHolder is the value of a lease key.
type LeaseHolder struct {
	ID    string    `json:"id"`
	Host  string    `json:"host"`
	Since time.Time `json:"since"`
}

// errLeaseLost ends an active aggregator's consumption.
var errLeaseLost = errors.New("fleet: leader lease lost")

// lease is one aggregator's side of the leader lease.
type lease struct {
	kv    jetstream.KeyValue
	key   string
	ttl   time.Duration
	value []byte
	id    string
	rev   uint64 // of the last write, while held
}

func newLease(ctx context.Context, js jetstream.JetStream, o LeaseOptions, durable string, replicas int, logf func(string, ...any)) (*lease, error) {
	if o.Bucket == "" {
		o.Bucket = DefaultLeaseBucket
	}
	if o.TTL == 0 {
		o.TTL = DefaultLeaseTTL
	}
	if o.TTL < MinLeaseTTL {
		return nil, fmt.Errorf("fleet: lease TTL %s: want at least %s", o.TTL, MinLeaseTTL)
	}
	if replicas <= 0 {
		replicas = 1
	}
	host, _ := os.Hostname()
	if o.ID == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		o.ID = host + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b[:])
	}
	value, err := json.Marshal(LeaseHolder{ID: o.ID, Host: host, Since: time.Now().UTC()})
	if err != nil {
		return nil, err
	}
	// History 1 and MaxAge TTL: a key not renewed within TTL is removed
	// by the server itself, whatever happened to its holder. An existing
	// bucket is never updated: its TTL is every holder's, and one
	// aggregator shortening it under another's renewals would let a
	// standby take over while the holder still consumes.
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      o.Bucket,
		Description: "Specter aggregators' leader leases",
		History:     1,
		TTL:         o.TTL,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	})
	if errors.Is(err, jetstream.ErrBucketExists) {
		kv, err = js.KeyValue(ctx, o.Bucket)
	}
	if err != nil {
		return nil, fmt.Errorf("fleet: lease bucket %s: %w", o.Bucket, err)
	}
	status, err := kv.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("fleet: lease bucket %s: %w", o.Bucket, err)
	}
	if ttl := status.TTL(); ttl != o.TTL {
		if ttl < MinLeaseTTL {
			return nil, fmt.Errorf("fleet: lease bucket %s: TTL %s, want at least %s (delete the bucket to change it)", o.Bucket, ttl, MinLeaseTTL)
		}
		logf("fleet: lease bucket %s exists with TTL %s: using it, not %s (delete the bucket to change it)", o.Bucket, ttl, o.TTL)
		o.TTL = ttl
	}
	return &lease{kv: kv, key: durable, ttl: o.TTL, value: value, id: o.ID}, nil
}

// holder describes who holds the lease now, for the standby's log.
func (l *lease) holder(ctx context.Context) string {
	e, err := l.kv.Get(ctx, l.key)
	if err != nil {
		return "an aggregator"
	}
	var h LeaseHolder
	if json.Unmarshal(e.Value(), &h) != nil {
		return fmt.Sprintf("%q", e.Value())
	}
	return fmt.Sprintf("%s on %s (since %s)", h.ID, h.Host, h.Since.Format(time.RFC3339))
}

// acquire stands by until it holds the lease or ctx is done: it tries to
// create the key every TTL/3, and at once when the key is deleted.
func (l *lease) acquire(ctx context.Context, logf func(string, ...any)) error {
	var updates <-chan jetstream.KeyValueEntry
	if w, err := l.kv.Watch(ctx, l.key, jetstream.UpdatesOnly()); err == nil {
		defer w.Stop()
		updates = w.Updates()
	}
	tick := time.NewTicker(l.ttl / 3)
	defer tick.Stop()
	last := ""
	for {
		cctx, cancel := context.WithTimeout(ctx, l.ttl/3)
		rev, err := l.kv.Create(cctx, l.key, l.value)
		cancel()
		if err == nil {
			l.rev = rev
			logf("fleet: aggregator %s active: holds the lease %s/%s (ttl %s)", l.id, l.kv.Bucket(), l.key, l.ttl)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		msg := fmt.Sprintf("lease %s/%s: %v", l.kv.Bucket(), l.key, err)
		if errors.Is(err, jetstream.ErrKeyExists) {
			msg = "held by " + l.holder(ctx)
		}
		if msg != last {
			logf("fleet: aggregator %s standby: %s", l.id, msg)
			last = msg
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		case _, ok := <-updates:
			if !ok {
				updates = nil
			}
		}
	}
}

// keep renews the lease every TTL/3 until ctx is done, and calls lost as
// soon as a renewal fails: then the server may expire the key within
// TTL/3, and a standby take over, so the holder must stop at once. Each
// renewal must succeed within TTL/3, so the holder stops at most 2/3 TTL
// after its last successful renewal was sent, before the server can have
// expired it.
func (l *lease) keep(ctx context.Context, lost func(error)) {
	tick := time.NewTicker(l.ttl / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		cctx, cancel := context.WithTimeout(ctx, l.ttl/3)
		rev, err := l.kv.Update(cctx, l.key, l.value, l.rev)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			lost(fmt.Errorf("%w: renewing %s/%s: %v", errLeaseLost, l.kv.Bucket(), l.key, err))
			return
		}
		l.rev = rev
	}
}

// release deletes the key if it is still this holder's, so that a standby
// takes over at once rather than after TTL.
func (l *lease) release() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := l.kv.Delete(ctx, l.key, jetstream.LastRevision(l.rev)); err != nil {
		return fmt.Errorf("fleet: releasing the lease %s/%s: %w", l.kv.Bucket(), l.key, err)
	}
	return nil
}

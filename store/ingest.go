package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"time"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/diff"
	"github.com/specter-dev/specter/infer/template"
	"github.com/specter-dev/specter/reassembly"
)

// Run statuses.
const (
	StatusRunning    = "running"    // a writer is ingesting
	StatusComplete   = "complete"   // every input was read
	StatusIncomplete = "incomplete" // interrupted, killed, or inputs failed
)

// RunInfo is the provenance of a run, recorded when it starts.
type RunInfo struct {
	Inputs    []string // capture files read
	Interface string   // live capture interface, if any
	Version   string   // specter version
}

// RunTotals is what a run did, recorded when it finishes.
type RunTotals struct {
	Packets uint64
	Bytes   uint64
	// Drops counts what the pipeline dropped by its bounds (connections
	// evicted, gaps forced, fragments); Finish adds the exchanges the
	// model dropped past its limits (services, operations).
	Drops  uint64
	Errors uint64 // input errors
	// Complete is false when the run was interrupted or an input failed.
	Complete bool
	// Error describes why the run is incomplete.
	Error string
}

// IngestOptions steer the checkpoints of a run.
type IngestOptions struct {
	// Every checkpoints after this many exchanges; 0 means 200000.
	Every int
	// Interval checkpoints when this much time passed since the last one;
	// 0 means 30 s.
	Interval time.Duration
	// Priors is a model holding the declared templates (infer.SetPrior)
	// every delta starts with; nil for none. Its traffic is ignored.
	Priors *infer.Model
	// Progress, when set, returns the packets and bytes read so far; each
	// checkpoint records them, so that a run killed before Finish still
	// says how much input its checkpoints cover. It is called from
	// Observe's goroutine.
	Progress func() (packets, bytes uint64)
	// Publish, when set, is handed each checkpoint's delta that touched a
	// service (EncodeDelta) once the checkpoint committed: a sensor's
	// inventory delta for an aggregator. An error is returned by the
	// checkpoint; what it committed stays committed.
	Publish func(ctx context.Context, delta []byte) error
}

// Ingest is a run writing into the database. Its Observe method is the
// pipeline's exchange callback; it is not safe for concurrent use.
type Ingest struct {
	db   *DB
	ctx  context.Context
	id   int64
	opts IngestOptions

	delta *infer.Model
	// seeds are the stored sampling counters per service, copied into each
	// fresh delta so that body sampling goes on where the stored state left
	// it, as it would in one long-lived model; they are taken back out
	// before merging. Bounded by the services × the model's MaxSamplers.
	seeds map[string]map[string]int64

	pending    int
	modelDrops uint64 // exchanges the model dropped, checkpointed so far
	lastCheck  time.Time
	exchanges  uint64
	capStart   time.Time
	capEnd     time.Time
	err        error
	done       bool

	findings    []diff.Finding // the run's findings, for the next checkpoint
	findingsSet bool

	// windows count the exchanges per service and minute since the last
	// checkpoint (at most maxPendingWindows; see countWindow).
	windows        map[windowKey]*uint64
	trafficDropped uint64
	lastName       serviceCache
	lastKey        windowKey // the window lastWindow counts
	lastWindow     *uint64
}

// BeginRun records a new run as 'running' and returns the ingest that
// feeds it. Call Finish at the end; a process that dies before leaves the
// run to be marked incomplete by the next Open.
func (db *DB) BeginRun(ctx context.Context, info RunInfo, opts IngestOptions) (*Ingest, error) {
	if db.opts.ReadOnly {
		return nil, fmt.Errorf("store: %s: opened read-only", db.path)
	}
	if opts.Every <= 0 {
		opts.Every = 200000
	}
	if opts.Interval <= 0 {
		opts.Interval = 30 * time.Second
	}
	inputs, err := json.Marshal(info.Inputs)
	if err != nil {
		return nil, fmt.Errorf("store: encoding run inputs: %w", err)
	}
	host, _ := os.Hostname()
	res, err := db.sql.ExecContext(ctx, `INSERT INTO runs (started_at, status, inputs, interface, version, pid, hostname)
		VALUES (?, 'running', ?, ?, ?, ?, ?)`,
		timeText(time.Now()), string(inputs), info.Interface, info.Version, os.Getpid(), host)
	if err != nil {
		return nil, fmt.Errorf("store: %s: starting a run: %w", db.path, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, fmt.Errorf("store: %s: starting a run: %w", db.path, err)
	}
	if !reflect.DeepEqual(db.opts.Config, infer.Config{}) {
		cfg, err := json.Marshal(db.opts.Config)
		if err != nil {
			return nil, fmt.Errorf("store: encoding the config: %w", err)
		}
		if _, err := db.sql.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", metaConfig, string(cfg)); err != nil {
			return nil, fmt.Errorf("store: %s: recording the config: %w", db.path, err)
		}
	}
	in := &Ingest{db: db, ctx: ctx, id: id, opts: opts, seeds: map[string]map[string]int64{}, lastCheck: time.Now()}
	rows, err := db.sql.QueryContext(ctx, "SELECT name, coalesce(samplers, 'null') FROM services")
	if err != nil {
		return nil, fmt.Errorf("store: %s: reading sampling counters: %w", db.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, raw string
		if err := rows.Scan(&name, &raw); err != nil {
			return nil, fmt.Errorf("store: %s: reading sampling counters: %w", db.path, err)
		}
		var s map[string]int64
		if err := json.Unmarshal([]byte(raw), &s); err != nil {
			return nil, fmt.Errorf("store: %s: sampling counters of %q: %w", db.path, name, err)
		}
		in.seeds[name] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: reading sampling counters: %w", db.path, err)
	}
	in.reset()
	return in, nil
}

// ID returns the run's id.
func (in *Ingest) ID() int64 { return in.id }

// reset starts a fresh delta seeded with the stored services' counters.
func (in *Ingest) reset() {
	cfg := in.db.opts.Config
	d := infer.NewModel(cfg)
	if in.opts.Priors != nil {
		p := *in.opts.Priors
		p.ByName, p.Stats = nil, infer.Stats{}
		d.Merge(&p)
	}
	for name, s := range in.seeds {
		cp := make(map[string]int64, len(s))
		for k, v := range s {
			cp[k] = v
		}
		d.ByName[name] = &infer.Service{Name: name, Trie: template.NewTrie(cfg.Limits.Trie), Samplers: cp}
	}
	in.delta = d
	in.pending = 0
}

// Observe adds one exchange to the run, checkpointing every
// IngestOptions.Every exchanges or Interval. A failed checkpoint keeps the
// delta (bounded by the model's limits) for the next one; Err reports it.
func (in *Ingest) Observe(x *reassembly.Exchange) {
	if x == nil || in.done {
		return
	}
	before := in.delta.Stats
	in.delta.Observe(x)
	in.exchanges++
	var when time.Time
	if x.Request != nil {
		when = x.Request.Start
	}
	if when.IsZero() && x.Response != nil {
		when = x.Response.Start
	}
	in.countWindow(x, before, when)
	if !when.IsZero() {
		if in.capStart.IsZero() || when.Before(in.capStart) {
			in.capStart = when
		}
		if when.After(in.capEnd) {
			in.capEnd = when
		}
	}
	in.pending++
	if in.pending >= in.opts.Every || in.pending&255 == 0 && time.Since(in.lastCheck) >= in.opts.Interval {
		if err := in.Checkpoint(in.ctx); err != nil {
			in.err = err
		}
	}
}

// Err returns the error of the last checkpoint when it failed: what was
// observed since the last good one is still held, for the next.
func (in *Ingest) Err() error { return in.err }

// Checkpoint writes what the run learned since the last checkpoint in one
// transaction: the stored state of the services it touched is merged with
// the delta and written back with their endpoint rows, and the run row is
// updated. The delta is then reset.
func (in *Ingest) Checkpoint(ctx context.Context) error {
	in.lastCheck = time.Now()
	d, names := in.outgoing()
	var delta []byte
	if in.opts.Publish != nil && len(names) > 0 {
		// Encoded before the merge, which may share d's state.
		var err error
		if delta, err = EncodeDelta(d); err != nil {
			return err
		}
	}
	merged, err := in.db.mergeModel(ctx, d, names, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE runs SET exchanges = ?, capture_start = ?, capture_end = ? WHERE id = ?`,
			int64(in.exchanges), timeText(in.capStart), timeText(in.capEnd), in.id); err != nil {
			return err
		}
		if in.opts.Progress != nil {
			packets, bytes := in.opts.Progress()
			if _, err := tx.ExecContext(ctx, `UPDATE runs SET packets = ?, bytes = ? WHERE id = ?`, int64(packets), int64(bytes), in.id); err != nil {
				return err
			}
		}
		if err := writeTraffic(ctx, tx, in.windows); err != nil {
			return err
		}
		return in.writeFindings(ctx, tx)
	})
	if err != nil {
		return err
	}
	in.resetWindows()
	// The delta was kept through failed checkpoints: this one committed
	// everything they missed.
	in.err = nil
	in.modelDrops += d.Stats.DroppedServices + d.Stats.DroppedOps + d.Stats.DroppedBudget
	for _, name := range names {
		if s := merged.ByName[name]; s != nil {
			cp := make(map[string]int64, len(s.Samplers))
			for k, v := range s.Samplers {
				cp[k] = v
			}
			in.seeds[name] = cp
		}
	}
	in.reset()
	if delta != nil {
		if err := in.opts.Publish(ctx, delta); err != nil {
			return fmt.Errorf("store: publishing the checkpoint's delta: %w", err)
		}
	}
	return nil
}

// outgoing returns the delta to merge: the services the run touched, with
// the seeded sampling counters taken back out. The delta itself is left
// intact, for a retry when the checkpoint fails.
func (in *Ingest) outgoing() (*infer.Model, []string) {
	out := *in.delta
	out.ByName = map[string]*infer.Service{}
	var names []string
	for _, name := range in.delta.Services() {
		s := in.delta.ByName[name]
		if s.Count == 0 {
			continue // seeded, never observed
		}
		cp := *s
		cp.Samplers = map[string]int64{}
		seed := in.seeds[name]
		for k, v := range s.Samplers {
			if v -= seed[k]; v > 0 {
				cp.Samplers[k] = v
			}
		}
		out.ByName[name] = &cp
		names = append(names, name)
	}
	return &out, names
}

// mergeModel merges d (holding the services names) into the stored state in
// one transaction, runs extra in it, and returns the merged model of those
// services.
func (db *DB) mergeModel(ctx context.Context, d *infer.Model, names []string, extra func(*sql.Tx) error) (*infer.Model, error) {
	if db.opts.ReadOnly {
		return nil, fmt.Errorf("store: %s: opened read-only", db.path)
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: %s: checkpoint: %w", db.path, err)
	}
	defer tx.Rollback()
	m, err := db.mergeInto(ctx, tx, d, names)
	if err != nil {
		return nil, err
	}
	if extra != nil {
		if err := extra(tx); err != nil {
			return nil, fmt.Errorf("store: %s: checkpoint: %w", db.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: %s: checkpoint commit: %w", db.path, err)
	}
	return m, nil
}

// mergeInto merges d (holding the services names) into the stored state
// within tx and returns the merged model of those services.
func (db *DB) mergeInto(ctx context.Context, tx *sql.Tx, d *infer.Model, names []string) (*infer.Model, error) {
	if names == nil {
		names = []string{}
	}
	m, err := db.loadModel(ctx, tx, names)
	if err != nil {
		return nil, err
	}
	m.Merge(d)
	if err := db.writeHeader(ctx, tx, m); err != nil {
		return nil, err
	}
	if err := db.writeServices(ctx, tx, m, names); err != nil {
		return nil, err
	}
	return m, nil
}

// Finish checkpoints what is left and records the run's totals and status.
// The run is marked incomplete when totals say so or the checkpoint fails.
func (in *Ingest) Finish(ctx context.Context, t RunTotals) error {
	if in.done {
		return errors.New("store: run already finished")
	}
	err := in.Checkpoint(ctx)
	if err == nil {
		err = in.err
	}
	status := StatusComplete
	msg := t.Error
	if !t.Complete || err != nil {
		status = StatusIncomplete
		if msg == "" && err != nil {
			msg = err.Error()
		}
	}
	var errText any
	if msg != "" {
		errText = msg
	}
	_, uerr := in.db.sql.ExecContext(ctx, `UPDATE runs SET finished_at = ?, status = ?, packets = ?, bytes = ?, drops = ?,
		errors = ?, exchanges = ?, capture_start = ?, capture_end = ?, error_text = ? WHERE id = ?`,
		timeText(time.Now()), status, int64(t.Packets), int64(t.Bytes), int64(t.Drops+in.modelDrops), int64(t.Errors),
		int64(in.exchanges), timeText(in.capStart), timeText(in.capEnd), errText, in.id)
	in.done = true
	if err != nil {
		return err
	}
	if uerr != nil {
		return fmt.Errorf("store: %s: finishing run %d: %w", in.db.path, in.id, uerr)
	}
	return nil
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/specter-dev/specter/infer"
)

// EncodeDelta serialises an inventory delta (the mergeable model state of
// the services a checkpoint touched) as the store serialises state: the
// JSON of the infer types.
func EncodeDelta(d *infer.Model) ([]byte, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("store: encoding delta: %w", err)
	}
	return b, nil
}

// DecodeDelta reads a delta written by EncodeDelta, checking each service
// as stored state is checked, so that a corrupt or hostile delta is
// refused with the service and field it breaks instead of being merged.
func DecodeDelta(b []byte) (*infer.Model, error) {
	m := &infer.Model{}
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("store: decoding delta: %w", err)
	}
	if m.ByName == nil {
		m.ByName = map[string]*infer.Service{}
	}
	for name, s := range m.ByName {
		if s == nil {
			return nil, fmt.Errorf("store: delta: service %q: null", name)
		}
		if err := validService(s); err != nil {
			return nil, fmt.Errorf("store: delta: service %q: %w", name, err)
		}
		s.Name = name
	}
	return m, nil
}

// DeltaInfo identifies one sensor's inventory delta.
type DeltaInfo struct {
	Sensor   string // stable sensor id
	Hostname string
	Version  string // specter version of the sensor
	// Seq is the delta's window sequence, increasing for each sensor.
	Seq uint64
	// Sent is when the sensor closed the window.
	Sent time.Time
	// SpoolDropped is how many deltas the sensor's spool dropped so far.
	SpoolDropped uint64
}

// Sensor is the provenance of a sensor's deltas in an aggregated database.
type Sensor struct {
	Sensor       string    `json:"sensor"`
	Hostname     string    `json:"hostname"`
	Version      string    `json:"version"`
	FirstSeen    time.Time `json:"first_seen"`
	LastSeen     time.Time `json:"last_seen"`
	LastSent     time.Time `json:"last_sent"`
	LastSeq      uint64    `json:"last_seq"`
	Deltas       uint64    `json:"deltas"`
	Exchanges    uint64    `json:"exchanges"`
	Duplicates   uint64    `json:"duplicates"`
	SpoolDropped uint64    `json:"spool_dropped"`
	// Lag is how long the last delta took from the sensor to the database.
	Lag time.Duration `json:"lag_ns"`
}

// ApplyDelta merges one delta: ApplyDeltas with one.
func (db *DB) ApplyDelta(ctx context.Context, info DeltaInfo, d *infer.Model) (applied bool, err error) {
	ok, err := db.ApplyDeltas(ctx, []DeltaInfo{info}, []*infer.Model{d})
	if err != nil {
		return false, err
	}
	return ok[0], nil
}

// ApplyDeltas merges deltas (infos[i] describing ds[i], in the order each
// sensor sent them) into the stored inventory as checkpoints would, and
// records each sensor's last applied sequence, in one transaction: the
// stored state of the services they touch is loaded and written once for
// all of them. A delta whose sequence is not above its sensor's last
// applied one (stored, or earlier in infos) is a duplicate: it is not
// merged, the sensor's duplicate count goes up, and applied[i] is false.
func (db *DB) ApplyDeltas(ctx context.Context, infos []DeltaInfo, ds []*infer.Model) (applied []bool, err error) {
	if len(infos) != len(ds) {
		return nil, errors.New("store: ApplyDeltas: as many infos as deltas")
	}
	for _, info := range infos {
		if info.Sensor == "" {
			return nil, errors.New("store: delta without a sensor id")
		}
		if info.Seq > math.MaxInt64 {
			return nil, fmt.Errorf("store: delta of sensor %q: sequence %d out of range", info.Sensor, info.Seq)
		}
	}
	if db.opts.ReadOnly {
		return nil, fmt.Errorf("store: %s: opened read-only", db.path)
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: %s: applying deltas: %w", db.path, err)
	}
	defer tx.Rollback()
	last := map[string]int64{}
	for _, info := range infos {
		if _, ok := last[info.Sensor]; ok {
			continue
		}
		var seq int64 = -1
		err := tx.QueryRowContext(ctx, "SELECT last_seq FROM sensors WHERE sensor = ?", info.Sensor).Scan(&seq)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("store: %s: reading sensor %q: %w", db.path, info.Sensor, err)
		}
		last[info.Sensor] = seq
	}
	// Deltas merge as their traffic would (A then B is A+B): the batch is
	// one delta for the stored state.
	all := infer.NewModel(db.opts.Config)
	applied = make([]bool, len(infos))
	now := time.Now()
	for i, info := range infos {
		if int64(info.Seq) <= last[info.Sensor] {
			if _, err := tx.ExecContext(ctx, "UPDATE sensors SET duplicates = duplicates + 1 WHERE sensor = ?", info.Sensor); err != nil {
				return nil, fmt.Errorf("store: %s: counting a duplicate of sensor %q: %w", db.path, info.Sensor, err)
			}
			continue
		}
		last[info.Sensor] = int64(info.Seq)
		applied[i] = true
		all.Merge(ds[i])
		var lag any
		if !info.Sent.IsZero() {
			lag = now.Sub(info.Sent).Milliseconds()
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO sensors (sensor, hostname, version, first_seen, last_seen, last_sent,
				last_seq, deltas, exchanges, spool_dropped, lag_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)
			ON CONFLICT (sensor) DO UPDATE SET hostname = excluded.hostname, version = excluded.version,
				last_seen = excluded.last_seen, last_sent = excluded.last_sent, last_seq = excluded.last_seq,
				deltas = deltas + 1, exchanges = exchanges + excluded.exchanges,
				spool_dropped = excluded.spool_dropped, lag_ms = excluded.lag_ms`,
			info.Sensor, info.Hostname, info.Version, timeText(now), timeText(now), timeText(info.Sent),
			int64(info.Seq), int64(ds[i].Stats.Exchanges), int64(info.SpoolDropped), lag)
		if err != nil {
			return nil, fmt.Errorf("store: %s: recording delta %d of sensor %q: %w", db.path, info.Seq, info.Sensor, err)
		}
	}
	if _, err := db.mergeInto(ctx, tx, all, all.Services()); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: %s: applying deltas: %w", db.path, err)
	}
	return applied, nil
}

// Sensors lists the sensors whose deltas were applied, by id.
func (db *DB) Sensors(ctx context.Context) ([]Sensor, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT sensor, coalesce(hostname, ''), coalesce(version, ''), first_seen, last_seen,
		last_sent, last_seq, deltas, exchanges, duplicates, spool_dropped, coalesce(lag_ms, 0) FROM sensors ORDER BY sensor`)
	if err != nil {
		return nil, fmt.Errorf("store: %s: reading sensors: %w", db.path, err)
	}
	defer rows.Close()
	var out []Sensor
	for rows.Next() {
		var s Sensor
		var first, last, sent sql.NullString
		var seq, deltas, xs, dups, dropped, lag int64
		if err := rows.Scan(&s.Sensor, &s.Hostname, &s.Version, &first, &last, &sent, &seq, &deltas, &xs, &dups, &dropped, &lag); err != nil {
			return nil, fmt.Errorf("store: %s: reading sensors: %w", db.path, err)
		}
		s.FirstSeen, s.LastSeen, s.LastSent = parseTime(first), parseTime(last), parseTime(sent)
		s.LastSeq, s.Deltas, s.Exchanges, s.Duplicates, s.SpoolDropped = uint64(seq), uint64(deltas), uint64(xs), uint64(dups), uint64(dropped)
		s.Lag = time.Duration(lag) * time.Millisecond
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: reading sensors: %w", db.path, err)
	}
	return out, nil
}

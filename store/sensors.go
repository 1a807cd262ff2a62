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

// errDuplicate rolls back the merge of a delta already applied.
var errDuplicate = errors.New("delta already applied")

// ApplyDelta merges d into the stored inventory (as a checkpoint would)
// and records it as the sensor's last applied delta, in one transaction.
// A delta whose sequence is not above the sensor's last applied one is a
// duplicate: nothing is merged, the sensor's duplicate count goes up, and
// applied is false.
func (db *DB) ApplyDelta(ctx context.Context, info DeltaInfo, d *infer.Model) (applied bool, err error) {
	if info.Sensor == "" {
		return false, errors.New("store: delta without a sensor id")
	}
	if info.Seq > math.MaxInt64 {
		return false, fmt.Errorf("store: delta of sensor %q: sequence %d out of range", info.Sensor, info.Seq)
	}
	now := time.Now()
	var lag any
	if !info.Sent.IsZero() {
		lag = now.Sub(info.Sent).Milliseconds()
	}
	_, err = db.mergeModel(ctx, d, d.Services(), func(tx *sql.Tx) error {
		var last int64
		err := tx.QueryRowContext(ctx, "SELECT last_seq FROM sensors WHERE sensor = ?", info.Sensor).Scan(&last)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case info.Seq <= uint64(last):
			return errDuplicate
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO sensors (sensor, hostname, version, first_seen, last_seen, last_sent,
				last_seq, deltas, exchanges, spool_dropped, lag_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)
			ON CONFLICT (sensor) DO UPDATE SET hostname = excluded.hostname, version = excluded.version,
				last_seen = excluded.last_seen, last_sent = excluded.last_sent, last_seq = excluded.last_seq,
				deltas = deltas + 1, exchanges = exchanges + excluded.exchanges,
				spool_dropped = excluded.spool_dropped, lag_ms = excluded.lag_ms`,
			info.Sensor, info.Hostname, info.Version, timeText(now), timeText(now), timeText(info.Sent),
			int64(info.Seq), int64(d.Stats.Exchanges), int64(info.SpoolDropped), lag)
		return err
	})
	if errors.Is(err, errDuplicate) {
		if _, err := db.sql.ExecContext(ctx, "UPDATE sensors SET duplicates = duplicates + 1 WHERE sensor = ?", info.Sensor); err != nil {
			return false, fmt.Errorf("store: %s: counting a duplicate of sensor %q: %w", db.path, info.Sensor, err)
		}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: applying delta %d of sensor %q: %w", info.Seq, info.Sensor, err)
	}
	return true, nil
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

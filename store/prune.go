package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/specter-dev/specter/infer"
)

// PruneStats counts what Prune dropped.
type PruneStats struct {
	Runs       int `json:"runs"`       // run records deleted
	Examples   int `json:"examples"`   // redacted body examples deleted
	Latencies  int `json:"latencies"`  // latency histograms cleared
	Operations int `json:"operations"` // operations last seen before the cutoff
}

// Prune drops old statistics and examples without losing endpoint history.
// For every operation last seen before cutoff it deletes the stored body
// examples and clears the latency histogram; runs finished before cutoff
// are deleted. It keeps every endpoint (service, method, template) with its
// request count, first and last seen, statuses, parameters and schemas,
// authentication and sensitive-data tags, and all the path evidence the
// templates are decided from, so later traffic still revises them.
func (db *DB) Prune(ctx context.Context, cutoff time.Time) (PruneStats, error) {
	var st PruneStats
	if db.opts.ReadOnly {
		return st, fmt.Errorf("store: %s: opened read-only", db.path)
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return st, fmt.Errorf("store: %s: prune: %w", db.path, err)
	}
	defer tx.Rollback()
	m, err := db.loadModel(ctx, tx, nil)
	if err != nil {
		return st, err
	}
	var changed []string
	for _, name := range m.Services() {
		dirty := false
		for _, op := range m.ByName[name].Ops {
			if op == nil || op.LastSeen.IsZero() || !op.LastSeen.Before(cutoff) {
				continue
			}
			st.Operations++
			drop := func(bodies map[string]*infer.Body) {
				for _, b := range bodies {
					if b != nil && b.Example != "" {
						b.Example = ""
						st.Examples++
						dirty = true
					}
				}
			}
			drop(op.Requests)
			for _, r := range op.Responses {
				if r != nil {
					drop(r.Bodies)
				}
			}
			if op.Latency != (infer.Histogram{}) {
				op.Latency = infer.Histogram{}
				st.Latencies++
				dirty = true
			}
		}
		if dirty {
			changed = append(changed, name)
		}
	}
	if len(changed) > 0 {
		// Endpoint rows are recomputed from the whole model so that
		// templates are decided as before; only the changed services are
		// written.
		if err := db.writeServices(ctx, tx, m, changed); err != nil {
			return st, err
		}
	}
	res, err := tx.ExecContext(ctx, "DELETE FROM runs WHERE status != 'running' AND coalesce(finished_at, started_at) < ?", timeText(cutoff))
	if err != nil {
		return st, fmt.Errorf("store: %s: prune runs: %w", db.path, err)
	}
	n, _ := res.RowsAffected()
	st.Runs = int(n)
	if err := tx.Commit(); err != nil {
		return st, fmt.Errorf("store: %s: prune commit: %w", db.path, err)
	}
	return st, nil
}

// jsonText encodes v for a TEXT column.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// nullText is NULL for "".
func nullText(s string) any {
	if s == "" {
		return sql.NullString{}
	}
	return s
}

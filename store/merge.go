package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/specter-dev/specter/infer/diff"
)

// MergeFrom adds the inventory and the runs of src into db in one
// transaction: each service's state is merged as a checkpoint would
// (infer.Model.Merge), so merging the databases of several sensors gives
// the inventory of their traffic together, up to the model's limits. Runs
// are copied with src's path as their source; a run still 'running' in src
// is copied as incomplete (the copy is a snapshot).
func (db *DB) MergeFrom(ctx context.Context, src *DB) error {
	m, err := src.Model(ctx)
	if err != nil {
		return err
	}
	runs, err := src.Runs(ctx)
	if err != nil {
		return err
	}
	traffic, _, err := src.Traffic(ctx)
	if err != nil {
		return err
	}
	findings := map[int64][]diff.Finding{}
	err = src.readSnapshot(ctx, func(q querier) error {
		for _, r := range runs {
			fs, err := readFindings(ctx, q, "WHERE run_id = ?", r.ID)
			if err != nil {
				return err
			}
			findings[r.ID] = fs
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: %s: findings: %w", src.path, err)
	}
	_, err = db.mergeModel(ctx, m, m.Services(), func(tx *sql.Tx) error {
		if err := copyTraffic(ctx, tx, traffic); err != nil {
			return err
		}
		for _, r := range runs {
			status := r.Status
			if status == StatusRunning {
				status = StatusIncomplete
			}
			inputs, err := jsonText(r.Inputs)
			if err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO runs (started_at, finished_at, status, inputs, interface,
				capture_start, capture_end, packets, bytes, exchanges, drops, errors, version, source, error_text)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				timeText(r.StartedAt), timeText(r.FinishedAt), status, inputs, r.Interface,
				timeText(r.CaptureStart), timeText(r.CaptureEnd), int64(r.Packets), int64(r.Bytes), int64(r.Exchanges),
				int64(r.Drops), int64(r.Errors), r.Version, src.path, nullText(r.Error))
			if err != nil {
				return fmt.Errorf("copying run %d of %s: %w", r.ID, src.path, err)
			}
			id, err := res.LastInsertId()
			if err != nil {
				return err
			}
			if err := replaceFindings(ctx, tx, id, findings[r.ID]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: merging %s into %s: %w", src.path, db.path, err)
	}
	return nil
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/specter-dev/specter/infer/diff"
)

// SetFindings hands the run's spec-diff findings so far (cumulative, as
// diff.Checker.Findings returns them) to the next checkpoint, which
// replaces the run's stored findings with them in its transaction.
func (in *Ingest) SetFindings(fs []diff.Finding) {
	in.findings = append(in.findings[:0], fs...)
	in.findingsSet = true
}

func (in *Ingest) writeFindings(ctx context.Context, tx *sql.Tx) error {
	if !in.findingsSet {
		return nil
	}
	return replaceFindings(ctx, tx, in.id, in.findings)
}

func replaceFindings(ctx context.Context, tx *sql.Tx, run int64, fs []diff.Finding) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM findings WHERE run_id = ?`, run); err != nil {
		return fmt.Errorf("clearing findings of run %d: %w", run, err)
	}
	for _, f := range fs {
		b, err := json.Marshal(f)
		if err != nil {
			return fmt.Errorf("encoding finding %s: %w", f.Fingerprint, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO findings (run_id, fingerprint, kind, last_seen, finding) VALUES (?, ?, ?, ?, ?)`,
			run, f.Fingerprint, string(f.Kind), timeText(f.LastSeen), string(b)); err != nil {
			return fmt.Errorf("storing finding %s: %w", f.Fingerprint, err)
		}
	}
	return nil
}

// Findings returns the stored spec-diff findings of every run, merged by
// fingerprint (diff.Merge), sorted.
func (db *DB) Findings(ctx context.Context) ([]diff.Finding, error) {
	var out []diff.Finding
	err := db.readSnapshot(ctx, func(q querier) error {
		var err error
		out, err = readFindings(ctx, q, "")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: %s: findings: %w", db.path, err)
	}
	return out, nil
}

func readFindings(ctx context.Context, q querier, where string, args ...any) ([]diff.Finding, error) {
	rows, err := q.QueryContext(ctx, `SELECT run_id, finding FROM findings `+where+` ORDER BY run_id, fingerprint`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var all []diff.Finding
	for rows.Next() {
		var run int64
		var text string
		if err := rows.Scan(&run, &text); err != nil {
			return nil, err
		}
		var f diff.Finding
		if err := json.Unmarshal([]byte(text), &f); err != nil {
			return nil, fmt.Errorf("run %d: finding: %w", run, err)
		}
		all = append(all, f)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return diff.Merge(nil, all), nil
}

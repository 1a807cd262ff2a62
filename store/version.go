package store

import (
	"context"
	"fmt"
)

// DataVersion returns a token that changes when the inventory, the runs,
// the findings or the traffic change (a checkpoint commits), for readers
// that refresh a view only when there is something new. It is cheap: a
// few aggregates over the small tables and the summary columns.
func (db *DB) DataVersion(ctx context.Context) (string, error) {
	var v string
	err := db.sql.QueryRowContext(ctx, `SELECT
		(SELECT count(*) || ':' || coalesce(sum(count), 0) || ':' || coalesce(max(last_seen), '') FROM services) || '/' ||
		(SELECT count(*) || ':' || coalesce(max(id), 0) || ':' || coalesce(sum(exchanges), 0) || ':' ||
			group_concat(status, ',') FROM runs) || '/' ||
		(SELECT count(*) || ':' || coalesce(sum(length(finding)), 0) || ':' || coalesce(max(last_seen), '') FROM findings) || '/' ||
		(SELECT count(*) || ':' || coalesce(sum(exchanges), 0) FROM traffic)`).Scan(&v)
	if err != nil {
		return "", fmt.Errorf("store: %s: data version: %w", db.path, err)
	}
	return v, nil
}

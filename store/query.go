package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/specter-dev/specter/infer"
)

// Model returns the stored inventory as a model: the named services, or
// every service when none is named. Read in one snapshot, it is consistent
// while a writer goes on.
func (db *DB) Model(ctx context.Context, services ...string) (*infer.Model, error) {
	var m *infer.Model
	err := db.readSnapshot(ctx, func(q querier) error {
		var err error
		var names []string
		if len(services) > 0 {
			names = services
		}
		m, err = db.loadModel(ctx, q, names)
		return err
	})
	return m, err
}

// Endpoints returns the stored endpoint summaries, of service host only
// when host is not empty, in the order of infer.Model.Endpoints (service,
// then template order, then method). It reads the summary rows, not the
// inference state.
func (db *DB) Endpoints(ctx context.Context, host string) ([]infer.EndpointSummary, error) {
	query := `SELECT e.summary FROM endpoints e JOIN services s ON s.id = e.service_id`
	var args []any
	if host != "" {
		query += ` WHERE s.name = ?`
		args = append(args, host)
	}
	query += ` ORDER BY s.name, e.ord`
	rows, err := db.sql.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: listing endpoints: %w", db.path, err)
	}
	defer rows.Close()
	out := []infer.EndpointSummary{}
	for rows.Next() {
		var raw sql.NullString
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("store: %s: listing endpoints: %w", db.path, err)
		}
		var e infer.EndpointSummary
		if err := json.Unmarshal([]byte(raw.String), &e); err != nil {
			return nil, fmt.Errorf("store: %s: decoding endpoint summary: %w", db.path, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: listing endpoints: %w", db.path, err)
	}
	return out, nil
}

// GRPCMethods returns the stored gRPC method summaries, of service host
// only when host is not empty, sorted by service, then method path. It
// reads the summary rows, not the inference state.
func (db *DB) GRPCMethods(ctx context.Context, host string) ([]infer.GRPCMethodSummary, error) {
	query := `SELECT g.summary FROM grpc_methods g JOIN services s ON s.id = g.service_id`
	var args []any
	if host != "" {
		query += ` WHERE s.name = ?`
		args = append(args, host)
	}
	query += ` ORDER BY s.name, g.path`
	rows, err := db.sql.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: listing gRPC methods: %w", db.path, err)
	}
	defer rows.Close()
	out := []infer.GRPCMethodSummary{}
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("store: %s: listing gRPC methods: %w", db.path, err)
		}
		var g infer.GRPCMethodSummary
		if err := json.Unmarshal([]byte(raw), &g); err != nil {
			return nil, fmt.Errorf("store: %s: decoding gRPC method summary: %w", db.path, err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: listing gRPC methods: %w", db.path, err)
	}
	return out, nil
}

// Run is one recorded run (provenance).
type Run struct {
	ID           int64     `json:"id"`
	StartedAt    time.Time `json:"started_at"`
	FinishedAt   time.Time `json:"finished_at,omitzero"`
	Status       string    `json:"status"`
	Inputs       []string  `json:"inputs,omitempty"`
	Interface    string    `json:"interface,omitempty"`
	CaptureStart time.Time `json:"capture_start,omitzero"`
	CaptureEnd   time.Time `json:"capture_end,omitzero"`
	Packets      uint64    `json:"packets"`
	Bytes        uint64    `json:"bytes"`
	Exchanges    uint64    `json:"exchanges"`
	Drops        uint64    `json:"drops"`
	Errors       uint64    `json:"errors"`
	Version      string    `json:"version,omitempty"`
	Source       string    `json:"source,omitempty"` // database it was merged from
	Error        string    `json:"error,omitempty"`
}

// Runs returns the recorded runs, oldest first. A run still marked
// 'running' whose writer is gone is reported incomplete.
func (db *DB) Runs(ctx context.Context) ([]Run, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT id, started_at, finished_at, status, coalesce(inputs, 'null'),
		coalesce(interface, ''), capture_start, capture_end, packets, bytes, exchanges, drops, errors,
		coalesce(version, ''), coalesce(source, ''), coalesce(error_text, ''), coalesce(pid, 0), coalesce(hostname, '')
		FROM runs ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: %s: listing runs: %w", db.path, err)
	}
	defer rows.Close()
	host, _ := os.Hostname()
	var out []Run
	for rows.Next() {
		var r Run
		var started, finished, cs, ce sql.NullString
		var inputs, rhost string
		var pid int64
		var packets, bytes, exchanges, drops, errs int64
		if err := rows.Scan(&r.ID, &started, &finished, &r.Status, &inputs, &r.Interface, &cs, &ce,
			&packets, &bytes, &exchanges, &drops, &errs, &r.Version, &r.Source, &r.Error, &pid, &rhost); err != nil {
			return nil, fmt.Errorf("store: %s: listing runs: %w", db.path, err)
		}
		r.StartedAt, r.FinishedAt = parseTime(started), parseTime(finished)
		r.CaptureStart, r.CaptureEnd = parseTime(cs), parseTime(ce)
		r.Packets, r.Bytes, r.Exchanges, r.Drops, r.Errors = uint64(packets), uint64(bytes), uint64(exchanges), uint64(drops), uint64(errs)
		if err := json.Unmarshal([]byte(inputs), &r.Inputs); err != nil {
			return nil, fmt.Errorf("store: %s: run %d inputs: %w", db.path, r.ID, err)
		}
		if r.Status == StatusRunning && r.Source == "" && !writerAlive(pid, rhost, host) {
			r.Status = StatusIncomplete
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Size describes the database file's use of space.
type Size struct {
	// FileBytes is the size of the pages in the file.
	FileBytes int64 `json:"file_bytes"`
	// LiveBytes excludes the free pages: the state rewritten by each
	// checkpoint leaves its old pages free, to be reused by the next one.
	LiveBytes int64 `json:"live_bytes"`
}

// Size returns how much of the database file is used.
func (db *DB) Size(ctx context.Context) (Size, error) {
	var pages, free, size int64
	for _, p := range []struct {
		pragma string
		dst    *int64
	}{{"page_count", &pages}, {"freelist_count", &free}, {"page_size", &size}} {
		if err := db.sql.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(p.dst); err != nil {
			return Size{}, fmt.Errorf("store: %s: %s: %w", db.path, p.pragma, err)
		}
	}
	return Size{FileBytes: pages * size, LiveBytes: (pages - free) * size}, nil
}

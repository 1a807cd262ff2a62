package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/specter-dev/specter/infer"
)

// querier is what *sql.DB, *sql.Tx and *sql.Conn have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// metaModel is the meta key holding the model-wide state (everything but
// the services: declared templates, counters).
const metaModel = "model"

// metaConfig is the meta key holding the JSON of the infer.Config of the
// last run.
const metaConfig = "config"

// loadModel builds a model from the stored state: the model-wide part and
// the named services (all when names is nil). The state is the JSON of the
// infer types, decoded generically so that fields infer adds later are
// kept.
func (db *DB) loadModel(ctx context.Context, q querier, names []string) (*infer.Model, error) {
	m := infer.NewModel(db.opts.Config)
	var head string
	err := q.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", metaModel).Scan(&head)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("store: %s: reading model state: %w", db.path, err)
	default:
		if err := json.Unmarshal([]byte(head), m); err != nil {
			return nil, fmt.Errorf("store: %s: decoding model state (meta %q): %w", db.path, metaModel, err)
		}
	}
	if m.ByName == nil {
		m.ByName = map[string]*infer.Service{}
	}
	decode := func(name, state string) error {
		var s infer.Service
		if err := json.Unmarshal([]byte(state), &s); err != nil {
			return fmt.Errorf("store: %s: decoding state of service %q: %w", db.path, name, err)
		}
		if err := validService(&s); err != nil {
			return fmt.Errorf("store: %s: state of service %q is corrupt: %w", db.path, name, err)
		}
		s.Name = name
		m.ByName[name] = &s
		return nil
	}
	if names == nil {
		rows, err := q.QueryContext(ctx, "SELECT name, state FROM services ORDER BY name")
		if err != nil {
			return nil, fmt.Errorf("store: %s: reading services: %w", db.path, err)
		}
		defer rows.Close()
		for rows.Next() {
			var name, state string
			if err := rows.Scan(&name, &state); err != nil {
				return nil, fmt.Errorf("store: %s: reading services: %w", db.path, err)
			}
			if err := decode(name, state); err != nil {
				return nil, err
			}
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: %s: reading services: %w", db.path, err)
		}
		return m, nil
	}
	for _, name := range names {
		var state string
		err := q.QueryRowContext(ctx, "SELECT state FROM services WHERE name = ?", name).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("store: %s: reading service %q: %w", db.path, name, err)
		}
		if err := decode(name, state); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// writeHeader stores the model-wide state: the model's JSON without its
// services (which have rows of their own).
func (db *DB) writeHeader(ctx context.Context, q querier, m *infer.Model) error {
	h := *m
	h.ByName = nil
	b, err := json.Marshal(&h)
	if err != nil {
		return fmt.Errorf("store: encoding model state: %w", err)
	}
	if _, err := q.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", metaModel, string(b)); err != nil {
		return fmt.Errorf("store: %s: writing model state: %w", db.path, err)
	}
	return nil
}

// writeServices stores the named services of m with their endpoint rows,
// which are recomputed: a template decided anew (more evidence) replaces
// the rows of the literal paths it covers.
func (db *DB) writeServices(ctx context.Context, q querier, m *infer.Model, names []string) error {
	if len(names) == 0 {
		return nil
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	// Endpoints decides the templates of every service in m; callers load
	// only the services they write, so nothing is decided twice.
	byService := map[string][]infer.EndpointSummary{}
	for _, e := range m.Endpoints() {
		if want[e.Service] {
			byService[e.Service] = append(byService[e.Service], e)
		}
	}
	for _, name := range names {
		s := m.ByName[name]
		if s == nil {
			continue
		}
		if err := db.writeService(ctx, q, s, byService[name]); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) writeService(ctx context.Context, q querier, s *infer.Service, eps []infer.EndpointSummary) error {
	state, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("store: encoding state of service %q: %w", s.Name, err)
	}
	samplers, err := json.Marshal(s.Samplers)
	if err != nil {
		return fmt.Errorf("store: encoding samplers of service %q: %w", s.Name, err)
	}
	var id int64
	err = q.QueryRowContext(ctx, `INSERT INTO services (name, count, first_seen, last_seen, state, samplers)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET count = excluded.count, first_seen = excluded.first_seen,
			last_seen = excluded.last_seen, state = excluded.state, samplers = excluded.samplers
		RETURNING id`,
		s.Name, int64(s.Count), timeText(s.FirstSeen), timeText(s.LastSeen), string(state), string(samplers)).Scan(&id)
	if err != nil {
		return fmt.Errorf("store: %s: writing service %q: %w", db.path, s.Name, err)
	}
	if _, err := q.ExecContext(ctx, "DELETE FROM endpoints WHERE service_id = ?", id); err != nil {
		return fmt.Errorf("store: %s: replacing endpoints of %q: %w", db.path, s.Name, err)
	}
	for i, e := range eps {
		sum, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("store: encoding endpoint %s %s: %w", e.Method, e.Template, err)
		}
		statuses, err := json.Marshal(e.Statuses)
		if err != nil {
			return fmt.Errorf("store: encoding endpoint %s %s: %w", e.Method, e.Template, err)
		}
		_, err = q.ExecContext(ctx, `INSERT INTO endpoints (service_id, method, template, count, first_seen, last_seen,
				statuses, auth, sensitive, unauth_2xx, from_spec, ord, p50_ms, p90_ms, p99_ms, summary)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (service_id, method, template) DO UPDATE SET count = count + excluded.count`,
			id, e.Method, e.Template, int64(e.Count), timeText(e.FirstSeen), timeText(e.LastSeen),
			string(statuses), strings.Join(e.Auth, ","), strings.Join(e.Sensitive, ","), e.Unauthenticated2xx, e.FromSpec,
			i, e.Latency.P50, e.Latency.P90, e.Latency.P99, string(sum))
		if err != nil {
			return fmt.Errorf("store: %s: writing endpoint %s %s of %q: %w", db.path, e.Method, e.Template, s.Name, err)
		}
	}
	return db.writeGRPC(ctx, q, id, s)
}

// writeGRPC replaces the gRPC method rows of service id.
func (db *DB) writeGRPC(ctx context.Context, q querier, id int64, s *infer.Service) error {
	if _, err := q.ExecContext(ctx, "DELETE FROM grpc_methods WHERE service_id = ?", id); err != nil {
		return fmt.Errorf("store: %s: replacing gRPC methods of %q: %w", db.path, s.Name, err)
	}
	for _, g := range s.GRPCMethods(s.Name) {
		sum, err := json.Marshal(g)
		if err != nil {
			return fmt.Errorf("store: encoding gRPC method %s: %w", g.Template, err)
		}
		statuses, err := json.Marshal(g.Statuses)
		if err != nil {
			return fmt.Errorf("store: encoding gRPC method %s: %w", g.Template, err)
		}
		_, err = q.ExecContext(ctx, `INSERT INTO grpc_methods (service_id, path, grpc_service, rpc, kind, count,
				first_seen, last_seen, statuses, sensitive, p50_ms, p90_ms, p99_ms, summary)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, g.Template, g.GRPCService, g.RPC, g.Kind, int64(g.Count), timeText(g.FirstSeen), timeText(g.LastSeen),
			string(statuses), strings.Join(g.Sensitive, ","), g.Latency.P50, g.Latency.P90, g.Latency.P99, string(sum))
		if err != nil {
			return fmt.Errorf("store: %s: writing gRPC method %s of %q: %w", db.path, g.Template, s.Name, err)
		}
	}
	return nil
}

// readSnapshot runs f on one connection inside a read transaction, so that
// the several queries of f see one committed state while a writer goes on.
func (db *DB) readSnapshot(ctx context.Context, f func(q querier) error) error {
	c, err := db.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: %s: %w", db.path, err)
	}
	defer c.Close()
	// A deferred BEGIN takes no lock until the first read, and never the
	// write lock (the driver's default is immediate, for writers).
	if _, err := c.ExecContext(ctx, "BEGIN DEFERRED"); err != nil {
		return fmt.Errorf("store: %s: %w", db.path, err)
	}
	err = f(c)
	if _, e := c.ExecContext(context.Background(), "ROLLBACK"); err == nil && e != nil {
		err = fmt.Errorf("store: %s: %w", db.path, e)
	}
	return err
}

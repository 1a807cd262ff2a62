package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/reassembly"
)

// MaxTrafficWindows bounds the per-minute traffic rows kept per service
// (one week of minutes with traffic); each checkpoint deletes older ones.
const MaxTrafficWindows = 7 * 24 * 60

// maxPendingWindows bounds the (service, minute) counts a run holds
// between checkpoints. Past it, exchanges of new windows are counted in
// TrafficDropped only: the inventory still has them, the chart does not.
const maxPendingWindows = 1 << 14

// metaTrafficPruned is the meta key counting the traffic rows deleted by
// the MaxTrafficWindows bound.
const metaTrafficPruned = "traffic_windows_pruned"

// TrafficWindow is the number of exchanges of one service in one minute of
// capture time.
type TrafficWindow struct {
	Service   string    `json:"service"`
	Start     time.Time `json:"start"` // the minute, UTC
	Exchanges uint64    `json:"exchanges"`
}

// serviceCache is the service name of the last exchange counted.
type serviceCache struct {
	host   string
	server netip.AddrPort
	sni    string // names the service when Host does not
	name   string
}

// tlsName is the SNI of a decrypted exchange.
func tlsName(x *reassembly.Exchange) string {
	if x.TLS == nil {
		return ""
	}
	return x.TLS.SNI
}

type windowKey struct {
	service string
	minute  int64
}

// countWindow adds x to its service's minute when the delta model counted
// it (neither ignored nor dropped), before is the delta's stats before x.
func (in *Ingest) countWindow(x *reassembly.Exchange, before infer.Stats, when time.Time) {
	after := in.delta.Stats
	if when.IsZero() || after.NoRequest != before.NoRequest || after.Ignored != before.Ignored ||
		after.DroppedServices != before.DroppedServices {
		return
	}
	// Exchanges come in runs of one host: the last name is reused.
	if c := &in.lastName; x.Request.Authority != c.host || x.Flow.Server != c.server || tlsName(x) != c.sni || c.name == "" {
		c.host, c.server, c.sni, c.name = x.Request.Authority, x.Flow.Server, tlsName(x), infer.ServiceName(x)
	}
	k := windowKey{in.lastName.name, when.Unix() / 60}
	// And mostly within one minute: the last counter is reused.
	if in.lastWindow != nil && k == in.lastKey {
		*in.lastWindow++
		return
	}
	n, ok := in.windows[k]
	if !ok {
		if len(in.windows) >= maxPendingWindows {
			in.trafficDropped++
			return
		}
		if in.windows == nil {
			in.windows = map[windowKey]*uint64{}
		}
		n = new(uint64)
		in.windows[k] = n
	}
	*n++
	in.lastKey, in.lastWindow = k, n
}

// resetWindows forgets the pending windows (they were checkpointed).
func (in *Ingest) resetWindows() {
	clear(in.windows)
	in.lastWindow = nil
}

// TrafficDropped returns the exchanges not counted in the traffic windows
// because the run held maxPendingWindows windows between two checkpoints.
func (in *Ingest) TrafficDropped() uint64 { return in.trafficDropped }

// writeTraffic adds the pending window counts in tx and applies the
// MaxTrafficWindows bound to the services they touched.
func writeTraffic(ctx context.Context, tx *sql.Tx, windows map[windowKey]*uint64) error {
	if len(windows) == 0 {
		return nil
	}
	keys := make([]windowKey, 0, len(windows))
	for k := range windows {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].service != keys[j].service {
			return keys[i].service < keys[j].service
		}
		return keys[i].minute < keys[j].minute
	})
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, `INSERT INTO traffic (service, minute, exchanges) VALUES (?, ?, ?)
			ON CONFLICT (service, minute) DO UPDATE SET exchanges = exchanges + excluded.exchanges`,
			k.service, k.minute, int64(*windows[k])); err != nil {
			return fmt.Errorf("storing traffic of %q: %w", k.service, err)
		}
	}
	var pruned int64
	for i, k := range keys {
		if i > 0 && keys[i-1].service == k.service {
			continue
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM traffic WHERE service = ? AND minute < (
			SELECT minute FROM traffic WHERE service = ? ORDER BY minute DESC LIMIT 1 OFFSET ?)`,
			k.service, k.service, MaxTrafficWindows-1)
		if err != nil {
			return fmt.Errorf("bounding traffic of %q: %w", k.service, err)
		}
		n, _ := res.RowsAffected()
		pruned += n
	}
	if pruned > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + CAST(excluded.value AS INTEGER)`,
			metaTrafficPruned, fmt.Sprint(pruned)); err != nil {
			return fmt.Errorf("counting pruned traffic: %w", err)
		}
	}
	return nil
}

// Traffic returns the stored per-minute traffic of every service, sorted
// by service then minute, and the number of rows the MaxTrafficWindows
// bound deleted so far.
func (db *DB) Traffic(ctx context.Context) ([]TrafficWindow, uint64, error) {
	var out []TrafficWindow
	var pruned uint64
	err := db.readSnapshot(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, `SELECT service, minute, exchanges FROM traffic ORDER BY service, minute`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var w TrafficWindow
			var minute, n int64
			if err := rows.Scan(&w.Service, &minute, &n); err != nil {
				return err
			}
			w.Start, w.Exchanges = time.Unix(minute*60, 0).UTC(), uint64(n)
			out = append(out, w)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		var raw string
		err = q.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", metaTrafficPruned).Scan(&raw)
		if err == sql.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = fmt.Sscan(raw, &pruned)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: %s: traffic: %w", db.path, err)
	}
	return out, pruned, nil
}

// copyTraffic adds src's traffic rows into tx (MergeFrom).
func copyTraffic(ctx context.Context, tx *sql.Tx, ws []TrafficWindow) error {
	m := map[windowKey]*uint64{}
	for _, w := range ws {
		k := windowKey{w.Service, w.Start.Unix() / 60}
		if m[k] == nil {
			m[k] = new(uint64)
		}
		*m[k] += w.Exchanges
	}
	return writeTraffic(ctx, tx, m)
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/tlsdecrypt"
)

// MaxTLSServices bounds the rows of the TLS services table. Past it, the
// services of new names are counted (meta tls_services_dropped), not kept.
const MaxTLSServices = 1 << 16

// maxTLSList bounds the ALPN protocols and versions kept per service.
const maxTLSList = 8

const metaTLSDropped = "tls_services_dropped"

// TLSService is what the TLS connections to one server name told (see
// reassembly.TLSService), over every run.
type TLSService struct {
	SNI string `json:"sni,omitempty"`
	// Server is the first server address seen for the name (the key when
	// the client sent no SNI).
	Server    string   `json:"server"`
	ALPN      []string `json:"alpn,omitempty"`
	Versions  []string `json:"versions,omitempty"` // "TLS 1.3"...
	Conns     uint64   `json:"conns"`
	Decrypted uint64   `json:"decrypted"`
}

// AddTLSServices adds a run's TLS services to the table, in one
// transaction: counts are summed, protocol and version lists merged.
func (db *DB) AddTLSServices(ctx context.Context, svcs []reassembly.TLSService) error {
	if len(svcs) == 0 {
		return nil
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: tls services: %w", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM tls_services").Scan(&n); err != nil {
		return fmt.Errorf("store: tls services: %w", err)
	}
	var dropped uint64
	for _, s := range svcs {
		key := ""
		if s.SNI == "" {
			key = s.Server.String()
		}
		var alpn, versions string
		err := tx.QueryRowContext(ctx, "SELECT alpn, versions FROM tls_services WHERE sni = ? AND server = ?", s.SNI, key).Scan(&alpn, &versions)
		switch {
		case err == sql.ErrNoRows:
			if n >= MaxTLSServices {
				dropped++
				continue
			}
			n++
		case err != nil:
			return fmt.Errorf("store: tls services: %w", err)
		}
		var vs []string
		for _, v := range s.Versions {
			vs = append(vs, tlsdecrypt.VersionName(v))
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO tls_services (sni, server, first_server, alpn, versions, conns, decrypted)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (sni, server) DO UPDATE SET alpn = excluded.alpn, versions = excluded.versions,
				conns = conns + excluded.conns, decrypted = decrypted + excluded.decrypted`,
			s.SNI, key, s.Server.String(), mergeList(alpn, s.ALPN), mergeList(versions, vs), s.Conns, s.Decrypted); err != nil {
			return fmt.Errorf("store: tls services: %w", err)
		}
	}
	if dropped > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + CAST(excluded.value AS INTEGER)`,
			metaTLSDropped, fmt.Sprint(dropped)); err != nil {
			return fmt.Errorf("store: tls services: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: tls services: %w", err)
	}
	return nil
}

// mergeList adds the items of add missing from the comma-separated list,
// up to maxTLSList.
func mergeList(list string, add []string) string {
	var items []string
	if list != "" {
		items = strings.Split(list, ",")
	}
	for _, a := range add {
		if a != "" && len(items) < maxTLSList && !slices.Contains(items, a) && !strings.Contains(a, ",") {
			items = append(items, a)
		}
	}
	return strings.Join(items, ",")
}

// TLSServices returns the TLS services, by name, and how many were not
// kept past MaxTLSServices.
func (db *DB) TLSServices(ctx context.Context) ([]TLSService, uint64, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT sni, first_server, alpn, versions, conns, decrypted FROM tls_services ORDER BY sni, server")
	if err != nil {
		return nil, 0, fmt.Errorf("store: tls services: %w", err)
	}
	defer rows.Close()
	var out []TLSService
	for rows.Next() {
		var s TLSService
		var alpn, versions string
		if err := rows.Scan(&s.SNI, &s.Server, &alpn, &versions, &s.Conns, &s.Decrypted); err != nil {
			return nil, 0, fmt.Errorf("store: tls services: %w", err)
		}
		if alpn != "" {
			s.ALPN = strings.Split(alpn, ",")
		}
		if versions != "" {
			s.Versions = strings.Split(versions, ",")
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: tls services: %w", err)
	}
	var dropped uint64
	var raw string
	switch err := db.sql.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", metaTLSDropped).Scan(&raw); {
	case err == nil:
		fmt.Sscan(raw, &dropped)
	case err != sql.ErrNoRows:
		return nil, 0, fmt.Errorf("store: tls services: %w", err)
	}
	return out, dropped, nil
}

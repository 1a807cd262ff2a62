// Package store keeps Specter's API inventory in a SQLite database: the
// services and their endpoints with summary columns for fast listing, the
// full inference state of each service (the path evidence, operations with
// their schemas, statistics and bounded redacted examples, serialized as the
// JSON of infer.Service) so that later traffic keeps revising earlier
// templates, and the runs that fed it (provenance).
//
// A run ingests into a fresh infer.Model (the delta) and checkpoints it
// into the database in one transaction: the stored state of the services
// it touched is loaded, merged with the delta, and written back with their
// endpoint rows. Analyzing capture A then capture B therefore gives the same
// inventory as analyzing A and B together, up to the model's limits.
//
// The database is opened in WAL mode, so readers (other specter commands)
// query while a writer ingests; the file is created with mode 0600.
package store

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/mattn/go-sqlite3" // the database/sql driver "sqlite3"
	"golang.org/x/sys/unix"

	"github.com/specter-dev/specter/infer"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// applicationID marks a Specter database ("SPTR"), set by the first
// migration, so that another SQLite file is refused instead of altered.
const applicationID = 0x53505452

// Memory is the path of an in-memory database (gone when closed).
const Memory = ":memory:"

// Options configure Open. The zero value is usable.
type Options struct {
	// BusyTimeout is how long a statement waits for another connection's
	// lock before failing; 0 means 10 s.
	BusyTimeout time.Duration
	// ReadOnly opens an existing database without migrating it or
	// recovering interrupted runs; only queries are allowed. When the file
	// or its directory is not writable (a 0444 file, a read-only mount),
	// it is opened as immutable and nothing is created beside it; see
	// OpenReadOnly.
	ReadOnly bool
	// Config is the inference configuration (rules, limits) of the models
	// built from the stored state. A run records its config in the
	// database; when Config is the zero value, the recorded one is used, so
	// that later runs and readers decide templates the same way.
	Config infer.Config
}

// DB is an open Specter database. It is safe for concurrent use; writes
// are serialized by SQLite.
type DB struct {
	sql     *sql.DB
	path    string
	opts    Options
	version int
}

// migration is one embedded schema step.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order. Their file
// names start with the version number ("0002_summaries.sql").
func migrations() ([]migration, error) {
	ents, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range ents {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration file %q: name must start with a version number", e.Name())
		}
		b, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("store: migration %s: versions must be consecutive from 1", m.name)
		}
	}
	return out, nil
}

// SchemaVersion is the schema version this package writes.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// Open opens the database at path (Memory for an in-memory one), creating
// it with mode 0600 when it does not exist, and migrates an older schema to
// the current one in a transaction. A database written by a newer Specter
// is refused. Runs left 'running' by a writer that no longer exists are
// marked incomplete.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("store: empty database path")
	}
	if strings.ContainsAny(path, "?#") && path != Memory {
		return nil, fmt.Errorf("store: %s: '?' and '#' are not allowed in a database path", path)
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 10 * time.Second
	}
	mem := path == Memory
	if !mem {
		if opts.ReadOnly {
			if _, err := os.Stat(path); err != nil {
				return nil, fmt.Errorf("store: %w", err)
			}
		} else if err := createPrivate(path); err != nil {
			return nil, err
		}
	}
	// _txlock=immediate: a writing transaction takes the write lock at
	// BEGIN, so two writers wait (busy timeout) instead of deadlocking on
	// a read-to-write upgrade.
	dsn := fmt.Sprintf("%s?_busy_timeout=%d&_foreign_keys=on&_txlock=immediate",
		path, opts.BusyTimeout.Milliseconds())
	switch {
	case opts.ReadOnly && !mem && !writable(path):
		ro, err := readOnlyDSN(path, opts.BusyTimeout)
		if err != nil {
			return nil, err
		}
		dsn = ro
	case opts.ReadOnly:
		// The driver opens read-write whatever the DSN says (it drops
		// SQLite's mode=ro for plain paths); query_only refuses writes.
		// WAL mode is a property of the file, set by the writers, and a
		// WAL reader needs the -shm file beside it.
		dsn += "&_query_only=1"
	case !mem:
		// synchronous=NORMAL in WAL mode: a commit survives a crash of the
		// process (SIGKILL), only the last ones may be lost on power loss.
		dsn += "&_journal_mode=WAL&_synchronous=NORMAL"
	}
	return openDSN(ctx, path, dsn, opts)
}

// openDSN opens the database at path through the driver's dsn.
func openDSN(ctx context.Context, path, dsn string, opts Options) (*DB, error) {
	sdb, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	if path == Memory {
		// Every connection to :memory: is a database of its own.
		sdb.SetMaxOpenConns(1)
	}
	db := &DB{sql: sdb, path: path, opts: opts}
	if err := db.init(ctx); err != nil {
		sdb.Close()
		return nil, err
	}
	return db, nil
}

// OpenReadOnly opens an existing database for queries only: Open with
// Options.ReadOnly. A database this process cannot write (a 0444 file, a
// directory it cannot create the -wal and -shm files in, a read-only mount)
// is read as immutable, creating nothing beside it.
func OpenReadOnly(ctx context.Context, path string, cfg infer.Config) (*DB, error) {
	return Open(ctx, path, Options{ReadOnly: true, Config: cfg})
}

// writable reports whether this process may write path and create files
// beside it (SQLite's -wal and -shm).
func writable(path string) bool {
	return unix.Access(path, unix.W_OK) == nil && unix.Access(filepath.Dir(path), unix.W_OK) == nil
}

// readOnlyDSN is the URI that opens a database this process cannot write.
// immutable=1 makes SQLite skip locking and the -shm file, which it could
// not create; it is only right when nobody changes the file meanwhile,
// which holds for a file nobody may write (short of root). A write-ahead
// log left beside it would be ignored by an immutable reader, so then the
// plain read-only mode is used, which reads it or fails.
func readOnlyDSN(path string, busy time.Duration) (string, error) {
	// In a URI, '%' escapes; '?' and '#' are refused by Open.
	uri := "file:" + strings.ReplaceAll(filepath.Clean(path), "%", "%25")
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		return fmt.Sprintf("%s?mode=ro&_busy_timeout=%d", uri, busy.Milliseconds()), nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("store: %w", err)
	}
	return uri + "?mode=ro&immutable=1", nil
}

// createPrivate creates path with mode 0600 if it does not exist, whatever
// the umask. SQLite gives its -wal and -shm files the database file's mode.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: creating %s: %w", path, err)
	}
	defer f.Close()
	// The umask may have removed bits, never added: 0600 stays or shrinks,
	// and the owner needs both.
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("store: %s: %w", path, err)
	}
	return nil
}

// init checks the file is a Specter database, migrates it and recovers
// interrupted runs.
func (db *DB) init(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	latest := ms[len(ms)-1].version
	var ver, app int
	if err := db.sql.QueryRowContext(ctx, "PRAGMA user_version").Scan(&ver); err != nil {
		if IsWriteFailure(err) {
			// Opening in WAL mode writes (the -wal and -shm files).
			return fmt.Errorf("store: %s: opening: %w", db.path, err)
		}
		return fmt.Errorf("store: %s: not a readable SQLite database: %w", db.path, err)
	}
	if err := db.sql.QueryRowContext(ctx, "PRAGMA application_id").Scan(&app); err != nil {
		return fmt.Errorf("store: %s: not a readable SQLite database: %w", db.path, err)
	}
	if ver > 0 && app != applicationID {
		return fmt.Errorf("store: %s: not a Specter database (application_id %#x)", db.path, app)
	}
	if ver == 0 {
		var n int
		if err := db.sql.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
			return fmt.Errorf("store: %s: not a readable SQLite database: %w", db.path, err)
		}
		if n > 0 {
			return fmt.Errorf("store: %s: not a Specter database (it has tables but no schema version)", db.path)
		}
	}
	if ver > latest {
		return fmt.Errorf("store: %s: database schema version %d is newer than this specter supports (version %d); upgrade specter", db.path, ver, latest)
	}
	if ver < latest {
		if db.opts.ReadOnly {
			return fmt.Errorf("store: %s: database schema version %d is older than %d; open it once for writing (e.g. specter analyze --db) to migrate it", db.path, ver, latest)
		}
		if err := db.migrate(ctx, ms, ver); err != nil {
			return err
		}
		ver = latest
	}
	db.version = ver
	if reflect.DeepEqual(db.opts.Config, infer.Config{}) {
		var raw string
		err := db.sql.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", metaConfig).Scan(&raw)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("store: %s: reading the recorded config: %w", db.path, err)
		default:
			if err := json.Unmarshal([]byte(raw), &db.opts.Config); err != nil {
				return fmt.Errorf("store: %s: decoding the recorded config (meta %q): %w", db.path, metaConfig, err)
			}
		}
	}
	if !db.opts.ReadOnly {
		if err := db.recoverRuns(ctx); err != nil {
			return err
		}
	}
	return nil
}

// migrate applies the migrations after version from in one transaction,
// then recomputes the endpoint rows that older schemas lacked.
func (db *DB) migrate(ctx context.Context, ms []migration, from int) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %s: migrating: %w", db.path, err)
	}
	defer tx.Rollback()
	for _, m := range ms {
		if m.version <= from {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("store: %s: migration %s: %w", db.path, m.name, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
			return fmt.Errorf("store: %s: migration %s: %w", db.path, m.name, err)
		}
	}
	if from > 0 && from < 2 {
		if err := db.refreshAll(ctx, tx); err != nil {
			return fmt.Errorf("store: %s: migrating to v2: %w", db.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: %s: migrating: %w", db.path, err)
	}
	return nil
}

// refreshAll recomputes every service's endpoint rows and sampler column
// from its stored state.
func (db *DB) refreshAll(ctx context.Context, tx *sql.Tx) error {
	m, err := db.loadModel(ctx, tx, nil)
	if err != nil {
		return err
	}
	return db.writeServices(ctx, tx, m, m.Services())
}

// recoverRuns marks incomplete the runs left 'running' by a process of
// this host that is gone (killed, crashed).
func (db *DB) recoverRuns(ctx context.Context) error {
	rows, err := db.sql.QueryContext(ctx, "SELECT id, coalesce(pid, 0), coalesce(hostname, '') FROM runs WHERE status = 'running'")
	if err != nil {
		return fmt.Errorf("store: %s: reading runs: %w", db.path, err)
	}
	host, _ := os.Hostname()
	var dead []int64
	for rows.Next() {
		var id, pid int64
		var h string
		if err := rows.Scan(&id, &pid, &h); err != nil {
			rows.Close()
			return fmt.Errorf("store: %s: reading runs: %w", db.path, err)
		}
		if !writerAlive(pid, h, host) {
			dead = append(dead, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: %s: reading runs: %w", db.path, err)
	}
	for _, id := range dead {
		if _, err := db.sql.ExecContext(ctx,
			"UPDATE runs SET status = 'incomplete', error_text = coalesce(error_text, 'interrupted: the writing process ended without finishing the run') WHERE id = ? AND status = 'running'", id); err != nil {
			return fmt.Errorf("store: %s: marking run %d incomplete: %w", db.path, id, err)
		}
	}
	return nil
}

// writerAlive reports whether the process that started a run may still be
// writing. Runs of other hosts are assumed alive: their pid says nothing
// here.
func writerAlive(pid int64, runHost, host string) bool {
	if runHost != "" && runHost != host {
		return true
	}
	if pid <= 0 {
		return false
	}
	if pid == int64(os.Getpid()) {
		// This process may have another handle with a run in progress.
		return true
	}
	err := syscall.Kill(int(pid), 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Path returns the database's path.
func (db *DB) Path() string { return db.path }

// Version returns the database's schema version.
func (db *DB) Version() int { return db.version }

// Close closes the database.
func (db *DB) Close() error { return db.sql.Close() }

// IntegrityCheck runs PRAGMA integrity_check and returns its answer ("ok"
// when the file is sound).
func (db *DB) IntegrityCheck(ctx context.Context) (string, error) {
	rows, err := db.sql.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return "", fmt.Errorf("store: %s: integrity check: %w", db.path, err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return "", fmt.Errorf("store: %s: integrity check: %w", db.path, err)
		}
		lines = append(lines, s)
	}
	return strings.Join(lines, "\n"), rows.Err()
}

// timeText formats a time for a TEXT column (UTC, sortable); the zero time
// is NULL.
func timeText(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// parseTime reads a TEXT column written by timeText.
func parseTime(s sql.NullString) time.Time {
	if !s.Valid {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s.String)
	if err != nil {
		return time.Time{}
	}
	return t
}

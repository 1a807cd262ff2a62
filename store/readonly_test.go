package store

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/specter-dev/specter/infer"
)

// copyFile copies src to dst with mode.
func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestReadOnlyDSN: the URI for a database this process cannot write reads
// it without creating anything beside it, and does not ignore a
// write-ahead log that holds commits (an immutable reader would: a silent
// loss of inventory).
func TestReadOnlyDSN(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	path := filepath.Join(src, "w.db")
	w, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ingest(t, w, 0, synthExchanges(200))
	// Disable checkpoints so that a commit stays in the -wal file.
	if _, err := w.sql.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 0"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.sql.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	clean := t.TempDir()
	copyFile(t, path, filepath.Join(clean, "w.db"), 0o444)
	ingest(t, w, 0, synthExchangesAt(50, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), "late.example.test"))
	withWAL := t.TempDir()
	copyFile(t, path, filepath.Join(withWAL, "w.db"), 0o444)
	copyFile(t, path+"-wal", filepath.Join(withWAL, "w.db-wal"), 0o444)

	for _, tc := range []struct {
		name, dir   string
		immutable   bool
		wantLate    bool
		wantCreated bool
	}{
		{"checkpointed", clean, true, false, false},
		{"uncheckpointed wal", withWAL, false, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(tc.dir, "w.db")
			dsn, err := readOnlyDSN(p, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(dsn, "immutable=1"); got != tc.immutable {
				t.Fatalf("dsn %q: immutable %v, want %v", dsn, got, tc.immutable)
			}
			db, err := openDSN(ctx, p, dsn, Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			eps, err := db.Endpoints(ctx, "late.example.test")
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			if got := len(eps) > 0; got != tc.wantLate {
				t.Errorf("endpoints of the commit in the WAL seen: %v, want %v", got, tc.wantLate)
			}
			if !tc.wantCreated {
				ents, _ := os.ReadDir(tc.dir)
				if len(ents) != 1 {
					var names []string
					for _, e := range ents {
						names = append(names, e.Name())
					}
					t.Errorf("files beside the database after reading: %v", names)
				}
			}
		})
	}
}

// TestReadOnlyMissing: opening a missing database read-only fails and
// creates nothing.
func TestReadOnlyMissing(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenReadOnly(context.Background(), filepath.Join(dir, "none.db"), infer.Config{}); err == nil {
		t.Fatal("opened a missing database")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("created %d files", len(ents))
	}
}

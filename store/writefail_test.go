package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
)

func TestIsWriteFailure(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("store: x: checkpoint commit: %w", sqlite3.Error{Code: sqlite3.ErrFull}), true},
		{fmt.Errorf("store: x: %w", sqlite3.Error{Code: sqlite3.ErrIoErr, ExtendedCode: sqlite3.ErrIoErrWrite}), true},
		{&fs.PathError{Op: "write", Path: "api.yaml", Err: syscall.ENOSPC}, true},
		{fmt.Errorf("w: %w", syscall.EDQUOT), true},
		{fmt.Errorf("w: %w", syscall.EIO), true},
		{fmt.Errorf("store: %w", sqlite3.Error{Code: sqlite3.ErrConstraint}), false},
		{fmt.Errorf("store: %w", sqlite3.Error{Code: sqlite3.ErrBusy}), false},
		{errors.New("no space left on device"), false}, // text alone is not enough
		{nil, false},
	}
	for _, c := range cases {
		if got := IsWriteFailure(c.err); got != c.want {
			t.Errorf("IsWriteFailure(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// TestDatabaseFull fills the database (SQLITE_FULL through max_page_count)
// in the middle of a run: the run's Finish reports a write failure, and
// what the earlier run committed is intact.
func TestDatabaseFull(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t, "full.db")
	path := db.path
	ingest(t, db, 50, synthExchanges(200))
	first := func(db *DB) []byte {
		eps, err := db.Endpoints(ctx, "api.example.test")
		if err != nil || len(eps) == 0 {
			t.Fatalf("endpoints: %v (%d)", err, len(eps))
		}
		b, _ := json.Marshal(eps)
		return b
	}
	before := first(db)

	// One connection, so that the page limit holds for every statement.
	db.sql.SetMaxOpenConns(1)
	var pages int
	if err := db.sql.QueryRow("PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := db.sql.Exec(fmt.Sprintf("PRAGMA max_page_count = %d", pages+2)); err != nil {
		t.Fatal(err)
	}
	in, err := db.BeginRun(ctx, RunInfo{Inputs: []string{"more"}}, IngestOptions{Every: 100, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		for _, x := range synthExchangesAt(50, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), fmt.Sprintf("svc%d.example.test", i)) {
			in.Observe(x)
		}
	}
	err = in.Finish(ctx, RunTotals{Complete: true})
	if err == nil || !IsWriteFailure(err) {
		t.Fatalf("Finish on a full database: %v, want a write failure", err)
	}
	if in.Err() == nil || !IsWriteFailure(in.Err()) {
		t.Errorf("checkpoint error %v, want a write failure", in.Err())
	}
	db.Close()

	db, err = Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got, err := db.IntegrityCheck(ctx); err != nil || got != "ok" {
		t.Fatalf("integrity_check: %q, %v", got, err)
	}
	// The failed run may have committed checkpoints of its own services
	// before the database filled; the first run's service is untouched.
	if after := first(db); !bytes.Equal(after, before) {
		t.Errorf("the first run's endpoints changed after the failed run:\n%s\nwant\n%s", after, before)
	}
}

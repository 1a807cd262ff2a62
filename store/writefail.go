package store

import (
	"errors"
	"syscall"

	"github.com/mattn/go-sqlite3"
)

// IsWriteFailure reports whether err is (or wraps) a failure to write to
// storage rather than a problem with the data or the request: the disk or
// a quota is full (SQLITE_FULL, ENOSPC, EDQUOT), the database reached its
// maximum size, or an I/O error (SQLITE_IOERR, EIO). A transaction that
// failed this way was rolled back: what earlier commits wrote is intact.
func IsWriteFailure(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrFull, sqlite3.ErrIoErr:
			return true
		}
	}
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EIO)
}

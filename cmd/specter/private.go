package main

import (
	"fmt"
	"os"
)

// createPrivate opens path for writing with flag (os.O_TRUNC or
// os.O_APPEND; O_WRONLY and O_CREATE are implied), creating it with mode
// 0600: what the CLI writes holds traffic, and traffic holds credentials.
// A file that exists with wider permissions is narrowed to 0600 before
// anything is written to it, since O_CREATE leaves an existing file's mode
// alone. Every file the CLI writes is opened here.
func createPrivate(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|flag, 0o600)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
		err = f.Chmod(0o600)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: restricting to mode 0600: %w", path, err)
	}
	return f, nil
}

package main

import (
	"errors"
	"os"
	"strings"

	"github.com/specter-dev/specter/capture/live"
)

// splitFilter splits analyze's arguments the way tcpdump -r reads its
// own: the leading arguments that name existing files or directories (or
// "-") are the inputs, the rest is a filter expression (pcap-filter(7)).
// With -r files, every argument is the expression. An argument that is
// neither an input nor part of a valid expression is reported as a missing
// file, the likelier mistake.
func splitFilter(args, rFiles []string) (files []string, filter *live.FrameFilter, err error) {
	files = append(files, rFiles...)
	rest := args
	if len(rFiles) == 0 {
		for len(rest) > 0 {
			if _, serr := os.Stat(rest[0]); rest[0] != "-" && serr != nil {
				break
			}
			files = append(files, rest[0])
			rest = rest[1:]
		}
	}
	if len(files) == 0 {
		if len(args) == 0 {
			return nil, nil, usageError("no input: name capture files or directories (or - for standard input), or -r FILE")
		}
		_, serr := os.Stat(args[0])
		return nil, nil, usageError("%v", serr)
	}
	if len(rest) == 0 {
		return files, nil, nil
	}
	expr := strings.Join(rest, " ")
	filter, err = live.NewFrameFilter(expr)
	if err != nil {
		if _, serr := os.Stat(rest[0]); len(rFiles) == 0 && errors.Is(serr, os.ErrNotExist) && filesAmong(rest) {
			return nil, nil, usageError("%v (nor is %q a filter expression: %v)", serr, expr, errors.Unwrap(err))
		}
		return nil, nil, usageError("%v", err)
	}
	return files, filter, nil
}

// filesAmong reports whether words that failed to compile as a filter look
// like inputs: a single word, or some word naming an existing file.
func filesAmong(words []string) bool {
	if len(words) == 1 {
		return true
	}
	for _, w := range words {
		if _, err := os.Stat(w); err == nil {
			return true
		}
	}
	return false
}

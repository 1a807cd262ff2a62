package operations

import (
	"fmt"
	"unicode/utf8"
)

// jsonRPCCall is the call of one JSON-RPC 2.0 request element e.
func jsonRPCCall(e *envelope, where string) (Call, error) {
	method := jsonString(e.Method)
	if method == "" || len(method) > 256 || !utf8.ValidString(method) || hasControl(method) {
		return Call{}, fmt.Errorf("jsonrpc %s: method %q is empty, longer than 256 bytes or not printable: %w", where, truncate(method), ErrBad)
	}
	c := Call{Protocol: JSONRPC, Name: method, Notification: len(e.ID) == 0}
	if present(e.Params) {
		if e.Params[0] != '{' && e.Params[0] != '[' {
			return Call{}, fmt.Errorf("jsonrpc %s: params is neither an object nor an array: %w", where, ErrBad)
		}
		c.Params = e.Params
	}
	return c, nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

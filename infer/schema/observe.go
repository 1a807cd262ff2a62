package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime/multipart"
	"net/url"
	"slices"
)

// ObserveValue records one decoded value, as produced by encoding/json
// (map[string]any, []any, string, float64, json.Number, bool, nil), plus Go
// integers, []string and map[string]string. Integral float64s count as
// integers. Values of other types count in Count only (schema: any).
func (n *Node) ObserveValue(v any, opts Options) {
	bv := n.budget(opts)
	b := &bv
	n.observeValue(v, "", 0, opts, b)
	n.settle(b, opts)
}

func (n *Node) observeValue(v any, name string, depth int, opts Options, b *budget) {
	n.Count++
	switch x := v.(type) {
	case nil:
		n.Null++
	case bool:
		n.Bool++
	case string:
		n.observeString(name, x, opts)
	case float64:
		n.observeFloat(x)
	case float32:
		n.observeFloat(float64(x))
	case json.Number:
		n.observeNumber([]byte(x))
	case int:
		n.observeSigned(int64(x))
	case int8:
		n.observeSigned(int64(x))
	case int16:
		n.observeSigned(int64(x))
	case int32:
		n.observeSigned(int64(x))
	case int64:
		n.observeSigned(x)
	case uint:
		n.observeInt(uint64(x), false)
	case uint8:
		n.observeInt(uint64(x), false)
	case uint16:
		n.observeInt(uint64(x), false)
	case uint32:
		n.observeInt(uint64(x), false)
	case uint64:
		n.observeInt(x, false)
	case map[string]any:
		n.Object++
		if depth >= opts.MaxDepth {
			n.Truncated++
			return
		}
		for _, k := range sortedMapKeys(x) {
			if c := n.prop(k, depth+1, opts, b); c != nil {
				c.observeValue(x[k], k, depth+1, opts, b)
			} else {
				n.PropsDropped++
			}
		}
	case map[string]string:
		n.Object++
		if depth >= opts.MaxDepth {
			n.Truncated++
			return
		}
		for _, k := range sortedMapKeys(x) {
			if c := n.prop(k, depth+1, opts, b); c != nil {
				c.Count++
				c.observeString(k, x[k], opts)
			} else {
				n.PropsDropped++
			}
		}
	case []any:
		n.observeArray(len(x), depth, opts, b, func(items *Node, i int) {
			items.observeValue(x[i], name, depth+1, opts, b)
		})
	case []string:
		n.observeArray(len(x), depth, opts, b, func(items *Node, i int) {
			items.Count++
			items.observeString(name, x[i], opts)
		})
	}
}

func (n *Node) observeArray(length, depth int, opts Options, b *budget, each func(items *Node, i int)) {
	n.Array++
	if depth >= opts.MaxDepth {
		n.Truncated++
		return
	}
	if length == 0 {
		return
	}
	items := n.items(depth+1, b)
	for i := 0; i < length; i++ {
		if i >= opts.MaxArrayItems || items == nil {
			n.ItemsSkipped += int64(length - i)
			return
		}
		each(items, i)
	}
}

func sortedMapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (n *Node) observeSigned(x int64) {
	if x < 0 {
		n.observeInt(uint64(-(x+1))+1, true)
		return
	}
	n.observeInt(uint64(x), false)
}

func (n *Node) observeFloat(x float64) {
	if x == math.Trunc(x) && x >= -(1<<63) && x < 1<<63 {
		n.observeSigned(int64(x))
		return
	}
	n.Number++
}

// observeString records a JSON string value (not a parameter: no type
// guessing from the text).
func (n *Node) observeString(name, s string, opts Options) {
	n.observeText([]byte(name), []byte(s), opts)
}

// ObserveString records one parameter value (query, header, path, form
// field): its type is inferred from the text — "true"/"false" are booleans,
// decimal integers without leading zeros are integers (int64 format beyond
// int32; beyond int64 they stay strings, as long identifiers do), decimal
// fractions are numbers, anything else is a string with its Format.
func (n *Node) ObserveString(s string, opts Options) {
	n.ObserveNamedString("", s, opts)
}

// ObserveNamedString is ObserveString for a value whose parameter name is
// known, so that the sensitive-data name rules (password, api_key, ...)
// apply.
func (n *Node) ObserveNamedString(name, s string, opts Options) {
	n.Count++
	switch {
	case s == "true" || s == "false":
		n.Bool++
		return
	case isIntegerText(s):
		neg := s[0] == '-'
		var u uint64
		for _, c := range []byte(s[btoi(neg):]) {
			if u > (1<<64-1-uint64(c-'0'))/10 {
				n.observeString(name, s, opts)
				return
			}
			u = u*10 + uint64(c-'0')
		}
		if (!neg && u > 1<<63-1) || (neg && u > 1<<63) {
			n.observeString(name, s, opts)
			return
		}
		n.observeInt(u, neg)
		return
	case isDecimalText(s):
		n.Number++
		return
	}
	n.observeString(name, s, opts)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// isIntegerText: -?(0|[1-9][0-9]*), at most 20 digits.
func isIntegerText(s string) bool {
	if s != "" && s[0] == '-' {
		s = s[1:]
	}
	if s == "" || len(s) > 20 || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// isDecimalText: -?(0|[1-9][0-9]*)\.[0-9]+ — plain decimals only; exponents
// and dotted versions ("1.2.3") are strings.
func isDecimalText(s string) bool {
	i := 0
	if s != "" && s[0] == '-' {
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == start || i >= len(s) || s[i] != '.' || (s[start] == '0' && i-start > 1) {
		return false
	}
	i++
	if i == len(s) || len(s) > 32 {
		return false
	}
	for ; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// ObserveForm records one application/x-www-form-urlencoded body (or query
// string) as an object: a field with one value is a parameter string (see
// ObserveString), a repeated field an array of them.
func (n *Node) ObserveForm(v url.Values, opts Options) {
	bv := n.budget(opts)
	b := &bv
	n.Count++
	n.Object++
	for _, k := range sortedMapKeys(v) {
		c := n.prop(k, 1, opts, b)
		if c == nil {
			n.PropsDropped++
			continue
		}
		c.observeParamValues(k, v[k], opts, b)
	}
	n.settle(b, opts)
}

func (n *Node) observeParamValues(name string, vals []string, opts Options, b *budget) {
	if len(vals) == 1 {
		n.ObserveNamedString(name, vals[0], opts)
		return
	}
	n.Count++
	n.observeArray(len(vals), 1, opts, b, func(items *Node, i int) {
		items.ObserveNamedString(name, vals[i], opts)
	})
}

// ObserveMultipart records one multipart/form-data body as an object: file
// parts (with a filename) are strings of format binary, other parts
// parameter strings (see ObserveString), repeated names arrays. At most
// MaxParts parts are read and MaxPartBytes of each value. A malformed body is
// an error and records nothing.
func (n *Node) ObserveMultipart(body []byte, boundary string, opts Options) error {
	if boundary == "" {
		return errors.New("multipart: no boundary")
	}
	type field struct {
		vals []string
		file bool
	}
	fields := make(map[string]*field)
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	buf := make([]byte, max(opts.MaxPartBytes, 0))
	for parts := 0; parts < opts.MaxParts; parts++ {
		p, err := mr.NextRawPart() // raw: no quoted-printable decoding surprises
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("multipart: part %d: %w", parts, err)
		}
		name := p.FormName()
		if name == "" {
			continue
		}
		f := fields[name]
		if f == nil {
			if len(fields) >= opts.MaxParts {
				continue
			}
			f = &field{}
			fields[name] = f
		}
		if p.FileName() != "" {
			f.file = true
			f.vals = append(f.vals, "")
			continue
		}
		k, err := io.ReadFull(p, buf)
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return fmt.Errorf("multipart: part %d (%q): %w", parts, name, err)
		}
		f.vals = append(f.vals, string(buf[:k]))
	}
	bv := n.budget(opts)
	b := &bv
	defer n.settle(b, opts)
	n.Count++
	n.Object++
	for _, k := range sortedMapKeys(fields) {
		c := n.prop(k, 1, opts, b)
		if c == nil {
			n.PropsDropped++
			continue
		}
		f := fields[k]
		if !f.file {
			c.observeParamValues(k, f.vals, opts, b)
			continue
		}
		observeFile := func(c *Node) {
			c.Count++
			c.String++
			c.addFormat(FormatBinary)
			c.overflowEnum()
		}
		if len(f.vals) == 1 {
			observeFile(c)
			continue
		}
		c.Count++
		c.observeArray(len(f.vals), 1, opts, b, func(items *Node, i int) { observeFile(items) })
	}
	return nil
}

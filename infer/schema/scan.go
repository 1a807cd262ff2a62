package schema

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/specter-dev/specter/infer/sensitive"
)

// maxNesting is encoding/json's nesting limit; deeper documents are invalid
// for it and so for us.
const maxNesting = 10000

// SyntaxError describes invalid JSON: what was wrong and at which byte.
type SyntaxError struct {
	Offset int64  // byte offset of the offending byte in the body
	Msg    string // what was expected or found
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at offset %d: %s", e.Offset, e.Msg)
}

// Valid reports whether b is one valid JSON value (with surrounding white
// space), as encoding/json.Valid would, without allocating.
func Valid(b []byte) bool { return validate(b) == nil }

// validate checks b strictly (RFC 8259 grammar, encoding/json's nesting
// limit; like encoding/json it does not require valid UTF-8 in strings).
func validate(b []byte) *SyntaxError {
	v := validator{b: b}
	v.ws()
	if err := v.value(0); err != nil {
		return err
	}
	v.ws()
	if v.i != len(b) {
		return v.fail("data after the top-level value")
	}
	return nil
}

type validator struct {
	b []byte
	i int
}

func (v *validator) fail(msg string) *SyntaxError {
	return &SyntaxError{Offset: int64(v.i), Msg: msg}
}

func (v *validator) ws() {
	for v.i < len(v.b) {
		switch v.b[v.i] {
		case ' ', '\t', '\n', '\r':
			v.i++
		default:
			return
		}
	}
}

func (v *validator) value(depth int) *SyntaxError {
	if v.i >= len(v.b) {
		return v.fail("unexpected end of input, want a value")
	}
	switch c := v.b[v.i]; c {
	case '{':
		if depth >= maxNesting {
			return v.fail("nesting too deep")
		}
		v.i++
		v.ws()
		if v.i < len(v.b) && v.b[v.i] == '}' {
			v.i++
			return nil
		}
		for {
			if v.i >= len(v.b) || v.b[v.i] != '"' {
				return v.fail("want a property name")
			}
			if err := v.str(); err != nil {
				return err
			}
			v.ws()
			if v.i >= len(v.b) || v.b[v.i] != ':' {
				return v.fail("want ':' after a property name")
			}
			v.i++
			v.ws()
			if err := v.value(depth + 1); err != nil {
				return err
			}
			v.ws()
			if v.i >= len(v.b) {
				return v.fail("unexpected end of input in an object")
			}
			switch v.b[v.i] {
			case ',':
				v.i++
				v.ws()
			case '}':
				v.i++
				return nil
			default:
				return v.fail("want ',' or '}' in an object")
			}
		}
	case '[':
		if depth >= maxNesting {
			return v.fail("nesting too deep")
		}
		v.i++
		v.ws()
		if v.i < len(v.b) && v.b[v.i] == ']' {
			v.i++
			return nil
		}
		for {
			if err := v.value(depth + 1); err != nil {
				return err
			}
			v.ws()
			if v.i >= len(v.b) {
				return v.fail("unexpected end of input in an array")
			}
			switch v.b[v.i] {
			case ',':
				v.i++
				v.ws()
			case ']':
				v.i++
				return nil
			default:
				return v.fail("want ',' or ']' in an array")
			}
		}
	case '"':
		return v.str()
	case 't':
		return v.lit("true")
	case 'f':
		return v.lit("false")
	case 'n':
		return v.lit("null")
	default:
		if c == '-' || isDigit(c) {
			return v.num()
		}
		return v.fail(fmt.Sprintf("unexpected byte %q, want a value", c))
	}
}

func (v *validator) lit(want string) *SyntaxError {
	if len(v.b)-v.i < len(want) || string(v.b[v.i:v.i+len(want)]) != want {
		return v.fail("invalid literal, want " + want)
	}
	v.i += len(want)
	return nil
}

func (v *validator) str() *SyntaxError {
	v.i++ // opening quote
	for v.i < len(v.b) {
		c := v.b[v.i]
		switch {
		case c == '"':
			v.i++
			return nil
		case c == '\\':
			v.i++
			if v.i >= len(v.b) {
				return v.fail("unexpected end of input in an escape")
			}
			switch v.b[v.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				v.i++
			case 'u':
				v.i++
				for k := 0; k < 4; k++ {
					if v.i >= len(v.b) || !isHex(v.b[v.i]) {
						return v.fail("invalid \\u escape")
					}
					v.i++
				}
			default:
				return v.fail("invalid escape")
			}
		case c < 0x20:
			return v.fail("control character in a string")
		default:
			v.i++
		}
	}
	return v.fail("unexpected end of input in a string")
}

func (v *validator) num() *SyntaxError {
	if v.b[v.i] == '-' {
		v.i++
	}
	if v.i >= len(v.b) || !isDigit(v.b[v.i]) {
		return v.fail("want a digit")
	}
	if v.b[v.i] == '0' {
		v.i++
	} else {
		for v.i < len(v.b) && isDigit(v.b[v.i]) {
			v.i++
		}
	}
	if v.i < len(v.b) && v.b[v.i] == '.' {
		v.i++
		if v.i >= len(v.b) || !isDigit(v.b[v.i]) {
			return v.fail("want a digit after '.'")
		}
		for v.i < len(v.b) && isDigit(v.b[v.i]) {
			v.i++
		}
	}
	if v.i < len(v.b) && (v.b[v.i] == 'e' || v.b[v.i] == 'E') {
		v.i++
		if v.i < len(v.b) && (v.b[v.i] == '+' || v.b[v.i] == '-') {
			v.i++
		}
		if v.i >= len(v.b) || !isDigit(v.b[v.i]) {
			return v.fail("want a digit in the exponent")
		}
		for v.i < len(v.b) && isDigit(v.b[v.i]) {
			v.i++
		}
	}
	return nil
}

// observer walks a document already validated, recording into Nodes. It
// trusts the grammar and never builds a tree; strings are unescaped into a
// reused buffer only when they contain escapes.
type observer struct {
	b    []byte
	i    int
	opts Options
	bud  budget
	buf  []byte // scratch for unescaped string values
}

// ObserveJSON records one JSON document. Invalid JSON is an error
// (*SyntaxError) and records nothing.
func (n *Node) ObserveJSON(body []byte, opts Options) error {
	if err := validate(body); err != nil {
		return err
	}
	o := observer{b: body, opts: opts, bud: n.budget(opts)}
	o.ws()
	o.value(n, nil, true, 0)
	n.settle(&o.bud, opts)
	return nil
}

func (o *observer) ws() {
	for o.i < len(o.b) {
		switch o.b[o.i] {
		case ' ', '\t', '\n', '\r':
			o.i++
		default:
			return
		}
	}
}

// value records the value at o.i into n; name is the property the value
// belongs to (for arrays, the array's), for the sensitive-name rules, and
// keyed says n is always observed under that name (see Node.rule).
func (o *observer) value(n *Node, name []byte, keyed bool, depth int) {
	n.Count++
	switch c := o.b[o.i]; c {
	case '{':
		n.Object++
		if depth >= o.opts.MaxDepth {
			n.Truncated++
			o.skip()
			return
		}
		o.i++
		o.ws()
		if o.b[o.i] == '}' {
			o.i++
			return
		}
		for {
			raw, esc := o.str()
			key := raw
			if esc {
				key = sensitive.UnescapeJSON(nil, raw) // rare: keys with escapes
			}
			o.ws()
			o.i++ // ':'
			o.ws()
			if child, keyed := n.propBytes(key, depth+1, o.opts, &o.bud); child != nil {
				o.value(child, key, keyed && !esc, depth+1)
			} else {
				n.PropsDropped++
				o.skip()
			}
			o.ws()
			if o.b[o.i] == '}' {
				o.i++
				return
			}
			o.i++ // ','
			o.ws()
		}
	case '[':
		n.Array++
		if depth >= o.opts.MaxDepth {
			n.Truncated++
			o.skip()
			return
		}
		o.i++
		o.ws()
		if o.b[o.i] == ']' {
			o.i++
			return
		}
		items := n.items(depth+1, &o.bud)
		for k := 0; ; k++ {
			if k < o.opts.MaxArrayItems && items != nil {
				o.value(items, name, keyed, depth+1)
			} else {
				n.ItemsSkipped++
				o.skip()
			}
			o.ws()
			if o.b[o.i] == ']' {
				o.i++
				return
			}
			o.i++ // ','
			o.ws()
		}
	case '"':
		raw, esc := o.str()
		if esc {
			o.buf = sensitive.UnescapeJSON(o.buf[:0], raw)
			raw = o.buf
		}
		if !keyed {
			n.observeText(name, raw, o.opts)
			break
		}
		if !n.ruleKnown {
			n.rule, n.ruleKnown = sensitive.NameRuleBytes(name), true
		}
		n.observeTextRule(n.rule, raw, o.opts)
	case 't':
		n.Bool++
		o.i += 4
	case 'f':
		n.Bool++
		o.i += 5
	case 'n':
		n.Null++
		o.i += 4
	default:
		start := o.i
		for o.i < len(o.b) && (isDigit(o.b[o.i]) || o.b[o.i] == '-' || o.b[o.i] == '+' ||
			o.b[o.i] == '.' || o.b[o.i] == 'e' || o.b[o.i] == 'E') {
			o.i++
		}
		n.observeNumber(o.b[start:o.i])
	}
}

// str returns the raw contents of the string at o.i (without quotes) and
// whether it contains escapes, leaving o.i after the closing quote.
func (o *observer) str() (raw []byte, escaped bool) {
	o.i++
	start := o.i
	// Fast path: the first quote ends the string when no backslash comes
	// before it (both searches are vectorized).
	if j := bytes.IndexByte(o.b[start:], '"'); j >= 0 && bytes.IndexByte(o.b[start:start+j], '\\') < 0 {
		o.i = start + j + 1
		return o.b[start : start+j], false
	}
	for {
		switch o.b[o.i] {
		case '"':
			raw = o.b[start:o.i]
			o.i++
			return raw, escaped
		case '\\':
			escaped = true
			o.i += 2
		default:
			o.i++
		}
	}
}

// skip passes over the value at o.i without recording it.
func (o *observer) skip() {
	depth := 0
	for {
		switch o.b[o.i] {
		case '"':
			o.str()
			if depth == 0 {
				return
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				o.i++
				return
			}
		case ',', ':', ' ', '\t', '\n', '\r':
		default:
			if depth == 0 {
				// A scalar: letters, digits, signs and dots up to a delimiter.
				for o.i < len(o.b) {
					switch o.b[o.i] {
					case ',', '}', ']', ' ', '\t', '\n', '\r':
						return
					}
					o.i++
				}
				return
			}
		}
		o.i++
	}
}

// observeNumber records a JSON number token.
func (n *Node) observeNumber(tok []byte) {
	neg := len(tok) > 0 && tok[0] == '-'
	digits := tok
	if neg {
		digits = tok[1:]
	}
	var u uint64
	for _, c := range digits {
		if !isDigit(c) {
			n.Number++ // fraction or exponent
			return
		}
		if u > (1<<64-1-uint64(c-'0'))/10 {
			n.Number++ // beyond uint64: not an int64 either
			return
		}
		u = u*10 + uint64(c-'0')
	}
	n.observeInt(u, neg)
}

func (n *Node) observeInt(u uint64, neg bool) {
	switch {
	case (!neg && u > 1<<63-1) || (neg && u > 1<<63):
		n.Number++
	case (!neg && u > 1<<31-1) || (neg && u > 1<<31):
		n.Int++
		n.Int64++
	default:
		n.Int++
	}
}

// observeText records a string value (already unescaped) found under
// name.
func (n *Node) observeText(name, v []byte, opts Options) {
	n.observeTextRule(sensitive.NameRuleBytes(name), v, opts)
}

// observeTextRule is observeText given the name's rule.
func (n *Node) observeTextRule(rule sensitive.NameRule, v []byte, opts Options) {
	n.String++
	if n.enumOwn && !n.EnumOverflow {
		if _, found := slices.BinarySearchFunc(n.Enum, v, compareStringBytes); found {
			// A value kept in the enum by this process had no format, no
			// sensitive kind by value and no random token (any of them
			// overflows the enum), and these depend on the value only:
			// what is left to check is the name rules (property names
			// redacted to one marker share a Node).
			if tag := sensitive.ClassifyNameBytes(rule, v); tag != 0 {
				n.Sensitive |= tag
				n.overflowEnum()
			}
			return
		}
	}
	f := format(v)
	if f != "" {
		n.addFormat(f)
	}
	tag := sensitive.ClassifyValueBytes(rule, v)
	n.Sensitive |= tag
	if n.EnumOverflow {
		return // ContainsRandom would only decide to overflow the enum
	}
	if tag != 0 || f != "" || sensitive.ContainsRandom(v) {
		// Formatted values are not enums, and sensitive values must never be
		// kept (the Node is stored); nor random tokens (OAuth codes, session
		// ids), which are no enumeration either.
		n.overflowEnum()
		return
	}
	if len(n.Enum) == 0 {
		n.enumOwn = true // every value from now on passes the checks above
	}
	n.addEnumBytes(v, opts)
}

func (n *Node) addFormat(f string) {
	if n.Formats == nil {
		n.Formats = make(map[string]int64, 1)
	}
	n.Formats[f]++
}
